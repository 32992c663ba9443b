"""Hostile round 24: today's features (shared browsers, steps of several names, opt-in from
event flags) given hostile but realistic inputs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import load_config
from tests.helpers import write


def test_init_writes_no_blank_step_its_scan_refuses(tmp_path):
    """An event name of spaces (a tag's empty name, padded) in every session was inferred
    as a journey step: init wrote steps = ["home", " ", "pay"] and the scan of that config
    stopped on "step 2 is blank" (exit 2). By hand: home then pay, the blank name no step."""
    rows = ["event_id,ts,event_name,user_id,session_id"]
    for u in range(3):
        for i, name in enumerate(["home", " ", "pay"]):
            rows.append(f'e{u}{i},2026-10-01T10:0{i}:00Z,"{name}",u{u},s{u}')
    events = write(tmp_path / "web.csv", "\n".join(rows) + "\n")
    out = tmp_path / "privdiag.toml"
    result = CliRunner().invoke(app, ["init", events, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert load_config(out).steps == ["home", "pay"]
    scan = CliRunner().invoke(app, ["scan", events, "--config", str(out), "--quiet"])
    assert scan.exit_code == 0, scan.output


def test_a_step_holding_the_unit_separator_is_read_as_the_events_are(tmp_path):
    """The events' names are read without the unit separator (chr(31)); a configured step
    was kept with it, so it named no event, and the same name without it was another step."""
    cfg = write(tmp_path / "p.toml", '[journey]\nsteps = ["home", "a\\u001fb"]\n')
    assert load_config(Path(cfg)).steps == ["home", "ab"]
