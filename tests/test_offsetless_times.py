"""A time without ``Z`` or a UTC offset is read as UTC, and the scan now says so.

Trial 20 found such times (``2026-10-01 10:00:00``, as Snowplow and most warehouses write
them) read as UTC without a note: a CMP log kept in local time was hours off, unsaid. The
scan's notes now name the file and column, and how many times carried no offset.
"""

from __future__ import annotations

import json

import duckdb
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.scan import run_scan
from tests.helpers import config, write
from tests.test_day_only_times import hostile22_input


def _notes(doc: dict) -> list[str]:
    return [n for n in doc["evidence"].get("notes", []) if "read as UTC" in n]


def _scan(tmp_path, events: str, consent: str | None = None) -> list[str]:
    data = write(tmp_path / "web.csv", events)
    logs = [write(tmp_path / "cmp.csv", consent)] if consent else None
    return _notes(run_scan([data], consent=logs, config=config()).to_dict())


def test_times_of_a_text_column_without_an_offset_are_counted(tmp_path):
    # one of three without Z or an offset (the others: Z, +02:00)
    events = """
    event_id,ts,event_name,user_id
    e1,2026-10-01 10:00:00,page_view,u1
    e2,2026-10-01T10:00:00Z,page_view,u2
    e3,2026-10-01T12:00:00+02:00,page_view,u3
    """
    assert _scan(tmp_path, events) == [
        f"{tmp_path / 'web.csv'}: 1 time(s) in column 'ts' read as UTC, as they carry no Z or "
        "UTC offset: if they are local times, write their offset (+02:00) or convert them to UTC"
    ]


def test_a_column_typed_as_a_time_without_a_zone_is_noted_whole(tmp_path):
    # the CSV sniffer types the column TIMESTAMP: its 2 times carry no offset; beside consent
    # flags (read by value in the same pass); and a consent file of dates and a time: its 2
    # dates are said to be dates (tests/test_day_only_decisions.py), its time has a Z
    events = """
    event_id,ts,event_name,user_id,consent_ads
    e1,2026-10-01 10:00:00,page_view,u1,yes
    e2,2026-10-01 11:30:00.5,page_view,u2,no
    """
    consent = """
    user_id,purpose,status,ts
    u1,ads,granted,2026-10-01
    u2,ads,denied,2026-10-01T09:00:00Z
    u3,ads,denied,2026-09-30
    """
    data = write(tmp_path / "web.csv", events)
    logs = [write(tmp_path / "cmp.csv", consent)]
    notes = run_scan([data], consent=logs, config=config()).to_dict()["evidence"]["notes"]
    assert [
        n.split(": ", 1)[1].split(" read as")[0] for n in _notes({"evidence": {"notes": notes}})
    ] == ["2 time(s) in column 'ts'"]
    dates = f"{tmp_path / 'cmp.csv'}: 2 decision time(s) in column 'ts' are dates without a time"
    assert [n for n in notes if n.startswith(dates)]


def test_times_with_z_an_offset_or_epoch_numbers_get_no_note(tmp_path):
    events = """
    event_id,ts,event_name,user_id
    e1,2026-10-01T10:00:00Z,page_view,u1
    e2,2026-10-01T10:00:00.123+05:30,page_view,u2
    """
    consent = "user_id,purpose,status,ts\nu1,ads,granted,1790000000\n"
    assert _scan(tmp_path, events, consent) == []
    epoch = "event_id,ts,event_name,user_id\ne1,1790000000000,page_view,u1\n"
    assert _scan(tmp_path, epoch) == []


def test_parquet_times_without_a_zone_are_noted_and_with_one_are_not(tmp_path):
    con = duckdb.connect()
    for name, kind in (("naive", "TIMESTAMP"), ("zoned", "TIMESTAMPTZ")):
        con.execute(
            f"COPY (SELECT 'e' || i AS event_id, CAST('2026-10-01 10:00:00' AS {kind}) AS ts, "
            f"'page_view' AS event_name, 'u' || i AS user_id FROM range(3) t(i)) "
            f"TO '{tmp_path / name}.parquet'"
        )
    naive = run_scan([str(tmp_path / "naive.parquet")], config=config()).to_dict()
    assert [n.split(": ", 1)[1][:25] for n in _notes(naive)] == ["3 time(s) in column 'ts' "]
    zoned = run_scan([str(tmp_path / "zoned.parquet")], config=config()).to_dict()
    assert _notes(zoned) == []


def test_the_note_shows_in_the_terminal_and_the_html_report(tmp_path):
    events = write(
        tmp_path / "web.csv", "event_id,ts,event_name,user_id\ne1,2026-10-01 10:00,page_view,u1\n"
    )
    html = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["scan", events, "--html", str(html), "--json", "-"])
    assert result.exit_code in (0, 1), result.output
    said = "1 time(s) in column 'ts' read as UTC, as they carry no Z or UTC offset"
    assert said in " ".join(result.stderr.split())
    assert said in json.loads(result.stdout)["evidence"]["notes"][0]
    assert said.replace("'", "&#39;") in html.read_text() or said in html.read_text()


def test_a_parquet_date_column_is_said_to_hold_no_time_of_day(tmp_path):
    """Hostile 22's (1): 60 events of a Parquet DATE column, their 20 users deciding at 09:00
    that day, read as midnight UTC: every event is before its user's decision. The note said
    only "60 time(s) ... read as UTC"; it now says they are dates without a time of day, and
    how the scan judges them (tests/test_day_only_times.py)."""
    path, consent = hostile22_input(tmp_path)
    doc = run_scan([path], consent=[consent], config=config()).to_dict()
    said = [n for n in doc["evidence"]["notes"] if "'ts'" in n]
    assert said == [
        f"{path}: 60 time(s) in column 'ts' are dates without a time of day: an event dated "
        "on a day (in any time zone) on which its user's consent changed cannot be ordered "
        "against the change and is judged neither way (not a violation, pre-consent event or "
        "conflict); give the times of day to judge them"
    ]
