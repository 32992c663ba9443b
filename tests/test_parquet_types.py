"""Parquet files of one input holding a time column as a timestamp in one file and as epoch
seconds in another: DuckDB reads every file with the first file's type and could not cast
the other's ("failed to cast column "ts" from type BIGINT to TIMESTAMP WITH TIME ZONE"),
which privdiag quoted with the hint "choose the format with --format". The error now names
both files, the column, both types and what to do; each file given as an input of its own
reads (2026-10-01 08:00 UTC is 1790841600 s).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from privdiag.cli import app

UTC = dt.UTC


def _folder(folder: Path, first: dict, second: dict) -> Path:
    folder.mkdir()
    pl.DataFrame(first).write_parquet(folder / "a.parquet")
    pl.DataFrame(second).write_parquet(folder / "b.parquet")
    return folder


def _events(folder: Path) -> Path:
    times = [dt.datetime(2026, 10, 1, 8, tzinfo=UTC), dt.datetime(2026, 10, 1, 9, tzinfo=UTC)]
    common = {"event_name": ["page_view"] * 2}
    return _folder(
        folder,
        {"event_id": ["e1", "e2"], "ts": times, **common, "user_id": ["u1", "u2"]},
        {
            "event_id": ["e3", "e4"],
            "ts": [1790841600, 1790845200],
            **common,
            "user_id": ["u3", "u4"],
        },
    )


def _scan(tmp_path: Path, *args: str):
    out = tmp_path / "out.json"
    result = CliRunner().invoke(app, ["scan", *args, "--json", str(out), "--quiet"])
    assert "Traceback" not in result.output and result.exit_code != 5, result.output
    return result, out


def _said(result, folder: Path) -> None:
    assert result.exit_code == 3, result.output
    said = " ".join(result.output.split())
    assert (
        f"{folder / 'b.parquet'}, field 'ts': holds ts as BIGINT where {folder / 'a.parquet'} "
        "holds it as TIMESTAMP WITH TIME ZONE"
    ) in said
    assert "give the files of each type as an input of their own" in said
    assert "--format" not in said


def test_an_events_folder_of_two_time_types_names_both_files(tmp_path):
    folder = _events(tmp_path / "events")
    result, out = _scan(tmp_path, str(folder))
    _said(result, folder)
    assert not out.exists()


def test_a_consent_folder_of_two_time_types_names_both_files(tmp_path):
    events = _events(tmp_path / "events")
    consent = _folder(
        tmp_path / "consent",
        {
            "user_id": ["u1"],
            "purpose": ["analytics"],
            "status": ["granted"],
            "ts": [dt.datetime(2026, 10, 1, 7, tzinfo=UTC)],
        },
        {"user_id": ["u3"], "purpose": ["analytics"], "status": ["denied"], "ts": [1790838000]},
    )
    result, out = _scan(tmp_path, str(events / "a.parquet"), "--consent", str(consent))
    _said(result, consent)
    assert not out.exists()


def test_each_file_given_as_an_input_of_its_own_reads(tmp_path):
    folder = _events(tmp_path / "events")
    result, out = _scan(tmp_path, str(folder / "a.parquet"), str(folder / "b.parquet"))
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(out.read_text("utf-8"))
    assert [i["rows"] for i in doc["inputs"]] == [2, 2]
