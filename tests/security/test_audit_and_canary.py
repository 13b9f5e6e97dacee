"""The audit trail page, account changes in the admin, double submits, and the no-patient-data-in-logs canary."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient
from portal import roles
from portal.audit import audit_record
from portal.models import AuditEvent, User
from tests.conftest import canary_hits
from tests.factories import CANARY, make_user
from tests.security.htmlforms import as_post_data, page_form

pytestmark = pytest.mark.django_db


def register_patient(client, **overrides) -> tuple[dict, object]:
    page = client.get(reverse("patients:create"))
    data = as_post_data(page_form(page.content.decode()))
    data.update(
        {
            "record_number": "CAN-0001",
            "given_name": f"{CANARY}Given",
            "family_name": f"{CANARY}Family",
            "date_of_birth": "1970-05-06",
            "sex_at_birth": "female",
            "email": f"{CANARY.lower()}@example.invalid",
            **overrides,
        }
    )
    return data, client.post(reverse("patients:create"), data)


def test_audit_page_is_for_superusers_only(client, derm, superuser):
    client.force_login(derm)
    assert client.get(reverse("portal:audit")).status_code == 403
    client.force_login(superuser)
    assert client.get(reverse("portal:audit")).status_code == 200


def test_patient_views_and_changes_are_on_the_audit_page_with_filters(client, derm, superuser):
    client.force_login(derm)
    _data, response = register_patient(client)
    assert response.status_code == 302
    patient = Patient.objects.get(record_number="CAN-0001")
    assert client.get(patient.get_absolute_url()).status_code == 200
    admin = Client()
    admin.force_login(superuser)
    url = reverse("portal:audit")
    page = admin.get(url, {"actor": derm.username, "object_id": str(patient.pk)})
    body = page.content.decode()
    assert "Patient record viewed" in body
    assert "Created" in body
    only_views = admin.get(url, {"action": "view", "actor": derm.username}).content.decode()
    assert "Patient record viewed" in only_views
    assert "<td>Logged in</td>" not in only_views
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert "Patient record viewed" not in admin.get(url, {"date_from": tomorrow}).content.decode()
    today = timezone.localdate().isoformat()
    assert "Patient record viewed" in admin.get(url, {"date_from": today, "date_to": today}).content.decode()


def test_audit_page_pages_without_counting(client, superuser):
    for n in range(120):
        audit_record(actor=superuser, action="view", object_type="patients.patient", object_id=str(n), summary="x")
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(reverse("portal:audit"))
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert "page=2" in first.content.decode()
    third = client.get(reverse("portal:audit"), {"page": 3})
    assert third.status_code == 200
    assert "page=4" not in third.content.decode()
    assert client.get(reverse("portal:audit"), {"page": "nonsense"}).status_code == 200


def test_admin_account_changes_are_audited(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:portal_user_add"),
        {"username": "newnurse", "password1": "a long enough passphrase", "password2": "a long enough passphrase"},
    )
    assert response.status_code == 302
    user = User.objects.get(username="newnurse")
    assert AuditEvent.objects.filter(action="create", object_id=str(user.pk), actor=superuser).exists()
    change_url = reverse("admin:portal_user_change", args=[user.pk])
    page = client.get(change_url)
    data = as_post_data(page_form(page.content.decode()))
    data = {k: v for k, v in data.items() if k not in ("is_active",)}  # untick "active"
    data["groups"] = str(Group.objects.get(name=roles.NURSE).pk)
    data["last_name"] = "Changed"
    response = client.post(change_url, data)
    assert response.status_code == 302, response.content[:2000]
    event = AuditEvent.objects.filter(action="change", object_id=str(user.pk)).latest("id")
    assert event.summary == "Account deactivated in admin"
    assert event.changes["is_active"] == {"from": "True", "to": "False"}
    assert event.changes["groups"] == {"from": [], "to": [roles.NURSE]}
    assert event.changes["last_name"]["to"] == "Changed"


def test_admin_bulk_deactivation_is_audited_per_account(client, superuser):
    users = [make_user(), make_user()]
    client.force_login(superuser)
    response = client.post(
        reverse("admin:portal_user_changelist"),
        {"action": "deactivate_users", "_selected_action": [str(u.pk) for u in users]},
    )
    assert response.status_code == 302
    for user in users:
        user.refresh_from_db()
        assert not user.is_active
        assert AuditEvent.objects.filter(action="change", object_id=str(user.pk), summary__contains="bulk").exists()


def test_double_submitted_patient_form_writes_once(client, derm):
    client.force_login(derm)
    data, first = register_patient(client)
    assert data["idempotency_key"]
    second = client.post(reverse("patients:create"), data)
    assert first.status_code == 302
    assert second.status_code == 302, second.content.decode()[-3000:]
    assert second["Location"] == first["Location"]
    assert Patient.objects.filter(record_number="CAN-0001").count() == 1
    # A fresh form (new token) is a new registration attempt: refused here as a duplicate record number.
    _data, third = register_patient(client)
    assert third.status_code == 200, third["Location"]


def test_second_submission_that_loses_the_race_is_answered_like_the_first(client, derm, monkeypatch):
    """The window the gunicorn drill hit: the first submission commits after the second passed the replay check
    but before it validated, so the second sees the record number as taken."""
    from portal import idempotency

    client.force_login(derm)
    data, first = register_patient(client)
    real_replay = idempotency.replay
    calls = []

    def replay_late(request, *, scope):
        calls.append(scope)
        return None if len(calls) == 1 else real_replay(request, scope=scope)

    monkeypatch.setattr(idempotency, "replay", replay_late)
    second = client.post(reverse("patients:create"), data)
    assert second.status_code == 302, second.content.decode()[-2000:]
    assert second["Location"] == first["Location"]
    assert Patient.objects.filter(record_number="CAN-0001").count() == 1


def test_token_of_an_invalid_submission_can_be_resent(client, derm):
    client.force_login(derm)
    data, bad = register_patient(client, date_of_birth="not a date")
    assert bad.status_code == 200
    data["date_of_birth"] = "1970-05-06"
    assert client.post(reverse("patients:create"), data).status_code == 302
    assert Patient.objects.filter(record_number="CAN-0001").count() == 1


def test_log_capture_sees_records_and_finds_no_canary(client, derm, log_canary_capture):
    """Creates, views, edits and mis-submits a canary patient through the real pages, then scans the logs."""
    client.force_login(derm)
    register_patient(client, date_of_birth="2999-01-01")  # invalid: error path
    _data, response = register_patient(client)
    patient = Patient.objects.get(record_number="CAN-0001")
    client.get(patient.get_absolute_url())
    client.post(reverse("patients:list"), {"q": CANARY}, follow=True)
    client.get(reverse("patients:list"), {"q": CANARY})  # an old-style address
    client.get(f"/patients/{CANARY}/")  # 404 with the canary in the path
    client.post(reverse("login"), {"username": CANARY, "password": CANARY * 2})  # failed log-in
    logging.getLogger("django.request").error("canary-self-test marker")
    text = log_canary_capture.read_text(encoding="utf-8")
    assert "canary-self-test marker" in text  # the capture works for non-propagating loggers too
    assert canary_hits(log_canary_capture, f"{CANARY}Given") == []
    assert canary_hits(log_canary_capture, f"{CANARY}Family") == []


def test_canary_scan_finds_a_planted_value(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text(f"INFO x fine\nERROR y patient {CANARY}Given crashed\n", encoding="utf-8")
    assert len(canary_hits(log)) == 1
