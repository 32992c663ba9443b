"""Ids that mean "no id": the words trackers send when they have none.

A tag that runs before a visitor is known often sends ``"undefined"``, ``"null"`` or
``"(not set)"`` as the user id. Taken as an id, every such visitor becomes one "user": one
consent state for thousands of people, journeys merged into one, and the consent-state
window serialised on that one user. The loader turns these values into NULL (a user id
falls back to the anonymous id, as an empty one does) and drops consent records keyed by
one, and says so in the scan's notes.
"""

from __future__ import annotations

from typing import Any

from privdiag.engine import literal, one, quote

# Compared case-insensitively with the whole (trimmed) id. "0" is left out: some systems
# number a real account 0.
PLACEHOLDER_IDS = (
    "null",
    "none",
    "nil",
    "nan",
    "undefined",
    "unknown",
    "anonymous",
    "(not set)",
    "not set",
    "n/a",
    "-",
)
# The nil UUID: the advertising id iOS and Android send when the user limits ad tracking,
# one "device" of every such user. Compared as written (no letters), not lowered.
NIL_UUID = "00000000-0000-0000-0000-000000000000"
ID_COLUMNS = ("user_key", "anon_key", "session_key")
_LONGEST = max(len(w) for w in PLACEHOLDER_IDS)


def placeholder_sql(column: str) -> str:
    """SQL true when ``column`` holds a placeholder id (false for NULL and real ids); the
    stagers have trimmed the ids it is given.

    Only values short enough to be a placeholder word are lowered: lower() copies a string;
    a longer one is compared with :data:`NIL_UUID` alone.
    """
    words = ", ".join(literal(w) for w in PLACEHOLDER_IDS)
    return (
        f"coalesce(CASE WHEN strlen({column}) > {_LONGEST} THEN {column} = {literal(NIL_UUID)} "
        f"ELSE lower({column}) IN ({words}) END, FALSE)"
    )


def without_placeholder(expr: str) -> str:
    """SQL of ``expr`` with a placeholder id turned into NULL.

    The stagers whose consent records are keyed like their events (Segment, Snowplow, GA4:
    ``coalesce(user id, anonymous id)``) clean the user id with it before that coalesce, so a
    record and its event fall back to the same anonymous id; the loader's pass over
    ``events`` would see only the events.
    """
    return f"CASE WHEN {placeholder_sql(expr)} THEN NULL ELSE {expr} END"


def _found(con: Any, table: str, columns: list[str]) -> list[str]:
    """The placeholder values ``columns`` of ``table`` hold, lowered, sorted."""
    parts = " UNION ".join(
        f"SELECT DISTINCT lower({quote(c)}) AS v FROM {table} WHERE {placeholder_sql(quote(c))}"
        for c in columns
    )
    return sorted(r[0] for r in con.execute(f"SELECT v FROM ({parts})").fetchall())


def _rebuild_events(con: Any) -> None:
    """Rewrite ``events`` with placeholder ids as NULL, column order kept."""
    user, anon, session = (placeholder_sql(c) for c in ID_COLUMNS)
    fixed = {
        "user_key": f"CASE WHEN {user} THEN CASE WHEN {anon} THEN NULL ELSE anon_key END "
        "ELSE user_key END",
        "anon_key": f"CASE WHEN {anon} THEN NULL ELSE anon_key END",
        "session_key": f"CASE WHEN {session} THEN NULL ELSE session_key END",
        "cookieless": f"cookieless OR ((user_key IS NULL OR {user}) "
        f"AND (anon_key IS NULL OR {anon}))",
    }
    columns = [r[0] for r in con.execute("DESCRIBE events").fetchall()]
    select = ", ".join(f"{fixed[c]} AS {c}" if c in fixed else quote(c) for c in columns)
    con.execute(f"CREATE OR REPLACE TABLE events AS SELECT {select} FROM events")


def clear_placeholder_ids(con: Any, records: int) -> list[str]:
    """Turn placeholder user, anonymous and session ids of ``events`` into NULL and drop the
    ``records`` consent records of a placeholder user (counted by input when the consent
    table was built, :func:`privdiag.ingest.tables.build_consent`); return notes on what was
    found.

    One counting pass over the three id columns; the events table is rewritten only when it
    holds a placeholder, the consent table only when ``records``.
    """
    any_id = " OR ".join(placeholder_sql(c) for c in ID_COLUMNS)
    events = (one(con, f"SELECT count(*) FROM events WHERE {any_id}") or (0,))[0]
    notes = []
    if events:
        words = ", ".join(repr(w) for w in _found(con, "events", list(ID_COLUMNS)))
        _rebuild_events(con)
        notes.append(
            f"placeholder ids ({words}) read as no id, so that visitors without one are not "
            f"merged into one user: events with one as user, anonymous or session id: {events}"
        )
    if records:  # a rebuild, not DELETE, which the Spark engine does not translate
        con.execute(
            "CREATE OR REPLACE TABLE consent AS SELECT * FROM consent "
            f"WHERE NOT {placeholder_sql('user_key')}"
        )
        notes.append(
            "consent records dropped because their user id is a placeholder (they belong to "
            f"no one user, and their inputs' records leave them out): {records}"
        )
    return notes
