"""Privacy review 24: figures beside the opt-in rates that told a small group's choice."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.scan import run_scan
from tests.helpers import config, write


def _six_users(path, denying: int) -> list[str]:
    """Six users, each sending a page_view on three days with their analytics flag: the
    last ``denying`` of them deny, the others grant."""
    rows = ["event_id,ts,event_name,user_id,country,consent_analytics"]
    for u in range(1, 7):
        state = "denied" if u > 6 - denying else "granted"
        rows += [
            f"e{u}{d},2026-10-0{d}T0{u}:00:00Z,page_view,user{u},DE,{state}" for d in (1, 2, 3)
        ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return [str(path)]


def test_a_consent_rate_telling_one_user_of_six_is_withheld(tmp_path):
    # Was: evidence.consent_rates {"analytics": 0.833333} (5 of 6 users granted: the one
    # who denied told), beside opt-in rates that hide the same split (1 denied, under 5).
    doc = run_scan(_six_users(tmp_path / "e.csv", 1), config=config(min_group_size=5)).to_dict()
    evidence = doc["evidence"]
    assert [r["optin"] for r in evidence["optin_rates"]["region"]] == [None]
    assert evidence["consent_rates"] == {} and evidence["consent_rates_users_at_least"] == {}
    assert any(n.startswith("consent rate of analytics not given") for n in evidence["notes"])


def test_a_consent_rate_of_two_large_sides_is_shown(tmp_path):
    # 3 of 6 deny: at min_group_size 3 each side holds 3 users, the rate 0.5 is shown
    doc = run_scan(_six_users(tmp_path / "e.csv", 3), config=config(min_group_size=3)).to_dict()
    assert doc["evidence"]["consent_rates"] == {"analytics": 0.5}


def test_a_report_at_a_larger_group_size_drops_a_rate_of_a_small_side(tmp_path):
    # Was: scanned at min_group_size 1 the rate 0.833333 had the floor 5 (six users decided),
    # so `privdiag report` at 5 kept it, telling the one denial. Its floor is now its
    # smaller side's (1 user).
    runner = CliRunner()
    data = _six_users(tmp_path / "e.csv", 1)
    small = write(tmp_path / "k1.toml", "[thresholds]\nmin_group_size = 1\n")
    scan = tmp_path / "scan.json"
    args = ["scan", *data, "--config", small, "--json", str(scan), "--fail-on", "critical"]
    assert runner.invoke(app, args).exit_code == 0
    evidence = json.loads(scan.read_text())["evidence"]
    assert evidence["consent_rates"] == {"analytics": 0.833333}
    assert evidence["consent_rates_users_at_least"] == {"analytics": 1}
    conf = write(tmp_path / "k5.toml", "[thresholds]\nmin_group_size = 5\n")
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["report", str(scan), "--config", conf, "--json", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(out.read_text())["evidence"]["consent_rates"] == {}
