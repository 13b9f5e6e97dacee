"""The same lab result is stored once, however often and however simultaneously it arrives (issue 18, F8).

A duplicate is the same patient, test, collection date and value (canonical unit): patients.LabResult's unique
constraints. The CSV import and the lab form report such rows as "already recorded" and raise no second alert.
"""

from __future__ import annotations

import html
import re
import threading
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connections, transaction
from django.test import Client
from django.urls import reverse

from drugs.models import LabTest
from monitoring import services as svc
from monitoring.models import Alert
from patients.models import LabResult
from tests.factories import TODAY, make_course, make_patient

UPLOAD = reverse("monitoring:lab_upload")
TOKEN = re.compile(r'name="idempotency_key" value="([^"]+)"')
ON_PG = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
# Platelets 45 ×10³/µL on abrocitinib is a discontinue level: one urgent alert. The other two are normal.
LINES = [f"DUP-001,777-3,45,10*3/uL,{TODAY}", f"DUP-001,718-7,13.5,g/dL,{TODAY}", f"DUP-001,6690-2,6.1,,{TODAY}"]


@pytest.fixture
def on_abro(clinic, derm, catalogue):
    return make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="DUP-001"), derm)


def _csv(lines):
    body = "record_number,loinc,value,unit,collected_on\n" + "\n".join(lines) + "\n"
    return SimpleUploadedFile("results.csv", body.encode(), content_type="text/csv")


def _upload(client, lines):
    """GET the upload page (a new form token, as a new tab would have), POST the file, follow to the summary."""
    token = TOKEN.search(client.get(UPLOAD).content.decode()).group(1)
    return client.post(UPLOAD, {"file": _csv(lines), "idempotency_key": token}, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _row(patient, analyte, value, on=TODAY):
    test = LabTest.objects.get(analyte=analyte)
    return svc.ResultRow(
        patient=patient,
        lab_test=test,
        collected_on=on,
        value=Decimal(value),
        entered_value=value,
        entered_unit=test.canonical_unit,
    )


def test_same_csv_uploaded_twice_is_stored_once_and_said_already_recorded(client_as, nurse, on_abro):
    client = client_as(nurse)
    first = _upload(client, LINES)
    assert first.status_code == 200
    assert "Imported 3 result(s); each was interpreted." in _messages(first)
    second = _upload(client, LINES)
    assert second.status_code == 200
    said = _messages(second)
    assert "Imported 0 result(s); each was interpreted." in said
    assert "3 row(s) already recorded (same patient, test, collection date and value), not imported again: " in (
        " ".join(said)
    )
    assert "row(s) 2, 3, 4." in " ".join(said)
    assert LabResult.objects.filter(patient=on_abro.patient).count() == 3
    assert Alert.objects.filter(patient=on_abro.patient).count() == 1


def test_a_file_with_old_and_new_rows_imports_the_new_ones(client_as, nurse, on_abro):
    client = client_as(nurse)
    _upload(client, LINES[:1])
    response = _upload(client, LINES)
    said = " ".join(_messages(response))
    assert "Imported 2 result(s)" in said
    assert "1 row(s) already recorded" in said
    assert "row(s) 2." in said
    assert LabResult.objects.filter(patient=on_abro.patient).count() == 3
    assert Alert.objects.filter(patient=on_abro.patient).count() == 1


def test_a_same_day_repeat_with_another_value_is_stored(client_as, nurse, on_abro):
    client = client_as(nurse)
    _upload(client, LINES[:1])
    response = _upload(client, [f"DUP-001,777-3,46,10*3/uL,{TODAY}"])
    assert "Imported 1 result(s); each was interpreted." in _messages(response)
    assert sorted(LabResult.objects.values_list("value", flat=True)) == [Decimal(45), Decimal(46)]


def test_same_value_in_another_unit_is_the_same_result(client_as, nurse, on_abro):
    client = client_as(nurse)
    _upload(client, LINES[:1])
    response = _upload(client, [f"DUP-001,777-3,45000,/mm3,{TODAY}"])  # 45,000 cells/mm³ = 45 ×10³/µL
    assert "1 row(s) already recorded" in " ".join(_messages(response))
    assert LabResult.objects.count() == 1


def test_the_service_refuses_a_duplicate_the_checks_before_it_missed(nurse, on_abro):
    """What a simultaneous import meets: the row passed validation, then the database refuses it. The savepoint
    keeps the transaction usable, the other rows are stored, and no second alert is raised."""
    patient = on_abro.patient
    first = svc.lab_results_record(actor=nurse, rows=[_row(patient, "platelets", "45")])
    assert len(first.results) == 1
    assert first.already_recorded == []
    again = [_row(patient, "platelets", "45"), _row(patient, "hb", "13.5")]
    second = svc.lab_results_record(actor=nurse, rows=again)
    assert [r.lab_test.analyte for r in second.results] == ["hb"]
    assert second.already_recorded == [again[0]]
    assert LabResult.objects.filter(patient=patient).count() == 2
    assert Alert.objects.filter(patient=patient).count() == 1


def test_coded_results_are_stored_once_per_result(nurse, on_abro):
    patient = on_abro.patient
    test = LabTest.objects.filter(value_type=LabTest.ValueType.CODED).first()

    def coded(value):
        return svc.ResultRow(patient=patient, lab_test=test, collected_on=TODAY, coded_value=value, entered_value=value)

    assert len(svc.lab_results_record(actor=nurse, rows=[coded("negative")]).results) == 1
    assert svc.lab_results_record(actor=nurse, rows=[coded("negative")]).results == []
    assert len(svc.lab_results_record(actor=nurse, rows=[coded("indeterminate")]).results) == 1


def test_the_database_itself_refuses_a_duplicate(nurse, on_abro):
    svc.lab_results_record(actor=nurse, rows=[_row(on_abro.patient, "platelets", "45")])
    kept = LabResult.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        LabResult.objects.create(
            patient=kept.patient,
            lab_test=kept.lab_test,
            collected_on=kept.collected_on,
            value=Decimal("45.0000"),
            recorded_by=nurse,
        )


def test_lab_form_says_already_recorded_and_saves_nothing(client_as, nurse, on_abro):
    client = client_as(nurse)
    url = reverse("monitoring:lab_entry", args=[on_abro.patient.public_id]) + "?panel=cbc"
    svc.lab_results_record(actor=nurse, rows=[_row(on_abro.patient, "platelets", "45")])
    token = TOKEN.search(client.get(url).content.decode()).group(1)
    data = {"collected_on": TODAY.isoformat(), "v_platelets": "45", "u_platelets": "10*3/uL", "idempotency_key": token}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "already recorded" in response.content.decode()
    assert LabResult.objects.count() == 1
    assert Alert.objects.count() == 1
    # The refusal released the token: the corrected form (another value) is saved with it.
    response = client.post(url, {**data, "v_platelets": "46"})
    assert response.status_code == 302
    assert LabResult.objects.count() == 2


@pytest.mark.skipif(not ON_PG, reason="simultaneous requests on separate connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_four_simultaneous_uploads_of_one_csv_store_it_once(nurse, on_abro):
    """F8's reproduction: four tabs (four form tokens) send the same file at the same moment, each request in its
    own thread and database connection, as gunicorn workers would. Each result is stored once, one alert."""
    clients, tokens = [], []
    for _ in range(4):
        client = Client()
        client.force_login(nurse)
        clients.append(client)
        tokens.append(TOKEN.search(client.get(UPLOAD).content.decode()).group(1))
    barrier = threading.Barrier(4)
    said: dict[int, str] = {}
    failed: list[BaseException] = []

    def upload(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            response = clients[n].post(UPLOAD, {"file": _csv(LINES), "idempotency_key": tokens[n]}, follow=True)
            assert response.status_code == 200
            # The page itself, not response.context: the test client collects contexts through a global signal,
            # so with four threads rendering at once one thread can read another thread's messages.
            said[n] = html.unescape(response.content.decode())
        except BaseException as exc:  # noqa: BLE001  (reported below, in the test's thread)
            failed.append(exc)
        finally:
            connections.close_all()

    started = time.monotonic()
    threads = [threading.Thread(target=upload, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failed, failed
    assert time.monotonic() - started < 120
    assert len(said) == 4
    imported = sorted(int(re.search(r"Imported (\d+) result", text).group(1)) for text in said.values())
    assert imported == [0, 0, 0, 3]
    assert sum("3 row(s) already recorded" in text for text in said.values()) == 3
    results = LabResult.objects.filter(patient=on_abro.patient)
    assert results.count() == 3
    assert Alert.objects.filter(patient=on_abro.patient).count() == 1
