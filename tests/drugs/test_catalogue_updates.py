"""Versioned catalogue updates (drugs/updates.py): applied once, visible in each drug's history, admin edits kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from drugs import updates
from drugs.models import CatalogueVersion, Contraindication, Drug, Interaction, LabTest, LabThreshold, Medicine
from drugs.seed import load_seed, read_seed

MARKER = "[2026-12-label-audit]"
pytestmark = pytest.mark.django_db


def test_load_catalogue_applies_the_label_audit_once_with_a_version_per_drug():
    call_command("load_catalogue", verbosity=0)
    touched = set(CatalogueVersion.objects.filter(reason__startswith=MARKER).values_list("drug__slug", flat=True))
    assert touched == {"abrocitinib", "upadacitinib", "baricitinib", "ruxolitinib-cream", "delgocitinib", "tofacitinib"}
    count = CatalogueVersion.objects.count()
    call_command("load_catalogue", verbosity=0)
    assert CatalogueVersion.objects.count() == count


def test_every_change_of_the_label_audit_finds_its_row_in_the_bundled_seed():
    load_seed(read_seed())
    report = updates.apply_updates()
    assert report.skipped == []
    assert len(report.applied) == 6


def test_the_history_shows_what_the_update_changed():
    call_command("load_catalogue", verbosity=0)
    version = CatalogueVersion.objects.get(drug__slug="delgocitinib", reason__startswith=MARKER)
    change = next(c for c in version.changes if c.get("field") == "jurisdiction")
    assert (change["section"], change["old"], change["new"]) == ("contraindications", "ANY", "US")


def test_the_audit_facts_are_loaded():
    call_command("load_catalogue", verbosity=0)
    assert Contraindication.objects.filter(
        drug__slug="abrocitinib", jurisdiction="US", condition="active_serious_infection", severity="not_recommended"
    ).exists()
    fluconazole = Medicine.objects.get(name="fluconazole")
    assert fluconazole.classes.filter(code="moderate_strong_cyp2c9_inhibitor").exists()
    aspirin = Medicine.objects.get(name="aspirin")
    assert (aspirin.dose_class.code, aspirin.dose_class_above_mg) == ("antiplatelet", Decimal("81"))
    assert LabThreshold.objects.get(
        drug__slug="abrocitinib", jurisdiction="EU", lab_test__analyte="alc", phase="on_treatment"
    ).confirmed_action == ("discontinue")
    assert LabTest.objects.get(analyte="anc").finding_name == "neutrophils (ANC)"
    assert not Interaction.objects.filter(interacting_class__code="biologic_immunomodulator", effect="avoid").exists()


def test_a_row_an_admin_edited_is_left_alone_and_reported(admin_user):
    load_seed(read_seed())
    row = Contraindication.objects.get(drug__slug="delgocitinib", condition="active_serious_infection")
    Contraindication.objects.filter(pk=row.pk).update(text="Local wording kept")
    report = updates.apply_updates()
    row.refresh_from_db()
    assert (row.jurisdiction, row.text) == ("ANY", "Local wording kept")
    assert any("delgocitinib contraindications" in line for line in report.skipped)
    assert CatalogueVersion.objects.filter(drug__slug="delgocitinib", reason__startswith=MARKER).exists()


def test_a_bad_update_changes_nothing(tmp_path):
    load_seed(read_seed())
    before = CatalogueVersion.objects.count()
    (tmp_path / "bad.toml").write_text(
        'id = "bad"\nreason = "test"\n[[drugs]]\nslug = "abrocitinib"\n'
        '[[drugs.add.contraindications]]\ncondition = "no_such_condition"\ntext = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(updates.UpdateError, match="no_such_condition"):
        updates.apply_updates(tmp_path)
    assert CatalogueVersion.objects.count() == before
    assert not Contraindication.objects.filter(condition="no_such_condition").exists()


def test_a_custom_seed_file_gets_no_updates(tmp_path):
    seed = tmp_path / "one.toml"
    seed.write_text('[[sources]]\ntag = "S1"\ntitle = "A source"\n', encoding="utf-8")
    call_command("load_catalogue", "--file", str(seed), verbosity=0)
    assert not Drug.objects.exists()
    assert not CatalogueVersion.objects.exists()


def test_an_update_naming_lab_tests_only_is_a_catalogue_version_the_labels_see():
    """Lab test names are in the cached drug labels ("neutrophils (ANC)"): with no drug to version, the update still
    makes a catalogue version, once."""
    from drugs.selectors import drug_label
    from tests.drugs.conftest import MINI

    load_seed(read_seed(MINI))
    drug = Drug.objects.get(slug="testinib")
    assert [t.analyte_name for t in drug_label(drug).thresholds] == ["Platelets"]
    data = {
        "id": "names-only",
        "reason": "Name the tests",
        "lab_tests": [{"analyte": "platelets", "common_name": "platelet count"}],
    }
    updates.apply_update(data, seed=read_seed(MINI))
    assert CatalogueVersion.objects.filter(reason__startswith="[names-only]", drug=None).count() == 1
    assert [t.analyte_name for t in drug_label(drug).thresholds] == ["platelet count (Platelets)"]
    updates.apply_update(data, seed=read_seed(MINI))
    assert CatalogueVersion.objects.filter(reason__startswith="[names-only]").count() == 1
