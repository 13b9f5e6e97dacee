"""Finding a patient by name in the browser: the name stays out of the address bar and the history (issue 18, F7)."""

import pytest

from patients.models import Patient

pytestmark = pytest.mark.usefixtures("demo")


def test_dermatologist_finds_a_patient_without_the_name_in_the_address(session):
    patient = Patient.objects.order_by("family_name").first()
    page = session.login("demo-derm")
    session.go("/patients/")
    page.fill("#id_q", patient.family_name)
    page.click("form[role=search] button:has-text('Search')")
    page.wait_for_url("**/patients/?s=*")
    assert patient.family_name.lower() not in page.url.lower()
    assert page.input_value("#id_q") == patient.family_name  # the box keeps what was typed
    assert patient.family_name in page.locator("tbody").inner_text()
    session.check_accessibility("patient-search")
    page.click(f"tbody >> text={patient.family_name}")
    page.wait_for_url(f"**/patients/{patient.public_id}/")
    page.go_back()  # back to the results: the same search, by its id
    page.wait_for_url("**/patients/?s=*")
    assert page.input_value("#id_q") == patient.family_name
    born = patient.date_of_birth.strftime("%d/%m/%Y")
    page.fill("#id_q", born)
    page.click("form[role=search] button:has-text('Search')")
    page.wait_for_url("**/patients/?s=*")
    assert born.split("/")[-1] not in page.url
    assert patient.family_name in page.locator("tbody").inner_text()
    session.assert_accessible()
