"""Once granted the role permissions from live code; the ``post_migrate`` receiver ``portal.roles.sync_roles_after_migrate``
now keeps the role groups in step with ``portal.roles.ROLE_PERMISSIONS``, so this migration only keeps its place
in the graph (databases that applied it keep their grants)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0003_monitoring_results_alerts"), ("portal", "0002_roles")]

    operations = []
