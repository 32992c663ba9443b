"""Run a scan's independent checks at once, each on a cursor of its own to the scan's tables.

A check's queries do not keep both cores busy all the time: a grouping's last phase and
the distinct counts run on one thread. Run one after another, the checks of a 10M-event dump
left a core idle for much of their time; run together, one check's single-threaded phase
overlaps another's parallel one (docs/BENCH.md, eleventh session).

Each part of the scan records what ran, its notes and its evidence in a :class:`Result` of
its own; they are merged into the scan's in the parts' order once all have ended, so the
outcome does not depend on which finished first. A part that reads the TEMP tables of the
scan's connection (they are per connection in DuckDB) runs on that connection itself, so at
most one part may. Spark, and a scan asked for one thread, run the parts one after another.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, CancelledError, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any

from privdiag.checks.context import ScanContext
from privdiag.findings import Finding
from privdiag.result import Result


@dataclass(frozen=True)
class Part:
    """One independent piece of a scan: ``run(ctx, result)`` returns findings and records
    into ``result`` what ran or was skipped, notes and evidence."""

    name: str
    run: Callable[[ScanContext, Result], list[Finding]]
    #: it reads TEMP tables of the scan's own connection, so it runs on that connection
    own_connection: bool = False
    #: its CPU seconds on a large dump, roughly: the costliest parts start first, so that
    #: the last to start are short ones and no core waits long for one part at the end
    cost: float = 1.0


def workers(ctx: ScanContext) -> int:
    """How many parts run at once: as many as DuckDB has threads (all cores unless set), at
    least two; one on an engine without cursors (Spark) or when one thread was asked for."""
    if not hasattr(ctx.con, "cursor") or ctx.config.engine.name != "duckdb":
        return 1
    threads = ctx.config.engine.threads or os.cpu_count() or 1
    return 1 if threads == 1 else max(2, threads)


def run_parts(ctx: ScanContext, result: Result, parts: list[Part]) -> list[Finding]:
    """Run ``parts`` (at once where :func:`workers` allows) and return their findings in the
    parts' order, having merged what each recorded into ``result`` in that order too.

    The first part to fail stops the others (their queries are interrupted) and its error
    is raised, as the same failure would be when run alone.
    """
    if sum(p.own_connection for p in parts) > 1:
        raise ValueError("at most one part can run on the scan's own connection")
    if workers(ctx) == 1 or len(parts) < 2:
        return [f for part in parts for f in part.run(ctx, result)]
    fragments = [
        Result(command=result.command, min_group_size=result.min_group_size) for _ in parts
    ]
    stopping = threading.Event()
    cursors = [None if p.own_connection else _Cursor(ctx.con, stopping) for p in parts]
    pool = ThreadPoolExecutor(max_workers=workers(ctx), thread_name_prefix="privdiag-check")
    submitted = {
        i: pool.submit(parts[i].run, replace(ctx, con=cursors[i] or ctx.con), fragments[i])
        for i in sorted(range(len(parts)), key=lambda i: -parts[i].cost)
    }
    futures = [submitted[i] for i in range(len(parts))]
    try:
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        # of the parts failed by then, the first in order: as one after another would raise
        if failed := [f.exception() for f in futures if f in done and f.exception()]:
            raise failed[0]
    except BaseException:  # a failed part, or Ctrl-C while waiting: stop the others
        stopping.set()
        for future in futures:
            future.cancel()
        # an interrupt ends only the query running then: a part between the stopping check
        # and DuckDB starting its query would run on, so interrupt until every part is done
        while not all(f.done() for f in futures):
            for con in cursors:
                (con or ctx.con).interrupt()
            wait(futures, timeout=0.05)
        raise
    finally:
        pool.shutdown(wait=True)
        for cursor in cursors:
            if cursor is not None:
                cursor.close()
    for fragment in fragments:
        _merge(result, fragment)
    return [f for future in futures for f in future.result()]


def _merge(result: Result, fragment: Result) -> None:
    """Add what a part recorded to the scan's result, after what is there."""
    result.checks += fragment.checks
    result.inputs += fragment.inputs
    notes = fragment.evidence.pop("notes", [])
    result.evidence |= fragment.evidence
    result.note(*notes)


class _Cursor:
    """A cursor of the scan's database for one part: times read in UTC, and no query started
    once the scan is stopping (interrupting ends only the query running then)."""

    def __init__(self, con: Any, stopping: threading.Event) -> None:
        self._cursor = con.cursor()
        self._cursor.execute("SET TimeZone = 'UTC'")  # a session setting: not inherited
        self._stopping = stopping

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        if self._stopping.is_set():
            raise CancelledError
        return self._cursor.execute(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)
