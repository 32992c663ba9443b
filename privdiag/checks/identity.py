"""Identity loss: events without a stable identity, per step and consent state.

An event has no stable identity when its ``user_key`` is NULL (a cookieless ping, e.g. Consent
Mode's advanced mode when analytics is denied). Such events count in event totals but vanish
from user-level funnels; events without a ``session_key`` vanish from session-level ones.

One grouped query (:func:`step_counts`) returns, per (source, step) and per purpose and
consent state, the events, the events without identity or session, and the distinct users
and sessions. The identity and funnel checks both read it; the funnel follows its users
from step to step with :mod:`privdiag.checks.cohorts` and takes the events here to estimate
the users of the events without identity (:func:`identity_less_units`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from privdiag.checks.bits import Masks, distinct_sql
from privdiag.checks.cohorts import VISITS, build_visits
from privdiag.checks.context import EVENTS_WITH_CONSENT, NO_USER_IDS, ScanContext, hide, suppress
from privdiag.engine import fetch_rows
from privdiag.findings import Finding
from privdiag.journey import Journey
from privdiag.mapping import owner_for
from privdiag.purposes import STATES
from privdiag.stats import bh_adjust, fisher_greater


def _filters(ctx: ScanContext) -> dict[str, str]:
    """Suffix -> condition: all events (no suffix), then each purpose and state."""
    out = {"": "TRUE"}
    for p in ctx.purposes:
        for s in STATES:
            out[f"_{s}_{p}"] = f"state_{p} = '{s}'"
    return out


def step_counts(ctx: ScanContext, journey: Journey) -> dict[tuple[str, str], dict[str, Any]]:
    """Return (source, step) -> counts: ``n``, ``noid``, ``nosess``, ``users``, ``sessions``.

    Each count also exists per purpose P and state S with the suffix ``_S_P`` (e.g.
    ``noid_denied_analytics``). Steps nobody reached are absent. Event counts come from
    one grouping per step; distinct users and sessions from one grouping per user (and per
    session) that ORs the filters' bits (:func:`privdiag.checks.bits.distinct_sql`). The
    grouping per user is kept as the funnel's visits (:func:`privdiag.checks.cohorts.
    build_visits`), which :func:`~privdiag.checks.cohorts.cohort_counts` reads after.
    """
    filters = _filters(ctx)
    states = "".join(f", e.state_{p} AS state_{p}" for p in ctx.purposes)
    position = journey.index_sql("e.event_name")
    events = ", ".join(
        f"count_true({cond}) AS n{sfx}, "
        f"count_true(user_key IS NULL AND {cond}) AS noid{sfx}, "
        f"count_true(session_key IS NULL AND {cond}) AS nosess{sfx}"
        for sfx, cond in filters.items()
    )
    base = f"""
        SELECT * FROM (
            SELECT e.source, {position} AS pos, e.ts, e.user_key, e.session_key {states}
            FROM {EVENTS_WITH_CONSENT}
        ) WHERE pos IS NOT NULL
    """
    users = Masks({f"users{sfx}": cond for sfx, cond in filters.items()})
    build_visits(ctx, base, users)
    sessions = distinct_sql(
        "source, pos",
        {f"sessions{sfx}": cond for sfx, cond in filters.items()},
        "SELECT * FROM base",
        unit="session_key",
    )
    zeros = ", ".join(
        f"coalesce({t}.{name}{sfx}, 0) AS {name}{sfx}"
        for t, name in (("u", "users"), ("s", "sessions"))
        for sfx in filters
    )
    rows = fetch_rows(
        ctx.con,
        f"""
        WITH base AS ({base}),
        per_step AS (SELECT source, pos, {events} FROM base GROUP BY source, pos)
        SELECT p.*, {zeros}
        FROM per_step p
        LEFT JOIN (SELECT source, pos, {users.count()} FROM {VISITS} GROUP BY ALL) u
             USING (source, pos)
        LEFT JOIN ({sessions}) s USING (source, pos)
    """,
    )
    names = journey.names
    counts = {}
    for row in rows:
        row["step"] = names[int(row.pop("pos"))]
        counts[(row["source"], row["step"])] = row
    return counts


def restored(row: dict[str, Any], suffix: str = "", unit: str = "users") -> float:
    """Estimate the units (users or sessions) at a step had every event kept its identity:
    the identified units plus :func:`identity_less_units`."""
    return row[f"{unit}{suffix}"] + identity_less_units(row, suffix, unit)


def identity_less_units(row: dict[str, Any], suffix: str = "", unit: str = "users") -> float:
    """Estimate the units (users or sessions) the identity-less events at a step come from:
    those events divided by the events per identified unit (of the same state, else of the
    step, else 1). Assumes identity-less events come from people who behave like the
    identified ones.
    """
    lost = "noid" if unit == "users" else "nosess"
    kept_events = row[f"n{suffix}"] - row[f"{lost}{suffix}"]
    units = row[f"{unit}{suffix}"]
    per_unit = kept_events / units if units else 0.0
    if not per_unit:
        overall = row[unit]
        per_unit = (row["n"] - row[lost]) / overall if overall else 1.0
    return row[f"{lost}{suffix}"] / max(per_unit, 1.0)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _restored_ratio(prev: dict[str, Any], row: dict[str, Any], unit: str) -> float | None:
    """The step-to-step ratio of ``unit`` with identities restored, at most 100% unless the
    measured ratio passes it: each step's restored units are an estimate of its own (the
    events without identity over the events per identified unit), not a cohort followed from
    the step before, so where the later step's events without identity come more per unit
    (two view_items per page_view) the estimates alone read a conversion above 100% that no
    identified unit shows (trial 23: 5 users, 3 and 7 such events, 8.5 / 8 = 1.0625)."""
    ratio = _ratio(restored(row, unit=unit), restored(prev, unit=unit))
    measured = _ratio(row[unit], prev[unit])
    if ratio is None:
        return None
    return min(ratio, max(1.0, measured or 0.0))


def _funnel_effect(prev: dict[str, Any] | None, row: dict[str, Any], k: int) -> dict[str, Any]:
    """Measured and identity-restored step-to-step ratios of distinct users and sessions; the
    ratios of users (of sessions) hidden where either step has fewer than ``k`` of them
    (above 0), whose count the finding hides: a ratio of small counts tells them."""
    if prev is None:
        return {}
    out = {
        "previous_step": prev["step"],
        "user_funnel_measured": _ratio(row["users"], prev["users"]),
        "user_funnel_restored": _restored_ratio(prev, row, "users"),
        "session_funnel_measured": _ratio(row["sessions"], prev["sessions"]),
        "session_funnel_restored": _restored_ratio(prev, row, "sessions"),
    }
    hidden = [
        f"{unit[:-1]}_funnel_{how}"
        for unit in ("users", "sessions")
        if any(0 < r[unit] < k for r in (prev, row))  # sessions: at least as many as persons
        for how in ("measured", "restored")
    ]
    return hide(out, hidden, k)


def _few(row: dict[str, Any], suffix: str, k: int) -> bool:
    """True when the events of ``suffix`` (``""``: the step's) come from fewer than ``k``
    identified users (above 0): their events less those without identity are those users'
    own, so the events and the share are hidden, the events without identity shown (see
    :data:`~privdiag.checks.context.NO_ID_EVENTS`)."""
    return 0 < row[f"users{suffix}"] < k


def _state_table(ctx: ScanContext, row: dict[str, Any]) -> dict[str, Any]:
    k = ctx.min_group

    def cells(suffix: str) -> list[Any]:
        n, noid = row[f"n{suffix}"], row[f"noid{suffix}"]
        return [None, noid, None] if _few(row, suffix, k) else [n, noid, _ratio(noid, n)]

    rows = [["all", "all", *cells("")]]
    for p in ctx.purposes:
        for s in STATES:
            if row[f"n_{s}_{p}"]:
                rows.append([p, s, *cells(f"_{s}_{p}")])
    return {
        "title": "Events without a stable identity by consent state",
        "columns": ["purpose", "consent state", "events", "without identity", "share"],
        "rows": rows,
    }


def _loss_purposes(ctx: ScanContext, keys: list[tuple[str, str]], counts: dict) -> list[str | None]:
    """Per (source, step): the purpose whose denial most clearly explains the identity loss.

    A one-sided exact test (denied vs granted share without identity), corrected with
    Benjamini-Hochberg across steps and purposes; None where no purpose is significant.
    """
    if not ctx.purposes:
        return [None] * len(keys)
    cells = [(k, p) for k in keys for p in ctx.purposes]
    col = lambda name: np.array([float(counts[k][f"{name}_{p}"]) for k, p in cells])  # noqa: E731
    p_values = fisher_greater(
        col("noid_denied"), col("n_denied"), col("noid_granted"), col("n_granted")
    )
    q = bh_adjust(p_values).reshape(len(keys), len(ctx.purposes))
    out: list[str | None] = []
    for row in q:
        best = int(np.argmin(row))
        out.append(ctx.purposes[best] if row[best] < ctx.config.thresholds.alpha else None)
    return out


def _bars(
    counts: dict[tuple[str, str], dict[str, Any]],
    keys: list[tuple[str, str]],
    source: str,
    k: int,
) -> dict[str, Any]:
    """The share of events without identity at every step of a source, for the chart; None
    at a step of fewer than ``k`` users (see :func:`_few`)."""
    steps = [key for key in keys if key[0] == source]
    return {
        "title": f"Share of events without a stable identity per step ({source})",
        "labels": [step for _, step in steps],
        "values": [
            None if _few(counts[key], "", k) else round(counts[key]["noid"] / counts[key]["n"], 4)
            for key in steps
        ],
        "unit": "share",
    }


#: Said first when most of a step's events without identity carry no consent state either:
#: denial does not explain them, a tag or domain outside the consent setup does.
STATELESS_ADVICE = (
    "Most of these events carry neither an identifier nor a consent state, so consent denial "
    "does not explain them: find the tag, domain or server-side hit that sends them outside "
    "the consent setup (a checkout on another domain, a tag the CMP does not manage) and give "
    "it the site's consent state and identifier. "
)


def _loss_finding(
    ctx: ScanContext,
    row: dict[str, Any],
    prev: dict[str, Any] | None,
    purpose: str | None,
    bars: dict[str, Any],
) -> Finding:
    share_noid = row["noid"] / row["n"]
    # The finding's events carry no user id: how many people sent them is unknown (null, as
    # for any cookieless events). "users" held the step's identified users, which read as
    # theirs: 36 users beside 18 purchase events without identity on the demo shop.
    metrics: dict[str, Any] = {
        "events": int(row["noid"]),
        "users": None,
        NO_USER_IDS: ["users"],
        "identified_users": int(row["users"]),
        "share": round(share_noid, 4),
        "events_total": int(row["n"]),
        "events_without_session": int(row["nosess"]),
    }
    if purpose:
        metrics["share_denied"] = _ratio(row[f"noid_denied_{purpose}"], row[f"n_denied_{purpose}"])
        metrics["share_granted"] = _ratio(
            row[f"noid_granted_{purpose}"], row[f"n_granted_{purpose}"]
        )
    metrics |= _funnel_effect(prev, row, ctx.min_group)
    stateless = bool(purpose) and row[f"noid_unknown_{purpose}"] > row[f"noid_denied_{purpose}"]
    if stateless:
        metrics["events_without_identity_or_consent_state"] = int(row[f"noid_unknown_{purpose}"])
    few = [
        name
        for name, suffix in (("share", ""), ("events_total", ""))
        + tuple((f"share_{s}", f"_{s}_{purpose}") for s in ("denied", "granted") if purpose)
        if _few(row, suffix, ctx.min_group)
    ]
    hide(metrics, few, ctx.min_group)
    why = _split_words(metrics, purpose) if purpose else ""
    if stateless:  # denial is the significant split, but most of the loss carries no state
        why = f", most of them without any {purpose} consent state"
    title = f"{share_noid:.0%} of {row['step']} events have no stable identity{why}"
    if "share" in few:
        title = f"Some {row['step']} events have no stable identity{why}"
    return Finding(
        "identity.loss",
        "high" if share_noid >= 0.5 else "medium" if share_noid >= 0.2 else "low",
        f"{title}: user-level journeys break there",
        {"source": row["source"], "step": row["step"]} | ({"purpose": purpose} if purpose else {}),
        suppress(metrics, ctx.min_group, keys=("identified_users",)),
        (STATELESS_ADVICE if stateless else "")
        + "Measure this step on event counts (or modelled conversions) rather than distinct "
        "users, and keep a consented first-party identifier where the user allows it; "
        + _conversion_advice(metrics, row["step"]),
        owner_for(ctx.config, source=row["source"], step=row["step"]),
        evidence={"table": _state_table(ctx, row), "bars": bars},
    )


def _split_words(metrics: dict[str, Any], purpose: str) -> str:
    """The title's words on the split by consent: the share of the step's events without
    identity is of all its events, so "45% of page_view events have no stable identity when
    analytics is denied" read as 45% of the denied events, which were all without one. The
    shares of each state are said as such, or only which state loses more when one is hidden."""
    denied, granted = metrics.get("share_denied"), metrics.get("share_granted")
    if denied is None or granted is None:
        return f", more often with {purpose} denied than granted"
    return f", {denied:.0%} of those with {purpose} denied and {granted:.0%} with it granted"


def _conversion_advice(metrics: dict[str, Any], step: str) -> str:
    """How to read the user-level conversion into ``step``, the way it is wrong: lower than
    it is where this step lost more identities than the one before, higher (even above 100%)
    where the step before lost more; either way for a first step, hidden ratios or ratios
    that read the same in whole percent."""
    measured = metrics.get("user_funnel_measured")
    fixed = metrics.get("user_funnel_restored")
    if measured is None or fixed is None or f"{measured:.0%}" == f"{fixed:.0%}":
        return "do not read a user-level conversion into or out of it as customers lost or won."
    prev = metrics["previous_step"]
    figures = f"from {prev} reads {measured:.0%}, about {fixed:.0%} with identities restored"
    if measured < fixed:
        return f"the user-level conversion {figures}: do not read it as lost customers."
    return (
        f"the user-level conversion {figures}: {prev} lost more identities than {step}, so "
        "do not read it as customers won."
    )


def ordered_keys(counts: dict[tuple[str, str], Any], journey: Journey) -> list[tuple[str, str]]:
    """Return the (source, step) keys present in ``counts``, by source then journey order."""
    return [
        (source, step)
        for source in sorted({s for s, _ in counts})
        for step in journey.names
        if (source, step) in counts
    ]


def check_identity_loss(
    ctx: ScanContext, journey: Journey, counts: dict[tuple[str, str], dict[str, Any]]
) -> list[Finding]:
    """Return an identity.loss finding per (source, step) where at least ``min_gap`` of the
    events have no stable identity, with its split by consent state and funnel effect.

    ``counts`` is :func:`step_counts` of the same journey.
    """
    keys = ordered_keys(counts, journey)
    lossy = [k for k in keys if counts[k]["noid"] / counts[k]["n"] >= ctx.config.thresholds.min_gap]
    purposes = _loss_purposes(ctx, lossy, counts)
    findings = []
    for key, purpose in zip(lossy, purposes, strict=True):
        position = keys.index(key)
        prev = counts[keys[position - 1]] if position and keys[position - 1][0] == key[0] else None
        bars = _bars(counts, keys, key[0], ctx.min_group)
        findings.append(_loss_finding(ctx, counts[key], prev, purpose, bars))
    return findings
