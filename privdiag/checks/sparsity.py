"""Consent gaps: where, along the journey, consent makes features missing.

``sparsity.consent_gap`` compares, per step and feature, the missing share on events whose
purpose is denied with the share on events where it is granted. One grouped query returns
the counts for every (source, step, day) and every (feature, purpose) pair; the tests then
run vectorised over that small table. Two one-sided tests on user-level counts (each user,
or event without a user, counted once, so a user with many events cannot fake a gap) must
both agree: an exact test over the step, and a Cochran-Mantel-Haenszel test within days (so
a field that broke for everyone on the days denials were frequent is not a consent gap).
The larger p-value is corrected with Benjamini-Hochberg across step x feature x purpose; a
finding needs it below ``alpha`` and a gap, raw and adjusted for the day, of at least
``min_gap``. A feature empty 80% of the time for everyone has no gap and is never reported.

``sparsity.shift`` lives in :mod:`privdiag.checks.shift`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from privdiag.checks.bits import Masks
from privdiag.checks.context import (
    EVENTS_WITH_CONSENT,
    ScanContext,
    hide,
    hide_by_difference,
    present_sql,
    suppress,
)
from privdiag.checks.gap_overlap import explained_gaps
from privdiag.engine import fetch_rows, quote
from privdiag.findings import Finding
from privdiag.journey import Journey
from privdiag.mapping import owner_for
from privdiag.purposes import STATES
from privdiag.stats import bh_adjust, cmh_greater, fisher_greater, newcombe_ci, rounded, share

# What tells a state's missing count (with its events, shown elsewhere) and, where the state
# holds fewer units than the minimum group size, its events: hidden per state as
# _hidden_states says. The gaps take both sides (a gap less one share gives the other).
_GAPS = ("gap", "gap_ci", "gap_adjusted_for_day", "excess_missing_events", "explained_share")
_STATE_METRICS = {
    "denied": (("events", "share", "missing_share_denied"), ("events_denied", "users")),
    "granted": (("missing_share_granted",), ("events_granted",)),
    "unknown": (("missing_share_unknown",), ()),
}


def _hidden_metrics(states: dict[str, int]) -> list[str]:
    """The metrics of a consent gap to hide for the states :func:`_hidden_states` gives."""
    out: list[str] = []
    for state, level in states.items():
        missing, events = _STATE_METRICS[state]
        out += [*missing, *(events if level == 2 else ())]
    return out + [g for g in _GAPS if {"denied", "granted"} & set(states)] if out else []


@dataclass(frozen=True)
class Pair:
    """A feature and one purpose whose consent state may explain its missing values."""

    index: int
    feature: str
    purpose: str
    mapped: bool  # the config (or built-in knowledge) says the feature needs this purpose
    classified: bool  # the config (or built-in knowledge) names its purposes, maybe none


def gap_pairs(ctx: ScanContext) -> list[Pair]:
    """Return the (feature, purpose) pairs to test.

    A classified feature is tested against its own purposes that have a consent signal; an
    unclassified one, or one that needs no consent beyond ``necessary``, against each such
    purpose in turn: a necessary feature that goes missing when analytics is denied is
    over-blocked by the pipeline.
    """
    out: list[Pair] = []
    for feature in sorted(ctx.features):
        needs = ctx.mapping.get(feature)
        if needs and set(needs) - {"necessary"}:  # classified: its own purposes with a signal
            purposes, mapped = [p for p in needs if p in ctx.purposes], True
        else:  # unclassified, or needs nothing: each purpose in turn
            purposes, mapped = list(ctx.purposes), False
        classified = feature in ctx.mapping
        out += [Pair(len(out) + k, feature, p, mapped, classified) for k, p in enumerate(purposes)]
    return out


def _gap_sql(ctx: ScanContext, journey: Journey, pairs: list[Pair]) -> str:
    """Event counts per (source, step, day) and per step, joined with their unit counts.

    A unit is a user, or the event itself when it has no user (the key is the pair: a user
    id equal to some other event's id is still two units). Event counts come straight
    from the events; unit counts from per-unit flags packed into bit masks (one OR per
    unit, :class:`~privdiag.checks.bits.Masks`), counting units whose bit is set. Result
    rows with ``day`` NULL are the step's totals (a user active on several days counts
    once); the others are its days, the strata of the stratified test. Missing flags and
    states are computed once per event.
    """
    purposes = sorted({pair.purpose for pair in pairs})
    features = sorted({pair.feature for pair in pairs})
    column = {f: f"miss{j}" for j, f in enumerate(features)}
    base = [f"e.state_{p} AS state_{p}" for p in purposes]
    base += [f"NOT {present_sql(f, ctx.features[f])} AS {column[f]}" for f in features]
    counts: dict[str, str] = {}  # event count name -> condition
    flags: dict[str, str] = {}  # unit count name -> per-event condition that sets the flag
    for p in purposes:
        for s in STATES:
            counts[f"n_{s}_{p}"] = flags[f"u_{s}_{p}"] = f"state_{p} = '{s}'"
    for f in features:
        counts[quote("m_" + f)] = column[f]
    for pair in pairs:
        i, p, miss = pair.index, pair.purpose, column[pair.feature]
        for s in STATES:
            counts[f"x{i}_{s}"] = f"{miss} AND state_{p} = '{s}'"
        flags[f"users{i}"] = f"identified AND {miss} AND state_{p} = 'denied'"
        for s in ("granted", "unknown"):  # a few users lacking it there: their events
            flags[f"users{i}_{s}"] = f"identified AND {miss} AND state_{p} = '{s}'"
        # the users whose events carry the feature although denied: a consent.violation
        flags[f"present{i}"] = f"identified AND NOT {miss} AND state_{p} = 'denied'"
    # Grouped by the step's position, not its label: a number is a cheaper key to group
    # 10M events by than text (the bench's 10M: 8.4 against 7.3 CPU-s); labelled at the end.
    step = journey.index_sql("e.event_name")
    label = journey.label_sql("e.step")
    events = ", ".join(f"count_true({cond}) AS {name}" for name, cond in counts.items())
    totals = ", ".join(f"sum({name})::BIGINT AS {name}" for name in ["n", *counts])
    masks = Masks(flags)
    return f"""
        WITH base AS (
            SELECT *, {masks.pack()} FROM (
                SELECT e.source, {step} AS step, e.ts::DATE AS day,
                       e.user_key AS unit,
                       CASE WHEN e.user_key IS NULL THEN e.event_id END AS lone,
                       e.user_key IS NOT NULL AS identified, {", ".join(base)}
                FROM {EVENTS_WITH_CONSENT}
            ) WHERE step IS NOT NULL
        ), per_day AS (
            SELECT source, step, day, unit, lone, {masks.merge()}
            FROM base GROUP BY source, step, day, unit, lone
        ), per_step AS (
            SELECT source, step, unit, lone, {masks.merge()}
            FROM per_day GROUP BY source, step, unit, lone
        ), unit_counts AS (
            SELECT source, step, day, {masks.count()} FROM per_day GROUP BY source, step, day
            UNION ALL
            SELECT source, step, NULL AS day, {masks.count()} FROM per_step GROUP BY source, step
        ), daily_events AS (
            SELECT source, step, day, count(*) AS n, {events}
            FROM base GROUP BY source, step, day
        ), event_counts AS (  -- step totals summed from the days: one pass over the events
            SELECT * FROM daily_events
            UNION ALL
            SELECT source, step, NULL AS day, {totals}
            FROM daily_events GROUP BY source, step
        )
        SELECT {label} AS step, e.* EXCLUDE (step), u.* EXCLUDE (source, step, day)
        FROM event_counts e JOIN unit_counts u
          ON u.source = e.source AND u.step = e.step AND u.day IS NOT DISTINCT FROM e.day
        ORDER BY e.source, {label}, e.day NULLS FIRST
    """


# Pairs counted by one query. The query's width grows with them, and DuckDB's planning time
# faster still: one query of 1,000 pairs (a wide export of 1,000 feature columns) took 88 s
# of 145, and one of 3,000 did not end within 25 minutes.
GAP_BATCH = 200


def _gap_rows(ctx: ScanContext, journey: Journey, pairs: list[Pair]) -> list[dict[str, Any]]:
    """The rows of :func:`_gap_sql` for every pair, counted :data:`GAP_BATCH` pairs at a
    time: each batch gives the same (source, step, day) rows in the same order, so their
    columns are put side by side."""
    rows: list[dict[str, Any]] = []
    for start in range(0, len(pairs), GAP_BATCH):
        batch = fetch_rows(ctx.con, _gap_sql(ctx, journey, pairs[start : start + GAP_BATCH]))
        if not start:
            rows = batch
            continue
        for row, more in zip(rows, batch, strict=True):
            row.update(more)
    return rows


@dataclass
class GapTable:
    """Flat arrays, one element per (source, step, pair) cell, and the tests' results."""

    cells: list[tuple[dict[str, Any], Pair]]
    values: dict[str, np.ndarray]


def _column(cells: list[tuple[dict[str, Any], Pair]], fmt: str) -> np.ndarray:
    """One count per cell; ``fmt`` names the column with {i}, {p}, {f} of the cell's pair."""
    return np.array([float(r[fmt.format(i=p.index, p=p.purpose, f=p.feature)]) for r, p in cells])


def _units(cells: list[tuple[dict[str, Any], Pair]], state: str) -> tuple[np.ndarray, np.ndarray]:
    """Missing and total units of a state: each unit keeps its group's missing share, so
    a user's many events count once (the test's sample size is users, not events)."""
    units = _column(cells, f"u_{state}_{{p}}")
    missing = share(_column(cells, f"x{{i}}_{state}"), _column(cells, f"n_{state}_{{p}}"))
    return np.rint(np.nan_to_num(missing) * units), units


def _stratified(
    totals: list[dict[str, Any]], days: list[dict[str, Any]], pairs: list[Pair]
) -> tuple[np.ndarray, np.ndarray]:
    """Per total cell: the day-stratified p-value (on units) and gap (on events)."""
    key = {(r["source"], r["step"]): k for k, r in enumerate(totals)}
    cells = [(row, pair) for row in days for pair in pairs]
    ids = np.array([key[(r["source"], r["step"])] * len(pairs) + p.index for r, p in cells])
    size = len(totals) * len(pairs)
    xd, ud = _units(cells, "denied")
    xg, ug = _units(cells, "granted")
    p, _ = cmh_greater(xd, ud, xg, ug, ids, size)
    events = [_column(cells, f"x{{i}}_{s}") for s in ("denied", "granted")]
    counts = [_column(cells, f"n_{s}_{{p}}") for s in ("denied", "granted")]
    _, gap = cmh_greater(events[0], counts[0], events[1], counts[1], ids, size)
    return p, gap


def _gap_table(rows: list[dict[str, Any]], pairs: list[Pair], level: float, k: int) -> GapTable:
    """The cells' counts, shares and tests; ``small_present`` marks the cells where fewer
    than ``k`` identified users (above 0) have events carrying the feature while denied, or
    lacking it while denied; ``small_missing_<state>`` those where fewer than ``k`` (above 0)
    lack it while granted (or unknown); ``small_<state>`` those where fewer than ``k`` units
    (users, and events without a user) are in that state."""
    totals = [r for r in rows if r["day"] is None]
    cells = [(row, pair) for row in totals for pair in pairs]
    v = {f"x_{s}": _column(cells, f"x{{i}}_{s}") for s in STATES}
    v |= {f"n_{s}": _column(cells, f"n_{s}_{{p}}") for s in STATES}
    v["missing"] = _column(cells, "m_{f}")
    for s in STATES:
        v[f"share_{s}"] = share(v[f"x_{s}"], v[f"n_{s}"])
    v["gap"] = v["share_denied"] - v["share_granted"]

    # Exact test on the step's users, and the same within days (a field that broke on the
    # days denials were frequent differs by consent only through the mix of days): the
    # larger p-value of the two is kept, and the day-adjusted gap must pass min_gap too.
    xd, ud = _units(cells, "denied")
    xg, ug = _units(cells, "granted")
    stratified_p, v["gap_adjusted"] = _stratified(totals, [r for r in rows if r["day"]], pairs)
    v["p"] = np.maximum(fisher_greater(xd, ud, xg, ug), stratified_p)
    v["q"] = bh_adjust(v["p"])
    v["ci_low"], v["ci_high"] = newcombe_ci(xd, ud, xg, ug, level)
    excess = v["x_denied"] - v["n_denied"] * np.nan_to_num(v["share_granted"])
    v["excess"] = np.clip(excess, 0, None)
    v["explained"] = np.clip(share(v["excess"], v["missing"]), 0, 1)

    def small(fmt: str) -> np.ndarray:
        counts = _column(cells, fmt)
        return (counts > 0) & (counts < k)

    v["small_lacking"] = small("users{i}")
    v["small_present"] = small("present{i}") | v["small_lacking"]
    for s in STATES:
        v[f"small_{s}"] = small(f"u_{s}_{{p}}")
    for s in ("granted", "unknown"):
        v[f"small_missing_{s}"] = small(f"users{{i}}_{s}")
    return GapTable(cells, v)


def _heatmap(
    table: GapTable, source: str, purpose: str, steps: list[str], k: int
) -> dict[str, Any]:
    """The (source, purpose) consent-gap map, with a note counting its cells without a value
    and why: the report draws them grey, which alone reads as no gap."""
    mine = [
        k
        for k, (row, pair) in enumerate(table.cells)
        if row["source"] == source and pair.purpose == purpose
    ]
    # a feature that no event of the source carries (another source's) is no column of its
    # map: missing at every step whatever the consent, it read as a cell of no gap
    carried = {pair.feature for row, pair in (table.cells[k] for k in mine) if _carries(row, pair)}
    mine = [k for k in mine if table.cells[k][1].feature in carried]
    picked = [
        (table.cells[k][0]["step"], table.cells[k][1].feature, table.values["gap"][k]) for k in mine
    ]
    # a gap beside a hidden count is hidden too (see _hidden_states)
    hidden = [bool({"denied", "granted"} & set(_hidden_states(table, k))) for k in mine]
    picked = [(s, f, np.nan if h else g) for (s, f, g), h in zip(picked, hidden, strict=True)]
    features = sorted({f for _, f, _ in picked})
    grid = {(s, f): g for s, f, g in picked}
    out = {
        "title": f"Missing share when {purpose} is denied minus when granted ({source})",
        "rows": steps,
        "cols": features,
        "values": [[rounded(grid.get((s, f), np.nan)) for f in features] for s in steps],
        "unit": "share",
    }
    empty = sum(v is None for row in out["values"] for v in row)
    if empty:
        few = sum(hidden)
        why = []
        if empty > few:
            why.append(
                f"{empty - few} where no event of the step has {purpose} denied or none has it "
                "granted"
            )
        if few:
            why.append(f"{few} hidden: fewer than {k} users in a consent state")
        total = len(steps) * len(features)
        out["note"] = f"{empty} of {total} cells have no value (grey): {'; '.join(why)}."
    return out


def _carries(row: dict[str, Any], pair: Pair) -> bool:
    """True when some event of the row's (source, step) carries the pair's feature."""
    return row["m_" + pair.feature] < row["n"]


def _hidden_states(table: GapTable, k: int) -> dict[str, int]:
    """Per consent state whose counts a cell hides: 2 to hide its events too (fewer than the
    minimum group size in that state), 1 to hide its missing count and share only (the
    denied side where a few users send the feature, or lack it: the denied events less the
    missing ones are a hidden violation's; the granted or unknown side where a few users
    lack it: the missing events are theirs)."""
    v = table.values
    hidden = {s: 2 for s in STATES if v[f"small_{s}"][k]}
    if v["small_present"][k]:
        hidden.setdefault("denied", 1)
    for s in ("granted", "unknown"):
        if v[f"small_missing_{s}"][k]:
            hidden.setdefault(s, 1)
    return hidden


def _state_table(table: GapTable, k: int) -> dict[str, Any]:
    v = table.values
    hidden = _hidden_states(table, k)
    rows = [
        [s, int(v[f"n_{s}"][k]), int(v[f"x_{s}"][k]), rounded(v[f"share_{s}"][k])] for s in STATES
    ]
    if v["small_lacking"][k]:  # the denied events less the violation's tell the few
        hidden["denied"] = 2
    rows = [
        r if r[0] not in hidden else [r[0], None if hidden[r[0]] == 2 else r[1], None, None]
        for r in rows
    ]
    return {
        "title": "Events and missing values by consent state",
        "columns": ["consent state", "events", "missing", "missing share"],
        "rows": rows,
    }


def _gap_finding(
    ctx: ScanContext, table: GapTable, k: int, heatmap: dict[str, Any] | None
) -> Finding:
    row, pair = table.cells[k]
    v = table.values
    gap = float(v["gap"][k])
    metrics = {
        "events": int(v["x_denied"][k]),
        "users": int(row[f"users{pair.index}"]),
        "share": rounded(v["share_denied"][k]),
        "missing_share_granted": rounded(v["share_granted"][k]),
        "missing_share_denied": rounded(v["share_denied"][k]),
        "missing_share_unknown": rounded(v["share_unknown"][k]),
        "gap": rounded(gap),
        "gap_ci": [rounded(v["ci_low"][k]), rounded(v["ci_high"][k])],
        "gap_adjusted_for_day": rounded(v["gap_adjusted"][k]),
        "p_value": float(f"{v['p'][k]:.3g}"),
        "q_value": float(f"{v['q'][k]:.3g}"),
        "excess_missing_events": int(round(v["excess"][k])),
        "explained_share": rounded(v["explained"][k]),
        "events_denied": int(v["n_denied"][k]),
        "events_granted": int(v["n_granted"][k]),
        "feature_classified": pair.classified,
    }
    title = (
        f"{pair.feature} is missing on {v['share_denied'][k]:.0%} of {row['step']} events when "
        f"{pair.purpose} is denied, against {v['share_granted'][k]:.0%} when granted"
    )
    carried = pair.mapped and float(v["share_denied"][k]) < 0.5
    states = _hidden_states(table, k)
    if hidden := _hidden_metrics(states):
        carried = False  # "most denied events carry it" would tell the hidden share
        title = (
            f"{pair.feature} is missing far more often on {row['step']} events when "
            f"{pair.purpose} is denied than when granted"
        )
        hide(metrics, hidden, ctx.min_group)
    if states.get("denied") == 1 and metrics["users"] >= ctx.min_group:
        # the few who carry it while denied: the users lacking it, beside the denied events,
        # tell them by difference on a step of one event a user
        hide_by_difference(metrics, ["users"], ctx.min_group)
    if v["small_lacking"][k]:
        # the few lacking it while denied: the denied events less the events carrying it
        # (the consent.violation of the cell) tell their events
        hide_by_difference(metrics, ["events_denied"], ctx.min_group)
    return Finding(
        "sparsity.consent_gap",
        _gap_severity(gap, pair.mapped),
        title,
        {
            "source": row["source"],
            "step": row["step"],
            "feature": pair.feature,
            "purpose": pair.purpose,
        },
        suppress(metrics, ctx.min_group),
        _gap_advice(pair, row["step"], carried),
        owner_for(
            ctx.config,
            source=row["source"],
            feature=pair.feature,
            step=row["step"],
            prefer="feature",
        ),
        evidence={"table": _state_table(table, k)} | ({"heatmap": heatmap} if heatmap else {}),
    )


def _gap_severity(gap: float, mapped: bool) -> str:
    """A classified feature missing without its purpose is compliant, so at most medium: it
    costs personalization but must not fail a CI run; an unexplained dependency ranks higher."""
    if mapped:
        return "medium" if gap >= 0.5 else "low"
    return "high" if gap >= 0.5 else "medium" if gap >= 0.25 else "low"


def _gap_advice(pair: Pair, step: str, carried: bool = False) -> str:
    """What to do about a gap; ``carried``: the feature needs the purpose, yet most events
    with it denied carry the feature, so the gap is the part already gated, not the news."""
    if carried:
        return (
            f"{pair.feature} needs {pair.purpose}, yet most {step} events with {pair.purpose} "
            f"denied still carry it: gate it on the {pair.purpose} state (see this feature's "
            "consent findings); only the rest goes missing as consent asks."
        )
    if pair.mapped:
        return (
            f"Expected under consent, but personalization at {step} loses {pair.feature} for "
            f"users who deny {pair.purpose}: serve a fallback that needs no {pair.purpose} "
            "consent and test the model with the feature missing (privdiag model-check)."
        )
    if pair.classified:  # the config says it needs no consent: over-blocked, not unmapped
        return (
            f"{pair.feature} is classified as needing no consent beyond necessary, yet it goes "
            f"missing when {pair.purpose} is denied: find the tag or pipeline step that drops it "
            f"on denial; if it does need that consent, set [features.{pair.feature}] purposes = "
            f'["{pair.purpose}"].'
        )
    return (
        f"{pair.purpose} consent explains the missing values, yet {pair.feature} is not "
        f'classified: add [features.{pair.feature}] purposes = ["{pair.purpose}"] if it needs '
        "that consent, else find the tag or pipeline step that drops it on denial."
    )


def _cell(table: GapTable, k: int) -> tuple[str, str, str, str]:
    row, pair = table.cells[k]
    return row["source"], row["step"], pair.feature, pair.purpose


def _unexplained(
    ctx: ScanContext, journey: Journey, table: GapTable, fired: np.ndarray, notes: list[str] | None
) -> np.ndarray:
    """The fired cells less the unclassified gaps that another purpose explains."""
    open_cells = [_cell(table, int(k)) for k in fired if not table.cells[int(k)][1].mapped]
    dropped, said = explained_gaps(ctx, journey, open_cells)
    if notes is not None:
        notes += said
    keep = [
        k for k in fired if table.cells[int(k)][1].mapped or _cell(table, int(k)) not in dropped
    ]
    return np.array(keep, dtype=int)


def check_consent_gap(
    ctx: ScanContext, journey: Journey, notes: list[str] | None = None
) -> tuple[list[Finding], list[dict[str, Any]]]:
    """Return the consent-gap findings and one heatmap per (source, purpose) tested; a gap
    that another purpose explains (:mod:`privdiag.checks.gap_overlap`) is left out, with a
    note appended to ``notes``.

    Assumes ``scan_events`` exists and the journey has steps.
    """
    pairs = gap_pairs(ctx)
    if not pairs or not journey.steps:
        return [], []
    rows = _gap_rows(ctx, journey, pairs)
    if not rows:
        return [], []
    table = _gap_table(rows, pairs, level=1 - ctx.config.thresholds.alpha, k=ctx.min_group)
    alpha, min_gap = ctx.config.thresholds.alpha, ctx.config.thresholds.min_gap

    heatmaps = {
        (source, purpose): _heatmap(table, source, purpose, journey.names, ctx.min_group)
        for source in sorted({r["source"] for r in rows})
        for purpose in sorted({p.purpose for p in pairs})
    }
    v = table.values
    fired = np.flatnonzero(
        (v["q"] < alpha)
        & (np.nan_to_num(v["gap"]) >= min_gap)
        & (np.nan_to_num(v["gap_adjusted"]) >= min_gap)
    )
    fired = _unexplained(ctx, journey, table, fired, notes)
    # The (source, purpose) heat map goes with its largest gap only: the report stays small
    # however many steps and features show a gap.
    order = sorted(fired, key=lambda k: -float(np.nan_to_num(v["gap"][k])))
    charted: set[tuple[str, str]] = set()
    findings = []
    for k in order:
        key = (table.cells[k][0]["source"], table.cells[k][1].purpose)
        heatmap = heatmaps[key] if key not in charted else None
        charted.add(key)
        findings.append(_gap_finding(ctx, table, int(k), heatmap))
    return findings, list(heatmaps.values())
