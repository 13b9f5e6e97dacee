"""The three staff roles and the model permissions each one holds.

Roles are Django groups. This table is the single policy; after every migrate (and flush) ``sync_roles`` makes the
groups match it exactly (a test checks that).
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
        "therapy.view_treatmentcourse",
        "therapy.add_treatmentcourse",
        "therapy.change_treatmentcourse",
        "therapy.view_scheduleditem",
        "patients.view_labresult",
        "patients.add_labresult",
        "therapy.change_scheduleditem",
        "monitoring.view_symptomcheck",
        "monitoring.add_symptomcheck",
        "monitoring.view_alert",
        "monitoring.change_alert",
        "monitoring.view_recallcontact",
        "monitoring.add_recallcontact",  # worklist: mark checks recalled or a letter sent
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
        "therapy.view_treatmentcourse",
        "therapy.view_scheduleditem",
        "therapy.change_scheduleditem",
        "patients.view_labresult",
        "patients.add_labresult",
        "monitoring.view_symptomcheck",
        "monitoring.add_symptomcheck",
        "monitoring.view_alert",  # read only: whether the dermatologist has acted; acknowledging stays theirs
        "monitoring.view_recallcontact",
        "monitoring.add_recallcontact",  # worklist: mark checks recalled or a letter sent
    ),
    CATALOGUE_ADMIN: (
        "drugs.view_drug",
        "drugs.add_drug",
        "drugs.change_drug",
        "drugs.delete_drug",
        "drugs.view_catalogueversion",
        "drugs.view_labtest",
        "drugs.change_labtest",
        "portal.change_clinic",  # the clinic's lab unit system (clinic settings page)
    ),
}

ROLE_DESCRIPTIONS = {
    DERMATOLOGIST: "Registers patients, starts and adjusts JAK-inhibitor therapy, and acts on alerts.",
    NURSE: (
        "Works the monitoring schedule, logs lab results, runs infection and warning-sign checks, and follows the "
        "clinic's alerts."
    ),
    CATALOGUE_ADMIN: (
        "Keeps the drug catalogue current: label data, monitoring protocols, lab thresholds and units, and the "
        "clinic's lab unit system."
    ),
}


def sync_roles(*, using: str = "default") -> None:
    """Make the role groups match the policy table exactly; permissions not created yet are skipped.

    Runs after every ``migrate`` and ``flush`` (the ``post_migrate`` receiver below), so a new row in the table
    reaches the groups without a data migration that imports live code.
    """
    from django.contrib.auth.models import Group, Permission

    existing = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set([existing[p] for p in perms if p in existing])


def sync_roles_after_migrate(sender, using="default", **kwargs) -> None:
    """``post_migrate`` receiver: every app's permissions exist once the signal has been sent for the last app."""
    from django.apps import apps

    with_models = [config.label for config in apps.get_app_configs() if config.models_module is not None]
    if sender is not None and with_models and sender.label == with_models[-1]:
        sync_roles(using=using)
