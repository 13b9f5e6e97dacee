from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms import BaseModelFormSet, modelformset_factory

from drugs import units
from drugs.models import Drug, DrugCode, LabTest, LabThreshold, LabUnit, MonitoringRule
from drugs.sections import DRUG_FIELDS, Section
from portal.formats import decimal_text
from portal.forms import VersionedForm, capped_formset


class ReasonForm(VersionedForm):
    """Why the catalogue changes, with the row_version of the drug or lab test the admin started from."""

    reason = forms.CharField(
        label="Reason for the change",
        min_length=5,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required. Shown in the history, e.g. “EU SmPC 2025 update: ANC threshold corrected”.",
        error_messages={"required": "Give a reason for the change; it is kept in the history."},
    )


class DrugForm(forms.ModelForm):
    class Meta:
        model = Drug
        fields = DRUG_FIELDS
        widgets = {"summary": forms.Textarea(attrs={"rows": 3})}


class FactForm(forms.ModelForm):
    """One row of a label section."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, value in list(self.initial.items()):
            if isinstance(value, Decimal):
                self.initial[name] = f"{value.normalize():f}"
        if "lab_test" in self.fields:
            self.fields["lab_test"].label_from_instance = lambda t: (  # type: ignore[attr-defined]
                f"{t.short_name} ({t.loinc}) · {t.canonical_unit or 'coded'}"
            )
        for name in ("source",):
            if name in self.fields:
                self.fields[name].widget.attrs.setdefault("placeholder", "[S1][S9]")
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 2


class MonitoringRuleForm(FactForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_week"].validators = [
            MinValueValidator(
                1, "Week 0 is the baseline: put baseline tests under Baseline screening. Follow-ups start at week 1."
            ),
            MaxValueValidator(104),
        ]


class LabThresholdForm(FactForm):
    unit = forms.CharField(
        label="Unit of the value",
        required=False,
        max_length=30,
        help_text="Leave empty for the lab test's canonical unit; or give an accepted unit, e.g. /mm3 or 10*9/L.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        order = list(self.fields)
        order.remove("unit")
        order.insert(order.index("value") + 1, "unit")
        self.order_fields(order)

    def clean_value(self):
        value = self.cleaned_data.get("value")
        if value is not None and value < 0:
            raise forms.ValidationError("A threshold cannot be negative.")
        return value

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        unit = (cleaned.get("unit") or "").strip()
        lab_test = cleaned.get("lab_test")
        value = cleaned.get("value")
        if unit and lab_test is not None:
            if unit == lab_test.canonical_unit:
                return cleaned
            lab_unit = lab_test.unit_for(unit)
            if lab_unit is None:
                self.add_error(
                    "unit",
                    f"Unknown unit “{unit}” for {lab_test.short_name}. Accepted: {lab_test.accepted_units_text}.",
                )
            elif value is not None:
                try:
                    cleaned["value"] = units.to_canonical(Decimal(value), lab_unit.factor, lab_unit.divisor, exact=True)
                except units.PrecisionError:
                    converted = units.from_canonical(Decimal(value), lab_unit.divisor, lab_unit.factor, 8)
                    more = "" if lab_unit.exact else "…"
                    self.add_error(
                        "value",
                        f"{decimal_text(value)} {unit} is {decimal_text(converted)}{more} "
                        f"{lab_test.canonical_unit}: more than the {units.STORED_DECIMAL_PLACES} decimal places a "
                        f"threshold keeps. Round the value, or enter it in {lab_test.canonical_unit}.",
                    )
                except units.EntryError as exc:
                    self.add_error("value", str(exc))
                else:
                    self.instance.value = cleaned["value"]
        return cleaned


class SectionFormSet(BaseModelFormSet):
    def __init__(self, *args, drug: Drug, **kwargs):
        self.drug = drug
        super().__init__(*args, **kwargs)

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]  # private hook, not in the stubs
        if form.instance.drug_id is None:
            form.instance.drug = self.drug
        return form


FORM_FOR_MODEL: dict[type, type[forms.ModelForm]] = {MonitoringRule: MonitoringRuleForm, LabThreshold: LabThresholdForm}


def section_formset(section: Section, *, drug: Drug, data=None):
    formset_class = capped_formset(
        modelformset_factory,
        section.model,
        form=FORM_FOR_MODEL.get(section.model, FactForm),
        formset=SectionFormSet,
        fields=section.fields,
        extra=1,
        can_delete=True,
    )
    queryset = section.rows(drug)
    return formset_class(data=data, queryset=queryset, drug=drug, prefix=section.key)


class LabTestForm(forms.ModelForm):
    class Meta:
        model = LabTest
        fields = (
            "name",
            "short_name",
            "reference_low",
            "reference_high",
            "plausible_min",
            "plausible_max",
            "si_unit",
            "source",
            "unconfirmed",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        accepted = [(u.unit, u.label) for u in self.instance.units.all()] if self.instance.pk else []
        self.fields["si_unit"] = forms.ChoiceField(
            label=self.fields["si_unit"].label,
            required=False,
            choices=[("", "The canonical unit"), *accepted],
            help_text=self.fields["si_unit"].help_text,
        )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        for low, high, label in (
            ("reference_low", "reference_high", "reference range"),
            ("plausible_min", "plausible_max", "plausibility limits"),
        ):
            lo, hi = cleaned.get(low), cleaned.get(high)
            if lo is not None and hi is not None and lo >= hi:
                self.add_error(high, f"The upper end of the {label} must be above the lower end ({lo}).")
        return cleaned


class LabUnitForm(forms.ModelForm):
    class Meta:
        model = LabUnit
        fields = ("unit", "label", "factor", "divisor", "display_places")
        help_texts = {
            "factor": "Canonical value = entered value × factor ÷ divisor. Use the exact factors of the reference.",
            "divisor": (
                "1 for most units. For a factor with no finite decimal, the reference's number: creatinine µmol/L "
                "is factor 1, divisor 88.42 (88.42 µmol/L = 1 mg/dL). Such results are stored rounded to 4 decimal "
                "places, and the value as typed is kept."
            ),
            "display_places": "Decimals shown for results converted into this unit; empty: as stored.",
        }

    def clean_factor(self):
        factor = self.cleaned_data.get("factor")
        if factor is not None and factor <= 0:
            raise forms.ValidationError("The factor must be above 0.")
        return factor

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["divisor"].required = False  # empty: 1, as for almost every unit

    def clean_divisor(self):
        divisor = self.cleaned_data.get("divisor")
        if divisor is None:
            return Decimal(1)
        if divisor <= 0:
            raise forms.ValidationError("The divisor must be above 0.")
        return divisor


def lab_unit_formset(lab_test, data=None):
    from django.forms import inlineformset_factory

    formset_class = capped_formset(inlineformset_factory, LabTest, LabUnit, form=LabUnitForm, extra=1, can_delete=True)
    return formset_class(data=data, instance=lab_test, prefix="units")


class DrugCodeForm(forms.Form):
    """A drug's code in one system (prefix: the system). Checks the code's shape only; whether it names this drug
    is what the admin checks in RxNav or the WHO ATC index before ticking "verified"."""

    SHAPES = {
        # An RxNorm concept id (RxCUI) is a number; an ATC code for a substance is 7 characters, e.g. L04AF03.
        DrugCode.System.RXNORM: (re.compile(r"^\d{1,10}$"), "An RxNorm code (RxCUI) is a number, e.g. 2196092."),
        DrugCode.System.ATC: (
            re.compile(r"^[A-Z]\d{2}[A-Z]{2}\d{2}$"),
            "An ATC code for a substance is a letter, 2 digits, 2 letters and 2 digits, e.g. L04AF03.",
        ),
    }

    code = forms.CharField(label="Code", required=False, max_length=20, help_text="Empty: the drug has no code here.")
    display = forms.CharField(label="Display name", required=False, max_length=120)
    verified = forms.BooleanField(
        label="Checked against the source",
        required=False,
        help_text="Tick only after finding this code for this drug in RxNav (RxNorm) or the WHO ATC index.",
    )
    note = forms.CharField(label="Note", required=False, max_length=300)

    def __init__(self, *args, system: str, **kwargs):
        self.system = system
        kwargs["prefix"] = system
        super().__init__(*args, **kwargs)

    def clean_code(self) -> str:
        code = "".join((self.cleaned_data.get("code") or "").split())
        if self.system == DrugCode.System.ATC:
            code = code.upper()
        pattern, message = self.SHAPES[DrugCode.System(self.system)]
        if code and not pattern.match(code):
            raise forms.ValidationError(message)
        return code

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("verified") and not cleaned.get("code"):
            self.add_error("verified", "There is no code to verify: enter the code, or leave this unticked.")
        return cleaned


def drug_code_forms(drug: Drug, codes: dict[str, DrugCode], data=None) -> dict[str, DrugCodeForm]:
    forms_by_system = {}
    for system in DrugCode.System.values:
        row = codes.get(system)
        initial = {"code": row.code, "display": row.display, "verified": row.verified, "note": row.note} if row else {}
        forms_by_system[system] = DrugCodeForm(data=data, initial=initial, system=system)
    return forms_by_system
