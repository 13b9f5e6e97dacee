"""The patient search keeps names and dates of birth out of URLs (issue 18, F7).

The form POSTs; the term stays in the session under an opaque id and the list pages with ``?s=<id>``. An old
``?q=`` address is not searched with. ``tests/security/test_search_access_log.py`` proves it end to end against
gunicorn's access log.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from patients.models import Patient
from patients.selectors import PAGE_SIZE
from tests.factories import CANARY, make_patient

LIST = reverse("patients:list")


@pytest.fixture
def canary(clinic, derm):
    return make_patient(
        clinic=clinic,
        dermatologist=derm,
        given_name=f"{CANARY}Search",
        family_name=f"{CANARY}Family",
        date_of_birth=dt.date(1931, 7, 9),
    )


def _rows(response):
    """The listed patients (the rows hold only what the list shows: found again by record number)."""
    return [Patient.objects.get(record_number=row.record_number) for row in response.context["rows"]]


def test_search_posts_and_redirects_to_an_opaque_id(client_as, derm, canary, clinic):
    make_patient(clinic=clinic, family_name="Otherperson")
    client = client_as(derm)
    response = client.post(LIST, {"q": f"{CANARY}Family", "dermatologist": derm.pk})
    assert response.status_code == 302
    location = response["Location"]
    assert CANARY.lower() not in location.lower()
    assert re.fullmatch(rf"{LIST}\?s=[\w-]{{16}}&dermatologist={derm.pk}", location)
    page = client.get(location)
    assert _rows(page) == [canary]
    body = page.content.decode()
    assert f'value="{CANARY}Family"' in body  # the box shows what was typed
    assert CANARY.lower() not in " ".join(re.findall(r'href="([^"]*)"', body)).lower()


def test_search_by_date_of_birth(client_as, derm, canary):
    client = client_as(derm)
    response = client.post(LIST, {"q": "09/07/1931"})
    assert "1931" not in response["Location"]
    assert _rows(client.get(response["Location"])) == [canary]


def test_search_form_is_a_post_with_csrf(client_as, derm):
    body = client_as(derm).get(LIST).content.decode()
    form = re.search(r"<form[^>]*role=\"search\"[^>]*>", body).group(0)
    assert 'method="post"' in form
    assert "csrfmiddlewaretoken" in body


def test_search_without_csrf_token_is_refused(derm, canary):
    client = Client(enforce_csrf_checks=True)
    client.force_login(derm)
    assert client.post(LIST, {"q": CANARY}).status_code == 403


def test_paging_keeps_the_search(client_as, derm, clinic):
    for i in range(PAGE_SIZE + 3):
        make_patient(clinic=clinic, family_name=f"{CANARY}Many{i:02d}")
    make_patient(clinic=clinic, family_name="Unrelated")
    client = client_as(derm)
    location = client.post(LIST, {"q": f"{CANARY}Many"})["Location"]
    first = client.get(location)
    next_link = re.search(r'href="(\?[^"]*page=2)"', first.content.decode()).group(1).replace("&amp;", "&")
    assert CANARY.lower() not in next_link.lower()
    second = client.get(LIST + next_link)
    assert len(_rows(second)) == 3
    assert all(p.family_name.startswith(f"{CANARY}Many") for p in _rows(second))


def test_old_query_address_is_not_searched_and_not_echoed(client_as, derm, canary):
    client = client_as(derm)
    response = client.get(LIST, {"q": f"{CANARY}Family", "badge": "SMOKER_ANY"})
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?badge=SMOKER_ANY"
    page = client.get(response["Location"])
    assert CANARY not in page.content.decode()
    assert "no longer sent in the page address" in page.content.decode()


def test_another_sessions_search_id_finds_nothing(client_as, derm, nurse, canary, clinic):
    make_patient(clinic=clinic, family_name="Otherperson")
    location = client_as(derm).post(LIST, {"q": f"{CANARY}Family"})["Location"]
    other = Client()
    other.force_login(nurse)
    page = other.get(location)
    assert page.status_code == 200
    assert page.context["search_expired"]
    assert len(_rows(page)) == 2  # the whole list, not the other session's search
    assert f'value="{CANARY}' not in page.content.decode()


@pytest.mark.parametrize("value", ["", "x", "9" * 200, "../../etc", "<script>"])
def test_garbage_search_id_is_a_plain_list(client_as, derm, canary, value):
    page = client_as(derm).get(LIST, {"s": value})
    assert page.status_code == 200
    assert _rows(page) == [canary]


def test_empty_search_goes_back_to_the_list(client_as, derm):
    assert client_as(derm).post(LIST, {"q": "  "})["Location"] == LIST


def test_the_session_keeps_only_recent_searches(client_as, derm, canary):
    from portal import searches

    client = client_as(derm)
    first = client.post(LIST, {"q": f"{CANARY}Family"})["Location"]
    for i in range(searches.KEEP):
        client.post(LIST, {"q": f"term{i}"})
    assert len(client.session[searches.SESSION_KEY]) == searches.KEEP
    assert client.get(first).context["search_expired"]
