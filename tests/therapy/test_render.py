"""therapy.render.form_html: crispy's own markup, kept per unbound form state, never for a bound form."""

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form

from therapy import render
from therapy.forms import InterruptForm, StopForm
from therapy.models import TreatmentCourse


@pytest.fixture(autouse=True)
def _nothing_kept():
    render._kept.clear()
    yield
    render._kept.clear()


@pytest.fixture
def crispy_calls(monkeypatch):
    calls = []

    def counted(form):
        calls.append(form)
        return as_crispy_form(form)

    monkeypatch.setattr(render, "as_crispy_form", counted)
    return calls


def _course(row_version=3):
    return TreatmentCourse(row_version=row_version)  # the forms read only its row version


ANALYTES = [("anc", "Neutrophils"), ("platelets", "Platelets")]


def test_the_markup_is_crispys_and_rendered_once_per_state(crispy_calls):
    first = render.form_html(InterruptForm(course=_course(), analytes=ANALYTES))
    assert first == as_crispy_form(InterruptForm(course=_course(), analytes=ANALYTES))
    assert 'name="row_version" value="3"' in first
    assert '<option value="anc">Neutrophils</option>' in first
    assert render.form_html(InterruptForm(course=_course(), analytes=ANALYTES)) == first
    assert len(crispy_calls) == 1


def test_another_state_is_rendered_anew(crispy_calls):
    shown = render.form_html(StopForm(course=_course(3)))
    newer = render.form_html(StopForm(course=_course(4)))
    assert 'name="row_version" value="4"' in newer
    assert 'value="3"' not in newer
    fewer = render.form_html(InterruptForm(course=_course(3), analytes=ANALYTES[:1]))
    assert "Platelets" not in fewer
    assert shown != newer
    assert len(crispy_calls) == 3


def test_a_bound_form_shows_its_data_and_errors_every_time(crispy_calls):
    data = {"on": "not a date", "reason": "<b>typed</b>", "row_version": "3"}
    html = render.form_html(InterruptForm(data, course=_course(), analytes=ANALYTES))
    assert "is-invalid" in html
    assert "&lt;b&gt;typed&lt;/b&gt;" in html
    render.form_html(InterruptForm(data, course=_course(), analytes=ANALYTES))
    assert len(crispy_calls) == 2
    assert not render._kept


def test_labels_and_choices_are_escaped():
    html = render.form_html(InterruptForm(course=_course(), analytes=[("x", "<script>alert(1)</script>")]))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_only_so_many_states_are_kept(monkeypatch):
    monkeypatch.setattr(render, "FORMS_KEPT", 2)
    for version in (1, 2, 3):
        render.form_html(StopForm(course=_course(version)))
    assert len(render._kept) == 2
