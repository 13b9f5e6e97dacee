"""Reads for the interface inbox pages: the clinic's held lab messages, a fixed number of queries per page."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from interfaces.models import InboxMessage
from patients.models import Patient
from patients.selectors import record_patient_view
from portal.models import User
from portal.web import ListPage, page_of

PAGE_SIZE = 50
STATUSES = tuple(InboxMessage.Status.values)


def inbox_queryset(user: User) -> QuerySet[InboxMessage]:
    if user.clinic_id is None:
        return InboxMessage.objects.none()
    return InboxMessage.objects.filter(clinic_id=user.clinic_id).select_related("patient", "handled_by")


def inbox_page(user: User, *, status: str, page: int | None) -> ListPage:
    """One page of the clinic's messages with this status, newest first: one query (plus none per row)."""
    status = status if status in STATUSES else InboxMessage.Status.OPEN
    rows = inbox_queryset(user).filter(status=status).defer("raw").order_by("-received_at", "-id")
    return page_of(rows, page, PAGE_SIZE)


def get_inbox_message_for_user(user: User, public_id) -> InboxMessage:
    """The message of the user's clinic (404 for any other clinic's, as for a patient)."""
    held = inbox_queryset(user).filter(public_id=public_id).first()
    if held is None:
        raise Http404("No such message.")
    return held


def get_inbox_message_for_request(request, public_id) -> InboxMessage:
    """The message a page shows (404 outside the user's clinic); once assigned it shows its patient, whose view is
    audited like any patient page's."""
    held = get_inbox_message_for_user(request.user, public_id)
    if held.patient is not None:
        record_patient_view(request, held.patient)
    return held


def assignable_patients(user: User) -> QuerySet[Patient]:
    """The patients a held message can be assigned to: the user's clinic's, by record number."""
    if user.clinic_id is None:
        return Patient.objects.none()
    return Patient.objects.filter(clinic_id=user.clinic_id).order_by("record_number")
