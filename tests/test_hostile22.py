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


def _audit_config(tmp_path: Path, audit: str = "") -> Path:
    data = tmp_path / "web.csv"
    data.write_text("user_id,ts,event_name\nu1,2026-10-01T10:00:00Z,page_view\n")
    config = tmp_path / "privdiag.toml"
    config.write_text(f"[sources.web]\npaths = [{str(data)!r}]\n{audit}")
    return config


@pytest.mark.parametrize("how", [["--list"], ["--show", "last"], ["--config"]])
def test_a_history_that_is_a_pipe_is_refused_leaving_no_lock(tmp_path, how):
    """``--history /dev/null`` (a device; a pipe here, which a test may make) left
    ``/dev/null.lock`` behind and exited 3 on DuckDB's "Could not fsync file"; a pipe waited
    for ever (reading its first bytes), ``--list`` and ``--show`` too. Run apart, with a
    timeout, so that a wait fails the test."""
    import os
    import subprocess
    import sys

    pipe = tmp_path / "history.fifo"
    os.mkfifo(pipe)
    if how == ["--config"]:
        how = ["--config", str(_audit_config(tmp_path))]
    run = subprocess.run(
        [sys.executable, "-m", "privdiag", "audit", "--history", str(pipe), *how],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    # a run's history is checked as a path to write (a usage error), --list's as one to read
    assert run.returncode == (2 if "--config" in how else 3), run.stderr
    assert "history.fifo" in run.stderr and "no regular file" in run.stderr
    assert not (tmp_path / "history.fifo.lock").exists()
    assert not (tmp_path / "privdiag-reports").exists()


def test_a_history_named_as_the_reports_folder_is_a_usage_error(tmp_path):
    """``history`` and ``reports_dir`` of one name: the run made the folder, then opened it
    as the history (exit 3, "Could not read from file ...: Is a directory"), leaving the
    folder and its lock file behind."""
    config = _audit_config(tmp_path, '[audit]\nhistory = "same"\nreports_dir = "same"\n')
    result = CliRunner().invoke(app, ["audit", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "[audit] history and [audit] reports_dir both name" in result.output
    assert not (tmp_path / "same").exists() and not (tmp_path / "same.lock").exists()
