"""Every page that shows a patient writes exactly one view to the audit trail per GET (issue 18, F6).

The pages are found from the access matrix, not listed by hand: every URL that a clinic member opens with a
patient, course, scheduled check or alert id. A new patient page is therefore covered as soon as it has its
access-matrix row. The audit is written by the helpers that load those objects for a request
(``get_patient_for_request`` and its course, check and alert twins), never by the views themselves.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from portal.models import AuditEvent
from tests.security import test_access_matrix
from tests.security.test_access_matrix import OBJECT_OF, POLICY, ROLES, _path, url_names

matrix_objects = test_access_matrix.matrix_objects  # the access matrix's objects, as a fixture here too

PATIENT_OBJECTS = {"patient", "course", "item", "alert"}


def _shows_a_patient(name: str) -> bool:
    params = url_names()[name]
    return "public_id" in params and OBJECT_OF.get(name, "patient") in PATIENT_OBJECTS


def _clinic_roles(name: str) -> list[str]:
    """The clinic roles (dermatologist, nurse) that the access matrix lets GET the page."""
    answers = dict(zip(ROLES, POLICY[name], strict=True))
    return [role for role in ("derm", "nurse") if answers[role] == 200]


PATIENT_PAGES = sorted(n for n in POLICY if _shows_a_patient(n) and _clinic_roles(n))


def test_the_walk_finds_the_patient_pages():
    # The nine pages of the penetration test's finding, and the four that were audited before, at least.
    assert {
        "patients:detail",
        "patients:edit",
        "patients:risk",
        "patients:medicines",
        "patients:screening",
        "patients:assessment_create",
        "therapy:start",
        "therapy:course",
        "monitoring:symptom_check",
        "monitoring:item_done",
        "monitoring:lab_entry",
        "monitoring:lab_saved",
        "monitoring:alert",
    } <= set(PATIENT_PAGES)


@pytest.mark.django_db
@pytest.mark.parametrize("name", PATIENT_PAGES)
def test_each_get_of_a_patient_page_writes_exactly_one_view(name, matrix_objects, derm, nurse):
    path = _path(name, url_names()[name], matrix_objects)
    patient_pk = str(_patient_pk(matrix_objects))
    for role in _clinic_roles(name):
        client = Client()
        client.force_login({"derm": derm, "nurse": nurse}[role])
        last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = client.get(path)
        assert response.status_code == 200, (name, role)
        new = list(AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, id__gt=last))
        assert len(new) == 1, (name, role, [e.summary for e in new])
        assert new[0].object_type == "patients.patient"
        assert new[0].object_id == patient_pk
        assert new[0].actor_id == {"derm": derm, "nurse": nurse}[role].pk


def _patient_pk(objects) -> int:
    from patients.models import Patient

    return Patient.objects.get(public_id=objects["public_id"]).pk


@pytest.mark.django_db
@pytest.mark.parametrize("name", PATIENT_PAGES)
def test_another_clinics_patient_is_a_404_with_no_view_written(name, matrix_objects, superuser):
    """The superuser has no clinic: the patient pages answer 404, and nothing claims they saw the record."""
    path = _path(name, url_names()[name], matrix_objects)
    client = Client()
    client.force_login(superuser)
    before = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).count()
    # The FHIR export admits a session only as staff of a clinic: without one it is no caller at all (401).
    assert client.get(path).status_code == (401 if name.startswith("fhir:") else 404)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).count() == before


VIEW_MODULES = ("patients/views.py", "therapy/views.py", "monitoring/views.py")
PER_VIEW_CALLS = {"patient_view_record", "get_patient_for_user", "get_course_for_user", "get_alert_for_user"}


@pytest.mark.parametrize("module", VIEW_MODULES)
def test_views_do_not_audit_or_load_patients_themselves(module):
    """Views load patients only through the request helpers, so that none can skip the audit or do it twice.

    (``get_alert_for_user`` is allowed in POST-only views: a POST is audited by the write it makes.)"""
    tree = ast.parse((Path(settings.BASE_DIR) / module).read_text())
    called = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    forbidden = PER_VIEW_CALLS - {"get_alert_for_user"}
    assert not called & forbidden, f"{module} calls {sorted(called & forbidden)}"
