"""Shared pieces of the CDS Hooks tests: the request fixtures and a call with a bearer token."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

from django.utils import timezone

FIXTURES = Path(__file__).parent / "fixtures" / "cds"
SERVICE_URL = "/cds-services/jak-safety-check"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def born_years_ago(years: int) -> str:
    today = timezone.localdate()
    return (today.replace(year=today.year - years) - dt.timedelta(days=10)).isoformat()


def smoker_request(**changes) -> dict:
    """The issue's case: 58, current smoker, hypertension, ordering abrocitinib 100 mg once daily."""
    body = copy.deepcopy(fixture("order-sign-abrocitinib.json"))
    body["prefetch"]["patient"]["birthDate"] = born_years_ago(58)
    body.update(changes)
    return body


def post(client, body, token: str | None, path: str = SERVICE_URL, raw: bytes | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **headers)


def by_code(cards: list[dict]) -> dict[str, dict]:
    return {c["source"]["topic"]["code"]: c for c in cards if "topic" in c["source"]}


def info_without_topic(cards: list[dict]) -> list[dict]:
    return [c for c in cards if "topic" not in c["source"]]
