"""Forms for patient records: they validate input and keep it; the services write."""

from __future__ import annotations

import datetime as dt
from typing import cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms
from django.utils import timezone
from django.utils.html import format_html, format_html_join
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


class SignScoreField(forms.DecimalField):
    """An EASI sign score: 0-3 in whole or half points; a decimal comma ("1,5") is read as a point."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)

    def validate(self, value):
        super().validate(value)  # refuses NaN and infinity first
        if value is not None and (problem := scores.sign_error(value)):
            raise forms.ValidationError(problem, code="easi_sign")


def _weights_table(age: int | None, on: dt.date) -> str:
    """The two sets of EASI region weights, the one used for this patient's age on ``on`` marked."""
    used = scores.easi_weights_label(age) if age is not None else None
    head = format_html_join("", '<th scope="col">{}</th>', ((label,) for _key, label in scores.EASI_REGIONS))
    rows = []
    for label, weights in (
        (scores.EASI_CHILD_LABEL, scores.EASI_CHILD_WEIGHTS),
        (scores.EASI_ADULT_LABEL, scores.EASI_ADULT_WEIGHTS),
    ):
        cells = format_html_join("", "<td>{}</td>", ((weights[key],) for key, _l in scores.EASI_REGIONS))
        mark = format_html(' <span class="badge text-bg-primary">{}</span>', _("used")) if label == used else ""
        rows.append(
            format_html(
                '<tr class="{}"><th scope="row">{}{}</th>{}</tr>', "table-primary" if mark else "", label, mark, cells
            )
        )
    if age is None:
        caption = str(_("Region weights by age on the assessment date (HOME EASI guide)."))
    else:
        caption = _(
            "Region weights by age on the assessment date (HOME EASI guide): this patient is %(age)s on %(on)s. "
            "The weights follow the date entered when you save."
        ) % {"age": age, "on": on.strftime("%d/%m/%Y")}
    return format_html(
        '<table class="table table-sm w-auto small" id="easi-weights"><caption class="caption-top">{}</caption>'
        '<thead><tr><th scope="col">{}</th>{}</tr></thead><tbody>{}</tbody></table>',
        caption,
        _("Age"),
        head,
        format_html_join("", "{}", ((row,) for row in rows)),
    )


class AssessmentForm(forms.ModelForm):
    class Meta:
        model = Assessment
        fields = ("assessed_on", *EASI_PART_FIELDS, *SCORE_FIELDS)
        field_classes = {
            scores.easi_field_name(key, sign): SignScoreField
            for key, _l in scores.EASI_REGIONS
            for sign, _s in scores.EASI_SIGNS
        }

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        _dates(self)
        on = self._assessment_date()
        self.easi_age = risk.age_on(patient.date_of_birth, on) if on >= patient.date_of_birth else None
        weights = scores.easi_weights(self.easi_age) if self.easi_age is not None else None
        regions = []
        for key, region_label in scores.EASI_REGIONS:
            area = scores.easi_field_name(key, "area")
            self.fields[area].label = _("Area score (0–6)")
            self.fields[area].error_messages["invalid"] = _("Enter a whole number from 0 to 6.")
            self.fields[area].widget.attrs.update(min=0, max=scores.EASI_AREA_MAX, step=1)
            cols = [Div(Field(area), css_class="col-6 col-md")]
            for sign, sign_label in scores.EASI_SIGNS:
                name = scores.easi_field_name(key, sign)
                self.fields[name].label = f"{sign_label} (0–3)"
                self.fields[name].widget.attrs.update(
                    min=0, max=scores.EASI_SIGN_MAX, step=scores.EASI_SIGN_STEP, inputmode="decimal"
                )
                cols.append(Div(Field(name), css_class="col-6 col-md"))
            legend = f"{region_label} (weight {weights[key]})" if weights else region_label
            regions.append(Fieldset(legend, Div(*cols, css_class="row")))
        for name in SCORE_FIELDS:
            low, high = scores.RANGES[name]
            self.fields[name].widget.attrs.update(min=low, max=high)
        self.helper = _helper(
            Div(Div("assessed_on", css_class="col-md-4"), css_class="row"),
            Fieldset(
                _("EASI by region (leave all empty to skip EASI)"),
                HTML(_weights_table(self.easi_age, on)),
                HTML(
                    format_html(
                        '<p class="small text-body-secondary">{}</p>',
                        _(
                            "Signs are scored 0–3 in whole or half points (0.5, 1.5, 2.5). Every region needs an "
                            "area score; a region with area 0 needs no signs."
                        ),
                    )
                ),
                *regions,
            ),
            Fieldset(
                _("Other scores"),
                Div(
                    *(Div(name, css_class="col-6 col-md") for name in SCORE_FIELDS),
                    css_class="row",
                ),
            ),
        )

    def clean(self):
        """Every missing EASI part at once, next to its field (the service checks the same rule again)."""
        data = super().clean()
        parts = {name: self.cleaned_data.get(name) for name in EASI_PART_FIELDS}
        if any(value is not None for value in parts.values()) or any(name in self.errors for name in parts):
            refused = {name: 0 for name in EASI_PART_FIELDS if name in self.errors}  # already has its message
            for name, message in scores.easi_part_errors({**parts, **refused}).items():
                if name not in self.errors:
                    self.add_error(name, message)
        return data

    def _assessment_date(self) -> dt.date:
        """The date typed when it is a valid one, else the initial date (today): it chooses the weights shown."""
        if self.is_bound:
            try:
                typed = self.fields["assessed_on"].clean(self.data.get(self.add_prefix("assessed_on")))
            except forms.ValidationError:
                typed = None
            if typed:
                return typed
        initial = self.initial.get("assessed_on")
        return initial if isinstance(initial, dt.date) else timezone.localdate()
