"""Users, sessions and consent decisions of a synthetic scenario, as numpy arrays.

Times are integer milliseconds since the scenario start (midnight UTC of ``start``), so
that every comparison made here gives the same answer as one made on the written files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEVER = np.int64(2**62)
DAY_MS = 86_400_000

# Event state of one purpose, as the project's checks see it.
UNKNOWN_NEVER, UNKNOWN_BEFORE, GRANTED, DENIED_NEVER, DENIED_AFTER = range(5)

# Opt-in rates by notice version (v1, v2): v2 asks less clearly and lowers opt-in.
ANALYTICS_OPTIN = (0.72, 0.56)
ADS_OPTIN = (0.58, 0.42)
APP_SHARE = 0.4
WEB_DECIDE = 0.9  # the rest never answer the web banner
APP_DECIDE = 0.85  # the rest never get the app prompt: consent.missing_record
# Probability of a second record for a purpose, by first decision (granted, denied).
ANALYTICS_CHANGE = (0.08, 0.10)
ADS_CHANGE = (0.22, 0.08)


@dataclass
class Purpose:
    """Consent records of one purpose per user: first decision, optional second record."""

    t1: np.ndarray  # first decision time (NEVER when the user never decides)
    g1: np.ndarray  # first decision granted
    t2: np.ndarray  # second record time (NEVER when none)
    g2: np.ndarray  # second record granted (the opposite of g1)
    logged_t1: np.ndarray  # t1 as written in the consent log (app ads: server clock ahead)

    def state(self, user: np.ndarray, ts: np.ndarray, logged: bool = True) -> np.ndarray:
        """Return the state code of each event (user index, ts) against these records."""
        t1 = (self.logged_t1 if logged else self.t1)[user]
        second = ts >= self.t2[user]
        granted = np.where(second, self.g2[user], self.g1[user])
        out = np.where(t1 < NEVER, UNKNOWN_BEFORE, UNKNOWN_NEVER).astype(np.int8)
        decided = ts >= t1
        out[decided & granted] = GRANTED
        out[decided & ~granted] = DENIED_NEVER
        out[decided & ~granted & second & self.g1[user]] = DENIED_AFTER
        return out


@dataclass
class Population:
    """Users, their sessions and consent records."""

    n: int
    is_app: np.ndarray
    decides: np.ndarray
    sess_user: np.ndarray
    sess_start: np.ndarray
    sess_number: np.ndarray  # 0-based within the user
    sess_paid: np.ndarray  # session arrived from a paid click
    first_sess: np.ndarray  # index of each user's first session in the window
    first_visit: np.ndarray  # start of each user's first visit (before the window for some)
    analytics: Purpose
    ads: Purpose
    change_ms: int  # the notice v2 goes live here
    faults: bool = True  # False: every planted fault switched off (a clean scenario)


def grouped_cumsum(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Return the cumulative sum of ``values`` restarting at each group (groups contiguous)."""
    total = np.cumsum(values)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    base = total[starts] - values[starts]
    return total - np.repeat(base, lengths)


# First visits fall on the window's days and on the LEAD_DAYS before it, uniformly, as on a
# shop open before the export begins: from day one a day holds returning shoppers, who
# answered the banner on an earlier visit, beside new ones. Drawn over the window alone, the
# first days held new shoppers only, their events before the answer cookieless and counted
# denied, and the consent rates rose over the first week without any change of consent
# (a clean scenario of seed 16 reported five sparsity.shift findings).
LEAD_DAYS = 28


@dataclass
class Sessions:
    """The sessions of ``n`` shoppers, each with one or more inside the window, in order of
    shopper then time. ``user``, ``start`` and ``number`` (0-based within the shopper) cover
    every visit, before the window too; ``inside`` marks those in it."""

    user: np.ndarray
    start: np.ndarray
    number: np.ndarray
    first: np.ndarray  # index of each shopper's first visit
    count: np.ndarray  # visits of each shopper

    @property
    def inside(self) -> np.ndarray:
        return self.start >= 0


def _visits(rng: np.random.Generator, m: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """The visits of ``m`` candidate shoppers up to the window's end: (shopper, start)."""
    count = np.minimum(1 + rng.poisson(2.0, m), 8)
    user = np.repeat(np.arange(m, dtype=np.int64), count)
    first_ms = rng.integers(-LEAD_DAYS, days, m) * DAY_MS + (
        np.clip(rng.normal(14.0, 4.0, m), 0.0, 23.5) * 3_600_000
    ).astype(np.int64)

    # Return visits come after exponential gaps (mean 3 days); drop those past the window.
    gaps = (rng.exponential(3.0, len(user)) * DAY_MS).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(count)[:-1]))
    gaps[starts] = 0
    start = first_ms[user] + grouped_cumsum(gaps, count)
    keep = start < days * DAY_MS
    return user[keep], start[keep]


def _sessions(rng: np.random.Generator, n: int, days: int) -> Sessions:
    """Draw candidate shoppers until ``n`` of them visit inside the window (those whose visits
    all fell before it are not in the export)."""
    users, starts, found = [], [], 0
    while found < n:
        user, start = _visits(rng, 2 * (n - found) + 16, days)
        chosen = np.unique(user[start >= 0])[: n - found]
        picked = np.isin(user, chosen)
        users.append(found + np.searchsorted(chosen, user[picked]))
        starts.append(start[picked])
        found += len(chosen)

    user, start = np.concatenate(users), np.concatenate(starts)
    count = np.bincount(user, minlength=n)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    number = np.arange(len(user)) - first[user]
    return Sessions(user, start, number, first, count)


def _second_record(rng, n, first, count, start, g1, t1, change) -> tuple[np.ndarray, ...]:
    """Pick a later session for a withdrawal (granted first) or a change of mind (denied)."""
    p = np.where(g1, change[0], change[1])
    has = (count >= 2) & (t1 < NEVER) & (rng.random(n) < p)
    later = 1 + (rng.random(n) * np.maximum(count - 1, 1)).astype(np.int64)
    at = start[np.minimum(first + later, len(start) - 1)] + rng.integers(2_000, 20_000, n)
    t2 = np.where(has, at, NEVER)
    return t2, ~g1


def build_population(
    rng: np.random.Generator, n: int, days: int, faults: bool = True
) -> Population:
    """Draw ``n`` users with sessions over ``days`` days and their consent records. The
    sessions are those inside the window; the consent records, of every visit.

    Without ``faults`` every app user gets the prompt, notice v2 asks as clearly as v1 and
    the app's server clock is right. The random draws are the same either way, so a clean
    scenario has the users, sessions and decisions of its faulty twin of the same seed."""
    visits = _sessions(rng, n, days)
    first, start = visits.first, visits.start
    is_app = rng.random(n) < APP_SHARE
    decides = rng.random(n) < np.where(is_app, APP_DECIDE if faults else 1.0, WEB_DECIDE)
    change_ms = (days // 2) * DAY_MS

    # The banner answer comes 4-30 s into the first visit, before the window for some.
    t1 = np.where(decides, start[first] + rng.integers(4_000, 30_000, n), NEVER)
    v2 = (t1 >= change_ms) & faults
    u_a = rng.random(n)
    g1a = u_a < np.where(v2, ANALYTICS_OPTIN[1], ANALYTICS_OPTIN[0])
    u_d = np.where(rng.random(n) < 0.8, u_a, rng.random(n))
    g1d = u_d < np.where(v2, ADS_OPTIN[1], ADS_OPTIN[0])

    t2a, g2a = _second_record(rng, n, first, visits.count, start, g1a, t1, ANALYTICS_CHANGE)
    t2d, g2d = _second_record(rng, n, first, visits.count, start, g1d, t1, ADS_CHANGE)

    # The app's ads record is written by a server call whose clock runs 0.3-1.6 s ahead.
    skew = np.where(is_app & decides & faults, rng.integers(300, 1_600, n), 0)
    inside = visits.inside
    user = visits.user[inside]
    paid = rng.random(len(user)) < 0.3
    return Population(
        n=n,
        is_app=is_app,
        decides=decides,
        sess_user=user,
        sess_start=start[inside],
        sess_number=visits.number[inside],
        sess_paid=paid,
        first_sess=np.searchsorted(user, np.arange(n)),
        first_visit=start[first],
        analytics=Purpose(t1, g1a, t2a, g2a, t1),
        ads=Purpose(t1, g1d, t2d, g2d, np.where(t1 < NEVER, t1 + skew, NEVER)),
        change_ms=change_ms,
        faults=faults,
    )
