"""Access matrix: every URL of the project × every role, with the expected answer in ONE policy table.

``POLICY`` is keyed by qualified URL name. ``test_policy_covers_every_url`` fails when the project has a URL
name that is not in the table, so a new page cannot ship without a decision on who may open it. Rows are
(anonymous, dermatologist, nurse, catalogue admin, superuser) for a GET with real objects: a patient of the
dermatologist's and nurse's clinic, a real drug slug from the catalogue, a real lab test and section.
Codes: 200 page, 302 redirect (for anonymous: to the log-in page), 403 forbidden, 404 not found (other
clinic's patient), 405 POST-only. Every cell also gets the CSP header; patient pages answer no-store.

Below the GET table: ``POST_POLICY`` (the same URLs POSTed with their own forms; refusals change nothing), staff
of another clinic on every object URL (404, nothing changed), and every admin model page for non-superusers.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal import pdf
from tests.factories import CANARY, make_patient

ROLES = ("anonymous", "derm", "nurse", "catalogue_admin", "superuser")
LOGIN = 302  # anonymous → the log-in page (checked below)
# The GP letter's PDF needs WeasyPrint with Pango (CI has both: PDF_REQUIRED=1); on a machine without them the
# download answers 503 with the letter page and the reason (tests/therapy/test_letter_pdf.py).
PDF = 503 if pdf.unavailable() else 200

# url name: (anonymous, dermatologist, nurse, catalogue admin, superuser)
POLICY: dict[str, tuple[int, int, int, int, int]] = {
    # portal
    "portal:home": (LOGIN, 200, 200, 200, 200),
    "portal:audit": (LOGIN, 403, 403, 403, 200),
    "portal:unlock": (LOGIN, 403, 403, 403, 200),
    "portal:clinic_settings": (LOGIN, 403, 403, 200, 200),
    "portal:keepalive": (LOGIN, 405, 405, 405, 405),
    "healthz": (200, 200, 200, 200, 200),  # readiness under its first address
    "healthz_live": (200, 200, 200, 200, 200),
    "healthz_ready": (200, 200, 200, 200, 200),
    "metrics": (200, 200, 200, 200, 200),  # the test client is a loopback address; others: tests/portal/test_metrics.py
    "login": (200, 302, 302, 302, 302),  # signed-in users go home
    "logout": (LOGIN, 405, 405, 405, 405),  # POST only
    # Single sign-on is off here (no PORTAL_OIDC_ISSUER): 404 for everyone. On: tests/portal/test_oidc_live.py.
    "oidc_authentication_init": (404, 404, 404, 404, 404),
    "oidc_authentication_callback": (404, 404, 404, 404, 404),
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
    "patients:timeline": (LOGIN, 200, 200, 403, 404),
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
    "drugs:codes": (LOGIN, 403, 403, 200, 200),
    "drugs:history": (LOGIN, 200, 200, 200, 200),
    "drugs:delete": (LOGIN, 405, 405, 405, 405),
    "drugs:handout": (LOGIN, 200, 200, 200, 200),  # printable, no patient data
    # therapy (the course is the dermatologist's, of the patient above)
    "therapy:start": (LOGIN, 200, 403, 403, 404),
    "therapy:course": (LOGIN, 200, 200, 403, 404),
    "therapy:handout": (LOGIN, 200, 200, 403, 404),  # the patient's own printout: their clinic's staff only
    "therapy:gp_letter": (LOGIN, 200, 200, 403, 404),
    "therapy:gp_letter_pdf": (LOGIN, PDF, PDF, 403, 404),  # the same letter as a PDF download
    "therapy:dose": (LOGIN, 405, 405, 405, 405),  # POST only (forms live on the course page)
    "therapy:interrupt": (LOGIN, 405, 405, 405, 405),
    "therapy:resume": (LOGIN, 405, 405, 405, 405),
    "therapy:stop": (LOGIN, 405, 405, 405, 405),
    # monitoring
    "monitoring:worklist": (LOGIN, 200, 200, 403, 200),  # superuser: no clinic, so an empty list
    "monitoring:worklist_contacts": (LOGIN, 405, 405, 405, 405),  # POST only (the worklist's bulk actions)
    "monitoring:worklist_export": (LOGIN, 200, 200, 403, 200),  # CSV; superuser: no clinic, only the header
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
    # FHIR R4 export: the capabilities are public; a record needs a bearer token or a session the portal's pages
    # admit (here 2FA is optional and these users have no authenticator, so the password is enough; the cases with
    # a second factor are in tests/interfaces/test_fhir_auth.py). No clinic (admin, superuser): 401.
    "fhir:metadata": (200, 200, 200, 200, 200),
    "fhir:patient_everything": (401, 200, 200, 401, 401),
    "fhir:not_supported": (404, 404, 404, 404, 404),  # any other FHIR address: an OperationOutcome, for everyone
    # interfaces: CDS Hooks (machine endpoints; a staff session is no credential there)
    "cds:discovery": (200, 200, 200, 200, 200),  # public: no patient data, read when an EHR is configured
    "cds:service": (405, 405, 405, 405, 405),  # POST only
    # interfaces: the HL7 v2 lab feed (a bearer token, never a session) and its inbox (the lab-entry permission)
    "hl7v2:oru": (405, 405, 405, 405, 405),  # POST only, and no log-in redirect: a machine endpoint
    "hl7v2:inbox": (LOGIN, 200, 200, 403, 200),  # superuser: no clinic, so an empty list
    "hl7v2:inbox_message": (LOGIN, 200, 200, 403, 404),
}

# URLs whose public_id names another object than the patient.
OBJECT_OF = {
    **{
        f"therapy:{n}": "course"
        for n in ("course", "handout", "gp_letter", "gp_letter_pdf", "dose", "interrupt", "resume", "stop")
    },
    "monitoring:item_done": "item",
    "hl7v2:inbox_message": "inbox_message",
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


_CATALOGUE_ROWS: list[tuple[type, list]] = []


def load_catalogue_once() -> None:
    """``load_catalogue``, run for real once per session; later tests get a copy of the same rows (bulk inserts,
    ids kept), which keeps the parametrized tests of this file fast. The rows are the catalogue apps' tables and the
    audit rows the load writes (those get new ids)."""
    from django.apps import apps

    from portal.models import AuditEvent

    if _CATALOGUE_ROWS:
        for model, rows in _CATALOGUE_ROWS:
            if model is AuditEvent:  # the trail already has rows in this test: new ids
                for row in rows:
                    row.pk = None
            model.objects.bulk_create(rows)
        return
    last_audit = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    call_command("load_catalogue", verbosity=0)
    for model in apps.get_app_config("drugs").get_models(include_auto_created=True):
        _CATALOGUE_ROWS.append((model, list(model.objects.order_by("pk"))))
    _CATALOGUE_ROWS.append((AuditEvent, list(AuditEvent.objects.filter(id__gt=last_audit).order_by("id"))))


@pytest.fixture
def matrix_objects(db, clinic, derm):
    """URL arguments from real objects; the catalogue is loaded only for URLs that take a drug or lab test."""
    from patients.models import ConcomitantMedicine

    patient = make_patient(clinic=clinic, dermatologist=derm, given_name=f"{CANARY}Matrix", family_name=CANARY)
    medicine = ConcomitantMedicine.objects.create(patient=patient, name="Testmedicine", created_by=derm)
    objects = {
        "public_id": patient.public_id,
        "pk": medicine.pk,
        "action": "stop",
        "service_id": "jak-safety-check",
        "rest": "Observation",
    }

    def catalogue():
        from drugs.models import Drug, LabTest
        from drugs.sections import SECTIONS
        from interfaces.models import InboxMessage
        from monitoring.models import Alert
        from tests.factories import make_course, make_scheduled_item

        load_catalogue_once()
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
            inbox_message=InboxMessage.objects.create(
                clinic=clinic,
                source="interface:matrix-lab",
                message_id="MATRIX-1",
                digest="0" * 64,
                raw="MSH|^~\\&|LAB||||20261201||ORU^R01|MATRIX-1|P|2.5.1",
                reason="Unknown patient",
            ).public_id,
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
            objects.update(dict.fromkeys(("course", "item", "alert", "inbox_message"), objects["public_id"]))
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


NOT_BEHIND_THE_SECOND_FACTOR = {
    "healthz",
    "healthz_live",
    "healthz_ready",
    "metrics",
    "login",
    "logout",
    "admin:index",
    "oidc_authentication_init",  # signing in again through the identity provider
    "oidc_authentication_callback",
    *("cds:discovery", "cds:service"),  # machine endpoints: a bearer token or a CDS Hooks JWT, never a session
    "hl7v2:oru",  # a lab's bearer token, not a staff session
    # Machine endpoints that answer for themselves: the public capabilities, and a record refused with a FHIR 401
    # OperationOutcome, not an HTML redirect (test_fhir_auth.test_a_session_without_the_second_factor_is_401).
    *("fhir:metadata", "fhir:patient_everything", "fhir:not_supported"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(set(POLICY) - NOT_BEHIND_THE_SECOND_FACTOR))
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


# --- POST: every URL, every role ----------------------------------------------------------------------------------
#
# The same URLs, POSTed with the form the page itself shows (fields and current values, read from the HTML as a
# browser would; for POST-only URLs from the page that holds their form). Rows as in POLICY. 200: the form again
# (invalid or not yet complete), 302: done and redirected (anonymous: to the log-in page). Each POST runs in a
# savepoint that is rolled back, so every role starts from the same records. A refusal (403, 404, 405, or the
# log-in page) must change nothing: see ``fingerprint``.
POST_POLICY: dict[str, tuple[int, int, int, int, int]] = {
    "portal:home": (LOGIN, 405, 405, 405, 405),  # read pages refuse a POST; nothing is written
    "portal:audit": (LOGIN, 403, 403, 403, 405),
    "portal:unlock": (LOGIN, 403, 403, 403, 400),  # superuser: the empty username is refused
    "portal:clinic_settings": (LOGIN, 403, 403, 200, 200),
    "portal:keepalive": (LOGIN, 302, 302, 302, 302),  # renews the session, back to the page
    "healthz": (405, 405, 405, 405, 405),
    "healthz_live": (405, 405, 405, 405, 405),
    "healthz_ready": (405, 405, 405, 405, 405),
    "metrics": (405, 405, 405, 405, 405),  # loopback; from elsewhere a POST is 404 like a GET
    "login": (200, 302, 302, 302, 302),
    "logout": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),  # signed out, to the log-in page
    "oidc_authentication_init": (405, 405, 405, 405, 405),  # GET only (the provider redirects with GET)
    "oidc_authentication_callback": (405, 405, 405, 405, 405),
    "otp_verify": (LOGIN, 302, 302, 302, 302),
    "otp_enrol": (LOGIN, 200, 200, 200, 200),  # wrong code: the form again
    "otp_backup_codes": (LOGIN, 302, 302, 302, 302),  # no authenticator yet → enrolment, no codes made
    "password_change": (LOGIN, 200, 200, 200, 200),  # no old password: the form again
    "password_change_done": (LOGIN, 405, 405, 405, 405),
    "patients:list": (LOGIN, 302, 302, 403, 302),  # the search: kept in the session, redirected to ?s=
    "patients:create": (LOGIN, 200, 403, 403, 403),
    "patients:detail": (LOGIN, 405, 405, 403, 405),
    "patients:timeline": (LOGIN, 405, 405, 403, 405),
    "patients:edit": (LOGIN, 302, 403, 403, 404),
    "patients:risk": (LOGIN, 302, 403, 403, 404),
    "patients:medicines": (LOGIN, 200, 403, 403, 404),
    "patients:medicine_stop": (LOGIN, 302, 403, 403, 404),
    "patients:screening": (LOGIN, 200, 200, 403, 404),
    "patients:assessment_create": (LOGIN, 200, 200, 403, 404),
    "drugs:list": (LOGIN, 405, 405, 405, 405),  # read pages refuse a POST; nothing is written
    "drugs:lab_tests": (LOGIN, 405, 405, 405, 405),
    "drugs:lab_test_edit": (LOGIN, 403, 403, 200, 200),
    "drugs:detail": (LOGIN, 405, 405, 405, 405),
    "drugs:edit": (LOGIN, 403, 403, 200, 200),
    "drugs:edit_section": (LOGIN, 403, 403, 200, 200),
    "drugs:codes": (LOGIN, 403, 403, 200, 200),  # the page's form without a reason: shown again, nothing saved
    "drugs:history": (LOGIN, 405, 405, 405, 405),
    "drugs:delete": (LOGIN, 403, 403, 302, 302),
    "drugs:handout": (LOGIN, 405, 405, 405, 405),
    "therapy:start": (LOGIN, 200, 403, 403, 404),
    "therapy:course": (LOGIN, 405, 405, 403, 405),
    "therapy:handout": (LOGIN, 405, 405, 403, 405),
    "therapy:gp_letter": (LOGIN, 405, 405, 403, 405),
    "therapy:gp_letter_pdf": (LOGIN, 405, 405, 403, 405),
    "therapy:dose": (LOGIN, 200, 403, 403, 404),
    "therapy:interrupt": (LOGIN, 200, 403, 403, 404),
    "therapy:resume": (LOGIN, 200, 403, 403, 404),
    "therapy:stop": (LOGIN, 200, 403, 403, 404),
    "monitoring:worklist": (LOGIN, 405, 405, 403, 405),
    "monitoring:worklist_contacts": (LOGIN, 302, 302, 403, 302),  # nothing ticked: back to the worklist
    "monitoring:worklist_export": (LOGIN, 405, 405, 403, 405),
    "monitoring:item_done": (LOGIN, 302, 302, 403, 404),
    "monitoring:lab_upload": (LOGIN, 200, 200, 403, 200),
    "monitoring:alerts": (LOGIN, 405, 405, 403, 405),
    "monitoring:alert": (LOGIN, 405, 405, 403, 405),
    "monitoring:alert_ack": (LOGIN, 200, 403, 403, 404),  # nurses read alerts but do not act on them
    "monitoring:alert_act": (LOGIN, 200, 403, 403, 404),
    "monitoring:lab_entry": (LOGIN, 200, 200, 403, 404),
    "monitoring:lab_saved": (LOGIN, 405, 405, 403, 405),
    "monitoring:results_table": (LOGIN, 405, 405, 403, 405),
    "monitoring:lab_history": (LOGIN, 405, 405, 403, 405),
    "monitoring:symptom_check": (LOGIN, 200, 200, 403, 404),
    "fhir:metadata": (405, 405, 405, 405, 405),  # read-only
    "fhir:patient_everything": (405, 405, 405, 405, 405),
    "fhir:not_supported": (404, 404, 404, 404, 404),
    "cds:discovery": (405, 405, 405, 405, 405),
    "cds:service": (401, 401, 401, 401, 401),  # no bearer token: refused, whoever is signed in
    "hl7v2:oru": (401, 401, 401, 401, 401),  # a session is no token: an AR ACK, nothing stored
    "hl7v2:inbox": (LOGIN, 405, 405, 403, 405),
    "hl7v2:inbox_message": (LOGIN, 200, 200, 403, 404),  # no patient chosen: the form again
}

# POST-only URLs: the page whose form posts to them.
FORM_ON = {
    **{f"therapy:{n}": "therapy:course" for n in ("dose", "interrupt", "resume", "stop")},
    "monitoring:alert_ack": "monitoring:alert",
    "monitoring:worklist_contacts": "monitoring:worklist",
    "monitoring:alert_act": "monitoring:alert",
    "patients:medicine_stop": "patients:medicines",
    "drugs:delete": "drugs:detail",
    "logout": "portal:home",
}
REFUSED = {403, 404, 405}
WATCHED_APPS = ("patients", "therapy", "monitoring", "drugs")


def fingerprint() -> dict[str, object]:
    """What a refused request must leave as it was: every clinical row (all values), catalogue and account counts,
    and the audit trail apart from log-ins."""
    from django.apps import apps

    from portal.models import AuditEvent

    state: dict[str, object] = {}
    for label in WATCHED_APPS:
        for model in apps.get_app_config(label).get_models():
            rows = model.objects.order_by("pk")
            state[model._meta.label] = list(rows.values()) if label != "drugs" else rows.count()
    for label in ("drugs.Drug", "drugs.LabTest"):
        state[f"{label} values"] = list(apps.get_model(label).objects.order_by("pk").values())
    for label in ("portal.User", "portal.Clinic", "auth.Group"):
        state[label] = list(apps.get_model(label).objects.order_by("pk").values())
    state["audit"] = AuditEvent.objects.exclude(action=AuditEvent.Action.LOGIN).count()
    return state


def form_data(name: str, path: str, objects: dict, clients: dict) -> dict[str, str]:
    """The fields of the page's own form (or of the page holding a POST-only URL's form) with their values."""
    from tests.security.htmlforms import as_post_data, page_form

    source = FORM_ON.get(name, name)
    source_path = path if source == name else _path(source, url_names()[source], objects)
    for role in ("derm", "catalogue_admin", "superuser", "nurse"):
        response = clients[role].get(source_path)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue  # refused, or a download (the GP letter's PDF): no form to fill in
        try:
            return as_post_data(page_form(response.content.decode(), "" if source == name else path))
        except AssertionError:  # no such form on this page for this role
            continue
    return {}


def test_post_policy_covers_every_url():
    assert set(POST_POLICY) == set(POLICY) - {"admin:index"}  # the admin's pages: see test_admin_pages_* below


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_POLICY))
def test_post_matrix(name, matrix_objects, role_clients):
    from django.db import transaction

    path = _path(name, url_names()[name], matrix_objects)
    data = form_data(name, path, matrix_objects, role_clients)
    answers = {}
    for role in ROLES:
        before = fingerprint()
        with transaction.atomic():
            response = role_clients[role].post(path, data)
            status = response.status_code
            answers[role] = status
            if role == "anonymous" and status == 302:
                assert response["Location"].startswith(reverse("login")), name
            if status in REFUSED or (role == "anonymous" and status == 302):
                assert fingerprint() == before, (name, role, status)
                assert CANARY.encode() not in response.content, (name, role)
            transaction.set_rollback(True)
    assert answers == dict(zip(ROLES, POST_POLICY[name], strict=True)), (name, list(answers.values()))


# --- Another clinic's records: 404 for every object URL, by GET and POST, and nothing changed ----------------------

OBJECT_URLS = sorted(n for n in POST_POLICY if "public_id" in url_names()[n])


@pytest.mark.django_db
@pytest.mark.parametrize("name", OBJECT_URLS)
def test_another_clinics_staff_get_404_for_every_object_url(name, matrix_objects, role_clients):
    """Dermatologist and nurse of another clinic, with the same roles: the object is not found (never 403: that
    would confirm it exists); where their role alone refuses the URL, that refusal comes first."""
    from django.db import transaction

    from portal import roles
    from portal.models import AuditEvent
    from tests.factories import make_clinic, make_user

    elsewhere = make_clinic("Another Clinic")
    path = _path(name, url_names()[name], matrix_objects)
    data = form_data(name, path, matrix_objects, role_clients)
    for role, group in (("derm", roles.DERMATOLOGIST), ("nurse", roles.NURSE)):
        client = Client()
        client.force_login(make_user(role=group, clinic=elsewhere))
        index = ROLES.index(role)
        for method, policy in (("get", POLICY), ("post", POST_POLICY)):
            own = policy[name][index]
            expected = {404} if own in (200, 302) else {own, 404}  # refused by role, or not found: both fine
            before = fingerprint()
            views = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).count()
            with transaction.atomic():
                response = getattr(client, method)(path, data if method == "post" else None)
                assert response.status_code in expected, (name, role, method, response.status_code)
                assert CANARY.encode() not in response.content, (name, role, method)
                assert fingerprint() == before, (name, role, method)
                assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).count() == views
                transaction.set_rollback(True)


def test_object_urls_include_every_kind_of_object():
    kinds = {OBJECT_OF.get(n, "patient") for n in OBJECT_URLS}
    assert kinds == {"patient", "course", "item", "alert", "inbox_message"}
    assert {"patients:medicine_stop", "monitoring:lab_saved", "monitoring:lab_history"} <= set(OBJECT_URLS)


# --- The Django admin's model pages: superusers only -------------------------------------------------------------


def _admin_pages() -> list[tuple[str, str]]:
    from django.contrib import admin

    pages = []
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages += [(f"{info}_{page}", model._meta.label) for page in ("changelist", "add", "change")]
    return sorted(pages)


ADMIN_PAGES = _admin_pages()


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "model"), ADMIN_PAGES)
def test_admin_pages_are_closed_to_every_role_but_superuser(url_name, model, matrix_objects, role_clients):
    """Every registered model's list, add and change page, GET and POST: anonymous users and every role without
    superuser rights go to the admin log-in page (or get 403); nothing changes."""
    from django.apps import apps

    pk = apps.get_model(model).objects.values_list("pk", flat=True).first() or 1
    path = reverse(url_name, args=[pk] if url_name.endswith("_change") else [])
    logins = (reverse("admin:login"), reverse("login"))
    for role in ("anonymous", "derm", "nurse", "catalogue_admin"):
        for method in ("get", "post"):
            before = fingerprint()
            client = role_clients[role]
            response = client.get(path) if method == "get" else client.post(path, {"name": "x", "username": "x"})
            if response.status_code == 302:
                assert response["Location"].startswith(logins), (url_name, role, method)
            else:
                assert response.status_code == 403, (url_name, role, method, response.status_code)
            assert fingerprint() == before, (url_name, role, method)
            assert CANARY.encode() not in response.content
    assert role_clients["superuser"].get(path).status_code in (200, 302, 403)  # the site itself works


def test_admin_pages_include_patients_and_accounts():
    names = {name for name, _ in ADMIN_PAGES}
    assert {"admin:patients_patient_changelist", "admin:portal_user_change", "admin:portal_auditevent_add"} <= names
