"""What the three demo seed commands share: the demo's clock and its normal lab values (PORTAL_DEMO only).

The demo record is told relative to the day it is seeded: each row is written with the date it happened on, and
the timestamps the services set to "now" (registered, recorded, acknowledged, audit events) are moved back to that
day with :func:`backdated`, so the record reads in order: registration, screening and baseline labs, course start
(safety check acknowledged that day), monitoring results, alerts. Nothing in here runs outside the seed commands.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal

from django.db import models
from django.utils import timezone

# The first demo patients (record numbers DEMO-00001 to DEMO-00008, one per risk archetype) are being worked up:
# registered and partly screened, with no course yet, so a start can be tried on them.
KEEP_WITHOUT_THERAPY = 8

DAY_OPENS = dt.time(8, 30)  # the first event of a demo day; later ones are minutes after it


def stamp(day: dt.date, minutes: int = 0) -> dt.datetime:
    """The moment ``minutes`` after the demo day opens on ``day`` (local time), never later than now."""
    moment = timezone.make_aware(dt.datetime.combine(day, DAY_OPENS)) + dt.timedelta(minutes=minutes)
    return min(moment, timezone.now())


@contextmanager
def backdated(at: dt.datetime, targets: Mapping[type[models.Model], Sequence[str]]) -> Iterator[None]:
    """Give the rows of each target model created inside the block ``at`` in the named timestamp fields (those that
    are set: an unacknowledged finding keeps its empty acknowledgement time). The seeds run alone, so the rows with
    a higher primary key than before the block are the block's own."""
    before = {model: model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0 for model in targets}
    yield
    for model, fields in targets.items():
        for field in fields:
            model._default_manager.filter(pk__gt=before[model], **{f"{field}__isnull": False}).update(**{field: at})


def _between(rng: random.Random, low: float, high: float, places: int) -> str:
    return f"{rng.uniform(low, high):.{places}f}"


def normal_panel(panel: str, *, rng: random.Random, sex: str, egfr: Decimal | None = None) -> dict[str, str]:
    """Plausible values, as typed in the canonical unit, for one panel of a patient without a finding: inside the
    reference ranges, except eGFR and creatinine, which follow the patient's recorded eGFR when it is reduced."""
    if panel == "cbc":
        female = sex == "female"
        return {
            "wbc": _between(rng, 5.0, 8.0, 1),
            "anc": _between(rng, 2.6, 4.8, 1),
            "alc": _between(rng, 1.4, 2.6, 1),
            "hb": _between(rng, 12.4, 14.4, 1) if female else _between(rng, 13.6, 16.2, 1),
            "platelets": str(rng.randint(190, 330)),
        }
    if panel == "lipids":
        return {
            "total_cholesterol": str(rng.randint(160, 195)),
            "ldl": str(rng.randint(85, 125)),
            "hdl": str(rng.randint(45, 68)),
            "triglycerides": str(rng.randint(70, 140)),
        }
    if panel == "liver":
        return {"alt": str(rng.randint(14, 40)), "ast": str(rng.randint(15, 34))}
    if panel == "kidney":
        if egfr is not None and egfr < 90:
            return {"egfr": str(int(egfr) + rng.randint(-2, 2)), "creatinine": _between(rng, 1.15, 1.3, 2)}
        return {"egfr": str(rng.randint(92, 118)), "creatinine": _between(rng, 0.65, 1.05, 2)}
    return {}
