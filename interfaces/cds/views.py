"""CDS Hooks 2.0: the discovery document and the JAK safety-check service (README "CDS Hooks safety check")."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from interfaces.cds.hooks import ORDER_SELECT, ORDER_SIGN, RequestError, parse_request
from interfaces.cds.jwt_auth import cds_jwt_caller
from interfaces.cds.prefetch import PrefetchError
from interfaces.cds.selectors import hook_cards
from interfaces.endpoint import Caller, interface_view, log_request
from interfaces.models import InterfaceRequest

SERVICE_ID = "jak-safety-check"
SELECT_SERVICE_ID = "jak-safety-check-select"
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "medications": "MedicationStatement?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&code="
    "http://loinc.org|72166-2,http://loinc.org|777-3,http://loinc.org|751-8,http://loinc.org|731-0,"
    "http://loinc.org|718-7,http://loinc.org|98979-8,http://loinc.org|2160-0,http://loinc.org|1742-6,"
    "http://loinc.org|1920-8,http://loinc.org|71773-6,http://loinc.org|5196-1,http://loinc.org|16933-4,"
    "http://loinc.org|13955-0",
}
DESCRIPTION = (
    "Checks a draft order for a JAK inhibitor against the portal's drug catalogue (label contraindications, "
    "boxed warnings, interactions, dose rules, baseline labs and screening) with the same engine as the portal's "
    "start-therapy check. One card per finding; what the prefetch does not say is stated in an info card."
)
# One service per hook, as the spec has it (a service answers one hook), both running the same check.
SERVICES = {
    SERVICE_ID: ORDER_SIGN,
    SELECT_SERVICE_ID: ORDER_SELECT,
}


def _error(status: int, reason: str) -> HttpResponse:
    return JsonResponse({"error": reason}, status=status)


@login_not_required
@require_GET
def discovery(request: HttpRequest) -> HttpResponse:
    """The services, their hooks and prefetch templates. Public: it holds no patient data, and an EHR reads it
    when it is configured, before it has credentials."""
    services = [
        {
            "hook": hook,
            "id": service_id,
            "title": "JAK inhibitor safety check" + (" (order select)" if hook == ORDER_SELECT else ""),
            "description": DESCRIPTION,
            "prefetch": PREFETCH,
        }
        for service_id, hook in SERVICES.items()
    ]
    return JsonResponse({"services": services})


@interface_view(InterfaceRequest.Interface.CDS, error=_error, authenticate=cds_jwt_caller)
def service(request: HttpRequest, caller: Caller, service_id: str) -> HttpResponse:
    """A hook call: the cards for its draft orders, or 400 with what is wrong in the request."""
    if service_id not in SERVICES:
        return _error(404, f"No CDS service {service_id!r}; see GET /cds-services.")
    size = len(request.body)
    content_type = (request.content_type or "").lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        # CDS Hooks requests are JSON (spec: "Content-Type: application/json"); a form post or XML is refused
        # before anything reads it, and the answer says what to send.
        log_request(
            interface=InterfaceRequest.Interface.CDS,
            caller=caller,
            outcome=InterfaceRequest.Outcome.REJECTED,
            reason=f"content type {content_type[:60] or 'missing'}",
            size=size,
        )
        return _error(415, "Send the request as Content-Type: application/json.")
    body = None
    try:
        body = json.loads(request.body)
        hook_request = parse_request(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RequestError) as exc:
        # A JSON error's message names a position, never the content; a RequestError names the field only.
        reason = str(exc) if isinstance(exc, RequestError) else "The body is not JSON (UTF-8)."
        message_id = body.get("hookInstance", "") if isinstance(body, dict) else ""
        log_request(
            interface=InterfaceRequest.Interface.CDS,
            caller=caller,
            outcome=InterfaceRequest.Outcome.REJECTED,
            message_id=message_id if isinstance(message_id, str) else "",
            reason=reason,
            size=size,
        )
        return _error(400, reason)
    try:
        cards = hook_cards(hook_request, today=timezone.localdate())
    except PrefetchError as exc:  # the adapter refuses what it cannot read (a partial birth date)
        log_request(
            interface=InterfaceRequest.Interface.CDS,
            caller=caller,
            outcome=InterfaceRequest.Outcome.REJECTED,
            message_id=hook_request.hook_instance,
            reason=str(exc),
            size=size,
        )
        return _error(400, str(exc))
    log_request(
        interface=InterfaceRequest.Interface.CDS,
        caller=caller,
        outcome=InterfaceRequest.Outcome.ACCEPTED,
        message_id=hook_request.hook_instance,
        reason=f"{hook_request.hook}: {len(cards)} cards",
        size=size,
    )
    return JsonResponse({"cards": cards})
