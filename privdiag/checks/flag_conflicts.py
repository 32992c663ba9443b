"""Consent conflicts of the events' own flags: where an event's consent flag for a purpose
(``consent_P``: a GA4 ``privacy_info`` field, a Segment or RudderStack consent object, a
Consent Mode signal) disagrees with the consent log's state at its time (``log_P``).
"""

from __future__ import annotations

from typing import Any

from privdiag.checks.bits import distinct_sql
from privdiag.checks.compliance import JOINED, PAIRS_PER_QUERY, not_mechanism_sql
from privdiag.checks.context import (
    USERS_EVENTS,
    ScanContext,
    hide_by_difference,
    present_sql,
    suppress,
)
from privdiag.engine import fetch_rows
from privdiag.findings import Finding
from privdiag.mapping import owner_for

# A flag conflict's count of the events whose own flag grants what the log denied, with its
# users: hidden together.
FLAG_GRANTED = ("users_flag_granted", "events_flag_granted")


def check_conflicts(ctx: ScanContext) -> list[Finding]:
    """Return a finding per (source, purpose) where an event's own flag disagrees with the log.

    The two ways differ in harm. An event's flag granting what the log denied (a tag that did
    not hear of a denial or a withdrawal) is collection without consent that the other
    compliance checks cannot see, as an event's own flag decides its state: the finding is
    high, and counts those events apart (``events_flag_granted``). A flag denying what the
    log granted only loses data: medium.

    The consent mechanism's own events (a choice recorded: Segment's consent preference
    events) are left out: their flags are the log's records, so where one differs from the
    log, two records of one instant disagree, which the log's own conflict reports; no tag
    missed a decision.
    """
    if not ctx.purposes:
        return []
    tag = not_mechanism_sql(ctx.event_names, "e.event_name")
    both = {
        p: f"{tag} AND e.consent_{p} IS NOT NULL AND e.log_{p} IS NOT NULL" for p in ctx.purposes
    }
    differ = {p: f"{both[p]} AND e.consent_{p} <> e.log_{p}" for p in ctx.purposes}
    grants = {
        p: f"coalesce({tag} AND e.consent_{p} AND NOT e.log_{p}, FALSE)" for p in ctx.purposes
    }
    denies = {
        p: f"coalesce({tag} AND NOT e.consent_{p} AND e.log_{p}, FALSE)" for p in ctx.purposes
    }
    parts = ", ".join(
        f"count_true({differ[p]}) AS x_{p}, count_true({grants[p]}) AS xg_{p}, "
        f"count_true({both[p]}) AS xb_{p}"
        for p in ctx.purposes
    )
    rows = fetch_rows(ctx.con, f"SELECT e.source, {parts} FROM {JOINED} GROUP BY 1 ORDER BY 1")
    conds = {
        f"{kind}_{p}": cond
        for p in ctx.purposes
        for kind, cond in (("xu", differ[p]), ("xgu", grants[p]), ("xdu", denies[p]))
    }
    users = {alias: alias for alias in conds}
    per_row = ", ".join(f"{cond} AS {alias}" for alias, cond in conds.items())
    rows_sql = f"SELECT e.source, e.user_key, {per_row} FROM {JOINED}"
    counted = {r["source"]: r for r in fetch_rows(ctx.con, distinct_sql("source", users, rows_sql))}
    stale = [p for p in ctx.purposes if any(int(r[f"xg_{p}"]) for r in rows)]
    carried = _carried(ctx, {p: grants[p] for p in stale})
    findings = []
    for row in rows:
        found = counted.get(row["source"], {})
        row |= {alias: found.get(alias, 0) for alias in users}
        for p in ctx.purposes:
            events = int(row[f"x_{p}"])
            if events:
                features = carried.get((row["source"], p), [])
                findings.append(_flag_conflict(ctx, row, p, features))
    return findings


def _carried(ctx: ScanContext, grants: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    """Per (source, purpose P of ``grants``): the classified features needing P that the
    events whose own flag grants P where the log denied it (``grants[P]``, SQL) carry, each
    carried by ``min_group_size`` users or more, in name order. A feature of fewer users is
    left out: its name would tell what those few sent."""
    todo = [
        (p, f)
        for p in grants
        for f, needs in sorted(ctx.mapping.items())
        if p in needs and f in ctx.features
    ]
    out: dict[tuple[str, str], list[str]] = {}
    for start in range(0, len(todo), PAIRS_PER_QUERY):
        batch = todo[start : start + PAIRS_PER_QUERY]
        conds = {
            f"xf_{start + i}": f"{grants[p]} AND {present_sql(f, ctx.features[f])}"
            for i, (p, f) in enumerate(batch)
        }
        per_row = ", ".join(f"{cond} AS {alias}" for alias, cond in conds.items())
        rows_sql = f"SELECT e.source, e.user_key, {per_row} FROM {JOINED}"
        users = {alias: alias for alias in conds}
        for r in fetch_rows(ctx.con, distinct_sql("source", users, rows_sql)):
            for i, (p, f) in enumerate(batch):
                if int(r[f"xf_{start + i}"] or 0) >= max(ctx.min_group, 1):
                    out.setdefault((r["source"], p), []).append(f)
    return out


def _flag_conflict(ctx: ScanContext, row: dict[str, Any], p: str, features: list[str]) -> Finding:
    """The consent.conflict of source ``row["source"]`` and purpose ``p`` (its counts in
    ``row``, see :func:`check_conflicts`), its small groups hidden; ``features`` are those
    that the events whose flag grants ``p`` against the log carry (:func:`_carried`)."""
    source, events, both = row["source"], int(row[f"x_{p}"]), int(row[f"xb_{p}"])
    granted = int(row[f"xg_{p}"])
    metrics: dict[str, Any] = {
        "events": events,
        "users": int(row[f"xu_{p}"]),
        "share": round(events / both, 6) if both else None,
        "events_flag_granted": granted,
        "users_flag_granted": int(row[f"xgu_{p}"]),
    }
    if features:
        metrics["features_flag_granted"] = features
    suppress(metrics, ctx.min_group, follow=USERS_EVENTS)
    suppress(metrics, ctx.min_group, keys=("users_flag_granted",), follow=FLAG_GRANTED)
    # the events less those granted are the other way's: hidden with its few users
    other = int(row[f"xdu_{p}"])
    if metrics["events_flag_granted"] is not None and 0 < other < ctx.min_group:
        hide_by_difference(metrics, list(FLAG_GRANTED), ctx.min_group)
    if granted:
        return Finding(
            "consent.conflict",
            "high",
            f"Events of {source} carry {p} flags that grant what the consent log denied",
            {"source": source, "purpose": p},
            metrics,
            f"The tag kept treating users as consenting to {p} after the CMP logged their "
            f"denial or withdrawal: fix how the tag hears of {p} decisions (a missed consent "
            "update, a cached default). An event's own flag decides its consent state here, "
            "so the violation checks count these events as granted: treat what they carry"
            + (f" ({', '.join(features)})" if features else "")
            + " as collected without consent.",
            owner_for(ctx.config, source=source),
        )
    return Finding(
        "consent.conflict",
        "medium",
        f"Events of {source} carry {p} flags that deny what the consent log granted",
        {"source": source, "purpose": p},
        metrics,
        f"Find which system is stale: the tag's consent flag for {p} or the CMP log. "
        "Both should come from the same decision.",
        owner_for(ctx.config, source=source),
    )
