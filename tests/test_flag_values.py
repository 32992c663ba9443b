"""Consent flag columns of events are read by their distinct values (privdiag.ingest.generic):
the events compare raw values with those read as granted or denied. The states must be the
ones the per-event reading gives, whatever the column's type, and the fallback beyond
MAX_FLAG_VALUES must give the same."""

from __future__ import annotations

import duckdb
import pytest

from privdiag.config import load_config
from privdiag.engine import connect
from privdiag.ingest import generic, load
from tests.helpers import write

# e1-e7 hand-read: ' Yes ' and 'GRANTED' granted, 'no' and 'Denied' denied, 'maybe' unread
# (a note), '' and NULL no decision.
EVENTS = """
    event_id,user_id,event_name,ts,consent_analytics,consent_ads
    e1,u1,page_view,2024-05-01T10:00:00Z, Yes ,1
    e2,u1,page_view,2024-05-01T10:01:00Z,no,0
    e3,u2,page_view,2024-05-01T10:02:00Z,GRANTED,2
    e4,u2,page_view,2024-05-01T10:03:00Z,maybe,1
    e5,u3,page_view,2024-05-01T10:04:00Z,,
    e6,u3,page_view,2024-05-01T10:05:00Z,Denied,0
    e7,u4,page_view,2024-05-01T10:06:00Z,maybe,
"""
ANALYTICS = [True, False, True, None, None, False, None]
ADS = [True, False, None, True, None, False, None]  # the CSV reader types the column BIGINT


def _flags(tmp_path) -> tuple[list, list, list[str]]:
    con = connect()
    loaded = load(con, [write(tmp_path / "e.csv", EVENTS)], [], load_config(None))
    rows = con.execute(
        "SELECT consent_analytics, consent_ads FROM events ORDER BY event_id"
    ).fetchall()
    notes = [n for _, staged in loaded.staged for n in staged.notes]
    return [r[0] for r in rows], [r[1] for r in rows], notes


def test_flags_read_by_value(tmp_path):
    analytics, ads, notes = _flags(tmp_path)
    assert analytics == ANALYTICS
    assert ads == ADS
    assert any(n.startswith("consent_analytics: 2 events") and "'maybe'" in n for n in notes)
    assert any(n.startswith("consent_ads: 1 event ") for n in notes)  # the 2


def test_many_values_read_event_by_event_alike(tmp_path, monkeypatch):
    monkeypatch.setattr(generic, "MAX_FLAG_VALUES", 2)
    analytics, ads, notes = _flags(tmp_path)
    assert analytics == ANALYTICS
    assert ads == ADS
    assert any(n.startswith("consent_analytics: 2 events") for n in notes)


@pytest.mark.parametrize(
    ("sql_type", "granted", "denied", "expected"),
    [
        ("VARCHAR", [" Yes "], ["no"], "WHEN c IN (' Yes ') THEN TRUE WHEN c IN ('no') THEN FALSE"),
        ("BOOLEAN", [True], [False], "WHEN c IN (TRUE) THEN TRUE WHEN c IN (FALSE) THEN FALSE"),
        ("BIGINT", [1], [0], "WHEN c IN (1) THEN TRUE WHEN c IN (0) THEN FALSE"),
        ("VARCHAR", ["it's"], [], "WHEN c IN ('it''s') THEN TRUE"),
    ],
)
def test_read_by_value_sql(sql_type, granted, denied, expected):
    sql = generic._read_by_value("c", sql_type, {True: granted, False: denied})
    assert sql == f"(CASE {expected} END)"


def test_types_not_written_back_exactly_read_every_value():
    assert generic._read_by_value("c", "DOUBLE", {True: [1.0], False: [0.0]}) == generic.flag("c")


def test_a_column_with_no_known_value_reads_null():
    sql = generic._read_by_value("c", "VARCHAR", {True: [], False: []})
    con = duckdb.connect()
    assert con.execute(f"SELECT {sql} FROM (SELECT 'maybe' AS c)").fetchone() == (None,)
