"""The pages the benchmark measures, as data: one ``Page`` per line.

A page is measured only if its URL name resolves in this build; otherwise the report lists it as
"not measured: page not present in this build". ``args``, ``form`` and ``fresh`` are functions of the fixtures
(``fixtures()`` below): ids of the heavy patient, the POST target patient (and its number of lab results), the
common surname, the drug slug, today's date.

Targets (issue 16) are data too: ``target`` is the largest multiple of the minimal signed-in view's median a main
page may take (6, the heavy patient page 8); ``faster_than`` names a yardstick page this one must beat by a factor
(the patient list: 4 times the Django admin change list). ``bench.report`` judges by these fields only.

A POST page sends a different body with every request, as a browser would (a saved form is never sent twice):
``form`` gives the bodies it cycles through, and ``nth_body`` builds the n-th request's body from them, putting in
its own date (``DATE``: today, then one day earlier every ``len(forms)`` requests) and its own one-time token
(``TOKEN``: the idempotency key a browser's form carries). ``bench/wrk.lua`` builds the same bodies under load from
the same numbers (``BENCH_SEQ``), so wrk never repeats one; ``fresh`` gives the first number whose body this
database has not seen yet, so a second run does not repeat the first one's bodies either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

# Roles: "derm" (bench-derm-01), "nurse" (bench-nurse-01), "superuser" (bench-superuser).
MAIN, BASELINE, COMPARISON = "main", "baseline", "comparison"
MAIN_TARGET = 6.0  # × the minimal view's median (issue 16)
HEAVY_TARGET = 8.0  # the patient page with 2,000 lab results
# Placeholders in a POST body, filled in per request (here for the test client, in bench/wrk.lua under load).
DATE = "__date__"
TOKEN = "__token__"  # noqa: S105 (a placeholder, not a secret)


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    url_name: str | tuple[str, ...]  # candidates: the first that resolves is measured
    args: Callable[[dict], list] = field(default=lambda fx: [])
    query: Callable[[dict], str] = field(default=lambda fx: "")
    user: str = "derm"
    method: str = "GET"
    form: Callable[[dict], list[dict]] | None = None  # POST bodies, cycled through (see nth_body)
    kind: str = MAIN  # main pages carry a target; baseline/comparison pages are yardsticks
    expect: tuple[int, ...] = (200,)
    target: float | None = MAIN_TARGET  # largest multiple of the minimal view's median (None: no target)
    faster_than: tuple[str, float] | None = None  # (page key, factor): this page's median × factor ≤ that page's
    fresh: Callable[[dict], int] = field(default=lambda fx: 0)  # first request number new to this database


def bench_date(today: dt.date, n: int, variants: int) -> dt.date:
    """The date in the n-th request's body: today for the first ``variants`` requests, then a day earlier."""
    return today - dt.timedelta(days=n // max(variants, 1))


def bench_token(salt: str, n: int) -> str:
    """The n-th request's one-time token: the run's salt (20 hex digits) and n (12 hex digits), a UUID."""
    return f"{salt}{n:012x}"


def encoded_bodies(page: Page, fx: dict, extra: dict) -> list[str]:
    """The page's POST bodies, URL-encoded with ``extra`` (the CSRF field), placeholders still in."""
    return [urlencode({**form, **extra}) for form in (page.form(fx) if page.form else [{}])]


def nth_body(bodies: list[str], n: int, *, today: dt.date, salt: str) -> str:
    """The body of the n-th request: body n mod len(bodies), its DATE and TOKEN placeholders filled in (as
    bench/wrk.lua does under load)."""
    date = bench_date(today, n, len(bodies)).isoformat()
    return bodies[n % len(bodies)].replace(DATE, date).replace(TOKEN, bench_token(salt, n))


class ClientRequests:
    """A page's requests through Django's test client (``--prepare``, bench/profile_page.py): a GET as it is, a
    POST with the body of the next request number (``seq``, which then is used up)."""

    def __init__(self, page: Page, fx: dict, *, client, url: str, salt: str, extra: dict | None = None):
        self.page, self.client, self.url, self.today, self.salt = page, client, url, fx["today"], salt
        self.bodies = encoded_bodies(page, fx, extra or {}) if page.method == "POST" else []
        self.seq = page.fresh(fx)

    def __call__(self):
        if self.page.method != "POST":
            return self.client.get(self.url)
        self.seq += 1
        body = nth_body(self.bodies, self.seq - 1, today=self.today, salt=self.salt)
        return self.client.post(self.url, body, content_type="application/x-www-form-urlencoded")


def fixtures() -> dict:
    """What the page specs refer to, read from the bench database (inside Django)."""
    from django.utils import timezone

    from bench.management.commands.bench_data import HEAVY_RECORD_NUMBER
    from patients.models import LabResult, Patient
    from therapy.models import TreatmentCourse

    heavy = Patient.objects.get(record_number=HEAVY_RECORD_NUMBER)
    post = Patient.objects.get(record_number="BENCH-000002")
    return {
        "heavy_patient": heavy.public_id,
        "heavy_course": TreatmentCourse.objects.filter(patient=heavy).latest("start_date").public_id,
        "post_patient": post.public_id,
        "post_patient_results": LabResult.objects.filter(patient=post).count(),
        "typical_patient": Patient.objects.get(record_number="BENCH-000003").public_id,
        "surname": "Benchley",
        "drug": "abrocitinib",
        "today": timezone.localdate(),
    }


def _assessment_forms(fx: dict) -> list[dict]:
    # Nothing in an assessment is refused as a repeat except its token: every request stores a new assessment.
    base = {"assessed_on": fx["today"].isoformat(), "viga": "2", "itch_nrs": "5", "poem": "12", "dlqi": "8"}
    return [{**base, "idempotency_key": TOKEN}]


CBC_VARIANTS = 30


def _cbc_panel_forms(fx: dict) -> list[dict]:
    """30 plausible CBC panels (every analyte's value differs between them, and ANC + ALC stays below WBC).

    A result is refused as "already recorded" when the same test has the same value on the same collection day
    (patients.models.LabResult constraints), and an all-refused panel answers 200 with the form, not 302. So each
    request has its own (date, panel) pair: 30 panels a day, going back a day every 30 requests. ``fresh`` is the
    patient's number of lab results: every saved panel adds five, so it grows past every request number used."""
    forms = []
    for j in range(CBC_VARIANTS):
        # LabPanelForm: v_<analyte> is the value, u_<analyte> its unit (empty: the canonical unit).
        forms.append(
            {
                "collected_on": DATE,
                "v_wbc": f"{4.0 + 0.2 * j:.1f}",
                "v_anc": f"{2.0 + 0.1 * j:.1f}",
                "v_alc": f"{1.0 + 0.1 * j:.1f}",
                "v_hb": f"{12.0 + 0.1 * j:.1f}",
                "v_platelets": f"{200 + 5 * j}",
                "idempotency_key": TOKEN,
            }
        )
    return forms


PAGES: list[Page] = [
    Page("minimal", "Minimal signed-in view (/bench/ok)", "bench_ok", kind=BASELINE, target=None),
    Page("healthz", "Health check (/healthz, no login)", "healthz", user="", kind=BASELINE, target=None),
    # The search POSTs its term (names stay out of URLs): this measures storing it and the redirect to ?s=<id>.
    Page("search", "Patient search (POST, common surname)", "patients:list", method="POST",
         form=lambda fx: [{"q": fx["surname"]}], expect=(302,)),
    Page("patient_list", "Patient list", "patients:list", faster_than=("admin_changelist", 4.0)),
    Page("admin_changelist", "Django admin: patient change list", "admin:patients_patient_changelist",
         user="superuser", kind=COMPARISON, target=None),
    Page("patient", "Patient page (100 lab results)", "patients:detail", args=lambda fx: [fx["typical_patient"]]),
    Page("patient_heavy", "Patient page (heavy record: 2,000 lab results)", "patients:detail",
         args=lambda fx: [fx["heavy_patient"]], target=HEAVY_TARGET),
    Page("course", "Treatment course page", "therapy:course", args=lambda fx: [fx["heavy_course"]]),
    Page("drug_list", "Drug catalogue", "drugs:list"),
    Page("drug", "Drug page (abrocitinib)", "drugs:detail", args=lambda fx: [fx["drug"]]),
    Page("worklist", "Nurse worklist", "monitoring:worklist", user="nurse"),
    Page("alerts", "Alert inbox", "monitoring:alerts"),
    Page("assessment_post", "Save a severity assessment (POST)", "patients:assessment_create",
         args=lambda fx: [fx["post_patient"]], method="POST", form=_assessment_forms, expect=(302,)),
    Page("lab_panel_post", "Save a CBC lab panel (POST)", "monitoring:lab_entry",
         args=lambda fx: [fx["post_patient"]], query=lambda fx: "panel=cbc", user="nurse", method="POST",
         form=_cbc_panel_forms, expect=(302,), fresh=lambda fx: fx["post_patient_results"]),
]  # fmt: skip
