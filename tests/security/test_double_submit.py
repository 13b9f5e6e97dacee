"""Every create form stores one row however often the same submission arrives (issue 18, F11).

Each form page carries the one-time token of portal.idempotency; sending the same POST twice (a double click, a
reload, a retry after a timeout) answers the second like the first and writes nothing more.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from drugs.models import Drug
from monitoring.models import SymptomCheck
from patients import services
from patients.models import Assessment, ConcomitantMedicine, LabResult, Patient, ScreeningResult
from tests.factories import TODAY, make_patient
from therapy.models import TreatmentCourse

TOKEN = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def catalogue(db):
    call_command("load_catalogue", verbosity=0)


@pytest.fixture
def patient(clinic, derm):
    return make_patient(clinic=clinic, dermatologist=derm, record_number="TWICE-1")


def _token(client, url) -> str:
    page = client.get(url)
    assert page.status_code == 200
    found = TOKEN.findall(page.content.decode())
    assert len(found) == 1, "the form page must carry exactly one form token"
    return found[0]


def _twice(client, url, data) -> tuple:
    data = {**data, "idempotency_key": _token(client, url)}
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == 302, first.content.decode()[:2000]
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    return first, second


def _easi(**overrides):
    data = {"assessed_on": "2026-01-10", "viga": "3", "itch_nrs": "7"}
    data.update(dict.fromkeys(services.EASI_PART_FIELDS, "1"))
    return {**data, **overrides}


CREATE_FORMS = {
    # name: (url name, POST data, model whose rows are counted)
    "patient": (
        "patients:create",
        {
            "record_number": "NEW-1",
            "given_name": "Testa",
            "family_name": "Fictional",
            "date_of_birth": "1980-01-01",
            "sex_at_birth": "female",
        },
        Patient,
    ),
    "medicine": ("patients:medicines", {"name": "aspirin", "dose_text": "75 mg"}, ConcomitantMedicine),
    "screening": (
        "patients:screening",
        {"item": "tb", "performed_on": "2026-01-05", "result": "negative", "note": "IGRA"},
        ScreeningResult,
    ),
    "assessment": ("patients:assessment_create", _easi(), Assessment),
    "symptoms": (
        "monitoring:symptom_check",
        {"checked_on": TODAY.isoformat(), "symptoms": ["fever"]},
        SymptomCheck,
    ),
}


@pytest.mark.parametrize("form", sorted(CREATE_FORMS))
def test_the_same_submission_twice_stores_one_row(form, client_as, derm, patient, catalogue):
    name, data, model = CREATE_FORMS[form]
    url = reverse(name) if name == "patients:create" else reverse(name, args=[patient.public_id])
    before = model.objects.count()
    _twice(client_as(derm), url, data)
    assert model.objects.count() == before + 1


def test_a_new_form_page_is_a_new_submission(client_as, derm, patient):
    client = client_as(derm)
    url = reverse("patients:assessment_create", args=[patient.public_id])
    _twice(client, url, _easi())
    _twice(client, url, _easi(assessed_on="2026-02-10"))  # opened again: a second assessment, on purpose
    assert Assessment.objects.filter(patient=patient).count() == 2


def test_a_refused_submission_can_be_corrected_and_sent_with_the_same_token(client_as, derm, patient):
    client = client_as(derm)
    url = reverse("patients:assessment_create", args=[patient.public_id])
    data = {**_easi(easi_trunk_area="7"), "idempotency_key": _token(client, url)}
    assert client.post(url, data).status_code == 200  # refused: nothing stored, token not used up
    data["easi_trunk_area"] = "1"
    assert client.post(url, data).status_code == 302
    assert Assessment.objects.filter(patient=patient).count() == 1


def test_lab_results_form_twice_stores_them_once(client_as, nurse, patient, catalogue):
    url = reverse("monitoring:lab_entry", args=[patient.public_id]) + "?panel=cbc"
    client = client_as(nurse)
    _twice(client, url, {"panel": "cbc", "collected_on": TODAY.isoformat(), "v_platelets": "240"})
    assert LabResult.objects.filter(patient=patient).count() == 1


def test_csv_upload_twice_imports_once(client_as, nurse, patient, catalogue):
    url = reverse("monitoring:lab_upload")
    client = client_as(nurse)
    token = _token(client, url)
    text = f"record_number,loinc,value,unit,collected_on\nTWICE-1,777-3,250,10*3/uL,{TODAY.isoformat()}\n"

    def send():
        upload = SimpleUploadedFile("labs.csv", text.encode(), content_type="text/csv")
        return client.post(url, {"file": upload, "idempotency_key": token})

    first, second = send(), send()
    assert (first.status_code, second.status_code) == (302, 302)
    assert LabResult.objects.filter(patient=patient).count() == 1
    assert "already sent" in client.get(second["Location"]).content.decode()


def test_starting_a_course_twice_starts_one(client_as, derm, patient, catalogue):
    client = client_as(derm)
    url = reverse("therapy:start", args=[patient.public_id])
    token = _token(client, url)
    regimen = f"{Drug.objects.get(slug='abrocitinib').pk}:100"
    data = {"regimen": regimen, "start_date": TODAY.isoformat(), "idempotency_key": token}
    body = client.post(url, {**data, "action": "check"}).content.decode()
    assert TOKEN.findall(body) == [token]  # the safety check keeps the same submission
    shown = body.split('name="shown_codes" value="')[1].split('"')[0]
    acks = {f"ack-{n}": "Discussed" for n in {p.split('"')[0] for p in body.split('name="ack-')[1:]}}
    override = {"override_reason": "Discussed with the patient"} if "override_reason" in body else {}
    start = {**data, **acks, **override, "action": "start", "shown_codes": shown}
    first, second = client.post(url, start), client.post(url, start)
    assert first.status_code == 302, first.content.decode()[:3000]
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    assert TreatmentCourse.objects.filter(patient=patient).count() == 1
