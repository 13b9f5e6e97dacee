"""Form pieces shared by the apps."""

from django import forms


class DateInput(forms.DateInput):
    """A native date picker. Its value must be ISO (YYYY-MM-DD) whatever the locale, or browsers show it empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
