"""Compliance: features collected without consent.

One grouped query per scan computes, for every (source, step) and every classified feature
and purpose, how often the feature is present while the purpose is denied (violation),
denied after an earlier grant (after withdrawal), or not yet decided although the user
decides later (pre-consent, split by the grace window into clock skew and tags firing
before the banner).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from privdiag.checks.bits import distinct_sql
from privdiag.checks.context import (
    EVENTS_WITH_CONSENT,
    NO_ID_EVENTS,
    USERS_EVENTS,
    ScanContext,
    hide_by_difference,
    present_sql,
    suppress,
)
from privdiag.consent_keys import by_browser, linked_consent, meeting_key
from privdiag.engine import fetch_rows, literal
from privdiag.findings import Finding
from privdiag.mapping import owner_for

LEAD_EDGES = (10.0, 60.0, 600.0, 3600.0, 86400.0)
# (feature, purpose) pairs aggregated by one query, about 16 aggregates each. DuckDB 2.0.1
# died of SIGFPE on one query over 1200 pairs (400 features x 3 purposes), and planning
# time grows faster than the query; a classified dump rarely has more than this.
PAIRS_PER_QUERY = 100


# Events the consent mechanism itself sends: a banner shown, a choice recorded (Snowplow's
# cmp_visible and consent_preferences, its older consent_granted / consent_withdrawn,
# Segment's consent preference events). The tracker adds its usual fields to them, before
# any decision by design; they are not checked as collection without consent.
CONSENT_MECHANISM_EVENTS = frozenset(
    {
        "cmp_visible",
        "consent_preferences",
        "consent_granted",
        "consent_withdrawn",
        "segment consent preference updated",
        "segment consent preference",
    }
)


def is_mechanism_event(event_name: Any) -> bool:
    """True for an event of the consent mechanism itself (:data:`CONSENT_MECHANISM_EVENTS`)."""
    return isinstance(event_name, str) and event_name.strip().lower() in CONSENT_MECHANISM_EVENTS


def not_mechanism_sql(held: frozenset[str], column: str) -> str:
    """SQL true for an event (its name in ``column``) not of the consent mechanism itself,
    one without a name included (:func:`is_mechanism_event`): the mechanism's names among
    those the events hold (``held``), as written, tested by equality, and TRUE when they
    hold none. Testing ``lower(trim(name))`` of every event in each of the flag conflicts'
    conditions took 12 CPU-s more on the bench's 10M events, where the events' few distinct
    names take 0.3."""
    names = sorted(name for name in held if is_mechanism_event(name))
    if not names:
        return "TRUE"
    return f"coalesce({column} NOT IN ({', '.join(literal(n) for n in names)}), TRUE)"


@dataclass(frozen=True)
class Pair:
    """A classified feature and one purpose it needs, with its column index in the query."""

    index: int
    feature: str
    purpose: str


_NO_SIGNAL = (
    "Give privdiag the CMP's consent log with --consent, or enable Consent Mode so events carry "
    "their consent state; until then no check can tell compliant collection from violations."
)


def _no_signal_unmapped(file: str) -> str:
    """The advice when every consent decision is in an unmapped category; ``file`` is the
    config's name."""
    return (
        "The consent log's categories map to no purpose (see consent.unmapped_category): map "
        f'them in {file}, [purposes.aliases] "<category>" = "<purpose>"; until then no check '
        "can tell compliant collection from violations."
    )


def pairs(ctx: ScanContext) -> list[Pair]:
    """Return every (feature, purpose) to check: classified features, purposes with a signal."""
    out: list[Pair] = []
    for feature, purposes in sorted(ctx.mapping.items()):
        for purpose in purposes:
            if purpose in ctx.purposes:
                out.append(Pair(len(out), feature, purpose))
    return out


def _row_flags(pair: Pair, sql_type: str, grace: float) -> list[str]:
    """SQL columns computed once per event for one pair: its conditions and the lead time."""
    i, p = pair.index, pair.purpose
    has = present_sql(pair.feature, sql_type)
    since = f"epoch(e.ts) - epoch(e.last_decision_{p})"
    withdrawn = f"{has} AND e.state_{p} = 'denied' AND e.withdrawn_{p}"
    return [
        f"{has} AND e.state_{p} = 'denied' AND NOT e.withdrawn_{p} AS viol{i}",
        f"{withdrawn} AND {since} > {grace} AS wd{i}",
        f"{withdrawn} AND {since} <= {grace} AS wdg{i}",
        f"{has} AND e.state_{p} = 'unknown' AND e.first_{p} > e.ts AS pre{i}",
        f"epoch(e.first_{p}) - epoch(e.ts) AS lead{i}",
    ]


def _aggregates(pair: Pair, grace: float) -> tuple[list[str], dict[str, str]]:
    """SQL aggregates of one pair over its row flags, and its distinct-user counts."""
    i = pair.index
    pre, lead = f"pre{i}", f"lead{i}"
    edges = (grace,) + tuple(x for x in LEAD_EDGES if x > grace)
    # count_true(x) counts the rows count(*) FILTER (WHERE x) does, about ten times faster.
    bins = [f"count_true({pre} AND {lead} < {edges[0]}) AS h{i}_0"]
    for b, (lo, hi) in enumerate(zip(edges, edges[1:] + (None,), strict=True), start=1):
        upper = f" AND {lead} < {hi}" if hi is not None else ""
        bins.append(f"count_true({pre} AND {lead} >= {lo}{upper}) AS h{i}_{b}")
    counts = [
        f"count_true(viol{i}) AS v{i}",
        f"count_true(viol{i} AND user_key IS NULL) AS va{i}",
        f"count_true(wd{i}) AS w{i}",
        f"count_true(wdg{i}) AS wg{i}",
        f"count_true({pre} AND {lead} > {grace}) AS pb{i}",
        f"count_true({pre} AND {lead} <= {grace}) AS pg{i}",
        f"median(CASE WHEN {pre} THEN {lead} END) AS pm{i}",
        *bins,
    ]
    return counts, {f"vu{i}": f"viol{i}", f"wu{i}": f"wd{i}", f"pu{i}": pre}


JOINED = EVENTS_WITH_CONSENT


def _totals(ctx: ScanContext) -> list[dict[str, Any]]:
    """Per (source, event name): events, and per purpose the denied ones (not withdrawn) and
    the ones before their user's first decision, which comes later (the pre-consent share's
    base: the events of users who never decide are a missing record's). One pass, shared by
    every batch of pairs."""
    states = [
        f"count_true(e.state_{p} = 'denied' AND NOT e.withdrawn_{p}) AS n_denied_{p}"
        for p in ctx.purposes
    ] + [
        f"count_true(e.state_{p} = 'unknown' AND e.first_{p} > e.ts) AS n_before_{p}"
        for p in ctx.purposes
    ]
    return fetch_rows(
        ctx.con,
        f"SELECT e.source, e.event_name, count(*) AS n, {', '.join(states)} "
        f"FROM {JOINED} GROUP BY ALL",
    )


def _query(
    ctx: ScanContext, todo: list[Pair], totals: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Return ``totals`` (one row per source and event name) with the pairs' counts added."""
    grace = float(ctx.config.thresholds.grace_seconds)
    flags = [f"e.state_{p} AS state_{p}, e.withdrawn_{p} AS withdrawn_{p}" for p in ctx.purposes]
    parts: list[str] = []
    users: dict[str, str] = {}
    for pair in todo:
        flags += _row_flags(pair, ctx.features[pair.feature], grace)
        counts, conditions = _aggregates(pair, grace)
        parts += counts
        users |= conditions
    # Each event's conditions are computed once per query; the aggregates only count them,
    # and only over the events with a condition set (on a compliant dump, a small fraction).
    # Keeping those events in a table for both counts was measured slower on the bench dumps
    # (5.4-5.6 vs 5.7-6.2 CPU-s at 10M events), where pre-consent events are common.
    rows_sql = f"SELECT e.source, e.event_name, e.user_key, {', '.join(flags)} FROM {JOINED}"
    flagged = " OR ".join(f"{c}{pair.index}" for pair in todo for c in ("viol", "wd", "wdg", "pre"))
    found = {
        (r["source"], r["event_name"]): r
        for r in fetch_rows(
            ctx.con,
            f"SELECT source, event_name, {', '.join(parts)} "
            f"FROM ({rows_sql}) WHERE {flagged} GROUP BY ALL",
        )
    }
    counted = {
        (r["source"], r["event_name"]): r
        for r in fetch_rows(ctx.con, distinct_sql("source, event_name", users, rows_sql))
    }
    aliases = [part.rsplit(" AS ", 1)[1] for part in parts]
    rows = []
    for total in totals:  # one per (source, event name): a few dozen, not events
        key = (total["source"], total["event_name"])
        got, users_got = found.get(key, {}), counted.get(key, {})
        row = dict(total)
        # a median of no event stays None; a count of none is 0
        row |= {a: got.get(a) if a.startswith("pm") else got.get(a) or 0 for a in aliases}
        row |= {alias: users_got.get(alias, 0) for alias in users}
        rows.append(row)
    return rows


def _duration(seconds: float) -> str:
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _lead_histogram(row: dict[str, Any], pair: Pair, grace: float) -> dict[str, Any]:
    """Pre-consent events per lead-time band, the first band being the grace window."""
    edges = [0.0, grace] + [x for x in LEAD_EDGES if x > grace]
    counts = [int(row[f"h{pair.index}_{b}"]) for b in range(len(edges))]
    labels = [f"< {_duration(grace)} (grace)"]
    labels += [
        f"{_duration(lo)}–{_duration(hi)}" for lo, hi in zip(edges[1:], edges[2:], strict=False)
    ]
    labels.append(f"> {_duration(edges[-1])}")
    return {
        "title": "Lead time from event to the user's first decision (events per band)",
        "labels": labels,
        "values": counts,
        "unit": "events",
        "edges_seconds": edges,
    }


def _finding(
    ctx: ScanContext,
    kind: str,
    severity: str,
    row: dict[str, Any],
    pair: Pair,
    title: str,
    metrics: dict[str, Any],
    recommendation: str,
    evidence: dict[str, Any] | None = None,
) -> Finding:
    location = {
        "source": row["source"],
        "step": row["event_name"],
        "feature": pair.feature,
        "purpose": pair.purpose,
    }
    owner = owner_for(
        ctx.config,
        source=row["source"],
        feature=pair.feature,
        step=row["event_name"],
        prefer="source",
    )
    counted = dict(metrics)
    metrics = suppress(metrics, ctx.min_group, follow=USERS_EVENTS)
    small = "users" in metrics.get("suppressed", [])  # their lead times are theirs too
    return Finding(
        kind,
        severity,
        title,
        location,
        metrics,
        recommendation,
        owner,
        evidence={} if small else evidence or {},
        withheld=counted if small else {},
    )


def _on(row: dict[str, Any], noun: str = " events") -> str:
    """The events of a row's step in words: ``purchase events``, or ``events without a name``
    for the events whose name is NULL."""
    name = row["event_name"]
    return f"{name}{noun}" if name is not None else "events without a name"


def _violation(ctx: ScanContext, row: dict[str, Any], pair: Pair) -> Finding | None:
    events = int(row[f"v{pair.index}"])
    if not events:
        return None
    denied = int(row[f"n_denied_{pair.purpose}"])
    users = int(row[f"vu{pair.index}"])
    metrics = {
        "events": events,
        "users": users,
        "share": round(events / denied, 6) if denied else None,
        "denied_events": denied,
    }
    if users and row[f"va{pair.index}"]:  # identified users and cookieless pings: see NO_ID_EVENTS
        metrics[NO_ID_EVENTS] = int(row[f"va{pair.index}"])
    if 0 < denied - events < ctx.min_group:
        # the denied events lacking the feature are fewer users' (the cell's consent gap
        # hides them): the denied events, or the share, less the events would tell them
        hide_by_difference(metrics, ["denied_events", "share"], ctx.min_group)
    return _finding(
        ctx,
        "consent.violation",
        "high",
        row,
        pair,
        f"{pair.feature} is collected on {_on(row)} where {pair.purpose} consent was denied",
        metrics,
        f"Stop sending {pair.feature} when {pair.purpose} is denied: gate the tag or the "
        f"pipeline step of source {row['source']} on the {pair.purpose} consent state.",
    )


def _withdrawal(ctx: ScanContext, row: dict[str, Any], pair: Pair) -> Finding | None:
    events, skew = int(row[f"w{pair.index}"]), int(row[f"wg{pair.index}"])
    if not events:
        return None
    return _finding(
        ctx,
        "consent.after_withdrawal",
        "high",
        row,
        pair,
        f"{pair.feature} is still collected on {_on(row)} after users "
        f"withdrew {pair.purpose} consent",
        {
            "events": events,
            "users": int(row[f"wu{pair.index}"]),
            "share": round(events / (events + skew), 6),
            "events_within_grace": skew,
        },
        f"Make withdrawals of {pair.purpose} take effect at once in source {row['source']}: "
        "listen to the CMP's update event and stop the tag for the rest of the session.",
    )


def _pre_consent(ctx: ScanContext, row: dict[str, Any], pair: Pair) -> Finding | None:
    i = pair.index
    beyond, within = int(row[f"pb{i}"]), int(row[f"pg{i}"])
    if not beyond and not within:
        return None
    grace = float(ctx.config.thresholds.grace_seconds)
    before = int(row[f"n_before_{pair.purpose}"])
    users = int(row[f"pu{i}"])
    skew = beyond == 0
    # users under k: their events beyond the grace window are hidden, and the verdict, the
    # severity, the title and the advice, which read them, say neither
    few = 0 < users < ctx.min_group
    metrics = {
        "events": beyond + within,
        "users": users,
        "share": round((beyond + within) / before, 6) if before else None,
        "events_beyond_grace": beyond,
        "events_within_grace": within,
        "grace_seconds": grace,
        "median_lead_seconds": round(float(row[f"pm{i}"]), 3)
        if row[f"pm{i}"] is not None
        else None,
        "verdict": "clock_skew" if skew else "before_banner",
    }
    hold = (
        f"Hold {pair.feature} until the user decides on {pair.purpose}: load the tag from the "
        "CMP's consent callback (or use Consent Mode defaults set to denied)."
    )
    if few:
        verdict, severity = "", "high"
        rec = (
            f"{hold} Where every lead time is within the {grace:g} s grace window, align the "
            "clocks of the CMP and the collector instead."
        )
    elif skew:
        verdict, severity = " (clock skew between CMP and collector)", "low"
        rec = (
            f"All lead times are within the {grace:g} s grace window: align the clocks of the "
            "CMP and the collector, or widen the window."
        )
    else:
        verdict, severity, rec = " (tags fire before the banner)", "high", hold
    return _finding(
        ctx,
        "consent.pre_consent",
        severity,
        row,
        pair,
        f"{pair.feature} is collected on {_on(row, '')} before the user decides on "
        f"{pair.purpose}{verdict}",
        metrics,
        rec,
        {"bars": _lead_histogram(row, pair, grace)},
    )


def check_compliance(ctx: ScanContext, notes: list[str] | None = None) -> list[Finding]:
    """Return violation, after-withdrawal and pre-consent findings for every classified feature.

    Events of the consent mechanism itself are left out, with a note in ``notes`` saying
    how many of each there were.
    """
    todo = pairs(ctx)
    totals = _totals(ctx) if todo else []
    left_out = [t for t in totals if is_mechanism_event(t["event_name"])]
    if left_out and notes is not None:
        counts: dict[str, int] = {}
        for t in left_out:
            counts[t["event_name"]] = counts.get(t["event_name"], 0) + int(t["n"])
        listed = ", ".join(f"{name} ({n:,})" for name, n in sorted(counts.items()))
        notes.append(
            f"events of the consent mechanism itself ({listed}) are not checked for collection "
            "without consent: the CMP sends them, with the tracker's usual fields, to show the "
            "banner and record the choice"
        )
    totals = [t for t in totals if not is_mechanism_event(t["event_name"])]
    findings: list[Finding] = []
    for start in range(0, len(todo), PAIRS_PER_QUERY):
        batch = todo[start : start + PAIRS_PER_QUERY]
        for row in _query(ctx, batch, totals):
            for pair in batch:
                for build in (_violation, _withdrawal, _pre_consent):
                    finding = build(ctx, row, pair)
                    if finding is not None:
                        findings.append(finding)
    return findings


def _idless_missing(ctx: ScanContext, source: str, events: int, unflagged: int) -> Finding:
    """The consent.missing_record of a source whose events carry no user id: its events
    without a consent flag of their own, their users unknown (see mark_no_user_ids)."""
    no_signal = not ctx.purposes
    title = (
        f"Source {source} carries no consent signal at all: every purpose is unknown"
        if no_signal
        else f"Events of {source} carry neither a user id nor a consent flag: no consent "
        f"decision applies to them ({unflagged / events:.0%} of its events)"
    )
    rec = (
        (_no_signal_unmapped(ctx.config.file_name) if ctx.unmapped else _NO_SIGNAL)
        if no_signal
        else "Send the user or anonymous id with these events, so the consent log applies to "
        "them, or their consent state (Consent Mode) with each event."
    )
    return Finding(
        "consent.missing_record",
        "medium",
        title,
        {"source": source},
        {"events": unflagged, "users": 0, "share": round(unflagged / events, 6)},
        rec,
        owner_for(ctx.config, source=source),
    )


def _unmet_sql(con: Any) -> tuple[str, str]:
    """SQL telling the users no consent record meets: a column of a user's events ``e``
    grouped by user, and the condition on a grouped user. By its own ``user_key``, or, where
    events meet consent by their browser (Snowplow), by the key of any of its events
    (:mod:`privdiag.consent_keys`)."""
    if not by_browser(con):
        logged = "SELECT user_key FROM consent WHERE user_key IS NOT NULL"
        return "", f"user_key NOT IN ({logged})"
    logged = f"SELECT user_key FROM {linked_consent(True)} WHERE user_key IS NOT NULL"
    met = f"bool_or(coalesce({meeting_key('e', True)} IN ({logged}), FALSE))"
    return f", {met} AS met", "NOT met"


def check_missing_records(ctx: ScanContext) -> list[Finding]:
    """Return one finding per source whose users have events but no consent decision at all.

    Without any consent signal in the whole scan, it says so once per source instead.
    """
    flags = " OR ".join(f"consent_{p} IS NOT NULL" for p in ctx.purposes) or "FALSE"
    # A source none of whose events has a user id is told by its events without a flag: no
    # decision can be joined to them, and no user count tells them.
    met, unmet = _unmet_sql(ctx.con)
    rows = ctx.con.execute(f"""
        WITH per_user AS (
            SELECT source, user_key, bool_or({flags}) AS flagged{met}
            FROM events e WHERE user_key IS NOT NULL GROUP BY ALL
        ),
        users AS (
            SELECT source, count(*) AS users,
                   count(*) FILTER (WHERE NOT flagged AND {unmet}) AS missing
            FROM per_user GROUP BY 1
        ),
        idless AS (
            SELECT source, count(*) AS events, count(*) FILTER (WHERE NOT ({flags})) AS unflagged
            FROM events WHERE user_key IS NULL GROUP BY 1
        )
        SELECT source, coalesce(users, 0), coalesce(missing, 0), events, unflagged
        FROM users FULL JOIN idless USING (source) ORDER BY 1
    """).fetchall()
    findings = []
    for source, users, missing, idless, unflagged in rows:
        if not users and unflagged:
            findings.append(_idless_missing(ctx, source, int(idless), int(unflagged)))
        if not missing:
            continue
        no_signal = not ctx.purposes
        share = missing / users
        # The share is hidden with a hidden count: times the total shown it gives the count,
        # and over a hidden total it describes only those few users.
        metrics = suppress(
            {"users": int(missing), "share": round(share, 6), "users_total": int(users)},
            ctx.min_group,
            keys=("users", "users_total"),
            follow=("share",),
        )
        told = (
            f"{share:.0%} of users"
            if metrics["share"] is not None
            else f"fewer than {ctx.min_group} users"
        )
        title = (
            f"Source {source} carries no consent signal at all: every purpose is unknown"
            if no_signal
            else f"Users of {source} have events but no consent decision ({told})"
        )
        rec = (
            _no_signal_unmapped(ctx.config.file_name)
            if no_signal and ctx.unmapped
            else _NO_SIGNAL
            if no_signal
            else "Check that the CMP records a decision for every visitor of this source, and that "
            "the consent log and the events use the same user identifier."
        )
        severity = "medium" if no_signal or share >= 0.05 else "low"
        findings.append(
            Finding(
                "consent.missing_record",
                severity,
                title,
                {"source": source},
                metrics,
                rec,
                owner_for(ctx.config, source=source),
            )
        )
    return findings
