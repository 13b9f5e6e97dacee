"""Therapy pages: start a course with the safety check, act on a course (dose, interrupt, resume, stop), and print
its patient handout and GP letter."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST, require_safe

from drugs.selectors import drug_label
from patients.selectors import get_patient_for_request
from portal import idempotency, pdf
from portal.clinics import unit_system_of
from portal.web import add_service_error
from therapy import letters, selectors, services
from therapy.findings import Finding
from therapy.forms import DoseChangeForm, InterruptForm, ResumeForm, StartTherapyForm, StopForm
from therapy.render import form_html, schedule_rows
from therapy.safety import DOSE_CHANGE, RESUME, Severity

ADD = "therapy.add_treatmentcourse"
CHANGE = "therapy.change_treatmentcourse"
VIEW = "therapy.view_treatmentcourse"


def _findings_view(findings, acks=None, flag_missing=False):
    """Findings for the page, with each warning's acknowledgement field name and what was typed in it."""
    acks = acks or {}
    rows = []
    for f in findings:
        rows.append(
            {
                "finding": f,
                "severity_label": Severity(f.severity).name.replace("_", " ").capitalize(),
                "severity_class": f"sev-{Severity(f.severity).name.lower()}",
                "ack_name": f"ack-{f.code}" if f.severity == Severity.WARNING else "",
                "ack_value": acks.get(f.code, ""),
                "ack_missing": flag_missing and f.severity == Severity.WARNING and not acks.get(f.code, "").strip(),
            }
        )
    return rows


@permission_required(ADD, raise_exception=True)
def course_start(request, public_id):
    patient = get_patient_for_request(request, public_id)
    form = StartTherapyForm(request.POST or None, patient=patient)
    context: dict[str, Any] = {"patient": patient, "form": form, "findings": None, "error": ""}
    findings: list[Finding] = []
    acks: dict[str, str] = {}
    try:
        # The safety-check POSTs carry the form token too; only the "start" POST claims it, so a resent start
        # (a double click, a reload) answers with the course the first one started.
        with idempotency.guard(request, scope=f"courses:{patient.public_id}") as submission:
            if request.method == "POST" and not submission.earlier and form.is_valid():
                plan = form.plan()
                findings, version = services.safety_preview(patient=patient, plan=plan)
                acks = {
                    f.code: request.POST.get(f"ack-{f.code}", "") for f in findings if f.severity == Severity.WARNING
                }
                override = request.POST.get("override_reason", "")
                context.update(
                    findings=_findings_view(findings, acks),
                    catalogue_version=version,
                    blocking=any(f.blocks_start for f in findings),
                    needs_ack=any(f.severity == Severity.WARNING for f in findings),
                    acks=acks,
                    override_reason=override,
                    shown_codes=",".join(sorted(f.code for f in findings)),
                    plan=plan,
                )
                if request.POST.get("action") == "start" and not submission.claim():
                    shown = set(filter(None, request.POST.get("shown_codes", "").split(",")))
                    course = services.course_start(
                        actor=request.user,
                        patient=patient,
                        plan=plan,
                        acknowledgements=acks,
                        override_reason=override,
                        shown_codes=shown,
                    )
                    messages.success(request, f"{course} started. The monitoring schedule below was generated.")
                    return redirect(submission.complete(course.get_absolute_url()))
    except services.TherapyError as exc:
        context["error"] = str(exc)
        context["error_field"] = exc.field
        context["findings"] = _findings_view(findings, acks, flag_missing=exc.field == "ack")
    if submission.earlier:
        messages.info(request, "This form was already sent; the course was started once.")
        return redirect(submission.earlier)
    context["idempotency_key"] = idempotency.form_key(request)
    return render(request, "therapy/course_start.html", context)


def _course_context(request, course, **bound):
    full_label = drug_label(course.drug)
    label = full_label.for_jurisdiction(course.jurisdiction)
    options = services.dose_options(course.patient, course.drug, on=timezone.localdate(), label=full_label)
    analytes = sorted({(t.analyte, t.analyte_name) for t in label.thresholds if t.phase == "on_treatment"})
    context = selectors.course_page(course)
    can_change = request.user.has_perm(CHANGE) and bool(course.allowed_actions)
    # Only the forms the page shows are made, with their markup (therapy.render.form_html: kept per form state).
    makers = {
        "dose_form": (course.can_change_dose, lambda: DoseChangeForm(course=course, options=options)),
        "interrupt_form": (course.can_interrupt, lambda: InterruptForm(course=course, analytes=analytes)),
        "resume_form": (course.can_resume, lambda: ResumeForm(course=course)),
        "stop_form": (course.can_stop, lambda: StopForm(course=course)),
    }
    forms = {key: bound.get(key) or make() for key, (shown, make) in makers.items() if can_change and shown}
    context.update(forms, can_change=can_change, dose_options=options, analytes=analytes)
    context.update({f"{key}_html": form_html(form) for key, form in forms.items()})
    context["schedule_rows"] = schedule_rows(context["schedule"])
    return context


@permission_required(VIEW, raise_exception=True)
@require_safe  # a read page: a POST is refused (405)
def course_detail(request, public_id):
    course = selectors.get_course_for_request(request, public_id)
    return render(request, "therapy/course_detail.html", _course_context(request, course))


@permission_required(VIEW, raise_exception=True)
@require_GET
def course_handout(request, public_id):
    """The patient's own printable handout for the course (a read of their record: audited)."""
    course = selectors.get_course_for_request(request, public_id)
    context = selectors.course_handout(course, today=timezone.localdate())
    context["can_set_clinic"] = request.user.has_perm("portal.change_clinic")
    return render(request, "therapy/course_handout.html", context)


def _letter_context(request, course) -> dict[str, Any]:
    context = selectors.course_letter(course, today=timezone.localdate(), unit_system=unit_system_of(request.user))
    context["can_set_clinic"] = request.user.has_perm("portal.change_clinic")
    context["pdf_unavailable"] = pdf.unavailable()  # the reason, shown beside Print, or ""
    return context


@permission_required(VIEW, raise_exception=True)
@require_GET
def course_letter(request, public_id):
    """The printable letter to the patient's GP about the course (a read of their record: audited)."""
    course = selectors.get_course_for_request(request, public_id)
    return render(request, "therapy/course_letter.html", _letter_context(request, course))


@permission_required(VIEW, raise_exception=True)
@require_GET
def course_letter_pdf(request, public_id):
    """The GP letter as an A4 PDF made on the server, as a download (audited like the page: a read of the record).
    Where WeasyPrint cannot load, a 503 page says why and points back to the letter to print: never a 500."""
    reason = pdf.unavailable()
    if reason:  # nothing of the record is shown, so nothing is audited; another clinic's course is still a 404
        course = selectors.get_course_for_request(request, public_id, shows_record=False)
        return _pdf_unavailable(request, course, reason)
    course = selectors.get_course_for_request(request, public_id)
    context = _letter_context(request, course)
    try:
        body = pdf.render(render_to_string("therapy/course_letter_pdf.html", context, request=request))
    except pdf.PdfUnavailable as exc:
        return _pdf_unavailable(request, course, str(exc))
    response = HttpResponse(body, content_type="application/pdf")
    filename = letters.letter_filename(course.patient.record_number, context["today"])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _pdf_unavailable(request, course, reason: str):
    context = {"reason": reason, "letter_url": reverse("therapy:gp_letter", args=[course.public_id])}
    return render(request, "therapy/pdf_unavailable.html", context, status=503)


def _act(request, public_id, form_class, form_key, run, success):
    course = selectors.get_course_for_request(request, public_id)
    extra: dict[str, Any] = {}
    if form_class is InterruptForm:
        label = drug_label(course.drug).for_jurisdiction(course.jurisdiction)
        extra["analytes"] = sorted({(t.analyte, t.analyte_name) for t in label.thresholds if t.phase == "on_treatment"})
    form = form_class(request.POST, course=course, **extra)
    if form.is_valid():
        try:
            run(course, form.cleaned_data)
        except services.TherapyError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, success)
            return redirect(course.get_absolute_url())
    context = _course_context(request, course, **{form_key: form})
    return render(request, "therapy/course_detail.html", context, status=200)


CHECKED_ACTIONS = {
    # form key: (form, safety-check purpose, what the check is for, confirm button)
    "dose": (DoseChangeForm, DOSE_CHANGE, "the new dose", "Change the dose"),
    "resume": (ResumeForm, RESUME, "resuming", "Resume the course"),
}


def _checked_act(request, public_id, key, run, success):
    """A course action the safety check runs for: the first POST checks; when the check found something to answer
    (a warning or a block) the page shows it with the form kept, and the confirm POST carries the answers."""
    course = selectors.get_course_for_request(request, public_id)
    form_class, purpose, what, confirm = CHECKED_ACTIONS[key]
    extra = (
        {"options": services.dose_options(course.patient, course.drug, on=timezone.localdate())}
        if key == "dose"
        else {}
    )
    form = form_class(request.POST, course=course, **extra)
    review = None
    if form.is_valid():
        data = form.cleaned_data
        dose = data["dose"] if key == "dose" else course.dose
        plan = services.course_plan(course, dose=dose, on=data["on"])
        if data.get("frequency"):
            plan = replace(plan, frequency=data["frequency"])
        findings, version = services.safety_preview(patient=course.patient, plan=plan, course=course, purpose=purpose)
        acks = {f.code: request.POST.get(f"ack-{f.code}", "") for f in findings if f.severity == Severity.WARNING}
        override = request.POST.get("override_reason", "")
        to_answer = any(f.severity >= Severity.WARNING for f in findings)
        review = {
            "what": f"{course.drug} {dose.normalize():f} {course.dose_unit}" if dose is not None else what,
            "findings": _findings_view(findings, acks),
            "catalogue_version": version,
            "blocking": any(f.blocks_start for f in findings),
            "override_reason": override,
            "shown_codes": ",".join(sorted(f.code for f in findings)),
            "dose_unit": course.dose_unit,
            "confirm": confirm,
            "cancel_url": course.get_absolute_url(),
            "clean_text": "No findings.",
            "blocked_text": f"at least one finding says not to go ahead. To {confirm.lower()} anyway, record why; the "
            "override is kept with the change.",
        }
        if request.POST.get("action") == "confirm" or not to_answer:
            shown = set(filter(None, request.POST.get("shown_codes", "").split(","))) if to_answer else None
            try:
                run(course, data, acknowledgements=acks, override_reason=override, shown_codes=shown)
            except services.TherapyError as exc:
                if exc.field in ("ack", "override_reason"):
                    review.update(error=str(exc), error_field=exc.field)
                    review["findings"] = _findings_view(findings, acks, flag_missing=exc.field == "ack")
                else:
                    add_service_error(form, exc)
                    review = None
            else:
                messages.success(request, success)
                return redirect(course.get_absolute_url())
    context = _course_context(request, course, **{f"{key}_form": form})
    context[f"{key}_review"] = review
    return render(request, "therapy/course_detail.html", context, status=200)


@require_POST
@permission_required(CHANGE, raise_exception=True)
def course_dose(request, public_id):
    def run(course, data, **answers):
        services.course_change_dose(
            actor=request.user,
            course=course,
            dose=data["dose"],
            frequency=data.get("frequency", ""),
            on=data["on"],
            reason=data["reason"],
            row_version=data["row_version"],
            **answers,
        )

    return _checked_act(
        request, public_id, "dose", run, "Dose changed after the safety check; the schedule was updated."
    )


@require_POST
@permission_required(CHANGE, raise_exception=True)
def course_interrupt(request, public_id):
    def run(course, data):
        services.course_interrupt(
            actor=request.user,
            course=course,
            on=data["on"],
            reason=data["reason"],
            analyte=data["analyte"],
            row_version=data["row_version"],
        )

    return _act(request, public_id, InterruptForm, "interrupt_form", run, "Course interrupted.")


@require_POST
@permission_required(CHANGE, raise_exception=True)
def course_resume(request, public_id):
    def run(course, data, **answers):
        services.course_resume(
            actor=request.user,
            course=course,
            on=data["on"],
            reason=data["reason"],
            row_version=data["row_version"],
            **answers,
        )

    return _checked_act(request, public_id, "resume", run, "Course resumed after the safety check.")


@require_POST
@permission_required(CHANGE, raise_exception=True)
def course_stop(request, public_id):
    def run(course, data):
        services.course_stop(
            actor=request.user,
            course=course,
            on=data["on"],
            reason=data["reason"],
            note=data["note"],
            row_version=data["row_version"],
        )

    return _act(
        request, public_id, StopForm, "stop_form", run, "Course stopped; checks no longer needed were cancelled."
    )
