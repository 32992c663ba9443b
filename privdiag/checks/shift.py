"""Shifts: the day a feature's daily missing share, or a purpose's consent rate, changes.

Each series' best change point (see :func:`privdiag.stats.change_point`) is tested on unit
counts (users, or events without a user, once a day) because one user's events are far from
independent; then Benjamini-Hochberg across all series, and a change of at least ``min_gap``.
A feature's change is linked to a notice version first seen that day, or to a consent-rate
change on the same day for one of the purposes it needs (any, when it is unclassified).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from privdiag.checks.context import EVENTS_WITH_CONSENT, ScanContext, present_sql
from privdiag.findings import Finding
from privdiag.mapping import owner_for
from privdiag.stats import ChangePoint, bh_adjust, change_point, rounded, share


def days_covered(con: Any) -> int:
    """Return how many calendar days (UTC) the events cover, counted up to 2 (a shift needs
    two): from the first and last event times, not a distinct count over every event."""
    row = con.execute(
        "SELECT CASE WHEN count(ts) = 0 THEN 0 WHEN min(ts)::DATE = max(ts)::DATE THEN 1 "
        "ELSE 2 END FROM events"
    ).fetchone()
    return int(row[0]) if row else 0


@dataclass
class Series:
    """One daily share series and its best change point (``cp``), before correction."""

    source: str
    days: list[str]
    x: np.ndarray
    n: np.ndarray
    cp: ChangePoint
    feature: str | None = None
    purpose: str | None = None
    q: float = 1.0

    @property
    def day(self) -> str:
        return self.days[self.cp.index]

    @property
    def delta(self) -> float:
        return self.cp.after - self.cp.before

    def values(self) -> list[float | None]:
        return [rounded(v) for v in share(self.x, self.n)]


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
    if cp is None:
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
                out.append(Series(str(source), days, missing, total, cp, feature=feature))
        for p in ctx.purposes:
            granted = _by_day(index, data[f"g_{p}"][rows], len(days))
            decided = _by_day(index, data[f"d_{p}"][rows], len(days))
            if (cp := _detect(granted, decided, scale)) is not None:
                out.append(Series(str(source), days, granted, decided, cp, purpose=p))
    return out


def new_versions(con: Any) -> dict[str, list[str]]:
    """Return day -> notice versions first seen that day in the consent log (not the first)."""
    rows = con.execute("""
        SELECT strftime(min(ts), '%Y-%m-%d') AS day, version FROM consent
        WHERE version IS NOT NULL AND trim(version) <> '' GROUP BY version ORDER BY 1, 2
    """).fetchall()
    if not rows:
        return {}
    first = rows[0][0]
    out: dict[str, list[str]] = {}
    for day, version in rows:
        if day > first:
            out.setdefault(day, []).append(str(version))
    return out


def _shift_metrics(s: Series) -> dict[str, Any]:
    after = slice(s.cp.index, None)
    return {
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
    }


def _marks(s: Series, versions: list[str]) -> list[dict[str, str]]:
    marks = [{"x": s.day, "label": f"{s.cp.before:.0%} to {s.cp.after:.0%}"}]
    marks += [{"x": s.day, "label": f"notice version {v}"} for v in versions]
    return marks


def _rate_finding(ctx: ScanContext, s: Series, versions: list[str]) -> Finding:
    verb = "rose" if s.delta > 0 else "fell"
    link = f", the day notice version {', '.join(versions)} appeared" if versions else ""
    metrics = _shift_metrics(s) | {"notice_versions": versions}
    return Finding(
        "sparsity.shift",
        "high" if abs(s.delta) >= 0.3 else "medium",
        f"The {s.purpose} consent rate {verb} from {s.cp.before:.0%} to {s.cp.after:.0%} "
        f"on {s.day}{link}",
        {"source": s.source, "purpose": s.purpose or ""},
        metrics,
        f"Check what changed in the consent banner or notice on {s.day} (version, wording, "
        "default choice, placement); features needing this purpose thin out with the rate.",
        owner_for(ctx.config, source=s.source),
        evidence={
            "series": {
                "title": f"Daily {s.purpose} consent rate ({s.source})",
                "x": s.days,
                "series": {f"{s.purpose} consent rate": s.values()},
                "marks": _marks(s, versions),
            }
        },
    )


def _feature_finding(
    ctx: ScanContext, s: Series, versions: list[str], rates: list[tuple[Series, Finding]]
) -> Finding:
    verb = "rose" if s.delta > 0 else "fell"
    links = [f"notice version {', '.join(versions)} first seen that day"] if versions else []
    links += [
        f"the {r.purpose} consent rate went from {r.cp.before:.0%} to {r.cp.after:.0%}"
        for r, _ in rates
    ]
    metrics = _shift_metrics(s) | {
        "notice_versions": versions,
        "consent_rate_changes": [
            {"purpose": r.purpose, "before": rounded(r.cp.before), "after": rounded(r.cp.after)}
            for r, _ in rates
        ],
    }
    lines = {f"{s.feature} missing share": s.values()}
    lines |= {f"{r.purpose} consent rate": r.values() for r, _ in rates}
    return Finding(
        "sparsity.shift",
        "high" if links and abs(s.delta) >= 0.3 else "medium",
        f"{s.feature} missing share {verb} from {s.cp.before:.0%} to {s.cp.after:.0%} on {s.day}"
        + (f" ({'; '.join(links)})" if links else ""),
        {"source": s.source, "feature": s.feature or ""},
        metrics,
        f"Compare how {s.feature} was collected before and after {s.day}: "
        + (
            "the consent change that day explains it; plan for the lower coverage."
            if links
            else "look for a release, tag or pipeline change that day."
        ),
        owner_for(ctx.config, source=s.source, feature=s.feature, prefer="feature"),
        caused_by=[f.id for _, f in rates],
        evidence={
            "series": {
                "title": f"Daily {s.feature} missing share ({s.source})",
                "x": s.days,
                "series": lines,
                "marks": _marks(s, versions),
            }
        },
    )


def check_shift(ctx: ScanContext) -> list[Finding]:
    """Return a finding per significant change in a daily missing share or consent rate.

    Every series' best change point is tested (Bonferroni over its split positions), then
    Benjamini-Hochberg across all series; a finding also needs a change of at least
    ``min_gap``. Assumes ``scan_events`` exists and the events cover two days or more.
    """
    series = _series(ctx, _daily(ctx))
    if not series:
        return []
    q = bh_adjust([s.cp.p_value for s in series])
    th = ctx.config.thresholds
    fired = []
    for s, qv in zip(series, q, strict=True):
        s.q = float(qv)
        if s.q < th.alpha and abs(s.delta) >= th.min_gap:
            fired.append(s)

    versions = new_versions(ctx.con)
    rates = [(s, _rate_finding(ctx, s, versions.get(s.day, []))) for s in fired if s.purpose]
    findings = [f for _, f in rates]
    for s in fired:
        if s.feature is None:
            continue
        needs = ctx.mapping.get(s.feature) or ctx.purposes  # unclassified: any purpose
        same_day = [
            (r, f)
            for r, f in rates
            if r.source == s.source and r.day == s.day and r.purpose in needs
        ]
        findings.append(_feature_finding(ctx, s, versions.get(s.day, []), same_day))
    return findings
