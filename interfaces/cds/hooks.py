"""A CDS Hooks 2.0 request read and checked (pure, no Django): the hook, its context and the prefetch, validated
with the ``fhir.resources`` R4B models. Anything malformed raises ``RequestError`` with a message for the EHR's
integrator; the message names the field, never the value sent (it may be patient data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from interfaces.cds.prefetch import Prefetch

ORDER_SELECT = "order-select"
ORDER_SIGN = "order-sign"
HOOKS = (ORDER_SELECT, ORDER_SIGN)
MEDICATION_RESOURCES = ("MedicationStatement", "MedicationRequest", "Medication")  # Medication: _include


class RequestError(ValueError):
    """The request is not a CDS Hooks call this service can read; the message says which part."""


@dataclass(frozen=True)
class HookRequest:
    hook: str
    hook_instance: str
    patient_id: str
    orders: tuple[Any, ...]  # the MedicationRequests to check (order-select: the selected ones)
    other_orders: tuple[Any, ...]  # the other draft MedicationRequests (they will be taken too)
    prefetch: Prefetch


def _resource(data: Any, where: str, types: tuple[str, ...]) -> Any:
    if not isinstance(data, dict) or data.get("resourceType") not in types:
        raise RequestError(f"{where} must be a FHIR resource of type {' or '.join(types)}.")
    try:
        return get_fhir_model_class(data["resourceType"]).model_validate(data)
    except ValidationError as exc:  # before ValueError: pydantic's error is one
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})[:5]
        raise RequestError(f"{where} is not valid FHIR R4 ({data['resourceType']}: {', '.join(fields)}).") from None
    except ValueError:  # an unknown resource type
        raise RequestError(f"{where} is not a FHIR R4 resource type.") from None


def _resources(data: Any, where: str, types: tuple[str, ...] | None) -> list[Any] | None:
    """A prefetch value: a Bundle of resources, or one resource; None (or absent) when the EHR sent none.
    ``types`` None: any resource type (draft orders may hold NutritionOrder, DeviceRequest, …)."""
    if data is None:
        return None
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        bundle = _resource(data, where, ("Bundle",))
        found = [e.resource for e in bundle.entry or [] if e.resource is not None]
        # A searchset may carry an OperationOutcome entry (search warnings): not a clinical resource.
        found = [r for r in found if r.get_resource_type() != "OperationOutcome"]
        wrong = sorted({r.get_resource_type() for r in found} - set(types or ()))
        if types is not None and wrong:
            raise RequestError(f"{where} holds {', '.join(wrong)}; expected {' or '.join(types)}.")
        return found
    if types is None:
        raise RequestError(f"{where} must be a Bundle.")
    return [_resource(data, where, types)]


def _medications_by_reference(*bundles: Any) -> dict[str, Any]:
    """The Medication resources of the draft orders and the medications prefetch (an EHR sends them next to the
    orders that reference them, or includes them in a searchset), keyed as a reference names them: the entry's
    fullUrl and "Medication/<id>"."""
    found: dict[str, Any] = {}
    for bundle in bundles:
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            continue
        for entry in bundle.get("entry") or []:
            data = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(data, dict) or data.get("resourceType") != "Medication":
                continue
            medication = _resource(data, "a Medication of the request", ("Medication",))
            if medication.id:
                found[f"Medication/{medication.id}"] = medication
            if isinstance(entry.get("fullUrl"), str):
                found[entry["fullUrl"]] = medication
    return found


def _prefetched_patient(data: Any) -> Any:
    """prefetch.patient: the Patient resource the template "Patient/{{context.patientId}}" reads. Some EHRs answer
    every prefetch as a searchset Bundle; one holding exactly one Patient is read as that Patient."""
    if isinstance(data, dict) and data.get("resourceType") == "Bundle":
        found = _resources(data, "prefetch.patient", ("Patient",)) or []
        if len(found) != 1:
            raise RequestError(f"prefetch.patient as a Bundle must hold exactly one Patient (it holds {len(found)}).")
        return found[0]
    return _resource(data, "prefetch.patient", ("Patient",))


def _text(body: dict, key: str, where: str = "") -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RequestError(f"{where}{key} is required (a non-empty string).")
    return value.strip()


def parse_request(body: Any) -> HookRequest:
    if not isinstance(body, dict):
        raise RequestError("The body must be a JSON object (a CDS Hooks request).")
    hook = _text(body, "hook")
    if hook not in HOOKS:
        raise RequestError(f"hook must be one of {', '.join(HOOKS)}.")
    hook_instance = _text(body, "hookInstance")
    context = body.get("context")
    if not isinstance(context, dict):
        raise RequestError("context is required (an object).")
    patient_id = _text(context, "patientId", "context.")
    orders = _resources(context.get("draftOrders"), "context.draftOrders", None)
    if orders is None:
        raise RequestError("context.draftOrders is required (a Bundle of the draft orders).")
    medication_orders = [o for o in orders if o.get_resource_type() == "MedicationRequest"]
    if hook == ORDER_SELECT:
        selections = context.get("selections")
        if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections) or not selections:
            raise RequestError("context.selections is required for order-select (a list of 'Type/id').")
        chosen = [o for o in medication_orders if f"MedicationRequest/{o.id}" in selections]
    else:
        chosen = medication_orders
    others = tuple(o for o in medication_orders if all(o is not c for c in chosen))
    prefetch = body.get("prefetch")
    if prefetch is None:
        prefetch = {}
    if not isinstance(prefetch, dict):
        raise RequestError("prefetch must be an object.")
    if prefetch.get("patient") is None:
        raise RequestError(
            "prefetch.patient is required: this service does not query the EHR's FHIR server "
            "(send the prefetch the discovery document asks for)."
        )
    patient = _prefetched_patient(prefetch["patient"])
    if patient.id and patient.id != patient_id:
        raise RequestError("prefetch.patient is not the patient of context.patientId.")
    return HookRequest(
        hook=hook,
        hook_instance=hook_instance,
        patient_id=patient_id,
        orders=tuple(chosen),
        other_orders=others,
        prefetch=Prefetch(
            patient=patient,
            conditions=_resources(prefetch.get("conditions"), "prefetch.conditions", ("Condition",)),
            medications=[
                m
                for m in _resources(prefetch.get("medications"), "prefetch.medications", MEDICATION_RESOURCES) or []
                if m.get_resource_type() != "Medication"
            ]
            if prefetch.get("medications") is not None
            else None,
            observations=_resources(prefetch.get("observations"), "prefetch.observations", ("Observation",)),
            medication_resources=_medications_by_reference(context.get("draftOrders"), prefetch.get("medications")),
        ),
    )
