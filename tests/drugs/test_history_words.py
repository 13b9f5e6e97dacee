"""A drug's history: versions numbered 1, 2, 3 … for that drug, changes with field labels, choice labels and units."""

import pytest
from django.urls import reverse

from drugs import selectors, services
from drugs.models import Drug, LabThreshold

pytestmark = pytest.mark.usefixtures("mini_catalogue")


def change(drug, apply, reason="Label update"):
    drug.refresh_from_db()
    return services.catalogue_change(drug=drug, actor=None, reason=reason, apply=apply)


def set_threshold(**values):
    return lambda d: LabThreshold.objects.filter(drug=d).update(**values)


def test_versions_are_numbered_per_drug_with_the_catalogue_version_as_secondary(client, nurse):
    testinib, creamitinib = Drug.objects.get(slug="testinib"), Drug.objects.get(slug="creamitinib")
    change(creamitinib, lambda d: Drug.objects.filter(pk=d.pk).update(summary="Other drug (1)"))
    second = change(testinib, set_threshold(value="40"))
    change(creamitinib, lambda d: Drug.objects.filter(pk=d.pk).update(summary="Other drug (2)"))
    third = change(testinib, lambda d: Drug.objects.filter(pk=d.pk).update(summary="Changed summary"))
    assert [v.drug_number for v in selectors.drug_versions(testinib)] == [3, 2, 1]
    assert selectors.drug_version_number(second) == 2
    assert selectors.drug_version_number(third) == 3
    client.force_login(nurse)
    body = client.get(reverse("drugs:history", args=["testinib"])).content.decode()
    assert "Version 3 ·" in body
    assert "Version 2 ·" in body
    assert "Version 1 ·" in body
    assert f"catalogue version {third.number}" in body
    assert third.number > 3  # the global number jumps; the drug's own does not


def test_a_threshold_change_reads_with_labels_choice_labels_and_units(client, nurse):
    drug = Drug.objects.get(slug="testinib")
    change(drug, set_threshold(value="40", action="interrupt", phase="on_treatment"))
    rows = selectors.drug_history(drug, 1)[0].rows
    value = next(r for r in rows if r.field == "Action level")
    assert (value.before, value.after) == ("50 ×10³/µL", "40 ×10³/µL")
    assert value.part == "Lab action thresholds"
    assert "Platelets" in value.row
    assert "On treatment" in value.row
    client.force_login(nurse)
    body = client.get(reverse("drugs:history", args=["testinib"])).content.decode()
    assert "Action level" in body
    assert "40 ×10³/µL" in body
    for code in ("on_treatment", "10*3/uL", "changed: value"):
        assert code not in body


def test_a_drug_field_change_reads_with_its_label_and_choice_labels():
    drug = Drug.objects.get(slug="testinib")
    before = drug.get_route_display()
    change(drug, lambda d: Drug.objects.filter(pk=d.pk).update(route="topical"))
    row = selectors.drug_history(drug, 1)[0].rows[0]
    assert (row.part, row.change, row.field, row.before, row.after) == ("Drug", "Changed", "Route", before, "Topical")


def test_the_first_version_says_it_was_loaded(client, nurse):
    client.force_login(nurse)
    body = client.get(reverse("drugs:history", args=["testinib"])).content.decode()
    assert "Version 1 ·" in body
    assert "First version: the whole entry as loaded." in body
