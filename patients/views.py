"""Patient pages. Each view declares its permission, finds the patient through ``get_patient_for_request`` (404 for
other clinics; the page view is audited there), reads through ``patients.selectors`` and writes through
``patients.services``."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Field, Model
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_POST

from drugs.models import Drug
from patients import panels, risk, selectors, services
from patients import render as render_rows
from patients.forms import (
    AssessmentForm,
    MedicineForm,
    MedicineStopForm,
    PatientForm,
    RiskProfileForm,
    ScreeningResultForm,
)
from patients.models import Patient, RiskProfile
from patients.render_list import options_html, patient_rows_html
from patients.selectors import get_patient_for_request
from portal import idempotency, searches
from portal.models import User, staff_name
from portal.web import query_int, require_get_post

STALE_MESSAGE = (
    "Not saved: someone else changed this record while you were editing it. Your entries are kept below. "
    "Check them against the current record, then save again to replace it with your version."
)


def _abilities(user) -> dict[str, bool]:
    return {
        "edit": user.has_perm("patients.change_patient"),
        "edit_risk": user.has_perm("patients.change_riskprofile"),
        "add_medicine": user.has_perm("patients.add_concomitantmedicine"),
        "stop_medicine": user.has_perm("patients.change_concomitantmedicine"),
        "add_screening": user.has_perm("patients.add_screeningresult"),
        "add_assessment": user.has_perm("patients.add_assessment"),
        "add_patient": user.has_perm("patients.add_patient"),
    }


def _stale(form, form_class, instance: Model, current_version: int, **kwargs):
    """Re-show the user's input against the current record, with the current version to save over it."""
    data = form.data.copy()
    data["row_version"] = str(current_version)
    fresh = form_class(data, instance=instance, **kwargs)
    fresh.is_valid()
    fresh.add_error(None, STALE_MESSAGE)
    return fresh


def _changed_since(form, current: Model, fields: tuple[str, ...]) -> list[dict]:
    rows = []
    for name in fields:
        if name in form.cleaned_data and services._plain(form.cleaned_data[name]) != services._plain(
            getattr(current, name)
        ):
            field = cast(Field, current._meta.get_field(name))  # a concrete field of the form
            shown = getattr(current, f"get_{name}_display")() if field.choices else getattr(current, name)
            rows.append({"label": field.verbose_name, "current": shown})
    return rows


SEARCH_SCOPE = "patients:list"
OLD_QUERY_MESSAGE = (
    "Searches are no longer sent in the page address, where they would reach server logs. Type your search again."
)


def _list_filters(data) -> dict[str, str]:
    """The list's filters that name no patient (ids and codes): these may stay in the address."""
    dermatologist_id = query_int(data.get("dermatologist"))
    found = {
        "dermatologist": str(dermatologist_id or ""),
        "badge": data.get("badge", "")[:40],
        "drug": data.get("drug", "")[:60],
    }
    return {k: v for k, v in found.items() if v}


def _list_url(query: dict[str, str]) -> str:
    return reverse("patients:list") + (f"?{urlencode(query)}" if query else "")


@permission_required("patients.view_patient", raise_exception=True)
@require_get_post
def patient_list(request):
    """The search term (a name, record number or date of birth) is POSTed and kept in the session: the address
    carries only an opaque search id (``?s=``), never the term (see ``portal.searches``)."""
    user = request.user
    if request.method == "POST":
        filters = _list_filters(request.POST)
        term = request.POST.get("q", "").strip()[: searches.MAX_TERM]
        if term:
            filters = {"s": searches.remember(request, SEARCH_SCOPE, term), **filters}
        return redirect(_list_url(filters))
    filters = _list_filters(request.GET)
    if "q" in request.GET:  # an old bookmark or link: the term is in the logs already; do not search with it
        messages.info(request, OLD_QUERY_MESSAGE)
        return redirect(_list_url(filters))
    search_id = request.GET.get("s", "")
    text = searches.recall(request, SEARCH_SCOPE, search_id) if search_id else None
    if text:
        filters = {"s": search_id, **filters}
    page = selectors.patient_list_page(
        user=user,
        today=timezone.localdate(),
        text=text or "",
        dermatologist_id=query_int(filters.get("dermatologist")),
        badge=filters.get("badge", ""),
        drug=filters.get("drug", ""),
        page=query_int(request.GET.get("page"), 1),
    )
    dermatologists = list(
        User.objects.dermatologists_of(user.clinic_id).values_list("pk", "first_name", "last_name", "username")
    )
    return render(
        request,
        "patients/patient_list.html",
        {
            "page_obj": page,
            "rows": page.rows,
            "rows_html": patient_rows_html(page.rows),
            "q": text or "",
            "search_expired": bool(search_id) and text is None,
            "dermatologist_options": options_html(
                ((pk, staff_name(first, last, username)) for pk, first, last, username in dermatologists),
                query_int(filters.get("dermatologist")),
            ),
            "badge_options": options_html(risk.BADGE_LABELS.items(), filters.get("badge", "")),
            "drug_options": options_html(
                (
                    (slug, capfirst(name))
                    for slug, name in Drug.objects.order_by("generic_name").values_list("slug", "generic_name")
                ),
                filters.get("drug", ""),
            ),
            "page_query": urlencode(filters) + "&" if filters else "",
            "filtered": bool(filters),
            # the one ability the list shows (all seven cost 7 permission checks per request, half the page's)
            "can": {"add_patient": user.has_perm("patients.add_patient")},
            "no_clinic": user.clinic_id is None,
        },
    )


@permission_required("patients.add_patient", raise_exception=True)
@require_get_post
def patient_create(request):
    user = request.user
    if user.clinic_id is None:
        raise PermissionDenied("Your account is not linked to a clinic.")
    form = PatientForm(request.POST or None, instance=Patient(clinic_id=user.clinic_id), clinic=user.clinic_id)
    try:
        with idempotency.guard(request, scope="patients:create") as submission:
            if request.method == "POST" and not submission.earlier and form.is_valid() and not submission.claim():
                data = {name: form.cleaned_data[name] for name in services.PATIENT_FIELDS}
                patient = services.patient_create(actor=user, clinic=user.clinic, data=data)
                messages.success(request, "Patient registered. Next: record the risk profile.")
                return redirect(submission.complete(reverse("patients:risk", kwargs={"public_id": patient.public_id})))
    except ValidationError as exc:
        form.add_error(None, exc)
    if submission.earlier:
        # Sent before, or the first of two simultaneous submissions finished while this one was validated (so
        # its record number now "exists"): answer like the first one instead of showing that error.
        messages.info(request, "This form was already sent; the patient was registered once.")
        return redirect(submission.earlier)
    context = {
        "form": form,
        "title": "Register a patient",
        "patient": None,
        "idempotency_key": idempotency.form_key(request),
    }
    return render(request, "patients/patient_form.html", context)


@permission_required("patients.view_patient", raise_exception=True)
@require_GET
def patient_detail(request, public_id):
    user = request.user
    patient = get_patient_for_request(request, public_id)
    context = selectors.patient_detail(
        patient, today=timezone.localdate(), with_history=user.has_perm("patients.view_patient_history")
    )
    events = selectors.patient_timeline(patient, user, newest=selectors.TIMELINE_ON_PAGE + 1)  # +1: the "more" link
    context.update(
        patient=patient,
        can=_abilities(user),
        timeline_rows=render_rows.timeline_rows(events[: selectors.TIMELINE_ON_PAGE]),
        timeline_more=len(events) > selectors.TIMELINE_ON_PAGE,
    )
    panel_templates, panel_context = panels.panels_for(patient, user)
    context.update(panel_context, panels=panel_templates)
    context.update(
        assessment_rows=render_rows.assessment_rows(context["assessments"]),
        checklist_rows=render_rows.checklist_rows(context["checklist"]),
        history_rows=render_rows.history_rows(context["history"] or ()),
    )
    return render(request, "patients/patient_detail.html", context)


@permission_required("patients.view_patient", raise_exception=True)
@require_GET
def patient_timeline(request, public_id):
    """Every clinical event of the patient, newest first, a page at a time."""
    patient = get_patient_for_request(request, public_id)
    page = selectors.timeline_page(patient, request.user, query_int(request.GET.get("page"), 1))
    context = {"patient": patient, "page_obj": page, "timeline_rows": render_rows.timeline_rows(page.rows)}
    return render(request, "patients/timeline.html", context)


@permission_required("patients.change_patient", raise_exception=True)
@require_get_post
def patient_edit(request, public_id):
    user = request.user
    patient = get_patient_for_request(request, public_id)
    form = PatientForm(request.POST or None, instance=patient, clinic=patient.clinic_id)
    changed = []
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.PATIENT_FIELDS}
        try:
            services.patient_update(
                actor=user, patient=patient, data=data, row_version=form.cleaned_data["row_version"]
            )
        except services.StaleEditError as exc:
            current = get_patient_for_request(request, public_id)
            changed = _changed_since(form, current, services.PATIENT_FIELDS)
            form = _stale(form, PatientForm, current, exc.current_version, clinic=patient.clinic_id)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Demographics and eczema history saved.")
            return redirect(patient)
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "title": "Demographics and eczema history", "patient": patient, "changed": changed},
    )


@permission_required("patients.change_riskprofile", raise_exception=True)
@require_get_post
def risk_profile_edit(request, public_id):
    user = request.user
    patient = get_patient_for_request(request, public_id)
    profile = selectors.patient_risk_profile(patient)
    form = RiskProfileForm(request.POST or None, instance=profile)
    changed = []
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in services.RISK_FIELDS}
        try:
            services.risk_profile_update(
                actor=user, patient=patient, data=data, row_version=form.cleaned_data["row_version"]
            )
        except services.StaleEditError as exc:
            current = RiskProfile.objects.select_related("patient").get(patient=patient)
            changed = _changed_since(form, current, services.RISK_FIELDS)
            form = _stale(form, RiskProfileForm, current, exc.current_version)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Risk profile saved.")
            return redirect(patient)
    return render(
        request,
        "patients/patient_form.html",
        {
            "form": form,
            "title": "Risk profile",
            "patient": patient,
            "changed": changed,
            "note": risk.LOCAL_DEFINITION_NOTE,
        },
    )


@permission_required("patients.view_concomitantmedicine", raise_exception=True)
@require_get_post
def medicines(request, public_id):
    user = request.user
    patient = get_patient_for_request(request, public_id)
    if request.method == "POST" and not user.has_perm("patients.add_concomitantmedicine"):
        raise PermissionDenied
    form = MedicineForm(request.POST or None)

    def save() -> str:
        services.medicine_add(actor=user, patient=patient, **form.cleaned_data)
        messages.success(request, "Medicine added.")
        return reverse("patients:medicines", kwargs={"public_id": patient.public_id})

    answer = idempotency.submit_once(
        request,
        form,
        scope=f"medicines:{patient.public_id}",
        save=save,
        again="This form was already sent; the medicine was added once.",
    )
    if answer is not None:
        return answer
    return render(
        request,
        "patients/medicines.html",
        {
            "patient": patient,
            "medicines": selectors.patient_medicines(patient),
            "form": form,
            "stop_form": MedicineStopForm(initial={"stopped_on": timezone.localdate()}),
            "can": _abilities(user),
            "idempotency_key": idempotency.form_key(request),
        },
    )


@permission_required("patients.change_concomitantmedicine", raise_exception=True)
@require_POST
def medicine_stop(request, public_id, pk):
    user = request.user
    patient = get_patient_for_request(request, public_id)
    entry = get_object_or_404(patient.medicines, pk=pk)
    form = MedicineStopForm(request.POST)
    if form.is_valid():
        try:
            services.medicine_stop(actor=user, entry=entry, stopped_on=form.cleaned_data["stopped_on"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Medicine marked as stopped.")
    else:
        messages.error(request, "Enter the date the medicine was stopped (not in the future).")
    return redirect("patients:medicines", public_id=patient.public_id)


@permission_required("patients.add_screeningresult", raise_exception=True)
@require_get_post
def screening_record(request, public_id):
    user = request.user
    patient = get_patient_for_request(request, public_id)
    form = ScreeningResultForm(request.POST or None, initial={"item": request.GET.get("item", "")})

    def save() -> str:
        services.screening_result_record(actor=user, patient=patient, **form.cleaned_data)
        messages.success(request, "Screening result recorded.")
        return patient.get_absolute_url()

    answer = idempotency.submit_once(
        request,
        form,
        scope=f"screening:{patient.public_id}",
        save=save,
        again="This form was already sent; the screening result was recorded once.",
    )
    if answer is not None:
        return answer
    return render(
        request,
        "patients/patient_form.html",
        {
            "form": form,
            "title": "Record a screening result",
            "patient": patient,
            "idempotency_key": idempotency.form_key(request),
        },
    )


@permission_required("patients.add_assessment", raise_exception=True)
@require_get_post
def assessment_create(request, public_id):
    user = request.user
    patient = get_patient_for_request(request, public_id)
    form = AssessmentForm(request.POST or None, initial={"assessed_on": timezone.localdate()}, patient=patient)

    def save() -> str:
        data = dict(form.cleaned_data)
        services.assessment_record(actor=user, patient=patient, assessed_on=data.pop("assessed_on"), data=data)
        messages.success(request, "Assessment recorded.")
        return reverse("patients:detail", args=[patient.public_id]) + "#scores"

    answer = idempotency.submit_once(
        request,
        form,
        scope=f"assessments:{patient.public_id}",
        save=save,
        again="This form was already sent; the assessment was recorded once.",
    )
    if answer is not None:
        return answer
    return render(
        request,
        "patients/patient_form.html",
        {
            "form": form,
            "title": "New severity assessment",
            "patient": patient,
            "idempotency_key": idempotency.form_key(request),
        },
    )
