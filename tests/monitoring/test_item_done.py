"""'Record done' is only for checks without a result (issue 18, F9): a lab, screening or warning-sign check is
completed by its result, never closed empty."""

import pytest
from django.urls import reverse

from monitoring import services as svc
from tests.factories import TODAY, make_course, make_patient, make_scheduled_item
from therapy.models import ScheduledItem
from therapy.schedule import CHECK_NAMES


@pytest.fixture
def course(clinic, derm, catalogue):
    return make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="DONE-001"), derm)


def test_every_check_type_is_either_done_by_hand_or_by_its_result():
    assert set(CHECK_NAMES) == svc.DONE_BY_HAND_CHECK_TYPES | svc.RESULT_CHECK_TYPES
    assert not svc.DONE_BY_HAND_CHECK_TYPES & svc.RESULT_CHECK_TYPES


@pytest.mark.parametrize("check_type", sorted(svc.RESULT_CHECK_TYPES))
def test_the_service_refuses_to_close_a_check_that_needs_a_result(check_type, nurse, course):
    item = make_scheduled_item(course, check_type=check_type)
    with pytest.raises(svc.MonitoringError, match="completed by entering its result"):
        svc.scheduled_item_done(actor=nurse, item=item, done_on=TODAY)
    item.refresh_from_db()
    assert item.status == ScheduledItem.Status.OPEN


@pytest.mark.parametrize("check_type", sorted(svc.DONE_BY_HAND_CHECK_TYPES))
def test_checks_without_a_result_form_are_recorded_done(check_type, nurse, course):
    item = make_scheduled_item(course, check_type=check_type)
    assert svc.scheduled_item_done(actor=nurse, item=item, done_on=TODAY).status == ScheduledItem.Status.DONE


@pytest.mark.parametrize(
    ("check_type", "where"),
    [
        ("hbv", "/labs/new/?panel=screening"),
        ("tb", "/labs/new/?panel=screening"),
        ("liver", "/labs/new/?panel=liver"),
        ("cbc", "/labs/new/?panel=cbc"),
        ("infection_check", "/symptoms/new/"),
    ],
)
def test_the_page_says_where_to_enter_the_result_and_a_post_closes_nothing(check_type, where, client_as, nurse, course):
    item = make_scheduled_item(course, check_type=check_type)
    url = reverse("monitoring:item_done", args=[item.public_id])
    client = client_as(nurse)
    page = client.get(url).content.decode()
    assert "completed by its result" in page
    assert where in page
    assert 'name="done_on"' not in page  # no "record done" form to submit
    response = client.post(url, {"done_on": TODAY.isoformat(), "note": "no result"})
    assert response.status_code == 200
    assert "completed by entering its result" in response.content.decode()
    item.refresh_from_db()
    assert item.status == ScheduledItem.Status.OPEN
