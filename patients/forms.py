"""Forms for patient records: they validate input and keep it; the services write."""

from __future__ import annotations

from typing import cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from drugs.models import Medicine
from patients import risk, scores
from patients.models import Assessment, Patient, RiskProfile, ScreeningResult
from patients.services import EASI_PART_FIELDS, PATIENT_FIELDS, RISK_FIELDS, SCORE_FIELDS
from portal import roles
from portal.forms import DateInput, VersionedForm
from portal.models import User

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"]


def _dates(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget = DateInput()
            field.input_formats = DATE_INPUT_FORMATS


def _helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if layout:
        helper.layout = Layout(*layout)
    return helper


class PatientForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = Patient
        fields = PATIENT_FIELDS
        widgets = {
            "prior_systemic_treatments": forms.Textarea(attrs={"rows": 2}),
            "prior_topical_treatments": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["row_version"].required = False
        _dates(self)
        cast(forms.ModelChoiceField, self.fields["dermatologist"]).queryset = User.objects.filter(
            clinic=clinic, groups__name=roles.DERMATOLOGIST, is_active=True
        ).distinct()
        self.helper = _helper(
            Fieldset(
                _("Identity"),
                Div(
                    Div("record_number", css_class="col-md-4"),
                    Div("given_name", css_class="col-md-4"),
                    Div("family_name", css_class="col-md-4"),
                    Div("date_of_birth", css_class="col-md-4"),
                    Div("sex_at_birth", css_class="col-md-4"),
                    css_class="row",
                ),
            ),
            Fieldset(
                _("Contact and body measures"),
                Div(
                    Div("phone", css_class="col-md-3"),
                    Div("email", css_class="col-md-3"),
                    Div("weight_kg", css_class="col-md-3"),
                    Div("height_cm", css_class="col-md-3"),
                    css_class="row",
                ),
            ),
            Fieldset(
                _("Eczema history and care"),
                Div(
                    Div("dermatologist", css_class="col-md-4"),
                    Div("diagnosis_date", css_class="col-md-4"),
                    Div("bsa_percent", css_class="col-md-4"),
                    css_class="row",
                ),
                "prior_systemic_treatments",
                "prior_topical_treatments",
            ),
            "row_version",
        )

    def clean_record_number(self):
        number = self.cleaned_data["record_number"].strip()
        others = Patient.objects.filter(clinic_id=self.instance.clinic_id, record_number=number)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("A patient with this record number already exists in your clinic."))
        return number


class RiskProfileForm(VersionedForm, forms.ModelForm):
    class Meta:
        model = RiskProfile
        fields = RISK_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)
        self.fields["pack_years"].help_text = _(
            "Only for current or former smokers. Local definition: a former smoker with %(n)s or more pack-years "
            "counts as a long-time smoker for the EU rule."
        ) % {"n": risk.EU_LONG_TIME_SMOKER_MIN_PACK_YEARS}
        cv = list(risk.CV_RISK_FACTOR_LABELS)
        self.helper = _helper(
            Fieldset(_("Smoking"), "smoking_status", "smoking_quit_year", "pack_years"),
            Fieldset(_("Cardiovascular risk factors"), *cv),
            Fieldset(
                _("Clot history and risk"),
                "dvt_history",
                "pe_history",
                "thrombophilia",
                "hormonal_therapy",
                "recent_surgery_or_immobilisation",
            ),
            Fieldset(_("Cancer"), "cancer_status"),
            Fieldset(
                _("Infections"),
                "tb_status",
                "hepatitis_b",
                "hepatitis_c",
                "hiv",
                "herpes_zoster_history",
                "recurrent_serious_infections",
                "active_serious_infection",
                "immunocompromised",
            ),
            Fieldset(_("Pregnancy"), "pregnant", "breastfeeding", "planning_pregnancy", "no_childbearing_potential"),
            Fieldset(
                _("Kidney, liver and metabolism"),
                "egfr",
                "egfr_measured_on",
                "child_pugh",
                "cyp2c19_poor_metaboliser",
            ),
            Fieldset(_("Vaccinations"), "zoster_vaccinated", "live_vaccine_planned"),
            "row_version",
        )


class MedicineForm(forms.Form):
    medicine = forms.ModelChoiceField(
        queryset=Medicine.objects.order_by("name"),
        required=False,
        label=_("Catalogue medicine"),
        help_text=_("Pick it here when it is listed, so interactions can be checked."),
    )
    name = forms.CharField(
        max_length=120, required=False, label=_("Or its name as given"), help_text=_("When it is not in the list.")
    )
    dose_text = forms.CharField(max_length=80, required=False, label=_("Dose"), help_text=_('e.g. "75 mg once daily"'))
    started_on = forms.DateField(required=False, label=_("Started on"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)
        self.helper = _helper()

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("medicine") and not (data.get("name") or "").strip():
            self.add_error("name", _("Pick a catalogue medicine or type its name."))
        return data


class MedicineStopForm(forms.Form):
    stopped_on = forms.DateField(label=_("Stopped on"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)


class ScreeningResultForm(forms.ModelForm):
    class Meta:
        model = ScreeningResult
        fields = ("item", "performed_on", "result", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)
        self.helper = _helper(
            Div(
                Div("item", css_class="col-md-4"),
                Div("performed_on", css_class="col-md-4"),
                Div("result", css_class="col-md-4"),
                css_class="row",
            ),
            "note",
        )


class AssessmentForm(forms.ModelForm):
    class Meta:
        model = Assessment
        fields = ("assessed_on", *EASI_PART_FIELDS, *SCORE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)
        regions = []
        for key, region_label, weight in scores.EASI_REGIONS:
            area = scores.easi_field_name(key, "area")
            self.fields[area].label = _("Area score (0–6)")
            self.fields[area].widget.attrs.update(min=0, max=scores.EASI_AREA_MAX)
            cols = [Div(Field(area), css_class="col-6 col-md")]
            for sign, sign_label in scores.EASI_SIGNS:
                name = scores.easi_field_name(key, sign)
                self.fields[name].label = f"{sign_label} (0–3)"
                self.fields[name].widget.attrs.update(min=0, max=scores.EASI_SIGN_MAX)
                cols.append(Div(Field(name), css_class="col-6 col-md"))
            regions.append(Fieldset(f"{region_label} (weight {weight})", Div(*cols, css_class="row")))
        for name in SCORE_FIELDS:
            low, high = scores.RANGES[name]
            self.fields[name].widget.attrs.update(min=low, max=high)
        self.helper = _helper(
            Div(Div("assessed_on", css_class="col-md-4"), css_class="row"),
            Fieldset(_("EASI by region (leave all empty to skip EASI)"), *regions),
            Fieldset(
                _("Other scores"),
                Div(
                    *(Div(name, css_class="col-6 col-md") for name in SCORE_FIELDS),
                    css_class="row",
                ),
            ),
        )
