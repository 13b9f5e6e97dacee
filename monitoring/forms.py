"""Forms for monitoring: a lab panel, the CSV upload, the symptom check, a check done, and alert acknowledgement."""

from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone

from drugs import units
from drugs.models import LabTest
from monitoring import alerting
from monitoring.models import RecallContact
from monitoring.services import ResultRow
from patients.dates import result_date_error
from portal.forms import DateInput
from therapy.forms import DoseChangeForm, InterruptForm, ResumeForm, StopForm


class PatientDateField(forms.DateField):
    """The date something happened to the form's patient (collected, visit, done), checked with
    patients.dates.result_date_error. PatientDateForm gives the field its patient and today as the initial value."""

    patient = None

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DateInput())
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if (
            value is not None
            and self.patient is not None
            and (message := result_date_error(value, self.patient.date_of_birth, timezone.localdate()))
        ):
            raise forms.ValidationError(message)


class PatientDateForm(forms.Form):
    """A form about one patient (``patient=``): each of its PatientDateFields checks against that patient."""

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        for field in self.fields.values():
            if isinstance(field, PatientDateField):
                field.patient = patient
                field.initial = timezone.localdate()


class LabPanelForm(PatientDateForm):
    """One panel: the collection date, and per analyte a value (point or comma for decimals) and its unit, by
    default the unit the clinic's unit system shows."""

    collected_on = PatientDateField(label="Collected on")

    def __init__(self, *args, patient, tests: list[LabTest], unit_system: str = units.US, **kwargs):
        super().__init__(*args, patient=patient, **kwargs)
        self.tests = tests
        self.rows_layout: list[tuple[LabTest, str, str | None]] = []
        for test in tests:
            value_name, unit_name = f"v_{test.analyte}", f"u_{test.analyte}"
            if test.value_type == LabTest.ValueType.CODED:
                self.fields[value_name] = forms.ChoiceField(
                    label=test.short_name,
                    required=False,
                    choices=[("", "Not done"), *units.CODED_VALUES],
                    help_text=f"LOINC {test.loinc}",
                )
                self.rows_layout.append((test, value_name, None))
                continue
            self.fields[value_name] = forms.CharField(
                label=test.short_name,
                required=False,
                max_length=20,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                help_text=f"LOINC {test.loinc}" + _range_text(test, unit_system),
            )
            accepted = list(test.units.all())
            self.fields[unit_name] = forms.ChoiceField(
                label=f"{test.short_name} unit",
                choices=[(u.unit, u.label) for u in accepted],
                initial=test.display_unit(unit_system).code,
                required=False,
            )
            self.rows_layout.append((test, value_name, unit_name))

    def bound_rows(self):
        return [(test, self[v], self[u] if u else None) for test, v, u in self.rows_layout]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        self.result_rows: list[ResultRow] = []
        entered = 0
        for test, value_name, unit_name in self.rows_layout:
            raw = cleaned.get(value_name) or ""
            if not raw.strip():
                continue
            entered += 1
            if unit_name is None:
                self.result_rows.append(
                    ResultRow(
                        patient=self.patient,
                        lab_test=test,
                        collected_on=cleaned.get("collected_on"),  # type: ignore[arg-type]  # None: form invalid
                        value=None,
                        coded_value=raw,
                        entered_value=raw,
                        entered_unit="",
                    )
                )
                continue
            unit = test.unit_for(cleaned.get(unit_name) or "")
            if unit is None:
                self.add_error(unit_name, "Choose one of the units offered.")
                continue
            try:
                canonical = test.to_canonical(raw, unit)
            except units.EntryError as exc:
                self.add_error(value_name, str(exc))
                continue
            self.result_rows.append(
                ResultRow(
                    patient=self.patient,
                    lab_test=test,
                    collected_on=cleaned.get("collected_on"),  # type: ignore[arg-type]  # None: form invalid
                    value=canonical,
                    coded_value="",
                    entered_value=raw.strip(),
                    entered_unit=unit.unit,
                )
            )
        if not entered:
            raise forms.ValidationError("Enter at least one result.")
        return cleaned


def _range_text(test: LabTest, unit_system: str = units.US) -> str:
    shown = test.display_unit(unit_system)
    low = shown.text(test.reference_low) if test.reference_low is not None else ""
    high = shown.text(test.reference_high) if test.reference_high is not None else ""
    if low and high:
        return f" · reference {low.removesuffix(' ' + shown.label)}–{high}"
    if high:
        return f" · reference up to {high}"
    if low:
        return f" · reference from {low}"
    return " · no reference range set"


class LabCsvForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "Columns: record_number, loinc, value, unit, collected_on (YYYY-MM-DD), separated by commas or "
            "semicolons; values with a point or a comma for decimals. At most 5,000 rows, 1 MB."
        ),
    )


class SymptomCheckForm(PatientDateForm):
    checked_on = PatientDateField(label="Visit date")
    symptoms = forms.MultipleChoiceField(
        label="Symptoms the patient reports",
        required=False,
        choices=[(code, label) for code, label in alerting.SYMPTOM_LABELS.items()],
    )
    none_reported = forms.BooleanField(label="None of these", required=False)
    note = forms.CharField(label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def groups(self):
        """The symptom checkboxes grouped as in the clinical reference §6 (a shared symptom shows in both)."""
        chosen = set(self.data.getlist("symptoms")) if self.is_bound else set()  # type: ignore[attr-defined]
        return [
            {
                "title": g.title,
                "source": g.source,
                "code": g.code,
                "options": [
                    {"value": code, "label": label, "id": f"sym-{g.code}-{code}", "checked": code in chosen}
                    for code, label in g.symptoms
                ],
            }
            for g in alerting.SYMPTOM_GROUPS
        ]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        symptoms = cleaned.get("symptoms") or []
        if symptoms and cleaned.get("none_reported"):
            self.add_error("none_reported", "Tick symptoms or “none of these”, not both.")
        elif not symptoms and not cleaned.get("none_reported") and "symptoms" not in self.errors:
            self.add_error("symptoms", "Tick the symptoms the patient reports, or “none of these”.")
        return cleaned


class ItemDoneForm(PatientDateForm):
    done_on = PatientDateField(label="Done on")
    note = forms.CharField(label="Note", required=False, max_length=300)


COMMENT_HELP = "What you decided and why; kept with the alert."


def _comment_field() -> forms.CharField:
    return forms.CharField(
        label="Comment",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=COMMENT_HELP,
        error_messages={"required": "Write a comment: what you decided and why."},
    )


class AlertAckForm(forms.Form):
    comment = _comment_field()


class StopAckForm(StopForm):
    comment = _comment_field()


class InterruptAckForm(InterruptForm):
    comment = _comment_field()


class ResumeAckForm(ResumeForm):
    comment = _comment_field()


class DoseAckForm(DoseChangeForm):
    comment = _comment_field()


MAX_SELECTED = 500  # checks or patients ticked in one bulk action (a page holds 25 patients)


def _uuids(values: list[str]) -> list[uuid.UUID]:
    """The well-formed ids among those posted (others are no row of ours: dropped, as the service drops others')."""
    ids = []
    for value in values[:MAX_SELECTED]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return ids


class RecallForm(forms.Form):
    """The worklist's bulk action: the ticked checks (``item``) and patients (``patient``: all their listed checks)
    recalled or sent a letter, on a date (today when empty)."""

    kind = forms.ChoiceField(choices=RecallContact.Kind.choices)
    contacted_on = forms.DateField(label="Date", required=False, widget=DateInput(), help_text="Empty: today")

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.item_ids = _uuids(data.getlist("item")) if data is not None else []
        self.patient_ids = _uuids(data.getlist("patient")) if data is not None else []

    def clean(self):
        cleaned = super().clean()
        if not self.item_ids and not self.patient_ids:
            raise forms.ValidationError("Tick at least one check or patient first.")
        return cleaned
