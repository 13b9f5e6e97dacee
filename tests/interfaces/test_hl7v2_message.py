"""The pure ER7 reader and ACK writer (interfaces.hl7v2.message): no database."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import re

import pytest

from interfaces.hl7v2 import message as er7
from tests.interfaces.hl7_helpers import FIXTURES

MSH = "MSH|^~\\&|LAB|CITY|JAK|DERM|20261201101502-0500||ORU^R01^ORU_R01|CTRL-1|P|2.5.1"
PID = "PID|1||REC-1^^^CLINIC&1.2.3&ISO^MR~LAB-9^^^CITYLAB^PI||Zzcanary^Testa||19800101|F"
OBR = "OBR|1|ORD1|FIL1|57021-8^CBC^LN|||20261201083000-0500"
OBX = "OBX|1|NM|777-3^Platelets^LN||45|10*3/uL^thousand per microliter^UCUM|150-450|LL|||F|||20261201093000+0100"


def _message(*segments: str) -> str:
    return "\r".join(segments) + "\r"


def _raw(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20261201", dt.datetime(2026, 12, 1)),
        ("202612011030", dt.datetime(2026, 12, 1, 10, 30)),
        ("20261201103015", dt.datetime(2026, 12, 1, 10, 30, 15)),
        ("20261201103015.25", dt.datetime(2026, 12, 1, 10, 30, 15, 250000)),
        ("20261201103015-0500", dt.datetime(2026, 12, 1, 10, 30, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5)))),
        ("2026120110+0530", dt.datetime(2026, 12, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))),
        ("", None),
    ],
)
def test_hl7_timestamps_with_their_precision_and_offset(text, expected):
    assert er7.parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text", ["2026", "202612", "20261301", "20261232", "20261201 1030", "yesterday", "20261201+2500"]
)
def test_timestamps_without_a_day_or_impossible_are_refused(text):
    with pytest.raises(er7.ParseError, match="OBX-14"):
        er7.parse_timestamp(text, label="OBX 1 OBX-14")


def test_the_collection_day_is_the_labs_own_not_shifted_to_utc():
    late = OBX.replace("20261201093000+0100", "20261201233000-0500")  # 04:30 UTC the next day
    (obx,) = er7.parse_oru(_message(MSH, PID, OBR, late)).observations
    assert obx.collected_date == dt.date(2026, 12, 1)
    assert obx.collected_at.utcoffset() == dt.timedelta(hours=-5)


def test_an_oru_is_read_into_its_parts():
    message = er7.parse_oru(_message(MSH, PID, OBR, OBX))
    assert message.control_id == "CTRL-1"
    assert (message.sending_application, message.sending_facility, message.version) == ("LAB", "CITY", "2.5.1")
    assert message.record_numbers == ["REC-1", "LAB-9"]
    assert message.identifiers[0] == er7.Identifier("REC-1", "CLINIC", "MR")
    (obx,) = message.observations
    assert (obx.code, obx.code_system, obx.is_loinc) == ("777-3", "LN", True)
    assert (obx.value, obx.unit, obx.abnormal_flag, obx.status) == ("45", "10*3/uL", "LL", "F")
    assert obx.collected_at == dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def test_obr7_is_the_collection_time_when_obx14_is_empty():
    (obx,) = er7.parse_oru(_message(MSH, PID, OBR, OBX.rsplit("|", 1)[0] + "|")).observations
    assert obx.collected_date == dt.date(2026, 12, 1)
    assert obx.collected_at.utcoffset() == dt.timedelta(hours=-5)


def test_a_local_code_with_the_loinc_alternate_is_read_as_loinc():
    local = OBX.replace("777-3^Platelets^LN", "PLT^Trombocyten^L^777-3^Platelets^LN")
    (obx,) = er7.parse_oru(_message(MSH, PID, OBR, local)).observations
    assert (obx.code, obx.code_system) == ("777-3", "LN")
    only_local = OBX.replace("777-3^Platelets^LN", "PLT^Trombocyten^L")
    (obx,) = er7.parse_oru(_message(MSH, PID, OBR, only_local)).observations
    assert (obx.code, obx.is_loinc) == ("PLT", False)


def test_the_fixtures_read_with_several_obx_per_obr_and_lf_line_ends():
    cbc = er7.parse_oru(_raw("oru_cbc_us_platelets_low.hl7"))  # LF, as saved on disk
    assert [len(r.observations) for r in cbc.requests] == [5]
    lipids = er7.parse_oru(_raw("oru_cbc_lipids_si.hl7"))
    assert [len(r.observations) for r in lipids.requests] == [3, 4]
    assert {o.unit for o in lipids.observations} == {"10*9/L", "g/L", "mmol/L"}
    corrected = er7.parse_oru(_raw("oru_platelets_corrected.hl7"))
    assert [o.status for o in corrected.observations] == ["C"]


@pytest.mark.parametrize(
    ("value", "number"),
    [("^45", "45"), ("=^45.5", "45.5")],
)
def test_structured_numeric_values_with_no_comparator(value, number):
    sn = OBX.replace("|NM|", "|SN|").replace("||45|", f"||{value}|")
    (obx,) = er7.parse_oru(_message(MSH, PID, OBR, sn)).observations
    assert er7.numeric_value(obx) == number


@pytest.mark.parametrize("value", ["<^5", ">^2000", "^10^-^20"])
def test_structured_numeric_comparators_and_ranges_are_no_exact_value(value):
    sn = OBX.replace("|NM|", "|SN|").replace("||45|", f"||{value}|")
    (obx,) = er7.parse_oru(_message(MSH, PID, OBR, sn)).observations
    with pytest.raises(er7.ParseError, match="not one exact number"):
        er7.numeric_value(obx)


@pytest.mark.parametrize(
    ("raw", "message", "code"),
    [
        ("", "must start with an MSH segment", er7.ERR_SEGMENT_SEQUENCE),
        ("garbage, not HL7", "must start with an MSH segment", er7.ERR_SEGMENT_SEQUENCE),
        (_message(PID, OBR, OBX), "must start with an MSH segment", er7.ERR_SEGMENT_SEQUENCE),
        (_message(MSH.replace("^~\\&", "^~"), PID, OBR, OBX), "four encoding characters", er7.ERR_DATA_TYPE),
        (_message(MSH.replace("^~\\&", "^^\\&"), PID, OBR, OBX), "four encoding characters", er7.ERR_DATA_TYPE),
        (_message(MSH.replace("ORU^R01^ORU_R01", "ADT^A01"), PID), "MSH-9 is ADT^A01", er7.ERR_UNSUPPORTED_TYPE),
        (_message(MSH.replace("ORU^R01^ORU_R01", "ORU^R03"), PID), "MSH-9 is ORU^R03", er7.ERR_UNSUPPORTED_TYPE),
        (_message(MSH.replace("|CTRL-1|", "||"), PID, OBR, OBX), "MSH-10", er7.ERR_REQUIRED_FIELD),
        (_message(MSH, OBR, OBX), "no PID segment", er7.ERR_SEGMENT_SEQUENCE),
        (_message(MSH, PID, OBR, OBX, PID, OBR, OBX), "one patient per message", er7.ERR_SEGMENT_SEQUENCE),
        (_message(MSH, "PID|1||", OBR, OBX), "PID-3", er7.ERR_REQUIRED_FIELD),
        (_message(MSH, PID, OBX), "before any OBR", er7.ERR_SEGMENT_SEQUENCE),
        (_message(MSH, PID, OBR), "no OBX", er7.ERR_SEGMENT_SEQUENCE),
        (_message(MSH, PID, OBR.replace("20261201083000-0500", "2026-12-01"), OBX), "OBR-7", er7.ERR_DATA_TYPE),
        (_message(MSH, PID, OBR, OBX) + "\x00", "NUL", er7.ERR_DATA_TYPE),
    ],
)
def test_malformed_messages_are_a_clear_parse_error(raw, message, code):
    with pytest.raises(er7.ParseError, match=re.escape(message)) as caught:
        er7.parse_oru(raw)
    assert caught.value.code == code


def test_the_ack_answers_the_sender_with_its_control_id():
    ack = er7.build_ack(_message(MSH, PID, OBR, OBX), "AA", text="1 result(s) stored")
    msh, msa = ack.rstrip("\r").split("\r")
    fields = msh.split("|")
    assert fields[2:6] == ["JAK", "DERM", "LAB", "CITY"]  # sender and receiver swapped
    assert fields[8] == "ACK^R01^ACK"
    assert fields[9] != "CTRL-1"
    assert msa == "MSA|AA|CTRL-1|1 result(s) stored"


def test_an_error_ack_has_err_with_the_code_location_and_reason_and_no_separators_in_the_text():
    ack = er7.build_ack(
        _message(MSH, PID, OBR, OBX),
        "AE",
        text="OBX 1: unit K^uL|x not accepted",
        error_code=er7.ERR_TABLE_VALUE,
        location="OBX^1^6",
    )
    segments = ack.rstrip("\r").split("\r")
    assert segments[1] == "MSA|AE|CTRL-1|OBX 1: unit K uL x not accepted"
    assert segments[2] == "ERR||OBX^1^6|103^Table value not found^HL70357|E||||OBX 1: unit K uL x not accepted"
    assert er7.ack_code(ack) == ("AE", "OBX 1: unit K uL x not accepted")


@pytest.mark.parametrize(
    ("raw", "control"),
    [("garbage", ""), ("", ""), (MSH.replace("^~\\&", "^~"), "CTRL-1")],
)
def test_an_unreadable_message_still_gets_a_well_formed_ar(raw, control):
    ack = er7.build_ack(raw, "AR", text="Not HL7")
    assert er7.ack_code(ack) == ("AR", "Not HL7")
    assert f"MSA|AR|{control}|Not HL7" in ack


def test_the_ack_text_is_plain_ascii_for_labs_that_read_acks_as_ascii():
    ack = er7.build_ack("", "AE", text="“45000” is 45 ×10³/µL… — check the unit")
    assert ack.isascii()
    assert er7.ack_code(ack)[1] == '"45000" is 45 x10*3/uL... - check the unit'


def test_mangled_messages_are_a_parse_error_or_a_message_and_always_get_a_readable_ack():
    """Random edits of a real message (deleted, inserted and cut characters, separators included): the reader
    never raises anything but ParseError, and every answer is a well-formed ACK."""
    rng = random.Random(19)
    base = _raw("oru_cbc_us_platelets_low.hl7").replace("\n", "\r")
    alphabet = "|^~\\&\r\nMSHPIDOBXR0123456789 .-+éabcxyz"
    for _ in range(1000):
        text = list(base)
        for _edit in range(rng.randint(1, 30)):
            pos = rng.randrange(len(text)) if text else 0
            op = rng.random()
            if op < 0.4 and text:
                del text[pos]
            elif op < 0.8:
                text.insert(pos, rng.choice(alphabet))
            else:
                del text[pos : pos + rng.randint(1, 50)]
        raw = "".join(text)
        try:
            message = er7.parse_oru(raw)
            code = "AA"
            for obx in message.observations:
                with contextlib.suppress(er7.ParseError):
                    er7.numeric_value(obx)
        except er7.ParseError:
            code = "AR"
        assert er7.ack_code(er7.build_ack(raw, code, text="x"))[0] == code
