"""The audit run's line calls a finding of fewer than ``min_group_size`` users ``hidden``, as
the run's JSON and ``--list`` do; trial 20 found it said "not compared" there. Such a high
finding fails the run that first finds it under ``--fail-when regressed``, not every run
after (README)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from privdiag.cli import app
from tests.audit_data import NIGHT_1, NIGHT_2, setup


def _audit(config: Path) -> tuple[int, str, dict]:
    out = config.parent / "out.json"
    run = CliRunner().invoke(app, ["audit", "--config", str(config), "--json", str(out)])
    return run.exit_code, run.stderr + run.stdout, json.loads(out.read_text())


def test_the_run_line_says_hidden_as_its_json_and_list_do(tmp_path):
    """Night 2 at k = 2 brings u1's view_item leak alone (1 user, high): hidden, and counted
    as new (exit 1). Run again on the same data, it is hidden again, and stood last night, so
    it no longer fails the run (exit 0; audit29: it failed every night before)."""
    config = setup(tmp_path, NIGHT_1)
    _audit(config)
    setup(tmp_path, NIGHT_2)
    config.write_text(re.sub(r"min_group_size = \d+", "min_group_size = 2", config.read_text()))
    for night in (2, 3):
        code, output, doc = _audit(config)
        hidden = doc["audit"]["counts"]["hidden"]
        [leak] = [f for f in doc["findings"] if f["location"].get("step") == "view_item"]
        assert (leak["change"], leak["severity"], code) == ("hidden", "high", int(night == 2))
        [line] = [li for li in output.splitlines() if li.startswith("audit ")]
        assert "not compared" not in line, line
        if night == 2:
            assert f", {hidden} hidden; exit 1 on " in line, line
            assert " 1 hidden (counted as new) " in line, line
        else:
            assert line.split(" -> ")[0].endswith(f", {hidden} hidden"), line

    listed = CliRunner().invoke(app, ["audit", "--config", str(config), "--list"]).output
    header, *rows = listed.splitlines()
    column = header.split().index("hidden")
    assert [r.split()[column] for r in rows[1:]] == [str(hidden), str(hidden)]
