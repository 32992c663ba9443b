"""Breaks found by the twentieth hostile session, each with the input that showed it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import config, write

from privdiag.config import FeatureConfig
from privdiag.scan import run_scan


def _scan(tmp_path: Path, events: str, log: str, **thresholds: Any) -> dict[str, Any]:
    """Scan ``events`` (CSV text) with the consent ``log`` (CSV text), gclid needing ads."""
    cfg = config()
    cfg.features["gclid"] = FeatureConfig(purposes=["ads"])
    for key, value in thresholds.items():
        setattr(cfg.thresholds, key, value)
    data = write(tmp_path / "web.csv", events)
    consent = write(tmp_path / "cmp.csv", log)
    return run_scan([data], consent=[consent], config=cfg).to_dict()


def _metrics(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f["metrics"] for f in doc["findings"] if f["kind"] == kind]


def test_a_consent_row_of_an_anonymous_visitor_is_keyed_by_its_anonymous_id(tmp_path):
    """A CMP log with user_id and anonymous_id columns: the rows of visitors not logged in
    (user_id empty) were left out "as they belong to no user", though their events, keyed by
    the same anonymous id, were there: 2 of the 3 users read as having no decision, and
    their gclid sent after denying ads was no violation (1 event found of 3)."""
    doc = _scan(
        tmp_path,
        """
        event_id,ts,event_name,user_id,anonymous_id,gclid
        e1,2026-10-01T10:00:00Z,page_view,,a1,g
        e2,2026-10-01T10:05:00Z,page_view,,a2,g
        e3,2026-10-01T10:06:00Z,page_view,u3,a3,g
        """,
        """user_id,anonymous_id,purpose,status,ts
,a1,ads,denied,2026-10-01T09:59:00Z
undefined,a2,ads,denied,2026-10-01T09:59:00Z
u3,a3,ads,denied,2026-10-01T09:59:00Z
""",
    )
    assert [m["events"] for m in _metrics(doc, "consent.violation")] == [3]
    assert _metrics(doc, "consent.missing_record") == []
    assert doc["inputs"][1]["records"] == 3
    assert not any("without a user id" in n for n in doc["evidence"].get("notes", []))


LOGGED_IN = """
event_id,ts,event_name,user_id,anonymous_id,gclid
e1,2026-10-01T10:00:00Z,page_view,,a1,g
e2,2026-10-01T10:05:00Z,page_view,u1,a1,g
e3,2026-10-01T10:06:00Z,purchase,u1,a1,g
"""


def test_a_logged_in_visitor_meets_the_decision_of_its_device(tmp_path):
    """A CMP log keyed by the device: a1 denied ads at 09:59, then logged in as u1 and sent
    gclid twice more. Keyed by the user id alone, those two events met no decision: one
    violation event of three, and u1 a user "without a consent decision"."""
    doc = _scan(tmp_path, LOGGED_IN, "user_id,purpose,status,ts\na1,ads,denied,2026-10-01T09:59Z\n")
    events = {
        f["location"]["step"]: f["metrics"]["events"]
        for f in doc["findings"]
        if f["kind"] == "consent.violation"
    }
    assert events == {"page_view": 2, "purchase": 1}
    assert _metrics(doc, "consent.missing_record") == []
    assert any("anonymous id that has consent records" in n for n in doc["evidence"]["notes"])


def test_the_latest_decision_of_the_device_and_the_user_is_in_force(tmp_path):
    """u1 granted ads in its account at 10:04, after its device's denial: its logged-in
    events (10:05, 10:06) are granted, the device's event of 10:00 still denied."""
    log = "user_id,purpose,status,ts\na1,ads,denied,2026-10-01T09:59Z\n"
    log += "u1,ads,granted,2026-10-01T10:04Z\n"
    doc = _scan(tmp_path, LOGGED_IN, log)
    assert [m["events"] for m in _metrics(doc, "consent.violation")] == [1]


def test_the_rate_of_a_purpose_few_users_decided_is_not_given(tmp_path):
    """40 users decide analytics; only user7 decides personalization, and denies it. The
    scan gave `consent_rates.personalization` 0.0: that one user's choice, where the
    minimum group size is 5."""
    events = "event_id,ts,event_name,user_id,gclid\n"
    log = "user_id,purpose,status,ts\n"
    for u in range(40):
        events += "".join(f"e{u}_{h},2026-10-01T1{h}:00:00Z,page_view,user{u},\n" for h in range(3))
        log += f"user{u},analytics,{'granted' if u % 2 else 'denied'},2026-10-01T09:00:00Z\n"
    log += "user7,personalization,denied,2026-10-01T09:00:00Z\n"
    doc = _scan(tmp_path, events, log, min_group_size=5)
    evidence = doc["evidence"]
    assert evidence["consent_rates"] == {"analytics": 0.5}
    named = {p for e in evidence["consent_mix"] for p in (e["granted"] or []) + (e["denied"] or [])}
    assert "personalization" not in named
    assert any("consent rate of personalization not given" in n for n in evidence["notes"])


def test_two_flag_columns_of_one_purpose_deny_it_when_either_denies(tmp_path):
    """OneTrust's C0004 and C0005 both mean ads: an export with a column for each read the
    first alone, consent_C0005 became a feature of its own, and an event granting C0004 but
    denying C0005 read as ads granted: its gclid no violation."""
    cfg = config()
    cfg.features["gclid"] = FeatureConfig(purposes=["ads"])
    data = write(
        tmp_path / "web.csv",
        """
        event_id,ts,event_name,user_id,gclid,consent_C0004,consent_C0005
        e1,2026-10-01T10:00:00Z,page_view,u1,g,true,false
        e2,2026-10-01T10:01:00Z,page_view,u2,g,false,true
        e3,2026-10-01T10:02:00Z,page_view,u3,g,true,
        e4,2026-10-01T10:03:00Z,page_view,u4,g,,
        """,
    )
    doc = run_scan([data], config=cfg).to_dict()
    assert [m["events"] for m in _metrics(doc, "consent.violation")] == [2]
    assert doc["evidence"]["consent_rates"] == {"ads": round(1 / 3, 6)}
    assert not [f for f in doc["findings"] if f["kind"] == "people.unclassified_feature"]


def test_a_consent_status_and_a_flag_written_as_floats_are_read(tmp_path):
    """pandas writes a 0/1 column with a gap as floats: a consent Parquet whose status is
    0.0, 1.0 and null was refused ("a 3-character value of digits and '.' is neither
    granted nor denied"), and events whose consent_analytics is 1.0 / 0.0 read as unknown."""
    import polars as pl

    cfg = config()
    cfg.features["gclid"] = FeatureConfig(purposes=["ads"])
    pl.DataFrame(
        {
            "user_id": ["u1", "u2", "u3"],
            "purpose": ["ads"] * 3,
            "status": [0.0, 1.0, None],
            "ts": ["2026-10-01T02:00:00Z"] * 3,
        }
    ).write_parquet(tmp_path / "cmp.parquet")
    pl.DataFrame(
        {
            "event_id": ["e1", "e2", "e3"],
            "ts": ["2026-10-01T03:00:00Z"] * 3,
            "event_name": ["page_view"] * 3,
            "user_id": ["u1", "u2", "u3"],
            "gclid": ["g"] * 3,
            "consent_analytics": [1.0, 0.0, None],
        }
    ).write_parquet(tmp_path / "web.parquet")
    doc = run_scan(
        [str(tmp_path / "web.parquet")], consent=[str(tmp_path / "cmp.parquet")], config=cfg
    ).to_dict()
    assert doc["evidence"]["consent_rates"] == {"analytics": 0.5, "ads": 0.5}
    assert [m["events"] for m in _metrics(doc, "consent.violation")] == [1]


def test_an_audit_made_with_a_larger_group_size_lists_nothing_resolved(tmp_path):
    """The generated shop audited at min_group_size 2, then at 50 with the same data: the
    second run listed 7 findings as resolved (two opt-in drops, five shifts), which its
    checks withheld for their groups of fewer than 50 users, and showed their titles ("ads
    opt-in fell from 62% to 41% with notice version v2"). Nothing was mended."""
    import json

    from typer.testing import CliRunner

    from privdiag.cli import app
    from privdiag.generate import generate_scenario

    generate_scenario(tmp_path, seed=20, users=300)
    config = tmp_path / "privdiag.toml"
    text = config.read_text(encoding="utf-8")
    runs = []
    for k in (2, 50):
        config.write_text(text.replace("min_group_size = 5", f"min_group_size = {k}"), "utf-8")
        out = tmp_path / f"audit{k}.json"
        CliRunner().invoke(app, ["audit", "--config", str(config), "--json", str(out)])
        runs.append(json.loads(out.read_text(encoding="utf-8")))
    assert runs[0]["resolved"] == [] and runs[1]["resolved"] == []
    assert runs[1]["audit"]["counts"]["resolved"] == 0
    assert any(
        "made with a larger min_group_size (50 against 2)" in n
        for n in runs[1]["evidence"]["notes"]
    )
    shown = CliRunner().invoke(app, ["audit", "--config", str(config), "--show", "last"])
    assert " resolved " not in shown.output.replace("0 resolved", "")


def test_the_two_conflicts_of_one_source_name_have_two_ids(tmp_path):
    """A consent log whose own source column names the events' source (web): its grant and
    denial of one instant (u1) and the events' flags contradicting it (u1, u2) were two
    consent.conflict findings of one kind and location, so one id; `privdiag report` kept
    one of them, dropping the other unsaid, and an audit compared one with the other."""
    doc = _scan(
        tmp_path,
        """
        event_id,ts,event_name,user_id,gclid,consent_ads
        e1,2026-10-01T10:00:00Z,page_view,u1,g,true
        e2,2026-10-01T10:05:00Z,page_view,u2,g,true
        """,
        """user_id,purpose,status,ts,source
u1,ads,denied,2026-10-01T09:00:00Z,web
u1,ads,granted,2026-10-01T09:00:00Z,web
u2,ads,denied,2026-10-01T09:00:00Z,web
""",
    )
    conflicts = [f for f in doc["findings"] if f["kind"] == "consent.conflict"]
    assert len(conflicts) == 2
    assert len({f["id"] for f in doc["findings"]}) == len(doc["findings"])


@pytest.mark.parametrize(
    ("log", "kind", "key"),
    [
        # one user's gclid 28.25 s before that user's decision: the lead time of one user
        ("u1,ads,granted,2026-10-01T10:00:28.25Z\n", "consent.pre_consent", "median_lead_seconds"),
        # one user granting and denying ads at one instant: that user's 2 records
        (
            "u1,ads,denied,2026-10-01T09:00Z\nu1,ads,granted,2026-10-01T09:00Z\n",
            "consent.conflict",
            "records",
        ),
    ],
)
def test_a_finding_of_one_user_hides_what_describes_that_user(tmp_path, log, kind, key):
    """At min_group_size 5, a pre-consent of one user hid its users, events and lead-time
    chart, yet kept `median_lead_seconds` (28.25: the seconds between that user's event and
    decision), and the consent log's conflict of one user kept `records: 2`."""
    doc = _scan(
        tmp_path,
        """
        event_id,ts,event_name,user_id,gclid
        e1,2026-10-01T10:00:00Z,page_view,u1,g
        """,
        "user_id,purpose,status,ts\n" + log,
        min_group_size=5,
    )
    (metrics,) = _metrics(doc, kind)
    assert metrics["users"] is None and metrics[key] is None
    assert key in metrics["suppressed"]


def test_the_markdown_summary_keeps_to_the_config_group_size(tmp_path):
    """At min_group_size 1 the JSON gave the consent log's conflict `users: 1`, and the
    Markdown summary read "<5 users": its writer was given no size and took 5."""
    from typer.testing import CliRunner

    from privdiag.cli import app

    write(tmp_path / "privdiag.toml", "[thresholds]\nmin_group_size = 1\n")
    events = write(tmp_path / "web.csv", "ts,event_name,user_id\n2026-10-01T10:00:00Z,view,u1\n")
    log = "user_id,purpose,status,ts\nu1,ads,denied,2026-10-01T09:00Z\n"
    consent = write(tmp_path / "cmp.csv", log + "u1,ads,granted,2026-10-01T09:00Z\n")
    md = tmp_path / "summary.md"
    args = ["scan", events, "--consent", consent, "--config", str(tmp_path / "privdiag.toml")]
    CliRunner().invoke(app, [*args, "--markdown", str(md)])
    row = next(line for line in md.read_text().splitlines() if "grant and deny" in line)
    assert row.endswith("| 1 user |")
