"""LabResult moves here from ``monitoring`` by state only: the table ``monitoring_labresult`` keeps its name and rows."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

APP = 'patients'
MOVED = ('labresult',)

def _relabel(apps, schema_editor, models, old, new):
    """Move the content types of the moved models to their new app, so permissions and group grants carry over."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in models:
        if not ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def relabel_forward(apps, schema_editor):
    _relabel(apps, schema_editor, MOVED, "monitoring", APP)


def relabel_backward(apps, schema_editor):
    _relabel(apps, schema_editor, MOVED, APP, "monitoring")



class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0004_monitoring_role_permissions'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('drugs', '0003_warning_signs'),
        ('patients', '0003_bsa_percent_message'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='LabResult',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('collected_on', models.DateField(verbose_name='collected on')),
                    ('value', models.DecimalField(blank=True, decimal_places=4, max_digits=12, null=True, verbose_name='value')),
                    ('coded_value', models.CharField(blank=True, max_length=20, verbose_name='result')),
                    ('entered_value', models.CharField(blank=True, max_length=40, verbose_name='value as entered')),
                    ('entered_unit', models.CharField(blank=True, max_length=30, verbose_name='unit as entered')),
                    ('recorded_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ('flag', models.CharField(blank=True, choices=[('low', 'Low'), ('high', 'High'), ('normal', 'Normal'), ('no_range', 'No reference range set'), ('coded', 'Coded result')], max_length=10, verbose_name='reference flag')),
                    ('action', models.CharField(blank=True, max_length=15, verbose_name='action level reached')),
                    ('action_rule', models.TextField(blank=True, verbose_name='action rule')),
                    ('action_source', models.CharField(blank=True, max_length=200, verbose_name='action source')),
                    ('interpreted_version', models.PositiveIntegerField(blank=True, null=True, verbose_name='catalogue version')),
                    ('lab_test', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='results', to='drugs.labtest')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lab_results', to='patients.patient')),
                    ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'lab result',
                    'db_table': 'monitoring_labresult',
                    'ordering': ['-collected_on', '-id'],
                    'indexes': [models.Index(fields=['patient', 'lab_test', '-collected_on'], name='monitoring_result_latest')],
                },
            ),
            ],
        ),
        migrations.RunPython(relabel_forward, relabel_backward),
    ]
