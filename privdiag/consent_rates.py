"""The consent rates and mix of a scan (``evidence.consent_rates``, ``evidence.consent_mix``):
per purpose, the share of people who granted it, weighed per person over the events whose
state :mod:`privdiag.state` resolved, and how the purposes' states combine; a rate that
1 to ``min_group_size`` - 1 users decided, or whose smaller side is that few, is not given.
"""

from __future__ import annotations

import math
from typing import Any

from privdiag.engine import one

# What a weight of the consent rates and mix is (evidence.consent_weighting): a person, an
# identified user counted once over their events; a result without the key weighed events.
WEIGHTING = "person"
# The rates' and mix's weights are summed in SQL as integers, in these parts of a person.
WEIGHT_SCALE = 1_000_000_000


def consent_evidence(
    con: Any, purposes: list[str], min_group_size: int
) -> tuple[dict[str, float], list[dict[str, Any]], dict[str, int]]:
    """Return the consent rates and the consent mix of ``purposes``, each person weighed
    once (:data:`WEIGHTING`), from one grouping of the events with a decision, and per rated
    purpose a coarse floor of the users on its smaller side (:func:`users_at_least`).

    The rates: per purpose, the weighted share of its events with a decision that are
    granted. The mix: how much of that weight each combination of consent states across
    ``purposes`` holds, a list of ``{"granted": [...], "denied": [...], "share": s}``,
    largest share first, over the events with a decision for at least one purpose (a purpose
    in neither list is unknown on the combination's events). Both take the same weights
    (:func:`_persons`), so a row drawn from the mix, its unknown purposes drawn at their
    rates, is granted purpose P as often as the rate of P says.

    A combination whose events carry fewer than ``min_group_size`` distinct user ids is not
    shown as such: its weight is pooled into one last entry, ``granted`` and ``denied`` None
    (:func:`_pooled`). Events without a user id (cookieless pings) single out no one and stay
    in their combination. The user counts that decide it are exact, not weighted.
    """
    if not purposes:
        return {}, [], {}
    k = int(min_group_size)
    combos = _weighed_combos(con, purposes)
    persons = _persons(combos, len(purposes))
    deciders = _deciders(con, purposes, combos, k)
    few = {p for p, n in deciders.items() if 0 < n < k}
    rates = {p: r for p, r in _rates(purposes, combos, persons).items() if p not in few}
    # the users on a rate's smaller side (of those anyone is on): 1 to k - 1 of them granted
    # or denied, the rate beside the deciders would tell how many; its floor is theirs, so
    # that a report at a larger min_group_size hides it as it would have been hidden
    sides = _smaller_sides(con, purposes, combos, k, {p for p in rates if deciders[p]})
    for p in [p for p, n in sides.items() if k > 1 and n < k]:
        del rates[p]
    # 0: no identified user decided it (its events have no user id and tell no one)
    floors = {p: users_at_least(sides[p], k) if deciders[p] else 0 for p in rates}
    return rates, _mix(con, purposes, combos, persons, k, few), floors


def _deciders(
    con: Any, purposes: list[str], combos: list[tuple[Any, ...]], k: int
) -> dict[str, int]:
    """Per purpose, a lower bound of the identified users who decided it, exact below ``k``
    (:func:`_bounded_users`): a purpose that 1 to ``k`` - 1 users decided has no rate, which
    would tell those few users' choices (one user denying personalization, alone in deciding
    it, read as a rate of 0.0), and the mix does not name it. 0 where no identified user
    decided it (its rate, of events without a user id, singles out no one)."""
    return {
        p: _bounded_users(con, purposes, combos, k, p, ("granted", "denied"))[0] for p in purposes
    }


def _smaller_sides(
    con: Any, purposes: list[str], combos: list[tuple[Any, ...]], k: int, wanted: set[str]
) -> dict[str, int]:
    """Per purpose of ``wanted`` (of ``purposes``, in the combinations' order), a lower bound
    of the identified users on its smaller side, those who granted it or those who denied it
    (of the sides anyone is on), exact below ``k`` (:func:`_bounded_users`): beside the users
    who decided it, a rate tells how many are on each side (one user of six denying reads
    0.833333), which the opt-in rates hide under ``min_group_size``. A user who changed their
    mind is on both. (A query of every event's user per purpose and side took 2.6 CPU-s at
    10M events.)"""
    out = {}
    for p in [p for p in purposes if p in wanted]:
        sides = [_bounded_users(con, purposes, combos, k, p, (s,)) for s in ("granted", "denied")]
        out[p] = min([low for low, high in sides if high], default=0)
    return out


def _bounded_users(
    con: Any, purposes: list[str], combos: list[tuple[Any, ...]], k: int, p: str, states: tuple
) -> tuple[int, int]:
    """A lower bound of the identified users with an event whose state of purpose ``p`` is
    one of ``states``, exact below ``k``, and the upper bound: the users summed over the
    combinations bound the count from above; from below, the largest combination's and the
    weight of them all in persons (each user weighs one in all, so the users weigh no more
    than their count). Only where the bounds lie on either side of ``k`` is the count taken
    exactly; below ``k`` the upper bound stands for it (few either way)."""
    width, n = len(purposes), purposes.index(p)
    keyed = [c for c in combos if not c[width] and c[n] in states]
    high = sum(int(c[width + 2]) for c in keyed)
    weight = sum(int(c[width + 3] or 0) for c in keyed)
    low = max(max((int(c[width + 2]) for c in keyed), default=0), -(-weight // WEIGHT_SCALE))
    if low < k <= high:
        listed = ", ".join(f"'{s}'" for s in states)
        row = one(
            con,
            f"SELECT count(DISTINCT user_key) FROM scan_events WHERE state_{p} IN ({listed})",
        )
        return (int(row[0]) if row else 0), high
    return (high if high < k else low), high


# The floors :func:`users_at_least` gives: 1, 2, 5, 10, 20, 50, ... up to 5e12.
_FLOORS = tuple(m * 10**e for e in range(13) for m in (1, 2, 5))


def users_at_least(users: int, k: int) -> int:
    """A floor of ``users`` (at least ``k``) coarse enough to tell no count: the largest of
    1, 2, 5, 10, 20, 50, ... under it, or ``k`` when that is larger. The result records it per
    purpose rated (``evidence.consent_rates_users_at_least``), so that ``privdiag report``
    at a larger ``min_group_size`` knows which rates it may still show."""
    return max(k, max((f for f in _FLOORS if f <= users), default=k))


def _weighed_combos(con: Any, purposes: list[str]) -> list[tuple[Any, ...]]:
    """Per combination of states and whether its events lack a user id: (states..., no_id,
    events, users, weight), the weight of its identified events in :data:`WEIGHT_SCALE`-ths
    of a person (None for the events without a user id).

    One pass over the events groups them by combination and user (the states compared as
    they are, cast to text only once grouped); those groups, about one a user, then give
    each user's events with a decision, joined back. An integer weight sums alike in any
    order, so the rounded shares do not move from run to run or between engines.
    """
    raw = ", ".join(f"state_{p}" for p in purposes)
    states = ", ".join(f"CAST(state_{p} AS VARCHAR) AS s_{p}" for p in purposes)
    decided = " OR ".join(f"state_{p} <> 'unknown'" for p in purposes)
    weight = f"CAST(floor(CAST(events AS DOUBLE) * {WEIGHT_SCALE} / user_events) AS BIGINT)"
    return con.execute(f"""
        WITH per_user AS (
            SELECT {raw}, user_key, count(*) AS events
            FROM scan_events WHERE {decided} GROUP BY ALL
        ), weighed AS (
            SELECT per_user.*, totals.user_events FROM per_user
            LEFT JOIN (SELECT user_key, sum(events) AS user_events FROM per_user
                       GROUP BY user_key) totals ON totals.user_key = per_user.user_key
        )
        SELECT {states}, user_key IS NULL AS no_id, sum(events) AS events,
               count(user_key) AS users,
               sum(CASE WHEN user_key IS NOT NULL THEN {weight} END) AS weight
        FROM weighed GROUP BY ALL
    """).fetchall()


def _persons(combos: list[tuple[Any, ...]], width: int) -> list[float]:
    """Each combination's weight in persons: an identified user's events 1 / (the user's
    events with a decision) each; an event without a user id 1 / (the mean events with a
    decision of an identified user), a person of typical activity; with no identified
    event, 1 each."""
    identified = [c for c in combos if not c[width]]
    events = sum(int(c[width + 1]) for c in identified)
    # each user's weights sum to 1 less under 1e-9 per combination: rounded, the users
    users = round(sum(int(c[width + 3]) for c in identified) / WEIGHT_SCALE)
    per_ping = users / events if events else 1.0
    return [
        int(c[width + 1]) * per_ping if c[width] else int(c[width + 3]) / WEIGHT_SCALE
        for c in combos
    ]


def _rates(
    purposes: list[str], combos: list[tuple[Any, ...]], persons: list[float]
) -> dict[str, float]:
    """Per purpose with a decision: the weight of its granted combinations over that of its
    decided ones."""
    rates = {}
    for n, p in enumerate(purposes):
        decided = [w for c, w in zip(combos, persons, strict=True) if c[n] != "unknown"]
        if decided:
            granted = [w for c, w in zip(combos, persons, strict=True) if c[n] == "granted"]
            rates[p] = round(math.fsum(granted) / math.fsum(decided), 6)
    return rates


def _mix(
    con: Any,
    purposes: list[str],
    combos: list[tuple[Any, ...]],
    persons: list[float],
    k: int,
    few: set[str],
) -> list[dict[str, Any]]:
    """The consent mix of :func:`consent_evidence`: each combination's share of the weight,
    those of too few users pooled, and those deciding a purpose of ``few``
    (:func:`_deciders`), whose rate is not given, with them."""
    width = len(purposes)
    pooled, everything = _pooled(con, purposes, combos, k)
    hidden = [n for n, p in enumerate(purposes) if p in few]
    weights: dict[tuple[str, ...] | None, list[float]] = {}
    for combo, w in zip(combos, persons, strict=True):  # a few at most 3^7 * 2
        states_of = tuple(combo[:width])
        names_few = any(combo[n] != "unknown" for n in hidden)
        small = states_of in pooled and (everything or not combo[width])
        key = None if small or names_few else states_of
        weights.setdefault(key, []).append(w)
    total = math.fsum(persons)
    entries = [_mix_entry(purposes, key, math.fsum(ws) / total) for key, ws in weights.items()]
    return sorted(entries, key=lambda e: (e["granted"] is None, -e["share"], str(e)))


def _pooled(
    con: Any, purposes: list[str], combos: list[tuple[Any, ...]], k: int
) -> tuple[set[tuple[str, ...]], bool]:
    """Return the combinations whose identified events are pooled: those of fewer than ``k``
    users, and, when the pool would hold fewer than ``k`` users, the shown one of the fewest
    users besides. The rates of all events less the shown combinations would otherwise give
    the pool's own, those of fewer than ``k`` users. True besides when no combination of
    ``k`` users or more is there to join: every combination is pooled, the events without a
    user id too (the shown combinations would be theirs alone, the rates less them the
    pool's), and the mix tells no more than the rates."""
    width = len(purposes)
    keyed = [c for c in combos if not c[width]]  # (states..., no_id, events, users)
    small = {tuple(c[:width]) for c in keyed if c[width + 2] < k}
    if not small:
        return small, False
    # the users of each combination, summed, count a user of two combinations twice
    most = sum(c[width + 2] for c in keyed if tuple(c[:width]) in small)
    if most >= k and _users_in(con, purposes, small) >= k:
        return small, False
    shown = sorted(
        (c[width + 2], c[width + 1], tuple(c[:width])) for c in keyed if c[width + 2] >= k
    )
    if not shown:
        return {tuple(c[:width]) for c in combos}, True
    return small | {shown[0][2]}, False


def _users_in(con: Any, purposes: list[str], combos: set[tuple[str, ...]]) -> int:
    """The distinct users of the events of ``combos`` (one pass over the events)."""
    each = [
        "("
        + " AND ".join(
            f"CAST(state_{p} AS VARCHAR) = '{s}'" for p, s in zip(purposes, c, strict=True)
        )
        + ")"
        for c in sorted(combos)
    ]
    row = one(con, f"SELECT count(DISTINCT user_key) FROM scan_events WHERE {' OR '.join(each)}")
    return int(row[0]) if row else 0


def _mix_entry(purposes: list[str], states: tuple[str, ...] | None, share: float) -> dict[str, Any]:
    """One entry of :func:`consent_mix`: a combination's states (None: the pooled share)."""
    if states is None:
        return {"granted": None, "denied": None, "share": round(share, 6)}
    named = list(zip(purposes, states, strict=True))
    return {
        "granted": [p for p, s in named if s == "granted"],
        "denied": [p for p, s in named if s == "denied"],
        "share": round(share, 6),
    }
