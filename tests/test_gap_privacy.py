"""A consent gap beside a hidden violation keeps the violation's few users hidden.

52 users, one page_view each: 30 grant ads and send gclid; 22 deny it, of whom ``carriers``
still send gclid. With 4 carriers the `consent.violation` hides its users (<5), yet the
gap showed `users` 18 (users lacking gclid while denied) beside `events_denied` 22: 22 less
18 told the 4 (found by trial 18)."""

from __future__ import annotations

from pathlib import Path

from privdiag.report.facts import metric_items
from privdiag.report.text import key_figure
from tests.helpers import scan_csv


def _scan(tmp_path: Path, carriers: int, users: int = 52) -> dict[str, dict]:
    """``users`` users, one page_view each: all but 22 grant ads and send gclid; 22 deny it,
    of whom ``carriers`` still send gclid; the last 12 (granted) purchase too."""
    lines, decisions = ["event_id,ts,event_name,user_id,gclid"], ["user_id,purpose,status,ts"]
    for u in range(users):
        denied = u < 22
        gclid = f"g{u}" if not denied or u < carriers else ""
        lines.append(f"e{u},2026-10-0{1 + u % 5}T10:00:00Z,page_view,u{u},{gclid}")
        if u >= users - 12:  # a second step, so that the journey checks run
            lines.append(f"p{u},2026-10-0{1 + u % 5}T11:00:00Z,purchase,u{u},g{u}")
        status = "denied" if denied else "granted"
        decisions.append(f"u{u},ads,{status},2026-09-01T00:00:00Z")
    toml = '[journey]\nsteps = ["page_view", "purchase"]\n\n[features.gclid]\npurposes = ["ads"]\n'
    found = scan_csv(tmp_path, lines, decisions, toml)["findings"]
    return {f["kind"]: f for f in found if f["kind"].startswith(("sparsity", "consent"))}


def test_the_gap_beside_a_hidden_violation_hides_its_users_as_large(tmp_path):
    found = _scan(tmp_path, carriers=4)
    assert found["consent.violation"]["metrics"]["users"] is None  # 4 users: hidden
    gap = found["sparsity.consent_gap"]["metrics"]
    assert gap["events_denied"] == 22 and gap["missing_share_granted"] == 0.0
    assert gap["users"] is None
    assert "users" in gap["suppressed"] and gap["suppressed_by_difference"] == ["users"]
    # 18 users are not "<5": the reports say hidden, and why
    assert ("Users", "hidden") in metric_items(gap, 5, "sparsity.consent_gap")
    figure = key_figure(gap, 5, "sparsity.consent_gap")
    assert figure == "users hidden (they would tell a group of <5 by difference)"


def test_the_gap_beside_a_shown_violation_shows_its_users(tmp_path):
    """10 carriers: the violation shows 10 users, and the gap its 12 users lacking gclid."""
    found = _scan(tmp_path, carriers=10)
    violation = found["consent.violation"]["metrics"]
    assert (violation["users"], violation["denied_events"], violation["share"]) == (
        10,
        22,
        0.454545,
    )
    gap = found["sparsity.consent_gap"]["metrics"]
    assert (gap["users"], gap["events_denied"]) == (12, 22)
    assert "suppressed_by_difference" not in gap


def test_a_violation_hides_the_denied_events_that_tell_the_few_lacking_it(tmp_path):
    """Review 19: 18 of the 22 denied users send gclid: the 4 lacking it are a group of
    fewer than 5 (the consent gap of the cell hides them). The violation showed events 18 beside
    denied_events 22 and share 0.818182 (18 / 22): 22 less 18 told the 4."""
    m = _scan(tmp_path, carriers=18)["consent.violation"]["metrics"]
    assert (m["events"], m["users"]) == (18, 18)
    assert m["denied_events"] is None and m["share"] is None
    assert {"denied_events", "share"} <= set(m["suppressed_by_difference"])
    items = dict(metric_items(m, 5, "consent.violation"))  # large: "hidden", not "<5"
    assert items["Share"] == items["Events with the purpose denied and never granted"] == "hidden"


def test_a_consent_gap_hides_its_denied_events_beside_the_few_lacking_it(tmp_path):
    """400 users: 378 grant ads and send gclid; of the 22 who deny it 18 send gclid, so
    the gap (4 of 22 denied events lack it, none of the granted) hides the 4. It still
    showed events_denied 22, in its metrics and its table, beside the violation's events
    18; and it read its users lacking gclid (4) as "hidden (by difference)", not "<5"."""
    found = _scan(tmp_path, carriers=18, users=400)
    assert found["consent.violation"]["metrics"]["events"] == 18
    gap = found["sparsity.consent_gap"]
    m = gap["metrics"]
    assert m["events_granted"] == 378 and m["events_denied"] is None
    assert m["suppressed_by_difference"] == ["events_denied"]
    assert m["users"] is None and "users" in m["suppressed"]
    assert key_figure(m, 5, "sparsity.consent_gap") == "<5 users"
    denied = [r for r in gap["evidence"]["table"]["rows"] if r[0] == "denied"]
    assert denied == [["denied", None, None, None]]
