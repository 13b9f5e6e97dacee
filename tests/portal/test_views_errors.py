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
