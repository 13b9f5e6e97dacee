"""Therapy pages: start a course with the safety check, and act on a course (dose, interrupt, resume, stop)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from drugs.selectors import drug_label
from patients.selectors import get_patient_for_user
from therapy import selectors, services
from therapy.forms import DoseChangeForm, InterruptForm, ResumeForm, StartTherapyForm, StopForm
from therapy.models import TreatmentCourse
from therapy.safety import Severity

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
    patient = get_patient_for_user(request.user, public_id)
    form = StartTherapyForm(request.POST or None, patient=patient)
    context = {"patient": patient, "form": form, "findings": None, "error": ""}
    if request.method == "POST" and form.is_valid():
        plan = form.plan()
        findings, version = services.safety_preview(patient=patient, plan=plan)
        acks = {f.code: request.POST.get(f"ack-{f.code}", "") for f in findings if f.severity == Severity.WARNING}
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
        if request.POST.get("action") == "start":
            shown = set(filter(None, request.POST.get("shown_codes", "").split(",")))
            try:
                course = services.course_start(
                    actor=request.user,
                    patient=patient,
                    plan=plan,
                    acknowledgements=acks,
                    override_reason=override,
                    shown_codes=shown,
                )
            except services.TherapyError as exc:
                context["error"] = str(exc)
                context["error_field"] = exc.field
                context["findings"] = _findings_view(findings, acks, flag_missing=exc.field == "ack")
            else:
                messages.success(request, f"{course} started. The monitoring schedule below was generated.")
                return redirect(course.get_absolute_url())
    return render(request, "therapy/course_start.html", context)


def _course_context(request, course, **bound):
    label = drug_label(course.drug).for_jurisdiction(course.jurisdiction)
    doses = sorted(label.regimen_doses(course.jurisdiction))
    analytes = sorted({(t.analyte, t.analyte_name) for t in label.thresholds if t.phase == "on_treatment"})
    context = selectors.course_page(course)
    context.update(
        can_change=request.user.has_perm(CHANGE) and course.status != TreatmentCourse.Status.STOPPED,
        dose_form=bound.get("dose_form") or DoseChangeForm(course=course, doses=doses),
        interrupt_form=bound.get("interrupt_form") or InterruptForm(course=course, analytes=analytes),
        resume_form=bound.get("resume_form") or ResumeForm(course=course),
        stop_form=bound.get("stop_form") or StopForm(course=course),
        doses=doses,
        analytes=analytes,
    )
    return context


@permission_required(VIEW, raise_exception=True)
def course_detail(request, public_id):
    course = selectors.get_course_for_user(request.user, public_id)
    return render(request, "therapy/course_detail.html", _course_context(request, course))


def _act(request, public_id, form_class, form_key, run, success):
    course = selectors.get_course_for_user(request.user, public_id)
    extra: dict[str, Any] = {}
    if form_class is DoseChangeForm:
        label = drug_label(course.drug).for_jurisdiction(course.jurisdiction)
        extra["doses"] = sorted(label.regimen_doses(course.jurisdiction))
    if form_class is InterruptForm:
        label = drug_label(course.drug).for_jurisdiction(course.jurisdiction)
        extra["analytes"] = sorted({(t.analyte, t.analyte_name) for t in label.thresholds if t.phase == "on_treatment"})
    form = form_class(request.POST, course=course, **extra)
    if form.is_valid():
        try:
            run(course, form.cleaned_data)
        except services.TherapyError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, success)
            return redirect(course.get_absolute_url())
    context = _course_context(request, course, **{form_key: form})
    return render(request, "therapy/course_detail.html", context, status=200)


@require_POST
@permission_required(CHANGE, raise_exception=True)
def course_dose(request, public_id):
    def run(course, data):
        services.course_change_dose(
            actor=request.user,
            course=course,
            dose=data["dose"],
            on=data["on"],
            reason=data["reason"],
            row_version=data["row_version"],
        )

    return _act(request, public_id, DoseChangeForm, "dose_form", run, "Dose changed; the schedule was updated.")


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
    def run(course, data):
        services.course_resume(
            actor=request.user, course=course, on=data["on"], reason=data["reason"], row_version=data["row_version"]
        )

    return _act(request, public_id, ResumeForm, "resume_form", run, "Course resumed.")


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
