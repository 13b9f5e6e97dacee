"""The course models move here from ``monitoring`` by state only: the tables keep their names and rows
(``sqlmigrate`` shows no SQL). The design's recipe, since Django has no "move a model" operation (ticket #24686)."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models

APP = 'therapy'
MOVED = ('treatmentcourse', 'courseevent', 'safetyfinding', 'scheduleditem')

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

    initial = True

    dependencies = [
        ('monitoring', '0004_monitoring_role_permissions'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('drugs', '0003_warning_signs'),
        ('patients', '0004_labresult'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='CourseEvent',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('start', 'Started'), ('dose_change', 'Dose changed'), ('interruption', 'Interrupted'), ('resumption', 'Resumed'), ('stop', 'Stopped')], max_length=15, verbose_name='event')),
                    ('on', models.DateField(verbose_name='on')),
                    ('dose_before', models.DecimalField(blank=True, decimal_places=2, max_digits=7, null=True)),
                    ('dose_after', models.DecimalField(blank=True, decimal_places=2, max_digits=7, null=True)),
                    ('reason', models.CharField(blank=True, max_length=30, verbose_name='reason')),
                    ('note', models.TextField(blank=True, verbose_name='note')),
                    ('catalogue_version', models.PositiveIntegerField(blank=True, null=True)),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'course event',
                    'db_table': 'monitoring_courseevent',
                    'ordering': ['on', 'id'],
                },
            ),
            migrations.CreateModel(
                name='TreatmentCourse',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('dose', models.DecimalField(blank=True, decimal_places=2, max_digits=7, null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='dose')),
                    ('dose_unit', models.CharField(default='mg', max_length=20, verbose_name='dose unit')),
                    ('frequency', models.CharField(blank=True, max_length=60, verbose_name='frequency')),
                    ('topical_bsa_percent', models.DecimalField(blank=True, decimal_places=1, max_digits=5, null=True, verbose_name='treated body surface area (%)')),
                    ('topical_grams', models.DecimalField(blank=True, decimal_places=1, max_digits=6, null=True, verbose_name='grams per period')),
                    ('topical_days', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='period (days)')),
                    ('start_date', models.DateField(verbose_name='start date')),
                    ('status', models.CharField(choices=[('planned', 'Planned'), ('active', 'Active'), ('interrupted', 'Interrupted'), ('stopped', 'Stopped')], default='active', max_length=12, verbose_name='status')),
                    ('jurisdiction', models.CharField(max_length=2, verbose_name='label rules')),
                    ('catalogue_version', models.PositiveIntegerField(verbose_name='catalogue version')),
                    ('stopped_on', models.DateField(blank=True, null=True, verbose_name='stopped on')),
                    ('stop_reason', models.CharField(blank=True, choices=[('inadequate_response', 'Inadequate response'), ('adverse_event', 'Adverse event'), ('patient_choice', 'Patient choice'), ('pregnancy', 'Pregnancy'), ('lab_action_level', 'Lab result at a discontinue level'), ('other', 'Other')], max_length=20, verbose_name='stop reason')),
                    ('override_reason', models.TextField(blank=True, verbose_name='override of a blocking finding')),
                    ('row_version', models.PositiveIntegerField(default=1, editable=False)),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ('updated_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ('drug', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='courses', to='drugs.drug')),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='courses', to='patients.patient')),
                    ('prescriber', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'verbose_name': 'treatment course',
                    'db_table': 'monitoring_treatmentcourse',
                    'ordering': ['-start_date', '-id'],
                },
            ),
            migrations.CreateModel(
                name='ScheduledItem',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                    ('check_type', models.CharField(max_length=20, verbose_name='check')),
                    ('kind', models.CharField(blank=True, max_length=20, verbose_name='kind')),
                    ('due_date', models.DateField(verbose_name='due')),
                    ('earliest', models.DateField(blank=True, help_text='Empty: any time before', null=True, verbose_name='window from')),
                    ('latest', models.DateField(verbose_name='window to')),
                    ('reason', models.CharField(max_length=300, verbose_name='why')),
                    ('rule', models.CharField(blank=True, max_length=300, verbose_name='rule')),
                    ('source', models.CharField(blank=True, max_length=200, verbose_name='source')),
                    ('unconfirmed', models.BooleanField(default=False)),
                    ('catalogue_version', models.PositiveIntegerField(verbose_name='catalogue version')),
                    ('status', models.CharField(choices=[('open', 'To do'), ('done', 'Done'), ('cancelled', 'Cancelled')], default='open', max_length=10, verbose_name='status')),
                    ('completed_on', models.DateField(blank=True, null=True)),
                    ('cancel_reason', models.CharField(blank=True, max_length=200)),
                    ('completion_note', models.CharField(blank=True, max_length=300, verbose_name='note')),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ('completed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('patient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='scheduled_items', to='patients.patient')),
                    ('course', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='schedule', to='therapy.treatmentcourse')),
                ],
                options={
                    'verbose_name': 'scheduled check',
                    'db_table': 'monitoring_scheduleditem',
                    'ordering': ['due_date', 'id'],
                },
            ),
            migrations.CreateModel(
                name='SafetyFinding',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('severity', models.PositiveSmallIntegerField(choices=[(1, 'Information'), (2, 'Dose advice'), (3, 'Warning: needs acknowledgement'), (4, 'Do not start'), (5, 'Contraindicated')], verbose_name='severity')),
                    ('code', models.CharField(max_length=120, verbose_name='rule code')),
                    ('message', models.TextField(verbose_name='finding')),
                    ('rule', models.TextField(blank=True, verbose_name='rule')),
                    ('source', models.CharField(blank=True, max_length=200, verbose_name='source')),
                    ('unconfirmed', models.BooleanField(default=False)),
                    ('catalogue_version', models.PositiveIntegerField(verbose_name='catalogue version')),
                    ('recommended_dose', models.DecimalField(blank=True, decimal_places=2, max_digits=7, null=True)),
                    ('acknowledgement', models.TextField(blank=True, verbose_name='acknowledgement or override reason')),
                    ('overridden', models.BooleanField(default=False, verbose_name='blocking finding overridden')),
                    ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                    ('acknowledged_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ('event', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='findings', to='therapy.courseevent')),
                    ('course', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='findings', to='therapy.treatmentcourse')),
                ],
                options={
                    'verbose_name': 'safety finding',
                    'db_table': 'monitoring_safetyfinding',
                    'ordering': ['-severity', 'id'],
                },
            ),
            migrations.AddField(
                model_name='courseevent',
                name='course',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='therapy.treatmentcourse'),
            ),
            migrations.AddConstraint(
                model_name='treatmentcourse',
                constraint=models.UniqueConstraint(condition=models.Q(('status__in', ['planned', 'active', 'interrupted'])), fields=('patient', 'drug'), name='monitoring_course_one_open_per_drug'),
            ),
            migrations.AddConstraint(
                model_name='treatmentcourse',
                constraint=models.CheckConstraint(condition=models.Q(('stopped_on__isnull', True), ('stopped_on__gte', models.F('start_date')), _connector='OR'), name='monitoring_course_stop_after_start'),
            ),
            migrations.AddConstraint(
                model_name='treatmentcourse',
                constraint=models.CheckConstraint(condition=models.Q(('dose__isnull', True), ('dose__gt', 0), _connector='OR'), name='monitoring_course_dose_positive'),
            ),
            migrations.AddIndex(
                model_name='scheduleditem',
                index=models.Index(fields=['status', 'due_date'], name='monitoring_sched_status_due'),
            ),
            migrations.AddIndex(
                model_name='scheduleditem',
                index=models.Index(fields=['patient', 'status', 'check_type'], name='monitoring_sched_patient'),
            ),
            migrations.AddConstraint(
                model_name='scheduleditem',
                constraint=models.CheckConstraint(condition=models.Q(models.Q(('earliest__isnull', True), ('earliest__lte', models.F('due_date')), _connector='OR'), ('latest__gte', models.F('due_date'))), name='monitoring_sched_window_contains_due'),
            ),
            ],
        ),
        migrations.RunPython(relabel_forward, relabel_backward),
    ]
