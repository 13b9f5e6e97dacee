import pytest
from django.core.exceptions import PermissionDenied
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns

CANARY = "CANARY-Zzyzx-4711"


def boom(request):
    raise RuntimeError(f"internal detail {CANARY}")


def forbidden(request):
    raise PermissionDenied(f"detail {CANARY}")


urlpatterns = [path("boom/", boom), path("forbidden/", forbidden), *portal_urlpatterns]
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"


@pytest.fixture
def error_urls(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False


@pytest.mark.django_db
def test_404_page_leaks_nothing(client, derm, error_urls):
    client.force_login(derm)
    response = client.get("/no-such-page-" + CANARY + "/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert CANARY.encode() not in response.content


@pytest.mark.django_db
def test_403_page_leaks_nothing(client, derm, error_urls):
    client.force_login(derm)
    response = client.get("/forbidden/")
    assert response.status_code == 403
    assert b"You are not allowed" in response.content
    assert CANARY.encode() not in response.content


@pytest.mark.django_db
def test_500_page_leaks_nothing(client, derm, error_urls):
    client.raise_request_exception = False
    client.force_login(derm)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert CANARY not in body
    assert "Traceback" not in body


def db_down(request):
    from django.db import OperationalError

    raise OperationalError(f"connection refused {CANARY}")


@pytest.fixture
def db_down_urls(settings):
    settings.ROOT_URLCONF = "tests.portal.db_down_urls"
    settings.DEBUG = False


@pytest.mark.django_db
def test_lost_database_is_a_503_with_retry_after_not_a_500(client, derm, db_down_urls):
    client.raise_request_exception = False
    client.force_login(derm)
    response = client.get("/db-down/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "back in a moment" in body
    assert "nothing was saved" in body
    assert CANARY not in body
    assert "Traceback" not in body


@pytest.mark.django_db
def test_other_errors_stay_500_through_the_portal_handler(client, derm, db_down_urls):
    client.raise_request_exception = False
    client.force_login(derm)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert CANARY not in response.content.decode()
