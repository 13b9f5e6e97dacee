"""Pen test F1: demo accounts (published password) work only while PORTAL_DEMO is on.

A database that `make run` set up keeps its demo accounts; served later with PORTAL_DEMO off, they must not
log in anywhere, and ``check --deploy`` must fail while active ones exist.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.checks import run_checks
from django.test import RequestFactory
from django.urls import reverse

from portal.demo import DEMO_PASSWORD, demo_accounts_ensure
from portal.models import AuditEvent, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_database(settings):
    """What `make run` leaves behind, then served with PORTAL_DEMO off."""
    settings.PORTAL_DEMO = True
    demo_accounts_ensure()
    settings.PORTAL_DEMO = False
    return settings


def login(client, username, password=DEMO_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.parametrize("username", ["demo-derm", "demo-nurse", "demo-admin", "DEMO-DERM"])
def test_demo_accounts_are_refused_at_log_in_when_demo_mode_is_off(demo_database, client, username):
    response = login(client, username)
    assert response.status_code == 200
    assert b"Demo accounts cannot log in on this server" in response.content
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("portal:home"))["Location"].startswith(reverse("login"))
    event = AuditEvent.objects.get(action="login_failed", actor_username=username)
    assert "demo account" in event.summary


def test_the_refusal_does_not_depend_on_the_password(demo_database, client):
    right = login(client, "demo-derm").content
    wrong = login(client, "demo-derm", "not-the-password").content
    assert b"Demo accounts cannot log in on this server" in right
    assert b"Demo accounts cannot log in on this server" in wrong


def test_every_log_in_path_refuses_them(demo_database, client):
    """The refusal is in the authentication backend, so the admin's log-in page refuses them too."""
    request = RequestFactory().post(reverse("login"))
    assert authenticate(request, username="demo-admin", password=DEMO_PASSWORD) is None
    User.objects.filter(username="demo-admin").update(is_staff=True, is_superuser=True)
    client.post(reverse("admin:login"), {"username": "demo-admin", "password": DEMO_PASSWORD, "next": "/admin/"})
    assert "_auth_user_id" not in client.session


def test_a_session_opened_in_demo_mode_ends_when_demo_mode_is_off(settings, client):
    settings.PORTAL_DEMO = True
    demo_accounts_ensure()
    assert login(client, "demo-nurse").status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200
    settings.PORTAL_DEMO = False
    assert client.get(reverse("portal:home"))["Location"].startswith(reverse("login"))


def test_demo_accounts_log_in_in_demo_mode(settings, client):
    """`make run` keeps working."""
    settings.PORTAL_DEMO = True
    demo_accounts_ensure()
    response = login(client, "demo-derm")
    assert response.status_code == 302
    assert client.get(reverse("patients:list")).status_code == 200


def test_other_accounts_are_not_affected(demo_database, client, derm):
    from tests.factories import TEST_PASSWORD

    assert client.post(reverse("login"), {"username": derm.username, "password": TEST_PASSWORD}).status_code == 302


def _ids(messages) -> set[str]:
    return {message.id for message in messages}


def test_deploy_check_fails_while_demo_accounts_exist_and_demo_mode_is_off(demo_database):
    deploy = run_checks(include_deployment_checks=True, tags=["security"])
    error = next(m for m in deploy if m.id == "portal.E001")
    assert error.is_serious()
    assert "demo-derm" in error.msg
    assert "portal.E001" not in _ids(run_checks())  # reads the database, so only with --deploy


def test_deploy_check_is_clean_in_demo_mode_or_once_deactivated(demo_database, settings):
    settings.PORTAL_DEMO = True
    assert "portal.E001" not in _ids(run_checks(include_deployment_checks=True, tags=["security"]))
    settings.PORTAL_DEMO = False
    User.objects.filter(username__startswith="demo-").update(is_active=False)
    assert "portal.E001" not in _ids(run_checks(include_deployment_checks=True, tags=["security"]))
