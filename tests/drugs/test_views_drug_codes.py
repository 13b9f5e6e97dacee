"""A drug's RxNorm and ATC codes: shown (with their verified state) on the drug page, edited by catalogue admins
like any catalogue change (reason, new version, audit, stale-form refusal), refused for clinicians."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from drugs.models import CatalogueVersion, Drug, DrugCode
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db):
    call_command("load_catalogue", verbosity=0)


def _post_data(drug, reason="Checked in RxNav 2026-12", **fields) -> dict:
    codes = {c.system: c for c in DrugCode.objects.filter(drug=drug)}
    data = {"reason": reason, "row_version": str(drug.row_version)}
    for system in ("rxnorm", "atc"):
        row = codes.get(system)
        data[f"{system}-code"] = row.code if row else ""
        data[f"{system}-display"] = row.display if row else ""
        data[f"{system}-note"] = row.note if row else ""
        if row and row.verified:
            data[f"{system}-verified"] = "on"
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def _url(slug: str) -> str:
    return reverse("drugs:codes", args=[slug])


def test_drug_page_shows_codes_unverified_and_the_missing_rxnorm_note(client, nurse, catalogue):
    client.force_login(nurse)
    page = client.get(reverse("drugs:detail", args=["abrocitinib"])).content.decode()
    assert "D11AH08" in page
    assert "Unverified — check in the WHO ATC index" in page
    assert "No RxNorm code: FHIR exports send the name only" in page
    assert _url("abrocitinib") not in page  # no edit link for a nurse
    upa = client.get(reverse("drugs:detail", args=["upadacitinib"])).content.decode()
    assert "2196092" in upa
    assert "Unverified — check in RxNav" in upa


def test_admin_verifies_a_code_as_a_new_catalogue_version(client, catalogue_admin, catalogue):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="upadacitinib")
    page = client.get(_url(drug.slug)).content.decode()
    assert "https://mor.nlm.nih.gov/RxNav/search?searchBy=RXCUI&amp;searchTerm=2196092" in page
    versions = CatalogueVersion.objects.count()
    response = client.post(_url(drug.slug), _post_data(drug, **{"rxnorm-verified": "on"}))
    assert response.status_code == 302
    code = DrugCode.objects.get(drug=drug, system="rxnorm")
    assert code.verified
    assert code.updated_by == catalogue_admin
    assert CatalogueVersion.objects.count() == versions + 1
    version = CatalogueVersion.objects.latest("id")
    assert version.changes == [
        {"section": "codes", "row": "RxNorm", "change": "changed", "field": "verified", "old": False, "new": True}
    ]
    assert AuditEvent.objects.filter(object_type="drugs.drug", object_id=str(drug.pk), summary__contains="codes")
    history = client.get(reverse("drugs:history", args=[drug.slug])).content.decode()
    assert "Drug codes" in history
    detail = client.get(reverse("drugs:detail", args=[drug.slug])).content.decode()
    assert 'text-bg-success">Verified' in detail


def test_admin_adds_and_removes_codes(client, catalogue_admin, catalogue):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="abrocitinib")
    response = client.post(_url(drug.slug), _post_data(drug, **{"rxnorm-code": "9999999", "atc-code": ""}))
    assert response.status_code == 302
    assert dict(DrugCode.objects.filter(drug=drug).values_list("system", "code")) == {"rxnorm": "9999999"}
    assert DrugCode.objects.get(drug=drug, system="rxnorm").verified is False
    kinds = sorted(c["change"] for c in CatalogueVersion.objects.latest("id").changes)
    assert kinds == ["added", "removed"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rxnorm-code": "abc"}, "An RxNorm code (RxCUI) is a number"),
        ({"atc-code": "L04A"}, "An ATC code for a substance"),
        ({"rxnorm-code": "", "rxnorm-verified": "on"}, "There is no code to verify"),
        ({"rxnorm-code": "2196092"}, "already the code of Upadacitinib"),  # upadacitinib's RxNorm code
        ({"reason": ""}, "Give a reason"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(client, catalogue_admin, catalogue, fields, message):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="abrocitinib")
    before = list(DrugCode.objects.order_by("pk").values())
    versions = CatalogueVersion.objects.count()
    response = client.post(_url(drug.slug), _post_data(drug, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(DrugCode.objects.order_by("pk").values()) == before
    assert CatalogueVersion.objects.count() == versions


def test_atc_code_is_normalised_to_capitals(client, catalogue_admin, catalogue):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="abrocitinib")
    client.post(_url(drug.slug), _post_data(drug, **{"atc-code": " d11ah08 ", "atc-verified": "on"}))
    assert DrugCode.objects.get(drug=drug, system="atc").code == "D11AH08"
    assert DrugCode.objects.get(drug=drug, system="atc").verified


def test_a_stale_form_and_a_repeated_submit_are_refused(client, catalogue_admin, catalogue):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="upadacitinib")
    data = _post_data(drug, **{"rxnorm-verified": "on"})
    assert client.post(_url(drug.slug), data).status_code == 302
    versions = CatalogueVersion.objects.count()
    again = client.post(_url(drug.slug), {**data, "rxnorm-note": "second tab"})
    assert again.status_code == 200
    assert "Someone else saved" in again.content.decode()
    assert DrugCode.objects.get(drug=drug, system="rxnorm").note == ""
    assert CatalogueVersion.objects.count() == versions


def test_saving_unchanged_codes_makes_no_version(client, catalogue_admin, catalogue):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="upadacitinib")
    versions = CatalogueVersion.objects.count()
    response = client.post(_url(drug.slug), _post_data(drug))
    assert "Nothing was changed" in response.content.decode()
    assert CatalogueVersion.objects.count() == versions


@pytest.mark.parametrize("role", ["derm", "nurse"])
def test_clinicians_cannot_edit_codes(client, request, role, catalogue):
    client.force_login(request.getfixturevalue(role))
    drug = Drug.objects.get(slug="upadacitinib")
    assert client.get(_url(drug.slug)).status_code == 403
    assert client.post(_url(drug.slug), _post_data(drug, **{"rxnorm-verified": "on"})).status_code == 403
    assert not DrugCode.objects.get(drug=drug, system="rxnorm").verified


def test_code_pages_query_counts_are_the_same_for_every_drug(client, catalogue_admin, catalogue):
    """Abrocitinib has one code, upadacitinib two, delgocitinib none: the editor and the drug page read them in
    one query whatever the drug has."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(catalogue_admin)
    counts = {}
    for slug in ("abrocitinib", "upadacitinib", "delgocitinib"):
        for url in (_url(slug), reverse("drugs:detail", args=[slug])):
            client.get(url)  # warm the per-request caches
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.setdefault(url.split(slug)[1], set()).add(len(queries))
    assert all(len(found) == 1 for found in counts.values()), counts
