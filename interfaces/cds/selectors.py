"""Reads for the CDS Hooks service: the catalogue as the prefetch adapter needs it, and the cards for one call.

Nothing is written: a CDS call checks an EHR's draft order against the portal's catalogue, with the patient as the
EHR describes them; the portal's own records are not read.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings

from drugs.models import LabTest, Medicine
from drugs.selectors import drug_for_order, drug_label
from drugs.services import current_catalogue_version
from interfaces.cds import cards
from interfaces.cds import prefetch as P
from interfaces.cds.codes import RXNORM
from interfaces.cds.hooks import HookRequest
from therapy.safety import check_safety


def cds_catalogue() -> P.CdsCatalogue:
    """The interacting medicines and the lab tests (by LOINC, with their units): four queries."""
    medicines = tuple(
        P.CatalogueMedicine(
            name=m.name,
            synonyms=tuple(s.strip() for s in m.synonyms.split(",") if s.strip()),
            class_codes=frozenset(c.code for c in m.classes.all()),
            dose_class=m.dose_class.code if m.dose_class else "",
            dose_class_above_mg=m.dose_class_above_mg,
        )
        for m in Medicine.objects.select_related("dose_class").prefetch_related("classes")
    )
    tests = {
        t.loinc: P.CatalogueLabTest(
            loinc=t.loinc,
            analyte=t.analyte,
            short_name=t.short_name,
            panel=t.panel,
            coded=t.value_type == LabTest.ValueType.CODED,
            canonical_unit=t.canonical_unit,
            units=tuple(P.CatalogueUnit(u.unit, u.label, u.factor, u.divisor) for u in t.units.all()),
            plausible_min=t.plausible_min,
            plausible_max=t.plausible_max,
            reference_low=t.reference_low,
            reference_high=t.reference_high,
        )
        for t in LabTest.objects.with_unit_labels()
    }
    return P.CdsCatalogue(medicines=medicines, lab_tests=tests)


def _order_dose(order) -> tuple[Decimal | None, str]:
    """The ordered dose in mg and its frequency ("once daily" / "twice daily"), as far as the order states them."""
    for dosage in order.dosageInstruction or []:
        for dose_rate in dosage.doseAndRate or []:
            quantity = dose_rate.doseQuantity
            if quantity is None or quantity.value is None:
                continue
            if (quantity.code or quantity.unit or "").lower() != "mg":
                return None, ""
            repeat = dosage.timing and dosage.timing.repeat
            frequency = ""
            if repeat and repeat.period == 1 and repeat.periodUnit == "d":
                frequency = {1: "once daily", 2: "twice daily"}.get(repeat.frequency or 0, "")
            return Decimal(quantity.value), frequency
    return None, ""


def _ordered_as(order, medications) -> tuple[list[str], list[str]]:
    concept = P.medication_concept(order, medications)
    if concept is None:
        return [], []
    codes = [c.code for c in concept.coding or [] if c.system == RXNORM and c.code]
    return codes, P.medication_texts(order, medications)


def hook_cards(request: HookRequest, *, today: dt.date) -> list[dict]:
    """The cards for one hook call: for each catalogue JAK inhibitor ordered, one card per finding of the portal's
    safety check (``therapy.safety.check_safety``, as the start page runs it), then what the prefetch did not tell.
    When no order is a catalogue JAK inhibitor, one info card says so; when the call holds no medication order
    at all (only other kinds of draft order), there is nothing to check and no card (the spec's empty answer)."""
    if not request.orders:
        return []
    jurisdiction = settings.PORTAL_JURISDICTION
    version = current_catalogue_version()
    label = cards.source_label(version, jurisdiction)
    matched = []
    ordered_names = []
    for order in request.orders:
        codes, names = _ordered_as(order, request.prefetch.medication_resources)
        drug, how = drug_for_order(rxnorm_codes=codes, names=names)
        if drug is None:
            ordered_names.append(names[0] if names else (f"RxNorm {codes[0]}" if codes else "an order without a code"))
            continue
        matched.append((order, drug, how, names))
    if not matched:
        return [cards.not_in_catalogue_card(ordered=ordered_names, label=label)]
    catalogue = cds_catalogue()
    result: list[dict] = []
    for order, drug, how, names in matched:
        # The other orders of the call (the other selected ones too) are medicines the patient is about to take:
        # a second JAK inhibitor or an antiplatelet ordered with this one counts.
        others = (*request.other_orders, *(o for o in request.orders if o is not order))
        mapped = P.map_prefetch(request.prefetch, catalogue, today=today, other_orders=others)
        dose, frequency = _order_dose(order)
        findings = check_safety(
            mapped.facts,
            drug_label(drug),
            dose=dose,
            jurisdiction=jurisdiction,
            catalogue_version=version,
            today=today,
            frequency=frequency if dose is not None else "",
        )
        name = str(drug)
        result += cards.finding_cards(findings, drug_name=name, label=label)
        if how == "name":
            result.append(cards.matched_by_name_card(drug_name=name, ordered_as=", ".join(names[:1]), label=label))
        notes = dict(mapped.notes)
        if dose is None:
            notes[P.MISSING] = (*notes.get(P.MISSING, ()), f"No dose in mg in the {name} order: dose rules not checked")
        result += cards.note_cards(notes, drug_name=name, label=label)
    return result
