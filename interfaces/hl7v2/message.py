"""ER7 ``ORU^R01`` lab results read into plain dataclasses, and the ACK answered to them, with python-hl7.

Pure (no Django): python-hl7 splits the message into segments, fields and components and builds the ACK; what it
does not do (check that the message is an ORU^R01 with sane encoding characters, pick out the fields a lab result
needs, read HL7 timestamps with their precision and offset into a collection date) is here. Any problem is a
``ParseError`` whose message is sent back to the lab in the ACK (MSA-3 and ERR-8), so it says what to fix.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import warnings
from dataclasses import dataclass, field

import hl7

# HL7 table 0357 (message error condition codes), the ones the feed answers with.
ERR_SEGMENT_SEQUENCE = "100"
ERR_REQUIRED_FIELD = "101"
ERR_DATA_TYPE = "102"
ERR_TABLE_VALUE = "103"
ERR_UNSUPPORTED_TYPE = "200"
ERR_UNKNOWN_KEY = "204"
ERR_APPLICATION = "207"
ERR_TEXT = {
    ERR_SEGMENT_SEQUENCE: "Segment sequence error",
    ERR_REQUIRED_FIELD: "Required field missing",
    ERR_DATA_TYPE: "Data type error",
    ERR_TABLE_VALUE: "Table value not found",
    ERR_UNSUPPORTED_TYPE: "Unsupported message type",
    ERR_UNKNOWN_KEY: "Unknown key identifier",
    ERR_APPLICATION: "Application internal error",
}
LOINC_SYSTEMS = {"LN", "LOINC", "HTTP://LOINC.ORG"}
MAX_REASON = 200  # MSA-3 is 80 characters in v2.3, longer later; ERR-8 carries the full text


class ParseError(ValueError):
    """The message cannot be read as an ORU^R01; ``code`` is the HL7 error code (table 0357), ``location`` the
    segment and field it concerns ("OBX^3^5": segment, set id, field), when known."""

    def __init__(self, message: str, *, code: str = ERR_DATA_TYPE, location: str = ""):
        super().__init__(message)
        self.code = code
        self.location = location


@dataclass(frozen=True)
class Identifier:
    """One PID-3 repetition (CX): the id, the authority that assigned it and its type (MR, PI, ...)."""

    value: str
    authority: str = ""
    type_code: str = ""


@dataclass(frozen=True)
class Observation:
    """One OBX: the code and its system (OBX-3), the value (OBX-5, text as sent), unit (OBX-6), abnormal flag
    (OBX-8), result status (OBX-11) and the collection time (OBX-14, else the OBR-7 of its request)."""

    set_id: str
    value_type: str
    code: str
    code_system: str
    code_text: str
    value: str  # OBX-5 as sent, components joined with ^ (SN "^45", CWE "260385009^Negative^SCT")
    unit: str
    unit_text: str
    reference_range: str
    abnormal_flag: str
    status: str
    collected_at: dt.datetime | None
    collected_date: dt.date | None  # the day as the lab wrote it (its own clock), as a print-out shows it

    @property
    def is_loinc(self) -> bool:
        return self.code_system.upper() in LOINC_SYSTEMS

    @property
    def label(self) -> str:
        """How a reason names this row: "OBX 3 (777-3 Platelets)"."""
        name = f"{self.code} {self.code_text}".strip()
        return f"OBX {self.set_id}" + (f" ({name})" if name else "")


@dataclass(frozen=True)
class Request:
    """One OBR and the OBX rows after it."""

    set_id: str
    service_code: str
    service_text: str
    observed_at: dt.datetime | None
    observations: list[Observation] = field(default_factory=list)


@dataclass(frozen=True)
class OruMessage:
    control_id: str  # MSH-10
    sending_application: str
    sending_facility: str
    sent_at: dt.datetime | None
    version: str
    identifiers: list[Identifier]
    requests: list[Request]

    @property
    def observations(self) -> list[Observation]:
        return [obx for request in self.requests for obx in request.observations]

    @property
    def record_numbers(self) -> list[str]:
        return list(dict.fromkeys(i.value for i in self.identifiers if i.value))


# --- Reading -------------------------------------------------------------------------------------------------------

_TS = re.compile(r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?")


def parse_timestamp(text: str, *, label: str = "", location: str = "") -> dt.datetime | None:
    """An HL7 TS/DTM (YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]) as a datetime: aware when an offset is given,
    else naive (the sender's local time). Empty: None. A timestamp without its day is no collection time.

    hl7.parse_datetime reads the same format but accepts a year alone and raises bare ValueErrors; the message
    here names the field."""
    text = text.strip()
    if not text:
        return None
    match = _TS.fullmatch(text)
    if match is None or match.group(3) is None:
        raise ParseError(
            f"{label or 'Timestamp'} “{text[:30]}” is not an HL7 date and time (YYYYMMDD[HHMM[SS]][+ZZZZ]).",
            code=ERR_DATA_TYPE,
            location=location,
        )
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        tz = None
        if offset:
            sign = 1 if offset[0] == "+" else -1
            delta = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
            if delta >= dt.timedelta(hours=24):
                raise ValueError("offset")
            tz = dt.timezone(sign * delta)
        return dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int(float(fraction or "0") * 1_000_000),
            tzinfo=tz,
        )
    except ValueError:
        raise ParseError(
            f"{label or 'Timestamp'} “{text[:30]}” is not a valid date and time.",
            code=ERR_DATA_TYPE,
            location=location,
        ) from None


def normalise(raw: str) -> str:
    """Segments separated by CR as the standard says; LF and CRLF (files saved on Unix or Windows, curl from a
    file) are read as CR too. Leading and trailing blank lines are dropped."""
    return "\r".join(line for line in raw.replace("\r\n", "\r").replace("\n", "\r").split("\r") if line.strip())


def _get(segment, index: int, component: int = 1, repetition: int = 1, subcomponent: int = 1) -> str:
    """segment-index.component (of the given repetition), unescaped by python-hl7; "" when absent."""
    try:
        return str(segment.extract_field(1, index, repetition, component, subcomponent)).strip()
    except (IndexError, TypeError):
        return ""


def _whole(segment, index: int) -> str:
    """A field's first repetition as sent, components joined with ^ (OBX-5 of type SN or CWE)."""
    try:
        return str(segment(index)(1) if _repetition_count(segment, index) > 1 else segment(index)).strip()
    except IndexError:
        return ""


def _repetition_count(segment, index: int) -> int:
    try:
        return len(segment(index))
    except IndexError:
        return 0


def _check_encoding(raw: str) -> None:
    """MSH-1 and MSH-2: a field separator, then exactly four distinct encoding characters (usually ^~\\&), none of
    them a letter, digit or space."""
    if len(raw) < 8 or not raw.startswith("MSH"):
        raise ParseError("The message must start with an MSH segment.", code=ERR_SEGMENT_SEQUENCE, location="MSH^1")
    separator, encoding = raw[3], raw[4:8]
    chars = separator + encoding
    if len(set(chars)) != 5 or any(c.isalnum() or c.isspace() for c in chars) or (len(raw) > 8 and raw[8] != separator):
        raise ParseError(
            "MSH-1 and MSH-2 must be the field separator (a bar) and the four encoding characters (caret, tilde, "
            "backslash, ampersand).",
            code=ERR_DATA_TYPE,
            location="MSH^1^2",
        )


def parse_oru(raw: str) -> OruMessage:
    """The ORU^R01 in ``raw`` (ER7 text), or ParseError saying what is wrong."""
    text = normalise(raw)
    if "\x00" in text:
        raise ParseError("The message contains a NUL character.", code=ERR_DATA_TYPE)
    _check_encoding(text)
    try:
        message = hl7.parse(text)
    except (hl7.ParseException, IndexError, ValueError) as exc:
        raise ParseError(f"Not an HL7 v2 message: {exc}", code=ERR_SEGMENT_SEQUENCE) from None
    msh = message.segment("MSH")
    msg_type, trigger = _get(msh, 9, 1), _get(msh, 9, 2)
    if (msg_type, trigger) != ("ORU", "R01"):
        shown = "^".join(p for p in (msg_type, trigger) if p) or "none"
        raise ParseError(
            f"MSH-9 is {shown}: this address takes ORU^R01 lab results only.",
            code=ERR_UNSUPPORTED_TYPE,
            location="MSH^1^9",
        )
    control_id = _get(msh, 10)
    if not control_id:
        raise ParseError("MSH-10 (message control id) is empty.", code=ERR_REQUIRED_FIELD, location="MSH^1^10")
    pids = [s for s in message if str(s[0]) == "PID"]
    if not pids:
        raise ParseError("The message has no PID segment.", code=ERR_SEGMENT_SEQUENCE, location="PID^1")
    if len(pids) > 1:
        raise ParseError(
            "Send one patient per message (this one has several PID segments).",
            code=ERR_SEGMENT_SEQUENCE,
            location="PID^1",
        )
    pid = pids[0]
    identifiers = [
        Identifier(value=_get(pid, 3, 1, n), authority=_get(pid, 3, 4, n), type_code=_get(pid, 3, 5, n))
        for n in range(1, _repetition_count(pid, 3) + 1)
    ]
    if not any(i.value for i in identifiers):
        raise ParseError("PID-3 (patient identifier) is empty.", code=ERR_REQUIRED_FIELD, location="PID^1^3")
    requests = _requests(message)
    if not any(r.observations for r in requests):
        raise ParseError("The message has no OBX (result) segment.", code=ERR_SEGMENT_SEQUENCE, location="OBX")
    return OruMessage(
        control_id=control_id,
        sending_application=_get(msh, 3, 1),
        sending_facility=_get(msh, 4, 1),
        sent_at=parse_timestamp(_get(msh, 7, 1), label="MSH-7", location="MSH^1^7"),
        version=_get(msh, 12, 1),
        identifiers=identifiers,
        requests=requests,
    )


def _requests(message) -> list[Request]:
    requests: list[Request] = []
    current: Request | None = None
    for segment in message:
        name = str(segment[0])
        if name == "OBR":
            current = Request(
                set_id=_get(segment, 1),
                service_code=_get(segment, 4, 1),
                service_text=_get(segment, 4, 2),
                observed_at=parse_timestamp(
                    _get(segment, 7, 1), label=f"OBR {_get(segment, 1)} OBR-7", location=f"OBR^{_get(segment, 1)}^7"
                ),
            )
            requests.append(current)
        elif name == "OBX":
            if current is None:
                raise ParseError("An OBX segment comes before any OBR.", code=ERR_SEGMENT_SEQUENCE, location="OBX")
            current.observations.append(_observation(segment, current))
    return requests


def _observation(segment, request: Request) -> Observation:
    set_id = _get(segment, 1) or str(len(request.observations) + 1)
    where = f"OBX {set_id}"
    code, text, system = _get(segment, 3, 1), _get(segment, 3, 2), _get(segment, 3, 3)
    if system.upper() not in LOINC_SYSTEMS and _get(segment, 3, 6).upper() in LOINC_SYSTEMS:
        # A local code first and the LOINC code as the alternate identifier (OBX-3.4 to 3.6), as many labs send.
        code, text, system = _get(segment, 3, 4), _get(segment, 3, 5), _get(segment, 3, 6)
    collected = (
        parse_timestamp(_get(segment, 14, 1), label=f"{where} OBX-14", location=f"OBX^{set_id}^14")
        or request.observed_at
    )
    return Observation(
        set_id=set_id,
        value_type=_get(segment, 2).upper(),
        code=code,
        code_text=text,
        code_system=system,
        value=_whole(segment, 5),
        unit=_get(segment, 6, 1),
        unit_text=_get(segment, 6, 2),
        reference_range=_get(segment, 7),
        abnormal_flag=_get(segment, 8),
        status=_get(segment, 11).upper(),
        collected_at=collected,
        collected_date=collected.date() if collected is not None else None,
    )


def numeric_value(obx: Observation) -> str:
    """The number in OBX-5 as text for drugs.units.parse_number: NM as sent, SN (structured numeric) only as
    "^45" or "=^45" (a comparator such as "<^5" or a range is no exact value and is refused)."""
    if obx.value_type == "SN":
        parts = obx.value.split("^")
        comparator = parts[0].strip()
        if comparator not in ("", "=") or len(parts) < 2 or any(p.strip() for p in parts[2:]):
            raise ParseError(
                f"{obx.label}: the value “{obx.value[:30]}” is not one exact number (a comparator or range).",
                code=ERR_DATA_TYPE,
                location=f"OBX^{obx.set_id}^5",
            )
        return parts[1]
    return obx.value


# --- Answering -----------------------------------------------------------------------------------------------------

_STUB = "MSH|^~\\&|||||||ORU^R01|{control}|P|2.5.1"
ACK_CODES = ("AA", "AE", "AR")


_ASCII = str.maketrans({"µ": "u", "μ": "u", "×": "x", "“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})


def _clean(text: str) -> str:
    """Reason text safe in one ER7 field: no separators, encoding or escape characters, no line breaks, and plain
    ASCII (×10³/µL as x10*3/uL), since many lab systems read ACKs as ASCII (python-hl7's MLLP client does)."""
    for power, ucum in (("10¹²", "10*12"), ("10⁹", "10*9"), ("10⁶", "10*6"), ("10³", "10*3")):
        text = text.replace(power, ucum)
    text = re.sub(r"[|^~\\&\r\n]+", " ", text.translate(_ASCII))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r" {2,}", " ", text).strip()


def _create_ack(source, code: str):
    with warnings.catch_warnings():  # create_ack calls datetime.utcnow(), deprecated from Python 3.12
        warnings.simplefilter("ignore", DeprecationWarning)
        return source.create_ack(code)


def build_ack(
    raw: str, code: str, *, text: str = "", error_code: str = "", location: str = "", severity: str = "E"
) -> str:
    """The ACK for ``raw`` (python-hl7's Message.create_ack: MSH swapped back to the sender, MSA-1 ``code``, MSA-2
    the message's control id), with ``text`` in MSA-3 and, for AE/AR, an ERR segment: ERR-2 the location, ERR-3 the
    HL7 error code, ERR-4 the severity and ERR-8 the text. A message too broken to parse gets an ACK built on a
    stub header with its control id, when one can be read."""
    if code not in ACK_CODES:
        raise ValueError(code)
    text = _clean(text)
    try:
        _check_encoding(normalise(raw))
        ack = _create_ack(hl7.parse(normalise(raw)), code)
    except Exception:  # noqa: BLE001  any unreadable header is answered on the stub, never an exception
        match = re.search(r"MSH\|(?:[^|\r\n]*\|){8}([^|\r\n^~\\&]{1,20})\|", raw)
        ack = _create_ack(hl7.parse(_STUB.format(control=_clean(match.group(1)) if match else "")), code)
    msa = ack.segment("MSA")
    if text:
        msa.assign_field(text[:MAX_REASON], 3)
    if code != "AA" and (error_code or text):
        err = ack.create_segment([ack.create_field(["ERR"])])
        for n, part in enumerate(location.split("^")[:3], start=1):  # ERR-2 (ERL): segment ^ sequence ^ field
            if part:
                err.assign_field(_clean(part), 2, 1, n)
        err_code = error_code or ERR_APPLICATION
        err.assign_field(err_code, 3, 1, 1)
        err.assign_field(ERR_TEXT.get(err_code, ""), 3, 1, 2)
        err.assign_field("HL70357", 3, 1, 3)
        err.assign_field(severity, 4)
        if text:
            err.assign_field(text, 8)
        ack.append(err)
    return str(ack).rstrip("\r") + "\r"


def ack_code(ack: str) -> tuple[str, str]:
    """MSA-1 and MSA-3 of an ACK (for tests and the listener's log)."""
    message = hl7.parse(normalise(ack))
    msa = message.segment("MSA")
    return _get(msa, 1), _get(msa, 3)
