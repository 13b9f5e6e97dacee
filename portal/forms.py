"""Form pieces shared by the apps."""

from django import forms
from django.forms.formsets import TOTAL_FORM_COUNT

# The most forms a formset accepts: well above the longest section of the catalogue (about 20 rows), far below
# what makes validating one POST take longer than the worker timeout.
MAX_FORMS = 100


class _RefusesFloods:
    """A POST claiming more forms than the formset takes builds none of them: it is refused as a whole ("Please
    submit at most … forms", Django's own check of TOTAL_FORMS against absolute_max) without building, validating
    and re-showing ``absolute_max`` forms of made-up rows first."""

    def total_form_count(self) -> int:
        if self.is_bound:  # type: ignore[attr-defined]  # a mixin of BaseFormSet
            claimed = self.management_form.cleaned_data.get(TOTAL_FORM_COUNT) or 0  # type: ignore[attr-defined]
            if claimed > self.absolute_max:  # type: ignore[attr-defined]
                return 0
        return super().total_form_count()  # type: ignore[misc]


def capped_formset(factory, *args, max_num: int = MAX_FORMS, **kwargs):
    """A formset class from ``factory`` (formset_factory, modelformset_factory, inlineformset_factory) that
    refuses more than ``max_num`` forms: a POST claiming more (TOTAL_FORMS=100000) is invalid with the message
    "Please submit at most … forms" instead of being validated form by form. Every formset is made through here.
    """
    formset = factory(*args, max_num=max_num, absolute_max=max_num, validate_max=True, **kwargs)
    return type(formset.__name__, (_RefusesFloods, formset), {})


class DateInput(forms.DateInput):
    """A native date picker. Its value must be ISO (YYYY-MM-DD) whatever the locale, or browsers show it empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class VersionedForm(forms.Form):
    """Carries the row_version the user started from, so the service can refuse a stale save.

    A model form takes the version from its instance (``class F(VersionedForm, forms.ModelForm)``); any other form
    is given it as ``row_version=`` (e.g. the course a course action is about)."""

    row_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, row_version: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["row_version"] = self.fields.pop("row_version")  # after the visible fields
        if row_version is None:
            row_version = getattr(getattr(self, "instance", None), "row_version", None)
        if not self.is_bound and row_version is not None:
            self.initial["row_version"] = row_version
