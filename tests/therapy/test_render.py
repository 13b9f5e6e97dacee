"""therapy.render.form_html: crispy's own markup, kept per unbound form state, never for a bound form."""

import datetime as dt

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


# The schedule loop as course_detail.html wrote it before therapy.render.schedule_rows: the rows must not change.
_TEMPLATE_ROWS = """{% for item in schedule %}
      <tr class="{% if item.status != 'open' or item.done_by_record %}text-body-secondary{% endif %}">
        <td>{{ item.due_date|date:"j M Y" }}</td>
        <td class="small">{% if item.earliest %}{{ item.earliest|date:"j M" }}{% else %}before{% endif %} – {{ item.latest|date:"j M Y" }}</td>
        <td>{{ item.check_label }}</td>
        <td class="small">{{ item.reason }}<br><span class="text-body-secondary">{{ item.rule }} {{ item.source }}</span>{% if item.unconfirmed %} <span class="badge text-bg-warning">Unconfirmed</span>{% endif %}</td>
        <td>{% if item.done_by_record %}Done<div class="small">{{ item.done_by_record }}</div>{% else %}{{ item.get_status_display }}{% endif %}{% if item.cancel_reason %}<div class="small">{{ item.cancel_reason }}</div>{% endif %}{% if item.completed_on %}<div class="small">{{ item.completed_on|date:"j M Y" }}</div>{% endif %}</td>
      </tr>{% empty %}<tr><td colspan="5">No checks scheduled.</td></tr>{% endfor %}"""  # noqa: E501


def _item(**fields):
    from therapy.models import ScheduledItem

    defaults = {"due_date": dt.date(2026, 12, 4), "latest": dt.date(2026, 12, 11), "reason": "Baseline", "rule": "R1"}
    done_by_record = fields.pop("done_by_record", "")
    check_label = fields.pop("check_label", "Full blood count")
    item = ScheduledItem(**{**defaults, **fields})
    item.check_label = check_label
    item.done_by_record = done_by_record
    return item


MARKUP = {
    "check_label": "<b>label</b>",
    "reason": "<script>alert(1)</script>",
    "rule": '"quoted" & <i>',
    "source": "[<x>]",
    "done_by_record": "<img src=x onerror=alert(1)>",
    "cancel_reason": "<u>why</u>",
}

SCHEDULES = {
    "empty": [],
    "open": [_item(earliest=dt.date(2026, 12, 1), source="[L1]")],
    "every state": [
        _item(unconfirmed=True),
        _item(status="done", completed_on=dt.date(2026, 12, 5)),
        _item(status="cancelled", cancel_reason="Course stopped"),
        _item(done_by_record="Risk profile: tuberculosis negative, 2026-11-02"),
    ],
    # Each text field of the row with markup in it.
    "markup in the data": [_item(**MARKUP)],
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_rows_are_what_the_template_wrote(name):
    from django.template import engines

    schedule = SCHEDULES[name]
    expected = engines["django"].from_string(_TEMPLATE_ROWS).render({"schedule": schedule})
    assert render.schedule_rows(schedule) == expected


def test_schedule_rows_escape_the_data():
    html = render.schedule_rows(SCHEDULES["markup in the data"])
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&quot;quoted&quot; &amp; &lt;i&gt;" in html


def test_schedule_rows_show_each_state():
    html = render.schedule_rows(SCHEDULES["every state"])
    assert 'class="badge text-bg-warning">Unconfirmed' in html
    assert '<div class="small">5 Dec 2026</div>' in html
    assert '<div class="small">Course stopped</div>' in html
    assert 'Done<div class="small">Risk profile: tuberculosis negative, 2026-11-02</div>' in html
    assert html.count('<tr class="text-body-secondary">') == 3
    assert "before – 11 Dec 2026" in html
    assert render.schedule_rows([]) == '<tr><td colspan="5">No checks scheduled.</td></tr>'
