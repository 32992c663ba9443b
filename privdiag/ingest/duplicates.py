"""Duplicates: exact repeats of events and of consent records dropped, events that share an
id but differ reported."""

from __future__ import annotations

from typing import Any

from privdiag.engine import one
from privdiag.ingest.tables import UNMAPPED


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


# What makes two consent records the same decision: every column but ``source``, which is the
# name of the file or folder read (a log given twice under two names, or a copy beside it in
# a folder, differs only there) or of the system that wrote it (two systems logging the same
# decision have logged one decision).
SAME_DECISION = ("user_key", "purpose", "granted", "ts", "version", "region", "device")


def drop_duplicate_consent(con: Any) -> list[str]:
    """Keep one of each set of consent records equal in every column but ``source``; return a
    note on how many were dropped and from which sources (none when none was).

    A repeated record changes no state (a decision given twice is the same decision) but
    would be counted twice by the checks that count records (``consent.conflict``). The kept
    record carries the first of the repeated records' source names in sorting order. A cheap
    count of distinct hashes runs first; the repeats are counted, and the table rewritten,
    only when a hash repeats. The decisions in categories that map to no purpose are kept
    apart: :func:`drop_duplicate_unmapped` drops their repeats.
    """
    same = ", ".join(SAME_DECISION)
    if not _count(con, f"SELECT count(*) - count(DISTINCT hash({same})) FROM consent"):
        return []
    repeats = con.execute(f"""
        SELECT source, count(*) FROM (
            SELECT source, row_number() OVER (PARTITION BY {same} ORDER BY source) AS nth
            FROM consent
        ) WHERE nth > 1 GROUP BY source ORDER BY source""").fetchall()
    if not repeats:  # the hashes collided
        return []
    con.execute(f"""CREATE OR REPLACE TABLE consent AS
        SELECT user_key, purpose, granted, ts, min(source) AS source, version, region, device
        FROM consent GROUP BY {same}""")
    dropped = sum(int(n) for _, n in repeats)
    records = "1 consent record" if dropped == 1 else f"{dropped} consent records"
    return [
        f"{records} repeated another record (the same user, purpose, decision, time, notice "
        "version, region and device, as when a log is given twice or copied) and were counted "
        f"once; the repeats dropped were read from {_names([str(s) for s, _ in repeats])}"
    ]


def drop_duplicate_unmapped(con: Any) -> None:
    """Keep one of each set of decisions in unmapped categories equal in all but their source
    (the first source in sorting order), as :func:`drop_duplicate_consent` keeps one record:
    else a log given twice counted its unmapped decisions twice. Decisions without a user
    are all kept: nothing tells whose they are."""
    same = "category, user_key, decision"
    keyed = f"FROM {UNMAPPED} WHERE user_key IS NOT NULL"
    if not _count(con, f"SELECT count(*) - count(DISTINCT hash({same})) {keyed}"):
        return
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {UNMAPPED} AS
        SELECT min(source) AS source, {same} {keyed} GROUP BY {same}
        UNION ALL SELECT source, {same} FROM {UNMAPPED} WHERE user_key IS NULL""")


def _names(sources: list[str]) -> str:
    """The sources named in a note: the first five, and how many more."""
    shown = ", ".join(sources[:5])
    return shown if len(sources) <= 5 else f"{shown} and {len(sources) - 5} more"


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
