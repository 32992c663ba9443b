"""A consent gap beside a hidden violation keeps the violation's few users hidden.

52 users, one page_view each: 30 grant ads and send gclid; 22 deny it, of whom ``carriers``
still send gclid. With 4 carriers the `consent.violation` hides its users (<5), yet the
gap showed `users` 18 (users lacking gclid while denied) beside `events_denied` 22: 22 less
18 told the 4 (found by trial 18)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.report.facts import metric_items
from privdiag.report.text import key_figure


def _scan(tmp_path: Path, carriers: int) -> dict[str, dict]:
    lines, decisions = ["event_id,ts,event_name,user_id,gclid"], ["user_id,purpose,status,ts"]
    for u in range(52):
        denied = u < 22
        gclid = f"g{u}" if not denied or u < carriers else ""
        lines.append(f"e{u},2026-10-0{1 + u % 5}T10:00:00Z,page_view,u{u},{gclid}")
        if u >= 40:  # a second step, so that the journey checks run
            lines.append(f"p{u},2026-10-0{1 + u % 5}T11:00:00Z,purchase,u{u},g{u}")
        status = "denied" if denied else "granted"
        decisions.append(f"u{u},ads,{status},2026-09-01T00:00:00Z")
    (tmp_path / "ev.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "c.csv").write_text("\n".join(decisions) + "\n")
    (tmp_path / "privdiag.toml").write_text(
        '[journey]\nsteps = ["page_view", "purchase"]\n\n[features.gclid]\npurposes = ["ads"]\n'
    )
    out = tmp_path / "scan.json"
    args = ["scan", str(tmp_path / "ev.csv"), "--consent", str(tmp_path / "c.csv")]
    args += ["--config", str(tmp_path / "privdiag.toml"), "--json", str(out), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    found = json.loads(out.read_text())["findings"]
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
    assert found["consent.violation"]["metrics"]["users"] == 10
    gap = found["sparsity.consent_gap"]["metrics"]
    assert (gap["users"], gap["events_denied"]) == (12, 22)
    assert "suppressed_by_difference" not in gap
