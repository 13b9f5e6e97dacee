"""Query counts of the monitoring and therapy pages not covered elsewhere: constant as a patient's record grows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitoring.models import Alert
from tests.factories import TODAY, make_course, make_patient, make_scheduled_item, record_result


@pytest.fixture
def on_abro(clinic, derm, catalogue):
    return make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="QC-001"), derm)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def _grow(course, nurse, n, start=0):
    """n more days of blood counts (some at action levels, so alerts too) and n more scheduled checks, after the
    ``start`` days already grown (the same result twice would be refused as already recorded)."""
    for i in range(start, start + n):
        on = TODAY - dt.timedelta(days=30 - i)
        record_result(nurse, course.patient, "platelets", "45" if i % 2 else "250", on=on)
        record_result(nurse, course.patient, "hb", "13.5", on=on)
        make_scheduled_item(course, check_type="lipids", due=TODAY + dt.timedelta(days=7 * i + 7), window=3)


@pytest.mark.parametrize(
    ("role", "url_of"),
    [
        ("derm", lambda c, a, i: reverse("monitoring:alert", args=[a.public_id])),
        ("nurse", lambda c, a, i: reverse("monitoring:lab_entry", args=[c.patient.public_id]) + "?panel=cbc"),
        ("nurse", lambda c, a, i: reverse("monitoring:lab_entry", args=[c.patient.public_id]) + "?panel=screening"),
        ("nurse", lambda c, a, i: reverse("monitoring:lab_saved", args=[c.patient.public_id])),
        ("nurse", lambda c, a, i: reverse("monitoring:symptom_check", args=[c.patient.public_id])),
        ("nurse", lambda c, a, i: reverse("monitoring:item_done", args=[i.public_id])),
        ("nurse", lambda c, a, i: reverse("monitoring:lab_upload")),
        ("derm", lambda c, a, i: reverse("therapy:start", args=[c.patient.public_id])),
        ("derm", lambda c, a, i: c.get_absolute_url()),
        ("nurse", lambda c, a, i: reverse("monitoring:results_table", args=[c.patient.public_id])),
        ("derm", lambda c, a, i: reverse("monitoring:lab_history", args=[c.patient.public_id, "platelets"])),
        ("derm", lambda c, a, i: reverse("patients:detail", args=[c.patient.public_id])),  # trends, timeline
    ],
    ids=[
        "alert",
        "labs-cbc",
        "labs-screening",
        "labs-saved",
        "symptoms",
        "item-done",
        "upload",
        "start",
        "course",
        "results-table",
        "lab-history",
        "patient",
    ],
)
def test_page_query_count_does_not_grow_with_the_record(role, url_of, client_as, derm, nurse, on_abro):
    item = make_scheduled_item(on_abro, check_type="efficacy_review")
    alert = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "platelets", "45", on=TODAY))
    client = client_as({"derm": derm, "nurse": nurse}[role])
    url = url_of(on_abro, alert, item)
    _grow(on_abro, nurse, 2)
    # The first request after a catalogue change builds the drug labels (then cached for that catalogue version):
    # count from the second.
    client.get(url)
    few = _queries(client, url)
    _grow(on_abro, nurse, 12, start=2)
    assert _queries(client, url) == few


def _grow_results(nurse, patient, start, days):
    """Results on ``days`` more collection dates, several tests each, one at an action level."""
    for day in range(start, start + days):
        on = TODAY - dt.timedelta(days=day)
        record_result(nurse, patient, "platelets", "45" if day % 3 == 0 else "250", on=on)
        record_result(nurse, patient, "hb", "13.5", on=on)
        record_result(nurse, patient, "creatinine", "0.9", on=on)
    record_result(nurse, patient, "ldl", str(100 + start), on=TODAY - dt.timedelta(days=start))


@pytest.mark.parametrize("name", ["monitoring:results_table", "monitoring:lab_history"])
def test_results_table_and_history_stay_constant_past_their_first_page(name, client_as, nurse, on_abro):
    """The table pages by dates (12) and the history by results (50): grown past both, and on page 2."""
    client = client_as(nurse)
    args = [on_abro.patient.public_id] + (["platelets"] if name.endswith("history") else [])
    url = reverse(name, args=args)
    _grow_results(nurse, on_abro.patient, 0, 2)
    few = _queries(client, url)
    _grow_results(nurse, on_abro.patient, 2, 60)
    assert _queries(client, url) == few
    assert _queries(client, url + "?page=2") == few


@pytest.mark.parametrize("url", [reverse("monitoring:worklist"), reverse("monitoring:worklist_export")])
def test_grouped_worklist_and_export_query_counts_do_not_grow(url, client_as, nurse, clinic, derm, catalogue):
    """More patients (with risk flags), more checks each, and recall/letter history: the same number of queries."""
    from monitoring.services import recall_contacts_record
    from patients.services import screening_result_record

    client = client_as(nurse)

    def add(patients, checks, baseline=False):
        for n in range(patients):
            risk = {"smoking_status": "current", "dvt_history": bool(n % 2)}
            course = make_course(make_patient(clinic=clinic, dermatologist=derm, risk=risk), derm)
            items = [make_scheduled_item(course, due=TODAY - dt.timedelta(days=d)) for d in range(checks)]
            for kind in ("recalled", "letter"):
                recall_contacts_record(actor=nurse, item_ids=[i.public_id for i in items], kind=kind)
            if baseline:  # open baseline screening, half of it satisfied by the record since
                for check in ("tb", "hcv"):
                    make_scheduled_item(course, check_type=check, kind="baseline", due=TODAY - dt.timedelta(days=9))
                if n % 2:
                    screening_result_record(
                        actor=nurse, patient=course.patient, item="hcv", performed_on=TODAY, result="negative"
                    )

    add(2, 1)
    few = _queries(client, url)
    # open baseline screening checks cost no query of their own (they cost four when read from every record)
    add(20, 4, baseline=True)
    assert _queries(client, url) == few
