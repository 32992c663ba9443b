"""Hostile round 27: owner patterns that own nothing; notes on dated decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from privdiag.config import parse_config
from privdiag.errors import ConfigError
from privdiag.mapping import owner_for
from privdiag.scan import run_scan
from tests.helpers import config, write


@pytest.mark.parametrize(
    ("pattern", "meant"),
    [
        ("purpose: ads", "purpose:ads"),
        ("source:app ", "source:app"),
        ("step: purchase", "step:purchase"),
        ("purpose:", "purpose:<name or pattern>"),
        ("feature:", "feature:<name or pattern>"),
    ],
)
def test_an_owners_pattern_of_a_kind_with_a_blank_or_spaced_name_is_a_config_error(pattern, meant):
    """`"purpose: ads" = "privacy-office"` owned nothing (the name read " ads") and
    `"purpose:"` nothing at all, each with no word of it, where `"purpose:ads"` owns the
    opt-in drops and violations on ads."""
    with pytest.raises(ConfigError) as err:
        parse_config({"owners": {pattern: "team"}}, Path("privdiag.toml"))
    assert f"owners.{pattern}" in str(err.value)
    assert meant in str(err.value)


def test_a_feature_pattern_may_hold_spaces_as_a_column_name_does():
    cfg = parse_config({"owners": {"feature: gclid": "ads"}}, Path("privdiag.toml"))
    assert owner_for(cfg, source="app", feature=" gclid", purpose="ads") == "ads"


def test_events_after_unordered_dated_and_timed_decisions_are_not_said_on_their_day(tmp_path):
    """u1 denied ads (09-20 09:00), granted dated 10-01, denied 10-01 20:00: the grant may be
    after the denial (up to 10-02 12:00 UTC), so neither is surely last and u1's events at
    10-01 22:00 and 10-05 10:00 have no state (u2 likewise, granted and denied the other way
    about). No violation, as before; the note said all 4 "fall on the day ... of a consent
    decision dated without a time of day", where two fall days later, and the missing rate's
    note said the users' events came before their first decision."""
    log = write(
        tmp_path / "cmp.csv",
        """user_id,purpose,status,ts
        u1,ads,denied,2026-09-20T09:00:00Z
        u1,ads,granted,2026-10-01
        u1,ads,denied,2026-10-01T20:00:00Z
        u2,ads,granted,2026-09-20T09:00:00Z
        u2,ads,denied,2026-10-01
        u2,ads,granted,2026-10-01T20:00:00Z
        """,
    )
    events = write(
        tmp_path / "web.csv",
        """event_id,ts,event_name,user_id,gclid
        a1,2026-10-01T22:00:00Z,page_view,u1,g
        a2,2026-10-05T10:00:00Z,page_view,u1,g
        b1,2026-10-01T22:00:00Z,page_view,u2,g
        b2,2026-10-05T10:00:00Z,page_view,u2,g
        """,
    )
    doc = run_scan([events], consent=[log], config=config()).to_dict()
    assert not [f for f in doc["findings"] if f["kind"] == "consent.violation"]
    notes = doc["evidence"]["notes"]
    (said,) = [n for n in notes if "4 event(s)" in n]
    assert "or after it but before a later decision surely follows it" in said
    (rate,) = [n for n in notes if n.startswith("consent rate of ads")]
    assert "leaves their state open" in rate


def test_a_scan_with_stderr_closed_writes_its_results(tmp_path):
    """`privdiag scan ... 2>&-` (a cron line closing stderr; Python's sys.stderr is then None)
    was an internal error (exit 5, AttributeError on sys.stderr.isatty() choosing the
    progress), with no JSON written, even with -q. It now runs: exit 1 for u1's violation."""
    import os
    import shlex
    import subprocess
    import sys

    events, log = tmp_path / "web.csv", tmp_path / "cmp.csv"
    events.write_text(
        "event_id,ts,event_name,user_id,gclid\ne1,2026-10-01T10:00:00Z,page_view,u1,g\n"
    )
    log.write_text("user_id,purpose,status,ts\nu1,ads,denied,2026-10-01T08:00:00Z\n")
    out = tmp_path / "scan.json"
    argv = [sys.executable, "-m", "privdiag", "scan", str(events), "--consent", str(log)]
    argv += ["--json", str(out), "-q"]
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root}
    done = subprocess.run(["sh", "-c", shlex.join(argv) + " 2>&-"], env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert out.exists()
