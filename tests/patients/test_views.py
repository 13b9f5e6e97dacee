import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients import services
from patients.models import Assessment, Patient, RiskProfile
from portal.models import AuditEvent
from tests.factories import make_clinic, make_patient

pytestmark = pytest.mark.django_db


def url(name, patient=None, **kwargs):
    args = [patient.public_id, *kwargs.values()] if patient else []
    return reverse(f"patients:{name}", args=args)


@pytest.fixture
def patient(clinic, derm):
    return make_patient(clinic=clinic, dermatologist=derm)


def field_error(response, field):
    """The message shown next to the field (crispy renders it with the field's error id)."""
    errors = response.context["form"].errors.get(field)
    assert errors, f"no error on {field}"
    assert f'id="error_1_id_{field}"'.encode() in response.content
    return errors[0]


# --- permissions ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["detail", "edit", "risk", "medicines", "screening", "assessment_create"])
def test_catalogue_admin_gets_403_on_every_patient_page(client_as, catalogue_admin, patient, name):
    assert client_as(catalogue_admin).get(url(name, patient)).status_code == 403


@pytest.mark.parametrize("name", ["list", "create"])
def test_catalogue_admin_gets_403_on_list_and_create(client_as, catalogue_admin, name):
    assert client_as(catalogue_admin).get(url(name)).status_code == 403


def test_patients_nav_link_per_role(client_as, derm, nurse, catalogue_admin):
    assert b">Patients</a>" in client_as(derm).get(reverse("portal:home")).content
    assert b">Patients</a>" in client_as(nurse).get(reverse("portal:home")).content
    assert b">Patients</a>" not in client_as(catalogue_admin).get(reverse("portal:home")).content


@pytest.mark.parametrize("name", ["detail", "edit", "risk", "medicines", "screening", "assessment_create"])
def test_patient_of_another_clinic_is_404(client_as, derm, name):
    other = make_patient(clinic=make_clinic())
    assert client_as(derm).get(url(name, other)).status_code == 404


@pytest.mark.parametrize(
    ("name", "status"),
    [("detail", 200), ("medicines", 200), ("screening", 200), ("assessment_create", 200), ("edit", 403), ("risk", 403)],
)
def test_nurse_reads_and_records_results_only(client_as, nurse, patient, name, status):
    assert client_as(nurse).get(url(name, patient)).status_code == status


def test_nurse_cannot_add_medicines(client_as, nurse, patient):
    response = client_as(nurse).post(url("medicines", patient), {"name": "aspirin"})
    assert response.status_code == 403
    assert not patient.medicines.exists()


def test_list_shows_only_own_clinic(client_as, derm, patient):
    other = make_patient(clinic=make_clinic(), family_name="Elsewhere")
    response = client_as(derm).get(url("list"))
    assert patient.family_name.encode() in response.content
    assert other.family_name.encode() not in response.content


# --- list ----------------------------------------------------------------------------------------------------------


def test_list_search_and_filters(client_as, derm, clinic):
    smoker = make_patient(
        clinic=clinic, family_name="Smokerly", risk={"smoking_status": "current"}, date_of_birth=dt.date(1971, 3, 4)
    )
    make_patient(clinic=clinic, family_name="Clearwater", dermatologist=derm)
    client = client_as(derm)
    found = client.post(url("list"), {"q": "04/03/1971"}, follow=True)
    assert [r.record_number for r in found.context["rows"]] == [smoker.record_number]
    rows = client.get(url("list"), {"badge": "SMOKER_ANY"}).context["rows"]
    assert [r.record_number for r in rows] == [smoker.record_number]
    rows = client.get(url("list"), {"dermatologist": derm.pk}).context["rows"]
    assert [r.family_name for r in rows] == ["Clearwater"]
    assert client.get(url("list"), {"page": "x", "dermatologist": "y"}).status_code == 200


def _count_queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow(client_as, derm, clinic, django_assert_num_queries):
    client = client_as(derm)
    for _ in range(3):
        make_patient(clinic=clinic, dermatologist=derm, risk={"smoking_status": "current"})
    few = _count_queries(client, url("list"))
    for _ in range(27):
        make_patient(clinic=clinic, dermatologist=derm, risk={"hypertension": True})
    with django_assert_num_queries(few):
        client.get(url("list"))
    # session, user, permissions with roles (one query: portal/security/backends.py), patients, their open courses,
    # dermatologists, drugs, session save; on SQLite a savepoint and its release around each of the two transactions
    assert few <= 12


def test_detail_query_count_does_not_grow(client_as, derm, patient, django_assert_num_queries):
    client = client_as(derm)

    def add(n):
        for i in range(n):
            services.assessment_record(
                actor=derm, patient=patient, assessed_on=dt.date(2025, 1, 1 + i), data={"viga": 3, "itch_nrs": 7}
            )
            services.screening_result_record(
                actor=derm, patient=patient, item="cbc", performed_on=dt.date(2025, 1, 1 + i), result="normal"
            )
            services.medicine_add(actor=derm, patient=patient, medicine=None, name=f"medicine {i}")

    add(3)
    few = _count_queries(client, url("detail", patient))
    add(27)
    with django_assert_num_queries(few):
        client.get(url("detail", patient))
    # the record itself (with the lab results the screening checklist counts), the therapy section (courses, their
    # open checks), the monitoring section (results, the clinic's unit system for the trends) and the timeline
    # (results, risk-profile audit rows; the lab tests and thresholds come from the catalogue cache): fixed,
    # whatever the data. Assessments, screening, medicines, courses, course events, alerts and symptom checks are
    # read once and shared (portal/memo.py).
    assert few <= 25


# --- detail and access log -----------------------------------------------------------------------------------------


def test_every_view_is_logged_and_shown_to_dermatologists(client_as, derm, nurse, patient):
    client_as(nurse).get(url("detail", patient))
    response = client_as(derm).get(url("detail", patient))
    views = AuditEvent.objects.filter(action="view", object_type="patients.patient", object_id=str(patient.pk))
    assert {e.actor for e in views} == {nurse, derm}
    assert nurse.username.encode() in response.content
    assert b"Access and change history" in response.content


def test_nurse_does_not_see_access_history(client_as, nurse, patient):
    assert b"Access and change history" not in client_as(nurse).get(url("detail", patient)).content


def test_detail_shows_badges_with_reason_and_source(client_as, derm, clinic):
    p = make_patient(
        clinic=clinic,
        date_of_birth=timezone.localdate() - dt.timedelta(days=58 * 366),
        risk={"smoking_status": "current", "hypertension": True},
    )
    content = client_as(derm).get(url("detail", p)).content.decode()
    assert "Risk: US boxed-warning group" in content
    assert "high blood pressure" in content
    assert "[S60]" in content
    assert "Local definitions, not label facts" in content


# --- create and edit -----------------------------------------------------------------------------------------------


def new_patient_data(**overrides):
    data = {
        "record_number": "NEW-1",
        "given_name": "Newa",
        "family_name": "Fictional",
        "date_of_birth": "1980-02-03",
        "sex_at_birth": "female",
        "row_version": "",
    }
    return {**data, **overrides}


def test_register_patient(client_as, derm, clinic):
    response = client_as(derm).post(url("create"), new_patient_data(date_of_birth="03/02/1980"))
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("risk", patient)
    assert patient.clinic == clinic
    assert patient.date_of_birth == dt.date(1980, 2, 3)
    assert str(patient.public_id) in response["Location"]
    assert "NEW-1" not in response["Location"]


def test_future_birth_date_is_refused_next_to_the_field(client_as, derm):
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = client_as(derm).post(url("create"), new_patient_data(date_of_birth=future))
    assert response.status_code == 200
    assert field_error(response, "date_of_birth") == "This date is in the future."
    assert b'value="Newa"' in response.content
    assert not Patient.objects.exists()


def test_duplicate_record_number_is_refused(client_as, derm, clinic):
    make_patient(clinic=clinic, record_number="NEW-1")
    response = client_as(derm).post(url("create"), new_patient_data())
    assert response.status_code == 200
    assert "already exists" in field_error(response, "record_number")
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"), [("weight_kg", "351"), ("height_cm", "39"), ("date_of_birth", "1899-12-31")]
)
def test_implausible_demographics(client_as, derm, field, value):
    response = client_as(derm).post(url("create"), new_patient_data(**{field: value}))
    assert field_error(response, field)
    assert not Patient.objects.exists()


def edit_data(patient, **overrides):
    data = {
        "record_number": patient.record_number,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex_at_birth": patient.sex_at_birth,
        "row_version": patient.row_version,
        "dermatologist": patient.dermatologist_id or "",
    }
    return {**data, **overrides}


def test_edit_demographics_records_previous_value(client_as, derm, patient):
    response = client_as(derm).post(url("edit", patient), edit_data(patient, weight_kg="70"))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="change")
    assert event.changes == {"weight_kg": [None, "70"]}


def test_concurrent_edit_is_refused_and_input_kept(client_as, derm, patient):
    client = client_as(derm)
    first = edit_data(patient, phone="0101 000")
    second = edit_data(patient, phone="0202 000")  # opened at the same version
    assert client.post(url("edit", patient), first).status_code == 302
    response = client.post(url("edit", patient), second)
    assert response.status_code == 200
    assert b"someone else changed this record" in response.content
    assert b'value="0202 000"' in response.content
    assert b"0101 000" in response.content  # the saved value is shown for comparison
    assert b'name="row_version" value="2"' in response.content
    patient.refresh_from_db()
    assert patient.phone == "0101 000"
    assert client.post(url("edit", patient), {**second, "row_version": 2}).status_code == 302


# --- risk profile --------------------------------------------------------------------------------------------------


def risk_data(**overrides):
    return {"smoking_status": "never", "tb_status": "never_tested", "row_version": 1, **overrides}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"egfr": "900"}, "egfr", "Enter a value from 0 to 200"),
        ({"pack_years": "5"}, "pack_years", "Pack-years apply only to current or former smokers."),
        ({"smoking_status": "current", "pack_years": "201"}, "pack_years", "Enter a value from 0 to 200"),
        ({"smoking_status": "former", "smoking_quit_year": "1900"}, "smoking_quit_year", "The quit year must be"),
    ],
)
def test_implausible_risk_values_refused(client_as, derm, patient, overrides, field, message):
    response = client_as(derm).post(url("risk", patient), risk_data(**overrides))
    assert response.status_code == 200
    assert message in field_error(response, field)
    assert RiskProfile.objects.get(patient=patient).row_version == 1
    assert not AuditEvent.objects.filter(action="change").exists()


def test_risk_profile_saved_and_attributed(client_as, derm, patient):
    response = client_as(derm).post(
        url("risk", patient), risk_data(smoking_status="current", pack_years="30", hypertension="on")
    )
    assert response.status_code == 302
    profile = RiskProfile.objects.get(patient=patient)
    assert profile.pack_years == Decimal(30)
    assert profile.hypertension
    assert profile.item_meta["hypertension"]["by"] == derm.username


def test_stale_risk_profile_save_refused(client_as, derm, patient):
    client = client_as(derm)
    assert client.post(url("risk", patient), risk_data(diabetes="on")).status_code == 302
    response = client.post(url("risk", patient), risk_data(stroke="on"))
    assert b"someone else changed this record" in response.content
    profile = RiskProfile.objects.get(patient=patient)
    assert profile.diabetes
    assert not profile.stroke


# --- medicines, screening, assessments ----------------------------------------------------------------------------


def test_add_and_stop_medicine(client_as, derm, patient):
    client = client_as(derm)
    assert client.post(url("medicines", patient), {"name": "aspirin", "dose_text": "75 mg"}).status_code == 302
    entry = patient.medicines.get()
    assert str(entry) == "aspirin 75 mg"
    stop = reverse("patients:medicine_stop", args=[patient.public_id, entry.pk])
    assert client.post(stop, {"stopped_on": "2026-01-01"}).status_code == 302
    entry.refresh_from_db()
    assert entry.stopped_on == dt.date(2026, 1, 1)


def test_medicine_needs_a_name(client_as, derm, patient):
    response = client_as(derm).post(url("medicines", patient), {"dose_text": "75 mg"})
    assert field_error(response, "name") == "Pick a catalogue medicine or type its name."


def _row(detail, code):
    return next(row for row in detail.context["checklist"] if row.code == code)


def test_risk_profile_tb_negative_shows_tb_done_by_the_risk_profile(client_as, derm, patient):
    client = client_as(derm)
    assert client.post(url("risk", patient), risk_data(tb_status="negative", hepatitis_c="negative")).status_code == 302
    detail = client.get(url("detail", patient))
    tb = _row(detail, "tb")
    assert tb.done
    assert tb.evidence.source_label == "Risk profile"
    assert tb.evidence.on == timezone.localdate()
    assert _row(detail, "hcv").done
    assert "TB test (IGRA or skin test)" not in detail.context["missing_screening"]
    assert "Risk profile: tuberculosis negative" in detail.content.decode()


def test_newer_screening_record_replaces_the_risk_profile_status(client_as, derm, patient):
    client = client_as(derm)
    client.post(url("risk", patient), risk_data(tb_status="negative"))
    services.screening_result_record(
        actor=derm, patient=patient, item="tb", performed_on=timezone.localdate(), result="positive"
    )
    tb = _row(client.get(url("detail", patient)), "tb")
    # same day: the positive screening record wins over the negative status
    assert (tb.evidence.source_label, tb.evidence.result) == ("Screening record", "positive")


def test_zoster_tick_does_not_satisfy_vaccinations(client_as, derm, patient):
    client = client_as(derm)
    client.post(url("risk", patient), risk_data(zoster_vaccinated="on"))
    assert not _row(client.get(url("detail", patient)), "vaccinations").done


def test_nurse_records_screening_result(client_as, nurse, patient):
    response = client_as(nurse).post(
        url("screening", patient), {"item": "tb", "performed_on": "2026-01-05", "result": "negative", "note": "IGRA"}
    )
    assert response.status_code == 302
    assert patient.screening_results.get().recorded_by == nurse
    detail = client_as(nurse).get(url("detail", patient))
    assert "TB test (IGRA or skin test)" not in " ".join(detail.context["missing_screening"])


def easi_data(**overrides):
    data = {"assessed_on": "2026-01-10", "viga": "3", "itch_nrs": "7"}
    data.update(dict.fromkeys(services.EASI_PART_FIELDS, "1"))
    return {**data, **overrides}


def test_nurse_records_assessment_and_easi_is_computed(client_as, nurse, patient):
    assert client_as(nurse).post(url("assessment_create", patient), easi_data()).status_code == 302
    assert Assessment.objects.get().easi == Decimal("4.0")


def test_easi_region_score_of_7_is_refused_next_to_the_field(client_as, derm, patient):
    response = client_as(derm).post(url("assessment_create", patient), easi_data(easi_trunk_area="7"))
    assert response.status_code == 200
    assert field_error(response, "easi_trunk_area") == "Enter a value from 0 to 6."
    assert b'name="viga" value="3"' in response.content
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("viga", "5"), ("itch_nrs", "11"), ("poem", "29"), ("dlqi", "31"), ("scorad", "104"), ("easi_head_erythema", "4")],
)
def test_score_ranges(client_as, derm, patient, field, value):
    response = client_as(derm).post(url("assessment_create", patient), easi_data(**{field: value}))
    assert field_error(response, field)
    assert not Assessment.objects.exists()


def test_response_against_baseline_on_patient_page(client_as, derm, patient):
    client = client_as(derm)
    client.post(url("assessment_create", patient), easi_data(assessed_on="2026-01-01", viga="4", itch_nrs="8"))
    low = {**dict.fromkeys(services.EASI_PART_FIELDS, "0"), "viga": "1", "itch_nrs": "3"}
    client.post(url("assessment_create", patient), {"assessed_on": "2026-04-01", **low})
    content = client.get(url("detail", patient)).content.decode()
    assert "EASI-75: met" in content
    assert "vIGA-AD 0/1 with ≥2-point fall: met" in content
    assert "Itch NRS fall ≥4: met" in content


def test_home_page_links_to_patients(client_as, derm, catalogue_admin, patient):
    content = client_as(derm).get(reverse("portal:home")).content.decode()
    assert "Your patients" in content
    assert "Register a patient" in content
    assert "Find a patient" not in client_as(catalogue_admin).get(reverse("portal:home")).content.decode()


# --- EASI by age, half scores, regions without eczema (issue 14, clinical-reference §9.7) -----------------------


@pytest.fixture
def child(clinic, derm):
    """Aged 5 on 10 January 2026."""
    return make_patient(clinic=clinic, dermatologist=derm, date_of_birth=dt.date(2020, 6, 1))


def head_only_data(**overrides):
    """Head area 4 with signs 2+2+2+2; the other regions area 0 with their signs left empty."""
    data = {"assessed_on": "2026-01-10", "easi_head_area": "4"}
    data.update({f"easi_head_{sign}": "2" for sign in ("erythema", "induration", "excoriation", "lichenification")})
    data.update({f"easi_{region}_area": "0" for region in ("upper", "trunk", "lower")})
    return {**data, **overrides}


def test_form_shows_the_child_weights_it_uses(client_as, nurse, child):
    content = client_as(nurse).get(url("assessment_create", child)).content.decode()
    assert 'id="easi-weights"' in content
    assert "Head and neck (weight 0.2)" in content
    assert "Lower limbs (weight 0.3)" in content
    assert 'class="table-primary"><th scope="row">Children aged 0–7 years' in content


def test_form_shows_the_adult_weights_for_an_adult(client_as, nurse, patient):
    content = client_as(nurse).get(url("assessment_create", patient)).content.decode()
    assert "Head and neck (weight 0.1)" in content
    assert "Lower limbs (weight 0.4)" in content
    assert 'class="table-primary"><th scope="row">Aged 8 years and over' in content


@pytest.mark.parametrize(("patient_fixture", "easi"), [("child", Decimal("6.4")), ("patient", Decimal("3.2"))])
def test_head_only_eczema_with_empty_regions_is_accepted(client_as, nurse, request, patient_fixture, easi):
    """Issue 14: a 5-year-old with head-only disease scores 6.4, an adult 3.2; empty regions need no signs."""
    who = request.getfixturevalue(patient_fixture)
    assert client_as(nurse).post(url("assessment_create", who), head_only_data()).status_code == 302
    assert Assessment.objects.get().easi == easi


def test_half_scores_and_decimal_comma_are_accepted(client_as, nurse, child):
    data = head_only_data(easi_head_erythema="1.5", easi_head_induration="2,5")
    assert client_as(nurse).post(url("assessment_create", child), data).status_code == 302
    saved = Assessment.objects.get()
    assert (saved.easi_head_erythema, saved.easi_head_induration) == (Decimal("1.5"), Decimal("2.5"))
    assert saved.easi == Decimal("6.4")


@pytest.mark.parametrize("value", ["0.3", "2.25", "1.7"])
def test_sign_off_the_half_step_is_refused_next_to_the_field(client_as, nurse, child, value):
    response = client_as(nurse).post(url("assessment_create", child), head_only_data(easi_head_erythema=value))
    assert response.status_code == 200
    assert field_error(response, "easi_head_erythema") == "Enter a whole or half score: 0, 0.5, 1, 1.5, 2, 2.5 or 3."
    content = response.content.decode()
    assert f'name="easi_head_erythema" value="{value}"' in content  # what was typed is kept
    assert 'name="easi_head_area" value="4"' in content
    assert not Assessment.objects.exists()


def test_region_with_eczema_and_a_blank_sign_is_refused_next_to_the_field(client_as, nurse, child):
    response = client_as(nurse).post(
        url("assessment_create", child), head_only_data(easi_trunk_area="2", easi_trunk_erythema="1")
    )
    assert response.status_code == 200
    assert field_error(response, "easi_trunk_induration") == (
        "Enter this score too (0 if none): the region has eczema (area above 0)."
    )
    assert 'name="easi_trunk_erythema" value="1"' in response.content.decode()
    assert not Assessment.objects.exists()


def test_region_without_an_area_is_refused_next_to_the_field(client_as, nurse, child):
    response = client_as(nurse).post(url("assessment_create", child), head_only_data(easi_lower_area=""))
    assert field_error(response, "easi_lower_area") == "Enter the area score (0 if this region has no eczema)."
    assert not Assessment.objects.exists()


def test_half_area_score_is_refused(client_as, nurse, child):
    response = client_as(nurse).post(url("assessment_create", child), head_only_data(easi_head_area="2.5"))
    assert field_error(response, "easi_head_area") == "Enter a whole number from 0 to 6."
    assert not Assessment.objects.exists()


def test_weights_shown_follow_the_typed_date(client_as, nurse, clinic, derm):
    """Born 10 January 2018: a form sent back for 9 January 2026 (aged 7) shows the child weights."""
    who = make_patient(clinic=clinic, dermatologist=derm, date_of_birth=dt.date(2018, 1, 10))
    response = client_as(nurse).post(
        url("assessment_create", who), head_only_data(assessed_on="2026-01-09", easi_head_erythema="0.3")
    )
    content = response.content.decode()
    assert "this patient is 7 on 09/01/2026" in content
    assert "Head and neck (weight 0.2)" in content


def test_assessment_before_birth_is_refused_next_to_the_date(client_as, nurse, child):
    response = client_as(nurse).post(url("assessment_create", child), head_only_data(assessed_on="2020-05-31"))
    assert field_error(response, "assessed_on") == "The date is before the patient's date of birth."
    assert not Assessment.objects.exists()


def test_every_easi_problem_is_shown_at_once(client_as, nurse, child):
    """A refused half score and a missing sign elsewhere come back together, so one correction round is enough."""
    data = head_only_data(easi_head_erythema="0.3", easi_upper_area="1")
    response = client_as(nurse).post(url("assessment_create", child), data)
    assert field_error(response, "easi_head_erythema") == "Enter a whole or half score: 0, 0.5, 1, 1.5, 2, 2.5 or 3."
    assert set(response.context["form"].errors) == {
        "easi_head_erythema",
        "easi_upper_erythema",
        "easi_upper_induration",
        "easi_upper_excoriation",
        "easi_upper_lichenification",
    }


@pytest.mark.parametrize("value", ["NaN", "1e309", "-0.5", "3.5"])
def test_sign_out_of_range_is_a_form_error_not_a_500(client_as, nurse, child, value):
    """Found by the form fuzz test: NaN reached the half-step check and raised decimal.InvalidOperation."""
    response = client_as(nurse).post(url("assessment_create", child), head_only_data(easi_head_erythema=value))
    assert response.status_code == 200
    assert field_error(response, "easi_head_erythema")
    assert not Assessment.objects.exists()
