"""The email outbox (portal/outbox.py): queue once per key, deliver once, retry with backoff, give up visibly."""

import datetime as dt
import io
import logging

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from portal import backoff, outbox
from portal.models import AuditEvent, OutboundEmail
from tests.mailbackends import FlakyBackend

FLAKY = "tests.mailbackends.FlakyBackend"


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = FLAKY
    FlakyBackend.failures = {}
    yield FlakyBackend.failures
    FlakyBackend.failures = {}


@pytest.fixture(params=["skip_locked", "update_rowcount"])
def claim_path(request, monkeypatch):
    """Run a test through both ways of claiming a row, whatever the database: the FOR UPDATE SKIP LOCKED path
    (a plain SELECT on SQLite, which ignores FOR UPDATE) and the UPDATE … WHERE status='pending' fallback."""
    monkeypatch.setattr(connection.features, "has_select_for_update_skip_locked", request.param == "skip_locked")
    return request.param


def queue(key="test:1", to=("a@example.invalid",), subject="Subject", body="Body", now=None):
    return outbox.email_enqueue(key=key, to=list(to), subject=subject, body=body, now=now)


# --- backoff (pure) ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [
        (1, dt.timedelta(minutes=1)),
        (2, dt.timedelta(minutes=5)),
        (3, dt.timedelta(minutes=30)),
        (4, dt.timedelta(hours=2)),
        (5, dt.timedelta(hours=6)),
        (6, None),
        (7, None),
    ],
)
def test_retry_delay(attempts, delay):
    assert backoff.retry_delay(attempts) == delay


def test_retry_delays_grow_and_end():
    delays = [backoff.retry_delay(n) for n in range(1, backoff.MAX_ATTEMPTS)]
    assert delays == sorted(delays)
    assert len(set(delays)) == len(delays)
    assert backoff.retry_delay(backoff.MAX_ATTEMPTS) is None


@pytest.mark.parametrize("attempts", [0, -1])
def test_retry_delay_counts_failures_from_one(attempts):
    with pytest.raises(ValueError, match="starts at 1"):
        backoff.retry_delay(attempts)


# --- absolute links ----------------------------------------------------------------------------------------------


def test_absolute_url_uses_portal_base_url(settings):
    settings.PORTAL_BASE_URL = "https://portal.clinic.example/"
    assert outbox.absolute_url(reverse("monitoring:worklist")) == "https://portal.clinic.example/monitoring/worklist/"
    settings.PORTAL_BASE_URL = "https://clinic.example/jak/"
    assert outbox.absolute_url("/monitoring/worklist/") == "https://clinic.example/jak/monitoring/worklist/"


# --- queueing ----------------------------------------------------------------------------------------------------


def test_enqueue_once_per_key(db):
    first, created = queue(to=["a@example.invalid", " a@example.invalid ", "b@example.invalid"])
    assert created
    assert first.recipients == ["a@example.invalid", "b@example.invalid"]
    assert first.status == OutboundEmail.Status.PENDING
    again, created_again = queue(subject="Another subject")
    assert not created_again
    assert again.pk == first.pk
    assert again.subject == "Subject"
    assert OutboundEmail.objects.count() == 1


def test_enqueue_rolls_back_with_the_change_it_reports(db):
    def change_that_fails():
        with transaction.atomic():
            queue()
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert not OutboundEmail.objects.exists()


@pytest.mark.parametrize(("to", "subject"), [([], "S"), (["", "  "], "S"), (["a@example.invalid"], "S\nBcc: x")])
def test_enqueue_refuses_no_recipient_or_a_multiline_subject(db, to, subject):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        queue(to=to, subject=subject)


# --- delivery ----------------------------------------------------------------------------------------------------


def test_deliver_sends_and_marks_sent(db, claim_path, settings):
    settings.DEFAULT_FROM_EMAIL = "JAK <noreply@clinic.example>"
    row, _ = queue(to=["n@example.invalid"], subject="Digest", body="Open https://p/x")
    report = outbox.outbox_deliver()
    assert report.sent == ["test:1"]
    assert [(m.subject, m.to, m.from_email) for m in mail.outbox] == [
        ("Digest", ["n@example.invalid"], "JAK <noreply@clinic.example>")
    ]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error, row.claimed_at) == ("sent", 1, "", None)
    assert row.sent_at is not None
    assert AuditEvent.objects.filter(object_type="portal.outboundemail", summary="Email sent").count() == 1
    assert outbox.outbox_deliver().sent == []  # sent once
    assert len(mail.outbox) == 1


def test_a_failing_backend_retries_with_backoff_then_sends(db, flaky, claim_path, caplog):
    now = timezone.now()
    row, _ = queue(subject="Digest", now=now)
    queue(key="test:2", subject="Other", now=now)
    flaky["Digest"] = 2
    with caplog.at_level(logging.WARNING, logger="portal.outbox"):
        report = outbox.outbox_deliver(now=now)
    assert (report.sent, report.retrying, report.failed) == (["test:2"], ["test:1"], [])  # one failure stops nothing
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ConnectionRefusedError")
    assert row.next_attempt_at == now + dt.timedelta(minutes=1)
    assert "SMTP server down" not in caplog.text  # the class only, never the message
    assert "test:1" in caplog.text

    assert outbox.outbox_deliver(now=now + dt.timedelta(seconds=30)).retrying == []  # not due yet
    assert outbox.outbox_deliver(now=now + dt.timedelta(minutes=1)).retrying == ["test:1"]  # second failure
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at == now + dt.timedelta(minutes=1) + dt.timedelta(minutes=5)

    later = row.next_attempt_at
    assert outbox.outbox_deliver(now=later).sent == ["test:1"]  # the server is back
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == ("sent", 3, later)
    assert [m.subject for m in mail.outbox] == ["Other", "Digest"]


def test_gives_up_after_the_last_attempt_visibly_and_can_be_queued_again(db, flaky, caplog):
    flaky["Digest"] = -1
    now = timezone.now()
    row, _ = queue(subject="Digest", now=now)
    with caplog.at_level(logging.WARNING, logger="portal.outbox"):
        for _ in range(backoff.MAX_ATTEMPTS):
            report = outbox.outbox_deliver(now=now)
            row.refresh_from_db()
            now = row.next_attempt_at
    assert report.failed == ["test:1"]
    assert (row.status, row.attempts, row.last_error) == ("failed", backoff.MAX_ATTEMPTS, "ConnectionRefusedError")
    assert f"gave up after {backoff.MAX_ATTEMPTS} attempts" in caplog.text
    assert AuditEvent.objects.filter(summary__startswith="Email failed: gave up").count() == 1
    assert outbox.outbox_deliver(now=now + dt.timedelta(days=1)).failed == []  # failed rows are left alone

    flaky.clear()
    err, out = io.StringIO(), io.StringIO()
    call_command("deliver_email", "--retry-failed", stdout=out, stderr=err)
    assert "1 failed email(s) queued again" in out.getvalue()
    assert "Emails: 1 sent, 0 to retry later, 0 given up." in out.getvalue()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)


def test_deliver_email_command_reports_what_failed_on_stderr(db, flaky):
    flaky["Digest"] = 1
    queue(subject="Digest")
    out, err = io.StringIO(), io.StringIO()
    call_command("deliver_email", stdout=out, stderr=err)
    assert "Emails: 0 sent, 1 to retry later, 0 given up." in out.getvalue()
    assert "Email not sent, will retry: test:1" in err.getvalue()


def test_a_row_left_sending_by_a_dead_deliverer_is_taken_again_after_the_lease(db, claim_path):
    now = timezone.now()
    row, _ = queue(now=now)
    OutboundEmail.objects.filter(pk=row.pk).update(status="sending", claimed_at=now)
    assert outbox.outbox_deliver(now=now + outbox.CLAIM_LEASE - dt.timedelta(seconds=1)).sent == []
    assert outbox.outbox_deliver(now=now + outbox.CLAIM_LEASE + dt.timedelta(seconds=1)).sent == ["test:1"]


def test_a_deliverer_whose_claim_was_taken_over_does_not_overwrite_the_outcome(db):
    now = timezone.now()
    row, _ = queue(now=now)
    stale = outbox._claim_next(now)
    OutboundEmail.objects.filter(pk=row.pk).update(status="sent", claimed_at=None)  # the other deliverer's result
    outbox._record_failure(stale, OSError(), now, outbox.DeliveryReport())
    row.refresh_from_db()
    assert row.status == "sent"


# --- admin: read-only ----------------------------------------------------------------------------------------------


def test_admin_lists_outbound_emails_read_only(client, superuser):
    row, _ = queue()
    client.force_login(superuser)
    assert client.get(reverse("admin:portal_outboundemail_changelist")).status_code == 200
    assert client.get(reverse("admin:portal_outboundemail_change", args=[row.pk])).status_code == 200
    assert client.get(reverse("admin:portal_outboundemail_add")).status_code == 403
    response = client.post(reverse("admin:portal_outboundemail_change", args=[row.pk]), {"subject": "changed"})
    assert response.status_code == 403
    assert client.post(reverse("admin:portal_outboundemail_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.subject == "Subject"
