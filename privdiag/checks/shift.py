"""Shifts: the days a feature's daily missing share, or a purpose's consent rate, changes.

Each series' best change point (see :func:`privdiag.stats.change_point`) is tested on unit
counts (users, or events without a user, once a day) because one user's events are far from
independent, and weighed against how much the days vary beyond those counts (a visit's
cookieless pings are not independent either); then Benjamini-Hochberg across all series,
and a change of at least ``min_gap``. A series that shifts is searched for more changes on
either side of its first (:func:`privdiag.stats.further_changes`): a banner change and,
weeks later, the tag fix that followed it are two changes of one series, and one finding
lists both. A change is linked to a notice version first seen that day, or to a
consent-rate change on the same day for one of the purposes the feature needs (any, when it
is unclassified). The days and segments
of too few users are kept from telling what those users chose by
:mod:`privdiag.checks.shift_privacy`; the series and changes are those of
:mod:`privdiag.checks.shift_series`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np

from privdiag.checks.context import EVENTS_WITH_CONSENT, ScanContext, hide, present_sql
from privdiag.checks.shift_privacy import (
    drawn_shares,
    few_days,
    hidden_note,
    hide_small_sides,
    keep_segments_of_enough_users,
    off_hidden_days,
    reportable,
    shown,
)
from privdiag.checks.shift_series import Change, Series, between
from privdiag.findings import Finding
from privdiag.mapping import owner_for
from privdiag.privacy import looks_like_id
from privdiag.stats import (
    ChangePoint,
    bh_adjust,
    change_point,
    days_apart,
    further_changes,
    rounded,
)

# The most changes one series reports beside its first: months of daily data may hold a
# banner change, a tag fix and a release; more than that is a noisy series, not news.
MAX_FURTHER_CHANGES = 4

# The fewest days with events on either side of a change reported: a series whose best change
# falls in the last two days of the window (a weekend, a partial last day of the export) or
# its first two reports none until a third day follows it, so a nightly audit does not find
# it one night and resolve it the next. The best change is found among all the days, so that
# one near the end is not moved back onto a day before it.
MIN_DAYS_EACH_SIDE = 3

# The advice of a feature's shift that no consent change of its day explains; the root-cause
# chains replace it where the shift follows an opt-in drop (privdiag.chains).
NO_CAUSE_ADVICE = "look for a release, tag or pipeline change that day."


def days_covered(con: Any) -> int:
    """Return how many calendar days (UTC) the events cover, counted up to 2 (a shift needs
    two): from the first and last event times, not a distinct count over every event."""
    row = con.execute(
        "SELECT CASE WHEN count(ts) = 0 THEN 0 WHEN min(ts)::DATE = max(ts)::DATE THEN 1 "
        "ELSE 2 END FROM events"
    ).fetchone()
    return int(row[0]) if row else 0


def _daily(ctx: ScanContext) -> dict[str, np.ndarray]:
    """One grouped query: per (source, day, event name) events, present values, consent.

    ``scale`` is the day's units (users, or events without a user) per event: the tests
    count each unit once, since one user's events are far from independent. Days are
    grouped as dates and formatted once per group (formatting every event's time costs a
    third of the query). Each event without a user is one unit, whatever its id: a missing
    id or one shared by distinct events (exact repeats are dropped at ingestion) must not
    shrink the day's weight, and counting needs no grouping by id. The users are counted
    exactly, though the weight is never shown and the count is two thirds of the query:
    ``approx_count_distinct`` (10M bench events: 1.0 against 2.8 CPU-s) is another
    HyperLogLog on Spark, whose p-values then differ from DuckDB's.
    """
    parts = [
        f"count_true({present_sql(f, t)}) AS p{j}"
        for j, (f, t) in enumerate(sorted(ctx.features.items()))
    ]
    for p in ctx.purposes:
        parts.append(f"count_true(e.state_{p} = 'granted') AS g_{p}")
        parts.append(f"count_true(e.state_{p} IN ('granted', 'denied')) AS d_{p}")
    sql = f"""
        WITH per_day AS (
            SELECT source, ts::DATE AS day,
                   (count(DISTINCT user_key)
                    + count_true(user_key IS NULL)) / count(*)
                   AS scale
            FROM events GROUP BY ALL
        ), grouped AS (
            SELECT e.source, e.ts::DATE AS day, e.event_name, count(*) AS n
                   {"".join(", " + part for part in parts)}
            FROM {EVENTS_WITH_CONSENT}
            GROUP BY ALL
        )
        SELECT g.* EXCLUDE (day), strftime(g.day, '%Y-%m-%d') AS day, d.scale
        FROM grouped g JOIN per_day d USING (source, day)
        ORDER BY g.source, g.day
    """
    return {k: np.asarray(v) for k, v in ctx.con.execute(sql).fetchnumpy().items()}


def _by_day(index: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(index, weights=weights.astype(float), minlength=size)


def _detect(x: np.ndarray, n: np.ndarray, scale: np.ndarray) -> ChangePoint | None:
    """Change point tested on unit counts (``scale`` per day), shares reported on events."""
    cp = change_point(x * scale, n * scale)
    if cp is None or not days_apart(n, cp.index, MIN_DAYS_EACH_SIDE):
        return None
    k = cp.index
    before, after = x[:k].sum() / n[:k].sum(), x[k:].sum() / n[k:].sum()
    return replace(cp, before=float(before), after=float(after))


def _series(ctx: ScanContext, data: dict[str, np.ndarray]) -> list[Series]:
    """Build every feature's missing-share series and every purpose's consent-rate series.

    A feature's series counts only the event names that ever carry it, so that a feature
    sent on purchase alone is not diluted by page views.
    """
    out: list[Series] = []
    for source in np.unique(data["source"]):
        rows = data["source"] == source
        days = sorted(set(data["day"][rows].tolist()))
        index = np.searchsorted(days, data["day"][rows])
        names, n = data["event_name"][rows], data["n"][rows]
        scale = np.ones(len(days))
        scale[index] = data["scale"][rows]
        for j, feature in enumerate(sorted(ctx.features)):
            present = data[f"p{j}"][rows]
            carriers = np.isin(names, names[present > 0])
            total = _by_day(index[carriers], n[carriers], len(days))
            missing = total - _by_day(index[carriers], present[carriers], len(days))
            if (cp := _detect(missing, total, scale)) is not None:
                found = Series(str(source), days, missing, total, cp, scale, feature=feature)
                found.carriers = sorted({str(x) for x in names[present > 0]})
                out.append(found)
        for p in ctx.purposes:
            granted = _by_day(index, data[f"g_{p}"][rows], len(days))
            decided = _by_day(index, data[f"d_{p}"][rows], len(days))
            if (cp := _detect(granted, decided, scale)) is not None:
                out.append(Series(str(source), days, granted, decided, cp, scale, purpose=p))
    return out


def _changes(s: Series, level: float, min_gap: float) -> list[Change]:
    """Return the changes of a series that shifts, in time order: its first (``s.cp``) and
    those :func:`~privdiag.stats.further_changes` finds on the unit counts at p-values of at
    most ``level``. Each change's shares are those of the segments between it and its
    neighbours, on events; a further change of less than ``min_gap`` between its segments
    is dropped (the smallest first, as its neighbours' segments then grow), the first never.
    With no further change, the shares are those of the whole series before and after it.
    """
    # one more than is listed, to tell a series that holds more changes than it lists
    found = further_changes(
        s.x * s.scale,
        s.n * s.scale,
        s.cp.index,
        level,
        MAX_FURTHER_CHANGES + 1,
        days=MIN_DAYS_EACH_SIDE,
    )
    s.more = len(found) > MAX_FURTHER_CHANGES
    found = found[:MAX_FURTHER_CHANGES]
    p_values = {s.cp.index: s.cp.p_value} | dict(found)
    while True:
        changes = between(s, p_values)
        small = [c for c in changes if c.index != s.cp.index and abs(c.delta) < min_gap]
        if not small:
            return changes
        del p_values[min(small, key=lambda c: abs(c.delta)).index]


def new_versions(con: Any, k: int = 1) -> dict[str, list[str]]:
    """Return day -> notice versions first seen that day in the consent log (not the first).

    A version is named only when at least ``k`` users (``min_group_size``) decided under it
    and it does not look like an identifier (:func:`~privdiag.privacy.looks_like_id`): a
    version column that holds consent receipt ids, or a version one user was shown, would
    name that user in a title.
    """
    rows = con.execute("""
        SELECT strftime(min(ts), '%Y-%m-%d') AS day, version, count(DISTINCT user_key)
        FROM consent WHERE version IS NOT NULL AND trim(version) <> ''
        GROUP BY version ORDER BY 1, 2
    """).fetchall()
    if not rows:
        return {}
    first = rows[0][0]
    out: dict[str, list[str]] = {}
    for day, version, users in rows:
        if day > first and users >= k and not looks_like_id(str(version)):
            out.setdefault(day, []).append(str(version))
    return out


def _shift_metrics(s: Series, k: int) -> dict[str, Any]:
    """The first change's figures (its shares those of the segments beside it), then every
    change in time order under ``changes``; a share of a small side (and the change that
    would tell it from the other share) null, the first change's listed under
    ``suppressed`` (:meth:`Series.published`)."""
    after = slice(s.cp.index, None)
    metrics = {
        "events": int(s.n[after].sum()),
        "share": rounded(s.cp.after),
        "before": rounded(s.cp.before),
        "after": rounded(s.cp.after),
        "change": rounded(s.delta),
        "change_day": s.day,
        "days_before": int((s.n[: s.cp.index] > 0).sum()),
        "days_after": int((s.n[after] > 0).sum()),
        "p_value": float(f"{s.cp.p_value:.3g}"),
        "q_value": float(f"{s.q:.3g}"),
        "changes": [_change_metrics(s, c) for c in s.changes],
    }
    before, after_share = s.published(_first(s))
    hidden = ([] if before is not None else ["before"]) + (
        [] if after_share is not None else ["after", "share"]
    )
    return hide(metrics, [*hidden, "change"] if hidden else [], k)


def _first(s: Series) -> Change:
    """The change of ``s`` its headline tells (``s.cp``'s)."""
    return next(c for c in s.changes if c.index == s.cp.index)


def _change_metrics(s: Series, c: Change) -> dict[str, Any]:
    """One change's day, shares (null where hidden) and p-value."""
    before, after = s.published(c)
    both = before is not None and after is not None
    return {
        "day": s.on(c),
        "before": None if before is None else rounded(before),
        "after": None if after is None else rounded(after),
        "change": rounded(c.delta) if both else None,
        "p_value": float(f"{c.p_value:.3g}"),
    }


def _from_to(shares: tuple[float | None, float | None]) -> str:
    """A change's shares in words: "from 90% to 20%", or only the one shown ("from 90%",
    "to 20%"), or "" when both are hidden."""
    before, after = shares
    return " ".join(
        ([f"from {before:.0%}"] if before is not None else [])
        + ([f"to {after:.0%}"] if after is not None else [])
    )


def _label(shares: tuple[float | None, float | None]) -> str:
    """A change's mark on a chart: "90% to 30%", or the shares shown in words."""
    before, after = shares
    if before is not None and after is not None:
        return f"{before:.0%} to {after:.0%}"
    return _from_to(shares) or "change (shares hidden)"


def _versions(s: Series, versions: dict[str, list[str]]) -> list[str]:
    """The notice versions first seen on the days the series changes, in time order."""
    return [v for c in s.changes for v in versions.get(s.on(c), [])]


def _marks(s: Series, versions: dict[str, list[str]]) -> list[dict[str, str]]:
    marks = []
    for c in s.changes:
        day = s.on(c)
        marks.append({"x": day, "label": _label(s.published(c))})
        marks += [{"x": day, "label": f"notice version {v}"} for v in versions.get(day, [])]
    return marks


def _moved(verb: str, shares: tuple[float | None, float | None], day: str) -> str:
    """A change in words: ``verb``, the shares shown (:func:`_from_to`) and its ``day``."""
    return " ".join(filter(None, [verb, _from_to(shares), "on", day]))


def _further(s: Series, said: dict[str, str]) -> str:
    """The title's words on the changes beside the first, each followed by what ``said``
    holds for its day (what happened to consent then, in brackets)."""
    words = [
        _moved("rose" if c.delta > 0 else "fell", s.published(c), s.on(c)) + said.get(s.on(c), "")
        for c in s.changes
        if c.index != s.cp.index
    ]
    more = (
        f" (and more changes, not listed: privdiag lists {MAX_FURTHER_CHANGES + 1} a series, "
        "so a share beside them may blend several levels)"
        if s.more
        else ""
    )
    return f"; it also {' and '.join(words)}{more}" if words else ""


def _rate_finding(ctx: ScanContext, s: Series, versions: dict[str, list[str]]) -> Finding:
    verb = "rose" if s.delta > 0 else "fell"
    first = versions.get(s.day, [])
    link = f", the day notice version {', '.join(first)} appeared" if first else ""
    metrics = _shift_metrics(s, ctx.min_group) | {"notice_versions": _versions(s, versions)}
    return Finding(
        "sparsity.shift",
        "high" if abs(s.delta) >= 0.3 else "medium",
        _moved(f"The {s.purpose} consent rate {verb}", s.published(_first(s)), s.day)
        + link
        + _further(s, {d: f" (notice version {', '.join(v)})" for d, v in versions.items()}),
        {"source": s.source, "purpose": s.purpose or ""},
        metrics,
        f"Check what changed in the consent banner or notice on {s.day} (version, wording, "
        "default choice, placement); features needing this purpose thin out with the rate.",
        owner_for(ctx.config, source=s.source),
        evidence={
            "series": {
                "title": f"Daily {s.purpose} consent rate ({s.source})",
                "x": s.days,
                "series": {f"{s.purpose} consent rate": shown(s)},
                "marks": _marks(s, versions),
                "note": hidden_note([s], ctx.min_group),
            }
        },
    )


@dataclass(frozen=True)
class RateLink:
    """A consent-rate change on a day a feature's series changes: the rate's series, its
    finding, and its change that day."""

    series: Series
    finding: Finding
    change: Change

    def words(self, day: str) -> str:
        """The rate's change in words, its own day named when it is not ``day``."""
        shares = _from_to(self.series.published(self.change))
        on = self.series.on(self.change)
        return (
            f"the {self.series.purpose} consent rate "
            + (f"went {shares}" if shares else "changed (its shares hidden)")
            + (f" on {on}" if on != day else "")
        )

    def shares(self) -> dict[str, Any]:
        """The rate's change as a feature's finding lists it (shares hidden as its own)."""
        metrics = _change_metrics(self.series, self.change)
        return {"purpose": self.series.purpose} | {
            key: metrics[key] for key in ("day", "before", "after")
        }


#: How many days apart a consent-rate change and a feature's change may start and still be
#: one change: two series of one cause, weighed differently (a rate by the events with a
#: decision, a missing share by those of the names carrying the feature), put their change
#: points a day apart as often as not.
RATE_LINK_DAYS = 1


def _near(day: str, other: str) -> bool:
    """True when the days ``day`` and ``other`` ('YYYY-MM-DD') are RATE_LINK_DAYS or fewer
    apart."""
    return abs((date.fromisoformat(day) - date.fromisoformat(other)).days) <= RATE_LINK_DAYS


def _links(day: str, versions: dict[str, list[str]], rates: list[RateLink]) -> list[str]:
    """What happened to consent on ``day``: notice versions first seen, consent-rate changes
    (starting that day or the day beside it)."""
    seen = versions.get(day)
    links = [f"notice version {', '.join(seen)} first seen that day"] if seen else []
    return links + [r.words(day) for r in rates if _near(r.series.on(r.change), day)]


def _feature_finding(
    ctx: ScanContext, s: Series, versions: dict[str, list[str]], rates: list[RateLink]
) -> Finding:
    verb = "rose" if s.delta > 0 else "fell"
    links = _links(s.day, versions, rates)
    others = [c for c in s.changes if c.index != s.cp.index]
    unexplained = [s.on(c) for c in others if not _links(s.on(c), versions, rates)]
    metrics = _shift_metrics(s, ctx.min_group) | {
        "notice_versions": _versions(s, versions),
        "consent_rate_changes": [r.shares() for r in rates],
    }
    lines = {f"{s.feature} missing share": shown(s)}
    lines |= {f"{r.series.purpose} consent rate": shown(r.series) for r in rates}
    # a missing share that fell is coverage that rose with consent: no lower coverage to plan
    followed = (
        "plan for the lower coverage."
        if s.delta > 0
        else "its coverage rose with consent and falls back when consent does."
    )
    same_day = bool(versions.get(s.day)) or any(r.series.on(r.change) == s.day for r in rates)
    advice = f"Compare how {s.feature} was collected before and after {s.day}: " + (
        f"the consent change {'that day' if same_day else 'a day apart'} explains it; {followed}"
        if links
        else NO_CAUSE_ADVICE
    )
    if unexplained and links:
        advice += (
            f" No consent change explains the change on {', '.join(unexplained)}: look for "
            "a release, tag or pipeline change then."
        )
    explained = {
        s.on(c): " (" + "; ".join(found) + ")"
        for c in others
        if (found := _links(s.on(c), versions, rates))
    }
    return Finding(
        "sparsity.shift",
        "high" if links and abs(s.delta) >= 0.3 else "medium",
        _moved(f"{s.feature} missing share {verb}", s.published(_first(s)), s.day)
        + (f" ({'; '.join(links)})" if links else "")
        + _further(s, explained),
        {"source": s.source, "feature": s.feature or ""},
        metrics,
        advice,
        owner_for(ctx.config, source=s.source, feature=s.feature, prefer="feature"),
        caused_by=list(dict.fromkeys(r.finding.id for r in rates)),
        evidence={
            "series": {
                "title": f"Daily {s.feature} missing share ({s.source})",
                "x": s.days,
                "series": lines,
                "marks": _marks(s, versions),
                "note": hidden_note([s, *(r.series for r in rates)], ctx.min_group),
            }
        },
    )


def _link_twins(rates: list[tuple[Series, Finding]]) -> dict[str, str]:
    """Link each purpose's consent-rate finding whose daily series is an earlier purpose's of
    its source, day by day (granted and decided alike), to that one's finding, and say so in
    its title: one Consent Mode change of ``ad_storage`` that sets ``ad_user_data`` and
    ``ad_personalization`` with it (``gcd``) moves three rates alike, one change and not
    three. Return finding id -> the purpose it is the twin of."""
    twins: dict[str, str] = {}
    for k, (s, f) in enumerate(rates):
        first = next(((r, g) for r, g in rates[:k] if g.id not in twins and _alike(r, s)), None)
        if first is None:
            continue
        twins[f.id] = str(first[0].purpose)
        f.caused_by = [first[1].id]
        f.title += f" (as the {first[0].purpose} consent rate did, day by day: one consent change)"
    return twins


def _alike(a: Series, b: Series) -> bool:
    """Whether two series of one source hold the same days, counts and changes."""
    return (
        a.source == b.source
        and a.days == b.days
        and np.array_equal(a.x, b.x)
        and np.array_equal(a.n, b.n)
        and [a.on(c) for c in a.changes] == [b.on(c) for c in b.changes]
    )


def _fired(series: list[Series], alpha: float, min_gap: float) -> list[Series]:
    """The series that shift, each with its changes: its first change's q-value (Benjamini-
    Hochberg across every series) under ``alpha`` and a change of at least ``min_gap``.

    A further change counts at the p-value Benjamini-Hochberg rejected at: alpha times the
    share of series whose first change it rejected (the step-up procedure's own cut-off).
    """
    q = bh_adjust([s.cp.p_value for s in series])
    rejected = int((q < alpha).sum())
    level = alpha * rejected / len(series)
    fired = []
    for s, qv in zip(series, q, strict=True):
        s.q = float(qv)
        if s.q < alpha and abs(s.delta) >= min_gap:
            s.changes = _changes(s, level, min_gap)
            s.cp = next(
                replace(s.cp, before=c.before, after=c.after)
                for c in s.changes
                if c.index == s.cp.index
            )
            fired.append(s)
    return fired


def check_shift(ctx: ScanContext, notes: list[str] | None = None) -> list[Finding]:
    """Return a finding per daily missing share or consent rate that changes significantly,
    listing each of its changes.

    Every series' best change point is tested (Bonferroni over its split positions), then
    Benjamini-Hochberg across all series; a finding also needs a change of at least
    ``min_gap``. Its series is then searched for further changes (:func:`_fired`). Assumes
    ``scan_events`` exists and the events cover two days or more.
    """
    series = _series(ctx, _daily(ctx))
    if not series:
        return []
    th = ctx.config.thresholds
    fired = _fired(series, th.alpha, th.min_gap)
    fired = reportable(fired, [keep_segments_of_enough_users(ctx, s) for s in fired], ctx, notes)
    versions = new_versions(ctx.con, ctx.min_group)
    for s, (hidden, sides) in zip(fired, few_days(ctx, fired), strict=True):
        s.hidden_days, s.side_days = hidden, sides
    kept = [not off_hidden_days(s) or keep_segments_of_enough_users(ctx, s) for s in fired]
    fired = reportable(fired, kept, ctx, notes)
    for s in fired:
        hide_small_sides(ctx, s, drawn_shares(s))
    rates = [(s, _rate_finding(ctx, s, versions)) for s in fired if s.purpose]
    twins = _link_twins(rates)
    findings = [f for _, f in rates]
    for s in fired:
        if s.feature is None:
            continue
        needs = ctx.mapping.get(s.feature)
        # unclassified: any purpose may explain it; classified as needing none (``[]`` or
        # necessary): no consent change does, not even a banner first seen that day
        consents = set(ctx.purposes if needs is None else needs) - {"necessary"}
        days = {s.on(c) for c in s.changes}
        linked = [
            RateLink(r, f, c)
            for r, f in rates
            if r.source == s.source and r.purpose in consents and twins.get(f.id) not in consents
            for c in r.changes
            if any(_near(r.on(c), day) for day in days)
        ]
        findings.append(_feature_finding(ctx, s, versions if consents else {}, linked))
    return findings
