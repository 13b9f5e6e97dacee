"""Loading the HL7 fixtures and posting them to the feed, as a lab would."""

from __future__ import annotations

from pathlib import Path

from django.test import Client
from django.urls import reverse

from interfaces.hl7v2 import message as er7
from tests.factories import TODAY

FIXTURES = Path(__file__).parent / "fixtures" / "hl7"
FIXTURE_DAY = "20261201"  # the collection day written in the fixtures
ORU_URL = reverse("hl7v2:oru")
CONTENT_TYPE = "x-application/hl7-v2+er7"


def fixture(name: str, *, on=None) -> str:
    """The fixture with CR segment separators, its day moved to ``on`` (default: today)."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    day = (on or TODAY).strftime("%Y%m%d")
    return text.replace(FIXTURE_DAY, day).replace("\n", "\r")


def post(secret: str, body: str | bytes, client: Client | None = None):
    data = body.encode() if isinstance(body, str) else body
    return (client or Client()).post(
        ORU_URL, data=data, content_type=CONTENT_TYPE, HTTP_AUTHORIZATION=f"Bearer {secret}"
    )


def ack_of(response) -> tuple[str, str]:
    """MSA-1 and MSA-3 of the ACK in the response."""
    return er7.ack_code(response.content.decode())
