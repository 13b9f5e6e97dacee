"""Monitoring pages: the worklist, lab entry (form and CSV), symptom checks, checks done, and the alert inbox.

Each view declares its permission, finds the patient through ``get_patient_for_request`` (404 for other clinics;
the page view is audited there), reads through ``selectors_monitoring`` and writes through ``services_monitoring``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from drugs.models import LabTest
from drugs.selectors import drug_label
from monitoring import lab_csv
from monitoring import render_worklist as render_rows
from monitoring import selectors as sel
from monitoring import services as svc
from monitoring.forms import (
    AlertAckForm,
    DoseAckForm,
    InterruptAckForm,
    ItemDoneForm,
    LabCsvForm,
    LabPanelForm,
    RecallForm,
    ResumeAckForm,
    StopAckForm,
    SymptomCheckForm,
)
from monitoring.models import Alert, RecallContact
from monitoring.render_alerts import alert_items_html
from patients.selectors import get_patient_for_request
from portal import csv_export, idempotency
from portal.clinics import unit_system_of
from portal.web import add_service_error, query_int, require_get_post
from therapy import services as therapy_services
from therapy.models import TreatmentCourse
from therapy.schedule import check_name

VIEW_ITEMS = "therapy.view_scheduleditem"
CHANGE_ITEMS = "therapy.change_scheduleditem"
ADD_RESULTS = "patients.add_labresult"
ADD_SYMPTOMS = "monitoring.add_symptomcheck"
VIEW_ALERTS = "monitoring.view_alert"
CHANGE_ALERTS = "monitoring.change_alert"
CHANGE_COURSE = "therapy.change_treatmentcourse"
ADD_RECALLS = "monitoring.add_recallcontact"


def _worklist_filters(request) -> dict[str, Any]:
    """The worklist's filters from the query string (the page, its bulk actions and its export read the same)."""
    window = request.GET.get("window", "")
    check_type = request.GET.get("check", "")
    return {
        "window": window if window in sel.WINDOWS else "",
        "dermatologist_id": query_int(request.GET.get("dermatologist")),
        "drug_id": query_int(request.GET.get("drug")),
        "check_type": check_type if check_type in sel.CHECK_NAMES else "",
    }


def _worklist_query(request, *, keep_page: bool = False) -> str:
    query = request.GET.copy()
    if not keep_page:
        query.pop("page", None)
    return query.urlencode()


@permission_required(VIEW_ITEMS, raise_exception=True)
@require_http_methods(["GET"])
def worklist(request):
    today = timezone.localdate()
    filters = _worklist_filters(request)
    checks = sel.clinic_checks(request.user) if request.user.clinic_id is not None else None
    page = sel.worklist_page(
        user=request.user, today=today, page=query_int(request.GET.get("page"), 1), checks=checks, **filters
    )
    query = _worklist_query(request)
    return render(
        request,
        "monitoring/worklist.html",
        {
            "page": page,
            "page_obj": page,
            "page_query": f"{query}&" if query else "",
            "filter_query": query,
            "page_and_filter_query": _worklist_query(request, keep_page=True),
            "filters": filters,
            "choices": sel.worklist_filters(request.user),
            "today": today,
            "counts": sel.worklist_counts(request.user, today, checks),
            "worklist_groups": render_rows.worklist_groups(
                page.groups,  # type: ignore[attr-defined]  # set by worklist_page
                can_contact=request.user.has_perm(ADD_RECALLS),
            ),
            "recall_kinds": RecallContact.Kind.choices,
            "idempotency_key": idempotency.form_key(request),
        },
    )


RECALL_VERBS = {RecallContact.Kind.RECALLED: "marked recalled", RecallContact.Kind.LETTER: "marked letter sent"}


@require_POST
@permission_required(VIEW_ITEMS, raise_exception=True)
@permission_required(ADD_RECALLS, raise_exception=True)
def worklist_contacts(request):
    """Bulk "Mark recalled" / "Letter sent" on the ticked checks and patients, then back to the same worklist page.

    The filters come in the query string, as on the page: a ticked patient stands for the checks of theirs that
    the worklist lists with those filters. Other clinics' and closed checks are left out, with a message."""
    back = reverse("monitoring:worklist")
    if query := _worklist_query(request, keep_page=True):
        back = f"{back}?{query}"
    form = RecallForm(request.POST)
    try:
        with idempotency.guard(request, scope="worklist:contacts") as submission:
            if not submission.earlier and form.is_valid() and not submission.claim():
                item_ids = set(form.item_ids)
                if form.patient_ids:
                    item_ids |= sel.worklist_item_ids(
                        user=request.user,
                        today=timezone.localdate(),
                        patient_ids=form.patient_ids,
                        **_worklist_filters(request),
                    )
                outcome = svc.recall_contacts_record(
                    actor=request.user,
                    item_ids=item_ids,
                    kind=form.cleaned_data["kind"],
                    contacted_on=form.cleaned_data["contacted_on"],
                )
                done = len(outcome.recorded)
                verb = RECALL_VERBS[form.cleaned_data["kind"]]
                messages.success(request, f"{done} check{'' if done == 1 else 's'} {verb}.")
                if outcome.ignored:
                    messages.warning(
                        request,
                        f"{outcome.ignored} selected check(s) left out: no longer open, or not your clinic's.",
                    )
                return redirect(submission.complete(back))
    except svc.MonitoringError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    if submission.earlier:
        messages.info(request, "This was already sent; the contacts were recorded once.")
        return redirect(submission.earlier)
    for errors in form.errors.values():
        messages.error(request, " ".join(str(e) for e in errors))
    return redirect(back)


@permission_required(VIEW_ITEMS, raise_exception=True)
@require_http_methods(["GET"])
def worklist_export(request):
    """The filtered worklist, every page, as CSV (comma or semicolon as the clinic's unit system has it); audited."""
    filters = _worklist_filters(request)
    today = timezone.localdate()
    rows = list(sel.worklist_export_rows(user=request.user, today=today, **filters))
    svc.worklist_export_record(actor=request.user, filters=filters, rows=len(rows))
    delimiter = csv_export.delimiter_for(unit_system_of(request.user))
    # A byte-order mark first: Excel then reads the file as UTF-8 (names with accents).
    body = "\ufeff" + "".join(csv_export.csv_lines(sel.EXPORT_COLUMNS, rows, delimiter=delimiter))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="worklist-{today.isoformat()}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _panel(request) -> str:
    panel = request.GET.get("panel") or request.POST.get("panel") or LabTest.Panel.CBC
    return panel if panel in LabTest.Panel.values else LabTest.Panel.CBC


@permission_required(ADD_RESULTS, raise_exception=True)
@require_get_post
def lab_entry(request, public_id):
    patient = get_patient_for_request(request, public_id)
    panel = _panel(request)
    tests = sel.panel_tests(panel)
    form = LabPanelForm(request.POST or None, patient=patient, tests=tests, unit_system=unit_system_of(request.user))
    try:
        with idempotency.guard(request, scope=f"labs:{patient.public_id}") as submission:
            if request.method == "POST" and not submission.earlier and form.is_valid() and not submission.claim():
                recorded = svc.lab_results_record(actor=request.user, rows=form.result_rows)
                if not recorded.results:  # the guard releases the claim: nothing was written
                    raise svc.MonitoringError(ALREADY_RECORDED_FORM)
                messages.success(request, f"{len(recorded.results)} result(s) saved and interpreted.")
                if recorded.already_recorded:
                    names = ", ".join(row.lab_test.short_name for row in recorded.already_recorded)
                    messages.info(request, f"Already recorded, not saved again: {names} ({ALREADY_RECORDED_WHY}).")
                _tell_alerts(request, sel.alerts_raised(lab_results=recorded.results))
                saved_url = reverse("monitoring:lab_saved", args=[patient.public_id]) + f"?panel={panel}"
                return redirect(submission.complete(saved_url))
    except svc.MonitoringError as exc:
        add_service_error(form, exc)
    if submission.earlier:
        messages.info(request, "This form was already sent; the results were saved once.")
        return redirect(submission.earlier)
    return render(
        request,
        "monitoring/lab_entry.html",
        {
            "patient": patient,
            "form": form,
            "panel": panel,
            "panel_label": LabTest.Panel(panel).label,
            "panels": LabTest.Panel.choices,
            "idempotency_key": idempotency.form_key(request),
        },
    )


NOTICE_LEVEL: dict[int, int] = {Alert.Severity.URGENT: messages.ERROR, Alert.Severity.SAME_DAY: messages.WARNING}


def _tell_alerts(request, notices: sel.AlertNotices) -> None:
    """One message per alert just raised: whom it went to, how urgent, what to do (emergency advice first)."""
    for notice in notices.shown:
        messages.add_message(request, NOTICE_LEVEL.get(notice.severity, messages.INFO), notice.text)
    if notices.more:
        messages.info(request, f"{notices.more} more alert(s) raised: see the clinic's alerts.")


@permission_required(ADD_RESULTS, raise_exception=True)
@require_http_methods(["GET"])
def lab_saved(request, public_id):
    """The results just saved, with their interpretation (what the server concluded)."""
    patient = get_patient_for_request(request, public_id)
    system = unit_system_of(request.user)
    results = sel.latest_saved_results(patient)
    for result in results:
        result.shown = result.display_text(system)  # type: ignore[attr-defined]  # for the template
    return render(request, "monitoring/lab_saved.html", {"patient": patient, "results": results, "unit_system": system})


ALREADY_RECORDED_WHY = "same patient, test, collection date and value"
ALREADY_RECORDED_FORM = f"These results are already recorded ({ALREADY_RECORDED_WHY}): nothing was saved again."


def _already_recorded_text(rows: list[int], shown: int = 20) -> str:
    listed = ", ".join(str(n) for n in rows[:shown]) + (f" and {len(rows) - shown} more" if len(rows) > shown else "")
    return f"{len(rows)} row(s) already recorded ({ALREADY_RECORDED_WHY}), not imported again: row(s) {listed}."


@permission_required(ADD_RESULTS, raise_exception=True)
@require_get_post
def lab_upload(request):
    form = LabCsvForm(request.POST or None, request.FILES or None)
    report = None
    try:
        with idempotency.guard(request, scope="labs:upload") as submission:
            if request.method == "POST" and not submission.earlier and form.is_valid():
                if request.user.clinic_id is None:
                    raise PermissionDenied
                raw = lab_csv.read_upload(form.cleaned_data["file"])
                parsed = lab_csv.parse_csv(raw, clinic_id=request.user.clinic_id)
                if parsed.fatal:
                    form.add_error("file", parsed.fatal)
                elif parsed.errors:
                    report = parsed.errors
                    form.add_error(
                        "file",
                        f"Nothing was imported: {len(parsed.errors)} problem(s) below. Fix them and upload again.",
                    )
                elif not submission.claim():
                    already = list(parsed.already_recorded)
                    results: list = []
                    if parsed.rows:
                        recorded = svc.lab_results_record(actor=request.user, rows=parsed.rows, origin="csv")
                        results = recorded.results
                        already += [row.source_row for row in recorded.already_recorded]
                    messages.success(request, f"Imported {len(results)} result(s); each was interpreted.")
                    if already:
                        messages.info(request, _already_recorded_text(sorted(already)))
                    _tell_alerts(request, sel.alerts_raised(lab_results=results))
                    return redirect(submission.complete(reverse("monitoring:lab_upload")))
    except svc.MonitoringError as exc:
        add_service_error(form, exc)
    if submission.earlier:
        messages.info(request, "This file was already sent; its results were imported once.")
        return redirect(submission.earlier)
    context = {
        "form": form,
        "report": report,
        "columns": lab_csv.COLUMNS,
        "idempotency_key": idempotency.form_key(request),
    }
    return render(request, "monitoring/lab_upload.html", context)


@permission_required(ADD_SYMPTOMS, raise_exception=True)
@require_get_post
def symptom_check(request, public_id):
    patient = get_patient_for_request(request, public_id)
    form = SymptomCheckForm(request.POST or None, patient=patient)
    try:
        with idempotency.guard(request, scope=f"symptoms:{patient.public_id}") as submission:
            if request.method == "POST" and not submission.earlier and form.is_valid() and not submission.claim():
                data = form.cleaned_data
                _check, alert = svc.symptom_check_record(
                    actor=request.user,
                    patient=patient,
                    checked_on=data["checked_on"],
                    symptoms=data["symptoms"],
                    none_reported=data["none_reported"],
                    note=data["note"],
                )
                if alert is None:
                    messages.success(request, "Check recorded: no warning signs reported.")
                else:
                    messages.success(request, "Check recorded.")
                    _tell_alerts(request, sel.alerts_raised(alert_ids=[alert.pk]))
                return redirect(submission.complete(patient.get_absolute_url()))
    except svc.MonitoringError as exc:
        add_service_error(form, exc)
    if submission.earlier:
        messages.info(request, "This form was already sent; the check was recorded once.")
        return redirect(submission.earlier)
    context = {"patient": patient, "form": form, "idempotency_key": idempotency.form_key(request)}
    return render(request, "monitoring/symptom_check.html", context)


@permission_required(CHANGE_ITEMS, raise_exception=True)
@require_get_post
def item_done(request, public_id):
    item, patient = sel.get_item_for_request(request, public_id)
    form = ItemDoneForm(request.POST or None, patient=patient)
    # A lab, screening or warning-sign check is completed by its result: the page says where to enter it.
    result_url, result_label = (None, "") if item.check_type in svc.DONE_BY_HAND_CHECK_TYPES else sel.action_url(item)
    if request.method == "POST" and form.is_valid():
        try:
            svc.scheduled_item_done(
                actor=request.user, item=item, done_on=form.cleaned_data["done_on"], note=form.cleaned_data["note"]
            )
        except svc.MonitoringError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{check_name(item.check_type)} recorded as done.")
            return redirect("monitoring:worklist")
    return render(
        request,
        "monitoring/item_done.html",
        {
            "item": item,
            "patient": patient,
            "form": form,
            "check": check_name(item.check_type),
            "result_url": result_url,
            "result_label": result_label,
        },
    )


# --- Alerts ---------------------------------------------------------------------------------------------------------


@permission_required(VIEW_ALERTS, raise_exception=True)
@require_http_methods(["GET"])
def alert_inbox(request):
    # "Mine" is the prescriber's list; a nurse (no acknowledging) follows the whole clinic's alerts.
    can_act = request.user.has_perm(CHANGE_ALERTS)
    scope = "clinic" if request.GET.get("scope") == "clinic" or not can_act else "mine"
    status = "acknowledged" if request.GET.get("status") == "acknowledged" else "open"
    page = sel.alert_inbox(user=request.user, scope=scope, status=status, page=query_int(request.GET.get("page"), 1))
    return render(
        request,
        "monitoring/alert_inbox.html",
        {
            "page": page,
            "page_obj": page,
            "scope": scope,
            "status": status,
            "can_act": can_act,
            "page_query": f"scope={scope}&status={status}&",
            "items_html": alert_items_html(page.rows, scope=scope),
        },
    )


ACT_FORMS = {"stop": StopAckForm, "interrupt": InterruptAckForm, "resume": ResumeAckForm, "dose": DoseAckForm}


def _form_options(course: TreatmentCourse) -> dict:
    label = drug_label(course.drug).for_jurisdiction(course.jurisdiction)
    options = therapy_services.dose_options(course.patient, course.drug, on=timezone.localdate())
    analytes = sorted({(t.analyte, t.analyte_name) for t in label.thresholds if t.phase == "on_treatment"})
    return {"dose": {"options": options}, "interrupt": {"analytes": analytes}}


def _act_forms(alert: Alert, bound: dict | None = None) -> dict:
    course = alert.course
    if course is None or not course.allowed_actions or alert.status != Alert.Status.OPEN:
        return {}
    extra = _form_options(course)
    doses = extra["dose"]["options"]
    wanted = [a for a in course.allowed_actions if a != TreatmentCourse.DOSE or doses]
    forms = {}
    for key in wanted:
        if bound and key in bound:
            forms[key] = bound[key]
            continue
        form = ACT_FORMS[key](course=course, prefix=key, **extra.get(key, {}))
        if key == "interrupt" and alert.lab_result is not None:
            form.initial["analyte"] = alert.lab_result.lab_test.analyte
        if key == "stop" and alert.kind == Alert.Kind.LAB_ACTION:
            form.initial["reason"] = TreatmentCourse.StopReason.LAB_ACTION_LEVEL
        forms[key] = form
    return forms


def _alert_page(request, alert, ack_form=None, bound=None, status=200):
    can_act = request.user.has_perm(CHANGE_ALERTS)
    result = alert.lab_result
    context = {
        "alert": alert,
        "result_shown": result.display_text(unit_system_of(request.user)) if result is not None else "",
        "ack_form": ack_form or AlertAckForm(),
        "act_forms": _act_forms(alert, bound) if can_act and request.user.has_perm(CHANGE_COURSE) else {},
        "can_ack": can_act and alert.status == Alert.Status.OPEN,
        "can_act": can_act,
        "sent_to": sel.recipient_text(alert),
        "emergency": sel.is_emergency(alert) and alert.status == Alert.Status.OPEN,
    }
    return render(request, "monitoring/alert_detail.html", context, status=status)


@permission_required(VIEW_ALERTS, raise_exception=True)
@require_http_methods(["GET"])
def alert_detail(request, public_id):
    alert = sel.get_alert_for_request(request, public_id)
    return _alert_page(request, alert)


@require_POST
@permission_required(CHANGE_ALERTS, raise_exception=True)
def alert_acknowledge(request, public_id):
    alert = sel.get_alert_for_user(request.user, public_id)
    form = AlertAckForm(request.POST)
    if form.is_valid():
        try:
            svc.alert_acknowledge(actor=request.user, alert=alert, comment=form.cleaned_data["comment"])
        except svc.MonitoringError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, "Alert acknowledged.")
            return redirect("monitoring:alerts")
    return _alert_page(request, alert, ack_form=form)


@require_POST
@permission_required(CHANGE_ALERTS, raise_exception=True)
@permission_required(CHANGE_COURSE, raise_exception=True)
def alert_act(request, public_id, action):
    alert = sel.get_alert_for_user(request.user, public_id)
    if action not in ACT_FORMS or alert.course is None:
        raise Http404
    forms = _act_forms(alert)
    if action not in forms:
        messages.error(request, "That action is not possible for this course now.")
        return redirect(alert)
    course = alert.course
    form_class = ACT_FORMS[action]
    form = form_class(request.POST, course=course, prefix=action, **_form_options(course).get(action, {}))
    if form.is_valid():
        data = form.cleaned_data
        try:
            svc.alert_act(actor=request.user, alert=alert, action=action, data=data, comment=data["comment"])
        except svc.MonitoringError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"{course} updated and the alert acknowledged.")
            return redirect("monitoring:alerts")
    return _alert_page(request, alert, bound={action: form})


# --- The cumulative results table and one test's full history -------------------------------------------------------

VIEW_RESULTS = "patients.view_labresult"


@permission_required(VIEW_RESULTS, raise_exception=True)
@require_http_methods(["GET"])
def results_table(request, public_id):
    """Tests by collection dates, newest first, 12 dates a page; printable (A4 landscape)."""
    patient = get_patient_for_request(request, public_id)
    table = sel.results_table(patient, request.user, page=query_int(request.GET.get("page"), 1))
    return render(request, "monitoring/results_table.html", {"patient": patient, **table, "page_obj": table["page"]})


@permission_required(VIEW_RESULTS, raise_exception=True)
@require_http_methods(["GET"])
def lab_history(request, public_id, analyte):
    """Every result of one test for the patient, newest first, 50 a page."""
    test = sel.get_lab_test(analyte)  # an unknown test is a 404 before the patient's record is read (and audited)
    patient = get_patient_for_request(request, public_id)
    history = sel.lab_history(patient, test, request.user, page=query_int(request.GET.get("page"), 1))
    return render(request, "monitoring/lab_history.html", {"patient": patient, **history, "page_obj": history["page"]})
