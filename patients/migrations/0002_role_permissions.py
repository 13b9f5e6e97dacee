from django.db import migrations

from portal.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "patients")


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_patient_records"), ("portal", "0002_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
