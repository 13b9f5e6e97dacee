"""Input no database can store answers a clear 400, never a 500 (issue 18, F10).

NUL characters: PostgreSQL refuses them in text, so before the middleware a ``%00`` in a search box, a filter, a
form or a CSV cell ended in HTTP 500 there. Formsets: a TOTAL_FORMS of 100000 kept a worker validating until it
was killed; every formset is now capped (portal.forms.capped_formset).
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from monitoring import lab_csv
from patients.models import LabResult, Patient
from portal.input_guard import MESSAGE
from tests.factories import make_patient
from tests.urlwalk import all_urls

NUL_IN_QUERY = [
    ("patients:list", {"q": "Smith\x00"}),
    ("patients:list", {"drug": "abro\x00citinib"}),
    ("patients:list", {"badge": "\x00"}),
    ("patients:list", {"q\x00": "x"}),  # in a key
    ("monitoring:worklist", {"drug": "1\x00"}),
    ("monitoring:worklist", {"check": "cbc\x00"}),
    ("monitoring:alerts", {"scope": "clinic\x00"}),
    ("drugs:list", {"q": "\x00"}),
    ("drugs:lab_tests", {"q": "\x00"}),
]


def _is_clear_400(response) -> bool:
    return response.status_code == 400 and "NUL character" in response.content.decode()


@pytest.mark.parametrize(("name", "query"), NUL_IN_QUERY)
def test_nul_in_a_list_filter_is_a_clear_400(name, query, client_as, derm):
    assert _is_clear_400(client_as(derm).get(reverse(name), query))


def test_nul_anywhere_in_the_query_of_every_page_is_a_400_not_a_500(client_as, derm):
    client = client_as(derm)
    for name, path in all_urls():
        response = client.get(path, {"q": "\x00", "page": "1"})
        assert response.status_code == 400, (name, path, response.status_code)


@pytest.mark.parametrize("text", ["\x00", "a\x00b", "%00"])
def test_nul_in_a_form_post_saves_nothing(text, client_as, derm):
    data = {
        "record_number": f"R{text}",
        "given_name": "Testa",
        "family_name": "Fictional",
        "date_of_birth": "1980-01-01",
    }
    before = Patient.objects.count()
    response = client_as(derm).post(reverse("patients:create"), data)
    if "\x00" in text:
        assert _is_clear_400(response)
        assert Patient.objects.count() == before  # (a NUL cannot even be a query parameter on PostgreSQL)
    else:  # a literal "%00" typed in a field is text, not a NUL: the form deals with it
        assert response.status_code in (200, 302)


def test_nul_in_the_unlock_form_is_a_clear_400(client_as, superuser):
    response = client_as(superuser).post(reverse("portal:unlock"), {"username": "demo\x00derm"})
    assert _is_clear_400(response)


def test_the_400_page_says_what_to_do(client_as, derm):
    response = client_as(derm).get(reverse("patients:list"), {"q": "\x00"})
    assert MESSAGE in response.content.decode()


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.text(max_size=20), after=st.text(max_size=20), param=st.sampled_from(["q", "drug", "badge", "page"]))
def test_any_text_with_a_nul_is_refused_on_the_patient_list(before, after, param, client_as, derm):
    response = client_as(derm).get(reverse("patients:list"), {param: f"{before}\x00{after}"})
    assert _is_clear_400(response)


# --- CSV cells ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["record_number", "loinc", "value", "unit", "collected_on"])
def test_nul_in_a_csv_cell_is_that_rows_error(column, clinic, derm, nurse, catalogue, client_as):
    make_patient(clinic=clinic, dermatologist=derm, record_number="CSV-1")
    good = {"record_number": "CSV-1", "loinc": "777-3", "value": "250", "unit": "10*3/uL", "collected_on": "2026-01-05"}
    bad = {**good, column: good[column][:1] + "\x00" + good[column][1:]}
    text = "record_number,loinc,value,unit,collected_on\n" + "\n".join(
        ",".join(row[c] for c in lab_csv.COLUMNS) for row in (good, bad)
    )
    parsed = lab_csv.parse_csv(text.encode(), clinic_id=clinic.pk)
    assert not parsed.fatal
    assert [(e.row, e.column) for e in parsed.errors] == [(3, column)]
    assert "NUL character" in parsed.errors[0].message
    upload = SimpleUploadedFile("labs.csv", text.encode(), content_type="text/csv")
    response = client_as(nurse).post(reverse("monitoring:lab_upload"), {"file": upload})
    assert response.status_code == 200
    assert "NUL character" in response.content.decode()
    assert not LabResult.objects.exists()


# --- Formsets -------------------------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(db):
    from django.core.management import call_command

    call_command("load_catalogue", verbosity=0)


@pytest.mark.parametrize(
    ("url", "prefix"),
    [
        (reverse("drugs:edit_section", args=["abrocitinib", "thresholds"]), "thresholds"),
        (reverse("drugs:lab_test_edit", args=["platelets"]), "units"),
    ],
)
def test_a_formset_claiming_a_huge_number_of_forms_is_refused_quickly(
    url, prefix, client_as, catalogue_admin, catalogue
):
    data = {
        f"{prefix}-TOTAL_FORMS": "100000",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "100000",
        "reason": "flood",
    }
    started = time.monotonic()
    response = client_as(catalogue_admin).post(url, data)
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert "Please submit at most 100 forms" in response.content.decode()


FACTORIES = {"formset_factory", "modelformset_factory", "inlineformset_factory"}


def test_every_formset_is_made_through_the_capping_helper():
    """No formset factory is called directly: each goes through portal.forms.capped_formset."""
    offenders = []
    for path in Path(settings.BASE_DIR).glob("*/**/*.py"):
        if path.parts[len(Path(settings.BASE_DIR).parts)] in {".venv", "tests", "var"}:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in FACTORIES:
                    offenders.append(f"{path}:{node.lineno}")
    assert not offenders, offenders
