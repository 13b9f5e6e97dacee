"""Absurd and garbage query strings on every list page: ignored, never an HTTP 500.

Driven by the access matrix: every URL in ``POLICY`` is opened as the first role allowed to see it. A page that
pages (``page_obj`` in its context) or has a GET filter form is a list page; it is then requested with ``?page=``
and with each field of its filter forms set to 2**70 and to garbage. A new list page is covered without
touching this file. (``GET /patients/?page=99999999999999999999`` was an IntegrityError, and
``?dermatologist=99999999999999999999`` an OverflowError, before ``portal.web.query_int``.)

Then, property-based (Hypothesis, issue 18): each list page gets arbitrary query strings, built from the keys the
views read (``grep request.GET``), the page's own filter fields and random keys, with values from arbitrary text
(NUL, Unicode, markup), huge integers, dates and very long strings, repeated keys and raw, badly escaped query
strings. The answer is never a 500 (the test client re-raises the view's exception) and never shows a traceback:
200, 302, 400 (a NUL, refused by portal.input_guard) or 404 only.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    if not plain["Content-Type"].startswith("text/html"):
        pytest.skip("not an HTML page (a download)")
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


# --- Property-based: arbitrary query strings ------------------------------------------------------------------------

# What the views read from request.GET (grep "request.GET"), with ``s`` (the patient search's kept-search id) and
# ``sort``; each page's own filter fields are added to these.
QUERY_KEYS = [
    "page", "q", "s", "sort", "drug", "dermatologist", "status", "badge", "check", "window", "scope", "route", "j",
    "panel", "item", "next", "actor", "action", "object_type", "object_id", "date_from", "date_to",
]  # fmt: skip
ALLOWED = {200, 302, 400, 404}
NASTY = ["", " ", "0", "-1", "1e309", "NaN", "inf", "\x00", "%00", "null", "[]", "' OR 1=1 --", "<script>", "\u202e"]
QUERY_FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=60),  # any code point but surrogates, NUL included
        st.integers(min_value=-(2**200), max_value=2**200).map(str),
        st.sampled_from(NASTY),
        st.dates().map(str),
        st.text(min_size=1, max_size=3).map(lambda chunk: chunk * 3000),  # very long
    )


def _query(keys: list[str]) -> st.SearchStrategy[dict[str, list[str]]]:
    key = st.one_of(st.sampled_from(keys), st.text(max_size=20))
    return st.dictionaries(key, st.lists(_values(), min_size=1, max_size=3), max_size=6)


RAW = st.one_of(
    st.text(alphabet="%&=;+?#/ aZ09\x00\xff", max_size=40),
    st.lists(st.sampled_from(["%", "%Z", "%ff", "%c3%28", "%00", "&", "=", "page=", "q=%", ";", "+"]), max_size=10).map(
        "".join
    ),
)


def _list_page(name: str, request):
    objects = request.getfixturevalue("matrix_objects")
    client = request.getfixturevalue("role_clients")[_first_allowed_role(name)]
    path = matrix._path(name, matrix.url_names()[name], objects)
    plain = client.get(path)
    assert plain.status_code == 200, (name, plain.status_code)
    if not plain["Content-Type"].startswith("text/html"):
        pytest.skip("not an HTML page (a download)")
    fields = _filter_fields(plain.content.decode())
    if plain.context is None or ("page_obj" not in plain.context and not fields):
        pytest.skip("not a list page")
    return client, path, fields


def _check(name: str, response, query) -> None:
    assert response.status_code in ALLOWED, (name, query, response.status_code)
    body = response.content.decode("utf-8", "replace")
    assert "Traceback" not in body, (name, query)
    assert "Exception Value" not in body, (name, query)


@pytest.mark.django_db
@pytest.mark.parametrize("name", VISIBLE)
def test_list_page_survives_arbitrary_query_strings(name, request):
    client, path, fields = _list_page(name, request)

    @QUERY_FUZZ
    @given(query=_query(sorted({*QUERY_KEYS, *fields})), raw=st.one_of(st.none(), RAW))
    def fuzz(query, raw):
        response = client.get(f"{path}?{raw}") if raw is not None else client.get(path, query)
        _check(name, response, raw if raw is not None else query)

    fuzz()
