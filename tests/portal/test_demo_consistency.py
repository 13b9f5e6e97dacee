"""The demo clinic of `make run` (setup_demo) reads as a consistent record, for every demo patient.

Each test states one invariant a clinician would notice broken, checks it over all demo patients generically and
lists every patient that breaks it. The clinic is seeded once for the module (about five seconds).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from drugs.selectors import drug_label
from monitoring.models import Alert, SymptomCheck
from patients import risk, screening
from patients.management.commands.seed_demo_clinic import FEMALE_GIVEN, MALE_GIVEN
from patients.models import Patient, RiskProfile
from patients.selectors import PATIENT_OBJECT_TYPE
from portal.models import AuditEvent
from therapy import services
from therapy.models import CourseEvent, ScheduledItem, TreatmentCourse
from therapy.safety import Severity

pytestmark = pytest.mark.django_db

HORMONAL = re.compile(r"estradiol|oestrogen|estrogen|ethinyl|combined oral contraceptive|\bHRT\b", re.IGNORECASE)
POSITIVE_TB = ("latent_untreated", "latent_treated", "active")
PANEL_OF_CHECK = {"cbc": "cbc", "lipids": "lipids", "liver": "liver", "kidney": "kidney", "cpk": "cpk"}
CODED_OF_CHECK = {"tb": {"tb_igra"}, "hbv": {"hbsag", "anti_hbc"}, "hcv": {"hcv_ab"}, "pregnancy": {"hcg_urine"}}
PREGNANCY_WEEKS = 42
TOPICAL_MAX_BSA = Decimal(20)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """setup_demo once for the module, rolled back at its end."""
    with django_db_blocker.unblock(), override_settings(PORTAL_DEMO=True), transaction.atomic():
        call_command("setup_demo", verbosity=0)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def patients(demo):
    rows = list(
        Patient.objects.filter(record_number__startswith="DEMO-")
        .select_related("risk_profile")
        .prefetch_related(
            "medicines__medicine",
            "screening_results",
            "assessments",
            "lab_results__lab_test__units",
            "symptom_checks",
            "alerts__lab_result",
            "alerts__symptom_check",
            "courses__drug",
            "courses__events__findings",
            "courses__schedule",
        )
        .order_by("record_number")
    )
    assert len(rows) == 60
    return rows


def _local(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _profile(patient: Patient) -> RiskProfile | None:
    try:
        return patient.risk_profile
    except RiskProfile.DoesNotExist:
        return None


def _history(patient: Patient) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type=PATIENT_OBJECT_TYPE, object_id=str(patient.pk)).order_by("at"))


def _childbearing(patient: Patient, profile: RiskProfile | None, on: dt.date) -> bool:
    return screening.pregnancy_test_relevant(
        sex_at_birth=patient.sex_at_birth,
        age=risk.age_on(patient.date_of_birth, on),
        no_childbearing_potential=bool(profile and profile.no_childbearing_potential),
    )


def _check(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} inconsistencies in the demo record:\n" + "\n".join(problems)


def test_given_names_match_sex_at_birth(patients):
    assert not set(FEMALE_GIVEN) & set(MALE_GIVEN)
    names = {"female": FEMALE_GIVEN, "male": MALE_GIVEN}
    _check(
        [
            f"{p.record_number}: {p.given_name} is not a {p.sex_at_birth} name"
            for p in patients
            if p.given_name not in names.get(p.sex_at_birth, ())
        ]
    )


def test_sex_specific_facts_only_on_women_who_can_be_pregnant(patients):
    today = timezone.localdate()
    problems = []
    for p in patients:
        profile = _profile(p)
        if profile is None:
            continue
        meta = profile.item_meta
        for flag in ("pregnant", "breastfeeding", "planning_pregnancy"):
            if not getattr(profile, flag):
                continue
            recorded = _local(dt.datetime.fromisoformat(meta[flag]["at"]))
            if not _childbearing(p, profile, recorded):
                problems.append(
                    f"{p.record_number}: {flag} on a {p.sex_at_birth} aged {risk.age_on(p.date_of_birth, recorded)}"
                )
        if profile.pregnant:
            recorded = _local(dt.datetime.fromisoformat(meta["pregnant"]["at"]))
            if (today - recorded).days > PREGNANCY_WEEKS * 7:
                problems.append(f"{p.record_number}: pregnant since {recorded}, longer than a pregnancy")
        if profile.no_childbearing_potential and p.sex_at_birth != "female":
            problems.append(f"{p.record_number}: 'no child-bearing potential' recorded for a {p.sex_at_birth}")
        for result in p.screening_results.all():
            if result.item == "pregnancy" and not _childbearing(p, profile, result.performed_on):
                problems.append(f"{p.record_number}: pregnancy test on {result.performed_on} where none applies")
        for lab in p.lab_results.all():
            if lab.lab_test.analyte.startswith("hcg") and not _childbearing(p, profile, lab.collected_on):
                problems.append(f"{p.record_number}: hCG result on {lab.collected_on} where no pregnancy test applies")
        if profile.pregnant and not any(
            s.item == "pregnancy" and s.result == "positive" for s in p.screening_results.all()
        ):
            problems.append(f"{p.record_number}: pregnant without a positive pregnancy test")
    _check(problems)


def test_registration_comes_before_everything_the_record_shows(patients):
    problems = []
    for p in patients:
        registered = p.created_at
        shown = [
            ("updated", p.updated_at),
            *((f"screening {s.item} recorded", s.recorded_at) for s in p.screening_results.all()),
            *((f"assessment {a.assessed_on} recorded", a.recorded_at) for a in p.assessments.all()),
            *((f"lab {r.lab_test.analyte} {r.collected_on} recorded", r.recorded_at) for r in p.lab_results.all()),
            *((f"medicine {m} recorded", m.created_at) for m in p.medicines.all()),
            *((f"symptom check {c.checked_on} recorded", c.recorded_at) for c in p.symptom_checks.all()),
            *((f"alert {a.title}", a.created_at) for a in p.alerts.all()),
            *((f"course {c} created", c.created_at) for c in p.courses.all()),
            *((f"audit {e.summary}", e.at) for e in _history(p)),
        ]
        profile = _profile(p)
        if profile is not None:
            shown.append(("risk profile updated", profile.updated_at))
            shown += [
                (f"risk item {name}", dt.datetime.fromisoformat(m["at"])) for name, m in profile.item_meta.items()
            ]
        problems += [
            f"{p.record_number}: {what} at {at} before registration at {registered}"
            for what, at in shown
            if at < registered
        ]
        days = [
            *((f"screening {s.item}", s.performed_on) for s in p.screening_results.all()),
            *(("assessment", a.assessed_on) for a in p.assessments.all()),
            *((f"lab {r.lab_test.analyte}", r.collected_on) for r in p.lab_results.all()),
            *((f"course {c}", c.start_date) for c in p.courses.all()),
            *(("symptom check", c.checked_on) for c in p.symptom_checks.all()),
        ]
        problems += [
            f"{p.record_number}: {what} on {on} before registration on {_local(registered)}"
            for what, on in days
            if on < _local(registered)
        ]
        first = _history(p)[:1]
        if not first or first[0].at != registered or "registered" not in first[0].summary:
            problems.append(f"{p.record_number}: the history does not open with the registration at {registered}")
    _check(problems)


def test_each_row_is_recorded_on_or_after_the_day_it_describes(patients):
    problems = []
    for p in patients:
        pairs = [
            *((f"screening {s.item}", s.performed_on, s.recorded_at) for s in p.screening_results.all()),
            *(("assessment", a.assessed_on, a.recorded_at) for a in p.assessments.all()),
            *((f"lab {r.lab_test.analyte}", r.collected_on, r.recorded_at) for r in p.lab_results.all()),
            *(("symptom check", c.checked_on, c.recorded_at) for c in p.symptom_checks.all()),
        ]
        for what, on, at in pairs:
            if _local(at) < on:
                problems.append(f"{p.record_number}: {what} of {on} recorded earlier, at {at}")
        for alert in p.alerts.all():
            source = alert.lab_result or alert.symptom_check
            source_at = alert.lab_result.recorded_at if alert.lab_result else alert.symptom_check.recorded_at
            if source is not None and alert.created_at < source_at:
                problems.append(f"{p.record_number}: alert {alert.title} raised before its result was recorded")
        profile = _profile(p)
        if profile is not None:
            for name, item in (
                ("tb_status", "tb"),
                ("hepatitis_b", "hbsag"),
                ("hepatitis_c", "hcv"),
                ("egfr", "kidney"),
            ):
                tests = [s.recorded_at for s in p.screening_results.all() if s.item == item]
                if (
                    name in profile.item_meta
                    and tests
                    and dt.datetime.fromisoformat(profile.item_meta[name]["at"]) < min(tests)
                ):
                    problems.append(f"{p.record_number}: risk item {name} recorded before the {item} test came back")
    _check(problems)


def test_courses_start_after_screening_with_the_check_answered_that_day(patients):
    problems = []
    for p in patients:
        courses = list(p.courses.all())
        if not courses:
            continue
        first_start = min(c.start_date for c in courses)
        tests = [s.performed_on for s in p.screening_results.all()]
        if not tests or min(tests) >= first_start:
            problems.append(f"{p.record_number}: no screening before the first course start {first_start}")
        baseline = min((a.assessed_on for a in p.assessments.all()), default=None)
        if baseline is None or baseline > first_start:
            problems.append(f"{p.record_number}: no baseline assessment by the start {first_start}")
        for course in courses:
            events = sorted(course.events.all(), key=lambda e: (e.on, e.pk))
            if not events or events[0].kind != CourseEvent.Kind.START or events[0].on != course.start_date:
                problems.append(
                    f"{p.record_number}: {course} does not open with its start event on {course.start_date}"
                )
                continue
            if _local(course.created_at) != course.start_date:
                problems.append(
                    f"{p.record_number}: {course} created on {_local(course.created_at)}, starts {course.start_date}"
                )
            for event in events:
                if event.on < course.start_date or _local(event.created_at) < event.on:
                    problems.append(f"{p.record_number}: {course} {event.kind} on {event.on} out of order")
                for finding in event.findings.all():
                    if finding.acknowledged_at and _local(finding.acknowledged_at) != event.on:
                        problems.append(
                            f"{p.record_number}: {course} finding {finding.code} answered on "
                            f"{_local(finding.acknowledged_at)}, not on the {event.kind} day {event.on}"
                        )
                    if finding.severity >= Severity.WARNING and not finding.acknowledgement:
                        problems.append(f"{p.record_number}: {course} finding {finding.code} not answered")
                    if finding.severity >= Severity.DO_NOT_START and not (
                        finding.overridden and course.override_reason
                    ):
                        problems.append(f"{p.record_number}: {course} blocking {finding.code} without an override")
            started = [h for h in _history(p) if h.summary.startswith(f"Started {course}")]
            if not started or _local(started[0].at) != course.start_date:
                problems.append(
                    f"{p.record_number}: the audit event of starting {course} is not dated {course.start_date}"
                )
            for item in course.schedule.all():
                if item.completed_on and not course.start_date <= item.completed_on <= timezone.localdate():
                    problems.append(f"{p.record_number}: {course} check {item.check_type} done on {item.completed_on}")
    _check(problems)


def test_monitoring_follows_the_start_and_alerts_follow_results(patients):
    problems = []
    for p in patients:
        starts = [c.start_date for c in p.courses.all()]
        for alert in p.alerts.all():
            if alert.course is not None and _local(alert.created_at) < alert.course.start_date:
                problems.append(f"{p.record_number}: alert {alert.title} before its course started")
            result, course = alert.lab_result, alert.course
            if result is not None and course is not None and result.collected_on < course.start_date:
                problems.append(f"{p.record_number}: alert on a result taken before the course")
        for check in p.symptom_checks.all():
            if not starts or check.checked_on < min(starts):
                problems.append(f"{p.record_number}: symptom check on {check.checked_on} before any course")
    _check(problems)


def test_done_checks_stand_on_a_result_of_that_day(patients):
    problems = []
    for p in patients:
        panels_on = defaultdict(set)
        for r in p.lab_results.all():
            panels_on[r.collected_on] |= {r.lab_test.panel, r.lab_test.analyte}
        checked_on = {c.checked_on for c in p.symptom_checks.all()}
        for course in p.courses.all():
            for item in course.schedule.all():
                if item.status != ScheduledItem.Status.DONE:
                    continue
                on = item.completed_on
                if item.check_type in PANEL_OF_CHECK and PANEL_OF_CHECK[item.check_type] not in panels_on[on]:
                    problems.append(f"{p.record_number}: {item.check_type} check done on {on} with no result")
                if item.check_type in CODED_OF_CHECK and not CODED_OF_CHECK[item.check_type] & panels_on[on]:
                    problems.append(f"{p.record_number}: {item.check_type} check done on {on} with no test")
                if item.check_type == "infection_check" and on not in checked_on:
                    problems.append(f"{p.record_number}: infection check done on {on} with no symptom check")
    _check(problems)


def test_no_date_in_the_future_but_scheduled_checks(patients):
    today, now = timezone.localdate(), timezone.now()
    problems = []
    for p in patients:
        days = [
            ("born", p.date_of_birth),
            ("diagnosed", p.diagnosis_date),
            *((f"screening {s.item}", s.performed_on) for s in p.screening_results.all()),
            *(("assessment", a.assessed_on) for a in p.assessments.all()),
            *((f"lab {r.lab_test.analyte}", r.collected_on) for r in p.lab_results.all()),
            *((f"medicine {m}", m.started_on) for m in p.medicines.all()),
            *(("symptom check", c.checked_on) for c in p.symptom_checks.all()),
            *((f"course {c}", c.start_date) for c in p.courses.all()),
            *(("course event", e.on) for c in p.courses.all() for e in c.events.all()),
            *(("check done", i.completed_on) for c in p.courses.all() for i in c.schedule.all()),
        ]
        problems += [f"{p.record_number}: {what} on {on}, after today" for what, on in days if on and on > today]
        moments = [
            ("registered", p.created_at),
            *((f"audit {e.summary}", e.at) for e in _history(p)),
            *((f"alert {a.title}", a.created_at) for a in p.alerts.all()),
            *((f"lab {r.lab_test.analyte}", r.recorded_at) for r in p.lab_results.all()),
        ]
        problems += [f"{p.record_number}: {what} at {at}, after now" for what, at in moments if at > now]
    _check(problems)


def test_dates_are_within_the_patients_life(patients):
    problems = []
    for p in patients:
        born, registered = p.date_of_birth, _local(p.created_at)
        if not born < p.diagnosis_date <= registered:
            problems.append(f"{p.record_number}: diagnosed {p.diagnosis_date}, born {born}, registered {registered}")
        for m in p.medicines.all():
            if m.started_on and not born + dt.timedelta(days=12 * 365) <= m.started_on <= registered:
                problems.append(f"{p.record_number}: {m} started {m.started_on} (born {born}, registered {registered})")
        for r in p.lab_results.all():
            if r.collected_on < born:
                problems.append(f"{p.record_number}: lab result of {r.collected_on} before birth")
        profile = _profile(p)
        if profile and profile.smoking_quit_year and not born.year + 10 <= profile.smoking_quit_year <= registered.year:
            problems.append(f"{p.record_number}: stopped smoking in {profile.smoking_quit_year}, born {born.year}")
    _check(problems)


def test_courses_fit_the_patient(patients):
    problems = []
    jurisdiction = services.jurisdiction()
    for p in patients:
        profile = _profile(p)
        if profile and (profile.pregnant or profile.breastfeeding or profile.planning_pregnancy) and p.courses.exists():
            problems.append(f"{p.record_number}: a JAK-inhibitor course in pregnancy or breastfeeding")
        for course in p.courses.all():
            age = risk.age_on(p.date_of_birth, course.start_date) or 0
            label = drug_label(course.drug)
            status = label.status(jurisdiction)
            if age < 18 and not (
                status
                and status.status == "approved"
                and (status.min_age_years is None or age >= status.min_age_years)
                and (status.min_weight_kg is None or p.weight_kg >= status.min_weight_kg)
            ):
                problems.append(f"{p.record_number}: {course} for a child of {age} it is not licensed for")
            start = next(e for e in course.events.all() if e.kind == CourseEvent.Kind.START)
            if course.dose is not None:
                options = services.dose_options(p, course.drug, on=course.start_date)
                if not any(o.dose == start.dose_after and (age >= 18 or not o.off_label) for o in options):
                    problems.append(f"{p.record_number}: {course} at a dose the label does not offer at {age}")
            findings = list(start.findings.all())
            if any(f.severity == Severity.CONTRAINDICATED for f in findings):
                problems.append(f"{p.record_number}: {course} started against a contraindication")
            advised = [f.recommended_dose for f in findings if f.recommended_dose is not None]
            if start.dose_after is not None and advised and start.dose_after > min(advised):
                problems.append(f"{p.record_number}: {course} started above the advised {min(advised)} mg")
            if course.drug.route == "topical":
                if p.bsa_percent is None or p.bsa_percent > TOPICAL_MAX_BSA:
                    problems.append(f"{p.record_number}: a cream for {p.bsa_percent} % of the body")
                if course.topical_bsa_percent is not None and course.topical_bsa_percent > p.bsa_percent:
                    problems.append(f"{p.record_number}: {course} treats more than the affected area")
    _check(problems)


def test_risk_profile_agrees_with_screening_and_medicines(patients):
    problems = []
    for p in patients:
        profile = _profile(p)
        results = defaultdict(set)
        for s in p.screening_results.all():
            results[s.item].add(s.result)
        if profile is None:
            continue
        expected = {
            "tb": "positive" if profile.tb_status in POSITIVE_TB else "negative",
            "hbsag": "positive" if profile.hepatitis_b == "positive" else "negative",
            "hbcab": "positive" if profile.hepatitis_b == "positive" else "negative",
            "hcv": "positive" if profile.hepatitis_c == "positive" else "negative",
        }
        recorded = {"tb": profile.tb_status != "never_tested", "hbsag": bool(profile.hepatitis_b)}
        recorded |= {"hbcab": bool(profile.hepatitis_b), "hcv": bool(profile.hepatitis_c)}
        for item, outcome in expected.items():
            if results[item] - {outcome} and recorded[item]:
                problems.append(f"{p.record_number}: {item} {sorted(results[item])} but the profile says otherwise")
            if recorded[item] and not results[item]:
                problems.append(f"{p.record_number}: profile records {item} without a test")
            if results[item] and not recorded[item]:
                problems.append(f"{p.record_number}: {item} tested but the profile still says not tested")
        if profile.egfr is not None:
            latest = max(
                (r for r in p.lab_results.all() if r.lab_test.analyte == "egfr"),
                key=lambda r: r.collected_on,
                default=None,
            )
            if latest is None or abs(latest.value - profile.egfr) > 5:
                problems.append(
                    f"{p.record_number}: profile eGFR {profile.egfr}, latest eGFR result {latest and latest.value}"
                )
            if profile.egfr < 60 and "abnormal" not in results["kidney"]:
                problems.append(
                    f"{p.record_number}: eGFR {profile.egfr} with kidney screening {sorted(results['kidney'])}"
                )
        if profile.zoster_vaccinated and not results["vaccinations"]:
            problems.append(f"{p.record_number}: zoster vaccination without a vaccination record")
        if results["vaccinations"] and not profile.zoster_vaccinated:
            problems.append(f"{p.record_number}: vaccinations up to date (incl. zoster) but not zoster vaccinated")
        hormonal = [m for m in p.medicines.all() if HORMONAL.search(m.display_name)]
        if bool(hormonal) != profile.hormonal_therapy:
            problems.append(f"{p.record_number}: hormonal therapy {profile.hormonal_therapy}, medicines {hormonal}")
    _check(problems)


def test_lab_results_are_flagged_in_the_unit_they_were_entered_in(patients):
    problems = []
    for p in patients:
        for r in p.lab_results.all():
            test = r.lab_test
            if r.value is None:
                continue
            unit = next((u for u in test.units.all() if u.unit == r.entered_unit), None)
            if unit is None:
                problems.append(
                    f"{p.record_number}: {test.analyte} entered in {r.entered_unit!r}, not an accepted unit"
                )
                continue
            if abs(Decimal(r.entered_value) * unit.factor - r.value) > Decimal("0.001"):
                problems.append(
                    f"{p.record_number}: {test.analyte} {r.entered_value} {r.entered_unit} stored as {r.value}"
                )
            low, high = test.reference_low, test.reference_high
            flag = (
                "no_range"
                if low is None and high is None
                else "low"
                if low is not None and r.value < low
                else "high"
                if high is not None and r.value > high
                else "normal"
            )
            if r.flag != flag:
                problems.append(f"{p.record_number}: {test.analyte} {r.value} flagged {r.flag}, not {flag}")
    _check(problems)


def test_scores_agree_with_each_other_and_the_affected_area(patients):
    problems = []
    for p in patients:
        for a in p.assessments.all():
            if a.easi is None or a.viga is None:
                continue
            if (a.easi > 21 and a.viga < 3) or (a.easi <= 7 and a.viga > 2):
                problems.append(f"{p.record_number}: EASI {a.easi} with vIGA {a.viga} on {a.assessed_on}")
        baseline = min(p.assessments.all(), key=lambda a: a.assessed_on, default=None)
        if baseline and p.bsa_percent is not None and baseline.easi > 16 and p.bsa_percent < 10:
            problems.append(f"{p.record_number}: baseline EASI {baseline.easi} on {p.bsa_percent} % of the body")
    _check(problems)


def test_the_action_level_stories_and_alerts_are_there(demo):
    assert Alert.objects.filter(severity=Alert.Severity.URGENT, title__contains="Discontinue").exists()
    assert Alert.objects.filter(severity=Alert.Severity.SAME_DAY, title__contains="ANC").exists()
    assert any("leg_pain_swelling" in check.symptoms for check in SymptomCheck.objects.all())
    assert ScheduledItem.objects.filter(status="open", due_date__lt=timezone.localdate()).exists()
    assert TreatmentCourse.objects.filter(override_reason__gt="").exists()  # an override to show
