"""The privacy of the days of a ``sparsity.shift`` series: a day, or a segment between two
changes, whose figure comes from fewer than ``min_group_size`` users would tell what those
users chose or sent. Such days are left blank on the charts (:func:`few_days`, :func:`shown`),
no change is dated on one (:func:`off_hidden_days`), a segment of too few users joins its
neighbour or withholds its series (:func:`keep_segments_of_enough_users`, :func:`reportable`),
and a change's shares are those of the days drawn (:func:`drawn_shares`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from privdiag.checks.context import EVENTS_WITH_CONSENT, ScanContext
from privdiag.checks.shift_series import Series, between, set_changes
from privdiag.engine import literal

# Shifting series whose days of too few users one query finds: each is a bit of a BIGINT.
FEW_DAYS_SERIES = 62


def few_days(ctx: ScanContext, fired: list[Series]) -> list[set[str]]:
    """Per series of ``fired`` (those that shift), its days whose figure comes from 1 to
    ``min_group_size`` - 1 users: the day's value would tell their states or what they sent
    (events without a user id single out no one). A consent rate's users are those with a
    decision that day, a feature's those with events of the names that carry it. One query
    for up to :data:`FEW_DAYS_SERIES` series (:func:`_few_days_sql`)."""
    days: list[set[str]] = [set() for _ in fired]
    for start in range(0, len(fired), FEW_DAYS_SERIES):
        chunk = fired[start : start + FEW_DAYS_SERIES]
        for k, day in ctx.con.execute(_few_days_sql(chunk, ctx.min_group)).fetchall():
            days[start + int(k)].add(str(day))
    return days


def _few_days_sql(fired: list[Series], k: int) -> str:
    """SQL of (series position, day) for the days of ``fired`` of 1 to ``k`` - 1 users, in
    one pass over the events: each event gets a mask of the series it counts for, the events
    are grouped by day, user and mask (a user's events of a day mostly share one), and only
    those groups are spread over the series of their mask."""
    bits = [f"CASE WHEN {_counted(s)} THEN {1 << bit} ELSE 0 END" for bit, s in enumerate(fired)]
    sources = ", ".join(sorted({literal(s.source) for s in fired}))
    positions = ", ".join(f"({n})" for n in range(len(fired)))
    return f"""
        WITH marked AS (
            SELECT e.ts::DATE AS day, e.user_key, CAST({" | ".join(bits)} AS BIGINT) AS mask
            FROM {EVENTS_WITH_CONSENT} WHERE e.source IN ({sources})
            GROUP BY ALL
        )
        SELECT n, strftime(day, '%Y-%m-%d') FROM marked, (VALUES {positions}) AS series(n)
        WHERE mask & (CAST(1 AS BIGINT) << n) <> 0
        GROUP BY ALL HAVING count(DISTINCT user_key) BETWEEN 1 AND {int(k) - 1}
    """


def _counted(s: Series) -> str:
    """SQL: the events whose users a series' figure comes from: of its source, with a
    decision for its purpose, or of the event names that carry its feature."""
    if s.purpose:
        which = f"e.state_{s.purpose} IN ('granted', 'denied')"
    else:
        which = f"e.event_name IN ({', '.join(literal(n) for n in s.carriers) or 'NULL'})"
    return f"e.source = {literal(s.source)} AND {which}"


def _segment_users(ctx: ScanContext, s: Series) -> list[int]:
    """The distinct users of each segment of ``s`` between its changes (one grouped query)."""
    starts = [s.on(c) for c in s.changes]
    segment = " + ".join(f"(e.ts::DATE >= DATE {literal(d)})::INT" for d in starts) or "0"
    rows = ctx.con.execute(f"""
        SELECT {segment} AS segment, count(DISTINCT e.user_key) FROM {EVENTS_WITH_CONSENT}
        WHERE {_counted(s)} GROUP BY 1
    """).fetchall()
    users = dict(rows)
    return [int(users.get(n, 0)) for n in range(len(starts) + 1)]


def keep_segments_of_enough_users(ctx: ScanContext, s: Series) -> bool:
    """Drop, in place, the further changes of ``s`` beside a segment of 1 to
    ``min_group_size`` - 1 users, whose share would tell what those users chose or sent
    (the segment then joins its neighbour); False when a segment beside its first change
    stays that small, so that the series is not reported at all. Events without a user id
    single out no one."""
    while True:
        users = _segment_users(ctx, s)
        thin = [n for n, u in enumerate(users) if 0 < u < ctx.min_group]
        if not thin:
            return True
        beside = [c for n in thin for c in s.changes[max(n - 1, 0) : n + 1]]
        further = [c for c in beside if c.index != s.cp.index]
        if not further:
            return False
        drop = further[0].index
        set_changes(s, between(s, {c.index: c.p_value for c in s.changes if c.index != drop}))


def off_hidden_days(s: Series) -> bool:
    """Move, in place, each change of ``s`` that starts on one of its ``hidden_days`` (a day of
    too few users) to the next day drawn: named, the blank day would tell which side of the
    change its users lie on. A further change with no day drawn before the next change goes.
    A first change with no day drawn after it stays (on a sample of few users a day every
    day is blank: a Known limitation). True when a change moved or went, so that the users
    of its segments are to be counted again."""
    if not s.hidden_days:
        return False
    ends = [c.index for c in s.changes[1:]] + [len(s.days)]
    p_values: dict[int, float] = {}
    first = None
    for c, end in zip(s.changes, ends, strict=True):
        i = c.index
        while i < end and s.days[i] in s.hidden_days:
            i += 1
        if i < end:
            p_values[i] = c.p_value
            first = i if c.index == s.cp.index else first
    if first is None or list(p_values) == [c.index for c in s.changes]:
        return False
    set_changes(s, between(s, p_values), first)
    return True


def drawn_shares(s: Series) -> None:
    """Give the changes of ``s``, in place, the shares of the days drawn only: a segment's share
    over its blank days too, beside the drawn days' values, told which way those days' few
    users lean (one user who denied made 40% days read 72 / 181 = 0.3978). A segment whose
    every day is blank keeps its shares (a Known limitation)."""
    drawn = np.array([d not in s.hidden_days for d in s.days])
    if drawn.all():
        return
    x, n = s.x * drawn, s.n * drawn
    bounds = [0, *(c.index for c in s.changes), len(s.days)]
    if any(n[a:b].sum() == 0 for a, b in zip(bounds, bounds[1:], strict=False)):
        return
    shares = [float(x[a:b].sum() / n[a:b].sum()) for a, b in zip(bounds, bounds[1:], strict=False)]
    set_changes(
        s, [replace(c, before=shares[i], after=shares[i + 1]) for i, c in enumerate(s.changes)]
    )


def reportable(
    fired: list[Series], ok: list[bool], ctx: ScanContext, notes: list[str] | None
) -> list[Series]:
    """The series of ``fired`` whose ``ok`` is true; a note (:func:`_withheld`) for each other."""
    if notes is not None:
        notes += [
            _withheld(s, ctx.min_group) for s, good in zip(fired, ok, strict=True) if not good
        ]
    return [s for s, good in zip(fired, ok, strict=True) if good]


def _withheld(s: Series, k: int) -> str:
    """The note on a series whose first change is not reported for too few users (its day
    not named: with the days' users, it would tell which way those users differ)."""
    what = f"the {s.purpose} consent rate" if s.purpose else f"{s.feature}'s missing share"
    return (
        f"{s.source}: a change of {what} is not reported: the days on one side of it hold "
        f"fewer than {k} users, whose share would tell what they chose or sent"
    )


def hidden_note(drawn: list[Series], k: int) -> str:
    """The chart's words on the days it leaves blank for too few users ("" when none)."""
    days = set().union(*(s.hidden_days for s in drawn))
    if not days:
        return ""
    total = len(drawn[0].days)
    return (
        f"{len(days)} of {total} days not drawn: fewer than {k} users that day, whose "
        "figure would tell what they chose or sent."
    )


def shown(s: Series) -> list[float | None]:
    """The series' daily values, None on its ``hidden_days`` (its days of too few users,
    :func:`few_days`), on its own chart and on any other it is drawn on."""
    return [None if d in s.hidden_days else v for d, v in zip(s.days, s.values(), strict=True)]
