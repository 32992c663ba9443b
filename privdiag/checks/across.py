"""Figures of two findings whose difference would tell a small group: a rule run once after
every check of a scan, over the findings' metrics and evidence (never the events).

Each check hides what would tell a small group within its own finding. Across findings the
same group can be told by subtracting a figure of one finding from a figure of another: on a
step of one event a user, the users who deny ads there (a funnel's ``users``, a consent gap's
``events_denied``, the opt-in rates' persons who denied, ``decisions`` less ``granted``) less
the users of the ``consent.violation`` who send gclid while denying it tell the few who deny
ads and lack gclid, a group the consent gap of the cell hides.

The rule: a violation's ``users`` and ``events`` are the leak it reports and are never hidden
here. Every other published count of the population they are part of - the users or events
that denied the purpose at the same source and step, or the persons who denied it at all -
that exceeds one of them by 1 to ``min_group_size`` - 1 is hidden by difference: listed
under ``suppressed_by_difference`` (so the reports read it ``hidden``, not ``<k``) with the
ids of the violations it would be subtracted from under :data:`DIFFERENCE_WITH`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from privdiag.checks.context import hide_by_difference
from privdiag.checks.disclosure import shown_rates, suppress_bias
from privdiag.findings import Finding

#: The metrics key listing the ids of the findings whose figures, less a figure hidden by
#: difference across findings, would tell a small group.
DIFFERENCE_WITH = "difference_with"

# The two sides of an opt-in breakdown biased by missing values.
_SIDES = ("without_value", "with_value")

# A violation's shown count, its finding's id and its feature.
Count = tuple[int, str, str]


@dataclass
class Counts:
    """The violations' shown counts of one population, in order, so that those a figure
    exceeds by 1 to k - 1 are found by bisection: a wide export's 3,000 features made 3,000
    violations of one step, each compared with every other (251 of a 255-second scan)."""

    entries: list[Count] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.entries.sort()
        self.values = [c for c, _, _ in self.entries]

    def __bool__(self) -> bool:
        return bool(self.entries)

    def below(self, n: int, k: int) -> list[Count]:
        """The counts ``n`` exceeds by 1 to ``k`` - 1."""
        return self.entries[bisect_left(self.values, n - k + 1) : bisect_right(self.values, n - 1)]


NONE = Counts()

# (source, step, purpose) -> the violations' shown counts there
Inner = dict[tuple[str, str, str], Counts]


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _inner(findings: Iterable[Finding]) -> Inner:
    """The counts no rule here hides: each violation's shown users and events, by the
    (source, step, purpose) of its denied events, with its id and feature."""
    found: dict[tuple[str, str, str], list[Count]] = {}
    for f in findings:
        if f.kind != "consent.violation":
            continue
        loc, fid = f.location, f.id
        key = (loc.get("source", ""), loc.get("step", ""), loc.get("purpose", ""))
        for name in ("users", "events"):
            if (n := _count(f.metrics.get(name))) is not None:
                found.setdefault(key, []).append((n, fid, loc.get("feature", "")))
    return {key: Counts(entries) for key, entries in found.items()}


def _tells(
    outer: Any, counts: Counts, k: int, but: Callable[[Count], bool] = lambda _c: False
) -> list[str]:
    """The ids of the findings among ``counts`` (``but`` those it is true of) that ``outer``
    exceeds by 1 to k - 1."""
    n = _count(outer)
    if n is None:
        return []
    return sorted({c[1] for c in counts.below(n, k) if not but(c)})


def _mark(metrics: dict[str, Any], keys: list[str], ids: list[str], k: int) -> None:
    """Hide ``keys`` of ``metrics`` by difference with the findings ``ids``."""
    hide_by_difference(metrics, keys, k)
    listed = list(metrics.get(DIFFERENCE_WITH) or [])
    metrics[DIFFERENCE_WITH] = listed + [i for i in ids if i not in listed]


def _shown(metrics: dict[str, Any], *keys: str) -> list[str]:
    """The ``keys`` ``metrics`` shows: one hidden already (as a small count) stays so."""
    return [key for key in keys if metrics.get(key) is not None]


def _blank(table: dict[str, Any] | None, state: str, columns: tuple[int, ...]) -> None:
    """Set the ``columns`` of the row of consent state ``state`` of an evidence table to None."""
    for row in (table or {}).get("rows") or []:
        if row and row[0] == state:
            for c in columns:
                row[c] = None


def _gap(f: Finding, counts: Counts, k: int) -> None:
    """A consent gap's denied events, and its users and events lacking its feature while
    denied (all the denied users where no one denying carries it) beside a violation of
    another feature (its own feature's violation counts the others of its denied users)."""
    m = f.metrics
    feature = f.location.get("feature")
    ids = set(_tells(m.get("events_denied"), counts, k))
    for name in ("users", "events"):
        ids.update(_tells(m.get(name), counts, k, lambda c: c[2] == feature))
    if ids:
        keys = _shown(m, "events_denied", "users", "events", "excess_missing_events")
        _mark(m, keys, sorted(ids), k)
        _blank(f.evidence.get("table"), "denied", (1, 2))


def _violation(f: Finding, counts: Counts, k: int) -> None:
    """A violation's denied events (of the step, whatever the feature) beside another's."""
    fid = f.id
    if ids := _tells(f.metrics.get("denied_events"), counts, k, lambda c: c[1] == fid):
        _mark(f.metrics, _shown(f.metrics, "denied_events", "share"), ids, k)


def _funnel(f: Finding, counts: Counts, k: int) -> None:
    """A funnel drop's users and events denying the purpose at its earlier step; its
    table's users of that state at both steps (their conversion, shown, would tell one
    from the other)."""
    m = f.metrics
    ids = sorted({i for name in ("users", "events") for i in _tells(m.get(name), counts, k)})
    if ids:
        _mark(m, _shown(m, "users", "events"), ids, k)
        _blank(f.evidence.get("table"), "denied", (1, 2))


def _optin(
    evidence: dict[str, Any], raw: dict[str, list[dict[str, Any]]], inner: Inner, k: int
) -> dict[str, Counts]:
    """The opt-in rates (and the breakdowns biased by missing values) whose persons who
    denied, ``decisions`` less ``granted``, exceed a violation's count of the same purpose
    by 1 to k - 1, by value or in all: their granted counts and rates are hidden, and as
    many more of the same dimension as keep the hidden ones' sum from being told. Return
    the violations' counts by purpose."""
    merged: dict[str, list[Count]] = {}
    for (_, _, purpose), counts in sorted(inner.items()):
        merged.setdefault(purpose, []).extend(counts.entries)
    by_purpose = {purpose: Counts(entries) for purpose, entries in merged.items()}
    rates = evidence.get("optin_rates")
    if rates:
        for dim, rows in raw.items():
            rates[dim] = _rates(rates.get(dim) or [], rows, by_purpose, k)
    for entry in evidence.get("optin_missing_values") or []:
        purpose = entry.get("purpose")
        none = [
            r
            for r in (rates or {}).get(entry.get("dimension"), [])
            if (r["purpose"], r["value"]) == (purpose, "(none)")
        ]
        hidden = [r for r in none if r.get(DIFFERENCE_WITH)]  # its side: by difference too
        _bias(entry, by_purpose.get(purpose, NONE), k, hidden[0][DIFFERENCE_WITH] if hidden else [])
    return by_purpose


def _rates(
    shown: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    by_purpose: dict[str, Counts],
    k: int,
) -> list[dict[str, Any]]:
    """One dimension's opt-in rates as shown, hidden again with the persons who denied
    told by a violation's count (``rows``: the rates before hiding)."""

    def tells(purpose: str) -> Callable[[int, int], bool]:
        return lambda n, x: bool(_tells(n - x, by_purpose.get(purpose, NONE), k))

    now = shown_rates(rows, k, tells)
    for before, after in zip(shown, now, strict=True):
        if before.get("granted") is None or after["granted"] is not None:
            continue
        purpose = after["purpose"]
        mine = [r for r in rows if r["purpose"] == purpose]
        totals = [(sum(r["decisions"] for r in mine), sum(r["granted"] for r in mine))]
        pairs = totals + [(r["decisions"], r["granted"]) for r in mine]
        counts = by_purpose.get(purpose, NONE)
        ids = sorted({i for n, x in pairs for i in _tells(n - x, counts, k)})
        _mark(after, ["granted", "optin"], ids, k)
    return now


def _bias(entry: dict[str, Any], counts: Counts, k: int, none_with: list[str]) -> None:
    """A breakdown biased by missing values: its two sides add up to the purpose's persons,
    so both are hidden where either, or their sum, tells a violation's few by difference,
    or where the opt-in rates hide the side without a value by difference with the findings
    ``none_with``."""
    sides = [(entry.get(f"decisions_{s}"), entry.get(f"granted_{s}")) for s in _SIDES]
    if not all(_count(n) is not None and _count(x) is not None for n, x in sides):
        return
    total = (sum(n for n, _ in sides), sum(x for _, x in sides))
    ids = {i for n, x in [*sides, total] for i in _tells(n - x, counts, k)}
    if ids := sorted(ids | set(none_with)):
        why = f"with a consent violation's users they would tell fewer than {k} by difference"
        suppress_bias(entry, k, none_hidden=True, why=why)  # both sides, and the note
        _mark(entry, [f"{kind}_{side}" for side in _SIDES for kind in ("granted", "optin")], ids, k)


def _drop(f: Finding, counts: Counts, k: int) -> None:
    """An opt-in drop whose persons who denied before or after its change (its persons
    times one less its opt-in rate), or on both sides, tell a violation's few: its persons
    are hidden, and its breakdown's (the rates before and after are what it reports)."""
    m = f.metrics
    sides = [(m.get(f"persons_{s}"), m.get(f"optin_{s}")) for s in ("before", "after")]
    if not all(_count(n) is not None and isinstance(r, float | int) for n, r in sides):
        return
    denied = [round(n * (1 - r)) for n, r in sides]
    ids = {i for d in [*denied, sum(denied)] for i in _tells(d, counts, k)}
    if ids:
        _mark(m, _shown(m, "users", "persons_before", "persons_after"), sorted(ids), k)
        for row in (f.evidence.get("table") or {}).get("rows") or []:
            row[2] = row[4] = None


def hide_across(
    findings: list[Finding],
    evidence: dict[str, Any],
    k: int,
    optin_counts: dict[str, list[dict[str, Any]]] | None = None,
) -> None:
    """Hide, in place, the figures of ``findings`` and of the scan's ``evidence`` that
    exceed a violation's users or events of the same population by 1 to ``k`` - 1 (see the
    module's docstring). ``optin_counts`` are the opt-in rates per dimension before any
    was hidden (:func:`privdiag.checks.optin.optin_rates`), which re-hiding them needs.

    Only a violation's own counts are subtracted from: they are never hidden here, so one
    pass in any order gives the same result."""
    if k <= 1:
        return
    inner = _inner(findings)
    if not inner:
        return
    for f in findings:
        loc = f.location
        if f.kind == "funnel.consent_drop":
            step = f.metrics.get("from_step")
        else:
            step = loc.get("step")
        counts = inner.get((loc.get("source", ""), str(step), loc.get("purpose", "")), NONE)
        if not counts:
            continue
        if f.kind == "sparsity.consent_gap":
            _gap(f, counts, k)
        elif f.kind == "consent.violation":
            _violation(f, counts, k)
        elif f.kind == "funnel.consent_drop":
            _funnel(f, counts, k)
    by_purpose = _optin(evidence, optin_counts or {}, inner, k)
    for f in findings:
        if f.kind == "people.optin_drop":
            _drop(f, by_purpose.get(f.location.get("purpose", ""), NONE), k)
