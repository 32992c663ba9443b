"""Whether a consent violation's users (or events) are among another figure's: asked of the
events in DuckDB, for the rule across findings (:mod:`privdiag.checks.across`).

A figure less a violation's count tells a small group only where the violation's population
is part of the figure's. Where the findings' metrics cannot say so (the users lacking
another feature while denied, a funnel's cohort denying at its first event, the persons
whose first decision denied), one query per kind of question counts the violation's users
or events outside the figure's population: none outside, the population is nested.

Without a connection, or with more questions than :data:`MOST_QUESTIONS` (the bench's wide
export makes thousands of violations of one step), every pair counts as nested: the figure
is hidden, as the difference of counts alone says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from privdiag.checks.bits import Masks
from privdiag.checks.context import EVENTS_WITH_CONSENT, present_sql
from privdiag.engine import fetch_rows, literal

# Beyond these many questions (or violations to place among the deciders) no query is run.
MOST_QUESTIONS = 400

# The opt-in dimensions (privdiag.checks.optin.DIMENSIONS) and its table of decisions.
_DIMENSIONS = ("version", "region", "device", "channel", "source")
_DECISIONS = "optin_decisions"


@dataclass(frozen=True, order=True)
class Violation:
    """Where a consent violation's events are: the denied events of ``purpose`` at
    (``source``, ``step``) that carry ``feature``."""

    id: str
    source: str
    step: str
    purpose: str
    feature: str
    users: int | None
    denied_events: int | None = None
    # the event names of the journey step ``step`` is one of (a step of several names, as
    # GA4's and Segment's): the populations of a gap or funnel there are of them all
    names: tuple[str, ...] = ()


@dataclass(frozen=True, order=True)
class Question:
    """Is ``violation`` nested in a figure? ``kind``: ``users`` (the users of the step
    lacking ``feature`` while denied), ``events`` (the denied events lacking it) or
    ``cohort`` (the users whose first event at the step denied the purpose)."""

    kind: str
    violation: Violation
    feature: str = ""


class Nesting:
    """The answers for one scan: ``con`` holds the scan's events, ``types`` its feature
    columns' DuckDB types; ``con`` None answers every question nested."""

    def __init__(self, con: Any = None, types: dict[str, str] | None = None) -> None:
        self.con, self.types = con, types or {}
        self.answers: dict[Question, bool] = {}
        self.placed: dict[str, dict[tuple[str, str], int]] | None = None

    def ask(self, questions: set[Question]) -> None:
        """Answer ``questions`` in one query over the events."""
        todo = sorted(q for q in questions if q not in self.answers)
        todo = [q for q in todo if self._known(q.violation, q.feature)]
        if not todo or self.con is None or len(todo) > MOST_QUESTIONS:
            return
        inner, outer = [], []
        for j, q in enumerate(todo):
            i, o = _sql(q, j, self._present)
            inner += i
            outer.append(f"{o} AS q{j}")
        at = " OR ".join(sorted({_at_step(q.violation) for q in todo}))
        found = self._rows(
            f"SELECT {', '.join(outer)} FROM (SELECT e.user_key, {', '.join(inner)} "
            f"FROM {EVENTS_WITH_CONSENT} WHERE {at} GROUP BY e.user_key)"
        )
        if found:
            self.answers |= {q: not found[0][f"q{j}"] for j, q in enumerate(todo)}

    def nested(self, q: Question) -> bool:
        """True unless the events showed a user or event of the violation outside."""
        return self.answers.get(q, True)

    def among_deciders(
        self, v: Violation, dimension: str, values: frozenset[str], everyone: bool
    ) -> bool:
        """True unless the consent log shows fewer of the violation's users whose first
        decision on its purpose denied it with a value of ``dimension`` among ``values``
        (any value with ``everyone``) than the violation has users. A user with several
        first decisions (several devices) counts once a value, so a violation is taken as
        nested rather than not."""
        placed = (self.placed or {}).get(v.id)
        if placed is None or v.users is None:
            return True
        if everyone:
            return placed.get(("", ""), 0) >= v.users
        return (
            sum(n for (dim, value), n in placed.items() if dim == dimension and value in values)
            >= v.users
        )

    def place(self, violations: list[Violation]) -> None:
        """Count each violation's users among the first decisions that denied its purpose,
        per dimension and value (one query; needs the opt-in check's table of decisions)."""
        shown = [v for v in violations if v.users and self._known(v, "")]
        if self.con is None or not shown or len(shown) > MOST_QUESTIONS:
            return
        # one grouping of the violations' steps by user, a bit per violation (a scan of the
        # events per violation took 5.6 CPU-s on the bench's 10M events)
        masks = Masks({f"v{j}": self._violating(v) for j, v in enumerate(shown)})
        at = " OR ".join(sorted({_at(v) for v in shown}))
        # the cheap test first: most events deny nothing, and the bits are tested on the rest
        denied = " OR ".join(sorted({f"e.state_{v.purpose} = 'denied'" for v in shown}))
        any_set = " OR ".join(f"{c} <> 0" for c in masks.columns())
        bit = {name: f"({col} >> {b}) & 1 = 1" for name, col, b in masks.bits()}
        users = f"""SELECT * FROM (
            WITH hits AS (
                SELECT user_key, {masks.merge()} FROM (
                    SELECT e.user_key, {masks.pack()} FROM {EVENTS_WITH_CONSENT}
                    WHERE e.user_key IS NOT NULL AND ({denied}) AND ({at})
                ) WHERE {any_set} GROUP BY user_key
            )
            {
            " UNION ALL ".join(
                f"SELECT {literal(v.id)} AS vid, {literal(v.purpose)} AS purpose, user_key "
                f"FROM hits WHERE {bit[f'v{j}']}"
                for j, v in enumerate(shown)
            )
        })"""
        per = [
            f"SELECT vid, '{d}' AS dim, coalesce(CAST({d} AS VARCHAR), '(none)') AS value, "
            "count(DISTINCT user_key) AS n FROM m GROUP BY ALL"
            for d in _DIMENSIONS
        ]
        per.append(
            "SELECT vid, '' AS dim, '' AS value, count(DISTINCT user_key) AS n FROM m GROUP BY ALL"
        )
        dims = ", ".join(f"d.{d}" for d in _DIMENSIONS)
        rows = self._rows(
            f"""WITH v AS ({users}),
            d AS (SELECT * FROM {_DECISIONS} WHERE nth = 1 AND NOT granted),
            m AS (SELECT v.vid, v.user_key, {dims} FROM v JOIN d
                  ON d.purpose = v.purpose AND d.user_key = v.user_key
                  UNION ALL  -- two equi-joins: a join on either key (OR) ran as a nested loop
                  SELECT v.vid, v.user_key, {dims} FROM v JOIN d
                  ON d.purpose = v.purpose AND d.event_user = v.user_key
                  AND d.event_user <> d.user_key)  -- else the join above has it
            {" UNION ALL ".join(per)}"""
        )
        if rows is None:
            return
        self.placed = {v.id: {} for v in shown}
        for r in rows:
            self.placed[r["vid"]][(r["dim"], r["value"])] = int(r["n"])

    def _rows(self, sql: str) -> list[dict[str, Any]] | None:
        """The rows of ``sql``, or None where the engine cannot run it (Spark translates the
        checks' SQL, not every form): the questions stay unanswered, the figures hidden."""
        try:
            return fetch_rows(self.con, sql)
        except duckdb.Error:  # Spark's errors are duckdb.Error too (privdiag.engines.spark)
            return None

    def _known(self, v: Violation, feature: str) -> bool:
        return v.feature in self.types and (not feature or feature in self.types)

    def _present(self, feature: str) -> str:
        return present_sql(feature, self.types[feature], of="e")

    def _violating(self, v: Violation) -> str:
        p = v.purpose
        return (
            f"{_at(v)} AND e.state_{p} = 'denied' AND NOT e.withdrawn_{p} "
            f"AND {self._present(v.feature)}"
        )


def _at(v: Violation) -> str:
    return f"(e.source = {literal(v.source)} AND e.event_name = {literal(v.step)})"


def _at_step(v: Violation) -> str:
    """The events of the journey step the violation's event name is one of."""
    names = ", ".join(literal(n) for n in sorted(set(v.names) | {v.step}))
    return f"(e.source = {literal(v.source)} AND e.event_name IN ({names}))"


def _sql(q: Question, j: int, present: Any) -> tuple[list[str], str]:
    """The per-user columns of question ``j`` and the count of what lies outside."""
    v, p = q.violation, q.violation.purpose
    at, step, denied = _at(v), _at_step(v), f"e.state_{p} = 'denied'"
    violating = f"{at} AND {denied} AND NOT e.withdrawn_{p} AND {present(v.feature)}"
    outside = f"count_true(user_key IS NOT NULL AND a{j} AND NOT coalesce(b{j}, FALSE))"
    if q.kind == "events":  # a violation's event carrying the other feature lacks it not
        return [f"count_true({violating} AND {present(q.feature)}) AS a{j}"], f"sum(a{j})"
    if q.kind == "users":  # a violation's user with no denied event lacking the feature
        lacking = f"{step} AND {denied} AND NOT {present(q.feature)}"
        return [f"bool_or({violating}) AS a{j}", f"bool_or({lacking}) AS b{j}"], outside
    # cohort: a violation's user whose first event at the step (a tie: the denial) is no denial
    first = f"min(e.ts) FILTER (WHERE {step})"
    first_denied = f"min(e.ts) FILTER (WHERE {step} AND {denied})"
    return [f"bool_or({violating}) AS a{j}", f"{first} = {first_denied} AS b{j}"], outside
