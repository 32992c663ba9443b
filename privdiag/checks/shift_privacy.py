"""The privacy of the days of a ``sparsity.shift`` series: a day, or a segment between two
changes, whose figure comes from fewer than ``min_group_size`` users would tell what those
users chose or sent. Such days are left blank on the charts (:func:`few_days`, :func:`shown`),
no change is dated on one (:func:`off_hidden_days`), a segment of too few users joins its
neighbour or withholds its series (:func:`keep_segments_of_enough_users`, :func:`reportable`),
and a change's shares are those of the days drawn (:func:`drawn_shares`). A day, or a
segment, of enough users of whom 1 to ``min_group_size`` - 1 are on one side (granted or
denied; sent the feature or not) keeps its figures in the change test and the shares, but is
published as no value: the day left blank (:func:`few_days`), the segment's share hidden
(:func:`hide_small_sides`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from privdiag.checks.context import EVENTS_WITH_CONSENT, ScanContext, present_sql
from privdiag.checks.shift_series import Series, between, set_changes
from privdiag.engine import literal


@dataclass(frozen=True)
class Sides:
    """The distinct users of a period of a series (:func:`_counted`), and of each side of it
    (:func:`_side`): ``yes`` granted or carried the feature, ``no`` denied or lacked it."""

    users: int
    yes: int
    no: int

    def small(self, k: int) -> bool:
        """True when 1 to ``k`` - 1 users are on one side: the period's share tells them."""
        return 0 < min(self.yes, self.no) < k


# Shifting series whose days of too few users one query finds: each is a bit of a BIGINT.
FEW_DAYS_SERIES = 62


def few_days(ctx: ScanContext, fired: list[Series]) -> list[tuple[set[str], set[str]]]:
    """Per series of ``fired`` (those that shift), its days whose figure comes from 1 to
    ``min_group_size`` - 1 users, then its other days where 1 to ``min_group_size`` - 1 of
    them are on one side (granted, or denied; sent the feature, or not): either day's value
    would tell those users' states or what they sent (events without a user id single out
    no one). A consent rate's users are those with a decision that day, a feature's those
    with events of the names that carry it. A day of the second kind is only left blank
    (:func:`shown`): its figures stay in the change test and the shares, which
    :func:`hide_small_sides` checks in their own right. One query for up to
    :data:`FEW_DAYS_SERIES` series (:func:`_few_days_sql`)."""
    days: list[tuple[set[str], set[str]]] = [(set(), set()) for _ in fired]
    for start in range(0, len(fired), FEW_DAYS_SERIES):
        chunk = fired[start : start + FEW_DAYS_SERIES]
        sql = _few_days_sql(ctx, chunk)
        for n, day, users in ctx.con.execute(sql).fetchall():
            days[start + int(n)][0 if users < ctx.min_group else 1].add(str(day))
    return days


def _few_days_sql(ctx: ScanContext, fired: list[Series]) -> str:
    """SQL of (series position, day, users) for the days of ``fired`` of 1 to ``k`` - 1 users,
    or of 1 to ``k`` - 1 on one side, in one pass over the events: each user's events of a
    day get a mask of the series they count for and one of each side, and only those rows
    are spread over the series of their mask."""
    k = ctx.min_group

    def mask(which: Callable[[Series], str]) -> str:
        bits = [f"CASE WHEN {which(s)} THEN {1 << bit} ELSE 0 END" for bit, s in enumerate(fired)]
        return f"bit_or(CAST({' | '.join(bits)} AS BIGINT))"

    sources = ", ".join(sorted({literal(s.source) for s in fired}))
    positions = ", ".join(f"({n})" for n in range(len(fired)))
    return f"""
        WITH marked AS (
            SELECT e.ts::DATE AS day, e.user_key, {mask(_counted)} AS mask,
                   {mask(lambda s: _side(ctx, s, True))} AS side_a,
                   {mask(lambda s: _side(ctx, s, False))} AS side_b
            FROM {EVENTS_WITH_CONSENT}
            WHERE e.source IN ({sources}) AND e.user_key IS NOT NULL
            GROUP BY ALL
        ), spread AS (
            SELECT n, day, count(*) AS users,
                   count(*) FILTER (WHERE side_a & (CAST(1 AS BIGINT) << n) <> 0) AS side_a,
                   count(*) FILTER (WHERE side_b & (CAST(1 AS BIGINT) << n) <> 0) AS side_b
            FROM marked, (VALUES {positions}) AS series(n)
            WHERE mask & (CAST(1 AS BIGINT) << n) <> 0
            GROUP BY ALL
        )
        SELECT n, strftime(day, '%Y-%m-%d'), users FROM spread
        WHERE users < {int(k)} OR least(side_a, side_b) BETWEEN 1 AND {int(k) - 1}
    """


def _counted(s: Series) -> str:
    """SQL: the events whose users a series' figure comes from: of its source, with a
    decision for its purpose, or of the event names that carry its feature."""
    if s.purpose:
        which = f"e.state_{s.purpose} IN ('granted', 'denied')"
    else:
        which = f"e.event_name IN ({', '.join(literal(n) for n in s.carriers) or 'NULL'})"
    return f"e.source = {literal(s.source)} AND {which}"


def _side(ctx: ScanContext, s: Series, yes: bool) -> str:
    """SQL: the counted events (:func:`_counted`) on one side of the series' figure: granted
    (``yes``) or denied for a consent rate, carrying the feature (``yes``) or lacking it for a
    missing share. A user whose events of a period lie on both sides counts on both."""
    if s.purpose:
        which = f"e.state_{s.purpose} = '{'granted' if yes else 'denied'}'"
    else:
        present = present_sql(str(s.feature), ctx.features[str(s.feature)])
        which = present if yes else f"NOT {present}"
    return f"{_counted(s)} AND {which}"


def _segments(ctx: ScanContext, s: Series, skipped: set[str] | None = None) -> list[Sides]:
    """The distinct users of each segment of ``s`` between its changes, and of each of its
    sides (:func:`_side`), leaving out the days ``skipped`` (one grouped query)."""
    starts = [s.on(c) for c in s.changes]
    segment = " + ".join(f"(e.ts::DATE >= DATE {literal(d)})::INT" for d in starts) or "0"
    left_out = ", ".join(f"DATE {literal(d)}" for d in sorted(skipped or ()))
    rows = ctx.con.execute(f"""
        SELECT {segment} AS segment, count(DISTINCT e.user_key),
               count(DISTINCT e.user_key) FILTER (WHERE {_side(ctx, s, True)}),
               count(DISTINCT e.user_key) FILTER (WHERE {_side(ctx, s, False)})
        FROM {EVENTS_WITH_CONSENT}
        WHERE {_counted(s)} {f"AND e.ts::DATE NOT IN ({left_out})" if left_out else ""}
        GROUP BY 1
    """).fetchall()
    found = {int(n): Sides(int(u), int(y), int(x)) for n, u, y, x in rows}
    return [found.get(n, Sides(0, 0, 0)) for n in range(len(starts) + 1)]


def keep_segments_of_enough_users(ctx: ScanContext, s: Series) -> bool:
    """Drop, in place, the further changes of ``s`` beside a segment of 1 to
    ``min_group_size`` - 1 users, whose share would tell what those users chose or sent
    (the segment then joins its neighbour); False when a segment beside its first change
    stays that small, so that the series is not reported at all. Events without a user id
    single out no one."""
    while True:
        users = [side.users for side in _segments(ctx, s)]
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


def drawn_shares(s: Series) -> bool:
    """Give the changes of ``s``, in place, the shares of the days drawn only: a segment's share
    over its blank days too, beside the drawn days' values, told which way those days' few
    users lean (one user who denied made 40% days read 72 / 181 = 0.3978). A segment whose
    every day is blank keeps its shares (a Known limitation)."""
    drawn = np.array([d not in s.hidden_days for d in s.days])
    if drawn.all():
        return False
    x, n = s.x * drawn, s.n * drawn
    bounds = [0, *(c.index for c in s.changes), len(s.days)]
    if any(n[a:b].sum() == 0 for a, b in zip(bounds, bounds[1:], strict=False)):
        return False
    shares = [float(x[a:b].sum() / n[a:b].sum()) for a, b in zip(bounds, bounds[1:], strict=False)]
    set_changes(
        s, [replace(c, before=shares[i], after=shares[i + 1]) for i, c in enumerate(s.changes)]
    )
    return True


def hide_small_sides(ctx: ScanContext, s: Series, drawn: bool) -> None:
    """Mark, in place, the segments of ``s`` (between its changes) whose share comes from a
    side of 1 to ``min_group_size`` - 1 users: a week of ten users a day, one denying each
    day, reads 90% from 7 denials, but one such day alone tells its one. Their shares are
    published as hidden (:meth:`Series.published`); the change test and the other shares keep
    them. The users are counted over the days the shares come from: the days drawn when
    ``drawn`` (:func:`drawn_shares`), else every day."""
    sides = _segments(ctx, s, s.hidden_days if drawn else None)
    s.hidden_shares = {n for n, side in enumerate(sides) if side.small(ctx.min_group)}


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
    days = set().union(*(s.hidden_days | s.side_days for s in drawn))
    if not days:
        return ""
    total = len(drawn[0].days)
    sides = dict.fromkeys(
        "granted or denied" if s.purpose else f"sent {s.feature} or not"
        for s in drawn
        if s.side_days
    )
    side = f", or fewer than {k} of them on one side ({'; '.join(sides)})" if sides else ""
    return (
        f"{len(days)} of {total} days not drawn: fewer than {k} users that day{side}, "
        "whose figure would tell what they chose or sent."
    )


def shown(s: Series) -> list[float | None]:
    """The series' daily values, None on its ``hidden_days`` and ``side_days`` (its days of too
    few users, or of too few on one side: :func:`few_days`), on its own chart and on any
    other it is drawn on."""
    blank = s.hidden_days | s.side_days
    return [None if d in blank else v for d, v in zip(s.days, s.values(), strict=True)]
