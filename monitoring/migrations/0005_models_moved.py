"""State only: the course models went to ``therapy`` and LabResult to ``patients`` (tables unchanged); the
alert's links now name them there. ``sqlmigrate`` shows no SQL."""

from django.db import migrations
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0004_monitoring_role_permissions"),
        ("patients", "0004_labresult"),
        ("therapy", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.RemoveField(
                model_name='courseevent',
                name='course',
            ),
            migrations.RemoveField(
                model_name='courseevent',
                name='created_by',
            ),
            migrations.RemoveField(
                model_name='safetyfinding',
                name='event',
            ),
            migrations.RemoveField(
                model_name='labresult',
                name='lab_test',
            ),
            migrations.RemoveField(
                model_name='labresult',
                name='patient',
            ),
            migrations.RemoveField(
                model_name='labresult',
                name='recorded_by',
            ),
            migrations.AlterField(
                model_name='alert',
                name='lab_result',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='patients.labresult'),
            ),
            migrations.RemoveField(
                model_name='safetyfinding',
                name='acknowledged_by',
            ),
            migrations.RemoveField(
                model_name='safetyfinding',
                name='course',
            ),
            migrations.RemoveField(
                model_name='scheduleditem',
                name='completed_by',
            ),
            migrations.RemoveField(
                model_name='scheduleditem',
                name='course',
            ),
            migrations.RemoveField(
                model_name='scheduleditem',
                name='patient',
            ),
            migrations.RemoveField(
                model_name='treatmentcourse',
                name='drug',
            ),
            migrations.RemoveField(
                model_name='treatmentcourse',
                name='patient',
            ),
            migrations.RemoveField(
                model_name='treatmentcourse',
                name='prescriber',
            ),
            migrations.AlterField(
                model_name='alert',
                name='course',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='therapy.treatmentcourse'),
            ),
            migrations.DeleteModel(
                name='CourseEvent',
            ),
            migrations.DeleteModel(
                name='LabResult',
            ),
            migrations.DeleteModel(
                name='SafetyFinding',
            ),
            migrations.DeleteModel(
                name='ScheduledItem',
            ),
            migrations.DeleteModel(
                name='TreatmentCourse',
            ),
            ],
        ),
    ]
