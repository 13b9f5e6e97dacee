from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import cast

from django import forms
from django.utils import timezone

from drugs.models import Drug
from portal.forms import DateInput, VersionedForm
from therapy.models import TreatmentCourse
from therapy.selectors import dose_option_label, dose_option_value, start_options
from therapy.services import Plan, dose_options


class StartTherapyForm(forms.Form):
    regimen = forms.CharField(
        label="Drug and dose",
        max_length=20,
        widget=forms.Select,
        help_text="Only doses in the drug catalogue can be chosen.",
    )
    start_date = forms.DateField(label="Start date", widget=DateInput())
    topical_bsa_percent = forms.DecimalField(
        label="Body surface area to treat (%)",
        required=False,
        min_value=Decimal("0.1"),
        max_value=100,
        help_text="Topical drugs only.",
    )
    topical_grams = forms.DecimalField(
        label="Grams prescribed",
        required=False,
        min_value=Decimal("0.1"),
        max_value=5000,
        help_text="Topical drugs only: the amount for the period below.",
    )
    topical_days = forms.IntegerField(
        label="Period (days)", required=False, min_value=1, max_value=366, help_text="e.g. 7 for grams per week."
    )

    def __init__(self, *args, patient, **kwargs):
        self.patient = patient
        super().__init__(*args, **kwargs)
        choices, self.not_offered = start_options(patient, on=timezone.localdate())
        self.fields["regimen"].widget.choices = [("", "Choose a drug and dose"), *choices]
        if self.not_offered:
            self.fields["regimen"].help_text += " Not offered for this patient: " + " ".join(self.not_offered)
        self.fields["start_date"].initial = timezone.localdate()

    def clean_regimen(self):
        value = self.cleaned_data["regimen"]
        self.plan_drug, self.plan_dose, self.plan_frequency = self._resolve(value)
        return value

    def _resolve(self, value: str):
        """ "<drug id>:<dose>" back to the drug, dose and frequency, only if it is one of this patient's choices."""
        invalid = forms.ValidationError(
            "That drug and dose cannot be chosen for this patient. Choose one from the list."
        )
        pk, sep, rest = value.partition(":")
        dose_text, _at, frequency = rest.partition("@")
        drug = Drug.objects.filter(pk=int(pk)).first() if sep and pk.isdigit() and len(pk) < 10 else None
        if drug is None:
            raise invalid
        options = dose_options(self.patient, drug, on=timezone.localdate())
        if not dose_text:
            if options:
                raise invalid
            return drug, None, "as directed" if drug.route == "topical" else ""
        try:
            dose = Decimal(dose_text)
        except InvalidOperation:
            raise invalid from None
        if not dose.is_finite():
            raise invalid
        option = next((o for o in options if o.dose == dose and frequency in ("", o.frequency)), None)
        if option is None:
            raise invalid
        return drug, option.dose, option.frequency

    def clean_start_date(self):
        start = self.cleaned_data["start_date"]
        if start < self.patient.date_of_birth:
            raise forms.ValidationError("The start date is before the patient's date of birth.")
        if start > timezone.localdate() + dt.timedelta(days=366):
            raise forms.ValidationError("The start date is more than a year ahead.")
        if start < timezone.localdate() - dt.timedelta(days=3650):
            raise forms.ValidationError("The start date is more than ten years ago.")
        return start

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        drug = getattr(self, "plan_drug", None)
        topical = drug is not None and drug.route == "topical"
        if topical and cleaned.get("topical_grams") is not None and not cleaned.get("topical_days"):
            self.add_error("topical_days", "Give the period the grams are for.")
        return cleaned

    def plan(self) -> Plan:
        data = self.cleaned_data
        topical = self.plan_drug.route == "topical"
        return Plan(
            drug=self.plan_drug,
            dose=self.plan_dose,
            frequency=self.plan_frequency,
            start_date=data["start_date"],
            topical_bsa_percent=data.get("topical_bsa_percent") if topical else None,
            topical_grams=data.get("topical_grams") if topical else None,
            topical_days=data.get("topical_days") if topical else None,
        )


class DoseChangeForm(VersionedForm):
    dose = forms.ChoiceField(label="New dose")
    on = forms.DateField(label="From", widget=DateInput())
    reason = forms.CharField(label="Reason", max_length=500, help_text="e.g. inadequate response after 12 weeks")

    def __init__(self, *args, course: TreatmentCourse, options, **kwargs):
        """``options``: the course's ``DoseOption``s for this patient (``services.dose_options``)."""
        super().__init__(*args, row_version=course.row_version, **kwargs)
        self.course = course
        cast(forms.ChoiceField, self.fields["dose"]).choices = [
            (dose_option_value(o, options), dose_option_label(course.drug, o).removeprefix(f"{course.drug} "))
            for o in options
        ]
        self.fields["on"].initial = timezone.localdate()

    def clean_dose(self):
        """ "200", or "5@once daily" for a dose offered at two frequencies, as the Decimal dose; the frequency goes to
        ``cleaned_data["frequency"]``."""
        dose_text, _at, frequency = self.cleaned_data["dose"].partition("@")
        self.cleaned_data["frequency"] = frequency
        dose = Decimal(dose_text)
        if dose == self.course.dose and frequency in ("", self.course.frequency):
            raise forms.ValidationError("That is the current dose: choose another one.")
        return dose


class InterruptForm(VersionedForm):
    on = forms.DateField(label="Interrupted on", widget=DateInput())
    reason = forms.CharField(label="Reason", max_length=500, help_text="e.g. neutrophils below the action level")
    analyte = forms.ChoiceField(label="Because of a lab result (adds the re-check)", required=False)

    def __init__(self, *args, course: TreatmentCourse, analytes, **kwargs):
        super().__init__(*args, row_version=course.row_version, **kwargs)
        cast(forms.ChoiceField, self.fields["analyte"]).choices = [("", "No lab result"), *analytes]
        self.fields["on"].initial = timezone.localdate()


class ResumeForm(VersionedForm):
    on = forms.DateField(label="Resumed on", widget=DateInput())
    reason = forms.CharField(label="Reason", max_length=500, help_text="e.g. re-check above the action level")

    def __init__(self, *args, course: TreatmentCourse, **kwargs):
        super().__init__(*args, row_version=course.row_version, **kwargs)
        self.fields["on"].initial = timezone.localdate()


class StopForm(VersionedForm):
    on = forms.DateField(label="Stopped on", widget=DateInput())
    reason = forms.ChoiceField(label="Why", choices=[("", "Choose"), *TreatmentCourse.StopReason.choices])
    note = forms.CharField(label="Note", max_length=1000, required=False, help_text="Required for “Other”.")

    def __init__(self, *args, course: TreatmentCourse, **kwargs):
        super().__init__(*args, row_version=course.row_version, **kwargs)
        self.fields["on"].initial = timezone.localdate()
