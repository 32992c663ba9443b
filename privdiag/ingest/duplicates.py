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
            "but differ; none was dropped (an export without event ids, as GA4's, gets ids "
            "privdiag makes from each event's user, time, name and bundle: events alike in "
            "those, such as pings of one microsecond, share one)"
        )
    return notes


# What makes two consent records the same decision: every column but ``source``, which is the
# name of the file or folder read (a log given twice under two names, or a copy beside it in
# a folder, differs only there) or of the system that wrote it (two systems logging the same
# decision have logged one decision), and ``_input``, the position of the input it was read
# from. The loader has turned an empty version, region or device into NULL (a CSV reads an
# empty field as NULL, NDJSON as ''), so that the same log in both formats is one log.
SAME_DECISION = ("user_key", "purpose", "granted", "ts", "version", "region", "device")
# The order in which the copies of one decision are ranked: the first kept. The input the
# user gave first wins (``backup_of_cmp_log.csv`` given after ``cmp_log.csv`` does not take
# the log's findings); within one input, the source name that sorts first.
FIRST_READ = "_input, source"


def drop_duplicate_consent(con: Any) -> list[str]:
    """Keep one of each set of consent records equal in every column but ``source`` and
    ``_input``, and one of each set of equal decisions in categories that map to no purpose
    (:func:`drop_duplicate_unmapped`); return a note on how many were dropped and from which
    sources (none when none was).

    A repeated record changes no state (a decision given twice is the same decision) but
    would be counted twice by the checks that count records (``consent.conflict``,
    ``consent.unmapped_category``). The kept record is the one read from the input given
    first (:data:`FIRST_READ`), and carries its source name. A cheap count of distinct
    hashes runs first; the repeats are counted, and the table rewritten, only when a hash
    repeats.
    """
    records = _drop_repeated_records(con)
    unmapped = drop_duplicate_unmapped(con)
    dropped = sum(records.values()) + sum(unmapped.values())
    if not dropped:
        return []
    counted = "1 consent record" if dropped == 1 else f"{dropped} consent records"
    were = "was" if dropped == 1 else "were"
    apart = sum(unmapped.values())
    of_which = (
        f" ({apart} of them in categories that map to no purpose)"
        if apart and apart < dropped
        else (" (in categories that map to no purpose)" if apart else "")
    )
    return [
        f"{counted} repeated another record (the same user, purpose, decision, time, notice "
        f"version, region and device, as when a log is given twice or copied) and {were} counted "
        f"once{of_which}; the repeats dropped were read from "
        f"{_names(sorted(set(records) | set(unmapped)))}"
    ]


def _drop_repeated_records(con: Any) -> dict[str, int]:
    """Drop the repeats of ``consent`` (see :func:`drop_duplicate_consent`); return how many
    were dropped per source they were read from."""
    same = ", ".join(SAME_DECISION)
    if not _count(con, f"SELECT count(*) - count(DISTINCT hash({same})) FROM consent"):
        return {}
    repeats = _repeats(con, "consent", same, "TRUE")
    if not repeats:  # the hashes collided
        return repeats
    con.execute(f"""CREATE OR REPLACE TABLE consent AS
        SELECT * FROM consent
        QUALIFY row_number() OVER (PARTITION BY {same} ORDER BY {FIRST_READ}) = 1""")
    return repeats


def drop_duplicate_unmapped(con: Any) -> dict[str, int]:
    """Keep one of each set of decisions in unmapped categories equal in all but their source
    and input (the one read first, :data:`FIRST_READ`), as :func:`drop_duplicate_consent`
    keeps one record: else a log given twice counted its unmapped decisions twice. Decisions
    without a user are all kept: nothing tells whose they are. Return how many were dropped
    per source they were read from."""
    same = "category, user_key, decision"
    keyed = f"FROM {UNMAPPED} WHERE user_key IS NOT NULL"
    if not _count(con, f"SELECT count(*) - count(DISTINCT hash({same})) {keyed}"):
        return {}
    repeats = _repeats(con, UNMAPPED, same, "user_key IS NOT NULL")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {UNMAPPED} AS
        SELECT source, {same}, _input {keyed}
        QUALIFY row_number() OVER (PARTITION BY {same} ORDER BY {FIRST_READ}) = 1
        UNION ALL SELECT source, {same}, _input FROM {UNMAPPED} WHERE user_key IS NULL""")
    return repeats


def _repeats(con: Any, table: str, same: str, where: str) -> dict[str, int]:
    """Per source, the rows of ``table`` (those ``where`` holds) that repeat one read before
    them: equal in the columns ``same``, later in :data:`FIRST_READ` order."""
    rows = con.execute(f"""
        SELECT source, count(*) FROM (
            SELECT source, row_number() OVER (PARTITION BY {same} ORDER BY {FIRST_READ}) AS nth
            FROM {table} WHERE {where}
        ) WHERE nth > 1 GROUP BY source""").fetchall()
    return {str(s): int(n) for s, n in rows}


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
