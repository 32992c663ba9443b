"""The CLI through typer's runner: exit codes, messages, no traceback, no partial output."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from privdiag import __version__
from privdiag.cli import app
from tests.helpers import write

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"privdiag {__version__}"


def test_every_command_has_help_with_an_example():
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example:" in result.output, name


def test_missing_file_is_exit_3_with_the_path(tmp_path):
    result = runner.invoke(app, ["scan", str(tmp_path / "nope.csv")])
    assert result.exit_code == 3
    assert "nope.csv" in result.output
    assert "Traceback" not in result.output


def test_bad_fail_on_is_a_usage_error(tmp_path):
    events = write(tmp_path / "e.csv", "ts,event_name,user_id\n2026-10-01T10:00:00Z,a,u1\n")
    result = runner.invoke(app, ["scan", events, "--fail-on", "severe"])
    assert result.exit_code == 2
    assert "--fail-on" in result.output


def test_unparseable_timestamp_names_row_and_field_and_writes_nothing(tmp_path):
    events = write(
        tmp_path / "e.csv",
        """
        ts,event_name,user_id
        2026-10-01T10:00:00Z,page_view,u1
        yesterday,page_view,u2
    """,
    )
    out = tmp_path / "f.json"
    result = runner.invoke(app, ["scan", events, "--json", str(out)])
    assert result.exit_code == 3
    assert "row 2" in result.output and "'ts'" in result.output
    assert not out.exists()


def test_fail_on_sets_exit_code(tmp_path):
    events = write(
        tmp_path / "e.csv", "ts,event_name,user_id,gclid\n2026-10-01T10:00:00Z,page_view,u1,G1\n"
    )
    consent = write(
        tmp_path / "c.csv", "user_id,purpose,status,ts\nu1,ads,denied,2026-10-01T09:00:00Z\n"
    )
    high = runner.invoke(app, ["scan", events, "--consent", consent, "--quiet"])
    assert high.exit_code == 1
    critical = runner.invoke(
        app, ["scan", events, "--consent", consent, "--fail-on", "critical", "--quiet"]
    )
    assert critical.exit_code == 0


def test_consent_file_given_by_flag_and_config_is_read_once(tmp_path):
    events = write(
        tmp_path / "e.csv",
        "ts,event_name,user_id,gclid\n2026-10-01T10:00:00Z,page_view,u1,G1\n",
    )
    header = "user_id,purpose,status,ts\n"
    write(tmp_path / "a.csv", header + "u1,ads,denied,2026-10-01T09:00:00Z\n")
    write(tmp_path / "b.csv", header + "u1,analytics,granted,2026-10-01T09:00:00Z\n")
    config = write(tmp_path / "privdiag.toml", '[consent]\npaths = ["a.csv", "b.csv"]\n')
    out = tmp_path / "f.json"
    flags = ["--consent", str(tmp_path / "b.csv"), "--consent", str(tmp_path / "." / "a.csv")]
    result = runner.invoke(
        app, ["scan", events, *flags, "--config", config, "--json", str(out), "--quiet"]
    )
    assert result.exit_code in (0, 1), result.output
    consent = [i for i in json.loads(out.read_text())["inputs"] if i["role"] == "consent"]
    assert [(Path(i["path"]).name, i["rows"]) for i in consent] == [("b.csv", 1), ("a.csv", 1)]
