"""The clinic settings page: the lab unit system pages show, and the contact details handouts and letters print."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import models
from django.shortcuts import redirect, render

from portal import clinics
from portal.errors import DomainError, StaleEditError
from portal.forms import VersionedForm
from portal.models import Clinic
from portal.web import add_service_error

CHANGE_CLINIC = "portal.change_clinic"


def _model_field(name: str, **kwargs) -> forms.Field:
    """The form field of a Clinic setting, with the model's label, help text, length and validators."""
    model_field = Clinic._meta.get_field(name)
    assert isinstance(model_field, models.Field)  # every setting is a plain, editable model field
    field = model_field.formfield(**kwargs)
    assert field is not None
    return field


class ClinicSettingsForm(VersionedForm):
    unit_system = forms.ChoiceField(
        label="Lab units shown",
        choices=Clinic.UnitSystem.choices,
        widget=forms.RadioSelect,
        help_text=Clinic._meta.get_field("unit_system").help_text,
    )
    phone = _model_field("phone", widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    emergency_number = _model_field("emergency_number", widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    address = _model_field("address", widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}))

    def settings(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in clinics.SETTINGS_FIELDS}


def _initial(clinic: Clinic) -> dict[str, str]:
    return {name: getattr(clinic, name) for name in clinics.SETTINGS_FIELDS}


@permission_required(CHANGE_CLINIC, raise_exception=True)
def clinic_settings(request):
    clinic = Clinic.objects.filter(pk=request.user.clinic_id).first()  # fresh: the form shows what is saved
    if clinic is None:  # e.g. a superuser: nothing to set, say so
        return render(request, "portal/clinic_settings.html", {"clinic": None, "form": None})
    if request.method == "POST":
        form = ClinicSettingsForm(request.POST)
        if form.is_valid():
            try:
                clinics.clinic_settings_update(
                    actor=request.user,
                    clinic=clinic,
                    data=form.settings(),
                    expected_row_version=form.cleaned_data["row_version"],
                )
            except StaleEditError as exc:  # the input kept, the version moved on: saving again is deliberate
                data = request.POST.copy()
                data["row_version"] = str(exc.current_version)
                form = ClinicSettingsForm(data)
                form.is_valid()
                form.add_error(None, str(exc))
                return render(
                    request,
                    "portal/clinic_settings.html",
                    {"clinic": clinic, "form": form, "saved_now": Clinic.objects.get(pk=clinic.pk)},
                )
            except DomainError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, "Saved: the clinic settings are updated.")
                return redirect("portal:clinic_settings")
    else:
        form = ClinicSettingsForm(initial=_initial(clinic), row_version=clinic.row_version)
    return render(request, "portal/clinic_settings.html", {"clinic": clinic, "form": form})
