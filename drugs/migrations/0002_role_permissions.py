from django.db import migrations

from portal.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "drugs")


class Migration(migrations.Migration):
    dependencies = [("drugs", "0001_catalogue"), ("portal", "0002_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
