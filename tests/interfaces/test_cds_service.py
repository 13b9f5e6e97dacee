"""CDS Hooks: the JAK safety-check service answers an EHR's draft order with the portal's own findings as cards."""

import copy
import json

import pytest
from django.core.management import call_command

from interfaces import tokens
from interfaces.models import InterfaceRequest
from tests.factories import CANARY
from tests.interfaces.cds_helpers import born_years_ago, by_code, fixture, info_without_topic, post, smoker_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db):
    call_command("load_catalogue", verbosity=0)


@pytest.fixture
def token(clinic):
    return tokens.create_token(name="city-ehr", clinic=clinic).secret


def cards_for(client, token, body):
    response = post(client, body, token)
    assert response.status_code == 200, response.content
    return response.json()["cards"]


def test_smoker_with_hypertension_ordering_abrocitinib_gets_the_boxed_warning_cards(client, token, catalogue):
    cards = by_code(cards_for(client, token, smoker_request()))
    for code in ("boxed.us_cv_risk_group", "boxed.smoker"):
        assert cards[code]["indicator"] == "warning"
        assert "boxed warning" in cards[code]["detail"]
        assert "[S5][S6]" in cards[code]["detail"]
        assert len(cards[code]["summary"]) < 140


def test_every_card_has_the_spec_fields_and_names_the_catalogue_version(client, token, catalogue):
    from drugs.services import current_catalogue_version

    cards = cards_for(client, token, smoker_request())
    assert len({c["uuid"] for c in cards}) == len(cards)
    for card in cards:
        assert set(card) >= {"uuid", "summary", "indicator", "detail", "source"}
        assert card["indicator"] in ("info", "warning", "critical")
        assert len(card["summary"]) < 140
        assert card["source"]["label"] == (
            f"JAK Portal safety check, catalogue version {current_catalogue_version()} (US)"
        )


def test_clopidogrel_on_the_medication_list_gives_a_critical_card(client, token, catalogue):
    body = smoker_request()
    statement = body["prefetch"]["medications"]["entry"][0]["resource"]
    statement["medicationCodeableConcept"] = {
        "coding": [
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "display": "clopidogrel 75 MG Oral Tablet"}
        ],
        "text": "clopidogrel 75 mg tablet",
    }
    statement["dosage"] = [{"text": "75 mg once daily"}]
    cards = cards_for(client, token, body)
    card = by_code(cards)["contraindication.antiplatelet_3m"]
    assert card["indicator"] == "critical"
    assert "clopidogrel" in card["detail"]
    assert cards[0]["indicator"] == "critical"  # most severe first


def test_an_unmapped_condition_is_named_in_an_info_card(client, token, catalogue):
    notes = info_without_topic(cards_for(client, token, smoker_request()))
    unmapped = [c for c in notes if "Atopic dermatitis" in c["detail"]]
    assert len(unmapped) == 1
    assert unmapped[0]["indicator"] == "info"
    assert "code not known" in unmapped[0]["detail"]
    assert "cetirizine" in unmapped[0]["detail"]  # the medication no catalogue medicine matches


def test_an_order_without_a_catalogue_rxnorm_code_says_it_was_matched_by_name(client, token, catalogue):
    notes = info_without_topic(cards_for(client, token, smoker_request()))
    assert [c for c in notes if "matched to Abrocitinib by name" in c["summary"]]


def test_an_order_coded_with_the_catalogue_rxnorm_code_is_matched_without_that_card(client, token, catalogue):
    cards = cards_for(client, token, fixture("order-select-upadacitinib.json"))
    assert not [c for c in cards if "by name" in c["summary"]]
    assert [c for c in cards if "Upadacitinib" in c["summary"]]


def test_order_select_checks_the_selected_order_and_counts_the_other_draft_orders(client, token, catalogue):
    body = fixture("order-select-upadacitinib.json")
    cards = cards_for(client, token, body)
    assert all("Clopidogrel" not in c["summary"].split(":")[0] for c in cards)
    # the unselected clopidogrel order is read as a medicine the patient will take, so it is not "not mapped"
    assert not [c for c in cards if "clopidogrel" in c["detail"] and "not in the portal's list" in c["detail"]]


def test_order_select_without_selections_is_400(client, token, catalogue):
    body = fixture("order-select-upadacitinib.json")
    del body["context"]["selections"]
    response = post(client, body, token)
    assert response.status_code == 400
    assert "selections" in response.json()["error"]


def test_a_drug_that_is_no_catalogue_jak_inhibitor_gets_one_info_card(client, token, catalogue):
    [card] = cards_for(client, token, fixture("order-sign-unknown-drug.json"))
    assert card["indicator"] == "info"
    assert "Not a catalogue JAK inhibitor" in card["summary"]
    assert "atorvastatin" in card["detail"]


def test_missing_smoking_status_and_observations_are_stated_not_assumed(client, token, catalogue):
    body = smoker_request()
    del body["prefetch"]["observations"]
    cards = cards_for(client, token, body)
    missing = " ".join(c["detail"] for c in info_without_topic(cards))
    assert "No observations in the prefetch" in missing
    assert "No smoking status" in missing
    assert "boxed.smoker" not in by_code(cards)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "JSON object"),
        (json.dumps({"hook": "patient-view", "hookInstance": "x", "context": {}}).encode(), "hook must be"),
    ],
)
def test_a_malformed_body_is_400_with_a_json_error(client, token, catalogue, raw, expected):
    response = post(client, None, token, raw=raw)
    assert response.status_code == 400
    assert expected in response.json()["error"]


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b["context"].pop("draftOrders"),
        lambda b: b["prefetch"].pop("patient"),
        lambda b: b["prefetch"]["patient"].update(birthDate="not-a-date"),
        lambda b: b["prefetch"]["patient"].update(birthDate="1968"),
        lambda b: b["prefetch"]["patient"].update(id="someone-else"),
        lambda b: b["prefetch"]["conditions"]["entry"][0]["resource"].update(resourceType="Observation"),
        lambda b: b["context"]["draftOrders"]["entry"][0]["resource"].update(status=17),
        lambda b: b.update(prefetch="none"),
    ],
)
def test_malformed_fhir_is_400_and_the_error_never_echoes_the_value(client, token, catalogue, change):
    body = smoker_request()
    change(body)
    response = post(client, body, token)
    assert response.status_code == 400
    assert "error" in response.json()
    assert CANARY not in response.content.decode()
    assert InterfaceRequest.objects.get().outcome == InterfaceRequest.Outcome.REJECTED


def test_no_token_is_401_and_nothing_is_checked(client, catalogue):
    response = post(client, smoker_request(), None)
    assert response.status_code == 401
    assert response.json()["error"].startswith("A valid bearer token")
    assert InterfaceRequest.objects.get().outcome == InterfaceRequest.Outcome.DENIED


def test_unknown_service_id_is_404(client, token, catalogue):
    response = post(client, smoker_request(), token, path="/cds-services/not-a-service")
    assert response.status_code == 404


def test_each_call_is_logged_by_hook_instance_without_patient_data(client, token, catalogue):
    body = smoker_request()
    cards_for(client, token, body)
    row = InterfaceRequest.objects.get()
    assert (row.interface, row.outcome, row.message_id) == ("cds", "accepted", body["hookInstance"])
    assert row.token.name == "city-ehr"
    logged = json.dumps(list(InterfaceRequest.objects.values()), default=str)
    for value in (CANARY, body["context"]["patientId"], body["prefetch"]["patient"]["birthDate"]):
        assert value not in logged


def test_cds_and_the_portal_give_the_same_boxed_warning_findings(client, token, catalogue, clinic, derm):
    """The same patient in the portal and in the EHR: the start page's check and the CDS cards agree."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from drugs.models import Drug
    from tests.factories import make_patient
    from therapy.services import Plan, safety_preview

    today = timezone.localdate()
    patient = make_patient(
        clinic=clinic,
        dermatologist=derm,
        date_of_birth=today.replace(year=today.year - 58) - dt.timedelta(days=10),
        sex_at_birth="male",
        risk={"smoking_status": "current", "hypertension": True},
    )
    plan = Plan(drug=Drug.objects.get(slug="abrocitinib"), dose=Decimal(100), frequency="once daily", start_date=today)
    portal_findings, _version = safety_preview(patient=patient, plan=plan)
    portal = {f.code: f for f in portal_findings if f.code.startswith(("boxed.", "risk.", "contraindication."))}
    cards = by_code(cards_for(client, token, smoker_request()))
    cds = {code: card for code, card in cards.items() if code.startswith(("boxed.", "risk.", "contraindication."))}
    assert portal
    assert set(cds) == set(portal)
    for code, finding in portal.items():
        assert finding.message in cds[code]["detail"]
        assert cds[code]["indicator"] == {3: "warning", 4: "critical", 5: "critical"}[int(finding.severity)]


def test_the_same_request_twice_gives_the_same_findings(client, token, catalogue):
    body = smoker_request()
    first = cards_for(client, token, copy.deepcopy(body))
    second = cards_for(client, token, body)
    assert [c["summary"] for c in first] == [c["summary"] for c in second]


def test_two_jak_inhibitors_signed_together_are_each_checked_against_the_other(client, token, catalogue):
    body = smoker_request()
    second = fixture("order-select-upadacitinib.json")["context"]["draftOrders"]["entry"][0]
    second["resource"]["subject"] = {"reference": "Patient/pt-1288992"}
    body["context"]["draftOrders"]["entry"].append(second)
    cards = cards_for(client, token, body)
    against_upadacitinib = [
        c for c in cards if c["summary"].startswith("Abrocitinib") and "upadacitinib" in c["detail"]
    ]
    against_abrocitinib = [c for c in cards if c["summary"].startswith("Upadacitinib") and "abrocitinib" in c["detail"]]
    assert against_upadacitinib
    assert against_abrocitinib
    assert {c["indicator"] for c in against_upadacitinib + against_abrocitinib} <= {"critical", "warning"}


def test_draft_orders_of_other_kinds_are_accepted_and_not_checked(client, token, catalogue):
    body = smoker_request()
    body["context"]["draftOrders"]["entry"].append(
        {
            "resource": {
                "resourceType": "ServiceRequest",
                "id": "sr-cbc",
                "status": "draft",
                "intent": "order",
                "code": {"coding": [{"system": "http://loinc.org", "code": "58410-2", "display": "CBC panel"}]},
                "subject": {"reference": "Patient/pt-1288992"},
            }
        }
    )
    assert "boxed.smoker" in by_code(cards_for(client, token, body))


def test_a_body_that_is_not_utf8_is_400(client, token):
    response = post(client, None, token, raw=b"\xff\xfe{}")
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]


def test_the_query_count_does_not_grow_with_the_prefetch(client, token, catalogue, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = smoker_request()
    cards_for(client, token, small)  # labels cached, as in production after the first call
    with CaptureQueriesContext(connection) as first:
        cards_for(client, token, smoker_request(hookInstance="a"))
    big = smoker_request(hookInstance="b")
    entries = big["prefetch"]["medications"]["entry"]
    entries += copy.deepcopy(entries) * 20
    big["prefetch"]["observations"]["entry"] *= 10
    with django_assert_num_queries(len(first.captured_queries)):
        cards_for(client, token, big)


def _adolescent_upadacitinib(weight_kg=None) -> dict:
    body = fixture("order-sign-abrocitinib.json")
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["medicationCodeableConcept"] = {"text": "upadacitinib 15 mg extended-release tablet"}
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 15
    body["prefetch"]["patient"]["birthDate"] = born_years_ago(13)
    if weight_kg is not None:
        weight = {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
            "subject": {"reference": "Patient/pt-1288992"},
            "effectiveDateTime": "2026-11-30T09:15:00+01:00",
            "valueQuantity": {"value": weight_kg, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
        }
        body["prefetch"]["observations"] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": weight}],
        }
    return body


def test_the_prefetched_body_weight_drives_the_adolescent_weight_rule(client, token, catalogue, settings):
    settings.PORTAL_JURISDICTION = "US"  # 12 years and at least 40 kg
    light = by_code(cards_for(client, token, _adolescent_upadacitinib(weight_kg=35)))
    assert light["status.min_weight"]["indicator"] == "critical"
    assert "status.weight_missing" not in light
    heavy = by_code(cards_for(client, token, _adolescent_upadacitinib(weight_kg=52)))
    assert "status.min_weight" not in heavy
    assert "status.weight_missing" not in heavy
    unknown = by_code(cards_for(client, token, _adolescent_upadacitinib()))
    assert "status.weight_missing" in unknown


def _order_by_reference(body: dict, reference: dict) -> dict:
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    del order["medicationCodeableConcept"]
    order["medicationReference"] = reference
    return order


ABRO_MEDICATION = {
    "resourceType": "Medication",
    "id": "med-abro",
    "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "display": "abrocitinib 100 MG"}]},
}


@pytest.mark.parametrize("how", ["display", "contained", "in the draft orders", "by fullUrl"])
def test_an_order_by_medication_reference_is_checked_like_a_coded_one(client, token, catalogue, how):
    """Epic and Cerner send orders with medicationReference. Each way must reach the safety check, not the
    'not a catalogue JAK inhibitor' card."""
    body = smoker_request()
    if how == "display":
        _order_by_reference(body, {"reference": "Medication/eh-991", "display": "Abrocitinib 100 mg tablet"})
    elif how == "contained":
        order = _order_by_reference(body, {"reference": "#med-abro"})
        order["contained"] = [ABRO_MEDICATION]
    elif how == "in the draft orders":
        _order_by_reference(body, {"reference": "Medication/med-abro"})
        body["context"]["draftOrders"]["entry"].append({"resource": ABRO_MEDICATION})
    else:
        _order_by_reference(body, {"reference": "urn:uuid:3b0d4c1e-5b2a-4f3e-9a55-0d1f2e3c4b5a"})
        body["context"]["draftOrders"]["entry"].append(
            {"fullUrl": "urn:uuid:3b0d4c1e-5b2a-4f3e-9a55-0d1f2e3c4b5a", "resource": ABRO_MEDICATION}
        )
    cards = by_code(cards_for(client, token, body))
    assert cards["boxed.smoker"]["indicator"] == "warning"


def test_a_medication_statement_by_reference_counts_as_taken(client, token, catalogue):
    body = smoker_request()
    statement = body["prefetch"]["medications"]["entry"][0]["resource"]
    del statement["medicationCodeableConcept"]
    statement["medicationReference"] = {"reference": "Medication/clop"}
    body["prefetch"]["medications"]["entry"].append(
        {"resource": {"resourceType": "Medication", "id": "clop", "code": {"text": "Clopidogrel 75 mg tablet"}}}
    )
    cards = cards_for(client, token, body)
    assert any(c["indicator"] == "critical" and "lopidogrel" in c["summary"] for c in cards)


def test_an_absurd_dose_still_gets_a_summary_that_says_what_is_wrong(client, token, catalogue):
    """A dose of 1e308 mg is one long word: cutting the summary at the last space left only 'Abrocitinib…'."""
    body = smoker_request()
    dose = body["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"][0]["doseAndRate"][0]
    dose["doseQuantity"]["value"] = 1e308
    cards = cards_for(client, token, body)
    for card in cards:
        assert len(card["summary"]) <= 140
        assert len(card["summary"]) > len("Abrocitinib…"), card["summary"]


def test_a_call_with_no_medication_order_gets_no_cards(client, token, catalogue):
    body = smoker_request()
    body["context"]["draftOrders"]["entry"] = [
        {
            "resource": {
                "resourceType": "ServiceRequest",
                "id": "sr-cbc",
                "status": "draft",
                "intent": "order",
                "code": {"coding": [{"system": "http://loinc.org", "code": "58410-2", "display": "CBC panel"}]},
                "subject": {"reference": "Patient/pt-1288992"},
            }
        }
    ]
    assert cards_for(client, token, body) == []


def test_a_prefetched_patient_sent_as_a_one_patient_bundle_is_read_as_the_patient(client, token, catalogue):
    body = smoker_request()
    body["prefetch"]["patient"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": body["prefetch"]["patient"]}],
    }
    assert "boxed.smoker" in by_code(cards_for(client, token, body))


def test_a_prefetched_patient_bundle_without_exactly_one_patient_is_400(client, token, catalogue):
    body = smoker_request()
    patient = body["prefetch"]["patient"]
    body["prefetch"]["patient"] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": patient}] * 2}
    response = post(client, body, token)
    assert response.status_code == 400
    assert "exactly one Patient" in response.json()["error"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", "application/xml"])
def test_a_body_that_is_not_declared_json_is_415_and_nothing_is_checked(client, token, catalogue, content_type):
    response = client.post(
        "/cds-services/jak-safety-check",
        data=json.dumps(smoker_request()),
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    logged = InterfaceRequest.objects.get()
    assert logged.outcome == InterfaceRequest.Outcome.REJECTED
