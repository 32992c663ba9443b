"""Figures of two findings whose difference would tell a small group: a rule run once after
every check of a scan, over the findings' metrics and evidence (never the events).

Each check hides what would tell a small group within its own finding. Across findings the
same group can be told by subtracting a figure of one finding from a figure of another: on a
step of one event a user, the users who deny ads there (a funnel's ``users``, a consent gap's
``events_denied``, the opt-in rates' persons who denied, ``decisions`` less ``granted``) less
the users of the ``consent.violation`` who send gclid while denying it tell the few who deny
ads and lack gclid, a group the consent gap of the cell hides.

The rule: a violation's ``users`` and ``events`` are the leak it reports and are never hidden
here. Every other published count of a population they are part of - the users or events
that denied the purpose at the same source and step, or the persons who denied it at all -
that exceeds the count of the same unit (users beside users, events beside events) by 1 to
``min_group_size`` - 1 is hidden by difference: listed under ``suppressed_by_difference``
(so the reports read it ``hidden``, not ``<k``) with the ids of the violations it would be
subtracted from under :data:`DIFFERENCE_WITH`.

Only a population the violation's is nested in counts: the denied events of its step hold
its events by definition; whether the users lacking another feature while denied, a
funnel's denied cohort or the persons whose first decision denied (by value) hold its users
is asked of the events (:mod:`privdiag.checks.nesting`) where the metrics cannot tell.
Figures of populations that merely differ by a few (the app's violation beside the desktop
deniers' opt-in) stay.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from privdiag.checks.context import NO_ID_EVENTS, hide_by_difference
from privdiag.checks.disclosure import Tells, shown_rates, suppress_bias
from privdiag.checks.nesting import Nesting, Question, Violation
from privdiag.findings import Finding

#: The metrics key listing the ids of the findings whose figures, less a figure hidden by
#: difference across findings, would tell a small group.
DIFFERENCE_WITH = "difference_with"

# The two sides of an opt-in breakdown biased by missing values.
_SIDES = ("without_value", "with_value")

#: The unit of a violation's events with a user id: the events of its step and purpose with
#: one (an identity loss's denied events less those without identity) hold them.
IDENTIFIED = "identified_events"

# A violation's count, its finding's id, its feature, the count's unit and the largest size
# at which the count is shown (its users; :data:`SHOWN` where the run's size shows them).
Count = tuple[int, str, str, str, int]

#: The largest size at which a count shown at the run's size is shown: any.
SHOWN = 2**62


@dataclass
class Counts:
    """The violations' shown counts of one population, in order, so that those a figure
    exceeds by 1 to k - 1 are found by bisection: a wide export's 3,000 features made 3,000
    violations of one step, each compared with every other (251 of a 255-second scan)."""

    entries: list[Count] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.entries.sort()
        self.values = [c[0] for c in self.entries]

    def __bool__(self) -> bool:
        return bool(self.entries)

    def below(self, n: int, k: int, unit: str = "") -> list[Count]:
        """The counts (of ``unit``, if given) ``n`` exceeds by 1 to ``k`` - 1, at a size at
        which they are shown: a count hidden at ``k`` (its users fewer) is shown at the
        sizes up to its users, and ``n`` less it tells n - c persons where that is less than
        such a size (a scan at it hides ``n``, so one at ``k`` must)."""
        found = self.entries[bisect_left(self.values, n - k + 1) : bisect_right(self.values, n - 1)]
        return [c for c in found if (not unit or c[3] == unit) and n - c[0] < c[4]]


NONE = Counts()

# (source, step, purpose) -> the violations' shown counts there
Inner = dict[tuple[str, str, str], Counts]


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _identified(metrics: dict[str, Any]) -> int | None:
    """A violation's events with a user id (its events less those without one), where it
    shows its users (none shown: its events may all lack one)."""
    events, users = _count(metrics.get("events")), _count(metrics.get("users"))
    if events is None or not users:
        return None
    return events - (_count(metrics.get(NO_ID_EVENTS)) or 0)


#: A journey step's label and event names by each of its event names.
Steps = dict[str, tuple[str, tuple[str, ...]]]


def _inner(findings: Iterable[Finding], steps: Steps) -> tuple[Inner, dict[str, Violation]]:
    """The counts no rule here hides: each violation's users and events, by the (source,
    step, purpose) of its denied events, with its id, feature, unit and the largest size at
    which they are shown (those of fewer users than the run's size hides, as counted, are
    shown at the smaller sizes); and where each violation is, by id. A violation's step is
    an event name; it is counted under the journey step that name is one of (``steps``), as
    the other checks label their steps: a step of several names (``["view_item", "Product
    Viewed"]``) is labelled by its first."""
    found: dict[tuple[str, str, str], list[Count]] = {}
    where: dict[str, Violation] = {}
    for f in findings:
        if f.kind != "consent.violation":
            continue
        loc, fid, feature = f.location, f.id, f.location.get("feature", "")
        name = loc.get("step", "")
        label, names = steps.get(name, (name, (name,)))
        key = (loc.get("source", ""), label, loc.get("purpose", ""))
        m, upto = f.metrics, SHOWN
        if _count(f.withheld.get("users")):  # hidden here, shown at sizes up to its users
            m, upto = {**f.metrics, **f.withheld}, f.withheld["users"]
        where[fid] = Violation(
            fid,
            key[0],
            name,
            key[2],
            feature,
            _count(m.get("users")),
            _count(m.get("denied_events")),
            names,
        )
        for name in ("users", "events"):
            if (n := _count(m.get(name))) is not None:
                found.setdefault(key, []).append((n, fid, feature, name, upto))
        if (n := _identified(m)) is not None:
            found.setdefault(key, []).append((n, fid, feature, IDENTIFIED, upto))
    return {key: Counts(entries) for key, entries in found.items()}, where


def _tells(
    outer: Any,
    counts: Counts,
    k: int,
    unit: str = "",
    but: Callable[[Count], bool] = lambda _c: False,
) -> list[str]:
    """The ids of the findings among ``counts`` of ``unit`` (``but`` those it is true of)
    that ``outer`` exceeds by 1 to k - 1."""
    n = _count(outer)
    if n is None:
        return []
    return sorted({c[1] for c in counts.below(n, k, unit) if not but(c)})


def _mark(metrics: dict[str, Any], keys: list[str], ids: list[str], k: int) -> None:
    """Hide ``keys`` of ``metrics`` by difference with the findings ``ids`` (none: the
    figures hidden are in its evidence)."""
    if keys:
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


Pairs = list[tuple[Count, Question | None]]


def _gap_pairs(f: Finding, counts: Counts, k: int, where: dict[str, Violation]) -> Pairs:
    """The violations of another feature whose users (events) a consent gap's users (events)
    lacking its feature while denied exceed by 1 to k - 1, each with the question whether
    they are among them; None where the metrics say so: every denied event lacks it."""
    m, feature = f.metrics, f.location.get("feature", "")
    every = _count(m.get("events")) is not None and m.get("events") == m.get("events_denied")
    out: Pairs = []
    for unit in ("users", "events"):
        for c in counts.below(_count(m.get(unit)) or 0, k, unit):
            if c[2] != feature:
                out.append((c, None if every else Question(unit, where[c[1]], feature)))
    return out


def _gap(f: Finding, counts: Counts, k: int, nesting: Nesting, where: dict[str, Violation]) -> None:
    """A consent gap's denied events (they hold every violation's events of the step), and
    its users and events lacking its feature while denied where they hold a violation's of
    another feature (its own feature's violation counts the others of its denied users)."""
    m = f.metrics
    ids = set(_tells(m.get("events_denied"), counts, k, "events"))
    ids.update(c[1] for c, q in _gap_pairs(f, counts, k, where) if q is None or nesting.nested(q))
    if ids:
        keys = _shown(m, "events_denied", "users", "events", "excess_missing_events")
        _mark(m, keys, sorted(ids), k)
        _blank(f.evidence.get("table"), "denied", (1, 2))


def _violation(f: Finding, counts: Counts, k: int, where: dict[str, Violation]) -> None:
    """A violation's denied events (of the step, whatever the feature) beside another's."""
    fid, name = f.id, f.location.get("step", "")

    def apart(c: Count) -> bool:  # itself, or of another event name of a step of several
        return c[1] == fid or where[c[1]].step != name

    if ids := _tells(f.metrics.get("denied_events"), counts, k, "events", apart):
        _mark(f.metrics, _shown(f.metrics, "denied_events", "share"), ids, k)


def _identity(f: Finding, inner: Inner, k: int) -> None:
    """An identity loss's table by consent state: a purpose's denied events less those of
    them without identity are its identified denied events, which hold a violation's events
    with a user id there. Where they exceed them by 1 to k - 1, the events without identity
    and the share of every state of that purpose are hidden (the step's events without
    identity less the other states' would give the denied ones back; the denied events
    themselves a violation shows), and so are the finding's shares by state and its events
    without a state when its purpose is that one."""
    m, source, step = f.metrics, f.location.get("source", ""), f.location.get("step", "")
    rows = (f.evidence.get("table") or {}).get("rows") or []
    for row in [r for r in rows if r[1] == "denied"]:
        purpose, n, noid = row[0], _count(row[2]), _count(row[3])
        counts = inner.get((source, step, purpose), NONE)
        if n is None or noid is None or not (ids := _tells(n - noid, counts, k, IDENTIFIED)):
            continue
        for r in rows:
            if r[0] == purpose:
                r[3] = r[4] = None
        keys = ["share_denied", "share_granted", "events_without_identity_or_consent_state"]
        _mark(m, _shown(m, *keys) if f.location.get("purpose") == purpose else [], ids, k)


def _funnel_identity(f: Finding, counts: Counts, k: int, where: dict[str, Violation]) -> None:
    """A funnel drop's share of events without identity at its earlier step (the larger of
    the two states'): taken as the denied side's, times the denied events there (its own,
    or a violation's ``denied_events``) it gives the identified denied events, which hold
    the violation's events with a user id (see :func:`_identity`)."""
    m = f.metrics
    share = m.get("identity_less_share")
    if not isinstance(share, float | int) or isinstance(share, bool):
        return
    ids = []
    for n, fid, _, unit, upto in counts.entries:
        denied = _count(m.get("events")) or where[fid].denied_events
        told = round(denied * (1 - share)) - n if denied else 0
        if unit == IDENTIFIED and 0 < told < min(k, upto):
            ids.append(fid)
    if ids:
        _mark(m, ["identity_less_share"], sorted(set(ids)), k)


def _funnel_pairs(f: Finding, counts: Counts, k: int, where: dict[str, Violation]) -> Pairs:
    """The violations whose users a funnel drop's denied cohort exceeds by 1 to k - 1, with
    the question whether their users are in it (denying at their first event there)."""
    n = _count(f.metrics.get("users")) or 0
    return [(c, Question("cohort", where[c[1]])) for c in counts.below(n, k, "users")]


def _funnel(
    f: Finding, counts: Counts, k: int, nesting: Nesting, where: dict[str, Violation]
) -> None:
    """A funnel drop's events denying the purpose at its earlier step (they hold the
    violations' events there) and its users (where its denied cohort holds a violation's);
    its table's users of that state at both steps (their conversion, shown, would tell one
    from the other)."""
    m = f.metrics
    ids = set(_tells(m.get("events"), counts, k, "events"))
    ids.update(c[1] for c, q in _funnel_pairs(f, counts, k, where) if q and nesting.nested(q))
    if ids:
        _mark(m, _shown(m, "users", "events"), sorted(ids), k)
        _blank(f.evidence.get("table"), "denied", (1, 2))


@dataclass
class Deciders:
    """The violations' shown users by purpose, and whether the persons whose first decision
    denied it with some values of a dimension hold a violation's users."""

    users: dict[str, Counts]
    nesting: Nesting
    where: dict[str, Violation]
    k: int

    def tell(
        self,
        denied: int,
        purpose: str,
        dim: str,
        values: frozenset[str],
        every: bool,
        k: int | None = None,
    ) -> list[str]:
        """The ids of the violations whose users ``denied`` persons (with ``values`` of
        ``dim``, all of them with ``every``) hold and exceed by 1 to k - 1 (``k``: the run's
        size, or a smaller one it must hide all that hides)."""
        return _tells(
            denied,
            self.users.get(purpose, NONE),
            k or self.k,
            "users",
            lambda c: not self.nesting.among_deciders(self.where[c[1]], dim, values, every),
        )


def _optin(
    evidence: dict[str, Any], raw: dict[str, list[dict[str, Any]]], inner: Inner, deciders: Deciders
) -> dict[str, Counts]:
    """The opt-in rates (and the breakdowns biased by missing values) whose persons who
    denied, ``decisions`` less ``granted``, hold a violation's users of the same purpose and
    exceed them by 1 to k - 1, by value or in all: their granted counts and rates are
    hidden, and as many more of the same dimension as keep the hidden ones' sum from being
    told. Return the violations' counts by purpose."""
    merged: dict[str, list[Count]] = {}
    for (_, _, purpose), counts in sorted(inner.items()):
        merged.setdefault(purpose, []).extend(counts.entries)
    by_purpose = {purpose: Counts(entries) for purpose, entries in merged.items()}
    deciders.users = {p: Counts([c for c in e if c[3] == "users"]) for p, e in merged.items()}
    rates = evidence.get("optin_rates")
    if rates or evidence.get("optin_missing_values"):
        deciders.nesting.place(sorted(deciders.where.values()))
    if rates:
        for dim, rows in raw.items():
            rates[dim] = _rates(dim, rates.get(dim) or [], rows, deciders)
    for entry in evidence.get("optin_missing_values") or []:
        purpose, dim = entry.get("purpose"), entry.get("dimension")
        none = [
            r
            for r in (rates or {}).get(dim, [])
            if (r["purpose"], r["value"]) == (purpose, "(none)")
        ]
        hidden = [r for r in none if r.get(DIFFERENCE_WITH)]  # its side: by difference too
        values = frozenset(r["value"] for r in raw.get(dim, []) if r["purpose"] == purpose)
        _bias(entry, values, deciders, hidden[0][DIFFERENCE_WITH] if hidden else [])
    return by_purpose


def _rates(
    dim: str, shown: list[dict[str, Any]], rows: list[dict[str, Any]], deciders: Deciders
) -> list[dict[str, Any]]:
    """One dimension's opt-in rates as shown, hidden again with the persons who denied
    told by a violation's count (``rows``: the rates before hiding)."""

    def tells(purpose: str) -> Tells:
        values = [r["value"] for r in rows if r["purpose"] == purpose]

        def told(n: int, x: int, groups: frozenset[int], k: int) -> bool:
            mine = frozenset(values[i] for i in groups)
            every = len(groups) == len(values)
            return bool(deciders.tell(n - x, purpose, dim, mine, every, k))

        return told

    now = shown_rates(rows, deciders.k, tells)
    for before, after in zip(shown, now, strict=True):
        if before.get("granted") is None or after["granted"] is not None:
            continue
        purpose = after["purpose"]
        mine = [r for r in rows if r["purpose"] == purpose]
        everyone = frozenset(r["value"] for r in mine)
        denied = sum(r["decisions"] - r["granted"] for r in mine)
        ids = set(deciders.tell(denied, purpose, dim, everyone, True))
        for r in mine:
            one = frozenset([r["value"]])
            ids.update(deciders.tell(r["decisions"] - r["granted"], purpose, dim, one, False))
        _mark(after, ["granted", "optin"], sorted(ids), deciders.k)
    return now


def _bias(
    entry: dict[str, Any], values: frozenset[str], deciders: Deciders, none_with: list[str]
) -> None:
    """A breakdown biased by missing values: its two sides add up to the purpose's persons,
    so both are hidden where either, or their sum, tells a violation's few by difference,
    or where the opt-in rates hide the side without a value by difference with the findings
    ``none_with``."""
    sides = [(entry.get(f"decisions_{s}"), entry.get(f"granted_{s}")) for s in _SIDES]
    if not all(_count(n) is not None and _count(x) is not None for n, x in sides):
        return
    purpose, dim = entry.get("purpose", ""), entry.get("dimension", "")
    (n0, x0), (n1, x1) = sides
    ids = set(deciders.tell(n0 - x0, purpose, dim, frozenset(["(none)"]), False))
    ids.update(deciders.tell(n1 - x1, purpose, dim, values - {"(none)"}, False))
    ids.update(deciders.tell(n0 + n1 - x0 - x1, purpose, dim, values, True))
    if ids := sorted(ids | set(none_with)):
        k = deciders.k
        why = f"with a consent violation's users they would tell fewer than {k} by difference"
        suppress_bias(entry, k, none_hidden=True, why=why)  # both sides, and the note
        _mark(entry, [f"{kind}_{side}" for side in _SIDES for kind in ("granted", "optin")], ids, k)


def _drop(f: Finding, counts: Counts, k: int) -> None:
    """An opt-in drop whose persons who denied before or after its change (its persons
    times one less its opt-in rate), or on both sides, tell a violation's few: its persons
    are hidden, and its breakdown's (the rates before and after are what it reports).
    Persons are compared with a violation's users only: persons less its events count
    nothing."""
    m = f.metrics
    sides = [(m.get(f"persons_{s}"), m.get(f"optin_{s}")) for s in ("before", "after")]
    if not all(_count(n) is not None and isinstance(r, float | int) for n, r in sides):
        return
    denied = [round(n * (1 - r)) for n, r in sides]
    ids = {i for d in [*denied, sum(denied)] for i in _tells(d, counts, k, "users")}
    if ids:
        _mark(m, _shown(m, "users", "persons_before", "persons_after"), sorted(ids), k)
        for row in (f.evidence.get("table") or {}).get("rows") or []:
            row[2] = row[4] = None


def _located(findings: list[Finding], inner: Inner) -> Iterable[tuple[Finding, Counts]]:
    """Each finding with the violations' counts of its source, step and purpose (a funnel
    drop's: of its earlier step), where there are any."""
    for f in findings:
        loc = f.location
        step = f.metrics.get("from_step") if f.kind == "funnel.consent_drop" else loc.get("step")
        counts = inner.get((loc.get("source", ""), str(step), loc.get("purpose", "")), NONE)
        if counts:
            yield f, counts


def journey_labels(steps: Iterable[Any]) -> Steps:
    """Each event name of the journey's ``steps`` (:class:`privdiag.journey.Step`) with its
    step's label and names."""
    return {n: (s.name, s.event_names) for s in steps for n in s.event_names}


def hide_across(
    findings: list[Finding],
    evidence: dict[str, Any],
    k: int,
    optin_counts: dict[str, list[dict[str, Any]]] | None = None,
    nesting: Nesting | None = None,
    steps: Steps | None = None,
) -> None:
    """Hide, in place, the figures of ``findings`` and of the scan's ``evidence`` that hold
    a violation's users or events and exceed them by 1 to ``k`` - 1 (see the module's
    docstring). ``optin_counts`` are the opt-in rates per dimension before any was hidden
    (:func:`privdiag.checks.optin.optin_rates`), which re-hiding them needs; ``nesting``
    asks the scan's events whether a population holds a violation's (without it, every
    one that may is taken to); ``steps`` the journey's steps by event name
    (:func:`journey_labels`), without which a step is its event name.

    Only a violation's own counts are subtracted from: they are never hidden here, so one
    pass in any order gives the same result."""
    if k <= 1:
        return
    inner, where = _inner(findings, steps or {})
    if not inner:
        return
    nesting = nesting or Nesting()
    located = list(_located(findings, inner))
    questions: set[Question] = set()
    for f, counts in located:  # asked at once: one query over the events
        if f.kind == "sparsity.consent_gap":
            questions.update(q for _, q in _gap_pairs(f, counts, k, where) if q)
        elif f.kind == "funnel.consent_drop":
            questions.update(q for _, q in _funnel_pairs(f, counts, k, where) if q)
    nesting.ask(questions)

    for f, counts in located:
        if f.kind == "sparsity.consent_gap":
            _gap(f, counts, k, nesting, where)
        elif f.kind == "consent.violation":
            _violation(f, counts, k, where)
        elif f.kind == "funnel.consent_drop":
            _funnel(f, counts, k, nesting, where)
            _funnel_identity(f, counts, k, where)
    for f in findings:
        if f.kind == "identity.loss":
            _identity(f, inner, k)
    by_purpose = _optin(evidence, optin_counts or {}, inner, Deciders({}, nesting, where, k))
    for f in findings:
        if f.kind == "people.optin_drop":
            _drop(f, by_purpose.get(f.location.get("purpose", ""), NONE), k)
