"""The alert inbox's items built in Python (monitoring/render_alerts.py): what each item shows, and escaping; and
the inbox selector reading what they show."""

import datetime as dt

import pytest
from django.utils import timezone

from monitoring import selectors as sel
from monitoring import services as svc
from monitoring.models import Alert
from monitoring.render_alerts import FOR_ANYONE, alert_items_html
from tests.factories import make_course, make_patient, record_result

XSS = '<script>alert("x")</script>'
AT = timezone.make_aware(dt.datetime(2026, 3, 4, 9, 5))


def _alert(**fields) -> sel.InboxAlert:
    base = {
        "pk": 1,
        "url": "/monitoring/alerts/abc/",
        "severity": 1,
        "severity_label": "Urgent",
        "title": "Platelets 45",
        "created_at": AT,
        "escalated": False,
        "patient": "Testperson, Anna (MRN-1)",
        "course": "Abrocitinib 100 mg",
        "for_user": "Dana Derm",
        "reason": "Below the action level",
        "advice": "Stop the course",
        "acknowledged": False,
        "acknowledged_by": None,
        "acknowledged_at": None,
        "action_label": "",
        "comment": "",
    }
    return sel.InboxAlert(**{**base, **fields})


def test_an_open_alert_shows_each_part():
    html = str(alert_items_html([_alert()], scope="mine"))
    assert html.startswith('<li class="list-group-item alert-row alert-sev-1">')
    assert (
        '<span class="badge alert-badge alert-sev-1">Urgent</span> <a href="/monitoring/alerts/abc/">Platelets 45</a>'
        in html
    )
    assert '<span class="small">4 Mar 2026 09:05</span>' in html
    assert '<div class="small">Testperson, Anna (MRN-1) · Abrocitinib 100 mg</div>' in html  # "for" only for the clinic
    assert "<strong>Why:</strong> Below the action level" in html
    assert "<strong>What to do:</strong> Stop the course" in html
    assert "Acknowledged" not in html
    assert "escalated" not in html


def test_the_clinic_list_says_whom_each_alert_is_for():
    html = str(alert_items_html([_alert(), _alert(for_user=None, course="")], scope="clinic"))
    assert "(MRN-1) · Abrocitinib 100 mg · for Dana Derm</div>" in html
    assert f"(MRN-1) · for {FOR_ANYONE}</div>" in html


def test_an_escalated_and_acknowledged_alert():
    alert = _alert(
        escalated=True,
        acknowledged=True,
        acknowledged_by="Dana Derm",
        acknowledged_at=AT + dt.timedelta(days=1),
        action_label="course stopped",
        comment="Seen",
    )
    html = str(alert_items_html([alert], scope="mine"))
    assert "4 Mar 2026 09:05 · <strong>escalated</strong>" in html
    assert '<div class="small mt-1">Acknowledged by Dana Derm 5 Mar 2026 09:05 (course stopped): “Seen”</div>' in html
    plain = _alert(acknowledged=True, acknowledged_by="D", acknowledged_at=AT, comment="ok")
    assert "Acknowledged by D 4 Mar 2026 09:05: “ok”" in str(alert_items_html([plain], scope="mine"))  # no action


def test_every_value_is_escaped():
    texts = ("severity_label", "title", "patient", "course", "for_user", "reason", "advice", "acknowledged_by")
    alert = _alert(
        **dict.fromkeys((*texts, "action_label", "comment"), XSS),
        url='/x/"onclick="y',
        acknowledged=True,
        acknowledged_at=AT,
    )
    html = str(alert_items_html([alert], scope="clinic"))
    assert "<script>" not in html
    assert '"onclick' not in html
    assert html.count("&lt;script&gt;") == 10  # every text but the url (its quote escaped)


@pytest.mark.django_db
def test_the_inbox_reads_what_the_items_show(client_as, clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm, family_name="Alertson", given_name="Al")
    course = make_course(patient, derm)
    alert = Alert.objects.get(lab_result=record_result(nurse, patient, "platelets", "45"))
    (shown,) = sel.alert_inbox(user=derm).rows
    assert (shown.pk, shown.title, shown.reason, shown.advice) == (alert.pk, alert.title, alert.reason, alert.advice)
    assert shown.url == alert.get_absolute_url()
    assert shown.severity_label == alert.get_severity_display()
    assert shown.patient == f"Alertson, Al ({patient.record_number})"
    assert shown.course == str(course)
    assert shown.for_user == str(derm)
    assert not shown.acknowledged
    svc.alert_acknowledge(actor=derm, alert=alert, comment="Seen <b>")
    (done,) = sel.alert_inbox(user=derm, scope="clinic", status="acknowledged").rows
    assert (done.acknowledged, done.acknowledged_by, done.comment) == (True, str(derm), "Seen <b>")
    assert done.acknowledged_at is not None
    assert done.action_label == ""
    Alert.objects.filter(pk=alert.pk).update(action=Alert.Action.STOP)
    (stopped,) = sel.alert_inbox(user=derm, scope="clinic", status="acknowledged").rows
    assert stopped.action_label == Alert.Action.STOP.label.lower()  # as get_action_display|lower showed it
    page = client_as(derm).get("/monitoring/alerts/", {"scope": "clinic", "status": "acknowledged"}).content.decode()
    assert f"Acknowledged by {derm}" in page
    assert "Seen &lt;b&gt;" in page
