from decimal import Decimal

import pytest
from django.urls import reverse

from drugs.models import CatalogueVersion, Drug, LabThreshold, MonitoringRule
from portal.models import AuditEvent

pytestmark = pytest.mark.usefixtures("mini_catalogue")


def _threshold_post(drug, reason="Label update 2026", **overrides):
    row = LabThreshold.objects.get(drug=drug)
    data = {
        "thresholds-TOTAL_FORMS": "1",
        "thresholds-INITIAL_FORMS": "1",
        "thresholds-MIN_NUM_FORMS": "0",
        "thresholds-MAX_NUM_FORMS": "1000",
        "thresholds-0-id": str(row.pk),
        "thresholds-0-jurisdiction": "US",
        "thresholds-0-lab_test": str(row.lab_test_id),
        "thresholds-0-phase": "on_treatment",
        "thresholds-0-comparison": "lt",
        "thresholds-0-value": "40",
        "thresholds-0-unit": "",
        "thresholds-0-action": "discontinue",
        "thresholds-0-restart_rule": "",
        "thresholds-0-source": "[X1]",
        "reason": reason,
        "row_version": str(drug.row_version),
    }
    data.update({f"thresholds-0-{k}": v for k, v in overrides.items()})
    return data


@pytest.mark.parametrize("fixture", ["derm", "nurse"])
@pytest.mark.parametrize("url_name", ["drugs:edit", "drugs:edit_section"])
def test_clinicians_cannot_edit(client, request, fixture, url_name):
    client.force_login(request.getfixturevalue(fixture))
    args = ["testinib"] if url_name == "drugs:edit" else ["testinib", "thresholds"]
    assert client.get(reverse(url_name, args=args)).status_code == 403
    assert client.post(reverse(url_name, args=args), {}).status_code == 403


def test_admin_changes_a_threshold_with_a_reason_and_sees_it_in_history(client, catalogue_admin):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="testinib")
    url = reverse("drugs:edit_section", args=["testinib", "thresholds"])
    response = client.post(url, _threshold_post(drug))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert LabThreshold.objects.get(drug=drug).value == 40
    version = CatalogueVersion.objects.filter(drug=drug).first()
    assert version.created_by == catalogue_admin
    assert version.reason == "Label update 2026"
    assert {"field": "value", "old": "50", "new": "40"}.items() <= version.changes[0].items()
    assert AuditEvent.objects.filter(actor=catalogue_admin, action="change", object_type="drugs.drug").exists()
    history = client.get(reverse("drugs:history", args=["testinib"])).content.decode()
    assert "Label update 2026" in history
    assert str(catalogue_admin) in history


@pytest.mark.parametrize("unit", ["/mm3", "cells/mm³"])  # the UCUM code or the label (LabTest.unit_for)
def test_value_in_another_accepted_unit_is_converted(client, catalogue_admin, unit):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="testinib")
    url = reverse("drugs:edit_section", args=["testinib", "thresholds"])
    assert client.post(url, _threshold_post(drug, value="45000", unit=unit)).status_code == 302
    assert LabThreshold.objects.get(drug=drug).value == 45


def test_converted_value_keeps_every_stored_decimal_place(client, catalogue_admin):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="testinib")
    url = reverse("drugs:edit_section", args=["testinib", "thresholds"])
    assert client.post(url, _threshold_post(drug, value="45000.5", unit="/mm3")).status_code == 302
    assert LabThreshold.objects.get(drug=drug).value == Decimal("45.0005")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"value": "-5"}, "cannot be negative"),
        ({"unit": "furlongs"}, "Unknown unit"),
        # 45000.25 /mm3 is 45.00025 ×10³/µL: refused (drugs.units.to_canonical), not silently rounded to 45.0003
        (
            {"value": "45000.25", "unit": "/mm3"},
            "45000.25 /mm3 is 45.00025 10*3/uL: more than the 4 decimal places a threshold keeps",
        ),
        ({"value": ""}, "This field is required"),
    ],
)
def test_bad_threshold_input_is_explained_and_saves_nothing(client, catalogue_admin, overrides, message):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="testinib")
    response = client.post(
        reverse("drugs:edit_section", args=["testinib", "thresholds"]), _threshold_post(drug, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert LabThreshold.objects.get(drug=drug).value == 50
    assert CatalogueVersion.objects.filter(drug=drug).count() == 1


def test_missing_reason_saves_nothing(client, catalogue_admin):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="testinib")
    response = client.post(
        reverse("drugs:edit_section", args=["testinib", "thresholds"]), _threshold_post(drug, reason="")
    )
    assert response.status_code == 200
    assert "Give a reason for the change" in response.content.decode()
    assert 'value="40"' in response.content.decode()  # what the admin typed is kept
    assert LabThreshold.objects.get(drug=drug).value == 50


def test_week_zero_follow_up_is_refused(client, catalogue_admin):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="testinib")
    rule = MonitoringRule.objects.get(drug=drug)
    data = {
        "monitoring_rules-TOTAL_FORMS": "1",
        "monitoring_rules-INITIAL_FORMS": "1",
        "monitoring_rules-MIN_NUM_FORMS": "0",
        "monitoring_rules-MAX_NUM_FORMS": "1000",
        "monitoring_rules-0-id": str(rule.pk),
        "monitoring_rules-0-jurisdiction": "ANY",
        "monitoring_rules-0-check_type": "cbc",
        "monitoring_rules-0-first_week": "0",
        "monitoring_rules-0-window_days": "7",
        "reason": "Try week zero",
        "row_version": str(drug.row_version),
    }
    response = client.post(reverse("drugs:edit_section", args=["testinib", "monitoring_rules"]), data)
    assert response.status_code == 200
    assert "Week 0 is the baseline" in response.content.decode()
    assert MonitoringRule.objects.get(pk=rule.pk).first_week == 4


def test_stale_edit_is_refused_and_input_kept(client, catalogue_admin):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="testinib")
    data = _threshold_post(drug)
    Drug.objects.filter(pk=drug.pk).update(row_version=drug.row_version + 1)  # someone else saved meanwhile
    response = client.post(reverse("drugs:edit_section", args=["testinib", "thresholds"]), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Someone else saved" in body
    assert 'value="40"' in body
    assert LabThreshold.objects.get(drug=drug).value == 50


def test_unchanged_save_makes_no_version(client, catalogue_admin):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="testinib")
    response = client.post(
        reverse("drugs:edit_section", args=["testinib", "thresholds"]), _threshold_post(drug, value="50")
    )
    assert "Nothing was changed" in response.content.decode()
    assert CatalogueVersion.objects.filter(drug=drug).count() == 1


def test_admin_edits_names_with_reason(client, catalogue_admin):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="testinib")
    data = {
        "generic_name": "testinib",
        "brand_names": "Testiva, Testiva XR",
        "search_terms": drug.search_terms,
        "drug_class": drug.drug_class,
        "selectivity": "JAK1",
        "route": "oral",
        "forms_strengths": "",
        "dose_unit": "mg",
        "summary": "",
        "reason": "New brand",
        "row_version": str(drug.row_version),
    }
    assert client.post(reverse("drugs:edit", args=["testinib"]), data).status_code == 302
    drug.refresh_from_db()
    assert drug.brand_names == "Testiva, Testiva XR"
    assert drug.row_version == 2


def test_delete_needs_admin_and_a_reason_and_keeps_history(client, catalogue_admin, derm):
    client.force_login(derm)
    assert client.post(reverse("drugs:delete", args=["creamitinib"]), {"reason": "x"}).status_code == 403
    client.force_login(catalogue_admin)
    client.post(reverse("drugs:delete", args=["creamitinib"]), {"reason": ""})
    assert Drug.objects.filter(slug="creamitinib").exists()
    client.post(reverse("drugs:delete", args=["creamitinib"]), {"reason": "Duplicate entry"})
    assert not Drug.objects.filter(slug="creamitinib").exists()
    assert CatalogueVersion.objects.filter(drug_name="creamitinib", reason="Duplicate entry").exists()
