import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from drugs.models import Drug, RegulatoryStatus

pytestmark = pytest.mark.usefixtures("mini_catalogue")


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def _more_drugs(n):
    for i in range(n):
        drug = Drug.objects.create(slug=f"extra{i}", generic_name=f"extra{i}", route="oral")
        RegulatoryStatus.objects.create(drug=drug, jurisdiction="US", status="investigational")


@pytest.mark.parametrize("fixture", ["derm", "nurse", "catalogue_admin"])
def test_every_role_can_browse(client, request, fixture):
    client.force_login(request.getfixturevalue(fixture))
    response = client.get(reverse("drugs:list"))
    assert response.status_code == 200
    assert b"Testinib" in response.content


@pytest.mark.parametrize(
    ("query", "found"),
    [("testinib", True), ("TESTIVA", True), ("tst-001", True), ("testinb", True), ("zzz", False)],
)
def test_search_by_generic_brand_code_and_misspelling(client, derm, query, found):
    client.force_login(derm)
    response = client.get(reverse("drugs:list"), {"q": query})
    assert (b"Testinib" in response.content) is found


def test_filter_by_route_and_status(client, derm):
    client.force_login(derm)
    topical = client.get(reverse("drugs:list"), {"route": "topical"}).content
    assert b"Creamitinib" in topical
    assert b"Testinib" not in topical
    approved = client.get(reverse("drugs:list"), {"status": "approved"}).content
    assert b"Testinib" in approved
    assert b"Creamitinib" not in approved


def test_edit_links_only_for_catalogue_admins(client, nurse, catalogue_admin):
    edit_url = reverse("drugs:edit", args=["testinib"]).encode()
    client.force_login(nurse)
    assert edit_url not in client.get(reverse("drugs:list")).content
    assert edit_url not in client.get(reverse("drugs:detail", args=["testinib"])).content
    client.force_login(catalogue_admin)
    assert edit_url in client.get(reverse("drugs:list")).content
    assert edit_url in client.get(reverse("drugs:detail", args=["testinib"])).content


def test_detail_shows_label_data_sources_and_uncertainty(client, nurse):
    client.force_login(nurse)
    body = client.get(reverse("drugs:detail", args=["testinib"]), {"j": "all"}).content.decode()
    assert "Discontinue" in body
    assert "Week 4" in body
    assert "Test source one" in body
    assert "Unconfirmed" in body


def test_detail_filters_by_jurisdiction(client, nurse):
    client.force_login(nurse)
    eu = client.get(reverse("drugs:detail", args=["testinib"]), {"j": "EU"}).content.decode()
    assert "Discontinue" not in eu  # the only threshold is a US row


def test_unknown_drug_is_404(client, nurse):
    client.force_login(nurse)
    assert client.get(reverse("drugs:detail", args=["nosuchdrug"])).status_code == 404


def test_list_query_count_does_not_grow(client, derm):
    client.force_login(derm)
    url = reverse("drugs:list")
    before = _count_queries(client, url)
    _more_drugs(15)
    assert _count_queries(client, url) == before


def test_detail_query_count_is_bounded(client, derm):
    """Counted as built (the page is kept per catalogue version, and these rows are added without a new version)."""
    client.force_login(derm)
    url = reverse("drugs:detail", args=["testinib"]) + "?j=all"
    before = _count_queries(client, url)
    drug = Drug.objects.get(slug="testinib")
    for week in range(5, 25):
        drug.monitoring_rules.create(check_type="lipids", first_week=week)
    cache.clear()
    assert _count_queries(client, url) == before


def test_history_lists_versions(client, nurse):
    client.force_login(nurse)
    body = client.get(reverse("drugs:history", args=["testinib"])).content.decode()
    assert "Initial load from the clinical reference" in body


def test_catalogue_admin_home_lists_facts_to_verify(client, catalogue_admin, nurse):
    client.force_login(catalogue_admin)
    body = client.get(reverse("portal:home")).content.decode()
    assert "Testinib: facts marked unconfirmed" in body
    assert "Latest catalogue changes" in body
    client.force_login(nurse)
    assert "facts marked unconfirmed" not in client.get(reverse("portal:home")).content.decode()
