"""Baseline screening checklist (clinical-reference §3.1)."""

import datetime as dt
from decimal import Decimal

import pytest

from drugs.models import ScreeningItem
from patients import screening
from patients.models import RiskProfile, ScreeningResult, Serology, Tuberculosis
from patients.screening import LAB, PROFILE, RECORD, Evidence, ProfileEntry, ScreeningStatus

D1, D2, D3 = dt.date(2026, 10, 1), dt.date(2026, 11, 2), dt.date(2026, 12, 3)


def test_items_match_the_model_choices():
    assert [code for code, _label, _src in screening.ITEMS] == ScreeningResult.Item.values


def test_catalogue_items_match_the_catalogue_choices():
    assert set(screening.CATALOGUE_ITEMS) == set(ScreeningItem.Item.values)
    assert {part for parts in screening.CATALOGUE_ITEMS.values() for part in parts} == set(ScreeningResult.Item.values)


def test_bridges_name_only_checklist_items_and_profile_fields():
    items = set(ScreeningResult.Item.values)
    assert set(screening.LAB_ANALYTE_ITEM.values()) <= items
    assert set(screening.LAB_PANEL_ITEM.values()) <= items
    fields = {f.name for f in RiskProfile._meta.get_fields()}
    assert set(screening.PROFILE_FIELD_ITEMS) <= fields
    # every stored TB and serology status is read: a result, or "the profile says nothing"
    for value in [*Tuberculosis.values, *Serology.values]:
        assert value in screening.PROFILE_RESULT or value in screening.PROFILE_NO_RESULT


def test_screening_outcomes_are_the_rule_results():
    assert set(ScreeningResult.Outcome.values) <= set(screening.CONCERN) | {screening.NEGATIVE, screening.NORMAL}


@pytest.mark.parametrize(
    ("sex", "age", "no_potential", "relevant"),
    [
        ("female", 30, False, True),
        ("female", 12, False, True),
        ("female", 55, False, True),
        ("female", 56, False, False),
        ("female", 11, False, False),
        ("female", 30, True, False),
        ("male", 30, False, False),
        ("female", None, False, False),
    ],
)
def test_pregnancy_test_relevance(sex, age, no_potential, relevant):
    assert (
        screening.pregnancy_test_relevant(sex_at_birth=sex, age=age, no_childbearing_potential=no_potential) is relevant
    )


def lab(item="tb", on=D2, result="negative", test=None, order=0):
    return Evidence(
        item=item,
        source=LAB,
        test=test or item,
        on=on,
        result=result,
        result_label=result.capitalize(),
        detail=f"{item} {result}",
        order=order,
    )


def record(item="tb", on=D2, result="negative", order=0):
    return screening.record_evidence(item=item, on=on, result=result, result_label=result.capitalize(), order=order)


def profile(item="tb", on=D2, result="negative", status=""):
    return Evidence(
        item=item,
        source=PROFILE,
        test="field",
        on=on,
        result=result,
        result_label=result.capitalize(),
        detail=f"{item} {result}",
        status=status,
    )


# --- Each source alone ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lab, record, profile], ids=["lab", "record", "profile"])
def test_each_source_alone_satisfies_the_item(make):
    status = ScreeningStatus.of([make()])
    assert status.satisfied("tb")
    assert status.evidence("tb").on == D2
    assert not status.satisfied("hcv")


def test_nothing_recorded_satisfies_nothing():
    status = ScreeningStatus.of([])
    assert status.catalogue_done() == frozenset()
    assert status.tb_status() == "never_tested"
    assert status.serology("hbv") == "unknown"


def test_coded_lab_result_names_test_result_and_date():
    e = screening.coded_lab_evidence(
        analyte="hbsag", short_name="HBsAg", coded_value="negative", coded_label="Negative", on=D2
    )
    assert (e.item, e.source, e.result) == ("hbsag", LAB, "negative")
    assert e.label == "Lab result: HBsAg negative, 2026-11-02"


def test_coded_lab_result_of_a_test_that_screens_nothing_is_ignored():
    assert (
        screening.coded_lab_evidence(analyte="alt", short_name="ALT", coded_value="x", coded_label="X", on=D2) is None
    )


@pytest.mark.parametrize(
    ("flags", "result", "label"),
    [
        ((("ALT", "normal"), ("AST", "normal")), "normal", "Within the reference range"),
        ((("ALT", "high"), ("AST", "normal")), "abnormal", "Outside the reference range: ALT high"),
        ((("ALT", "normal"), ("AST", "no_range")), "recorded", "Recorded"),
    ],
)
def test_any_panel_result_satisfies_its_item(flags, result, label):
    e = screening.panel_lab_evidence(panel="liver", on=D2, tests=flags)
    assert (e.item, e.result, e.result_label) == ("liver", result, label)
    assert e.satisfies
    assert e.label == "Lab result: ALT, AST, 2026-11-02"


def test_cpk_panel_is_no_screening_item():
    assert screening.panel_lab_evidence(panel="cpk", on=D2, tests=[("CPK", "normal")]) is None


def _entries(**values):
    labels = {"negative": "Negative", "positive": "Positive", "latent_treated": "Latent, treated", "": "Not known"}
    names = {"tb_status": "tuberculosis", "hepatitis_b": "hepatitis B", "hepatitis_c": "hepatitis C"}
    return {
        name: ProfileEntry(value=value, label=labels.get(value, value), name=names[name], on=D1)
        for name, value in values.items()
    }


def test_risk_profile_statuses_answer_tb_both_hepatitis_b_markers_and_hcv():
    found = screening.profile_evidence(
        _entries(tb_status="negative", hepatitis_b="negative", hepatitis_c="positive"),
        egfr=Decimal("85.0"),
        egfr_on=D2,
    )
    status = ScreeningStatus.of(found)
    assert status.catalogue_done() == {"tb", "hbv", "hcv", "kidney"}
    assert status.evidence("tb").label == "Risk profile: tuberculosis negative, 2026-10-01"
    assert status.evidence("kidney").label == "Risk profile: eGFR 85 mL/min/1.73 m², 2026-11-02"
    assert status.serology("hcv") == "positive"


def test_risk_profile_saying_nothing_answers_nothing():
    assert screening.profile_evidence(_entries(tb_status="never_tested", hepatitis_b="", hepatitis_c="")) == []


def test_zoster_tick_is_not_vaccinations_up_to_date():
    # The bridge has no risk-profile field for vaccinations: only a screening record answers it.
    assert "vaccinations" not in {i for items in screening.PROFILE_FIELD_ITEMS.values() for i in items}
    assert "zoster_vaccinated" not in screening.PROFILE_FIELD_ITEMS


# --- Newest wins, in both directions -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        (lab(on=D1, result="positive"), record(on=D2, result="negative")),
        (record(on=D1, result="positive"), lab(on=D2, result="negative")),
        (profile(on=D1, result="positive", status="latent_untreated"), lab(on=D2, result="negative")),
        (lab(on=D1, result="negative"), profile(on=D2, result="positive", status="latent_treated")),
        (record(on=D1, result="negative"), lab(on=D2, result="positive")),
        (lab(on=D1, result="negative"), record(on=D2, result="positive")),
    ],
)
def test_newest_wins_whatever_the_source_and_the_direction(older, newer):
    assert ScreeningStatus.of([older, newer]).evidence("tb") == newer
    assert ScreeningStatus.of([newer, older]).evidence("tb") == newer


def test_newer_negative_replaces_older_positive_and_back():
    assert ScreeningStatus.of([lab(result="positive", on=D1), lab(result="negative", on=D2)]).tb_status() == "negative"
    assert (
        ScreeningStatus.of([lab(result="negative", on=D1), lab(result="positive", on=D2)]).tb_status()
        == "latent_untreated"
    )


def test_each_hepatitis_b_marker_counts_on_its_own():
    older_positive_core = lab(item="hbcab", on=D1, result="positive")
    newer_negative_surface = lab(item="hbsag", on=D3, result="negative")
    status = ScreeningStatus.of([older_positive_core, newer_negative_surface])
    assert status.serology("hbv") == "positive"
    assert status.evidence("hbsag").result == "negative"


def test_hepatitis_b_needs_both_markers():
    status = ScreeningStatus.of([lab(item="hbsag", result="negative")])
    assert "hbv" not in status.catalogue_done()
    assert status.serology("hbv") == "unknown"
    status = ScreeningStatus.of([lab(item="hbsag", result="negative"), record(item="hbcab", result="negative")])
    assert "hbv" in status.catalogue_done()
    assert status.serology("hbv") == "negative"
    assert [e.source for e in status.catalogue_evidence("hbv")] == [LAB, RECORD]


# --- Same date ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other", "winner"),
    [
        # the more concerning result wins, whatever the source
        (lab(result="negative"), record(result="positive"), "record"),
        (record(result="negative"), profile(result="positive", status="active"), "profile"),
        (record(result="indeterminate"), lab(result="negative"), "record"),
        # equally concerning: lab result, then screening record, then risk profile
        (lab(result="negative"), record(result="negative"), "lab"),
        (record(result="positive"), profile(result="positive", status="latent_untreated"), "record"),
    ],
)
def test_same_date_tie_rule(one, other, winner):
    for pair in ([one, other], [other, one]):
        assert ScreeningStatus.of(pair).evidence("tb").source == winner


def test_same_test_same_source_same_day_later_entry_corrects_the_earlier():
    first, correction = record(result="positive", order=1), record(result="negative", order=2)
    assert ScreeningStatus.of([correction, first]).evidence("tb") == correction


# --- No date --------------------------------------------------------------------------------------------------------


def test_undated_risk_profile_status_counts_when_nothing_else_does():
    undated = profile(on=None, result="negative", status="negative")
    status = ScreeningStatus.of([undated])
    assert status.satisfied("tb")
    assert status.evidence("tb").label == "Risk profile: tb negative, date not recorded"


@pytest.mark.parametrize("dated", [lab(on=D1, result="positive"), record(on=D1, result="negative")])
def test_any_dated_record_beats_an_undated_status(dated):
    undated = profile(on=None, result="negative", status="negative")
    assert ScreeningStatus.of([undated, dated]).evidence("tb") == dated


# --- What the engines read ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("evidence", "tb_status"),
    [
        (lab(result="negative"), "negative"),
        (lab(result="positive"), "latent_untreated"),
        (record(result="abnormal"), "latent_untreated"),
        (record(result="indeterminate"), "never_tested"),
        (profile(result="positive", status="latent_treated"), "latent_treated"),
        (profile(result="positive", status="active"), "active"),
    ],
)
def test_tb_status_for_the_safety_check(evidence, tb_status):
    assert ScreeningStatus.of([evidence]).tb_status() == tb_status


def test_indeterminate_is_recorded_but_not_done():
    status = ScreeningStatus.of([lab(item="hcv", result="indeterminate")])
    assert not status.satisfied("hcv")
    assert "hcv" not in status.catalogue_done()
    assert status.serology("hcv") == "unknown"
    row = next(r for r in screening.checklist(status=status, pregnancy_relevant=False) if r.code == "hcv")
    assert (row.done, row.status_label) == (False, "Repeat (indeterminate)")


# --- The checklist --------------------------------------------------------------------------------------------------


def test_checklist_lists_what_is_missing():
    status = ScreeningStatus.of([lab(item="tb")])
    rows = screening.checklist(status=status, pregnancy_relevant=False)
    assert rows[0].done
    assert rows[0].evidence == status.evidence("tb")
    missing = screening.missing(rows)
    assert "TB test (IGRA or skin test)" not in missing
    assert "Pregnancy test" not in missing
    assert len(missing) == 8
    assert {r.status_label for r in rows} == {"Done", "Missing", "Not needed"}


def test_pregnancy_test_missing_when_relevant():
    rows = screening.checklist(status=ScreeningStatus(), pregnancy_relevant=True)
    assert "Pregnancy test" in screening.missing(rows)
