"""Breaks found by the twenty-second hostile session, each with the input that showed it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app


def _history(path: Path) -> Path:
    """A history of one run, as an audit records it."""
    from privdiag.audit.history import RunRecord, open_history

    with open_history(path) as opened:
        finding = {"id": "f1", "kind": "consent.violation", "severity": "high", "title": "t"}
        opened.record(
            RunRecord(run_id="r1", started_at="2026-10-01T00:00:00+00:00"),
            [dict(finding, owner=None, location={}, metrics={"users": 9}, change="new")],
            {"consent_rate.ads": 0.5},
        )
    return path


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        # each was an internal error (exit 5) of --list, --show and the next audit; -1 was
        # "run privdiag audit once to upgrade it", and that audit applied a migration again
        ("UPDATE meta SET value = 'two' WHERE key = 'schema_version'", "meta: its schema_ver"),
        ("UPDATE meta SET value = '1.5' WHERE key = 'schema_version'", "meta: its schema_ver"),
        ("UPDATE meta SET value = NULL WHERE key = 'schema_version'", "meta: its schema_ver"),
        ("UPDATE meta SET value = '-1' WHERE key = 'schema_version'", "meta: its schema_ver"),
        ("DROP TABLE findings", "the history: its table findings is missing"),
        ("DROP TABLE measures", "the history: its table measures is missing"),
        ("ALTER TABLE runs DROP COLUMN baseline", "table runs: its column baseline is missing"),
        # was "a DuckDB database of other data (4 tables privdiag did not write)"
        ("DELETE FROM meta", "table meta: its schema_version is missing"),
    ],
)
@pytest.mark.parametrize("how", [["--list"], ["--show", "last"], ["--config", "cfg"]])
def test_a_history_of_an_edited_schema_is_an_input_error(tmp_path, edit, said, how):
    import duckdb

    history = _history(tmp_path / "history.duckdb")
    with duckdb.connect(str(history)) as con:
        con.execute(edit)
    if how[0] == "--config":  # the next audit: stops before it scans anything
        data = tmp_path / "web.csv"
        data.write_text("user_id,ts,event_name\nu1,2026-10-01T10:00:00Z,page_view\n")
        config = tmp_path / "privdiag.toml"
        config.write_text(f"[sources.web]\npaths = [{str(data)!r}]\n")
        how = ["--config", str(config)]
    result = CliRunner().invoke(app, ["audit", "--history", str(history), *how])
    assert result.exit_code == 3, result.output
    assert f"history.duckdb: {said}" in result.output and "edited by hand?" in result.output
    assert not (tmp_path / "privdiag-reports").exists() or not any(
        (tmp_path / "privdiag-reports").iterdir()
    )
