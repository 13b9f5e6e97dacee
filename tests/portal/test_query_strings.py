"""Absurd and garbage query strings on every list page: ignored, never an HTTP 500.

Driven by the access matrix: every URL in ``POLICY`` is opened as the first role allowed to see it. A page that
pages (``page_obj`` in its context) or has a GET filter form is a list page; it is then requested with ``?page=``
and with each field of its filter forms set to 2**70 and to garbage. A new list page is covered without
touching this file. (``GET /patients/?page=99999999999999999999`` was an IntegrityError, and
``?dermatologist=99999999999999999999`` an OverflowError, before ``portal.web.query_int``.)
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.security import test_access_matrix as matrix

HUGE = str(2**70)
GARBAGE = ("abc", "-5", "0", "1.5", " 7", "1e9", "9" * 40)
# Pages known to be lists: if the detection below stops seeing one of them, it has gone blind.
KNOWN_LISTS = {"patients:list", "monitoring:worklist", "monitoring:alerts", "portal:audit", "drugs:list"}

matrix_objects = matrix.matrix_objects
role_clients = matrix.role_clients


class _GetFormFields(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.names: list[str] = []
        self._in_get_form = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_get_form = (a.get("method") or "get").lower() == "get"
        elif (
            self._in_get_form
            and tag in ("input", "select", "textarea")
            and a.get("name")
            and (a.get("type") or "").lower() not in ("submit", "button", "image")
            and a["name"] not in self.names
        ):
            self.names.append(a["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_get_form = False


def _filter_fields(html: str) -> list[str]:
    parser = _GetFormFields()
    parser.feed(html)
    return parser.names


def _first_allowed_role(name: str) -> str | None:
    for role, code in zip(matrix.ROLES, matrix.POLICY[name], strict=True):
        if role != "anonymous" and code == 200:
            return role
    return None


VISIBLE = sorted(n for n in matrix.POLICY if _first_allowed_role(n) and not n.startswith("admin:"))


def test_known_list_pages_are_in_the_walk():
    assert set(matrix.url_names()) >= KNOWN_LISTS
    assert set(VISIBLE) >= KNOWN_LISTS


@pytest.mark.django_db
@pytest.mark.parametrize("name", VISIBLE)
def test_list_page_ignores_absurd_and_garbage_numbers(name, request):
    objects = request.getfixturevalue("matrix_objects")
    client = request.getfixturevalue("role_clients")[_first_allowed_role(name)]
    path = matrix._path(name, matrix.url_names()[name], objects)
    plain = client.get(path)
    assert plain.status_code == 200, (name, plain.status_code)
    fields = _filter_fields(plain.content.decode())
    paged = plain.context is not None and "page_obj" in plain.context
    if not (paged or fields):
        assert name not in KNOWN_LISTS, f"{name} no longer looks like a list page: the detection is blind"
        pytest.skip("not a list page")
    names = ["page", *(f for f in fields if f != "page")]
    for field in names:
        for value in (HUGE, *GARBAGE):
            response = client.get(path, {field: value})
            assert response.status_code == 200, (name, field, value, response.status_code)
    response = client.get(path, dict.fromkeys(names, HUGE))
    assert response.status_code == 200, (name, "all fields", response.status_code)
