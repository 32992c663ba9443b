"""The bare SQL floor: the consent join and sparsity aggregation written by hand in DuckDB.

``python -m privdiag.bench.baseline EVENTS CONSENT [THREADS] [MEMORY_LIMIT] [TEMP_DIR]``
reads a bench dump, resolves each event's consent state per purpose by one window over
the time-sorted union of events and consent records (the event's own flag wins), and
counts per step and feature how often the feature is present or missing under each state.
It knows the dump's columns, so it skips everything privdiag must do for unknown inputs
(format detection, validation, fingerprints, findings). Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from privdiag.bench.data import FEATURE_PURPOSES, PURPOSES
from privdiag.checks.context import text_present_sql


def _reader(path: str) -> str:
    if path.endswith(".parquet"):
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', header=true)"


def _state_sql(events: str, consent: str) -> str:
    flags = ", ".join(
        f"CASE consent_{p} WHEN 'granted' THEN TRUE WHEN 'denied' THEN FALSE END AS flag_{p}"
        for p in PURPOSES
    )
    has = ", ".join(f"{text_present_sql(f)} AS has_{f}" for f in FEATURE_PURPOSES)
    records = ", ".join(f"CASE WHEN purpose = '{p}' THEN granted END AS rec_{p}" for p in PURPOSES)
    no_records = ", ".join(f"NULL::BOOLEAN AS rec_{p}" for p in PURPOSES)
    no_event = ", ".join(
        ["NULL::VARCHAR AS event_name"]
        + [f"NULL::BOOLEAN AS flag_{p}" for p in PURPOSES]
        + [f"NULL::BOOLEAN AS has_{f}" for f in FEATURE_PURPOSES]
    )
    carried = ", ".join(
        ["event_name"] + [f"flag_{p}" for p in PURPOSES] + [f"has_{f}" for f in FEATURE_PURPOSES]
    )
    states = ", ".join(
        f"coalesce(flag_{p}, last_value(rec_{p} IGNORE NULLS) OVER w) AS st_{p}" for p in PURPOSES
    )
    return f"""
        WITH ev AS (
            SELECT coalesce(CAST(user_id AS VARCHAR), anonymous_id) AS user_key,
                   CAST(ts AS TIMESTAMPTZ) AS ts, event_name, {flags}, {has}
            FROM {_reader(events)}
        ), u AS (
            SELECT CAST(user_id AS VARCHAR) AS user_key, CAST(ts AS TIMESTAMPTZ) AS ts,
                   0 AS ord, status <> 'granted' AS tie, {records}, {no_event}
            FROM (SELECT *, status = 'granted' AS granted FROM {_reader(consent)})
            UNION ALL
            SELECT user_key, ts, 1, FALSE, {no_records}, {carried} FROM ev
        )
        SELECT * FROM (
            SELECT ord, {carried}, {states} FROM u
            WINDOW w AS (PARTITION BY user_key ORDER BY ts, ord, tie
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        ) WHERE ord = 1
    """


def pipeline_sql(events: str, consent: str) -> str:
    """SQL returning, per step, events and per feature its presence under each consent state."""
    parts = []
    for f, p in FEATURE_PURPOSES.items():
        parts += [
            f"count(*) FILTER (WHERE has_{f} AND st_{p} = FALSE) AS {f}_denied",
            f"count(*) FILTER (WHERE has_{f} AND st_{p} IS NULL) AS {f}_unknown",
            f"count(*) FILTER (WHERE NOT has_{f} AND st_{p}) AS {f}_missing_granted",
            f"count(*) FILTER (WHERE NOT has_{f} AND NOT st_{p}) AS {f}_missing_denied",
        ]
    return f"""
        SELECT event_name, count(*) AS events, {", ".join(parts)}
        FROM ({_state_sql(events, consent)}) GROUP BY event_name ORDER BY event_name
    """


def run(
    events: str,
    consent: str,
    threads: int | None = None,
    memory_limit: str | None = None,
    temp_dir: str | None = None,
) -> dict[str, Any]:
    """Run the bare pipeline once; return its seconds and the events it counted."""
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    if temp_dir:
        con.execute("SET temp_directory = ?", [temp_dir])
    rows = con.execute(pipeline_sql(events, consent)).fetchall()
    return {"seconds": time.perf_counter() - start, "events": sum(r[1] for r in rows)}


if __name__ == "__main__":
    args: list[Any] = [a or None for a in sys.argv[1:6]]
    sys.stdout.write(json.dumps(run(*args)) + "\n")
