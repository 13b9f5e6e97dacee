"""The patient list's rows built in Python (patients/render_list.py): what each cell shows, and escaping."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from drugs.models import Drug
from patients import risk
from patients.render_list import options_html, patient_rows_html
from patients.selectors import PatientListRow, patient_badges, patient_list_page
from tests.factories import TODAY, make_course, make_patient
from therapy.models import TreatmentCourse

XSS = '<script>alert("x")</script>'


def _row(**fields) -> PatientListRow:
    base = {
        "url": "/patients/abc/",
        "family_name": "Testperson",
        "given_name": "Anna",
        "record_number": "MRN-1",
        "date_of_birth": dt.date(1970, 3, 4),
        "age": 56,
        "dermatologist": "Dana Derm",
        "courses": [("Abrocitinib 100 mg", ""), ("Upadacitinib 15 mg", "interrupted")],
        "badges": [],
    }
    return PatientListRow(**{**base, **fields})


def test_a_row_shows_each_cell():
    badge = risk.Badge(code="SMOKER_ANY", label="Smoker", reason="Current smoker", source="label")
    html = str(patient_rows_html([_row(badges=[badge])]))
    assert html.startswith('<tr><td><a href="/patients/abc/">Testperson, Anna</a></td><td>MRN-1</td>')
    assert "<td>04/03/1970</td><td>56</td><td>Dana Derm</td>" in html
    assert "<td>Abrocitinib 100 mg; Upadacitinib 15 mg (interrupted)</td>" in html
    assert '<span class="badge text-bg-warning badge-risk me-1" title="Current smoker">Risk: Smoker</span>' in html


def test_empty_cells_show_a_dash_and_no_flags():
    html = str(patient_rows_html([_row(dermatologist="", courses=[])]))
    assert "<td>—</td><td>—</td>" in html
    assert '<span class="text-body-secondary small">No risk flags</span>' in html
    assert str(patient_rows_html([])) == ""


def test_every_value_is_escaped():
    badge = risk.Badge(code="X", label=XSS, reason='"><img src=x>', source="")
    texts = dict.fromkeys(("family_name", "given_name", "record_number", "dermatologist"), XSS)
    row = _row(**texts, url='/p/"onmouseover="x', courses=[(XSS, XSS)], badges=[badge])
    html = str(patient_rows_html([row]))
    assert "<script>" not in html
    assert "<img" not in html
    assert '"onmouseover' not in html
    assert html.count("&lt;script&gt;") == 7  # names, record number, dermatologist, course and status, badge


def test_rows_with_the_same_courses_each_show_them_and_other_rows_their_own():
    shared = [("Abrocitinib 100 mg", ""), ("Upadacitinib 15 mg", "interrupted")]
    rows = [_row(courses=list(shared)), _row(courses=[("Baricitinib 2 mg", "planned")]), _row(courses=list(shared))]
    cells = [line.split("</td><td>")[5] for line in str(patient_rows_html(rows)).split("\n")]
    assert cells == [
        "Abrocitinib 100 mg; Upadacitinib 15 mg (interrupted)",
        "Baricitinib 2 mg (planned)",
        "Abrocitinib 100 mg; Upadacitinib 15 mg (interrupted)",
    ]


def test_values_repeated_across_rows_are_escaped_in_every_row():
    badge = risk.Badge(code="X", label=XSS, reason=XSS, source="")
    texts = dict.fromkeys(("family_name", "given_name", "dermatologist"), XSS)
    rows = [_row(**texts, badges=[badge]), _row(**texts, age=None, badges=[]), _row(**texts, badges=[badge, badge])]
    lines = str(patient_rows_html(rows)).split("\n")
    assert "<script>" not in "".join(lines)
    assert [line.count("&lt;script&gt;") for line in lines] == [5, 3, 7]
    assert "<td>None</td>" in lines[1]  # an unknown age reads as the template showed it
    assert '<span class="text-body-secondary small">No risk flags</span>' in lines[1]


def test_options_show_each_choice_and_mark_the_selected_one():
    html = str(options_html([(1, "Dana Derm"), (2, "Eve Skin")], 2))
    assert html == '<option value="1">Dana Derm</option><option value="2" selected>Eve Skin</option>'
    assert "selected" not in str(options_html([("abrocitinib", "Abrocitinib")], ""))
    assert "selected" not in str(options_html([(1, "Dana Derm")], None))
    assert str(options_html([], "x")) == ""


def test_options_are_escaped():
    html = str(options_html([('"><script>', XSS)], ""))
    assert "<script>" not in html
    assert html == '<option value="&quot;&gt;&lt;script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</option>'


@pytest.mark.django_db
def test_the_selector_reads_what_the_rows_show(clinic, derm, catalogue):
    patient = make_patient(
        clinic=clinic,
        dermatologist=derm,
        family_name="Rowson",
        given_name="Rita",
        date_of_birth=dt.date(1950, 6, 1),
        risk={"smoking_status": "current"},
    )
    make_course(patient, derm, dose="100")
    make_course(patient, derm, slug="upadacitinib", dose="15", status="planned")
    make_patient(clinic=clinic, family_name="Zed")  # no dermatologist, no course
    rows = patient_list_page(user=derm, today=TODAY).rows
    assert [r.family_name for r in rows] == ["Rowson", "Zed"]
    first, second = rows
    assert first.url == reverse("patients:detail", args=[patient.public_id])
    assert first.dermatologist == str(derm)
    assert first.age == risk.age_on(dt.date(1950, 6, 1), TODAY)
    assert first.courses == [("Abrocitinib 100 mg", ""), ("Upadacitinib 15 mg", "planned")]
    assert {b.code for b in first.badges} == {b.code for b in patient_badges(patient, TODAY)}
    assert risk.SMOKER_ANY in {b.code for b in first.badges}
    assert (second.dermatologist, second.courses) == ("", [])


def test_course_text_matches_the_model():
    course = TreatmentCourse(drug=Drug(generic_name="abrocitinib"), dose=Decimal("100.00"), dose_unit="mg")
    assert str(course) == "Abrocitinib 100 mg"
    assert str(TreatmentCourse(drug=Drug(generic_name="JAK-X"), dose=None)) == "JAK-X"
