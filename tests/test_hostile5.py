"""Hostile inputs left over from earlier reviews: out-of-range times named by column and row,
truncated files, oversized JSON objects, a deleted current folder, audit paths; each test
fails without its fix."""

from __future__ import annotations

from typer.testing import CliRunner

from privdiag.cli import app
from tests.helpers import write

runner = CliRunner()
HEAD = "event_time,event,user_id\n"
GOOD = "2026-10-01T10:00:00Z,page_view,u1\n2026-10-01T10:01:00Z,page_view,u2\n"


def test_event_time_out_of_range_names_the_column_and_the_row(tmp_path):
    # The error named the field 'time' and no row; the input's own column is event_time and
    # the first bad data row is the third.
    events = write(tmp_path / "e.csv", HEAD + GOOD + "1970-01-01T00:00:00Z,page_view,u3\n")
    result = runner.invoke(app, ["scan", events])
    assert result.exit_code == 3
    assert f"{events}, row 3, field 'event_time': an event time in year 1970" in result.output


def test_event_time_in_the_future_as_epoch_names_its_row(tmp_path):
    # An epoch read as year 2099 (a wrong unit), on data row 1 of an integer column.
    events = write(tmp_path / "e.csv", "ts,event_name\n4102444800,pv\n1790000000,pv\n")
    result = runner.invoke(app, ["scan", events])
    assert result.exit_code == 3
    assert "row 1, field 'ts': an event time in year 2100" in result.output
