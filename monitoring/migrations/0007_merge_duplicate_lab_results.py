"""Merge lab results stored more than once (issue 18, F8) before patients.0007 forbids duplicates.

A duplicate is what the new constraints forbid: same patient, lab test, collection date and value (canonical
unit; for coded results, the same coded value). Of each group the first row (lowest id) is kept and the later
copies are deleted, after their alerts are moved onto the kept row so that no clinical decision is lost:

- the kept row has no alert for that course: the copy's alert moves to the kept row;
- it has one, and the copy's is still open: the copy's alert is a second alert for the same result and course
  (what F8 raised), and goes with the copy;
- it has one that is open and the copy's was acknowledged: the acknowledged one (with its comment and action)
  replaces the open one;
- both were acknowledged: the migration refuses (it cannot merge two decisions) and names the result ids, to be
  merged by hand, then the migration is run again.

A copy's interpretation (flag, action level) is taken over only when the kept row has no action level. An audit
event records how many copies were merged (ids only, no patient data). It runs in one transaction on PostgreSQL:
all or nothing.
"""

from django.db import migrations
from django.db.models import Count, Min


def _groups(LabResult):
    numeric = (
        LabResult.objects.filter(value__isnull=False)
        .values("patient_id", "lab_test_id", "collected_on", "value")
        .annotate(n=Count("id"), first=Min("id"))
        .filter(n__gt=1)
    )
    coded = (
        LabResult.objects.filter(value__isnull=True)
        .values("patient_id", "lab_test_id", "collected_on", "coded_value")
        .annotate(n=Count("id"), first=Min("id"))
        .filter(n__gt=1)
    )
    for group in [*numeric, *coded]:
        keys = {k: group[k] for k in group if k not in ("n", "first")}
        if "coded_value" in keys:
            keys["value__isnull"] = True
        yield group["first"], list(LabResult.objects.filter(**keys).exclude(pk=group["first"]).order_by("id"))


def merge_duplicates(apps, schema_editor):
    LabResult = apps.get_model("patients", "LabResult")
    Alert = apps.get_model("monitoring", "Alert")
    AuditEvent = apps.get_model("portal", "AuditEvent")
    deleted, refused = [], []
    for first_id, copies in _groups(LabResult):
        kept = LabResult.objects.get(pk=first_id)
        for copy in copies:
            for alert in Alert.objects.filter(lab_result_id=copy.pk).order_by("id"):
                other = Alert.objects.filter(lab_result_id=kept.pk, course_id=alert.course_id).first()
                if other is None:
                    alert.lab_result_id = kept.pk
                    alert.save(update_fields=["lab_result"])
                elif alert.status == "open":
                    alert.delete()
                elif other.status == "open":
                    other.delete()
                    alert.lab_result_id = kept.pk
                    alert.save(update_fields=["lab_result"])
                else:
                    refused.append((kept.pk, copy.pk))
            if kept.action == "" and copy.action != "":
                for field in ("flag", "action", "action_rule", "action_source", "interpreted_version"):
                    setattr(kept, field, getattr(copy, field))
                kept.save(update_fields=["flag", "action", "action_rule", "action_source", "interpreted_version"])
            deleted.append(copy.pk)
    if refused:
        pairs = ", ".join(f"{kept} and {copy}" for kept, copy in refused[:50])
        raise RuntimeError(
            f"Duplicate lab results whose alerts were both acknowledged (result ids {pairs}): merge their alerts "
            "by hand (keep one per result and course), then migrate again. Nothing was changed."
        )
    if deleted:
        LabResult.objects.filter(pk__in=deleted).delete()
        AuditEvent.objects.create(
            action="delete",
            object_type="patients.labresult",
            summary=f"Duplicate lab results merged by migration: {len(deleted)} copies deleted",
            changes={"deleted_result_ids": deleted[:1000], "copies": len(deleted)},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0006_alert_action_taken"),
        ("patients", "0006_easi_half_sign_scores"),
        ("portal", "0005_staff_manager"),
    ]
    run_before = [("patients", "0007_labresult_once_per_day_and_value")]

    operations = [migrations.RunPython(merge_duplicates, migrations.RunPython.noop)]
