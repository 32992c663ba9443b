"""What audit diffs show of small groups: the minimum group size k applied to the change of a
finding between two runs, to the compared run's resolved findings and to ``audit --show``.

Hand-checked: the change of a count is a worse or better only when it moves by k or more and
by more than 10%; a measure of a finding whose users either run hides is not compared.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.audit.diff import compare, diff
from privdiag.cli import app
from tests.audit_data import NIGHT_1, NIGHT_2, setup


def finding(severity: str = "medium", **metrics) -> dict:
    return {"id": "f1", "kind": "consent.missing_record", "severity": severity, "metrics": metrics}


@pytest.mark.parametrize(
    ("before", "now", "k", "change"),
    [
        (20, 23, 5, "unchanged"),  # +3 persons: fewer than 5, though 15% more
        (20, 26, 5, "worse"),  # +6 persons, 30% more
        (26, 20, 5, "better"),  # -6 persons
        (23, 20, 5, "unchanged"),  # -3 persons
        (20, 23, 1, "worse"),  # k = 1: every change is told
        (20, 21, 1, "unchanged"),  # +5%: within the tolerance
    ],
)
def test_a_count_that_moves_by_fewer_than_k_is_unchanged(before, now, k, change):
    assert compare(finding(users=now), finding(users=before), k) == change


def test_events_moving_by_fewer_than_k_are_unchanged():
    # 12 -> 15 events: 25% more, but 3 events are at most 3 persons
    assert compare(finding(events=15, users=9), finding(events=12, users=9), 5) == "unchanged"
    assert compare(finding(events=17, users=9), finding(events=12, users=9), 5) == "worse"


def test_shares_of_hidden_counts_are_not_compared():
    """k = 5: 2 of 1,000 users without a consent decision, then 4 of 1,000 (both hidden;
    the share is shown, as consent.missing_record shows it). "worse" beside 0.004 would tell
    that the hidden count rose; unchanged says nothing. With 6 then 12 users, shown, worse."""
    hidden = {"suppressed": ["users", "users_total"], "min_group_size": 5}
    before = finding(users=None, share=0.002, users_total=None, **hidden)
    now = finding(users=None, share=0.004, users_total=None, **hidden)
    assert compare(now, before, 5) == "unchanged"
    assert compare(finding(users=12, share=0.012), finding(users=6, share=0.006), 5) == "worse"
    # a change of severity is still told: each run's report shows its own
    assert compare(finding("high", **now["metrics"]), before, 5) == "worse"


def test_a_run_recorded_with_a_smaller_k_is_shown_with_this_runs_k():
    """The compared run was recorded with k = 1: 3 users, 12 events, share 0.01. At k = 5
    its users are under 5: no change is measured against them, and its resolved findings
    carry no count of them (events and share describe those 3 users)."""
    old = finding(users=3, events=12, share=0.01)
    assert compare(finding(users=8, events=30, share=0.02), old, 5) == "unchanged"
    assert compare(finding(users=8, events=30, share=0.02), old, 1) == "worse"

    # resolved at k = 5, its 3 users hidden: not listed (they left it since), see below
    assert diff([], [old], 5).resolved == []
    resolved = diff([], [old], 3).resolved[0]
    assert resolved["metrics"] == {"users": 3, "events": 12, "share": 0.01}
    assert resolved["change"] == "resolved"
    assert old["metrics"] == {"users": 3, "events": 12, "share": 0.01}  # the input is kept


def _audit(config: Path, *args: str):
    out = config.parent / "out.json"
    run = CliRunner().invoke(app, ["audit", "--config", str(config), "--json", str(out), *args])
    return run, json.loads(out.read_text()) if out.exists() else {}


def _set_k(config: Path, k: int) -> None:
    text = re.sub(r"min_group_size = \d+", f"min_group_size = {k}", config.read_text("utf-8"))
    config.write_text(text, encoding="utf-8")


def test_audit_with_a_larger_k_hides_the_resolved_and_shown_counts_of_a_smaller_one(tmp_path):
    """Night 1 recorded with k = 1: u1's add_to_cart leak (1 event, 1 user) and page_view leak
    (2 events, 1 user). Night 2 with k = 2 resolves the add_to_cart leak: with its 1 user
    under k it is not listed as resolved (that would tell that its one person left it).
    ``--show`` of night 1 prints the page_view leak's 2 events at k = 1 and none at k = 2."""
    config = setup(tmp_path, NIGHT_1)
    _, first = _audit(config)
    setup(tmp_path, NIGHT_2)
    _set_k(config, 2)
    _, second = _audit(config)
    assert second["resolved"] == []
    assert second["audit"]["counts"]["resolved"] == 0

    run_id = first["audit"]["run_id"]
    for k, events in ((2, None), (1, "events=2")):
        _set_k(config, k)
        shown = CliRunner().invoke(app, ["audit", "--config", str(config), "--show", run_id])
        [line] = [li for li in shown.output.splitlines() if "step=page_view feature=gclid" in li]
        assert (events in line) if events else ("events=" not in line), line


def test_a_finding_whose_users_are_hidden_is_marked_hidden_not_new():
    """k = 5. A leak of 3 users absent from the compared run: ``new`` beside "<5 users" would
    tell that 3 or fewer persons came into it since; so would ``new`` for the new ones only,
    so every finding with hidden users is ``hidden`` (here also one of 2 users, then 4, that
    was there before). One of 30 users is new as before. A compared finding of 2 users that
    is gone is not resolved in the report; one of 20 is. ``--fail-when`` new and regressed
    count a hidden finding as new."""
    from privdiag.audit.diff import chosen

    def f(fid, users):
        return {
            "id": fid,
            "kind": "consent.violation",
            "severity": "high",
            "metrics": {"users": users, "events": users * 2},
        }

    current = [f("small_new", 3), f("small_old", 4), f("big_new", 30)]
    compared = [f("small_old", 2), f("small_gone", 2), f("big_gone", 20)]
    d = diff(current, compared, 5)
    assert d.changes == {"small_new": "hidden", "small_old": "hidden", "big_new": "new"}
    assert [r["id"] for r in d.resolved] == ["big_gone"]
    assert d.counts() == {
        "new": 1,
        "unchanged": 0,
        "worse": 0,
        "better": 0,
        "hidden": 2,
        "resolved": 1,
        "superseded": 0,
    }
    assert diff(current, compared, 1).changes["small_new"] == "new"  # k = 1 hides nothing
    marked = [dict(x, change=d.changes[x["id"]]) for x in current]
    for when in ("new", "regressed", "all"):
        assert len(chosen(marked, when)) == 3


def test_audit_report_says_hidden_not_new(tmp_path):
    """Night 1 at k = 2; night 2 brings the view_item leak of u1 alone (1 user): the JSON,
    the Markdown summary and ``--show`` mark it hidden, never new, and tell no first run."""
    config = setup(tmp_path, NIGHT_1)
    _set_k(config, 2)
    _audit(config)
    setup(tmp_path, NIGHT_2)
    _set_k(config, 2)
    run, second = _audit(config, "--markdown", str(tmp_path / "s.md"))
    [leak] = [x for x in second["findings"] if x["location"].get("step") == "view_item"]
    assert leak["change"] == "hidden"
    assert second["audit"]["counts"]["hidden"] >= 1
    md = (tmp_path / "s.md").read_text()
    assert "not compared (fewer users than the minimum group size)" in md
    run_id = second["audit"]["run_id"]
    shown = CliRunner().invoke(app, ["audit", "--config", str(config), "--show", run_id])
    [line] = [li for li in shown.output.splitlines() if "step=view_item" in li]
    assert "hidden" in line and "since=–" in line and run_id not in line, line


def test_a_consent_gap_widened_by_a_mended_violation_is_not_worse():
    """Night 1: gclid leaks on 40 of 100 ads-denied purchase events (violation of 40 events),
    so it is missing on the other 60 (gap: 60 events, low). Night 2 the tag is mended: 10
    leak (40 -> 10, better), 90 lack it (60 -> 90: +50%, and 0.6 -> 0.9 makes it medium,
    both "worse" before). The gap is unchanged and --fail-when regressed does not count it.
    The same at page_view (70 -> 110) with the violation resolved. At view_item no violation
    moved, so a gap that grows there is still worse; a gap of another purpose is not matched."""
    from privdiag.audit.diff import chosen

    def f(fid, kind, severity, events, step, purpose="ads"):
        where = {"source": "shop", "step": step, "feature": "gclid", "purpose": purpose}
        metrics = {"events": events, "users": events}
        return {
            "id": fid,
            "kind": kind,
            "severity": severity,
            "location": where,
            "metrics": metrics,
        }

    v, g = "consent.violation", "sparsity.consent_gap"
    compared = [
        f("v_buy", v, "high", 40, "purchase"),
        f("g_buy", g, "low", 60, "purchase"),
        f("v_view", v, "high", 30, "page_view"),
        f("g_view", g, "low", 70, "page_view"),
        f("g_item", g, "low", 60, "view_item"),
        f("g_other", g, "low", 60, "purchase", "analytics"),
    ]
    current = [
        f("v_buy", v, "high", 10, "purchase"),
        f("g_buy", g, "medium", 90, "purchase"),
        f("g_view", g, "low", 110, "page_view"),  # v_view resolved
        f("g_item", g, "low", 90, "view_item"),
        f("g_other", g, "low", 90, "purchase", "analytics"),
    ]
    d = diff(current, compared, 5)
    assert d.changes == {
        "v_buy": "better",
        "g_buy": "unchanged",
        "g_view": "unchanged",
        "g_item": "worse",
        "g_other": "worse",
    }
    assert [r["id"] for r in d.resolved] == ["v_view"]
    marked = [dict(x, change=d.changes[x["id"]]) for x in current]
    assert [x["id"] for x in chosen(marked, "regressed")] == ["g_item", "g_other"]
    # k = 31: page_view's violation of 30 users is hidden, so not resolved in the diff, and
    # its gap (+40 events) stays worse, as "unchanged" would tell its few persons' leak mended
    d = diff(current, compared, 31)
    assert d.changes["g_view"] == "worse" and not d.resolved


def test_a_consent_gap_that_first_shows_as_its_violation_is_mended_is_not_new():
    """Found by trial 18: gating a source's gclid on ads resolved its violations and added
    gaps ("gclid is missing on 100% of page_view events when ads is denied"), marked `new`,
    so --fail-when regressed (or new) failed the run on the fix. Such a gap is unchanged; a
    new gap of another step, whose violation did not move, is still new."""
    from privdiag.audit.diff import chosen

    def f(fid, kind, events, step):
        where = {"source": "rs", "step": step, "feature": "gclid", "purpose": "ads"}
        metrics = {"events": events, "users": events}
        return {"id": fid, "kind": kind, "severity": "high", "location": where, "metrics": metrics}

    v, g = "consent.violation", "sparsity.consent_gap"
    compared = [f("v_view", v, 40, "page_view"), f("v_item", v, 30, "view_item")]
    current = [f("g_view", g, 40, "page_view"), f("v_item", v, 30, "view_item")]
    current.append(f("g_buy", g, 20, "purchase"))
    d = diff(current, compared, 5)
    assert d.changes == {"g_view": "unchanged", "v_item": "unchanged", "g_buy": "new"}
    assert [r["id"] for r in d.resolved] == ["v_view"]
    marked = [dict(x, change=d.changes[x["id"]]) for x in current]
    assert [x["id"] for x in chosen(marked, "regressed")] == ["g_buy"]
    assert [x["id"] for x in chosen(marked, "new")] == ["g_buy"]
