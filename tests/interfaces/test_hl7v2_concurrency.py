"""The same message sent several times at once (a lab's interface engine retrying on a timeout): stored once.

PostgreSQL only: simultaneous requests on separate connections (SQLite serialises whole transactions).
"""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connections

from interfaces.models import InboxMessage
from monitoring.models import Alert
from patients.models import LabResult
from tests.interfaces.hl7_helpers import ack_of, fixture, post

ON_PG = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.skipif(not ON_PG, reason="simultaneous requests on separate connections need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _at_once(secret: str, body: str, n: int = 4) -> list[str]:
    barrier = threading.Barrier(n)
    codes: list[str] = []

    def send():
        try:
            barrier.wait()
            codes.append(ack_of(post(secret, body))[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return codes


def test_the_same_results_sent_four_times_at_once_are_stored_once_with_one_alert(lab_token, on_abrocitinib):
    codes = _at_once(lab_token[1], fixture("oru_cbc_us_platelets_low.hl7"))
    assert codes == ["AA"] * 4
    assert LabResult.objects.filter(patient=on_abrocitinib.patient).count() == 5
    assert Alert.objects.filter(patient=on_abrocitinib.patient).count() == 1


def test_the_same_unknown_patient_message_sent_four_times_at_once_is_held_once(lab_token, on_abrocitinib):
    codes = _at_once(lab_token[1], fixture("oru_unknown_patient.hl7"))
    assert codes == ["AE"] * 4
    assert InboxMessage.objects.count() == 1
