"""FHIR R4 (README "FHIR R4 export"): the CapabilityStatement and Patient/$everything, read-only, as
``application/fhir+json``. Thin: the caller comes from ``interface_view``, the data from the selectors, the
resources from the pure mapping."""

from __future__ import annotations

import logging
from importlib import metadata

import pydantic
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from interfaces.endpoint import Caller, interface_view, log_request
from interfaces.fhir import mapping, selectors
from interfaces.models import InterfaceRequest
from patients.services import patient_view_record
from portal.env import join_url

logger = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json; charset=utf-8"
FHIR = InterfaceRequest.Interface.FHIR


def _system() -> mapping.System:
    try:
        version = metadata.version("jak-portal")
    except metadata.PackageNotFoundError:
        version = ""
    return mapping.System(base_url=settings.PORTAL_BASE_URL.rstrip("/"), software_version=version)


def fhir_response(resource, status: int = 200) -> HttpResponse:
    response = HttpResponse(resource.model_dump_json(exclude_none=True), content_type=FHIR_JSON, status=status)
    response["Cache-Control"] = "no-store"
    return response


def fhir_error(status: int, reason: str) -> HttpResponse:
    """An OperationOutcome with the HTTP status: what interface_view answers refusals with."""
    return fhir_response(mapping.operation_outcome(status, reason), status)


@login_not_required  # a FHIR client reads the server's capabilities before it authenticates
def metadata_view(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = fhir_error(405, "Use GET.")
        response["Allow"] = "GET"
        return response
    fhir_base = join_url(settings.PORTAL_BASE_URL, reverse("fhir:metadata").removesuffix("/metadata"))
    statement = mapping.capability_statement(_system(), now=timezone.now(), fhir_base=fhir_base)
    return fhir_response(statement)


@interface_view(FHIR, error=fhir_error, allow_session=True, methods=("GET",))
def patient_everything(request: HttpRequest, caller: Caller, public_id: str) -> HttpResponse:
    if caller.user is not None and not caller.user.has_perm("patients.view_patient"):
        log_request(interface=FHIR, caller=caller, outcome=InterfaceRequest.Outcome.DENIED, reason="no permission")
        return fhir_error(403, "Your role cannot read patient records.")
    patient = selectors.patient_for_clinic(caller.clinic, public_id)
    if patient is None:  # unknown and another clinic's patient alike: never confirm that a record exists
        log_request(interface=FHIR, caller=caller, outcome=InterfaceRequest.Outcome.REJECTED, reason="unknown patient")
        return fhir_error(404, "No patient with this id in your clinic.")
    try:
        bundle = mapping.everything_bundle(selectors.everything(patient), _system(), now=timezone.now())
    except pydantic.ValidationError as exc:
        # A stored value FHIR does not accept (a bug in the mapping, or catalogue data it did not expect). The
        # error's text can quote record values, so the log names only where in which resource it failed.
        places = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
        logger.error("FHIR export failed validation: %s at %s", exc.title, ", ".join(places)[:500])
        log_request(interface=FHIR, caller=caller, outcome=InterfaceRequest.Outcome.ERROR, reason="invalid FHIR")
        return fhir_error(500, "This record could not be exported as valid FHIR. The error has been logged.")
    via = "FHIR $everything" + (f" ({caller.token.actor_label})" if caller.token is not None else "")
    patient_view_record(actor=caller.user, patient=patient, via=via)
    log_request(
        interface=FHIR,
        caller=caller,
        outcome=InterfaceRequest.Outcome.ACCEPTED,
        message_id=str(bundle.id),
        reason="Patient/$everything",
    )
    return fhir_response(bundle)


@login_not_required  # it answers only that the address is not served: nothing behind it to protect
def not_supported(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other address under the FHIR base: a FHIR client reads an OperationOutcome, never the portal's HTML page.
    The answer names only what this server offers (the CapabilityStatement lists it), never the address asked."""
    return fhir_error(404, "This FHIR server offers only GET metadata and GET Patient/[id]/$everything.")
