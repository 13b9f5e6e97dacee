"""The interface inbox's two actions: assign a held message to a patient, or reject it with a reason."""

from __future__ import annotations

from django import forms

ACTIONS = ("assign", "reject")


class PatientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.record_number} · {obj.family_name}, {obj.given_name} (born {obj.date_of_birth:%d/%m/%Y})"


class AssignForm(forms.Form):
    patient = PatientChoiceField(
        queryset=None,
        label="Patient",
        empty_label="Choose the patient these results belong to",
        help_text="The results are then checked and stored exactly as if the lab had sent the right record number.",
    )

    def __init__(self, *args, patients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients  # type: ignore[attr-defined]  # a ModelChoiceField


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Why is it rejected?",
        max_length=300,
        help_text="E.g. not our patient, sent to the wrong clinic, test not ordered here. The lab is not told.",
    )
