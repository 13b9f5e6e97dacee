"""The cumulative results table and one test's full history: layout, units, paging, access, audit (query counts:
test_query_counts.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from drugs.models import LabTest
from monitoring import selectors as sel
from monitoring import services as svc
from portal.models import AuditEvent, Clinic
from tests.factories import TODAY, make_clinic, make_course, make_patient, make_user, record_result


@pytest.fixture
def course(clinic, derm, catalogue):
    return make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="TAB-001"), derm)


def table_url(patient, **query):
    url = reverse("monitoring:results_table", args=[patient.public_id])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def history_url(patient, analyte, **query):
    url = reverse("monitoring:lab_history", args=[patient.public_id, analyte])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def record(actor, patient, analyte, typed, unit=None, on=TODAY, coded=""):
    """A result typed in ``unit`` (the canonical unit when None), stored through the service."""
    test = LabTest.objects.with_unit_labels().get(analyte=analyte)
    unit = test.canonical_unit if unit is None else unit
    lab_unit = test.unit_for(unit)
    value = None
    if not coded:
        value = (Decimal(typed.replace(",", ".")) * lab_unit.factor / lab_unit.divisor).quantize(Decimal("0.0001"))
    row = svc.ResultRow(
        patient=patient,
        lab_test=test,
        collected_on=on,
        value=value,
        coded_value=coded,
        entered_value="" if coded else typed,
        entered_unit="" if coded else unit,
    )
    return svc.lab_results_record(actor=actor, rows=[row]).results[0]


# --- The table ------------------------------------------------------------------------------------------------------


def test_rows_are_tests_grouped_by_panel_in_catalogue_order_and_columns_dates_newest_first(client_as, nurse, course):
    patient = course.patient
    record_result(nurse, patient, "creatinine", "0.9", on=TODAY - dt.timedelta(days=10))
    record_result(nurse, patient, "platelets", "250", on=TODAY - dt.timedelta(days=10))
    record_result(nurse, patient, "hb", "13.5", on=TODAY)
    record_result(nurse, patient, "ldl", "120", on=TODAY - dt.timedelta(days=3))
    context = client_as(nurse).get(table_url(patient)).context
    assert context["dates"] == [TODAY, TODAY - dt.timedelta(days=3), TODAY - dt.timedelta(days=10)]
    assert [g["panel"] for g in context["groups"]] == ["cbc", "lipids", "kidney"]  # the catalogue's order
    assert [r["test"].analyte for r in context["groups"][0]["rows"]] == ["hb", "platelets"]  # display order
    hb = context["groups"][0]["rows"][0]
    assert [[c["value"] for c in cell] for cell in hb["cells"]] == [["13.5"], [], []]
    assert hb["unit"] == "g/dL"


def test_a_cell_shows_the_reference_flag_and_the_action_level_reached(client_as, nurse, course):
    record_result(nurse, course.patient, "platelets", "45")
    record_result(nurse, course.patient, "platelets", "500", on=TODAY - dt.timedelta(days=7))
    response = client_as(nurse).get(table_url(course.patient))
    (low,), (high,) = response.context["groups"][0]["rows"][0]["cells"]
    assert (low["value"], low["flag"], low["action"]) == ("45", "L", "Discontinue")
    assert (high["value"], high["flag"], high["action"]) == ("500", "H", "")
    page = response.content.decode()
    assert "(low)" in page  # the flag in words for screen readers
    assert "reached-discontinue" in page


def test_values_are_in_the_clinics_unit_system_and_as_typed_when_typed_in_it(client_as, clinic, nurse, course):
    record(nurse, course.patient, "creatinine", "80", "umol/L", on=TODAY)
    record(nurse, course.patient, "creatinine", "1.2", "mg/dL", on=TODAY - dt.timedelta(days=30))
    record(nurse, course.patient, "hb", "13,5", "g/dL", on=TODAY)
    us = client_as(nurse).get(table_url(course.patient)).context
    creatinine = next(r for g in us["groups"] for r in g["rows"] if r["test"].analyte == "creatinine")
    assert creatinine["unit"] == "mg/dL"
    assert [c[0]["value"] for c in creatinine["cells"] if c] == ["0.9", "1.2"]
    Clinic.objects.filter(pk=clinic.pk).update(unit_system="SI")
    si = client_as(make_user(role="Nurse", clinic=clinic)).get(table_url(course.patient)).context
    rows = {r["test"].analyte: r for g in si["groups"] for r in g["rows"]}
    assert rows["creatinine"]["unit"] == "µmol/L"
    assert [c[0]["value"] for c in rows["creatinine"]["cells"] if c] == ["80", "106"]  # 80 as typed; 1.2 mg/dL
    assert rows["hb"]["unit"] == "g/L"
    assert rows["hb"]["cells"][0][0]["value"] == "135"


def test_coded_results_and_two_results_on_one_day_are_shown(client_as, nurse, course):
    record(nurse, course.patient, "hbsag", "", coded="negative")
    record_result(nurse, course.patient, "platelets", "240")
    record_result(nurse, course.patient, "platelets", "230")
    groups = client_as(nurse).get(table_url(course.patient)).context["groups"]
    rows = {r["test"].analyte: r for g in groups for r in g["rows"]}
    assert [c["value"] for c in rows["platelets"]["cells"][0]] == ["230", "240"]  # the later entry first
    assert rows["hbsag"]["cells"][0][0]["value"] == "Negative"
    assert rows["hbsag"]["unit"] == ""


def test_the_table_pages_by_collection_dates(client_as, nurse, course):
    for day in range(sel.TABLE_DATES_PER_PAGE + 1):
        record_result(nurse, course.patient, "hb", "13.5", on=TODAY - dt.timedelta(days=day))
    client = client_as(nurse)
    first = client.get(table_url(course.patient)).context
    assert len(first["dates"]) == sel.TABLE_DATES_PER_PAGE
    assert first["page"].has_next
    second = client.get(table_url(course.patient, page=2))
    assert second.context["dates"] == [TODAY - dt.timedelta(days=sel.TABLE_DATES_PER_PAGE)]
    assert "Newer dates" in second.content.decode()


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "9223372036854775807", "1.5"])
def test_bad_or_absurd_page_numbers_show_the_first_page(page, client_as, nurse, course):
    record_result(nurse, course.patient, "hb", "13.5")
    client = client_as(nurse)
    assert client.get(table_url(course.patient, page=page)).context["dates"] == [TODAY]
    assert client.get(history_url(course.patient, "hb", page=page)).context["page"].number == 1


def test_a_page_past_the_last_says_so(client_as, nurse, course):
    record_result(nurse, course.patient, "hb", "13.5")
    client = client_as(nurse)
    assert "No results on this page" in client.get(table_url(course.patient, page=2147483647)).content.decode()
    assert "No results on this page" in client.get(history_url(course.patient, "hb", page=5)).content.decode()


def test_the_table_is_printable(client_as, nurse, course):
    record_result(nurse, course.patient, "hb", "13.5")
    page = client_as(nurse).get(table_url(course.patient)).content.decode()
    assert 'href="/static/css/results-print.css" media="print"' in page
    assert "data-print" in page
    assert "onclick" not in page  # the print button's script is a static file (CSP)


def test_an_empty_record_says_so(client_as, nurse, course):
    assert "No lab results recorded yet" in client_as(nurse).get(table_url(course.patient)).content.decode()


# --- The history of one test ----------------------------------------------------------------------------------------


def test_history_lists_every_result_newest_first_with_who_recorded_it(client_as, nurse, course):
    for day in range(sel.HISTORY_PAGE_SIZE + 3):
        record_result(nurse, course.patient, "platelets", str(200 + day), on=TODAY - dt.timedelta(days=day))
    record_result(nurse, course.patient, "hb", "13.5")
    client = client_as(nurse)
    first = client.get(history_url(course.patient, "platelets"))
    rows = first.context["page"].rows
    assert len(rows) == sel.HISTORY_PAGE_SIZE
    assert rows[0]["result"].collected_on == TODAY
    assert rows[0]["shown"] == "200 ×10³/µL"
    assert str(nurse) in first.content.decode()
    second = client.get(history_url(course.patient, "platelets", page=2)).context["page"].rows
    assert [r["result"].collected_on for r in second] == [TODAY - dt.timedelta(days=d) for d in (50, 51, 52)]
    assert all(r["result"].lab_test.analyte == "platelets" for r in rows + second)


def test_history_shows_the_value_as_entered_flag_and_action(client_as, clinic, nurse, course):
    Clinic.objects.filter(pk=clinic.pk).update(unit_system="SI")
    record(nurse, course.patient, "platelets", "45000", "/mm3")
    row = client_as(make_user(role="Nurse", clinic=clinic)).get(history_url(course.patient, "platelets"))
    (first,) = row.context["page"].rows
    assert first["shown"] == "45 ×10⁹/L"
    assert first["as_entered"] == "45000 cells/mm³"
    assert first["converted"]
    assert (first["flag"], first["action"]) == ("Low", "Discontinue")
    assert "150–450 ×10⁹/L" in row.content.decode()  # the reference range in the shown unit


def test_history_of_an_unknown_test_is_404(client_as, nurse, course):
    assert client_as(nurse).get(history_url(course.patient, "no-such-test")).status_code == 404


# --- Links, access, audit -----------------------------------------------------------------------------------------


def test_the_patient_page_links_to_the_table_and_each_test_history(client_as, nurse, course):
    record_result(nurse, course.patient, "platelets", "250", on=TODAY - dt.timedelta(days=30))
    record_result(nurse, course.patient, "platelets", "240")
    record_result(nurse, course.patient, "hb", "13.5")
    page = client_as(nurse).get(course.patient.get_absolute_url()).content.decode()
    assert f'href="{table_url(course.patient)}"' in page
    assert history_url(course.patient, "platelets") in page  # from its chart
    assert history_url(course.patient, "hb") in page  # from the single results list
    table = client_as(nurse).get(table_url(course.patient)).content.decode()
    assert history_url(course.patient, "platelets") in table


def test_the_patient_page_charts_only_tests_with_two_values_or_more(client_as, nurse, course):
    record_result(nurse, course.patient, "platelets", "250", on=TODAY - dt.timedelta(days=30))
    record_result(nurse, course.patient, "platelets", "45")
    record_result(nurse, course.patient, "hb", "7.5")
    context = client_as(nurse).get(course.patient.get_absolute_url()).context
    assert [c["id"] for c in context["lab_charts"]] == ["trend-platelets"]
    assert context["lab_charts"][0]["count"] == 2
    (hb,) = context["single_results"]
    assert (hb["title"], hb["value"], hb["flag"], hb["action"]) == ("Hb", "7.5 g/dL", "Low", "Interrupt")
    assert hb["on"] == TODAY
    level = context["lab_charts"][0]["chart"].levels[0]
    assert level["short"] == "Abrocitinib: discontinue <50"  # inside the plot; the full label is its tooltip


def test_the_alert_and_the_saved_results_link_to_the_history_and_the_table(client_as, nurse, derm, course):
    from monitoring.models import Alert

    alert = Alert.objects.get(lab_result=record_result(nurse, course.patient, "platelets", "45"))
    page = client_as(derm).get(alert.get_absolute_url()).content.decode()
    assert history_url(course.patient, "platelets") in page
    assert f'href="{table_url(course.patient)}"' in page
    saved = client_as(nurse).get(reverse("monitoring:lab_saved", args=[course.patient.public_id])).content.decode()
    assert f'href="{table_url(course.patient)}"' in saved


@pytest.mark.parametrize("page", [table_url, lambda p: history_url(p, "hb")], ids=["table", "history"])
def test_only_the_patients_clinic_sees_the_pages(page, client_as, nurse, derm, catalogue_admin, course):
    url = page(course.patient)
    assert client_as(nurse).get(url).status_code == 200
    assert client_as(derm).get(url).status_code == 200
    assert client_as(catalogue_admin).get(url).status_code == 403
    other = make_clinic()
    assert client_as(make_user(role="Nurse", clinic=other)).get(url).status_code == 404
    assert client_as(make_user(role="Dermatologist", clinic=other)).get(url).status_code == 404


def test_both_pages_are_audited_as_patient_record_views(client_as, nurse, course):
    record_result(nurse, course.patient, "hb", "13.5")
    views = AuditEvent.objects.filter(action="view", object_type="patients.patient", object_id=str(course.patient.pk))
    before = views.count()
    client = client_as(nurse)
    client.get(table_url(course.patient))
    client.get(history_url(course.patient, "hb"))
    assert views.count() == before + 2
    assert set(views.values_list("actor", flat=True)) == {nurse.pk}
