"""Property-based: arbitrary input to every form never causes a server error and never writes half a record.

Each example starts from the page's real form (as a browser would send it) and replaces any subset of fields
with generated values: random Unicode, empty strings, huge or negative numbers, malformed dates, NUL bytes,
markup. Properties: the response is not a 5xx, and when it is not a redirect (i.e. not saved) the row counts
of every clinical, catalogue and account table are unchanged.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import CANARY, make_patient
from tests.security.htmlforms import FormField, as_post_data, page_form

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The catalogue forms are large formsets and every valid save snapshots the catalogue: fewer examples.
FUZZ_CATALOGUE = settings(FUZZ, max_examples=15)
COUNTED_APPS = ("patients", "drugs", "monitoring")
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "99999999999999999999",
    "-0.000001",
    "2999-12-31",
    "1800-01-01",
    "31/02/2020",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\x00",
    "ねこ",
    "\u202e" + CANARY,
    "a" * 5000,
]


def row_counts() -> dict[str, int]:
    models = [m for label in COUNTED_APPS if label in apps.app_configs for m in apps.get_app_config(label).get_models()]
    models += [apps.get_model("portal", "User"), apps.get_model("auth", "Group")]
    return {m._meta.label: m.objects.count() for m in models}


def field_values(field: FormField) -> st.SearchStrategy[str]:
    choices = [st.just(field.value), st.sampled_from(NASTY), st.text(max_size=40), st.integers().map(str)]
    if field.options:
        choices.append(st.sampled_from(field.options))
    if field.kind in ("date", "number"):
        choices.append(st.dates().map(str) if field.kind == "date" else st.floats(allow_nan=False).map(str))
    return st.one_of(*choices)


def fuzz_once(data, client: Client, url: str, action: str = "", extra: dict | None = None) -> None:
    """One example: the form of page ``url`` (posting to ``action``, default the page itself), fuzzed and posted."""
    fields = [f for f in page_form(client.get(url).content.decode(), action) if f.name != "csrfmiddlewaretoken"]
    post = as_post_data(fields) | (extra or {})
    for f in fields:
        if data.draw(st.booleans(), label=f"change {f.name}"):
            post[f.name] = data.draw(field_values(f), label=f.name)
    if data.draw(st.booleans(), label="extra field"):
        post[data.draw(st.sampled_from(["is_superuser", "clinic", "created_by", "id"]))] = "1"
    before = row_counts()
    response = client.post(action or url, post)
    assert response.status_code < 500
    if response.status_code not in (301, 302, 303):
        assert row_counts() == before, (url, post)


def fuzz_isolated(data, client: Client, url: str, action: str = "", extra: dict | None = None) -> None:
    """As fuzz_once, rolled back afterwards: a saved example (a stopped course, a done check) does not change the
    page the next example starts from."""
    with transaction.atomic():
        fuzz_once(data, client, url, action, extra)
        transaction.set_rollback(True)


@pytest.fixture
def derm_client(derm):
    client = Client()
    client.force_login(derm)
    return client


@pytest.fixture
def patient(clinic, derm):
    return make_patient(clinic=clinic, dermatologist=derm, given_name=f"{CANARY}Fuzz", family_name=CANARY)


@given(data=st.data())
@FUZZ
def test_login_form(data, db):
    fuzz_once(data, Client(), reverse("login"))


@given(data=st.data())
@FUZZ
def test_password_change_form(data, derm_client):
    fuzz_once(data, derm_client, reverse("password_change"))


@given(data=st.data())
@FUZZ
def test_patient_create_form(data, derm_client):
    fuzz_once(data, derm_client, reverse("patients:create"))


@pytest.mark.parametrize("value", ["-1", "150", "100.1"])
def test_out_of_range_percentage_is_a_form_error_not_a_500(value, derm_client):
    """Found by this suite: the "%" in the range message crashed ValidationError formatting (HTTP 500)."""
    page = derm_client.get(reverse("patients:create"))
    post = as_post_data(page_form(page.content.decode()))
    post["bsa_percent"] = value
    response = derm_client.post(reverse("patients:create"), post)
    assert response.status_code == 200
    assert "Enter a value from 0 to 100 %." in response.content.decode()


@pytest.mark.parametrize("name", ["patients:edit", "patients:risk", "patients:screening", "patients:assessment_create"])
def test_patient_forms(name, derm_client, patient):
    url = reverse(name, kwargs={"public_id": patient.public_id})

    @given(data=st.data())
    @FUZZ
    def run(data):
        fuzz_once(data, derm_client, url)

    run()


@pytest.fixture
def catalogue_client(catalogue_admin):
    call_command("load_catalogue", verbosity=0)
    client = Client()
    client.force_login(catalogue_admin)
    return client


def test_drug_section_edit_form(catalogue_client):
    from drugs.sections import SECTIONS

    urls = [reverse("drugs:edit_section", kwargs={"slug": "abrocitinib", "section": s.key}) for s in SECTIONS[:3]]

    @given(data=st.data())
    @FUZZ_CATALOGUE
    def run(data):
        fuzz_once(data, catalogue_client, data.draw(st.sampled_from(urls), label="section"))

    run()


def test_lab_test_edit_form(catalogue_client):
    from drugs.models import LabTest

    analytes = list(LabTest.objects.order_by("analyte").values_list("analyte", flat=True)[:3])

    @given(data=st.data())
    @FUZZ_CATALOGUE
    def run(data):
        analyte = data.draw(st.sampled_from(analytes), label="analyte")
        fuzz_once(data, catalogue_client, reverse("drugs:lab_test_edit", kwargs={"analyte": analyte}))

    run()


# --- Therapy and monitoring ------------------------------------------------------------------------------------


@pytest.fixture
def on_therapy(clinic, derm, nurse):
    """A patient on abrocitinib with an open check and an urgent alert from a platelet count of 45."""
    from monitoring.models import Alert
    from tests.factories import make_course, make_scheduled_item, record_result

    call_command("load_catalogue", verbosity=0)
    patient = make_patient(clinic=clinic, dermatologist=derm, given_name=f"{CANARY}Fuzz", family_name=CANARY)
    course = make_course(patient, derm)
    item = make_scheduled_item(course, check_type="efficacy_review")
    alert = Alert.objects.get(lab_result=record_result(nurse, patient, "platelets", "45"))
    return {"patient": patient, "course": course, "item": item, "alert": alert}


@pytest.fixture
def nurse_client(nurse):
    client = Client()
    client.force_login(nurse)
    return client


@pytest.mark.parametrize("target", ["labs-cbc", "labs-screening", "labs-lipids", "symptoms", "item-done"])
def test_nurse_forms(target, nurse_client, on_therapy):
    public_id = on_therapy["patient"].public_id
    url = {
        "labs-cbc": reverse("monitoring:lab_entry", args=[public_id]) + "?panel=cbc",
        "labs-screening": reverse("monitoring:lab_entry", args=[public_id]) + "?panel=screening",
        "labs-lipids": reverse("monitoring:lab_entry", args=[public_id]) + "?panel=lipids",
        "symptoms": reverse("monitoring:symptom_check", args=[public_id]),
        "item-done": reverse("monitoring:item_done", args=[on_therapy["item"].public_id]),
    }[target]

    @given(data=st.data())
    @FUZZ
    def run(data):
        fuzz_isolated(data, nurse_client, url)

    run()


@pytest.mark.parametrize("action", ["dose", "interrupt", "stop"])
def test_course_forms(action, derm_client, on_therapy):
    course = on_therapy["course"]
    target = reverse(f"therapy:{action}", args=[course.public_id])

    @given(data=st.data())
    @FUZZ
    def run(data):
        fuzz_isolated(data, derm_client, course.get_absolute_url(), action=target)

    run()


@pytest.mark.parametrize("button", ["check", "start"])
def test_therapy_start_form(button, derm_client, clinic, derm):
    call_command("load_catalogue", verbosity=0)
    patient = make_patient(clinic=clinic, dermatologist=derm, risk={"tb_status": "negative"})
    url = reverse("therapy:start", args=[patient.public_id])

    @given(data=st.data())
    @FUZZ
    def run(data):
        fuzz_isolated(data, derm_client, url, extra={"action": button})

    run()


@pytest.mark.parametrize("action", ["acknowledge", "stop", "interrupt", "dose"])
def test_alert_forms(action, derm_client, on_therapy):
    alert = on_therapy["alert"]
    if action == "acknowledge":
        target = reverse("monitoring:alert_ack", args=[alert.public_id])
    else:
        target = reverse("monitoring:alert_act", args=[alert.public_id, action])

    @given(data=st.data())
    @FUZZ
    def run(data):
        fuzz_isolated(data, derm_client, alert.get_absolute_url(), action=target)

    run()


CSV_HEADER = "record_number,loinc,value,unit,collected_on\n"


CSV_BODIES = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.tuples(
            st.sampled_from(["FZ-001", "", "NOPE", CANARY]),
            st.sampled_from(["777-3", "718-7", "71773-6", "0000-0", ""]),
            st.sampled_from([*NASTY, "45000", "130", "negative"]),
            st.sampled_from(["/mm3", "g/L", "", "furlongs", "10*3/uL"]),
            st.one_of(st.dates().map(str), st.sampled_from(NASTY)),
        ),
        max_size=6,
    ).map(lambda rows: CSV_HEADER + "".join(",".join(r).replace("\n", " ") + "\n" for r in rows)),
)


def test_csv_upload(nurse_client, clinic, derm):
    """Arbitrary files: never a server error; nothing is imported unless the whole file is valid."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    call_command("load_catalogue", verbosity=0)
    make_patient(clinic=clinic, dermatologist=derm, record_number="FZ-001")

    @given(body=CSV_BODIES, encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    @FUZZ
    def run(body, encoding):
        with transaction.atomic():
            content = body.encode(encoding, errors="replace")
            upload = SimpleUploadedFile("results.csv", content, content_type="text/csv")
            before = row_counts()
            response = nurse_client.post(reverse("monitoring:lab_upload"), {"file": upload})
            assert response.status_code < 500
            if response.status_code not in (301, 302, 303):
                assert row_counts() == before
            transaction.set_rollback(True)

    run()
