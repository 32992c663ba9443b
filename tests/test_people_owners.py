"""Owners (CODEOWNERS-like patterns), people.unowned, people.unclassified_feature, by_owner."""

from __future__ import annotations

from pathlib import Path

from privdiag.config import parse_config
from privdiag.findings import Finding, summarize
from privdiag.mapping import fill_owners, owner_for, owner_of
from privdiag.scan import run_scan
from tests.helpers import by_kind, write

CONFIG = {
    "owners": {
        "*": "data-platform",
        "source:app*": "mobile",
        "source:app-legacy": "legacy-team",
        "feature:gclid*": "paid-media",
        "feature:gclid_old": "archive",
        "step:purchase": "checkout",
        "model:prop*": "data-science",
    },
    "sources": {"web": {"owner": "web-team"}},
    "features": {
        "gclid": {"purposes": ["ads"]},
        "fbclid": {"purposes": ["ads"], "owner": "social"},
        "utm_*": {"owner": "marketing-ops"},
    },
    "models": {"churn": {"path": "churn.onnx"}, "propensity": {"path": "p.onnx"}},
    "thresholds": {"min_group_size": 1},
}


def cfg(raw=None):
    return parse_config(raw if raw is not None else CONFIG, Path("privdiag.toml"))


def test_own_table_beats_patterns():
    assert owner_of(cfg(), "source", "web") == "web-team"  # the bare "*" comes after nothing
    assert owner_of(cfg(), "feature", "fbclid") == "social"


def test_last_matching_pattern_wins():
    assert owner_of(cfg(), "source", "app") == "mobile"
    assert owner_of(cfg(), "source", "app-legacy") == "legacy-team"
    assert owner_of(cfg(), "feature", "gclid") == "paid-media"
    assert owner_of(cfg(), "feature", "gclid_old") == "archive"
    assert owner_of(cfg(), "step", "purchase") == "checkout"
    assert owner_of(cfg(), "model", "propensity") == "data-science"


def test_glob_feature_table_owns_matching_features():
    assert owner_of(cfg(), "feature", "utm_source") == "marketing-ops"


def test_bare_pattern_is_the_fallback():
    assert owner_of(cfg(), "source", "crm") == "data-platform"
    # a kind-specific owner of another part of the location beats the bare catch-all
    assert owner_for(cfg(), source="crm", feature="gclid") == "paid-media"
    assert owner_for(cfg(), source="crm", step="purchase") == "checkout"
    assert owner_for(cfg(), source="crm", feature="coupon") == "data-platform"


def test_preference_order():
    assert owner_for(cfg(), source="web", feature="gclid") == "web-team"
    assert owner_for(cfg(), source="web", feature="gclid", prefer="feature") == "paid-media"
    assert owner_for(cfg(), model="churn", feature="fbclid", prefer="model") == "social"


def test_no_owner_anywhere():
    bare = cfg({"owners": {"source:app": "mobile"}})
    assert owner_for(bare, source="web", feature="gclid") is None
    assert owner_for(bare) is None
    # a missing part never matches a pattern, even a catch-all for its kind
    assert owner_for(cfg({"owners": {"source:*": "x"}}), feature="gclid", prefer="feature") is None


def test_fill_owners_and_summary_by_owner():
    findings = [
        Finding("consent.violation", "high", "t", {"source": "app", "feature": "gclid"}),
        Finding("model.degradation", "high", "t", {"model": "propensity"}),
        Finding("people.unowned", "low", "t", {"source": "web"}, owner="set-before"),
    ]
    fill_owners(findings, cfg())
    assert [f.owner for f in findings] == ["mobile", "data-science", "set-before"]
    fill_owners(findings[:1], cfg({}))  # already set: kept
    orphan = Finding("consent.conflict", "medium", "t", {"source": "x"})
    fill_owners([orphan], cfg({}))
    assert orphan.owner is None
    summary = summarize(findings + [orphan])
    assert summary["by_owner"] == {
        "data-science": 1,
        "mobile": 1,
        "set-before": 1,
        "unowned": 1,
    }


EVENTS = """
event_id,ts,event_name,user_id,session_id,gclid,search_term,coupon
e1,2026-10-01T10:00:00Z,page_view,u1,s1,G1,shoes,
e2,2026-10-01T10:05:00Z,purchase,u1,s1,,,C10
"""


def test_scan_unowned_and_unclassified(tmp_path):
    raw = {
        "features": {"gclid": {"purposes": ["ads"]}, "coupon": {"purposes": []}},
        "models": {"churn": {"path": "churn.onnx"}},
        "thresholds": {"min_group_size": 1},
    }
    events = write(tmp_path / "shop", EVENTS)
    doc = run_scan([events], config=cfg(raw)).to_dict()
    unowned = {tuple(sorted(f["location"].items())) for f in by_kind(doc, "people.unowned")}
    assert unowned == {
        (("source", "shop"),),
        (("feature", "coupon"),),
        (("feature", "gclid"),),
        (("model", "churn"),),
    }
    [unclassified] = by_kind(doc, "people.unclassified_feature")
    assert unclassified["location"] == {"source": "shop", "feature": "search_term"}
    assert unclassified["metrics"] == {"events": 1}
    assert doc["summary"]["by_owner"] == {"unowned": len(doc["findings"])}


def test_scan_owners_through_patterns(tmp_path):
    raw = {
        "owners": {"*": "data-platform", "feature:search_*": "search"},
        "features": {"gclid": {"purposes": ["ads"]}, "coupon": {"purposes": []}},
        "thresholds": {"min_group_size": 1},
    }
    events = write(tmp_path / "shop", EVENTS)
    doc = run_scan([events], config=cfg(raw)).to_dict()
    assert by_kind(doc, "people.unowned") == []
    [unclassified] = by_kind(doc, "people.unclassified_feature")
    assert unclassified["owner"] == "search"
    assert all(f["owner"] for f in doc["findings"])


def test_a_model_finding_falls_back_to_the_owner_its_masked_features_share():
    """The model's own owner first, then the owner the scenario's masked features share
    (their tables and feature: patterns), then bare patterns, as scan findings try them."""
    from privdiag.mapping import model_owner

    assert model_owner(cfg(), "propensity", ["fbclid"]) == "data-science"  # model:prop*
    assert model_owner(cfg(), "churn", ["fbclid"]) == "social"
    assert model_owner(cfg(), "churn", ["gclid", "gclid_x"]) == "paid-media"  # one pattern
    assert model_owner(cfg(), "churn", ["fbclid", "utm_source"]) == "data-platform"  # bare *
    assert model_owner(cfg({"features": {"a": {"owner": "t"}}}), "m", ["a", "b"]) is None


def _owner_notes(tmp_path, owners: dict[str, str], name: str = "app_1") -> list[str]:
    raw = {"owners": owners, "features": {"gclid": {"purposes": ["ads"]}}}
    events = write(tmp_path / name, EVENTS)
    doc = run_scan([events], config=cfg({**raw, "thresholds": {"min_group_size": 1}})).to_dict()
    return [n for n in doc["evidence"].get("notes", []) if n.startswith("[owners]")]


def test_an_owners_pattern_naming_a_near_miss_of_a_name_seen_is_noted(tmp_path):
    """Hostile round 27's (4): `"source:ap_1"` beside a source `app_1`, `"step:page_veiw"`
    beside the event page_view, `"feature:glcid"` beside gclid and `"purpose:ad"` beside
    ads matched nothing, their teams owned nothing, and the scan said nothing. Each now
    gets a note naming the pattern and the close name the scan saw."""
    owners = {
        "source:ap_1": "mobile",
        "step:page_veiw": "web",
        "feature:glcid": "paid",
        "purpose:ad": "ads-team",
    }
    notes = _owner_notes(tmp_path, owners)
    assert notes == [
        '[owners] "source:ap_1" = "mobile" matches no source of the inputs (names are '
        "compared as written, case too), so mobile owns nothing by it; did you mean app_1?",
        '[owners] "step:page_veiw" = "web" matches no step of the inputs (names are '
        "compared as written, case too), so web owns nothing by it; did you mean page_view?",
        '[owners] "feature:glcid" = "paid" matches no feature of the inputs (names are '
        "compared as written, case too), so paid owns nothing by it; did you mean gclid?",
        '[owners] "purpose:ad" = "ads-team" matches no purpose of the inputs (names are '
        "compared as written, case too), so ads-team owns nothing by it; did you mean ads?",
    ]


def test_owners_patterns_that_rightly_match_nothing_get_no_note(tmp_path):
    """A name seen, a glob, a name with nothing close to it (a source not in this run), a
    sibling numbered otherwise (`app_2` beside `app_1`), a model (model-check's) and a bare
    pattern are not noted, matching findings or not."""
    owners = {
        "source:app_1": "mobile",
        "source:app_2": "mobile-2",
        "source:kiosk": "stores",
        "feature:gcl*": "paid",
        "step:checkout_started": "checkout",
        "model:churm": "ds",
        "pag_view": "web",
    }
    assert _owner_notes(tmp_path, owners) == []
