"""Each event's consent state per purpose at the event's time: granted, denied or unknown.

The state comes from the event's own flag when it carries one, else from the consent log as
of the event's time. The log is resolved by one window over the time-sorted union of events
and consent records per user (faster than an as-of join on large dumps): the last decision
at or before the event wins, and a decision at the same instant as the event counts.
"""

from __future__ import annotations

from typing import Any

from privdiag.engine import STATE_TYPE, one
from privdiag.purposes import PURPOSES

# What resolve() adds per purpose P, as columns named KIND_P.
STATE_KINDS = ("state", "log", "withdrawn", "first", "last_decision")
STATE_COLUMNS = tuple(f"{k}_{p}" for p in PURPOSES for k in STATE_KINDS)


def active_purposes(con: Any) -> list[str]:
    """Return the purposes with any signal: a consent record or an event flag."""
    logged = {r[0] for r in con.execute("SELECT DISTINCT purpose FROM consent").fetchall()}
    flags = ", ".join(f"count(consent_{p}) AS {p}" for p in PURPOSES)
    counts = one(con, f"SELECT {flags} FROM events")
    flagged = {p for p, n in zip(PURPOSES, counts or (), strict=True) if n}
    return [p for p in PURPOSES if p in logged or p in flagged]


# A consent record's kind, packed with its time into one BIGINT so that a single
# last_value() per purpose carries the log's state, whether it is a withdrawal, and when it
# was decided: epoch microseconds * 4 + kind.
DENIED, GRANTED, WITHDRAWN = 0, 1, 2


def _records_sql() -> str:
    """Consent records with their kind: a denial after an earlier grant is a withdrawal.

    Records of one user and purpose are ordered by time, a grant before a denial at the same
    instant (as in the union below); the window runs over the consent log only, which is
    small beside the events.
    """
    return f"""
        SELECT *, epoch_us(ts) * 4 + CASE
            WHEN granted THEN {GRANTED}
            WHEN coalesce(bool_or(granted) OVER (
                PARTITION BY user_key, purpose ORDER BY ts, NOT granted
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), FALSE) THEN {WITHDRAWN}
            ELSE {DENIED} END AS packed
        FROM consent
    """


def _union_sql(purposes: list[str]) -> str:
    """SQL of the time-sorted union: consent records (ord 0) and events with a user (ord 1)."""
    records = ", ".join(
        f"CASE WHEN purpose = '{p}' THEN packed END AS rec_{p}, "
        f"CASE WHEN purpose = '{p}' THEN ts END AS at_{p}, NULL::BOOLEAN AS flag_{p}"
        for p in purposes
    )
    carried = ", ".join(
        f"NULL::BIGINT AS rec_{p}, NULL::TIMESTAMPTZ AS at_{p}, consent_{p} AS flag_{p}"
        for p in purposes
    )
    # Records sort before events at the same instant (ord 0 < 1); among records at one
    # instant a denial sorts last, so contradictory simultaneous records resolve to denied.
    return f"""
        SELECT user_key, ts, 0 AS ord, NOT granted AS tie, NULL::BIGINT AS _row, {records}
        FROM ({_records_sql()})
        UNION ALL
        SELECT user_key, ts, 1 AS ord, FALSE AS tie, rowid AS _row, {carried}
        FROM events WHERE user_key IS NOT NULL
    """


def _state_sql(p: str, flag: str, log: str) -> str:
    return f"""CAST(CASE WHEN {flag} IS NOT NULL
                    THEN CASE WHEN {flag} THEN 'granted' ELSE 'denied' END
                    WHEN {log} IS NOT NULL
                    THEN CASE WHEN {log} THEN 'granted' ELSE 'denied' END
                    ELSE 'unknown' END AS {STATE_TYPE}) AS state_{p}"""


def resolve(con: Any, purposes: list[str]) -> None:
    """Create table ``scan_events``: every event with, per purpose, its state and history.

    Columns per purpose P (:data:`STATE_COLUMNS`): ``state_P`` (granted/denied/unknown),
    ``log_P`` (the log's state or NULL), ``withdrawn_P`` (denied after an earlier grant),
    ``first_P`` (the user's first decision time for P, also when it comes after the event)
    and ``last_decision_P``. The states come out of one sorted window pass (one
    ``last_value`` of the packed record and one ``min`` per purpose) and are joined back to
    the events by rowid, so later checks read one table: a scan of one table runs
    on every core, where a positional join of two runs on one. ``events`` becomes a view of
    the event columns, and the copy it was is dropped to free its memory.
    """
    if not purposes:  # no state to add: the checks read the events as they are
        con.execute("CREATE VIEW scan_events AS SELECT * FROM events")
        return
    windows = ",\n".join(
        f"last_value(rec_{p} IGNORE NULLS) OVER upto AS last_{p},\n"
        f"min(at_{p}) OVER whole AS first_{p}"
        for p in purposes
    )
    kind = {p: f"(((last_{p} % 4) + 4) % 4)" for p in purposes}
    with_log = ",\n".join(
        f"""{_state_sql(p, f"flag_{p}", f"log_{p}")}, log_{p},
            coalesce({kind[p]} = {WITHDRAWN}, FALSE) AS withdrawn_{p}, first_{p},
            CAST(make_timestamp((last_{p} - {kind[p]}) // 4) AS TIMESTAMPTZ)
                AS last_decision_{p}"""
        for p in purposes
    )
    logs = ", ".join(f"{kind[p]} = {GRANTED} AS log_{p}" for p in purposes)
    flags_only = ",\n".join(
        f"""{_state_sql(p, f"consent_{p}", "NULL::BOOLEAN")}, NULL::BOOLEAN AS log_{p},
            FALSE AS withdrawn_{p}, NULL::TIMESTAMPTZ AS first_{p},
            NULL::TIMESTAMPTZ AS last_decision_{p}"""
        for p in purposes
    )
    flags = ", ".join(f"flag_{p}" for p in purposes)
    con.execute(f"""
        CREATE TABLE scan_events AS
        SELECT e.*, c.* EXCLUDE (_row) FROM events e JOIN (
            SELECT _row, {with_log} FROM (SELECT *, {logs} FROM (
                SELECT _row, ord, {flags}, {windows}
                FROM ({_union_sql(purposes)})
                WINDOW upto AS (PARTITION BY user_key ORDER BY ts, ord, tie
                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
                       whole AS (PARTITION BY user_key ORDER BY ts, ord, tie
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            ) WHERE ord = 1)
            UNION ALL
            SELECT rowid AS _row, {flags_only} FROM events WHERE user_key IS NULL
        ) c ON c._row = e.rowid
    """)
    state_columns = ", ".join(f"{k}_{p}" for p in purposes for k in STATE_KINDS)
    con.execute("DROP TABLE events")
    con.execute(f"CREATE VIEW events AS SELECT * EXCLUDE ({state_columns}) FROM scan_events")


def consent_rates(con: Any, purposes: list[str]) -> dict[str, float]:
    """Return, per purpose, the share of events with a decision whose state is granted."""
    if not purposes:
        return {}
    parts = ", ".join(
        f"avg(CASE state_{p} WHEN 'granted' THEN 1.0 WHEN 'denied' THEN 0.0 END) AS {p}"
        for p in purposes
    )
    row = one(con, f"SELECT {parts} FROM scan_events")
    return {
        p: round(float(v), 6) for p, v in zip(purposes, row or (), strict=True) if v is not None
    }
