import pytest
from django.urls import reverse

from drugs.models import CatalogueVersion, LabTest

pytestmark = pytest.mark.usefixtures("mini_catalogue")


def _post(lab_test, reason="Local lab range", **overrides):
    unit = lab_test.units.first()
    data = {
        "name": lab_test.name,
        "short_name": lab_test.short_name,
        "reference_low": "150",
        "reference_high": "400",
        "plausible_min": "0",
        "plausible_max": "2000",
        "source": "local lab",
        "units-TOTAL_FORMS": "1",
        "units-INITIAL_FORMS": "1",
        "units-MIN_NUM_FORMS": "0",
        "units-MAX_NUM_FORMS": "1000",
        "units-0-id": str(unit.pk),
        "units-0-lab_test": str(lab_test.pk),
        "units-0-unit": unit.unit,
        "units-0-label": unit.label,
        "units-0-factor": "1",
        "reason": reason,
        "row_version": str(lab_test.row_version),
    }
    data.update(overrides)
    return data


def test_everyone_sees_lab_tests_only_admin_edits(client, nurse, catalogue_admin):
    url = reverse("drugs:lab_test_edit", args=["platelets"])
    client.force_login(nurse)
    assert client.get(reverse("drugs:lab_tests")).status_code == 200
    assert client.get(url).status_code == 403
    client.force_login(catalogue_admin)
    assert client.get(url).status_code == 200


def test_admin_sets_the_local_range_with_a_reason(client, catalogue_admin):
    client.force_login(catalogue_admin)
    lab_test = LabTest.objects.get(analyte="platelets")
    response = client.post(reverse("drugs:lab_test_edit", args=["platelets"]), _post(lab_test))
    assert response.status_code == 302
    lab_test.refresh_from_db()
    assert lab_test.reference_low == 150
    version = CatalogueVersion.objects.latest("id")
    assert version.reason == "Local lab range"
    assert version.drug_name == "Lab test: Platelets"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reference_low": "500"}, "upper end of the reference range"),
        ({"units-0-factor": "0"}, "above 0"),
        ({"reason": ""}, "Give a reason"),
    ],
)
def test_bad_lab_test_input_saves_nothing(client, catalogue_admin, overrides, message):
    client.force_login(catalogue_admin)
    lab_test = LabTest.objects.get(analyte="platelets")
    response = client.post(reverse("drugs:lab_test_edit", args=["platelets"]), _post(lab_test, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    lab_test.refresh_from_db()
    assert lab_test.reference_low is None


def test_stale_lab_test_edit_is_refused_and_input_kept(client, catalogue_admin):
    client.force_login(catalogue_admin)
    lab_test = LabTest.objects.get(analyte="platelets")
    before = lab_test.reference_low
    data = _post(lab_test, reference_low="123")
    LabTest.objects.filter(pk=lab_test.pk).update(row_version=lab_test.row_version + 1)  # someone else saved
    response = client.post(reverse("drugs:lab_test_edit", args=["platelets"]), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Someone else saved the lab test" in body
    assert 'value="123"' in body
    assert LabTest.objects.get(pk=lab_test.pk).reference_low == before


def test_lab_test_save_moves_its_row_version_on(client, catalogue_admin):
    client.force_login(catalogue_admin)
    lab_test = LabTest.objects.get(analyte="platelets")
    assert client.get(reverse("drugs:lab_test_edit", args=["platelets"])).context["reason_form"].initial == {
        "row_version": lab_test.row_version
    }
    response = client.post(reverse("drugs:lab_test_edit", args=["platelets"]), _post(lab_test))
    assert response.status_code == 302
    assert LabTest.objects.get(pk=lab_test.pk).row_version == lab_test.row_version + 1


@pytest.mark.parametrize(
    "overrides",
    [{"si_unit": "/mm3"}, {"units-0-divisor": "2"}, {"units-0-display_places": "1"}],
    ids=["si-unit", "divisor", "display-places"],
)
def test_a_change_of_the_shown_unit_or_a_conversion_alone_is_a_catalogue_version(client, catalogue_admin, overrides):
    """Each changes what results show, so each is a new catalogue version (and the cached labels are rebuilt)."""
    lab_test = LabTest.objects.get(analyte="platelets")
    client.force_login(catalogue_admin)
    url = reverse("drugs:lab_test_edit", args=["platelets"])
    assert client.post(url, _post(lab_test)).status_code == 302
    lab_test.refresh_from_db()
    versions = CatalogueVersion.objects.count()
    response = client.post(url, _post(lab_test, **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CatalogueVersion.objects.count() == versions + 1
