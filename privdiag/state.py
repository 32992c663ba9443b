"""Each event's consent state per purpose at the event's time: granted, denied or unknown.

The state comes from the event's own flag when it carries one, else from the consent log as
of the event's time. The log is resolved by one window over the time-sorted union of events
and consent records per user (faster than an as-of join on large dumps): the last decision
at or before the event wins, and a decision at the same instant as the event counts.
"""

from __future__ import annotations

from typing import Any

from privdiag.engine import one
from privdiag.purposes import PURPOSES


def active_purposes(con: Any) -> list[str]:
    """Return the purposes with any signal: a consent record or an event flag."""
    logged = {r[0] for r in con.execute("SELECT DISTINCT purpose FROM consent").fetchall()}
    flags = ", ".join(f"count(consent_{p}) AS {p}" for p in PURPOSES)
    counts = one(con, f"SELECT {flags} FROM events")
    flagged = {p for p, n in zip(PURPOSES, counts or (), strict=True) if n}
    return [p for p in PURPOSES if p in logged or p in flagged]


def _log_columns(purposes: list[str]) -> tuple[str, str]:
    """SQL for the union's per-purpose record columns, and the window expressions over them."""
    records = ",\n".join(f"CASE WHEN purpose = '{p}' THEN granted END AS rec_{p}" for p in purposes)
    windows = ",\n".join(
        f"last_value(rec_{p} IGNORE NULLS) OVER w AS log_{p},\n"
        f"bool_or(rec_{p}) OVER w AS ever_{p},\n"
        f"max(CASE WHEN rec_{p} IS NOT NULL THEN ts END) OVER w AS decided_{p}"
        for p in purposes
    )
    return records, windows


def resolve(con: Any, purposes: list[str]) -> None:
    """Create table ``event_consent``: events' keys plus per purpose its state and history.

    Columns per purpose P: ``state_P`` (granted/denied/unknown), ``log_P`` (the log's state or
    NULL), ``withdrawn_P`` (denied after an earlier grant), ``first_P`` (the user's first
    decision time for P, also when it comes after the event) and ``last_decision_P``.
    """
    if not purposes:
        con.execute("CREATE TABLE event_consent AS SELECT rowid AS _row FROM events")
        return
    records, windows = _log_columns(purposes)
    nulls = ", ".join(f"NULL::BOOLEAN AS rec_{p}" for p in purposes)
    first = ",\n".join(f"min(ts) FILTER (WHERE purpose = '{p}') AS first_{p}" for p in purposes)

    # Records sort before events at the same instant (ord 0 < 1); among records at one
    # instant a denial sorts last, so contradictory simultaneous records resolve to denied.
    con.execute(f"""
        CREATE TEMP TABLE log_state AS
        WITH u AS (
            SELECT user_key, ts, 0 AS ord, NOT granted AS tie, NULL::BIGINT AS _row, {records}
            FROM consent
            UNION ALL
            SELECT user_key, ts, 1 AS ord, FALSE AS tie, rowid AS _row, {nulls}
            FROM events WHERE user_key IS NOT NULL
        )
        SELECT * EXCLUDE (ord, tie) FROM (
            SELECT _row, ord, tie, {windows}
            FROM u
            WINDOW w AS (PARTITION BY user_key ORDER BY ts, ord, tie
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        ) WHERE ord = 1
    """)
    con.execute(f"""
        CREATE TEMP TABLE first_decision AS
        SELECT user_key, {first} FROM consent GROUP BY user_key
    """)

    state_cols = ",\n".join(
        f"""CASE WHEN e.consent_{p} IS NOT NULL
                 THEN CASE WHEN e.consent_{p} THEN 'granted' ELSE 'denied' END
                 WHEN l.log_{p} IS NOT NULL
                 THEN CASE WHEN l.log_{p} THEN 'granted' ELSE 'denied' END
                 ELSE 'unknown' END AS state_{p},
            l.log_{p},
            coalesce(NOT l.log_{p} AND l.ever_{p}, FALSE) AS withdrawn_{p},
            f.first_{p},
            l.decided_{p} AS last_decision_{p}"""
        for p in purposes
    )
    con.execute(f"""
        CREATE TABLE event_consent AS
        SELECT e.rowid AS _row, {state_cols}
        FROM events e
        LEFT JOIN log_state l ON l._row = e.rowid
        LEFT JOIN first_decision f ON f.user_key = e.user_key
    """)
    con.execute("DROP TABLE log_state")
    con.execute("DROP TABLE first_decision")


def consent_rates(con: Any, purposes: list[str]) -> dict[str, float]:
    """Return, per purpose, the share of events with a decision whose state is granted."""
    if not purposes:
        return {}
    parts = ", ".join(
        f"avg(CASE state_{p} WHEN 'granted' THEN 1.0 WHEN 'denied' THEN 0.0 END) AS {p}"
        for p in purposes
    )
    row = one(con, f"SELECT {parts} FROM event_consent")
    return {
        p: round(float(v), 6) for p, v in zip(purposes, row or (), strict=True) if v is not None
    }
