"""Hostile inputs left over from earlier reviews: out-of-range times named by column and row,
truncated files, oversized JSON objects, a deleted current folder, audit paths; each test
fails without its fix."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.ingest.file_checks import first_long_line
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


def test_event_time_out_of_range_in_a_folder_names_the_file_and_its_row(tmp_path):
    # Both fixes together: the file inside the folder, the row in that file, the column.
    folder = tmp_path / "ev"
    folder.mkdir()
    write(folder / "a.csv", HEAD + GOOD)
    late = write(folder / "b.csv", HEAD + GOOD + "1970-01-01T00:00:00Z,page_view,u3\n")
    ga4 = tmp_path / "ga4"
    ga4.mkdir()
    row = (
        '{{"event_timestamp": "{}", "event_name": "pv", "user_pseudo_id": "p1", '
        '"event_params": []}}\n'
    )
    write(ga4 / "a.ndjson", row.format("1790000000000000") * 2)
    bad_ga4 = write(ga4 / "b.ndjson", row.format("1790000000000000") + row.format("86400"))

    result = runner.invoke(app, ["scan", str(folder)])
    assert result.exit_code == 3
    assert f"{late}, row 3, field 'event_time': an event time in year 1970" in result.output
    result = runner.invoke(app, ["scan", str(ga4), "--format", "ga4"])
    assert result.exit_code == 3
    assert f"{bad_ga4}, row 2, field 'event_timestamp': an event time in year 1970" in (
        result.output
    )


@pytest.mark.parametrize(
    ("name", "second", "field"),
    [
        (
            "ga4.ndjson",
            '{"event_timestamp": "86400", "event_name": "pv", "user_pseudo_id": "p2", '
            '"event_params": []}',
            "event_timestamp",
        ),
        (
            "segment.ndjson",
            '{"type": "track", "event": "Viewed", "userId": "u2", "messageId": "m2", '
            '"timestamp": "1970-01-02T10:00:00Z"}',
            "timestamp",
        ),
    ],
)
def test_ga4_and_segment_times_out_of_range_name_their_row(tmp_path, name, second, field):
    # GA4 and Segment inputs were refused after loading, naming field 'time' and no row.
    first = (
        '{"event_timestamp": "1790000000000000", "event_name": "pv", "user_pseudo_id": "p1", '
        '"event_params": []}'
        if name.startswith("ga4")
        else '{"type": "track", "event": "Viewed", "userId": "u1", "messageId": "m1", '
        '"timestamp": "2026-10-01T10:00:00Z"}'
    )
    events = write(tmp_path / name, f"{first}\n{second}\n")
    result = runner.invoke(app, ["scan", events])
    assert result.exit_code == 3
    assert f"{events}, row 2, field '{field}': an event time in year 1970" in result.output


def _rows(n: int) -> list[str]:
    return [f"2026-10-01T10:{i % 60:02d}:00Z,page_view,u{i}" for i in range(n)]


def test_unclosed_quote_is_named_with_its_line_not_as_a_single_column(tmp_path):
    # A quote opened on line 3 runs to the end: the sniffer gave up and the file was said to
    # read as a single column; gzip-compressed the same.
    text = HEAD + '2026-10-01T10:00:00Z,page_view,u1\n2026-10-01T10:01:00Z,"page_view,u2\n'
    text += "2026-10-01T10:02:00Z,page_view,u3\n"
    plain = write(tmp_path / "q.csv", text)
    packed = tmp_path / "q.csv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    for events in (plain, str(packed)):
        result = runner.invoke(app, ["scan", events])
        assert result.exit_code == 3, events
        assert f"{events}: line 3 opens a quoted field that is never closed" in result.output
        assert "single column" not in result.output


def test_unclosed_quote_deep_in_a_file_names_its_line(tmp_path):
    # Read past the sniffer's sample, the reader's error gave only "CSV Error on Line".
    rows = _rows(5000)
    rows[2999] = '2026-10-01T10:00:00Z,"page_view,u1'
    events = write(tmp_path / "q.csv", HEAD + "\n".join(rows) + "\n")
    result = runner.invoke(app, ["scan", events])
    assert result.exit_code == 3
    assert f"{events}: line 3001 opens a quoted field that is never closed" in result.output


@pytest.mark.parametrize("keep", [20, -40])
def test_truncated_gzip_is_said_to_be_truncated(tmp_path, keep):
    # Cut before the first block it read as "is empty"; cut later as a bare reader message.
    data = gzip.compress((HEAD + "\n".join(_rows(300)) + "\n").encode())
    events = tmp_path / "e.csv.gz"
    events.write_bytes(data[:keep])
    result = runner.invoke(app, ["scan", str(events)])
    assert result.exit_code == 3
    assert f"{events}: is truncated or corrupt: its gzip data cannot be read" in result.output


def test_ndjson_object_over_64_mb_is_refused_before_it_is_read(tmp_path):
    # DuckDB took a 70 MB object whole (about 1 GB of memory) although it was given
    # maximum_object_size=64 MB; the CSV reader refuses such a line, and so now does NDJSON.
    blob = "x" * ((64 << 20) + 10)
    small = '{"event_time": "2026-10-01T10:00:00Z", "event": "pv", "user_id": "u1"}\n'
    events = tmp_path / "big.ndjson"
    events.write_text(small + small.replace("}", f', "blob": "{blob}"}}') + small)
    result = runner.invoke(app, ["scan", str(events)])
    assert result.exit_code == 3
    assert f"{events}: line 2 is longer than 64 MB" in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"aaaa\nbbbb\ncccc\n", None),  # each line at the limit
        (b"aaaa\nbbbbb\ncccc\n", 2),  # over it by one byte, across a block edge
        (b"aa\nbb\ncc\ndd\neeeee", 5),  # the last line, without a newline
        (b"aaaaaaaaaaaaaaaaaaaaaaaaa", 1),  # one line, no newline at all
        (b"\n\n\n\n\n\n\n\naaaa\n", None),
    ],
)
def test_first_long_line_counts_lines_across_blocks(tmp_path, text, expected):
    # Blocks of 4 bytes (the limit): lines are measured across the blocks they span.
    path = tmp_path / "t.ndjson"
    path.write_bytes(text)
    assert first_long_line(path, 4) == expected
    packed = tmp_path / "t.ndjson.gz"
    packed.write_bytes(gzip.compress(text))
    assert first_long_line(packed, 4) == expected


@pytest.mark.parametrize("extra", [[], ["--list"]])
def test_audit_from_a_deleted_current_folder_is_a_usage_error(tmp_path, monkeypatch, extra):
    # Path.cwd() raised FileNotFoundError in config.resolve: an internal error (exit 5).
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    result = runner.invoke(app, ["audit", *extra])
    assert result.exit_code == 2
    assert "the current folder no longer exists" in result.output


def _history_with(tmp_path, reports: list[str]) -> Path:
    """A history file whose runs recorded the given report folders (as older runs did)."""
    from privdiag.audit.history import RunRecord, open_history

    history_file = tmp_path / "h.duckdb"
    with open_history(history_file) as history:
        for number, report in enumerate(reports):
            run = RunRecord(
                run_id=f"0000000{number}",
                started_at="2026-10-01T10:00:00+00:00",
                config_path=str(tmp_path / "proj" / "privdiag.toml"),
                report_dir=report,
            )
            history.record(run, [], {})
    return history_file


def test_audit_list_shows_report_folders_without_dot_dot(tmp_path, monkeypatch):
    # An older run's folder recorded relative ("../reports/..."), found from the current
    # folder, was shown as <cwd>/../reports/...; one recorded absolute with ".." and one not
    # found are tidied the same way.
    reports = tmp_path / "proj" / "reports"
    for name in ("r0", "r1"):
        (reports / name).mkdir(parents=True)
    (tmp_path / "proj" / "sub").mkdir()
    history = _history_with(
        tmp_path, ["../reports/r0", f"{tmp_path}/proj/sub/../reports/r1", "a/../gone/r2"]
    )
    monkeypatch.chdir(tmp_path / "proj" / "sub")
    listing = runner.invoke(app, ["audit", "--history", str(history), "--list"])
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[1].endswith(f"  {reports / 'r0'}")
    assert lines[2].endswith(f"  {reports / 'r1'}")
    assert lines[3].endswith("  (not found) gone/r2")
    assert ".." not in listing.output


@pytest.mark.parametrize("content", ["run_id,started\n0000aaaa,2026-10-01\n", ""])
def test_audit_history_named_csv_holding_data_is_refused_and_left_alone(tmp_path, content):
    # DuckDB opens an existing *.csv as an in-memory table: the audit ran, recorded its run
    # in memory only (lost) and exited 1; --list failed with "Cannot launch in-memory
    # database in read-only mode". Both now say the file is no history; it is not written.
    from tests.audit_data import NIGHT_1, setup

    config = setup(tmp_path, NIGHT_1)
    history = tmp_path / "history.csv"
    history.write_text(content)
    for extra in (["--quiet"], ["--list"]):
        result = runner.invoke(
            app, ["audit", "--config", str(config), "--history", str(history), *extra]
        )
        assert result.exit_code == 3, result.output
        assert f"{history}: is not a privdiag history" in result.output
        assert "give --history (or [audit] history) a new file name" in result.output
    assert history.read_text() == content
    assert not any((tmp_path / "privdiag-reports").iterdir())  # no report written
    # nor a lock beside it: the file is looked at before the history's lock is taken
    assert not (tmp_path / "history.csv.lock").exists()


def test_audit_history_named_csv_is_a_duckdb_file_when_privdiag_makes_it(tmp_path):
    # A new history of that name is made as a DuckDB file and read back like any other.
    from tests.audit_data import NIGHT_1, setup

    config = setup(tmp_path, NIGHT_1)
    history = tmp_path / "history.csv"
    args = ["audit", "--config", str(config), "--history", str(history)]
    assert runner.invoke(app, [*args, "--quiet"]).exit_code == 1
    assert history.read_bytes()[8:12] == b"DUCK"
    listing = runner.invoke(app, [*args, "--list"])
    assert listing.exit_code == 0, listing.output
    assert len(listing.output.splitlines()) == 2
