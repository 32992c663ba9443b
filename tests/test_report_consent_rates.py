"""`privdiag report` at a larger min_group_size than a scan was made with keeps only the
consent rates the scan shows were decided by that many users (the twentieth hostile
session's (2): the rates of purposes fewer users decided were kept)."""

from __future__ import annotations

import json

import pytest
from helpers import few_deny_personalization, write
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.consent_rates import users_at_least
from privdiag.report.group_size import hide_consent_rates


@pytest.mark.parametrize(
    ("users", "k", "floor"),
    [(7, 5, 5), (40, 1, 20), (999, 5, 500), (1000, 5, 1000), (3, 1, 2), (12, 10, 10)],
)
def test_the_floor_of_the_users_is_coarse_and_at_least_k(users, k, floor):
    assert users_at_least(users, k) == floor


def _scan(tmp_path, runner):
    """40 users decide analytics, half granting; 3 of them decide personalization, all
    denying. Scanned with min_group_size 1: both rates shown (0.5 and 0.0)."""
    events, log = few_deny_personalization()
    small = write(tmp_path / "small.toml", "[thresholds]\nmin_group_size = 1\n")
    scan = tmp_path / "scan.json"
    args = ["scan", write(tmp_path / "web.csv", events), "--consent"]
    args += [write(tmp_path / "cmp.csv", log), "--config", small, "--json", str(scan)]
    result = runner.invoke(app, [*args, "--fail-on", "critical"])
    assert result.exit_code == 0, result.output
    return scan


def test_a_report_at_a_larger_group_size_drops_the_rates_of_few_deciders(tmp_path):
    runner = CliRunner()
    scan = _scan(tmp_path, runner)
    evidence = json.loads(scan.read_text())["evidence"]
    assert evidence["consent_rates"] == {"analytics": 0.5, "personalization": 0.0}
    assert evidence["consent_rates_users_at_least"] == {"analytics": 20, "personalization": 2}

    for k, rates in ((1, {"analytics": 0.5, "personalization": 0.0}), (5, {"analytics": 0.5})):
        conf = write(tmp_path / f"k{k}.toml", f"[thresholds]\nmin_group_size = {k}\n")
        out = tmp_path / f"report{k}.json"
        result = runner.invoke(app, ["report", str(scan), "--config", conf, "--json", str(out)])
        assert result.exit_code in (0, 1), result.output
        doc = json.loads(out.read_text())
        assert doc["evidence"]["consent_rates"] == rates
        # a dropped rate's floor goes too: 2 told two to four users (hostile round 25)
        floors = doc["evidence"]["consent_rates_users_at_least"]
        expected = {"analytics": 20} | ({"personalization": 2} if k == 1 else {})
        assert floors == expected
        said = [
            n for n in doc["evidence"].get("notes", []) if "consent rate of personalization" in n
        ]
        assert len(said) == (k == 5)
    # at 30 the scan cannot show that 30 decided analytics (it keeps 20 or more): dropped too
    conf = write(tmp_path / "k30.toml", "[thresholds]\nmin_group_size = 30\n")
    out = tmp_path / "report30.json"
    result = runner.invoke(app, ["report", str(scan), "--config", conf, "--json", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(out.read_text())["evidence"]["consent_rates"] == {}


def test_a_result_without_the_floors_keeps_no_rate_at_a_larger_group_size():
    """A result of an older privdiag records no floors: at a larger size no rate is kept;
    one made at the report's size keeps its rates; several results' rates stay apart."""
    old = {"min_group_size": 1, "evidence": {"consent_rates": {"ads": 0.9}}}
    same = {"min_group_size": 5, "evidence": {"consent_rates": {"ads": 0.4}}}
    merged = {"evidence": {"consent_rates": [{"ads": 0.9}, {"ads": 0.4}]}}
    notes = hide_consent_rates(merged, [old, same], 5)
    assert merged["evidence"]["consent_rates"] == [{}, {"ads": 0.4}]
    assert len(notes) == 1 and "consent rate of ads not given" in notes[0]
    # a purpose no identified user decided (floor 0) tells no one: kept
    cookieless = {"min_group_size": 1, "evidence": {"consent_rates": {"ads": 0.3}}}
    cookieless["evidence"]["consent_rates_users_at_least"] = {"ads": 0}
    alone = {"evidence": {"consent_rates": {"ads": 0.3}}}
    assert hide_consent_rates(alone, [cookieless], 5) == []
    assert alone["evidence"]["consent_rates"] == {"ads": 0.3}


def test_a_report_at_a_larger_group_size_drops_the_opt_in_rates_and_gap_maps(tmp_path):
    """Hostile round 25: the opt-in rates and the consent-gap maps of a scan made with
    min_group_size 1 were shown by a report at 5: 3 persons deciding personalization, all
    denying (decisions 3, granted 0), and a map's cell of 3 users denying ads (0.7568: each
    lacked fbclid)."""
    runner = CliRunner()
    scan = _scan(tmp_path, runner)
    rows = json.loads(scan.read_text())["evidence"]["optin_rates"]["source"]
    assert [(r["purpose"], r["decisions"], r["granted"]) for r in rows] == [
        ("analytics", 40, 20),
        ("personalization", 3, 0),
    ]
    events = "event_id,ts,event_name,user_id,fbclid\n"
    log = "user_id,purpose,status,ts\n"
    for u in range(40):
        f = "" if u < 3 or u % 4 == 0 else f"f{u}"
        events += f"e{u},2026-10-01T10:00:00Z,page_view,user{u},{f}\n"
        events += f"x{u},2026-10-01T10:05:00Z,purchase,user{u},{f}\n"
        log += f"user{u},ads,{'denied' if u < 3 else 'granted'},2026-10-01T09:00:00Z\n"
    toml = '[journey]\nsteps = ["page_view", "purchase"]\n[features.fbclid]\npurposes = ["ads"]\n'
    small = write(tmp_path / "map1.toml", "[thresholds]\nmin_group_size = 1\n" + toml)
    mapped = tmp_path / "map.json"
    args = ["scan", write(tmp_path / "shop.csv", events), "--consent"]
    args += [write(tmp_path / "ads.csv", log), "--config", small, "--json", str(mapped)]
    assert runner.invoke(app, [*args, "--fail-on", "critical"]).exit_code == 0
    (heatmap,) = json.loads(mapped.read_text())["evidence"]["consent_gap_heatmaps"]
    assert heatmap["values"] == [[0.7568], [0.7568]]

    conf = write(tmp_path / "k5.toml", "[thresholds]\nmin_group_size = 5\n")
    for results in ([scan], [mapped], [scan, mapped]):
        out = tmp_path / "report.json"
        args = ["report", *map(str, results), "--config", conf, "--json", str(out)]
        result = runner.invoke(app, [*args, "--fail-on", "critical"])
        assert result.exit_code == 0, result.output
        evidence = json.loads(out.read_text())["evidence"]
        assert not {"optin_rates", "optin_missing_values", "consent_gap_heatmaps"} & set(evidence)
        assert any("opt-in rates not given" in n for n in evidence["notes"])
    # at the size it was made with, the report keeps them
    out = tmp_path / "same.json"
    args = ["report", str(mapped), "--config", small, "--json", str(out)]
    assert runner.invoke(app, [*args, "--fail-on", "critical"]).exit_code == 0
    assert json.loads(out.read_text())["evidence"]["consent_gap_heatmaps"] == [heatmap]
