from drugs.snapshot import diff_snapshots


def snap(drug=None, thresholds=None):
    return {"drug": drug or {"generic_name": "x"}, "sections": {"thresholds": thresholds or {}}}


ROW = {"jurisdiction": "US", "lab_test": "platelets", "phase": "on_treatment", "value": "50", "action": "discontinue"}


def test_no_change():
    assert diff_snapshots(snap(thresholds={"1": ROW}), snap(thresholds={"1": ROW})) == []


def test_changed_value_names_field_old_and_new():
    (change,) = diff_snapshots(snap(thresholds={"1": ROW}), snap(thresholds={"1": {**ROW, "value": "40"}}))
    assert (change["section"], change["change"], change["field"], change["old"], change["new"]) == (
        "thresholds",
        "changed",
        "value",
        "50",
        "40",
    )
    assert "platelets" in change["row"]


def test_added_and_removed_rows():
    changes = diff_snapshots(snap(thresholds={"1": ROW}), snap(thresholds={"2": ROW}))
    assert sorted(c["change"] for c in changes) == ["added", "removed"]


def test_drug_field_change():
    (change,) = diff_snapshots(snap(drug={"generic_name": "a"}), snap(drug={"generic_name": "b"}))
    assert change["section"] == "drug"
    assert change["field"] == "generic_name"
