"""The MLLP listener over real TCP: a lab's messages on a loopback port, ACKs back on the same connection.

The listener runs in a thread with its own event loop, on a free port; the test talks to it with python-hl7's MLLP
client, as a lab's interface engine would. Transactional tests: the listener's ORM thread has its own connection.
"""

from __future__ import annotations

import asyncio
import threading

import hl7.mllp
import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command
from django.db import connections

from interfaces import tokens
from interfaces.hl7v2 import message as er7
from interfaces.hl7v2.mllp import Listener
from interfaces.models import InboxMessage, InterfaceRequest
from monitoring.models import Alert
from patients.models import LabResult
from tests.interfaces.hl7_helpers import fixture

pytestmark = pytest.mark.django_db(transaction=True)
CBC = "oru_cbc_us_platelets_low.hl7"
TIMEOUT = 30


def _start(max_bytes: int = 1_048_576):
    listener = Listener(token_name="city-lab", host="127.0.0.1", port=0, max_bytes=max_bytes)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(listener.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(TIMEOUT)

    def stop():
        async def close():
            listener.server.close()
            await listener.server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), loop).result(TIMEOUT)
        # The listener's ORM thread keeps its connection (CONN_MAX_AGE); close it, or the test database cannot
        # be dropped at the end of the run on PostgreSQL.
        close_orm = sync_to_async(connections.close_all, thread_sensitive=True)
        asyncio.run_coroutine_threadsafe(close_orm(), loop).result(TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)
        loop.close()  # its self-pipe sockets, else a ResourceWarning later in the run

    return listener, stop


@pytest.fixture
def listener(lab_token):
    listener, stop = _start()
    yield listener
    stop()


async def _send(port: int, *blocks: bytes) -> list[tuple[str, str]]:
    """Each block framed as MLLP on one connection; the (MSA-1, MSA-3) of each ACK."""
    reader, writer = await hl7.mllp.open_hl7_connection("127.0.0.1", port, encoding="utf-8")
    answers = []
    try:
        for block in blocks:
            writer.writeblock(block)
            await writer.drain()
            ack = await asyncio.wait_for(reader.readmessage(), TIMEOUT)
            answers.append(er7.ack_code(str(ack)))
    finally:
        writer.close()
        await writer.wait_closed()
    return answers


def run(coro):
    """``asyncio.run`` in a thread of its own. The browser tests before these (Playwright's sync API) leave an event
    loop set on the main thread for the rest of the session, and ``asyncio.run`` refuses to start beside it."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="mllp-test-client", daemon=True)
    thread.start()
    thread.join(TIMEOUT * 4)
    if thread.is_alive():
        raise TimeoutError("the MLLP test client did not finish")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def send(port: int, *messages: str | bytes) -> list[tuple[str, str]]:
    return run(_send(port, *(m.encode() if isinstance(m, str) else m for m in messages)))


def test_discontinue_level_platelets_over_tcp_are_acknowledged_stored_once_and_alerted(listener, on_abrocitinib):
    first, second = send(listener.port, fixture(CBC), fixture(CBC))
    assert first == ("AA", "5 result(s) stored")
    assert second == ("AA", "5 already recorded, not stored again")
    patient = on_abrocitinib.patient
    assert LabResult.objects.filter(patient=patient).count() == 5
    (alert,) = Alert.objects.filter(patient=patient)
    assert alert.severity == Alert.Severity.URGENT
    assert alert.lab_result.lab_test.analyte == "platelets"
    assert [r.outcome for r in InterfaceRequest.objects.order_by("at", "id")] == ["accepted", "duplicate"]


def test_a_malformed_message_gets_ar_stores_nothing_and_the_connection_keeps_serving(listener, on_abrocitinib):
    bad, good = send(listener.port, fixture("oru_malformed_truncated.hl7"), fixture(CBC))
    assert bad[0] == "AR"
    assert "MSH" in bad[1]
    assert good[0] == "AA"
    assert LabResult.objects.count() == 5


def test_an_unknown_patient_over_tcp_lands_in_the_inbox(listener, on_abrocitinib):
    ((code, text),) = send(listener.port, fixture("oru_unknown_patient.hl7"))
    assert code == "AE"
    assert text.startswith("Unknown patient")
    assert InboxMessage.objects.get().message_id == "CL-111500000201"
    assert not LabResult.objects.exists()


def test_a_dropped_connection_does_not_stop_the_listener(listener, on_abrocitinib):
    async def drop():
        _reader, writer = await hl7.mllp.open_hl7_connection("127.0.0.1", listener.port)
        writer.write(b"\x0b" + fixture(CBC).encode()[:200])  # half a message, then the line goes down
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    run(drop())
    assert send(listener.port, fixture(CBC))[0][0] == "AA"
    assert LabResult.objects.count() == 5


def test_an_oversized_message_is_refused_and_the_listener_keeps_serving(lab_token, on_abrocitinib):
    listener, stop = _start(max_bytes=1024)
    try:
        big = fixture(CBC) + ("NTE|1|L|" + "x" * 200 + "\r") * 10
        ((code, text),) = send(listener.port, big)
        assert code == "AR"
        assert "larger than 1024 bytes" in text
        small = fixture("oru_platelets_corrected.hl7")  # under 1024 bytes
        assert send(listener.port, small)[0][0] == "AA"
    finally:
        stop()
    assert LabResult.objects.count() == 1  # only the small message's result


def test_a_revoked_token_stops_the_feed_at_once(listener, on_abrocitinib):
    tokens.revoke_token(name="city-lab")
    ((code, text),) = send(listener.port, fixture(CBC))
    assert code == "AR"
    assert "revoked" in text
    assert not LabResult.objects.exists()


def test_the_command_needs_an_active_token(lab_token):
    with pytest.raises(CommandError, match="token-name"):
        call_command("hl7_listen", "--port", "0", "--token-name", "")
    with pytest.raises(CommandError, match="No active interface token"):
        call_command("hl7_listen", "--port", "0", "--token-name", "nobody")
