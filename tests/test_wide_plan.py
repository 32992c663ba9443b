"""A wide flat export (hundreds of feature columns) is planned without DuckDB's
common-subexpression optimizer, whose time grows with the square of a statement's
expressions: 600 events of 3,000 feature columns spent 29 of a scan's 34 CPU-s planning the
copy into ``scan_events`` (1.9 without it; docs/BENCH.md)."""

from __future__ import annotations

import json
from contextlib import contextmanager

import duckdb
import pytest
from typer.testing import CliRunner

from privdiag import state
from privdiag.cli import app
from privdiag.engine import WIDE_PROJECTION, connect, one, planned_wide


def _disabled(con) -> str:
    return one(con, "SELECT current_setting('disabled_optimizers')")[0]


def test_only_a_wide_statement_goes_without_the_optimizer_and_it_comes_back():
    con = connect()
    before = _disabled(con)
    assert "common_subexpressions" not in before
    with planned_wide(con, WIDE_PROJECTION):
        assert _disabled(con) == before
    with planned_wide(con, WIDE_PROJECTION + 1):
        assert _disabled(con) == "common_subexpressions"
    assert _disabled(con) == before
    with pytest.raises(duckdb.Error), planned_wide(con, 500):
        con.execute("SELECT * FROM no_such_table")
    assert _disabled(con) == before


def test_a_wide_export_is_copied_with_the_optimizer_off_and_counted_right(tmp_path, monkeypatch):
    """150 feature columns, 40 users of whom the 20 odd ones deny ads: f0 is sent on every
    event, so its ads violation holds 20 users; the copy ran with the optimizer off."""
    seen = []
    real = state.planned_wide

    @contextmanager
    def spy(con, expressions):
        with real(con, expressions):
            seen.append((expressions, _disabled(con)))
            yield

    monkeypatch.setattr(state, "planned_wide", spy)
    features = [f"f{j}" for j in range(150)]
    lines = ["event_id,ts,event_name,user_id," + ",".join(features)]
    for i in range(120):
        lines.append(f"e{i},2026-10-01T0{i % 9}:00:00Z,page_view,u{i % 40}," + ",".join("x" * 150))
    events = tmp_path / "wide.csv"
    events.write_text("\n".join(lines) + "\n")
    rows = [f"u{u},ads,{'denied' if u % 2 else 'granted'},2026-09-01T00:00:00Z" for u in range(40)]
    consent = tmp_path / "consent.csv"
    consent.write_text("user_id,purpose,status,ts\n" + "\n".join(rows) + "\n")
    config = tmp_path / "privdiag.toml"
    config.write_text('[features."f*"]\npurposes = ["ads"]\n')
    out = tmp_path / "scan.json"
    args = [str(events), "--consent", str(consent), "--config", str(config)]
    result = CliRunner().invoke(app, ["scan", *args, "--json", str(out), "-q"])
    assert result.exit_code == 1, result.output
    assert len(seen) == 1 and seen[0][0] > 150 and seen[0][1] == "common_subexpressions"
    doc = json.loads(out.read_text())
    f0 = [
        f
        for f in doc["findings"]
        if f["kind"] == "consent.violation" and f["location"].get("feature") == "f0"
    ]
    assert [f["metrics"]["users"] for f in f0] == [20]
