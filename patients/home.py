"""The patients section of the home page: a way in, and the dermatologist's own patient count."""

from __future__ import annotations

from django.urls import reverse

from patients.models import Patient
from portal.home import HomeItem, HomeSection


def patient_sections(user) -> list[HomeSection]:
    if not user.has_perm("patients.view_patient") or user.clinic_id is None:
        return []
    items = [HomeItem("Find a patient", reverse("patients:list"))]
    if user.has_perm("patients.add_patient"):
        mine = Patient.objects.visible_to(user).filter(dermatologist=user).count()
        items.insert(0, HomeItem("Your patients", f"{reverse('patients:list')}?dermatologist={user.pk}", count=mine))
        items.append(HomeItem("Register a patient", reverse("patients:create")))
    return [HomeSection("Patients", items)]
