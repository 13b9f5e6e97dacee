"""portal.web: the query-string integer, paging without COUNT(*), and service errors on forms."""

from __future__ import annotations

import pytest
from django import forms

from portal.errors import DomainError
from portal.models import AuditEvent
from portal.web import MAX_QUERY_INT, ListPage, add_service_error, page_of, page_of_ids, query_int


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("42", 42),
        ("007", 7),
        (str(MAX_QUERY_INT), MAX_QUERY_INT),
        (str(MAX_QUERY_INT + 1), None),
        (str(2**70), None),
        ("9" * 5000, None),  # longer than int() accepts: still just ignored
        ("0", None),
        ("-3", None),
        ("+3", None),
        (" 3", None),
        ("3.0", None),
        ("1e3", None),
        ("1_000", None),
        ("٣", None),  # a non-ASCII digit
        ("", None),
        (None, None),
        (5, None),  # only query-string text
    ],
)
def test_query_int(raw, expected):
    assert query_int(raw) == expected


def test_query_int_default():
    assert query_int("abc", 1) == 1
    assert query_int(None, 1) == 1
    assert query_int("2", 1) == 2


def test_list_page_navigation():
    first = ListPage(number=1, rows=[1], has_next=True)
    assert not first.has_previous
    assert first.has_other_pages
    assert first.next_page_number() == 2
    last = ListPage(number=3, rows=[], has_next=False)
    assert last.has_previous
    assert last.previous_page_number() == 2
    assert not ListPage(number=1).has_other_pages


@pytest.mark.django_db
def test_page_of_fetches_one_row_more(django_assert_num_queries):
    AuditEvent.objects.bulk_create([AuditEvent(action=AuditEvent.Action.VIEW, summary=str(i)) for i in range(5)])
    qs = AuditEvent.objects.order_by("id")
    with django_assert_num_queries(1):
        first = page_of(qs, 1, 2)
    assert [e.summary for e in first.rows] == ["0", "1"]
    assert first.has_next
    third = page_of(qs, 3, 2)
    assert [e.summary for e in third.rows] == ["4"]
    assert not third.has_next
    assert third.has_previous
    assert page_of(qs, None, 2).number == 1
    assert page_of(qs, -4, 2).number == 1
    assert page_of(qs, 99, 2).rows == []


class _Form(forms.Form):
    dose = forms.CharField(required=False)


@pytest.mark.django_db
def test_page_of_ids_chooses_the_page_then_reads_its_rows_in_one_query(django_assert_num_queries):
    AuditEvent.objects.bulk_create([AuditEvent(action=AuditEvent.Action.VIEW, summary=str(i)) for i in range(5)])
    ids = AuditEvent.objects.filter(summary__in=["0", "2", "3", "4"]).order_by("-id").values("pk")
    rows = AuditEvent.objects.order_by("-id").values("summary")  # another shape; only the chosen rows are read
    with django_assert_num_queries(1):
        first = page_of_ids(ids, rows, 1, 2)
    assert [r["summary"] for r in first.rows] == ["4", "3"]
    assert first.has_next
    second = page_of_ids(ids, rows, 2, 2)
    assert [r["summary"] for r in second.rows] == ["2", "0"]  # "1" is not in ids
    assert not second.has_next
    assert page_of_ids(ids, rows, None, 2).number == 1
    assert page_of_ids(ids, rows, 9, 2).rows == []


def test_add_service_error_puts_the_message_on_its_field_or_the_form():
    form = _Form({})
    assert form.is_valid()
    add_service_error(form, DomainError("Not a catalogue dose.", "dose"))
    add_service_error(form, DomainError("About a field this form does not have.", "reason"))
    add_service_error(form, DomainError("About the whole form."))
    assert form.errors["dose"] == ["Not a catalogue dose."]
    assert form.non_field_errors() == ["About a field this form does not have.", "About the whole form."]


def test_every_app_error_is_a_domain_error():
    from drugs.services import CatalogueError, DrugInUseError, NothingChangedError
    from drugs.services import StaleEditError as CatalogueStaleError
    from monitoring.services import MonitoringError
    from patients.services import StaleEditError as PatientStaleError
    from portal.errors import StaleEditError
    from therapy.services import StaleEditError as CourseStaleError
    from therapy.services import TherapyError

    for error in (CatalogueError, DrugInUseError, NothingChangedError, MonitoringError, TherapyError):
        assert issubclass(error, DomainError)
    assert PatientStaleError is StaleEditError
    assert issubclass(CatalogueStaleError, CatalogueError)
    assert issubclass(CourseStaleError, TherapyError)
    stale = CourseStaleError(4, "Reload it.")
    assert (stale.current_version, str(stale), stale.field) == (4, "Reload it.", None)
    assert str(StaleEditError(2)) == "The record was changed by someone else."
