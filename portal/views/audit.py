"""The audit trail page for superusers: who viewed or changed which record, when, and what changed."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import user_passes_test
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from portal.audit import describe_events
from portal.models import AuditEvent
from portal.web import page_of, query_int

PAGE_SIZE = 50
MAX_PAGE = 10_000  # deeper pages would make the database skip millions of rows; filter instead


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="Username", required=False, max_length=150)
    action = forms.ChoiceField(label="Action", required=False, choices=[("", "Any"), *AuditEvent.Action.choices])
    object_type = forms.CharField(label="Record type", required=False, max_length=100)
    object_id = forms.CharField(label="Record id", required=False, max_length=64)
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events(filters: dict) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if filters.get("actor"):
        qs = qs.filter(actor_username__iexact=filters["actor"].strip())
    if filters.get("action"):
        qs = qs.filter(action=filters["action"])
    if filters.get("object_type"):
        qs = qs.filter(object_type__iexact=filters["object_type"].strip())
    if filters.get("object_id"):
        qs = qs.filter(object_id=filters["object_id"].strip())
    if filters.get("date_from"):
        qs = qs.filter(at__gte=_day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(at__lt=_day_start(filters["date_to"] + dt.timedelta(days=1)))
    return qs.order_by("-at", "-id")


def _superuser(user) -> bool:
    if not (user.is_active and user.is_superuser):
        raise PermissionDenied("Superusers only.")
    return True


@user_passes_test(_superuser)
@require_GET
def audit_list(request):
    """Newest first, PAGE_SIZE a page; paging fetches one extra row instead of counting the whole table."""
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    page = page_of(audit_events(filters), min(query_int(request.GET.get("page"), 1), MAX_PAGE), PAGE_SIZE)
    query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    return render(
        request,
        "portal/audit_list.html",
        {
            "form": form,
            "events": describe_events(page.rows),
            "page_obj": page,
            "query": query + "&" if query else "",
            "filtered": bool(filters),
        },
    )
