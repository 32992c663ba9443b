"""Inputs of the tenth hostile review that were read wrong or reported without what a user
needs to fix them (CHANGELOG Known limitations, mended): each test names what privdiag did
before."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import load_config
from privdiag.engine import connect
from privdiag.ingest import load
from privdiag.ingest.sqlparts import any_ts, time_problem

HEAD = "event_id,ts,event_name,user_id\n"


def _run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def _events(path: Path, times: list[str]) -> Path:
    rows = "".join(f"e{i},{t},page_view,u{i}\n" for i, t in enumerate(times))
    path.write_text(HEAD + rows, encoding="utf-8")
    return path


def _times(paths: list[Path]) -> list[dt.datetime]:
    con = connect()
    load(con, [str(p) for p in paths], [], load_config(None))
    rows = con.execute("SELECT ts FROM events ORDER BY event_id").fetchall()
    return [r[0].astimezone(dt.UTC).replace(tzinfo=None) for r in rows]


UTC = "2026-10-01T10:00:00Z"


def test_an_offset_no_zone_has_is_refused_naming_file_row_and_column(tmp_path):
    """``+99:00`` was read as a time 99 hours earlier, without a word."""
    path = _events(tmp_path / "events.csv", [UTC, "2026-10-01T10:01:00+99:00", UTC])

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert f"{path}, row 2, field 'ts': timestamp has the UTC offset +99:00" in result.output
    assert "offsets run from -12:00 to +14:00" in result.output


@pytest.mark.parametrize("offset", ["+14:01", "+15:00", "-12:30", "-13", "+05:60", "+9900"])
def test_every_offset_outside_the_zones_range_is_refused(tmp_path, offset):
    path = _events(tmp_path / "events.csv", [UTC, f"2026-10-01T10:01:00{offset}"])

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert "which no time zone has" in result.output


def test_the_offsets_zones_have_are_read(tmp_path):
    """The two ends of the range and a half hour: 10:00+14:00 is 20:00 UTC the day before,
    10:00-12:00 is 22:00 UTC, 10:00+05:30 is 04:30 UTC."""
    times = ["2026-10-01T10:00:00+14:00", "2026-10-01T10:00:00-12:00", "2026-10-01T10:00:00+0530"]
    path = _events(tmp_path / "events.csv", times)

    assert _times([path]) == [
        dt.datetime(2026, 9, 30, 20, 0),
        dt.datetime(2026, 10, 1, 22, 0),
        dt.datetime(2026, 10, 1, 4, 30),
    ]


def test_an_offset_no_zone_has_in_a_consent_file_names_its_row(tmp_path):
    events = _events(tmp_path / "events.csv", [UTC])
    consent = tmp_path / "consent.csv"
    consent.write_text(
        "user_id,purpose,status,ts\nu0,ads,granted,2026-10-01T09:00:00Z\n"
        "u0,ads,denied,2026-10-01T09:30:00-23:00\n"
    )

    result = _run("scan", events, "--consent", consent, "-q")

    assert result.exit_code == 3, result.output
    assert f"{consent}, row 2, field 'ts': decision time has the UTC offset -23:00" in (
        result.output
    )


def test_an_offset_no_zone_has_in_a_segment_payload_names_its_row(tmp_path):
    path = tmp_path / "segment.ndjson"
    payloads = [
        {"type": "track", "event": "Viewed", "messageId": "m0", "userId": "u0", "timestamp": UTC},
        {
            "type": "track",
            "event": "Viewed",
            "messageId": "m1",
            "userId": "u1",
            "timestamp": "2026-10-01T10:00:00.000+42:00",
        },
    ]
    path.write_text("".join(json.dumps(p) + "\n" for p in payloads))

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert "row 2, field 'timestamp': timestamp has the UTC offset +42:00" in result.output


def test_a_leap_second_is_read_as_the_last_microsecond_of_the_second_before(tmp_path):
    """``23:59:60Z`` was refused as unreadable; 2016-12-31 ended with a real leap second."""
    times = ["2016-12-31T23:59:60Z", "2017-01-01T00:59:60.5+01:00", "2016-12-31 23:59:59"]
    path = _events(tmp_path / "events.csv", times)

    leap = dt.datetime(2016, 12, 31, 23, 59, 59, 999999)
    assert _times([path]) == [leap, leap, dt.datetime(2016, 12, 31, 23, 59, 59)]


def test_a_sixtieth_second_outside_a_minute_59_is_still_unreadable(tmp_path):
    path = _events(tmp_path / "events.csv", [UTC, "2026-10-01T10:30:60Z"])

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert "row 2, field 'ts': timestamp (a 20-character value" in result.output


def test_inf_as_an_event_time_is_named_as_written(tmp_path):
    """``inf`` was "a 26-character value of digits, spaces, '-', '.' and ':'": the
    9999-12-31 23:59:59.999999 DuckDB makes of it, not the cell."""
    path = _events(tmp_path / "events.csv", [UTC, "inf", UTC])

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert "row 2, field 'ts': timestamp ('inf') is endless, not a time" in result.output
    assert "26-character" not in result.output


def test_an_endless_time_of_a_typed_column_is_named_as_such(tmp_path):
    """A Parquet column of timestamps holding infinity, read typed: no text to quote."""
    path = tmp_path / "events.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT * FROM (VALUES ('e0', TIMESTAMPTZ '2026-10-01 10:00:00+00', 'v', 'u0'), "
            "('e1', TIMESTAMPTZ 'infinity', 'v', 'u1')) AS t(event_id, ts, event_name, user_id)) "
            f"TO '{path}' (FORMAT parquet)"
        )

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert "row 2, field 'ts': timestamp is endless (infinity), not a time" in result.output


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("-Infinity", "timestamp ('-Infinity') is endless, not a time"),
        ("2026-10-01T10:00:00+99:00", "timestamp has the UTC offset +99:00, which no time"),
        ("2026-10-01 10:00 -1300", "timestamp has the UTC offset -1300, which no time"),
        ("alice@example.org", "timestamp (a 17-character value of letters, '.' and '@')"),
        (None, "timestamp is empty"),
        (dt.datetime(1, 1, 1), "timestamp is endless (-infinity), not a time"),
    ],
)
def test_time_problem_says_what_is_wrong_and_quotes_no_data(value, said):
    assert time_problem(value, "timestamp").startswith(said)


@settings(deadline=None)  # no timing: a DuckDB connection per example
@given(
    st.integers(-12 * 60, 14 * 60),
    st.datetimes(dt.datetime(2001, 1, 1), dt.datetime(2030, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
)
def test_any_offset_a_zone_can_have_is_read_as_python_reads_it(minutes, local):
    sign = "-" if minutes < 0 else "+"
    written = f"{local.isoformat()}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        got = con.execute(f"SELECT {any_ts('v')} FROM (SELECT ? AS v)", [written]).fetchone()[0]
    assert got == dt.datetime.fromisoformat(written)


def test_a_snowplow_event_time_out_of_range_names_its_row(tmp_path):
    """Snowplow events named the field but no row (the loader's check of every input)."""
    path = tmp_path / "snowplow.csv"
    path.write_text(
        "app_id,collector_tstamp,derived_tstamp,event_id,event,domain_userid\n"
        "shop,2026-10-01 10:00:00,2026-10-01 10:00:00,sp-0,page_view,d0\n"
        "shop,2026-10-01 10:01:00,,sp-1,page_view,d1\n"
        "shop,2026-10-01 10:02:00,1990-10-01 10:02:00,sp-2,page_view,d2\n"
    )

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert f"{path}, row 3, field 'derived_tstamp': an event time in year 1990" in result.output


def test_a_snowplow_collector_time_out_of_range_names_that_field(tmp_path):
    path = tmp_path / "snowplow.csv"
    path.write_text(
        "app_id,collector_tstamp,derived_tstamp,event_id,event,domain_userid\n"
        "shop,2026-10-01 10:00:00,2026-10-01 10:00:00,sp-0,page_view,d0\n"
        "shop,1970-01-01 00:00:00,,sp-1,page_view,d1\n"
    )

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert "row 2, field 'collector_tstamp': an event time in year 1970" in result.output


def test_a_survey_row_with_more_fields_than_its_header_names_its_line(tmp_path):
    """polars said "found more fields than defined in 'Schema'", naming no row."""
    events = _events(tmp_path / "events.csv", [UTC])
    survey = tmp_path / "survey.csv"
    survey.write_text("respondent_id,date,share_ads\nr1,2026-10-01,yes\nr2,2026-10-01\nr3,x,y,z\n")

    result = _run("scan", events, "--survey", survey, "-q")

    assert result.exit_code == 3, result.output
    assert "line 4 has 4 fields, its header 3" in result.output


def test_a_column_name_of_200000_characters_is_named_by_position_and_length(tmp_path):
    """It was "its header does not fit its rows": the header check reads the first 64 KiB."""
    path = tmp_path / "events.csv"
    path.write_text(f"ts,event_name,user_id,{'x' * 200_000}\n{UTC},page_view,u1,1\n")

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert "its column 4 has a name of 200,000 characters (at most 1,000)" in result.output
    assert "xxxx" not in result.output


@pytest.mark.parametrize(("encoding", "said"), [("utf-16-le", "LE"), ("utf-16-be", "BE")])
def test_utf16_without_a_bom_is_named_with_how_to_convert_it(tmp_path, encoding, said):
    """It was "is binary, not CSV, JSON or Parquet", with no hint."""
    path = tmp_path / "events.csv"
    path.write_bytes((HEAD + f"e0,{UTC},page_view,Zoë\n").encode(encoding))

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert f"is text in UTF-16{said}, not UTF-8" in result.output
    assert f"iconv -f UTF-16{said} -t UTF-8" in result.output


def test_binary_with_zeros_is_still_binary(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(bytes(range(256)) * 4)

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert "is binary, not CSV, JSON or Parquet" in result.output


def test_a_folder_with_a_feature_of_numbers_in_one_file_and_true_false_in_another(tmp_path):
    """The folder was refused ("2.csv, field 'price': line 2 holds a value of another
    type"): the sniffer typed the column BIGINT for both files. Its values are read as text,
    present in both files."""
    folder = tmp_path / "events"
    folder.mkdir()
    head = "event_id,user_id,event_name,ts,price,seen\n"
    (folder / "1.csv").write_text(head + "a1,u,page_view,2024-05-01T10:00:00Z,1,2024-05-01\n")
    (folder / "2.csv").write_text(head + "b1,u,page_view,2024-05-01T11:00:00Z,true,7\n")
    con = connect()

    load(con, [str(folder)], [], load_config(None))

    rows = con.execute("SELECT event_id, price, seen, ts FROM events ORDER BY 1").fetchall()
    assert [r[:3] for r in rows] == [("a1", "1", "2024-05-01"), ("b1", "true", "7")]
    assert [r[3].astimezone(dt.UTC).hour for r in rows] == [10, 11]


def test_a_hive_partitioned_folder_of_csv_is_read_with_its_features_as_text(tmp_path):
    """The partition key (dt) comes from the folder names: no type can be given for it."""
    for day, value in (("2024-05-01", "1"), ("2024-05-02", "false")):
        part = tmp_path / "events" / f"dt={day}"
        part.mkdir(parents=True)
        (part / "part.csv").write_text(
            "event_id,user_id,event_name,ts,price\n"
            f"e{day[-1]},u,page_view,{day}T10:00:00Z,{value}\n"
        )
    con = connect()

    load(con, [str(tmp_path / "events")], [], load_config(None))

    assert con.execute("SELECT event_id, price FROM events ORDER BY 1").fetchall() == [
        ("e1", "1"),
        ("e2", "false"),
    ]


def test_an_offset_no_zone_has_in_ndjson_is_refused_naming_its_row(tmp_path):
    """DuckDB's JSON reader typed the field as a time with a zone and added +99:00 as it read;
    the field is now read as text (every column given its type), as a CSV's is."""
    path = tmp_path / "events.ndjson"
    rows = [
        {"event_id": "e0", "ts": UTC, "event_name": "v", "user_id": "u0", "props": {"a b": 1}},
        {"event_id": "e1", "ts": "2026-10-01T10:00:00+99:00", "event_name": "v", "user_id": "u1"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert f"{path}, row 2, field 'ts': timestamp has the UTC offset +99:00" in result.output


def test_a_json_array_with_zoned_times_and_nested_fields_reads_as_before(tmp_path):
    """The columns given back to the JSON reader keep their types: a struct with a spaced
    name, a list, and times with offsets zones have (10:00+02:00 is 08:00 UTC)."""
    path = tmp_path / "events.json"
    rows = [
        {"event_id": "e0", "ts": "2026-10-01T10:00:00+02:00", "event_name": "v", "user_id": "u0",
         "props": {"a b": 1, "c": [1, 2]}},
        {"event_id": "e1", "ts": UTC, "event_name": "v", "user_id": "u1",
         "props": {"a b": 2, "c": []}},
    ]  # fmt: skip
    path.write_text(json.dumps(rows))
    con = connect()

    load(con, [str(path)], [], load_config(None))

    got = con.execute("SELECT event_id, ts, props FROM events ORDER BY 1").fetchall()
    assert [(e, t.astimezone(dt.UTC).hour, p) for e, t, p in got] == [
        ("e0", 8, {"a b": 1, "c": [1, 2]}),
        ("e1", 10, {"a b": 2, "c": []}),
    ]


def test_an_offset_no_zone_has_in_a_json_consent_file_names_its_row(tmp_path):
    events = _events(tmp_path / "events.csv", [UTC])
    consent = tmp_path / "consent.json"
    records = [
        {"user_id": "u0", "purpose": "ads", "status": "granted", "ts": "2026-10-01T09:00:00Z"},
        {"user_id": "u0", "purpose": "ads", "status": "denied", "ts": "2026-10-01T09:00:00+15"},
    ]
    consent.write_text(json.dumps(records))

    result = _run("scan", events, "--consent", consent, "-q")

    assert result.exit_code == 3, result.output
    assert "row 2, field 'ts': decision time has the UTC offset +15" in result.output


def test_an_offset_no_zone_has_in_hive_partitioned_ndjson_is_refused_naming_its_file(tmp_path):
    """The folder names give a column (dt) the JSON reader takes no type for, so the times
    were not read again as text and +99:00 was added as read: the reader is now given every
    column's type but the folder names' (10:00+02:00 is still 08:00 UTC)."""
    for day, ts in (("2026-10-01", "2026-10-01T10:00:00+02:00"), ("2026-10-02", UTC)):
        part = tmp_path / "events" / f"dt={day}"
        part.mkdir(parents=True)
        row = {"event_id": f"e{day[-1]}", "ts": ts, "event_name": "v", "user_id": "u"}
        (part / "part.ndjson").write_text(json.dumps(row) + "\n")
    con = connect()
    load(con, [str(tmp_path / "events")], [], load_config(None))
    got = con.execute("SELECT event_id, ts FROM events ORDER BY 1").fetchall()
    assert [(e, t.astimezone(dt.UTC).hour) for e, t in got] == [("e1", 8), ("e2", 10)]
    bad = tmp_path / "events" / "dt=2026-10-02" / "part.ndjson"
    bad.write_text(bad.read_text().replace("Z", "+99:00"))

    result = _run("scan", tmp_path / "events", "-q")

    assert result.exit_code == 3, result.output
    assert f"{bad}, row 1, field 'ts': timestamp has the UTC offset +99:00" in result.output


def test_an_offset_no_zone_has_in_a_ga4_shaped_file_read_as_generic_is_refused(tmp_path):
    """A file with GA4's columns was never read again with its times as text, even under
    --format generic, where its ISO event_timestamp is the event time: +99:00 was added."""
    path = tmp_path / "export.ndjson"
    params = [{"key": "page_location", "value": {"string_value": "https://x.example/"}}]
    rows = [
        {"event_timestamp": t, "event_name": "page_view", "event_params": params,
         "user_pseudo_id": f"p{i}"}
        for i, t in enumerate([UTC, UTC, "2026-10-01T10:00:00+99:00"])
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    result = _run("scan", path, "--format", "generic", "-q")

    assert result.exit_code == 3, result.output
    assert f"{path}, row 3, field 'event_timestamp': timestamp has the UTC offset +99:00" in (
        result.output
    )


@pytest.mark.parametrize("epoch_first", [False, True])
def test_a_folder_of_csv_with_iso_times_in_one_file_and_epochs_in_another_reads_both(
    tmp_path, epoch_first
):
    """The reader gave the time column one file's type (a time without a zone) for the
    folder, and the other file's epoch numbers were "a value of another type" (exit 3). Now
    read from its text: 1790000000 s is 2026-09-21 14:13:20 UTC, 1790003600000 ms an hour on."""
    folder = tmp_path / "events"
    folder.mkdir()
    iso = HEAD + "e1,2026-10-01 10:00:00,v,u1\ne2,2026-10-01 11:00:00,v,u2\n"
    epoch = HEAD + "e3,1790000000,v,u3\ne4,1790003600000,v,u4\n"
    (folder / "a.csv").write_text(epoch if epoch_first else iso)
    (folder / "b.csv").write_text(iso if epoch_first else epoch)

    assert _times([folder]) == [
        dt.datetime(2026, 10, 1, 10),
        dt.datetime(2026, 10, 1, 11),
        dt.datetime(2026, 9, 21, 14, 13, 20),
        dt.datetime(2026, 9, 21, 15, 13, 20),
    ]


def test_a_folder_of_consent_csv_with_iso_times_and_epochs_reads_both(tmp_path):
    events = _events(tmp_path / "events.csv", [UTC])
    folder = tmp_path / "consent"
    folder.mkdir()
    head = "user_id,purpose,status,ts\n"
    (folder / "a.csv").write_text(head + "u0,ads,granted,2026-10-01 09:00:00\n")
    (folder / "b.csv").write_text(head + "u1,ads,denied,1790000000\n")
    con = connect()

    load(con, [str(events)], [str(folder)], load_config(None))

    got = con.execute("SELECT user_key, ts FROM consent ORDER BY 1").fetchall()
    assert [(u, t.astimezone(dt.UTC).replace(tzinfo=None)) for u, t in got] == [
        ("u0", dt.datetime(2026, 10, 1, 9)),
        ("u1", dt.datetime(2026, 9, 21, 14, 13, 20)),
    ]


def test_a_folder_whose_files_agree_on_a_time_format_keeps_it(tmp_path):
    """Times the sniffer reads by a format of its own (day.month.year) are not read as text
    when every file writes them so: as text they would be unreadable."""
    folder = tmp_path / "events"
    folder.mkdir()
    (folder / "a.csv").write_text(HEAD + "e1,01.10.2026 10:00:00,v,u\ne2,01.10.2026 11:00:00,v,u\n")
    (folder / "b.csv").write_text(HEAD + "e3,02.10.2026 11:30:00,v,u\ne4,13.10.2026 12:00:00,v,u\n")

    assert _times([folder]) == [
        dt.datetime(2026, 10, 1, 10),
        dt.datetime(2026, 10, 1, 11),
        dt.datetime(2026, 10, 2, 11, 30),
        dt.datetime(2026, 10, 13, 12),
    ]


def test_a_folder_of_a_sniffed_time_format_and_epochs_names_both_files(tmp_path):
    """A time the sniffer reads by its own format (01.10.2026 10:00:00) in one file and epoch
    numbers in another: read from its text, that format is no ISO time. The error names the
    row, and its hint the files and how each writes the time."""
    folder = tmp_path / "events"
    folder.mkdir()
    (folder / "a.csv").write_text(HEAD + "e1,01.10.2026 10:00:00,v,u\ne2,01.10.2026 11:00:00,v,u\n")
    (folder / "b.csv").write_text(HEAD + "e3,1790000000,v,u\ne4,1790003600,v,u\n")

    result = _run("scan", folder, "-q")

    assert result.exit_code == 3, result.output
    said = " ".join(result.output.split())
    assert f"{folder / 'a.csv'}, row 1, field 'ts': timestamp (a 19-character value" in said
    assert (
        "hint: the files write ts in different ways (a.csv as times, b.csv as numbers), so it "
        "is read from its text: use ISO-8601 (2026-10-01T12:00:00Z) or epoch seconds / ms / µs "
        "in every file, or give the files as separate inputs" in said
    )


def test_a_nul_byte_in_csv_text_is_named_by_its_line(tmp_path):
    """A CSV whose third line held a NUL byte was "binary", with nothing saying where."""
    path = tmp_path / "events.csv"
    text = HEAD + f"e0,{UTC},page_view,u1\ne1,{UTC},page\x00view,u2\n"
    path.write_bytes(text.encode("utf-8"))

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    at = text.index("\x00") + 1
    assert f"holds a NUL byte on line 3, byte {at}" in result.output
    assert "tr -d" in result.output
