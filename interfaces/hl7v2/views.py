"""The HL7 v2 lab feed (POST /interfaces/hl7v2/oru, answered with an ACK) and the interface inbox pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from interfaces.endpoint import interface_view
from interfaces.hl7v2 import message as er7
from interfaces.hl7v2 import selectors as sel
from interfaces.hl7v2 import services as svc
from interfaces.hl7v2.forms import AssignForm, RejectForm
from interfaces.models import InboxMessage
from monitoring.models import Alert
from monitoring.selectors import alerts_raised
from portal import idempotency
from portal.web import add_service_error, query_int, require_get_post

CONTENT_TYPE = "x-application/hl7-v2+er7; charset=utf-8"
# Handling the inbox is entering lab results: the lab form's permission (dermatologists and nurses).
HANDLE = "patients.add_labresult"


def _ack_error(status: int, reason: str) -> HttpResponse:
    """Refusals before the message is read (token, size, rate, method): an AR ACK on a stub header."""
    return HttpResponse(er7.build_ack("", "AR", text=reason), status=status, content_type=CONTENT_TYPE)


def _decode(body: bytes) -> str | None:
    """ER7 over HTTP: UTF-8 (the usual), else Latin-1 / Windows-1252 as older lab systems send."""
    for encoding in ("utf-8", "cp1252"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _tell_alerts(request, results) -> None:
    """The alerts the assigned results raised, told as after the lab form (monitoring.selectors.alerts_raised)."""
    notices = alerts_raised(lab_results=results)
    for notice in notices.shown:
        level = messages.ERROR if notice.severity == Alert.Severity.URGENT else messages.WARNING
        messages.add_message(request, level, notice.text)
    if notices.more:
        messages.info(request, f"{notices.more} more alert(s) raised: see the clinic's alerts.")


@interface_view("hl7v2", error=_ack_error)
def oru(request, caller):
    """One ORU^R01 in the body; the answer is its ACK (200 for AA, AE and AR alike: the ACK says which)."""
    assert caller.token is not None  # noqa: S101  no session access: a lab authenticates with its token
    text = _decode(request.body)
    if text is None:
        text = ""  # parsed as empty: AR "must start with MSH"
    _outcome, ack = svc.receive(token=caller.token, raw=text, size=len(request.body))
    return HttpResponse(ack, content_type=CONTENT_TYPE)


@permission_required(HANDLE, raise_exception=True)
@require_http_methods(["GET"])
def inbox(request):
    status = request.GET.get("status", InboxMessage.Status.OPEN)
    page = sel.inbox_page(request.user, status=status, page=query_int(request.GET.get("page")))
    return render(
        request,
        "interfaces/inbox.html",
        {
            "page": page,
            "status": status if status in sel.STATUSES else InboxMessage.Status.OPEN,
            "statuses": InboxMessage.Status.choices,
        },
    )


@permission_required(HANDLE, raise_exception=True)
@require_get_post
def inbox_message(request, public_id):
    held = sel.get_inbox_message_for_request(request, public_id)
    action = request.POST.get("action") if request.method == "POST" else None
    assign_form = AssignForm(
        request.POST if action == "assign" else None, patients=sel.assignable_patients(request.user)
    )
    reject_form = RejectForm(request.POST if action == "reject" else None)
    form = assign_form if action == "assign" else reject_form
    try:
        with idempotency.guard(request, scope=f"inbox:{held.public_id}") as submission:
            if action in ("assign", "reject") and not submission.earlier and form.is_valid() and not submission.claim():
                if action == "assign":
                    outcome = svc.inbox_assign(actor=request.user, held=held, patient=form.cleaned_data["patient"])
                    messages.success(
                        request, f"Assigned to {form.cleaned_data['patient'].record_number}: {outcome.text}."
                    )
                    _tell_alerts(request, outcome.results)
                else:
                    svc.inbox_reject(actor=request.user, held=held, reason=form.cleaned_data["reason"])
                    messages.success(request, "Message rejected.")
                return redirect(submission.complete(reverse("hl7v2:inbox_message", args=[held.public_id])))
    except svc.InboxError as exc:
        if exc.field:
            add_service_error(form, exc)
        else:  # about the message, not a field (already handled, the results refused): above both forms
            messages.error(request, str(exc))
        held = sel.get_inbox_message_for_user(request.user, public_id)  # as it is now
    if submission.earlier:
        messages.info(request, "This was already sent; it was done once.")
        return redirect(submission.earlier)
    if request.method == "POST" and action not in ("assign", "reject"):
        messages.error(request, "Choose assign or reject.")
    return render(
        request,
        "interfaces/inbox_message.html",
        {
            "held": held,
            "segments": held.raw.split("\r"),
            "assign_form": assign_form,
            "reject_form": reject_form,
            "idempotency_key": idempotency.form_key(request),
        },
    )
