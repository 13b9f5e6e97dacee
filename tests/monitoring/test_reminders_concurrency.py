"""Issue 18: several send_reminders (and deliverers) at once against one PostgreSQL database send each email once.

SQLite serialises whole write transactions, so the race cannot happen there; the claim fallback SQLite uses is
tested in tests/portal/test_outbox.py.
"""

import datetime as dt
import io
import threading
from collections import Counter

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection

from monitoring.models import Alert
from portal import outbox, roles
from portal.models import AuditEvent, OutboundEmail
from tests.factories import TODAY, make_clinic, make_course, make_patient, make_scheduled_item, make_user, record_result

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="real concurrent transactions need PostgreSQL (SQLite serialises them)",
    ),
    pytest.mark.django_db(transaction=True),
]

RUNS = 4


def run_at_once(target, n=RUNS):
    """Call ``target(i)`` in ``n`` threads released together, each on its own database connection."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i):
        try:
            barrier.wait(timeout=30)
            target(i)
        except BaseException as exc:  # noqa: BLE001  reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a run did not finish"
    assert errors == [], errors


@pytest.fixture
def two_clinics(catalogue):
    alerts = []
    for n in (1, 2):
        clinic = make_clinic(f"Race Clinic {n}")
        derm = make_user(role=roles.DERMATOLOGIST, clinic=clinic, email=f"derm{n}@example.invalid")
        nurse = make_user(role=roles.NURSE, clinic=clinic, email=f"nurse{n}@example.invalid")
        make_user(role=roles.NURSE, clinic=clinic, email=f"nurse{n}b@example.invalid")
        for m in (1, 2):
            patient = make_patient(clinic=clinic, dermatologist=derm, record_number=f"RACE-{n}-{m}")
            course = make_course(patient, derm)
            make_scheduled_item(course, check_type="lipids", due=TODAY - dt.timedelta(days=2))
            alert = Alert.objects.get(lab_result=record_result(nurse, patient, "platelets", "45"))
            Alert.objects.filter(pk=alert.pk).update(created_at=alert.created_at - dt.timedelta(hours=6))
            alerts.append(alert)
    return alerts


def test_simultaneous_send_reminders_send_one_digest_per_clinic_and_one_escalation_per_alert(two_clinics):
    run_at_once(lambda i: call_command("send_reminders", stdout=io.StringIO(), stderr=io.StringIO()))
    subjects = Counter(m.subject for m in mail.outbox)
    assert subjects == {"JAK Portal: checks due and overdue": 2, "JAK Portal: URGENT alert not acknowledged": 4}
    digest_recipients = sorted(tuple(m.to) for m in mail.outbox if m.subject.endswith("due and overdue"))
    assert digest_recipients == [
        ("nurse1@example.invalid", "nurse1b@example.invalid"),
        ("nurse2@example.invalid", "nurse2b@example.invalid"),
    ]
    escalated = Counter(line for m in mail.outbox for line in m.body.splitlines() if line.startswith("Urgent alert"))
    assert len(escalated) == 4
    assert set(escalated.values()) == {1}
    assert OutboundEmail.objects.count() == 6
    assert set(OutboundEmail.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert AuditEvent.objects.filter(summary__startswith="Reminder digest queued").count() == 2
    assert AuditEvent.objects.filter(summary="Urgent alert escalated: unacknowledged").count() == 4
    assert AuditEvent.objects.filter(summary="Email sent").count() == 6
    assert Alert.objects.filter(escalated_at__isnull=False).count() == 4


def test_simultaneous_enqueues_of_one_key_insert_one_row(db):
    created = []
    run_at_once(
        lambda i: created.append(
            outbox.email_enqueue(key="race:1", to=["a@example.invalid"], subject=f"From run {i}", body="b")[1]
        ),
        n=8,
    )
    assert sorted(created) == [False] * 7 + [True]
    assert OutboundEmail.objects.filter(dedupe_key="race:1").count() == 1


def test_simultaneous_deliverers_send_each_email_once(db):
    for n in range(40):
        outbox.email_enqueue(key=f"race:{n}", to=["a@example.invalid"], subject=f"Email {n}", body="b")
    reports = []
    run_at_once(lambda i: reports.append(outbox.outbox_deliver()))
    assert sorted(m.subject for m in mail.outbox) == sorted(f"Email {n}" for n in range(40))
    assert sum(len(r.sent) for r in reports) == 40
    assert set(OutboundEmail.objects.values_list("status", "attempts")) == {("sent", 1)}
