"""What the catalogue shows on the home page: for admins, facts still to verify and the latest changes."""

from __future__ import annotations

from django.urls import reverse

from drugs.models import CatalogueVersion, Drug, LabTest
from drugs.sections import SECTIONS
from portal.home import HomeItem, HomeSection, register


def unconfirmed_counts() -> list[tuple[Drug, int]]:
    """Per drug, how many of its facts are flagged unconfirmed (one query per section, not per drug)."""
    counts: dict[int, int] = {}
    for section in SECTIONS:
        for drug_id in section.model._default_manager.filter(unconfirmed=True).values_list("drug_id", flat=True):
            counts[drug_id] = counts.get(drug_id, 0) + 1
    drugs = Drug.objects.filter(pk__in=counts).order_by("generic_name")
    return [(drug, counts[drug.pk]) for drug in drugs]


@register
def catalogue_sections(user) -> list[HomeSection]:
    if not user.has_perm("drugs.change_drug"):
        return []
    verify = [
        HomeItem(f"{drug}: facts marked unconfirmed", drug.get_absolute_url() + "?j=all", count=count)
        for drug, count in unconfirmed_counts()
    ]
    lab_count = LabTest.objects.filter(unconfirmed=True).count()
    if lab_count:
        verify.append(HomeItem("Lab tests with unconfirmed ranges", reverse("drugs:lab_tests"), count=lab_count))
    recent = [
        HomeItem(
            f"Version {v.number}: {v.drug_name} · {v.created_by or 'seed load'} · {v.reason[:80]}",
            reverse("drugs:history", args=[v.drug.slug]) if v.drug else reverse("drugs:list"),
        )
        for v in CatalogueVersion.objects.select_related("drug", "created_by").order_by("-id")[:5]
    ]
    return [
        HomeSection("Catalogue facts to verify against the current labels", verify, "Every fact has a source."),
        HomeSection("Latest catalogue changes", recent, "No changes yet."),
    ]
