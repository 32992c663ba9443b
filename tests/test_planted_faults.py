"""Every planted fault of the generator is found at its location; controls stay clean.

A fault's location may leave out keys (e.g. a violation planted at every step has no step):
a finding matches when its location holds every key of the fault's. Faults of checks that
did not run in this build are not asserted here (their own tests cover them).
"""

from __future__ import annotations

import json

import pytest

from privdiag.config import load_config
from privdiag.generate import generate_scenario
from privdiag.scan import run_scan

# A funnel drop needs more users to reach significance after the correction across steps x
# purposes than the other kinds: it is asserted on a larger shop below.
NEEDS_LARGE_SHOP = ("funnel.consent_drop",)
COMPLIANCE = (
    "consent.violation",
    "consent.after_withdrawal",
    "consent.pre_consent",
    "consent.conflict",
    "consent.missing_record",
)


def _scan(folder, min_group_size=None, **kwargs):
    info = generate_scenario(folder, **kwargs)
    config = load_config(folder / "privdiag.toml")
    if min_group_size is not None:
        config.thresholds.min_group_size = min_group_size
    data = [str(info.paths["web"]), str(info.paths["app"])]
    return info.truth, run_scan(data, config=config).to_dict()


def _matches(finding, fault):
    return finding["kind"] == fault["kind"] and all(
        finding["location"].get(k) == v for k, v in fault["location"].items()
    )


@pytest.mark.parametrize("seed,users", [(7, 600), (11, 300), (3, 900)])
def test_planted_faults_found_and_controls_clean(tmp_path, seed, users):
    truth, doc = _scan(tmp_path, seed=seed, users=users)
    ran = {c["name"] for c in doc["checks"] if c["status"] == "ran"}
    for fault in truth["faults"]:
        if fault["kind"] not in ran or fault["kind"] in NEEDS_LARGE_SHOP:
            continue
        assert any(_matches(f, fault) for f in doc["findings"]), json.dumps(fault)

    for control in truth["controls"]:
        hits = [
            f
            for f in doc["findings"]
            if f["kind"] in COMPLIANCE
            and f["location"].get("feature") == control["feature"]
            and f["location"].get("source") == control["source"]
        ]
        assert not hits, (control, hits)


def test_compliance_counts_equal_ground_truth(tmp_path):
    # no suppression: a step of fewer than min_group_size users hides its events too
    truth, doc = _scan(tmp_path, min_group_size=1, seed=7, users=600)
    for fault in truth["faults"]:
        if fault["kind"] not in COMPLIANCE or "events" not in fault.get("metrics", {}):
            continue
        # after a withdrawal, events inside the grace window are counted apart (clock skew)
        found = sum(
            f["metrics"]["events"] + f["metrics"].get("events_within_grace", 0)
            if f["kind"] == "consent.after_withdrawal"
            else f["metrics"]["events"]
            for f in doc["findings"]
            if _matches(f, fault)
        )
        assert found == fault["metrics"]["events"], fault


@pytest.mark.parametrize("seed", [7, 11, 3, 5])
def test_funnel_drop_found_on_a_larger_shop(tmp_path, seed):
    # most denied events there are cookieless: found because users with an identity show it
    truth, doc = _scan(tmp_path, seed=seed, users=3000)
    planted = [f for f in truth["faults"] if f["kind"] in NEEDS_LARGE_SHOP]
    assert planted
    for fault in planted:
        assert any(_matches(f, fault) for f in doc["findings"]), json.dumps(fault)


def test_the_ads_conflict_explains_only_the_ads_gaps_of_features_that_need_ads(tmp_path):
    """On the demo's shop, users who deny ads mostly deny analytics too: engagement_time_msec
    (unmapped) and item_category (necessary only), dropped without analytics, are missing
    far more often with ads denied as well. Where analytics is granted, ads makes no
    difference to them, so those ads gaps are left out with a note (trial 13: item_category's
    at view_item; engagement_time_msec's where enough users deny ads alone). The planted ads
    conflict is named by no gap: gclid's ads gap (gclid needs ads) is missing on every page
    view with ads denied, consent honoured, which the conflict does not cause (trial29)."""
    _, doc = _scan(tmp_path, seed=7, users=600)
    (conflict,) = [f["id"] for f in doc["findings"] if f["kind"] == "consent.conflict"]
    gaps = [f for f in doc["findings"] if f["kind"] == "sparsity.consent_gap"]
    ads_gaps = {
        (f["location"]["feature"], f["location"]["step"])
        for f in gaps
        if f["location"]["purpose"] == "ads"
    }
    assert ("gclid", "page_view") in ads_gaps
    assert ("item_category", "view_item") not in ads_gaps
    assert ("engagement_time_msec", "page_view") not in ads_gaps
    notes = doc["evidence"]["notes"]
    assert any("item_category with ads denied (at view_item)" in n for n in notes)
    naming = {
        (f["location"]["feature"], f["location"]["step"])
        for f in gaps
        if conflict in f["caused_by"]
    }
    assert naming == set()
