"""Duplicate events: exact repeats dropped, events that share an id but differ reported."""

from __future__ import annotations

from typing import Any

from privdiag.engine import one


def drop_duplicate_events(con: Any) -> list[str]:
    """Drop exact duplicate events (every column equal); return notes on what was found.

    Exports re-sent or overlapping (two daily files sharing an hour) repeat events; counting
    them twice would inflate every rate. Events that share (source, event_id) but differ are
    kept, and said: which one is right cannot be told. A cheap count runs first; the table is
    rewritten only when an event_id repeats.
    """
    repeats = _repeated_ids(con)
    if not repeats:
        return []
    before = _count(con, "SELECT count(*) FROM events")
    con.execute("CREATE OR REPLACE TABLE events AS SELECT DISTINCT * FROM events")
    dropped = before - _count(con, "SELECT count(*) FROM events")
    notes = []
    if dropped:
        notes.append(
            f"{dropped} duplicate events (the same event again, every field equal) were dropped"
        )
    if _repeated_ids(con):
        notes.append(
            f"{_sharing_ids(con)} events share an event_id with another event of their source "
            "but differ; none was dropped"
        )
    return notes


def _repeated_ids(con: Any) -> int:
    """Events whose (source, event_id) another event of the table has too.

    Distinct hashes are counted first: equal ids have equal hashes, so no repeated hash
    means no repeated id, and the slower count of distinct strings runs only when a hash
    repeats (a repeat, or a collision).
    """
    where = "FROM events WHERE event_id IS NOT NULL"
    if not _count(con, f"SELECT count(*) - count(DISTINCT hash(source, event_id)) {where}"):
        return 0
    return _count(con, f"SELECT count(*) - count(DISTINCT (source, event_id)) {where}")


def _sharing_ids(con: Any) -> int:
    """Events whose (source, event_id) is also another event's: every one of them, not only
    the repeats (two events sharing an id are two)."""
    return _count(
        con,
        "SELECT sum(n) FROM (SELECT count(*) AS n FROM events WHERE event_id IS NOT NULL "
        "GROUP BY source, event_id HAVING count(*) > 1)",
    )


def _count(con: Any, sql: str) -> int:
    row = one(con, sql)
    return int(row[0]) if row and row[0] else 0
