"""The drug labels are built once per catalogue version and cached; a catalogue change is seen at once."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from drugs import label as L
from drugs import selectors
from drugs.models import Drug, LabTest
from tests.drugs.test_views_drug_edit import _threshold_post
from tests.drugs.test_views_lab_tests import _post as _lab_test_post
from therapy.thresholds import check_result

pytestmark = pytest.mark.usefixtures("mini_catalogue")


def _discontinues(label: L.DrugLabel, platelets: str) -> bool:
    findings = check_result("platelets", Decimal(platelets), label, "US", on_treatment=True, catalogue_version=1)
    return any(f.action == "discontinue" for f in findings)


def test_a_cached_label_costs_one_query(django_assert_num_queries):
    drug = Drug.objects.get(slug="testinib")
    with django_assert_num_queries(14):  # the version, the drug, its 12 label relations (once per version)
        built = selectors.drug_label(drug)
    with django_assert_num_queries(1):  # the version; the label comes from the cache
        again = selectors.drug_label(drug)
    assert again == built
    assert again is not built  # a copy out of the cache: pickled, so plain frozen dataclasses only


def test_dosing_labels_share_the_cache(django_assert_num_queries):
    labels = selectors.dosing_labels()
    with django_assert_num_queries(2):  # the drugs and the version
        assert selectors.dosing_labels() == labels
    drug = Drug.objects.get(slug="testinib")
    with django_assert_num_queries(1):
        assert selectors.drug_label(drug) == labels[drug]
    with django_assert_num_queries(2):
        assert selectors.dosing_labels(Drug.objects.filter(pk=drug.pk)) == {drug: labels[drug]}


def test_the_cache_holds_plain_labels_keyed_by_the_catalogue_version():
    drug = Drug.objects.get(slug="testinib")
    selectors.drug_label(drug)
    key = selectors._label_key(selectors._catalogue_state(), drug.pk)
    assert isinstance(cache.get(key), L.DrugLabel)


def test_a_threshold_saved_in_the_editor_reaches_the_safety_check(client, catalogue_admin):
    drug = Drug.objects.get(slug="testinib")
    assert _discontinues(selectors.drug_label(drug), "45")  # cached: below 50 discontinues
    client.force_login(catalogue_admin)
    url = reverse("drugs:edit_section", args=["testinib", "thresholds"])
    assert client.post(url, _threshold_post(drug, value="40")).status_code == 302
    label = selectors.drug_label(Drug.objects.get(pk=drug.pk))
    assert [t.value for t in label.thresholds] == [Decimal("40")]
    assert not _discontinues(label, "45")
    assert _discontinues(label, "35")


def test_a_stale_drug_instance_still_gets_the_new_label(client, catalogue_admin):
    """The caller's instance may hold relations prefetched before the change; the label is built from fresh rows."""
    drug = Drug.objects.prefetch_related("thresholds").get(slug="testinib")
    assert [t.value for t in drug.thresholds.all()] == [Decimal("50")]
    client.force_login(catalogue_admin)
    url = reverse("drugs:edit_section", args=["testinib", "thresholds"])
    assert client.post(url, _threshold_post(drug, value="40")).status_code == 302
    assert [t.value for t in selectors.drug_label(drug).thresholds] == [Decimal("40")]


def test_a_lab_test_saved_in_the_editor_reaches_the_label(client, catalogue_admin):
    drug = Drug.objects.get(slug="testinib")
    assert [t.analyte_name for t in selectors.drug_label(drug).thresholds] == ["Platelets"]
    lab_test = LabTest.objects.get(analyte="platelets")
    client.force_login(catalogue_admin)
    response = client.post(
        reverse("drugs:lab_test_edit", args=["platelets"]), _lab_test_post(lab_test, short_name="PLT")
    )
    assert response.status_code == 302
    assert [t.analyte_name for t in selectors.drug_label(drug).thresholds] == ["PLT"]


def _page(client, jurisdiction="US"):
    """The drug page, less its (per request) CSRF tokens."""
    body = client.get(reverse("drugs:detail", args=["testinib"]), {"j": jurisdiction}).content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)


def test_the_drug_page_is_built_once_per_catalogue_version(client, derm, django_assert_max_num_queries):
    client.force_login(derm)
    with CaptureQueriesContext(connection) as built:
        first = _page(client)
    with django_assert_max_num_queries(len(built) - 10):  # the version, not the label's rows
        assert _page(client) == first
    # Kept per jurisdiction: each shows its own rows.
    assert "<td>50 " in first
    assert "<td>50 " not in _page(client, "EU")


def test_a_catalogue_save_in_the_editor_rebuilds_the_drug_page(client, derm, catalogue_admin):
    client.force_login(derm)
    assert "<td>50 " in _page(client)  # built and cached
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="testinib")
    url = reverse("drugs:edit_section", args=["testinib", "thresholds"])
    assert client.post(url, _threshold_post(drug, value="40")).status_code == 302
    client.force_login(derm)
    page = _page(client)
    assert "<td>40 " in page
    assert "<td>50 " not in page


def test_the_kept_page_is_kept_apart_for_editors(client, nurse, catalogue_admin):
    edit_url = reverse("drugs:codes", args=["testinib"])
    client.force_login(catalogue_admin)
    assert edit_url in _page(client)
    client.force_login(nurse)
    assert edit_url not in _page(client)


def test_sources_and_codes_are_read_per_request(client, derm):
    """The seed loader retitles sources and adds codes without a new catalogue version: not kept with the page."""
    from drugs.models import DrugCode, Source

    client.force_login(derm)
    assert "No RxNorm code" in _page(client)  # built and cached
    tag = re.search(r'id="src-([^"]+)"', _page(client)).group(1)
    Source.objects.filter(tag=tag).update(title="Retitled by the seed")
    DrugCode.objects.create(drug=Drug.objects.get(slug="testinib"), system="rxnorm", code="999999", verified=False)
    page = _page(client)
    assert "Retitled by the seed" in page
    assert "<code>999999</code>" in page


def test_the_cached_lab_catalogue_costs_one_query_and_carries_units_and_thresholds(django_assert_num_queries):
    built = selectors.lab_catalogue().tests
    with django_assert_num_queries(1):  # the version; the tests and their units come from the cache
        tests = selectors.lab_catalogue().tests
        platelets = next(t for t in tests.values() if t.analyte == "platelets")
        assert platelets.unit_label == built[platelets.pk].unit_label
    assert set(tests) == set(LabTest.objects.values_list("pk", flat=True))
    with django_assert_num_queries(1):
        thresholds = selectors.lab_catalogue().thresholds
        assert [(str(t.drug), t.value) for t in thresholds] == [("Testinib", Decimal("50"))]


def test_a_lab_test_saved_in_the_editor_rebuilds_the_cached_lab_catalogue(client, catalogue_admin):
    lab_test = LabTest.objects.get(analyte="platelets")
    assert selectors.lab_catalogue().tests[lab_test.pk].short_name == lab_test.short_name  # cached now
    client.force_login(catalogue_admin)
    response = client.post(
        reverse("drugs:lab_test_edit", args=["platelets"]),
        _lab_test_post(lab_test, short_name="PLT", **{"units-0-label": "G/L (local)"}),
    )
    assert response.status_code == 302
    rebuilt = selectors.lab_catalogue().tests[lab_test.pk]
    assert rebuilt.short_name == "PLT"
    assert rebuilt.unit_label == "G/L (local)"


def test_a_threshold_saved_in_the_editor_rebuilds_the_cached_lab_catalogue(client, catalogue_admin):
    drug = Drug.objects.get(slug="testinib")
    assert [t.value for t in selectors.lab_catalogue().thresholds] == [Decimal("50")]  # cached now
    client.force_login(catalogue_admin)
    url = reverse("drugs:edit_section", args=["testinib", "thresholds"])
    assert client.post(url, _threshold_post(drug, value="40")).status_code == 302
    assert [t.value for t in selectors.lab_catalogue().thresholds] == [Decimal("40")]
