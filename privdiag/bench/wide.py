"""The bench's wide row: a flat export of few events and thousands of feature columns.

Some teams export one column per event parameter. Such a file is small but wide, and what
costs there is not the rows but the statements: DuckDB plans an expression per column, and
one of its optimizers takes time that grows with the square of a statement's expressions
(:data:`privdiag.engine.WIDE_PROJECTION`). The row scans a seeded CSV of
:data:`EVENTS` events and ``BENCH_WIDE_COLUMNS`` feature columns (3,000 by default) and sets
it beside a floor that reads the same file into a DuckDB table and counts each column's
present values in one query.

``python -m privdiag.bench.wide CSV`` runs that floor and prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from privdiag.bench.measure import best_of

if TYPE_CHECKING:
    from privdiag.bench import Settings

EVENTS = 600
USERS = 50


def write_wide(folder: Path, columns: int) -> Path:
    """Write ``wide.csv`` (``columns`` features ``f0``..., each present on about half the
    events, seeded), ``consent.csv`` (every other user denies ads) and a ``privdiag.toml``
    mapping every feature to ads into ``folder``; return the events file."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    events = folder / "wide.csv"
    features = ", ".join(
        f"CASE WHEN hash(i, {j}) % 2 = 0 THEN 'v' || (hash(i, {j}) % 1000) END AS f{j}"
        for j in range(columns)
    )
    con = duckdb.connect()
    con.execute(f"""COPY (
        SELECT 'e' || i AS event_id,
               TIMESTAMPTZ '2026-10-01 00:00:00+00' + i * INTERVAL 1 MINUTE AS ts,
               'page_view' AS event_name, 'u' || (i % {USERS}) AS user_id, {features}
        FROM range({EVENTS}) t(i)) TO '{events}' (HEADER)""")
    con.execute(f"""COPY (
        SELECT 'u' || i AS user_id, 'ads' AS purpose,
               CASE WHEN i % 2 = 0 THEN 'granted' ELSE 'denied' END AS status,
               TIMESTAMPTZ '2026-09-30 00:00:00+00' AS ts
        FROM range({USERS}) t(i)) TO '{folder / "consent.csv"}' (HEADER)""")
    con.close()
    (folder / "privdiag.toml").write_text('[features."f*"]\npurposes = ["ads"]\n', "utf-8")
    return events


def floor(path: str) -> dict[str, float]:
    """Read the wide CSV into a table and count each column's present values; the seconds."""
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path}', header=true)")
    names = [r[0] for r in con.execute("DESCRIBE t").fetchall()]
    con.execute("SELECT " + ", ".join(f'count("{n}")' for n in names) + " FROM t").fetchall()
    return {"seconds": time.perf_counter() - start, "columns": len(names)}


def lines(settings: Settings, scan_args: list[str]) -> list[str]:
    """Markdown lines: the wide scan against its floor (none when the row is turned off).
    ``scan_args`` is the privdiag command line up to ``scan``'s own arguments."""
    if not settings.wide_columns:
        return []
    folder = settings.out / "bench-data" / f"wide-{settings.wide_columns}"
    events = write_wide(folder, settings.wide_columns)
    command = [
        *scan_args,
        "scan",
        str(events),
        "--consent",
        str(folder / "consent.csv"),
        "--config",
        str(folder / "privdiag.toml"),
        "--json",
        str(folder / "scan.json"),
        "--fail-on",
        "critical",
        "--quiet",
    ]
    scan = best_of(command, settings.repeat)
    if scan.code not in (0, 1):
        return ["", f"Wide export: the scan failed (exit {scan.code})."]
    base = best_of([sys.executable, "-m", "privdiag.bench.wide", str(events)], settings.repeat)
    seconds = json.loads(base.stdout)["seconds"] if base.code == 0 else None
    against = (
        f"{scan.seconds / base.seconds:.1f}x reading it into DuckDB and counting each "
        f"column's values ({base.seconds:.2f} s, {seconds:.2f} s of it DuckDB's)"
        if seconds is not None
        else f"its floor failed (exit {base.code})"
    )
    return [
        "",
        f"Wide flat export ({EVENTS} events x {settings.wide_columns:,} feature columns, CSV): "
        f"privdiag scan {scan.seconds:.2f} s, peak {scan.peak_mb:,.0f} MB; {against}.",
    ]


if __name__ == "__main__":
    sys.stdout.write(json.dumps(floor(sys.argv[1])) + "\n")
