"""Query counts of the catalogue pages that the list/detail tests do not cover: they must not grow with the data."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from drugs import services
from drugs.models import Drug, LabTest, LabUnit

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db):
    call_command("load_catalogue", verbosity=0)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def test_history_query_count_does_not_grow(client, catalogue_admin, catalogue):
    client.force_login(catalogue_admin)
    drug = Drug.objects.get(slug="abrocitinib")
    url = reverse("drugs:history", args=[drug.slug])

    def change(n):
        for i in range(n):
            drug.refresh_from_db()
            services.catalogue_change(
                drug=drug,
                actor=catalogue_admin,
                reason=f"Summary wording {i}",
                apply=lambda d, i=i: Drug.objects.filter(pk=d.pk).update(summary=f"{d.summary} ({i})"),
            )

    change(2)
    few = _queries(client, url)
    change(12)  # more than one page of versions
    assert _queries(client, url) == few


def test_lab_tests_query_count_does_not_grow(client, derm, catalogue):
    client.force_login(derm)
    url = reverse("drugs:lab_tests")
    before = _queries(client, url)
    for i in range(5):
        test = LabTest.objects.create(
            analyte=f"extra_{i}", loinc=f"9999{i}-0", name=f"Extra test {i}", short_name=f"X{i}", canonical_unit="U/L"
        )
        LabUnit.objects.create(lab_test=test, unit="U/L", label="U/L", factor=1)
    assert _queries(client, url) == before


def test_handout_query_count_is_the_same_for_every_drug(client, nurse, catalogue):
    client.force_login(nurse)
    slugs = Drug.objects.values_list("slug", flat=True)
    counts = {slug: _queries(client, reverse("drugs:handout", args=[slug])) for slug in slugs}
    assert len(set(counts.values())) == 1, counts
