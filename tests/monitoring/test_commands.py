"""Management commands: reminders and escalation (idempotent, no patient names), and the demo seed."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from monitoring.models import Alert
from patients.models import LabResult
from portal.models import AuditEvent
from tests.factories import TODAY, make_course, make_patient, make_scheduled_item, record_result


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
    assert len(mail.outbox) == 2  # the second run sent neither the digest nor the escalation again


def test_digest_leaves_out_baseline_screening_the_record_satisfies(clinic, derm, nurse, catalogue):
    nurse.email = "nurse@example.invalid"
    nurse.save()
    patient = make_patient(clinic=clinic, dermatologist=derm, record_number="REM-2", risk={"tb_status": "negative"})
    course = make_course(patient, derm)
    make_scheduled_item(course, check_type="tb", kind="baseline", due=TODAY - dt.timedelta(days=40))
    make_scheduled_item(course, check_type="hcv", kind="baseline", due=TODAY - dt.timedelta(days=40))
    out = io.StringIO()
    call_command("send_reminders", "--dry-run", stdout=out)
    assert "1 overdue, 0 due today" in out.getvalue()


def test_a_failed_digest_email_is_retried_next_run_and_does_not_stop_escalation(overdue_and_urgent, monkeypatch):
    from monitoring.management.commands import send_reminders

    real_send_mail = send_reminders.send_mail

    def flaky(subject, *args, **kwargs):
        if subject.endswith("due and overdue"):
            raise OSError("SMTP down")
        return real_send_mail(subject, *args, **kwargs)

    monkeypatch.setattr(send_reminders, "send_mail", flaky)
    err = io.StringIO()
    call_command("send_reminders", stdout=io.StringIO(), stderr=err)
    assert "Email not sent" in err.getvalue()
    assert [m.subject for m in mail.outbox] == ["JAK Portal: URGENT alert not acknowledged"]
    monkeypatch.setattr(send_reminders, "send_mail", real_send_mail)
    call_command("send_reminders", stdout=io.StringIO())
    assert [m.subject for m in mail.outbox][-1] == "JAK Portal: checks due and overdue"


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
