"""Management commands: reminders and escalation (idempotent, no patient names, through the outbox), and the demo
seed."""

import datetime as dt
import io
import re

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from monitoring.models import Alert
from patients.models import LabResult
from patients.services import risk_profile_update
from portal.models import AuditEvent, OutboundEmail
from tests.factories import TODAY, make_course, make_patient, make_scheduled_item, record_result
from tests.mailbackends import FlakyBackend


@pytest.fixture
def overdue_and_urgent(clinic, derm, nurse, catalogue):
    derm.email, nurse.email = "derm@example.invalid", "nurse@example.invalid"
    derm.save()
    nurse.save()
    patient = make_patient(clinic=clinic, dermatologist=derm, given_name="Secretname", record_number="REM-1")
    course = make_course(patient, derm)
    make_scheduled_item(course, check_type="lipids", due=TODAY - dt.timedelta(days=3))
    alert = Alert.objects.get(lab_result=record_result(nurse, patient, "platelets", "45"))
    Alert.objects.filter(pk=alert.pk).update(created_at=alert.created_at - dt.timedelta(hours=6))
    return alert


def test_send_reminders_emails_nurses_and_escalates_once(overdue_and_urgent):
    call_command("send_reminders", stdout=io.StringIO())
    subjects = [m.subject for m in mail.outbox]
    assert "JAK Portal: checks due and overdue" in subjects
    assert "JAK Portal: URGENT alert not acknowledged" in subjects
    assert all("Secretname" not in m.body for m in mail.outbox)
    assert any("REM-1" in m.body for m in mail.outbox)
    overdue_and_urgent.refresh_from_db()
    first = overdue_and_urgent.escalated_at
    assert first is not None
    call_command("send_reminders", stdout=io.StringIO())
    overdue_and_urgent.refresh_from_db()
    assert overdue_and_urgent.escalated_at == first
    assert AuditEvent.objects.filter(summary__contains="escalated").count() == 1
    assert AuditEvent.objects.filter(summary=f"Reminder digest queued for {TODAY.isoformat()}").count() == 1
    assert len(mail.outbox) == 2  # the second run sent neither the digest nor the escalation again
    assert set(OutboundEmail.objects.values_list("dedupe_key", "status")) == {
        (f"digest:{overdue_and_urgent.patient.clinic_id}:{TODAY.isoformat()}", "sent"),
        (f"escalation:{overdue_and_urgent.pk}", "sent"),
    }


def test_every_link_in_the_emails_is_absolute(overdue_and_urgent, settings):
    settings.PORTAL_BASE_URL = "https://portal.clinic.example/jak/"
    call_command("send_reminders", stdout=io.StringIO())
    bodies = {m.subject: m.body for m in mail.outbox}
    assert "https://portal.clinic.example/jak/monitoring/worklist/\n" in bodies["JAK Portal: checks due and overdue"]
    alert_url = "https://portal.clinic.example/jak" + overdue_and_urgent.get_absolute_url()
    assert f"Open it in JAK Portal: {alert_url}\n" in bodies["JAK Portal: URGENT alert not acknowledged"]
    for body in bodies.values():  # no relative link left anywhere
        assert not re.search(r"(?<![\w/.:])/(monitoring|patients|therapy)/", body), body


def test_digest_leaves_out_baseline_screening_the_record_satisfies(clinic, derm, nurse, catalogue):
    nurse.email = "nurse@example.invalid"
    nurse.save()
    patient = make_patient(clinic=clinic, dermatologist=derm, record_number="REM-2")
    course = make_course(patient, derm)
    make_scheduled_item(course, check_type="tb", kind="baseline", due=TODAY - dt.timedelta(days=40))
    make_scheduled_item(course, check_type="hcv", kind="baseline", due=TODAY - dt.timedelta(days=40))
    # the course listed what the record lacked at its start; the TB status is recorded since
    risk_profile_update(actor=derm, patient=patient, data={"tb_status": "negative"}, row_version=1)
    out = io.StringIO()
    call_command("send_reminders", "--dry-run", stdout=out)
    assert "1 overdue, 0 due today" in out.getvalue()
    assert "Dry run" in out.getvalue()
    assert not OutboundEmail.objects.exists()
    assert mail.outbox == []


def test_a_failed_digest_email_is_retried_later_and_does_not_stop_escalation(overdue_and_urgent, settings):
    settings.EMAIL_BACKEND = "tests.mailbackends.FlakyBackend"
    FlakyBackend.failures = {"due and overdue": 1}
    err = io.StringIO()
    call_command("send_reminders", stdout=io.StringIO(), stderr=err)
    assert "Email not sent, will retry: digest:" in err.getvalue()
    assert [m.subject for m in mail.outbox] == ["JAK Portal: URGENT alert not acknowledged"]
    digest = OutboundEmail.objects.get(dedupe_key__startswith="digest:")
    assert (digest.status, digest.attempts, digest.last_error) == ("pending", 1, "ConnectionRefusedError")
    # The next cron run (30 minutes later) is past the backoff: the digest is sent, once.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=30)):
        call_command("send_reminders", stdout=io.StringIO())
    assert [m.subject for m in mail.outbox] == [
        "JAK Portal: URGENT alert not acknowledged",
        "JAK Portal: checks due and overdue",
    ]
    FlakyBackend.failures = {}


def test_queue_only_then_deliver_email(overdue_and_urgent):
    out = io.StringIO()
    call_command("send_reminders", "--no-deliver", stdout=out)
    assert mail.outbox == []
    assert OutboundEmail.objects.filter(status="pending").count() == 2
    call_command("deliver_email", stdout=out)
    assert "Emails: 2 sent" in out.getvalue()
    assert len(mail.outbox) == 2


def test_recent_urgent_alert_is_not_escalated(overdue_and_urgent):
    call_command("send_reminders", "--hours", "12", stdout=io.StringIO())
    overdue_and_urgent.refresh_from_db()
    assert overdue_and_urgent.escalated_at is None


def test_demo_monitoring_refuses_without_demo_mode(db, settings):
    settings.PORTAL_DEMO = False
    with pytest.raises(CommandError):
        call_command("seed_demo_monitoring")


def test_demo_monitoring_seeds_alerts_once(db, settings):
    settings.PORTAL_DEMO = True
    call_command("load_catalogue", verbosity=0)
    call_command("seed_demo_clinic", verbosity=0)
    call_command("seed_demo_therapy", verbosity=0)
    call_command("seed_demo_monitoring", verbosity=0)
    results = LabResult.objects.count()
    assert Alert.objects.filter(severity=Alert.Severity.URGENT, title__contains="Discontinue").exists()
    assert Alert.objects.filter(severity=Alert.Severity.SAME_DAY, title__contains="ANC").exists()
    call_command("seed_demo_monitoring", verbosity=0)
    assert LabResult.objects.count() == results
