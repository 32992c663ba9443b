"""Figures of two findings whose difference tells a small group (privacy review 20).

400 users, one page_view each (written by :func:`_scan`): 378 grant ads and send gclid and
fbclid, every second one of them (189) buys too; 22 deny ads, none buys, none sends fbclid,
and ``carriers`` of them send gclid. With 18 carriers the `consent.violation` shows users 18
and its cell's consent gap hides the 4 who deny ads and lack gclid. Before this rule the scan
showed, beside the violation's 18:

- the opt-in rates: 400 persons decided, 378 granted (22 denied), in every dimension;
- the `funnel.consent_drop` (page_view to purchase): users 22 and events 22 denying ads at
  page_view, and 22 in its table's denied row;
- the consent gap of fbclid at page_view: events_denied 22, users 22 and events 22 lacking
  fbclid while denied (every denied user), excess_missing_events 22, 22 in its table;

and 22 less 18 told the 4.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from privdiag.checks.across import hide_across
from privdiag.checks.disclosure import shown_groups
from privdiag.findings import Finding
from privdiag.report.facts import metric_items
from tests.helpers import scan_csv


def _scan(tmp_path: Path, carriers: int) -> dict:
    lines = ["event_id,ts,event_name,user_id,gclid,fbclid"]
    decisions = ["user_id,purpose,status,ts"]
    for u in range(400):
        denied = u < 22
        gclid = f"g{u}" if not denied or u < carriers else ""
        fbclid = "" if denied else f"f{u}"
        day = f"2026-10-0{1 + u % 5}"
        lines.append(f"e{u},{day}T10:00:00Z,page_view,u{u},{gclid},{fbclid}")
        if not denied and u % 2:
            lines.append(f"p{u},{day}T11:00:00Z,purchase,u{u},{gclid},{fbclid}")
        decisions.append(f"u{u},ads,{'denied' if denied else 'granted'},2026-09-01T00:00:00Z")
    toml = '[journey]\nsteps = ["page_view", "purchase"]\n\n[features.gclid]\npurposes = ["ads"]\n'
    return scan_csv(tmp_path, lines, decisions, toml + '\n[features.fbclid]\npurposes = ["ads"]\n')


def _find(doc: dict, kind: str, feature: str | None = None) -> dict:
    (found,) = [
        f
        for f in doc["findings"]
        if f["kind"] == kind and (feature is None or f["location"].get("feature") == feature)
    ]
    return found


def test_the_opt_in_rates_hide_the_persons_who_denied_beside_a_violation(tmp_path):
    doc = _scan(tmp_path, carriers=18)
    violation = _find(doc, "consent.violation")
    assert (violation["metrics"]["users"], violation["metrics"]["events"]) == (18, 18)
    for dim, rows in doc["evidence"]["optin_rates"].items():
        (row,) = rows
        assert (row["decisions"], row["granted"], row["optin"]) == (400, None, None), dim
        assert row["suppressed_by_difference"] == ["granted", "optin"]
        assert row["difference_with"] == [violation["id"]]


def test_a_funnel_drop_hides_its_denied_users_beside_a_violation(tmp_path):
    doc = _scan(tmp_path, carriers=18)
    funnel = _find(doc, "funnel.consent_drop")
    m = funnel["metrics"]
    assert (m["users"], m["events"]) == (None, None)
    assert m["suppressed_by_difference"] == ["users", "events"]
    assert m["difference_with"] == [_find(doc, "consent.violation")["id"]]
    assert (m["conversion_denied"], m["conversion_granted"]) == (0.0, 0.5)  # its drop stays
    rows = {r[0]: r for r in funnel["evidence"]["table"]["rows"]}
    assert rows["denied"] == ["denied", None, None, 0, 0.0, 0.0]
    assert rows["granted"] == ["granted", 378, 189, 0, 0.5, 0.5]
    items = dict(metric_items(m, 5, "funnel.consent_drop"))  # large: "hidden", not "<5"
    assert items["Users"] == items["Events"] == "hidden"


def test_the_gap_of_another_feature_hides_its_denied_counts_beside_a_violation(tmp_path):
    doc = _scan(tmp_path, carriers=18)
    gap = _find(doc, "sparsity.consent_gap", "fbclid")
    m = gap["metrics"]
    hidden = ["events_denied", "users", "events", "excess_missing_events"]
    assert [m[k] for k in hidden] == [None] * 4
    assert m["suppressed_by_difference"] == hidden
    assert (m["missing_share_denied"], m["gap"], m["events_granted"]) == (1.0, 1.0, 378)
    denied = [r for r in gap["evidence"]["table"]["rows"] if r[0] == "denied"]
    assert denied == [["denied", None, None, 1.0]]


def test_nothing_is_hidden_across_where_the_difference_is_large(tmp_path):
    """10 carriers: 22 less 10 is 12 users, not a small group."""
    doc = _scan(tmp_path, carriers=10)
    assert _find(doc, "consent.violation")["metrics"]["users"] == 10
    assert _find(doc, "funnel.consent_drop")["metrics"]["users"] == 22
    assert _find(doc, "sparsity.consent_gap", "fbclid")["metrics"]["users"] == 22
    rows = doc["evidence"]["optin_rates"]["source"]
    assert [(r["decisions"], r["granted"]) for r in rows] == [(400, 378)]
    assert "difference_with" not in json.dumps(doc)


def _findings() -> list[Finding]:
    """A violation of 18 users at page_view, an opt-in drop of ads from 80% of 100 persons
    (20 denied) to 78% of 100 (22 denied), and a violation at purchase of 30 users whose
    denied events (31) the page_view violation's do not tell."""
    where = {"source": "web", "step": "page_view", "feature": "gclid", "purpose": "ads"}
    drop = {"users": 100, "optin_before": 0.8, "optin_after": 0.78}
    drop |= {"persons_before": 100, "persons_after": 100, "share": 0.78}
    table = {"columns": [], "rows": [["region", "FR", 100, 0.8, 100, 0.78]]}
    return [
        Finding("consent.violation", "high", "v", where, {"users": 18, "events": 18}),
        Finding(
            "consent.violation",
            "high",
            "w",
            where | {"step": "purchase"},
            {"users": 30, "events": 30, "denied_events": 31, "share": 0.967742},
        ),
        Finding(
            "people.optin_drop",
            "high",
            "d",
            {"purpose": "ads", "scenario": "notice v2"},
            drop,
            evidence={"table": table},
        ),
    ]


def test_an_opt_in_drop_hides_its_persons_and_the_rule_is_order_free():
    """The drop's persons who denied (20 before, 22 after) less the violation's 18 tell 2
    and 4: its persons are hidden, its rates (what it reports) stay; the purchase
    violation's denied events (31) less its own 30 are the cell rule's, not this one's."""
    runs = []
    for seed in range(3):
        findings = _findings()
        random.Random(seed).shuffle(findings)
        hide_across(findings, {}, 5)
        runs.append(sorted(json.dumps(f.to_dict(), sort_keys=True) for f in findings))
    assert runs[0] == runs[1] == runs[2]
    findings = _findings()
    hide_across(findings, {}, 5)
    v, w, d = findings
    assert d.metrics["persons_before"] is d.metrics["persons_after"] is d.metrics["users"] is None
    assert (d.metrics["optin_before"], d.metrics["optin_after"]) == (0.8, 0.78)
    assert d.metrics["difference_with"] == [v.id]
    assert d.evidence["table"]["rows"] == [["region", "FR", None, 0.8, None, 0.78]]
    assert (v.metrics, w.metrics["denied_events"]) == ({"users": 18, "events": 18}, 31)


def test_shown_groups_hide_a_group_or_a_total_that_tells():
    """Two regions of 200 persons, 11 denying in each: the total's 22 less 18 tells 4, so
    one region (the first of the smallest) is hidden; its 11 less 18 tells nothing."""
    tells = lambda n, x: 0 < (n - x) - 18 < 5  # noqa: E731
    groups = [(200, 189), (200, 189)]
    assert shown_groups(groups, [True, True], 5) == [True, True]
    assert shown_groups(groups, [True, True], 5, tells) == [False, True]
    # a region of 21 denying (21 less 18 tells 3) is hidden, and the other (10 denying) with
    # it: the total less the other would tell the 21
    assert shown_groups([(300, 279), (100, 90)], [True, True], 5, tells) == [False, False]


def test_a_hidden_violation_is_subtracted_from_by_nothing(tmp_path):
    """4 carriers: the violation hides its users (<5) and the gap of its cell every count
    of the 18 lacking gclid, so the figures of the 22 who denied (funnel, fbclid's gap,
    opt-in) tell nothing less a shown count, and stay."""
    doc = _scan(tmp_path, carriers=4)
    assert _find(doc, "consent.violation")["metrics"]["users"] is None
    gap = _find(doc, "sparsity.consent_gap", "gclid")["metrics"]
    assert gap["users"] is gap["events"] is None
    assert _find(doc, "funnel.consent_drop")["metrics"]["users"] == 22
    assert _find(doc, "sparsity.consent_gap", "fbclid")["metrics"]["events_denied"] == 22
    assert "difference_with" not in json.dumps(doc)


def test_the_counts_a_figure_exceeds_by_1_to_k_less_1_are_found_in_order():
    """Bisection over the sorted counts (the wide export's 3,000 violations of one step made
    the pairwise comparison 251 s of a 255-second scan): 10 exceeds 6 to 9 at k = 5."""
    from privdiag.checks.across import Counts

    counts = Counts([(8, "b", "x"), (5, "a", "x"), (9, "c", "y"), (10, "d", "y"), (6, "e", "z")])
    assert counts.below(10, 5) == [(6, "e", "z"), (8, "b", "x"), (9, "c", "y")]
    assert counts.below(10, 1) == [] and counts.below(5, 5) == []
