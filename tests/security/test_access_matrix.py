"""Access matrix: every URL of the project × every role, with the expected answer in ONE policy table.

``POLICY`` is keyed by qualified URL name. ``test_policy_covers_every_url`` fails when the project has a URL
name that is not in the table, so a new page cannot ship without a decision on who may open it. Rows are
(anonymous, dermatologist, nurse, catalogue admin, superuser) for a GET with real objects: a patient of the
dermatologist's and nurse's clinic, a real drug slug from the catalogue, a real lab test and section.
Codes: 200 page, 302 redirect (for anonymous: to the log-in page), 403 forbidden, 404 not found (other
clinic's patient), 405 POST-only. Every cell also gets the CSP header; patient pages answer no-store.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import CANARY, make_patient

ROLES = ("anonymous", "derm", "nurse", "catalogue_admin", "superuser")
LOGIN = 302  # anonymous → the log-in page (checked below)

# url name: (anonymous, dermatologist, nurse, catalogue admin, superuser)
POLICY: dict[str, tuple[int, int, int, int, int]] = {
    # portal
    "portal:home": (LOGIN, 200, 200, 200, 200),
    "portal:audit": (LOGIN, 403, 403, 403, 200),
    "portal:unlock": (LOGIN, 403, 403, 403, 200),
    "portal:clinic_settings": (LOGIN, 403, 403, 200, 200),
    "portal:keepalive": (LOGIN, 405, 405, 405, 405),
    "healthz": (200, 200, 200, 200, 200),
    "login": (200, 302, 302, 302, 302),  # signed-in users go home
    "logout": (LOGIN, 405, 405, 405, 405),  # POST only
    "otp_verify": (LOGIN, 302, 302, 302, 302),  # no authenticator yet → enrolment
    "otp_enrol": (LOGIN, 200, 200, 200, 200),  # the enrolment-code step
    "otp_backup_codes": (LOGIN, 302, 302, 302, 302),  # no authenticator yet → enrolment
    "password_change": (LOGIN, 200, 200, 200, 200),
    "password_change_done": (LOGIN, 200, 200, 200, 200),
    "admin:index": (302, 302, 302, 302, 200),  # anonymous → admin log-in; staff without superuser too
    # patients (the patient belongs to the dermatologist's and nurse's clinic)
    "patients:list": (LOGIN, 200, 200, 403, 200),  # superuser: no clinic, so an empty list
    "patients:create": (LOGIN, 200, 403, 403, 403),  # superuser: no clinic to register into
    "patients:detail": (LOGIN, 200, 200, 403, 404),  # superuser: not of their clinic
    "patients:edit": (LOGIN, 200, 403, 403, 404),
    "patients:risk": (LOGIN, 200, 403, 403, 404),
    "patients:medicines": (LOGIN, 200, 200, 403, 404),
    "patients:medicine_stop": (LOGIN, 405, 403, 403, 405),  # POST only; permission checked first
    "patients:screening": (LOGIN, 200, 200, 403, 404),
    "patients:assessment_create": (LOGIN, 200, 200, 403, 404),
    # drug catalogue
    "drugs:list": (LOGIN, 200, 200, 200, 200),
    "drugs:lab_tests": (LOGIN, 200, 200, 200, 200),  # reference ranges: every role reads them
    "drugs:lab_test_edit": (LOGIN, 403, 403, 200, 200),
    "drugs:detail": (LOGIN, 200, 200, 200, 200),
    "drugs:edit": (LOGIN, 403, 403, 200, 200),
    "drugs:edit_section": (LOGIN, 403, 403, 200, 200),
    "drugs:history": (LOGIN, 200, 200, 200, 200),
    "drugs:delete": (LOGIN, 405, 405, 405, 405),
    "drugs:handout": (LOGIN, 200, 200, 200, 200),  # printable, no patient data
    # therapy (the course is the dermatologist's, of the patient above)
    "therapy:start": (LOGIN, 200, 403, 403, 404),
    "therapy:course": (LOGIN, 200, 200, 403, 404),
    "therapy:handout": (LOGIN, 200, 200, 403, 404),  # the patient's own printout: their clinic's staff only
    "therapy:gp_letter": (LOGIN, 200, 200, 403, 404),
    "therapy:dose": (LOGIN, 405, 405, 405, 405),  # POST only (forms live on the course page)
    "therapy:interrupt": (LOGIN, 405, 405, 405, 405),
    "therapy:resume": (LOGIN, 405, 405, 405, 405),
    "therapy:stop": (LOGIN, 405, 405, 405, 405),
    # monitoring
    "monitoring:worklist": (LOGIN, 200, 200, 403, 200),  # superuser: no clinic, so an empty list
    "monitoring:item_done": (LOGIN, 200, 200, 403, 404),
    "monitoring:lab_upload": (LOGIN, 200, 200, 403, 200),
    "monitoring:alerts": (LOGIN, 200, 200, 403, 200),  # nurses read their clinic's alerts; they do not act
    "monitoring:alert": (LOGIN, 200, 200, 403, 404),
    "monitoring:alert_ack": (LOGIN, 405, 405, 405, 405),  # POST only (nurses: 403 on POST, see below)
    "monitoring:alert_act": (LOGIN, 405, 405, 405, 405),
    "monitoring:lab_entry": (LOGIN, 200, 200, 403, 404),
    "monitoring:lab_saved": (LOGIN, 200, 200, 403, 404),
    "monitoring:results_table": (LOGIN, 200, 200, 403, 404),  # read-only, printable
    "monitoring:lab_history": (LOGIN, 200, 200, 403, 404),
    "monitoring:symptom_check": (LOGIN, 200, 200, 403, 404),
}

# URLs whose public_id names another object than the patient.
OBJECT_OF = {
    **{f"therapy:{n}": "course" for n in ("course", "handout", "gp_letter", "dose", "interrupt", "resume", "stop")},
    "monitoring:item_done": "item",
    **{f"monitoring:{n}": "alert" for n in ("alert", "alert_ack", "alert_act")},
}

_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def url_names(resolver=None, namespace: str = "") -> dict[str, list[str]]:
    """Every named URL of the project (namespaced, including new apps) → its parameter names. The Django
    admin's own pages are one row (admin:index): the admin site gates them all with one permission check."""
    resolver = resolver or get_resolver()
    found: dict[str, list[str]] = {}
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                found["admin:index"] = []
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            prefix_params = _PARAM.findall(str(entry.pattern))
            for name, params in url_names(entry, ns).items():
                found[name] = prefix_params + params
        elif isinstance(entry, URLPattern) and entry.name:
            found[namespace + entry.name] = _PARAM.findall(str(entry.pattern))
    return found


def test_policy_covers_every_url():
    missing = sorted(set(url_names()) - set(POLICY))
    assert not missing, f"URL names without an access decision in POLICY: {missing}"
    stale = sorted(set(POLICY) - set(url_names()))
    assert not stale, f"POLICY rows for URLs that no longer exist: {stale}"


@pytest.fixture
def matrix_objects(db, clinic, derm):
    """URL arguments from real objects; the catalogue is loaded only for URLs that take a drug or lab test."""
    from patients.models import ConcomitantMedicine

    patient = make_patient(clinic=clinic, dermatologist=derm, given_name=f"{CANARY}Matrix", family_name=CANARY)
    medicine = ConcomitantMedicine.objects.create(patient=patient, name="Testmedicine", created_by=derm)
    objects = {"public_id": patient.public_id, "pk": medicine.pk, "action": "stop"}

    def catalogue():
        from drugs.models import Drug, LabTest
        from drugs.sections import SECTIONS
        from monitoring.models import Alert
        from tests.factories import make_course, make_scheduled_item

        call_command("load_catalogue", verbosity=0)
        course = make_course(patient, derm)
        alert = Alert.objects.create(
            patient=patient,
            course=course,
            recipient=derm,
            kind=Alert.Kind.LAB_ACTION,
            severity=Alert.Severity.URGENT,
            title="Platelets below the action level",
            reason="test",
            advice="test",
        )
        objects.update(
            slug=Drug.objects.get(slug="abrocitinib").slug,
            section=SECTIONS[0].key,
            analyte=LabTest.objects.order_by("analyte").first().analyte,
            course=course.public_id,
            item=make_scheduled_item(course, check_type="efficacy_review", kind="follow_up").public_id,
            alert=alert.public_id,
        )

    objects["_catalogue"] = catalogue
    return objects


@pytest.fixture
def role_clients(db, derm, nurse, catalogue_admin, superuser):
    clients = {"anonymous": Client()}
    for role, user in (
        ("derm", derm),
        ("nurse", nurse),
        ("catalogue_admin", catalogue_admin),
        ("superuser", superuser),
    ):
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


def _path(name: str, params: list[str], objects: dict, *, real: bool = True) -> str:
    keys = {p: (OBJECT_OF.get(name, p) if p == "public_id" else p) for p in params}
    if any(k not in objects for k in keys.values()):
        if real:
            objects["_catalogue"]()
        else:  # the request never reaches the view: any well-formed value will do
            objects.update(slug="abrocitinib", section="doses", analyte="platelets")
            objects.update(dict.fromkeys(("course", "item", "alert"), objects["public_id"]))
    return reverse(name, kwargs={p: objects[k] for p, k in keys.items()})


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POLICY))
def test_access_matrix(name, matrix_objects, role_clients):
    params = url_names().get(name)
    if params is None:
        pytest.fail(f"{name} is in POLICY but not in the URL configuration")
    path = _path(name, params, matrix_objects)
    answers = {}
    for role in ROLES:
        response = role_clients[role].get(path)
        answers[role] = response.status_code
        assert "frame-ancestors 'none'" in response.get("Content-Security-Policy", ""), (name, role)
        if response.status_code != 200:
            assert CANARY.encode() not in response.content, (name, role)
        if role == "anonymous" and response.status_code == 302 and not name.startswith("admin:"):
            assert response["Location"].startswith(reverse("login")), name
        if name.startswith("patients:") and role != "anonymous" and response.status_code == 200:
            assert "no-store" in response["Cache-Control"], (name, role)
    assert answers == dict(zip(ROLES, POLICY[name], strict=True)), (name, list(answers.values()))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(n for n in POLICY if n not in {"healthz", "login", "logout", "admin:index"}))
def test_password_only_session_in_production_reaches_nothing_but_enrolment(name, settings, matrix_objects, derm):
    """With 2FA required, a session that passed only the password is sent to enrolment from every page."""
    settings.PORTAL_REQUIRE_2FA = True
    client = Client()
    client.force_login(derm)
    response = client.get(_path(name, url_names()[name], matrix_objects, real=False))
    if name == "otp_enrol":
        assert response.status_code == 200
    else:
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("otp_enrol")), name
        assert CANARY.encode() not in response.content
