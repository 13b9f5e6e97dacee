"""The real seed through the real command: what `make run` gives a clinic."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from drugs.models import Drug, LabThreshold, RegulatoryStatus

SEVEN = [
    "abrocitinib",
    "baricitinib",
    "delgocitinib",
    "gusacitinib",
    "ruxolitinib-cream",
    "tofacitinib",
    "upadacitinib",
]


@pytest.fixture
def catalogue(db):
    call_command("load_catalogue", verbosity=0)


@pytest.mark.usefixtures("catalogue")
def test_all_seven_drugs_are_loaded():
    assert sorted(Drug.objects.values_list("slug", flat=True)) == SEVEN


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("slug", "jurisdiction", "status"),
    [
        ("baricitinib", "US", "other"),
        ("baricitinib", "EU", "approved"),
        ("delgocitinib", "US", "other"),
        ("gusacitinib", "EU", "investigational"),
        ("tofacitinib", "US", "other"),
        ("ruxolitinib-cream", "EU", "other"),
        ("abrocitinib", "US", "approved"),
    ],
)
def test_statuses_the_checks_act_on(slug, jurisdiction, status):
    assert RegulatoryStatus.objects.get(drug__slug=slug, jurisdiction=jurisdiction).status == status


@pytest.mark.usefixtures("catalogue")
def test_abrocitinib_platelet_discontinue_level():
    row = LabThreshold.objects.get(
        drug__slug="abrocitinib", lab_test__analyte="platelets", phase="on_treatment", action="discontinue"
    )
    assert (row.comparison, row.value) == ("lt", Decimal("50"))


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("slug", SEVEN)
def test_every_drug_page_renders(client, nurse, slug):
    client.force_login(nurse)
    response = client.get(reverse("drugs:detail", args=[slug]), {"j": "all"})
    assert response.status_code == 200
    assert b"Sources" in response.content


@pytest.mark.usefixtures("catalogue")
def test_search_finds_the_misspelling_from_the_brief(client, nurse):
    client.force_login(nurse)
    body = client.get(reverse("drugs:list"), {"q": "deglocitinib"}).content.decode()
    assert "Delgocitinib" in body
    assert "Abrocitinib" not in body


@pytest.mark.usefixtures("catalogue")
def test_loading_twice_changes_nothing():
    before = LabThreshold.objects.count()
    call_command("load_catalogue", verbosity=0)
    assert LabThreshold.objects.count() == before


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("slug", SEVEN)
def test_every_drug_has_a_printable_handout(client, nurse, slug):
    client.force_login(nurse)
    body = client.get(reverse("drugs:handout", args=[slug])).content.decode()
    assert "Call emergency services now" in body
    assert "Slurred speech" in body
    assert "print.css" in body


@pytest.mark.usefixtures("catalogue")
def test_handout_uses_plain_wording_and_label_facts(client, nurse):
    client.force_login(nurse)
    body = client.get(reverse("drugs:handout", args=["abrocitinib"])).content.decode()
    assert "Nasopharyngitis" not in body  # staff wording stays on staff pages
    assert "Do not have a live vaccine" in body
    assert "Week 4" in body
