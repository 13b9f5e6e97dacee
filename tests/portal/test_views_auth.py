import pytest
from django.urls import reverse

from portal.models import AuditEvent
from tests.factories import TEST_PASSWORD, make_user
from tests.urlwalk import all_urls

# metrics: loopback (test client); the single sign-on start and callback: before the log-in, like the log-in page.
PUBLIC = {
    "login",
    "healthz",
    "healthz_live",
    "healthz_ready",
    "metrics",
    "oidc_authentication_init",
    "oidc_authentication_callback",
}
# Machine interfaces refuse with their own answer (401 and a bearer challenge), never the log-in page: their
# callers are systems. tests/interfaces/ and the access matrix cover them.
INTERFACES = ("fhir:", "cds:", "hl7v2:")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "path"), [u for u in all_urls() if u[0] not in PUBLIC and not u[0].startswith(INTERFACES)]
)
def test_every_page_but_login_and_healthz_needs_login(client, name, path):
    response = client.get(path)
    assert response.status_code == 302, name
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_admin_needs_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b"demo-derm" not in response.content  # demo hint only in demo mode


@pytest.mark.django_db
def test_login_page_shows_demo_accounts_in_demo_mode(client, settings):
    settings.PORTAL_DEMO = True
    assert b"jak-demo-2026" in client.get(reverse("login")).content


@pytest.mark.django_db
def test_login_succeeds_and_is_audited(client):
    user = make_user(username="alice")
    response = client.post(reverse("login"), {"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    assert AuditEvent.objects.filter(actor=user, action="login").exists()


@pytest.mark.django_db
def test_wrong_password_keeps_username_and_says_why(client):
    make_user(username="alice")
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong-password-123"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert b'value="alice"' in response.content
    event = AuditEvent.objects.get(action="login_failed")
    assert "wrong-password" not in event.summary


@pytest.mark.django_db
def test_logout_needs_post(client, derm):
    client.force_login(derm)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("portal:home")).status_code == 302
    assert AuditEvent.objects.filter(actor=derm, action="logout").exists()


@pytest.mark.django_db
def test_session_key_changes_at_login(client):
    make_user(username="bob")
    client.get(reverse("login"))
    before = client.session.session_key
    client.post(reverse("login"), {"username": "bob", "password": TEST_PASSWORD})
    assert client.session.session_key != before


@pytest.mark.django_db
def test_password_change_needs_old_password_and_length(client, derm):
    client.force_login(derm)
    url = reverse("password_change")
    bad = client.post(url, {"old_password": "nope", "new_password1": "short", "new_password2": "short"})
    assert bad.status_code == 200
    assert b"Your old password was entered incorrectly" in bad.content
    new = "a long clinic passphrase"
    ok = client.post(url, {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new})
    assert ok.status_code == 302
    derm.refresh_from_db()
    assert derm.check_password(new)


@pytest.mark.django_db
def test_password_change_ends_other_sessions(client, django_user_model):
    from django.test import Client

    user = make_user(username="carol")
    other = Client()
    other.force_login(user)
    client.force_login(user)
    new = "another long passphrase here"
    client.post(reverse("password_change"), {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new})
    assert other.get(reverse("portal:home")).status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200


@pytest.mark.django_db
def test_short_password_is_refused(client, derm):
    client.force_login(derm)
    response = client.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "elevenchars", "new_password2": "elevenchars"},
    )
    assert b"at least 12 characters" in response.content


@pytest.mark.django_db
def test_authenticated_pages_are_not_cached(client, derm):
    client.force_login(derm)
    assert "no-store" in client.get(reverse("portal:home"))["Cache-Control"]
