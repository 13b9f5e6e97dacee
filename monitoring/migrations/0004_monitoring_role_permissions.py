from django.db import migrations

from portal.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "monitoring")


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0003_monitoring_results_alerts"), ("portal", "0002_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
