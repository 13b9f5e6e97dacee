"""The clinic settings page: which lab unit system results, charts and new alerts are shown in."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import redirect, render

from portal import clinics
from portal.errors import DomainError, StaleEditError
from portal.forms import VersionedForm
from portal.models import Clinic
from portal.web import add_service_error

CHANGE_CLINIC = "portal.change_clinic"


class UnitSystemForm(VersionedForm):
    unit_system = forms.ChoiceField(
        label="Lab units shown",
        choices=Clinic.UnitSystem.choices,
        widget=forms.RadioSelect,
        help_text=Clinic._meta.get_field("unit_system").help_text,
    )


@permission_required(CHANGE_CLINIC, raise_exception=True)
def clinic_settings(request):
    clinic = Clinic.objects.filter(pk=request.user.clinic_id).first()  # fresh: the form shows what is saved
    if clinic is None:  # e.g. a superuser: nothing to set, say so
        return render(request, "portal/clinic_settings.html", {"clinic": None, "form": None})
    if request.method == "POST":
        form = UnitSystemForm(request.POST)
        if form.is_valid():
            try:
                clinics.clinic_unit_system_set(
                    actor=request.user,
                    clinic=clinic,
                    unit_system=form.cleaned_data["unit_system"],
                    expected_row_version=form.cleaned_data["row_version"],
                )
            except StaleEditError as exc:  # the choice kept, the version moved on: saving again is deliberate
                data = request.POST.copy()
                data["row_version"] = str(exc.current_version)
                form = UnitSystemForm(data)
                form.is_valid()
                form.add_error(None, f"{exc} Saved now: {clinic.get_unit_system_display()}.")
            except DomainError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, "Saved: lab results are now shown in the units chosen.")
                return redirect("portal:clinic_settings")
    else:
        form = UnitSystemForm(initial={"unit_system": clinic.unit_system}, row_version=clinic.row_version)
    return render(request, "portal/clinic_settings.html", {"clinic": clinic, "form": form})
