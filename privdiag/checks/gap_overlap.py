"""Consent gaps that another purpose explains.

Users who deny one purpose often deny another too (a "reject all" button denies analytics
and ads at once), so a feature that a pipeline drops when analytics is denied is also
missing far more often when ads is denied, though ads makes no difference to it. Reported,
the ads gap is wrong twice: it names a purpose the feature does not depend on, and its advice
is to map the feature to ads.

For an unclassified feature (or one that needs only ``necessary``) whose gap fires for two
purposes P and Q at the same source and step, the gap of P is measured again on the events
where Q is granted. When that gap is below ``min_gap`` with confidence (the high end of its
interval, on users as the gap test counts them) while the gap of Q on the events where P is
granted is at least ``min_gap``, Q explains P's gap: P's finding is left out, with a note
saying so. When neither can be told apart from the other (every user who denies one denies
the other), both stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations
from typing import Any

import numpy as np

from privdiag.checks.context import EVENTS_WITH_CONSENT, ScanContext, present_sql
from privdiag.engine import fetch_rows
from privdiag.journey import Journey
from privdiag.stats import fisher_greater, share


@dataclass(frozen=True)
class Overlap:
    """A cell whose gap for ``purpose`` is tested again where ``other`` is granted."""

    index: int
    source: str
    step: str
    feature: str
    purpose: str
    other: str


def _candidates(cells: list[tuple[str, str, str, str]]) -> list[Overlap]:
    """Every ordered pair of purposes whose gaps fired for one (source, step, feature)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for source, step, feature, purpose in cells:
        groups.setdefault((source, step, feature), []).append(purpose)
    out: list[Overlap] = []
    for (source, step, feature), purposes in sorted(groups.items()):
        for purpose, other in permutations(sorted(set(purposes)), 2):
            out.append(Overlap(len(out), source, step, feature, purpose, other))
    return out


def _overlap_sql(ctx: ScanContext, journey: Journey, todo: list[Overlap]) -> str:
    """Per (source, step): for each candidate, events and units with its purpose denied and
    granted among the events where the other purpose is granted, and the missing ones."""
    unit = (
        "CASE WHEN e.user_key IS NULL THEN 'e' || CAST(e.event_id AS VARCHAR) "
        "ELSE 'u' || CAST(e.user_key AS VARCHAR) END"
    )
    columns = []
    for o in todo:
        missing = f"NOT {present_sql(o.feature, ctx.features[o.feature])}"
        for state in ("denied", "granted"):
            where = f"e.state_{o.other} = 'granted' AND e.state_{o.purpose} = '{state}'"
            columns += [
                f"count_true({where}) AS n{o.index}_{state}",
                f"count_true({where} AND {missing}) AS x{o.index}_{state}",
                f"count(DISTINCT CASE WHEN {where} THEN {unit} END) AS u{o.index}_{state}",
            ]
    step = journey.step_sql("e.event_name")
    return (
        f"SELECT e.source AS source, {step} AS step, {', '.join(columns)} "
        f"FROM {EVENTS_WITH_CONSENT} WHERE {step} IS NOT NULL GROUP BY ALL"
    )


@dataclass(frozen=True)
class Within:
    """A purpose's gap on the events where the other purpose is granted."""

    gap: float  # missing share denied less granted, on events
    p_value: float  # one-sided exact test on units, as the gap test counts them
    units_denied: int


def _within(row: dict[str, Any], o: Overlap) -> Within:
    """Each unit keeps its state's missing share, as :mod:`privdiag.checks.sparsity` does."""
    states = ("denied", "granted")
    n = {s: float(row[f"n{o.index}_{s}"]) for s in states}
    u = {s: float(row[f"u{o.index}_{s}"]) for s in states}
    shares = {s: float(share(row[f"x{o.index}_{s}"], n[s])) for s in states}
    x = {s: float(np.rint(np.nan_to_num(shares[s]) * u[s])) for s in states}
    p = float(fisher_greater(x["denied"], u["denied"], x["granted"], u["granted"]))
    return Within(shares["denied"] - shares["granted"], p, int(u["denied"]))


def explained_gaps(
    ctx: ScanContext, journey: Journey, cells: list[tuple[str, str, str, str]]
) -> tuple[set[tuple[str, str, str, str]], list[str]]:
    """Return the fired unclassified gap cells (source, step, feature, purpose) that another
    purpose explains, and one note per (source, feature, purpose, other purpose) naming their
    steps. ``cells`` are the fired gaps of features tested against every purpose.

    Assumes ``scan_events`` exists with the ``state_<purpose>`` columns of both purposes.
    """
    todo = _candidates(cells)
    if not todo:
        return set(), []
    rows = {
        (r["source"], r["step"]): r for r in fetch_rows(ctx.con, _overlap_sql(ctx, journey, todo))
    }
    thresholds = ctx.config.thresholds
    within = {
        (o.source, o.step, o.feature, o.purpose, o.other): _within(row, o)
        for o in todo
        if (row := rows.get((o.source, o.step))) is not None
    }

    # P is explained by Q when, where Q is granted, P's gap is small and no test tells it
    # from none (on at least k users denying P there), while Q's gap where P is granted is
    # large and significant. Both conditions cannot hold both ways, so one of two gaps stays.
    explained: dict[tuple[str, str, str, str], list[str]] = {}  # (source, feature, P, Q)
    dropped = set()
    for (source, step, feature, purpose, other), mine in within.items():
        back = within.get((source, step, feature, other, purpose))
        if (
            back is not None
            and mine.units_denied >= ctx.min_group
            and np.nan_to_num(mine.gap) < thresholds.min_gap
            and mine.p_value >= thresholds.alpha
            and np.nan_to_num(back.gap) >= thresholds.min_gap
            and back.p_value < thresholds.alpha
        ):
            dropped.add((source, step, feature, purpose))
            explained.setdefault((source, feature, purpose, other), []).append(step)

    order = {name: k for k, name in enumerate(journey.names)}
    notes = []
    for (source, feature, purpose, other), steps in sorted(explained.items()):
        at = ", ".join(sorted(steps, key=lambda s: order.get(s, len(order))))
        notes.append(
            f"{source}: the consent gap of {feature} with {purpose} denied (at {at}) is not "
            f"reported: {other} consent explains it (where {other} is granted, {feature} is "
            f"missing about as often with {purpose} denied as granted, and users who deny "
            f"{purpose} often deny {other} too)"
        )
    return dropped, notes
