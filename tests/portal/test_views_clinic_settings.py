"""The clinic settings page: the contact details handouts and GP letters print, audited and stale-safe."""

import pytest
from django.urls import reverse

from portal import clinics, roles
from portal.errors import StaleEditError
from portal.models import AuditEvent, Clinic
from tests.factories import make_clinic, make_user

SETTINGS = reverse("portal:clinic_settings")
CONTACT = {"phone": "+44 20 7946 0000", "emergency_number": "999", "address": "1 Test Street\nTesttown"}


@pytest.fixture
def admin(clinic):
    return make_user(role=roles.CATALOGUE_ADMIN, clinic=clinic)


def post(client, clinic, **fields):
    data = {"unit_system": clinic.unit_system, "row_version": clinic.row_version, **fields}
    return client.post(SETTINGS, data)


def test_the_page_offers_the_contact_fields_with_labels(client_as, admin):
    html = client_as(admin).get(SETTINGS).content.decode()
    for label in ("Clinic phone", "Emergency number", "Clinic address"):
        assert label in html


def test_saving_the_contact_details_is_audited_with_before_and_after(client_as, admin, clinic):
    response = post(client_as(admin), clinic, **CONTACT)
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.phone, clinic.emergency_number, clinic.address) == tuple(CONTACT.values())
    assert clinic.row_version == 2
    event = AuditEvent.objects.get(object_type="portal.clinic")
    assert event.actor == admin
    assert event.changes == {name: ["", value] for name, value in CONTACT.items()}
    assert "clinic phone" in event.summary


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "call us"),
        ("phone", "12"),
        ("emergency_number", "9-9-9"),
        ("emergency_number", "1"),
        ("emergency_number", "1234567"),
    ],
)
def test_an_invalid_contact_detail_is_refused_next_to_its_field_and_kept(client_as, admin, clinic, field, value):
    response = post(client_as(admin), clinic, **{**CONTACT, field: value})
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert form[field].value() == value
    clinic.refresh_from_db()
    assert clinic.phone == ""
    assert clinic.emergency_number == ""
    assert clinic.row_version == 1
    assert not AuditEvent.objects.filter(object_type="portal.clinic").exists()


def test_a_stale_save_changes_nothing_and_shows_what_is_saved_now(client_as, admin, clinic):
    client = client_as(admin)
    clinics.clinic_settings_update(actor=admin, clinic=clinic, data={"phone": "0123 456 789"}, expected_row_version=1)
    response = post(client, clinic, **CONTACT)  # still row_version 1
    assert response.status_code == 200
    html = response.content.decode()
    assert "while you were editing" in html
    assert "0123 456 789" in html
    assert response.context["form"]["phone"].value() == CONTACT["phone"]  # the input kept
    clinic.refresh_from_db()
    assert clinic.phone == "0123 456 789"
    assert clinic.emergency_number == ""
    assert AuditEvent.objects.filter(object_type="portal.clinic").count() == 1


def test_the_service_refuses_stale_and_invalid_saves_with_the_field(admin, clinic):
    with pytest.raises(StaleEditError):
        clinics.clinic_settings_update(actor=admin, clinic=clinic, data=CONTACT, expected_row_version=7)
    with pytest.raises(clinics.ClinicSettingsError) as refused:
        clinics.clinic_settings_update(
            actor=admin, clinic=clinic, data={"emergency_number": "help"}, expected_row_version=1
        )
    assert refused.value.field == "emergency_number"
    with pytest.raises(clinics.ClinicSettingsError) as refused:
        clinics.clinic_settings_update(actor=admin, clinic=clinic, data={"address": "x" * 401}, expected_row_version=1)
    assert refused.value.field == "address"
    assert Clinic.objects.get(pk=clinic.pk).row_version == 1


def test_an_unchanged_save_writes_no_audit_row(client_as, admin, clinic):
    assert post(client_as(admin), clinic).status_code == 302
    assert not AuditEvent.objects.filter(object_type="portal.clinic").exists()


def test_the_unit_system_comes_from_the_users_clinic_loaded_already(admin, clinic, django_assert_num_queries):
    clinic.unit_system = Clinic.UnitSystem.SI
    clinic.save()
    other = make_clinic()
    with django_assert_num_queries(0):
        assert clinics.unit_system_of(admin, clinic=clinic) == "SI"
    admin._portal_unit_system = None
    with django_assert_num_queries(1):  # another clinic's settings are not the user's: read the user's
        assert clinics.unit_system_of(admin, clinic=other) == "SI"
