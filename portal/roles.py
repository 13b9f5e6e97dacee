"""The three staff roles and the model permissions each one holds.

Roles are Django groups. This table is the single policy; each app's migrations grant the permissions of
its own models with ``grant_role_permissions`` so the groups always match it (a test checks that).
"""

from __future__ import annotations

DERMATOLOGIST = "Dermatologist"
NURSE = "Nurse"
CATALOGUE_ADMIN = "Catalogue admin"
ROLES = (DERMATOLOGIST, NURSE, CATALOGUE_ADMIN)

# "app_label.codename" for every permission a role holds. Apps add their rows as they gain models.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    DERMATOLOGIST: (
        "drugs.view_drug",
        "drugs.view_catalogueversion",
        "patients.view_patient",
        "patients.add_patient",
        "patients.change_patient",
        "patients.view_patient_history",
        "patients.view_riskprofile",
        "patients.change_riskprofile",
        "patients.view_concomitantmedicine",
        "patients.add_concomitantmedicine",
        "patients.change_concomitantmedicine",
        "patients.view_screeningresult",
        "patients.add_screeningresult",
        "patients.view_assessment",
        "patients.add_assessment",
        "monitoring.view_treatmentcourse",
        "monitoring.add_treatmentcourse",
        "monitoring.change_treatmentcourse",
        "monitoring.view_scheduleditem",
        "monitoring.view_labresult",
        "monitoring.add_labresult",
        "monitoring.change_scheduleditem",
        "monitoring.view_symptomcheck",
        "monitoring.add_symptomcheck",
        "monitoring.view_alert",
        "monitoring.change_alert",
    ),
    NURSE: (
        "drugs.view_drug",
        "drugs.view_catalogueversion",
        "patients.view_patient",
        "patients.view_riskprofile",
        "patients.view_concomitantmedicine",
        "patients.view_screeningresult",
        "patients.add_screeningresult",
        "patients.view_assessment",
        "patients.add_assessment",
        "monitoring.view_treatmentcourse",
        "monitoring.view_scheduleditem",
        "monitoring.change_scheduleditem",
        "monitoring.view_labresult",
        "monitoring.add_labresult",
        "monitoring.view_symptomcheck",
        "monitoring.add_symptomcheck",
    ),
    CATALOGUE_ADMIN: (
        "drugs.view_drug",
        "drugs.add_drug",
        "drugs.change_drug",
        "drugs.delete_drug",
        "drugs.view_catalogueversion",
        "drugs.view_labtest",
        "drugs.change_labtest",
    ),
}

ROLE_DESCRIPTIONS = {
    DERMATOLOGIST: "Registers patients, starts and adjusts JAK-inhibitor therapy, and acts on alerts.",
    NURSE: "Works the monitoring schedule, logs lab results and runs infection and warning-sign checks.",
    CATALOGUE_ADMIN: "Keeps the drug catalogue current: label data, monitoring protocols and lab thresholds.",
}


def grant_role_permissions(apps, schema_editor, app_label: str) -> None:
    """Migration helper: create the role groups and grant them this app's permissions from the table."""
    from django.contrib.auth.management import create_permissions

    using = schema_editor.connection.alias
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True  # create_permissions skips apps without a models module
    create_permissions(app_config, apps=apps, verbosity=0, using=using)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        for perm in perms:
            label, codename = perm.split(".", 1)
            if label != app_label:
                continue
            permission = (
                Permission.objects.using(using).filter(content_type__app_label=label, codename=codename).first()
            )
            if permission is None:
                # A model a later migration adds: that migration grants its permissions (the roles test checks all).
                continue
            group.permissions.add(permission)


def sync_roles() -> None:
    """Make the role groups match the policy table (as the migrations do); for tests that flush tables."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            label, codename = perm.split(".", 1)
            wanted.append(Permission.objects.get(content_type__app_label=label, codename=codename))
        group.permissions.set(wanted)
