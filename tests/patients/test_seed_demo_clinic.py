import pytest
from django.core.management import CommandError, call_command

from patients import selectors
from patients.models import Patient
from portal.demo import DEMO_CLINIC_NAME
from portal.models import User

pytestmark = pytest.mark.django_db


def test_needs_demo_mode(settings):
    settings.PORTAL_DEMO = False
    with pytest.raises(CommandError):
        call_command("seed_demo_clinic", verbosity=0)
    assert not Patient.objects.exists()


def test_seeds_fictional_patients_idempotently_with_progress(settings, capsys):
    settings.PORTAL_DEMO = True
    call_command("seed_demo_clinic", count=20)
    out = capsys.readouterr().out
    assert "(10%)" in out
    assert "(100%)" in out
    call_command("seed_demo_clinic", count=20)
    assert "nothing to add" in capsys.readouterr().out
    assert Patient.objects.count() == 20
    assert set(Patient.objects.values_list("clinic__name", flat=True)) == {DEMO_CLINIC_NAME}
    assert User.objects.get(username="demo-derm").clinic.name == DEMO_CLINIC_NAME


def test_demo_clinic_covers_the_risk_profiles(settings):
    settings.PORTAL_DEMO = True
    call_command("seed_demo_clinic", verbosity=0)
    assert Patient.objects.count() == 60
    assert Patient.objects.filter(risk_profile__pregnant=True).exists()
    assert Patient.objects.filter(risk_profile__tb_status="latent_untreated").exists()
    assert Patient.objects.filter(risk_profile__egfr=45).exists()
    assert (
        Patient.objects.filter(medicines__name="clopidogrel").exists()
        or Patient.objects.filter(medicines__medicine__name__iexact="clopidogrel").exists()
    )
    smoker = Patient.objects.filter(risk_profile__smoking_status="current", risk_profile__hypertension=True).first()
    today = smoker.created_at.date()
    assert {b.code for b in selectors.patient_badges(smoker, today)} >= {"US_CV_RISK_GROUP", "SMOKER_ANY"}


def test_setup_demo_runs_the_seed(settings):
    settings.PORTAL_DEMO = True
    call_command("setup_demo", verbosity=0)
    assert Patient.objects.count() == 60
