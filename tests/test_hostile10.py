"""Tenth hostile review: what the commands did with inputs and settings made to break them.

Each test names the input and what privdiag did before its fix.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app

CORPUS = Path(__file__).parent / "corpus" / "files"
EVENTS = CORPUS / "csv" / "good.csv"
CONSENT = "user_id,purpose,status,ts\nuid-7f3a00,ads,granted,2026-10-01T09:00:00Z\n"


def _run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.csv"
    shutil.copy(EVENTS, path)
    return path


@pytest.mark.parametrize("option", ["--json", "--html", "--markdown", "--junit"])
def test_an_output_naming_the_events_input_is_refused_and_the_input_kept(events, option):
    """``privdiag scan events.csv --json events.csv`` replaced the events with the JSON result
    (exit 1, the data gone); now a usage error naming the option and the input."""
    before = events.read_bytes()

    result = _run("scan", events, option, events, "-q")

    assert result.exit_code == 2, result.output
    assert f"cannot write {option} {events}: it is also an input" in result.output
    assert events.read_bytes() == before


def test_an_output_reaching_an_input_through_a_link_folder_or_glob_is_refused(events, tmp_path):
    """The same input reached another way: a symlink to it, a file inside a folder given
    as input, a file a glob matches, and the consent file."""
    link = tmp_path / "link.csv"
    link.symlink_to(events)
    consent = tmp_path / "cmp.csv"
    consent.write_text(CONSENT)
    before = {p: p.read_bytes() for p in (events, consent)}

    cases = [
        ("scan", events, "--json", link),
        ("scan", tmp_path, "--html", events),
        ("scan", str(tmp_path / "*.csv"), "--markdown", events),
        ("scan", events, "--consent", consent, "--junit", consent),
    ]
    for args in cases:
        result = _run(*args, "-q")
        assert result.exit_code == 2, (args, result.output)
        assert "it is also an input of this run" in result.output, args

    assert {p: p.read_bytes() for p in before} == before


def test_a_new_output_beside_the_inputs_is_written(events, tmp_path):
    """An output that does not exist yet is no input, in the inputs' folder too."""
    result = _run("scan", tmp_path, "--json", tmp_path / "result.json", "-q")

    assert result.exit_code == 1, result.output
    assert (tmp_path / "result.json").is_file()


def test_two_outputs_naming_one_file_are_refused(events, tmp_path):
    """``--json out --html ./out`` wrote the JSON, then the HTML over it (exit 1, the JSON
    lost without a word)."""
    target = tmp_path / "out"

    result = _run("scan", events, "--json", target, "--html", f"{tmp_path}/./out", "-q")

    assert result.exit_code == 2, result.output
    assert "--json and --html both name" in result.output
    assert not target.exists()


def test_report_model_check_and_init_refuse_an_output_naming_their_input(events, tmp_path):
    """``report r.json --json r.json`` replaced the result it read, ``model-check ...
    --json holdout.parquet`` the blind set, and ``init events.csv --output events.csv
    --force`` the events with a config."""
    result_file = tmp_path / "r.json"
    assert _run("scan", events, "--json", result_file, "-q").exit_code == 1
    kept = result_file.read_bytes()
    models = Path(__file__).parents[1] / "fixtures" / "models"
    blind = tmp_path / "holdout.csv"
    blind.write_text("sessions_30d,label\n1,0\n")

    report = _run("report", result_file, "--json", result_file, "-q")
    model = _run(
        "model-check", models / "propensity_imputed.onnx", "--blind-set", blind,
        "--json", blind, "-q",
    )  # fmt: skip
    init = _run("init", events, "--output", events, "--force")

    for result in (report, model, init):
        assert result.exit_code == 2, result.output
        assert "it is also an input of this run" in result.output
    assert result_file.read_bytes() == kept
    assert blind.read_text() == "sessions_30d,label\n1,0\n"
    assert events.read_bytes() == EVENTS.read_bytes()


def test_audit_refuses_an_output_naming_a_file_of_its_config(events, tmp_path):
    """``audit --config privdiag.toml --json cmp.csv`` replaced the consent file the config
    names (and ``--html privdiag.toml`` the config itself)."""
    consent = tmp_path / "cmp.csv"
    consent.write_text(CONSENT)
    config = tmp_path / "privdiag.toml"
    config.write_text(f'[sources.web]\npaths = ["{events.name}"]\n[consent]\npaths = ["cmp.csv"]\n')

    for option, target in (("--json", consent), ("--html", config), ("--markdown", events)):
        result = _run("audit", "--config", config, option, target, "-q")
        assert result.exit_code == 2, result.output
        assert "it is also an input of this run" in result.output

    assert consent.read_text() == CONSENT
    assert config.read_text().startswith("[sources.web]")
    assert not (tmp_path / "privdiag-history.duckdb").exists()
