"""The journey: the ordered steps (event names) the checks break findings down by.

Steps come from ``[journey] steps`` in the config. Without it they are inferred: first from
the GA4 and Segment e-commerce event names found in the data (a step may match one name of
each vocabulary, so a GA4 and a Segment export share steps), else from the order in which
event names occur within users' sessions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from privdiag.checks.compliance import CONSENT_MECHANISM_EVENTS
from privdiag.config import Config
from privdiag.config_values import closest
from privdiag.engine import literal
from privdiag.privacy import looks_like_id

# E-commerce steps in funnel order: the GA4 name, then the Segment spec name.
ECOMMERCE_STEPS: tuple[tuple[str, ...], ...] = (
    ("page_view", "Page Viewed"),
    ("view_item_list", "Product List Viewed"),
    ("select_item", "Product Clicked"),
    ("view_item", "Product Viewed"),
    ("add_to_cart", "Product Added"),
    ("view_cart", "Cart Viewed"),
    ("begin_checkout", "Checkout Started"),
    ("add_shipping_info", "Checkout Step Completed"),
    ("add_payment_info", "Payment Info Entered"),
    ("purchase", "Order Completed"),
)

# An inferred order keeps at most this many event names, the most frequent ones.
MAX_INFERRED_STEPS = 8


@dataclass(frozen=True)
class Step:
    """One journey step: its label (an event name) and every event name that counts as it."""

    name: str
    event_names: tuple[str, ...]


@dataclass(frozen=True)
class Journey:
    """The steps in order and how they were found: "config", "ecommerce" or "order"."""

    steps: tuple[Step, ...]
    origin: str

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def step_sql(self, column: str = "event_name") -> str:
        """SQL mapping an event name to its step label (NULL when the event is no step)."""
        if not self.steps:
            return "NULL::VARCHAR"
        cases = " ".join(
            f"WHEN {column} IN ({', '.join(literal(n) for n in s.event_names)}) "
            f"THEN {literal(s.name)}"
            for s in self.steps
        )
        return f"(CASE {cases} END)"

    def index_sql(self, column: str = "event_name") -> str:
        """SQL giving an event's step position (0-based), NULL when the event is no step."""
        if not self.steps:
            return "NULL::INTEGER"
        cases = " ".join(
            f"WHEN {column} IN ({', '.join(literal(n) for n in s.event_names)}) THEN {i}"
            for i, s in enumerate(self.steps)
        )
        return f"(CASE {cases} END)"

    def label_sql(self, column: str) -> str:
        """SQL giving the step label of a step position (:meth:`index_sql`)."""
        if not self.steps:
            return "NULL::VARCHAR"
        cases = " ".join(f"WHEN {i} THEN {literal(s.name)}" for i, s in enumerate(self.steps))
        return f"(CASE {column} {cases} END)"


def _event_counts(con: Any) -> dict[str, int]:
    rows = con.execute(
        "SELECT event_name, count(*) FROM events WHERE event_name IS NOT NULL GROUP BY 1"
    ).fetchall()
    return {name: int(n) for name, n in rows}


def _ecommerce(present: dict[str, int]) -> list[Step]:
    steps = []
    for names in ECOMMERCE_STEPS:
        found = tuple(n for n in names if n in present)
        if found:
            steps.append(Step(found[0], found))
    return steps


def _by_order(con: Any, present: dict[str, int]) -> list[Step]:
    """Order the most frequent event names by their mean relative position within sessions.

    A session is the session key, else the user and day. Each name's first occurrence in a
    session is ranked among that session's first occurrences; names seen in one session
    only say nothing about order and are left out, and so are blank names (a configured
    step may not be blank, so init could not write them), and the consent mechanism's own
    events (a banner shown, a choice recorded): they are no step of a customer's journey,
    and a funnel from the banner by consent state would only restate the choice.
    """
    mechanism = ", ".join(literal(n) for n in sorted(CONSENT_MECHANISM_EVENTS))
    rows = con.execute(f"""
        WITH firsts AS (
            SELECT coalesce(session_key, user_key || ':' || CAST(ts::DATE AS VARCHAR)) AS s,
                   event_name, min(ts) AS first_ts
            FROM events
            WHERE trim(event_name) <> ''
              AND lower(trim(event_name)) NOT IN ({mechanism})
              AND coalesce(session_key, user_key) IS NOT NULL
            GROUP BY ALL
        ), ranked AS (
            SELECT s, event_name,
                   percent_rank() OVER (PARTITION BY s ORDER BY first_ts, event_name) AS pos,
                   count(*) OVER (PARTITION BY s) AS names_in_session
            FROM firsts
        )
        SELECT event_name, avg(pos) AS pos, count(*) AS sessions
        FROM ranked WHERE names_in_session > 1
        GROUP BY 1 HAVING count(*) > 1
        ORDER BY sessions DESC, event_name
    """).fetchall()
    kept = rows[:MAX_INFERRED_STEPS]
    kept.sort(key=lambda r: (r[1], -r[2], r[0]))
    return [Step(name, (name,)) for name, _, _ in kept]


def journey_steps(con: Any, config: Config) -> Journey:
    """Return the journey of the ``events`` table: configured, e-commerce names, or order.

    Configured steps are kept in the config's order, those absent from the data included (a
    step nobody reaches is worth seeing); a step of several names is labelled by the first
    of them that an event has (Segment's ``Product Viewed`` of ``["view_item", "Product
    Viewed"]`` in a Segment export), so a report names the step as its events do. An
    inferred journey has at least two steps, else it is empty: one event name orders
    nothing.
    """
    present = _event_counts(con)
    if config.steps:  # a step of several names: by its first that events have, else its first
        names = [(s,) if isinstance(s, str) else tuple(s) for s in config.steps]
        labels = [next((x for x in n if x in present), n[0]) for n in names]
        return Journey(
            tuple(Step(label, n) for label, n in zip(labels, names, strict=True)), "config"
        )
    ecommerce = _ecommerce(present)
    if len(ecommerce) >= 2:
        return Journey(tuple(ecommerce), "ecommerce")
    ordered = _by_order(con, present)
    if len(ordered) >= 2:
        return Journey(tuple(ordered), "order")
    return Journey((), "none")


def empty_steps_note(config: Config, journey: Journey) -> list[str]:
    """Return a note when ``[journey] steps`` is written as an empty list: the journey is then
    inferred as if the key were absent, which the config's reader may not expect."""
    if config.steps is None or config.steps:
        return []
    how = {
        "ecommerce": "from the e-commerce event names",
        "order": "from the order of event names in sessions",
    }.get(journey.origin)
    found = f"inferred {how}" if how else "inferred, and none was found (fewer than two steps)"
    return [
        f"[journey] steps is an empty list, read as no steps given: the journey was {found}; "
        "list the journey's event names there, or remove the key"
    ]


def absent_steps_note(con: Any, journey: Journey) -> list[str]:
    """Return a note naming the configured steps that no event is named (a typo, or another
    vocabulary: ``add_to_cart`` against Segment's ``Product Added``): every check by step
    finds nothing there, which read as a clean step. Event names are not quoted."""
    if journey.origin != "config":
        return []
    present = _event_counts(con)
    absent = [s.name for s in journey.steps if not set(s.event_names) & set(present)]
    if not absent:
        return []
    said = (
        f"none of the steps of [journey] steps ({', '.join(absent)}) names an event"
        if len(absent) == len(journey.steps)
        else f"the step(s) {', '.join(absent)} of [journey] steps name no event"
    )
    hints = [
        f"{name}: did you mean {near}?" for name in absent if (near := _nearest(name, present))
    ]
    where = f" ({'; '.join(hints)})" if hints else ""
    return [
        f"{said} of the inputs (names are compared as written, case too), so the checks by "
        f"step find nothing there; check the steps against the event names{where}"
    ]


def _folded(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


def _nearest(step: str, present: dict[str, int]) -> str | None:
    """Return the event name of the inputs that ``step`` most likely means: its twin of the
    other vocabulary (Segment's ``Page Viewed`` for the ``page_view`` its page calls read
    as), else the name it matches but for case, spaces and punctuation or a typo. A name
    that looks like an identifier is never offered."""
    names = [n for n in present if not looks_like_id(n)]
    for twins in ECOMMERCE_STEPS:
        if step in twins:
            found = [n for n in twins if n in names]
            if found:
                return found[0]
    folded = {_folded(n): n for n in sorted(names, key=lambda n: (-present[n], n))}
    near = closest(_folded(step), list(folded), cutoff=0.8)
    return folded[near] if near is not None else None
