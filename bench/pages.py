"""The pages the benchmark measures, as data: one ``Page`` per line.

A page is measured only if its URL name resolves in this build; otherwise the report lists it as
"not measured: page not present in this build". ``args`` and ``form`` are functions of the fixtures (see
``bench.run.fixtures``): ids of the heavy patient, the POST target patient, the common surname, the drug slug.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

# Roles: "derm" (bench-derm-01), "nurse" (bench-nurse-01), "superuser" (bench-superuser).
MAIN, BASELINE, COMPARISON = "main", "baseline", "comparison"


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    url_name: str | tuple[str, ...]  # candidates: the first that resolves is measured
    args: Callable[[dict], list] = field(default=lambda fx: [])
    query: Callable[[dict], str] = field(default=lambda fx: "")
    user: str = "derm"
    method: str = "GET"
    form: Callable[[dict], dict] | None = None  # POST body
    kind: str = MAIN  # main pages carry the 100 ms target; baseline/comparison pages are yardsticks
    expect: tuple[int, ...] = (200,)


def _assessment_form(fx: dict) -> dict:
    return {"assessed_on": dt.date.today().isoformat(), "viga": "2", "itch_nrs": "5", "poem": "12", "dlqi": "8"}  # noqa: DTZ011


def _cbc_panel_form(fx: dict) -> dict:
    # LabPanelForm: v_<analyte> is the value, u_<analyte> its unit (empty: the canonical unit).
    data = {"collected_on": dt.date.today().isoformat()}  # noqa: DTZ011
    data.update({"v_wbc": "6.1", "v_anc": "3.4", "v_alc": "1.9", "v_hb": "13.8", "v_platelets": "250"})
    return data


PAGES: list[Page] = [
    Page("minimal", "Minimal signed-in view (/bench/ok)", "bench_ok", kind=BASELINE),
    Page("healthz", "Health check (/healthz, no login)", "healthz", user="", kind=BASELINE),
    # The search POSTs its term (names stay out of URLs): this measures storing it and the redirect to ?s=<id>.
    Page("search", "Patient search (POST, common surname)", "patients:list", method="POST",
         form=lambda fx: {"q": fx["surname"]}, expect=(302,)),
    Page("patient_list", "Patient list", "patients:list"),
    Page("admin_changelist", "Django admin: patient change list", "admin:patients_patient_changelist",
         user="superuser", kind=COMPARISON),
    Page("patient", "Patient page (100 lab results)", "patients:detail", args=lambda fx: [fx["typical_patient"]]),
    Page("patient_heavy", "Patient page (heavy record: 2,000 lab results)", "patients:detail",
         args=lambda fx: [fx["heavy_patient"]]),
    Page("course", "Treatment course page", "therapy:course", args=lambda fx: [fx["heavy_course"]]),
    Page("drug_list", "Drug catalogue", "drugs:list"),
    Page("drug", "Drug page (abrocitinib)", "drugs:detail", args=lambda fx: [fx["drug"]]),
    Page("worklist", "Nurse worklist", "monitoring:worklist", user="nurse"),
    Page("alerts", "Alert inbox", "monitoring:alerts"),
    Page("assessment_post", "Save a severity assessment (POST)", "patients:assessment_create",
         args=lambda fx: [fx["post_patient"]], method="POST", form=_assessment_form, expect=(302,)),
    Page("lab_panel_post", "Save a CBC lab panel (POST)", "monitoring:lab_entry",
         args=lambda fx: [fx["post_patient"]], query=lambda fx: "panel=cbc", user="nurse", method="POST",
         form=_cbc_panel_form, expect=(302,)),
]  # fmt: skip
