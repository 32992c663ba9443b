"""Unit tests for the fixes the hostile corpus drove, each failing without its fix."""

from __future__ import annotations

import io
import re

import duckdb
import pytest

from privdiag.cli import Outputs, _progress
from privdiag.config import Config
from privdiag.errors import InputError
from privdiag.ingest import drop_duplicate_events, load
from privdiag.ingest.file_checks import explain_read_error
from privdiag.ingest.sqlparts import any_ts
from privdiag.privacy import REDACTED, scrub
from tests.helpers import write


def test_ip_after_a_dotted_name_is_redacted_but_versions_stay():
    assert scrub("[features.203.0.113.9]") == f"[features.{REDACTED}]"
    assert scrub("seen at 10.0.0.1.") == f"seen at {REDACTED}."
    assert scrub("v1.2.3.4.5") == "v1.2.3.4.5"


def test_control_characters_never_leave():
    assert scrub("a\x1b[2Jb\rc\u202ed\te\nf") == "a\ufffd[2Jb\ufffdc\ufffdd\te\nf"


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("1790848800", 2026),
        ("1790848800000", 2026),
        ("1790848800000000", 2026),
        ("1790848800000000000", 2026),
        ('"1790848800"', 2026),
        ('"2026-10-01T10:00:00Z"', 2026),
    ],
)
def test_any_ts_units_and_quoted_json_text(text, year):
    value = duckdb.connect().execute(f"SELECT {any_ts(repr(text))}").fetchone()[0]
    assert value.year == year and (value.month, value.day, value.hour) == (10, 1, 10)


def test_exact_duplicates_dropped_and_same_id_conflicts_kept_and_said():
    con = duckdb.connect()
    con.execute("""CREATE TABLE events AS SELECT * FROM (VALUES
        ('e1', 'a', TIMESTAMPTZ '2026-10-01 10:00:00+00', 'x', 0),
        ('e1', 'a', TIMESTAMPTZ '2026-10-01 10:00:00+00', 'x', 0),
        ('e1', 'a', TIMESTAMPTZ '2026-10-01 09:00:00+00', 'y', 0),
        ('e1', 'b', TIMESTAMPTZ '2026-10-01 10:00:00+00', 'x', 1),
        (NULL, 'a', TIMESTAMPTZ '2026-10-01 10:00:00+00', 'x', 0))
        AS t(event_id, source, ts, event_name, _input)""")
    assert drop_duplicate_events(con) == [
        "1 duplicate events (the same event again, every field equal) were dropped",
        # after the exact repeat is dropped, two events of source a share e1: both are counted
        "2 events share an event_id with another event of their source but differ; none was "
        "dropped (an export without event ids, as GA4's, gets ids privdiag makes from each "
        "event's user, time, name and bundle: events alike in those, such as pings of one "
        "microsecond, share one)",
    ]
    kept = con.execute("SELECT source, event_name FROM events ORDER BY ALL").fetchall()
    assert kept == [("a", "x"), ("a", "x"), ("a", "y"), ("b", "x")]
    con.execute("DELETE FROM events WHERE event_name = 'y'")
    assert drop_duplicate_events(con) == []


def test_invalid_utf8_names_the_true_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n" + b"x" * 5_000_000 + b",1\n3,\xff\n")
    err = explain_read_error([path], "CSV Error on Line: 1 ... Invalid unicode")
    assert isinstance(err, InputError) and "line 4 is not UTF-8" in str(err)


def test_contradictory_log_records_at_one_instant_are_kept_for_the_check(tmp_path):
    events = write(tmp_path / "e.csv", "ts,event_name,user_id\n2026-10-01T10:00:00Z,a,u1\n")
    consent = write(
        tmp_path / "c.csv",
        "user_id,purpose,status,ts\n"
        "u1,ads,granted,2026-10-01T09:00:00Z\nu1,ads,denied,2026-10-01T09:00:00Z\n",
    )
    con = duckdb.connect()
    load(con, [events], [consent], Config())
    assert con.execute("SELECT count(*) FROM consent").fetchone()[0] == 2


def test_progress_lines_do_not_interpret_markup_from_paths(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Tty()
    monkeypatch.setattr("sys.stderr", fake)
    say = _progress(Outputs(quiet=False))
    assert say is not None
    say("reading /data/[/]x[red]y.csv")  # rich would raise MarkupError on '[/]'
    say.close()  # the phase lines are printed when the command ends
    plain = re.sub(r"\x1b\[[0-9;]*m", "", fake.getvalue())
    assert "[/]x[red]y.csv" in plain


def test_a_ragged_row_deep_in_a_file_is_named(tmp_path):
    from typer.testing import CliRunner

    from privdiag.cli import app

    rows = ["event_id,ts,event_name,user_id"]
    rows += [f"e{i},2026-10-01T10:00:00Z,pv,uid-{i}" for i in range(3000)]
    rows[2000] = "e1999,2026-10-01T10:00:00Z,pv,uid-x,extra,more"
    path = tmp_path / "deep.csv"
    path.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(app, ["scan", str(path)])
    assert result.exit_code == 3
    assert "deep.csv line 2001 has 6 fields, its header 4" in result.output


def test_a_data_column_named_rowid_does_not_replace_the_row_number(tmp_path):
    from privdiag.scan import run_scan
    from tests.helpers import config

    data = write(
        tmp_path / "r.csv",
        "ts,event_name,user_id,ROWID,consent_ads,gclid\n"
        + "".join(
            f"2026-10-01T10:0{i}:00Z,a,u{i},1,{'denied' if i % 2 else 'granted'},g\n"
            for i in range(6)
        ),
    )
    cfg = config()
    from privdiag.config import FeatureConfig

    cfg.features["gclid"] = FeatureConfig(purposes=["ads"])
    doc = run_scan([data], config=cfg).to_dict()
    violation = [f for f in doc["findings"] if f["kind"] == "consent.violation"]
    assert [f["metrics"]["events"] for f in violation] == [3]
