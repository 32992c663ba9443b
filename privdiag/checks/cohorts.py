"""Funnel cohorts: the users of each consent state at a step, and how many of them go on.

A user's state at a step is the state of their first event there, the state they held when
they reached it; events of one instant in different states count as the denial, as a grant
and a denial of one instant in the consent log do. Each identified user is in one state per
purpose at a step, however often they change their mind there. A user of that cohort goes on
to a later step when they have an event there, in any state, at or after their first event
at the step: the journey's steps are ordered, so a cart added before any page view is no
conversion from the page view. A conversion of a cohort is therefore at most 100%.

Events without a user id cannot be followed from step to step; the funnel check estimates
their users apart (:func:`privdiag.checks.identity.restored`).
"""

from __future__ import annotations

from typing import Any

from privdiag.checks.bits import Masks
from privdiag.checks.context import ScanContext
from privdiag.engine import fetch_rows
from privdiag.journey import Journey

# The rank that breaks a tie of one instant, lowest first: the denial wins.
ENTRY_ORDER: tuple[str, ...] = ("denied", "unknown", "granted")


# One row per source, step and identified user (:func:`build_visits`).
VISITS = "step_visits"


def _rank(p: str) -> str:
    cases = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(ENTRY_ORDER))
    return f"(CASE CAST(state_{p} AS VARCHAR) {cases} END)"


def _counts(ctx: ScanContext, alias: str) -> str:
    """Per purpose and state, the users of ``alias`` whose entry state it is."""
    return ", ".join(
        f"count_true({alias}.entry_{p} = {i}) AS users_{s}_{p}"
        for p in ctx.purposes
        for i, s in enumerate(ENTRY_ORDER)
    )


def build_visits(ctx: ScanContext, rows_sql: str, masks: Masks) -> None:
    """Create the temp table :data:`VISITS`: one row per source, step position and identified
    user of ``rows_sql`` (its columns ``source``, ``pos``, ``ts``, ``user_key`` and the
    states), with the user's first and last instant there, per purpose the rank of their
    entry state (:data:`ENTRY_ORDER`) and the ``masks`` OR-ed over their events there.

    The step counts take their distinct users from it (the masks) and the cohorts their
    users and those going on: one grouping of the step events per user serves both.
    """
    # instant * 4 + rank: the smallest is the first event, the denial first within an instant
    entries = "".join(
        f", ((min(epoch_us(ts) * 4 + {_rank(p)}) % 4) + 4) % 4 AS entry_{p}" for p in ctx.purposes
    )
    ctx.con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {VISITS} AS
        SELECT source, pos, user_key, {masks.merge()},
               min(epoch_us(ts)) AS entered, max(epoch_us(ts)) AS last {entries}
        FROM (SELECT *, {masks.pack()} FROM ({rows_sql}) WHERE user_key IS NOT NULL)
        GROUP BY source, pos, user_key
    """)


def drop_visits(ctx: ScanContext) -> None:
    """Drop :data:`VISITS` once the funnel has read it."""
    ctx.con.execute(f"DROP TABLE IF EXISTS {VISITS}")


def cohort_counts(
    ctx: ScanContext, journey: Journey
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str, str], dict[str, Any]]]:
    """Return the cohorts and their conversions, per purpose P and state S as ``users_S_P``:
    (source, step) -> the identified users whose state on reaching the step is S;
    (source, step, later step) -> those of them who reach the later step after it.

    Reads :data:`VISITS` (:func:`privdiag.checks.identity.step_counts` builds it), joined to
    itself per user for the pairs of steps. Pairs that no cohort user reaches are absent.
    """
    sql = f"""
        SELECT a.source, a.pos, CAST(NULL AS INTEGER) AS later, {_counts(ctx, "a")}
        FROM {VISITS} a GROUP BY a.source, a.pos
        UNION ALL
        SELECT a.source, a.pos, b.pos AS later, {_counts(ctx, "a")}
        FROM {VISITS} a JOIN {VISITS} b
          ON a.source = b.source AND a.user_key = b.user_key
         AND a.pos < b.pos AND b.last >= a.entered
        GROUP BY a.source, a.pos, b.pos
    """
    names = journey.names
    cohorts: dict[tuple[str, str], dict[str, Any]] = {}
    reached: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in fetch_rows(ctx.con, sql):
        step = names[int(row["pos"])]
        if row["later"] is None:
            cohorts[(row["source"], step)] = row
        else:
            reached[(row["source"], step, names[int(row["later"])])] = row
    return cohorts, reached
