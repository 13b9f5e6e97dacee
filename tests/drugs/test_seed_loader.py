import pytest
from django.core.management import CommandError, call_command

from drugs.models import CatalogueVersion, Drug, LabThreshold, Medicine
from drugs.seed import SeedError, load_seed, read_seed
from tests.drugs.conftest import MINI


@pytest.mark.django_db
def test_load_creates_drugs_with_a_first_version():
    report = load_seed(read_seed(MINI))
    assert sorted(report.drugs_created) == ["creamitinib", "testinib"]
    drug = Drug.objects.get(slug="testinib")
    assert drug.thresholds.get().value == 50
    assert CatalogueVersion.objects.filter(drug=drug).count() == 1
    assert Medicine.objects.get(name="clopidogrel").classes.get().code == "antiplatelet"


@pytest.mark.django_db
def test_load_is_idempotent_and_keeps_admin_edits():
    load_seed(read_seed(MINI))
    LabThreshold.objects.update(value=40)
    report = load_seed(read_seed(MINI))
    assert report.drugs_created == []
    assert sorted(report.drugs_kept) == ["creamitinib", "testinib"]
    assert LabThreshold.objects.get().value == 40
    assert CatalogueVersion.objects.count() == 2


@pytest.mark.django_db
def test_bad_row_is_named_and_nothing_is_loaded():
    data = read_seed(MINI)
    data["drugs"][0]["monitoring_rules"][0]["first_week"] = 0
    with pytest.raises(SeedError, match=r"testinib monitoring_rules\[0\]"):
        load_seed(data)
    assert not Drug.objects.exists()


@pytest.mark.django_db
def test_unknown_lab_test_is_refused():
    data = read_seed(MINI)
    data["drugs"][0]["thresholds"][0]["lab_test"] = "unobtainium"
    with pytest.raises(SeedError, match="unknown lab test"):
        load_seed(data)


@pytest.mark.django_db
def test_command_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Catalogue not loaded"):
        call_command("load_catalogue", file=tmp_path / "nope.toml")
