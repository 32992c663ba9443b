"""Contradictory consent records: one user, one purpose, one instant, both granted and denied.

The state resolution has to pick one (it picks denied, the safe side); this check says that
the log itself is inconsistent, so a CMP or a merge of two logs can be fixed at the source.
"""

from __future__ import annotations

from privdiag.checks.context import ScanContext, suppress
from privdiag.findings import Finding
from privdiag.mapping import owner_for
from privdiag.state import DAY_ONLY, dated_decisions

#: The location's scenario of a conflict within the consent log itself.
LOG_SCENARIO = "consent log"


def check_log_conflicts(ctx: ScanContext) -> list[Finding]:
    """Return one ``consent.conflict`` finding per (consent source, purpose) whose log holds
    a grant and a denial for the same user at the same instant.

    Assumes the ``consent`` table of the canonical data; the records' own source names the
    location (several logs merged into one table keep their names). Decisions dated without
    a time of day are no such records: a grant and a denial of one date were made at two
    instants of that day, in either order (:func:`privdiag.state.dated_decisions`).
    """
    timed = f"AND NOT coalesce({DAY_ONLY}, FALSE)" if dated_decisions(ctx.con) else ""
    rows = ctx.con.execute(f"""
        WITH clash AS (
            SELECT user_key, purpose, ts, min(source) AS source, count(*) AS records
            FROM consent WHERE user_key IS NOT NULL {timed}
            GROUP BY user_key, purpose, ts
            HAVING bool_or(granted) AND NOT bool_and(granted)
        )
        SELECT source, purpose, sum(records) AS records, count(DISTINCT user_key) AS users
        FROM clash GROUP BY 1, 2 ORDER BY 1, 2
    """).fetchall()
    return [_finding(ctx, str(s), str(p), int(r), int(u)) for s, p, r, u in rows]


def _finding(ctx: ScanContext, source: str, purpose: str, records: int, users: int) -> Finding:
    # the records of fewer than min_group_size users are theirs: hidden with them
    metrics = suppress({"records": records, "users": users}, ctx.min_group, follow=("records",))
    return Finding(
        "consent.conflict",
        "medium",
        # "records", not "log": they may come from the events' own preference events
        # (Segment's, Snowplow's), where no log was given
        f"The consent records of {source} grant and deny {purpose} for the same user at the "
        "same instant; those users were treated as denied",
        # The scenario sets it apart from the consent.conflict of the events of a source of
        # the same name (their flags against the log): of one kind and location, the two
        # were one id, and a report or an audit kept one of them.
        {"source": source, "purpose": purpose, "scenario": LOG_SCENARIO},
        metrics,
        "Find which system wrote both decisions (two CMPs, a replayed sync, a merge of two "
        "logs) and keep one decision per user and instant.",
        owner_for(ctx.config, source=source),
    )
