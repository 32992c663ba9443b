"""Opt-in rates and ``people.optin_drop``: a notice version or a date that lowers opt-in.

The unit is a person's first decision on a purpose. A person is the device on which the
decision was made when every decision of the user has its own event in the export (Snowplow
``consent_preferences`` events carry ``domain_userid``), else the consent log's user key (so a
user's decisions are never split between the two); the figures per version and per person
then agree with the Snowplow consent models, which count per ``domain_userid``. Region and
device come from the consent record, else from the decision event, else from the user's first
event; channel from the decision event or the first event.

A drop is tested one-sided with the pooled two-proportion z test: each notice version against
the one before it (versions ordered by when they were first seen), or, for a purpose whose
log has no versions, the best day to split the time series (Bonferroni over the candidate
days). All tests of a scan are then corrected together (Benjamini-Hochberg at
``thresholds.alpha``), and a drop must also be at least ``MIN_DROP`` with at least
``MIN_DECISIONS`` first decisions on each side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from privdiag.checks.context import ScanContext
from privdiag.checks.disclosure import shown_groups, shown_rates, small_split, suppress_bias
from privdiag.consent_keys import by_browser, meeting_key
from privdiag.engine import literal
from privdiag.findings import Finding
from privdiag.mapping import owner_for
from privdiag.stats import bh_adjust, holm_adjust, two_proportion_z

MIN_DROP = 0.05
MIN_DECISIONS = 20
DIMENSIONS = ("version", "region", "device", "channel", "source")
DECISIONS = "optin_decisions"
# (dimension, purpose, value) of the opt-in rates whose rate the evidence shows.
Shown = set[tuple[str, str, str]]
Row = list[Any]


def build_flag_decisions(con: Any, purposes: list[str]) -> str:
    """Create ``optin_decisions`` from the events' own consent flags; return its name.

    For a scan with no consent record: a user's decision on a purpose is the first flag value
    their events carry on each day (the earliest event's, a denial first at one instant), the
    person their user key, region, device and channel those of that event, and no version.
    Events without a user key (cookieless pings) decide for nobody: whose they are cannot be
    told. The columns are those of :func:`build_decisions`.
    """
    flagged = " UNION ALL ".join(
        f"SELECT source, user_key, ts, country, device, channel, {literal(p)} AS purpose, "
        f"consent_{p} AS granted FROM events "
        f"WHERE consent_{p} IS NOT NULL AND user_key IS NOT NULL AND ts IS NOT NULL"
        for p in purposes
    )
    # one grouping per (user, purpose, day) keeping its first event, a denial first at one
    # instant (a window numbering each day's events sorted them: 4.9-5.2 CPU-s at 10M events
    # against 3.3-4.0)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {DECISIONS} AS
        WITH firsts AS (
            SELECT source, user_key, purpose, ts::DATE AS on_day,
                   arg_min({{'ts': ts, 'granted': granted, 'region': country, 'device': device,
                             'channel': channel}}, epoch_us(ts) * 2 + granted::INTEGER) AS e
            FROM ({flagged}) GROUP BY ALL
        )
        SELECT user_key AS person, user_key, purpose, e.granted AS granted, e.ts AS ts,
               CAST(NULL AS VARCHAR) AS version, source, e.region AS region,
               e.device AS device, e.channel AS channel, user_key AS event_user,
               strftime(on_day, '%Y-%m-%d') AS day,
               row_number() OVER (PARTITION BY user_key, purpose ORDER BY e.ts, e.granted) AS nth
        FROM firsts
    """)
    return DECISIONS


def build_decisions(con: Any) -> str:
    """Create the temp table ``optin_decisions`` and return its name.

    One row per consent record: person, user_key, purpose, granted, ts, day, version, source,
    region, device, channel, ``event_user`` (the user key of the events at the decision, else
    the record's) and ``nth`` (1 for the person's first decision on the purpose). Assumes the
    canonical ``events`` and ``consent`` tables. A record meets its user's events by their
    ``user_key`` and, where events meet consent by their browser (Snowplow: a record keyed by
    the browser, ``event_user`` the user id seen with it), by that key too
    (:mod:`privdiag.consent_keys`).
    """
    keyed = "(SELECT *, user_key AS event_user FROM events)"
    if by_browser(con):
        # an event of a browser two user ids share meets consent on the pair's key, and the
        # browser's own records are met there too: it is the browser's event at a decision
        key = meeting_key("e", True)
        keyed = f"""(SELECT *, user_key AS event_user FROM events UNION ALL
                     SELECT * REPLACE ({key} AS user_key), user_key AS event_user FROM events e
                     WHERE {key} IS DISTINCT FROM user_key UNION ALL
                     SELECT * REPLACE (anon_key AS user_key), user_key AS event_user
                     FROM events e WHERE {key} IS DISTINCT FROM user_key
                     AND {key} IS DISTINCT FROM anon_key AND anon_key IS NOT NULL)"""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {DECISIONS} AS
        WITH decided AS (SELECT DISTINCT source, user_key, ts FROM consent),
        at_decision AS (  -- only the events at a decision's instant are grouped
            SELECT source, user_key, ts, any_value(anon_key) AS anon_key,
                   any_value(country) AS country, any_value(device) AS device,
                   any_value(channel) AS channel, any_value(event_user) AS event_user
            FROM {keyed} SEMI JOIN decided USING (source, user_key, ts)
            GROUP BY ALL
        ),
        first_seen AS (
            SELECT user_key, arg_min(country, ts) AS country, arg_min(device, ts) AS device,
                   arg_min(channel, ts) AS channel
            FROM {keyed} WHERE user_key IS NOT NULL GROUP BY 1
        ),
        d AS (
            SELECT CASE WHEN bool_and(a.anon_key IS NOT NULL) OVER (PARTITION BY c.user_key)
                        THEN a.anon_key ELSE c.user_key END AS person,
                   c.user_key, c.purpose,
                   c.granted, c.ts,
                   nullif(trim(c.version), '') AS version, c.source,
                   coalesce(nullif(trim(c.region), ''), a.country, f.country) AS region,
                   coalesce(nullif(trim(c.device), ''), a.device, f.device) AS device,
                   coalesce(a.channel, f.channel) AS channel,
                   coalesce(a.event_user, c.user_key) AS event_user
            FROM consent c
            LEFT JOIN at_decision a USING (source, user_key, ts)
            LEFT JOIN first_seen f ON f.user_key = c.user_key
            WHERE c.user_key IS NOT NULL AND c.granted IS NOT NULL
        )
        SELECT *, strftime(ts, '%Y-%m-%d') AS day,
               row_number() OVER (PARTITION BY person, purpose ORDER BY ts, granted) AS nth
        FROM d
    """)
    return DECISIONS


def optin_rates(con: Any, dimension: str) -> list[dict[str, Any]]:
    """Return first-decision opt-in per (purpose, value of ``dimension``), NULLs as "(none)".

    Each row: purpose, value, decisions (persons), granted, optin. Versions are ordered by when
    they were first seen, other values by name. Assumes :func:`build_decisions` ran.
    """
    if dimension not in DIMENSIONS + ("day",):
        raise ValueError(f"unknown dimension {dimension!r}")
    rows = con.execute(f"""
        SELECT purpose, coalesce({dimension}, '(none)') AS value, count(*) AS decisions,
               count(*) FILTER (WHERE granted) AS granted, min(ts) AS first_ts
        FROM {DECISIONS} WHERE nth = 1 GROUP BY ALL
        ORDER BY purpose, {"first_ts, value" if dimension == "version" else "value"}
    """).fetchall()
    return [
        {
            "purpose": p,
            "value": v,
            "decisions": int(n),
            "granted": int(g),
            "optin": round(g / n, 6),
        }
        for p, v, n, g, _ in rows
    ]


@dataclass
class Test:
    """One before/after comparison of first-decision opt-in for a purpose."""

    purpose: str
    change: str  # "version" or "date"
    before: str
    after: str
    x1: int
    n1: int
    x2: int
    n2: int
    p: float = 1.0
    q: float = 1.0

    @property
    def rate_before(self) -> float:
        return self.x1 / self.n1

    @property
    def rate_after(self) -> float:
        return self.x2 / self.n2

    @property
    def drop(self) -> float:
        return self.rate_before - self.rate_after


def drop_p_values(x1: Any, n1: Any, x2: Any, n2: Any) -> np.ndarray:
    """Return the one-sided p-values that share 2 is lower than share 1 (pooled z test).

    A zero pooled variance gives p = 1.
    """
    return two_proportion_z(x1, n1, x2, n2, alternative="greater")[1]


def _version_tests(by_version: list[dict[str, Any]]) -> list[Test]:
    """Each version against the one first seen before it, per purpose."""
    known = [r for r in by_version if r["value"] != "(none)"]
    tests = []
    for prev, cur in zip(known, known[1:], strict=False):
        if prev["purpose"] != cur["purpose"]:
            continue
        tests.append(
            Test(
                cur["purpose"],
                "version",
                prev["value"],
                cur["value"],
                prev["granted"],
                prev["decisions"],
                cur["granted"],
                cur["decisions"],
            )
        )
    return tests


def _date_test(purpose: str, days: list[dict[str, Any]], min_n: int) -> Test | None:
    """The day split with the lowest p-value, Bonferroni-corrected over the candidate days."""
    n = np.array([d["decisions"] for d in days], dtype=float)
    x = np.array([d["granted"] for d in days], dtype=float)
    n_before, x_before = np.cumsum(n)[:-1], np.cumsum(x)[:-1]
    n_after, x_after = n.sum() - n_before, x.sum() - x_before
    ok = (n_before >= min_n) & (n_after >= min_n)
    if not ok.any():
        return None
    p = np.where(ok, drop_p_values(x_before, n_before, x_after, n_after), 1.0)
    k = int(np.argmin(p))
    return Test(
        purpose,
        "date",
        days[k]["value"],
        days[k + 1]["value"],
        int(x_before[k]),
        int(n_before[k]),
        int(x_after[k]),
        int(n_after[k]),
        p=min(1.0, float(p[k]) * int(ok.sum())),
    )


def drop_tests(
    by_version: list[dict[str, Any]],
    by_day: list[dict[str, Any]],
    min_n: int,
    unversioned: frozenset[str] = frozenset(),
) -> list[Test]:
    """Return every opt-in drop test with its raw and BH-adjusted p-value.

    ``by_version`` and ``by_day`` are :func:`optin_rates` by version and by day, unsuppressed.
    A purpose in ``unversioned`` (its decisions without a version opt in unlike the others)
    is tested by date over all its decisions, never by its known versions alone.
    """
    versioned = {
        p
        for p in {r["purpose"] for r in by_version} - unversioned
        if sum(r["purpose"] == p and r["value"] != "(none)" for r in by_version) >= 2
    }
    tests = [t for t in _version_tests(by_version) if t.purpose in versioned]
    for t in tests:
        t.p = float(drop_p_values(t.x1, t.n1, t.x2, t.n2))
    for purpose in sorted({r["purpose"] for r in by_day} - versioned):
        days = [r for r in by_day if r["purpose"] == purpose]
        if (test := _date_test(purpose, days, min_n)) is not None:
            tests.append(test)
    for t, q in zip(tests, bh_adjust([t.p for t in tests]), strict=True):
        t.q = float(q)
    return tests


def _sides(t: Test) -> tuple[str, str, dict[str, str]]:
    """SQL conditions for the decisions before and after the change, and their parameters."""
    if t.change == "version":
        return "version = $before", "version = $after", {"before": t.before, "after": t.after}
    return "day < $after", "day >= $after", {"after": t.after}


def _breakdown(con: Any, t: Test, k: int, biased: list[str], shown: Shown) -> dict[str, Any]:
    """Evidence table: opt-in before and after the change per region, device, channel, source.

    Groups with fewer than ``k`` persons on either side are left out; rates are shown as
    :func:`_breakdown_rows` says (``shown``: the values whose rate the opt-in rates show).
    The title names the dimensions in ``biased`` (their "(none)" rows opt in unlike the rest).
    """
    before, after, params = _sides(t)
    rows = []
    for dim in ("region", "device", "channel", "source"):
        found = con.execute(
            f"""
            SELECT coalesce({dim}, '(none)'),
                   count(*) FILTER (WHERE {before}), count(*) FILTER (WHERE {before} AND granted),
                   count(*) FILTER (WHERE {after}), count(*) FILTER (WHERE {after} AND granted)
            FROM {DECISIONS} WHERE nth = 1 AND purpose = $purpose GROUP BY 1 ORDER BY 1
            """,
            {"purpose": t.purpose, **params},
        ).fetchall()
        values = {v for d, p, v in shown if (d, p) == (dim, t.purpose)}
        rows += _breakdown_rows(dim, found, k, values)
    return {
        "title": f"{t.purpose} opt-in at the first decision, before and after the change "
        f"(groups under {k} persons left out; opt-in hidden where under {k} granted or denied)"
        + (
            f"; by {', '.join(biased)} biased by missing values: see the (none) rows"
            if biased
            else ""
        ),
        "columns": [
            "by",
            "value",
            "persons before",
            "opt-in before",
            "persons after",
            "opt-in after",
        ],
        "rows": rows,
    }


def _breakdown_rows(dim: str, found: list[tuple[Any, ...]], k: int, values: set[str]) -> list[Row]:
    """Rows (dim, value, persons before, opt-in before, persons after, opt-in after) of the
    groups with ``k`` persons or more on both sides.

    A group's two opt-ins are shown together or not at all, and only for ``values`` (those
    whose rate the opt-in rates show): its rate there less one side would give the other,
    and with both sides shown a hidden rate there would be their sum. Each side's groups
    are hidden as :func:`shown_groups` says (a side's total less the rates shown), listed
    by that side's persons, and a group is shown where both sides and the rates show it.
    What the two sides hide beyond :func:`shown_groups` is groups it shows, none of a small
    split, so neither side's hidden sum becomes one; and each of the three holds at a larger
    ``min_group_size`` all that it hides at a smaller one, so the table does too (listed
    by the value's shown rate or by both sides, a larger size could show a group that a
    smaller one hid beside a small one).
    """
    before = shown_groups([(int(r[1]), int(r[2])) for r in found], [r[1] >= k for r in found], k)
    after = shown_groups([(int(r[3]), int(r[4])) for r in found], [r[3] >= k for r in found], k)
    listed = [n1 >= k and n2 >= k for _, n1, _, n2, _ in found]
    keep = [
        ok and b and a and r[0] in values
        for r, ok, b, a in zip(found, listed, before, after, strict=True)
    ]
    return [
        [dim, v, n1, round(x1 / n1, 3) if ok else None, n2, round(x2 / n2, 3) if ok else None]
        for (v, n1, x1, n2, x2), ok, is_listed in zip(found, keep, listed, strict=True)
        if is_listed
    ]


def _series(con: Any, t: Test, k: int, by_day: list[dict[str, Any]]) -> dict[str, Any]:
    """Evidence series: daily first-decision opt-in of the purpose, the change marked.

    ``by_day`` is :func:`optin_rates` by day. A day has no point where its opt-in would tell
    the choice of fewer than ``k`` persons or of everyone that day, or where the days left
    blank would (:func:`shown_groups`: the days add up to the purpose's total).
    """
    days = [r for r in by_day if r["purpose"] == t.purpose]
    shown = shown_groups([(r["decisions"], r["granted"]) for r in days], [True] * len(days), k)
    mark_day = t.after if t.change == "date" else _first_day(con, t.after)
    return {
        "title": f"Daily {t.purpose} opt-in at the first decision (days where under {k} "
        "persons decided, granted or denied, or that would tell a hidden rate, left blank)",
        "x": [r["value"] for r in days],
        "series": {
            f"{t.purpose} opt-in": [
                r["optin"] if ok else None for r, ok in zip(days, shown, strict=True)
            ]
        },
        "marks": [{"x": mark_day, "label": _change_label(t)}] if mark_day else [],
    }


def _first_day(con: Any, version: str) -> str | None:
    row = con.execute(
        f"SELECT min(day) FROM {DECISIONS} WHERE version = $v", {"v": version}
    ).fetchone()
    return row[0] if row else None


def _change_label(t: Test) -> str:
    return f"notice {t.after}" if t.change == "version" else f"from {t.after}"


def _severity(drop: float) -> str:
    return "high" if drop >= 0.2 else "medium" if drop >= 0.1 else "low"


def _owner(ctx: ScanContext, t: Test) -> str | None:
    """The owner of the source the decisions come from, when there is only one, else of the
    purpose (a ``purpose:`` pattern)."""
    _, after, params = _sides(t)
    params = {k: v for k, v in params.items() if f"${k}" in after}
    rows = ctx.con.execute(
        f"SELECT DISTINCT source FROM {DECISIONS} WHERE purpose = $purpose AND {after}",
        {"purpose": t.purpose, **params},
    ).fetchall()
    source = rows[0][0] if len(rows) == 1 else None
    return owner_for(ctx.config, source=source, purpose=t.purpose)


def _drop_title(t: Test) -> str:
    """The finding's title, with the rates before and after."""
    change = (
        f"notice version {t.after} (after {t.before})"
        if t.change == "version"
        else f"{t.after} (the day with the clearest drop)"
    )
    return (
        f"{t.purpose} opt-in at persons' first decision fell from {t.rate_before:.0%} to "
        f"{t.rate_after:.0%} with {change}"
    )


def _whom(t: Test) -> str:
    """The sentence saying which persons a drop's rates count: each person's first decision
    (``nth = 1``), so a person asked again after the change counts before it."""
    again = (
        f"before {t.after} and was asked again under it counts under their first version, so "
        "a notice that asks returning persons again is measured on its new persons only"
        if t.change == "version"
        else f"before {t.after} and again from it counts before it"
    )
    return (
        f"Each person counts once, at their first decision on {t.purpose}: a person who "
        f"decided {again}."
    )


def hides_a_side(t: Test, k: int, shown: Shown) -> bool:
    """True when the rate before or after the change of ``t`` is hidden: it would tell the
    choice of a small group, or of everyone on one side (:func:`small_split`).

    A version's side is hidden where the evidence hides the version's rate (``shown``: the
    values whose rate the opt-in rates show); a date split's sides add up to the purpose's
    total, shown elsewhere, so both are hidden when one is.
    """
    if t.change == "version":
        return not {("version", t.purpose, t.before), ("version", t.purpose, t.after)} <= shown
    return small_split(t.n1, t.x1, k) or small_split(t.n2, t.x2, k)


def _finding(
    ctx: ScanContext,
    t: Test,
    biased: list[dict[str, Any]],
    by_day: list[dict[str, Any]],
    shown: Shown,
) -> Finding:
    k = ctx.min_group
    metrics = {
        "users": t.n2,
        "share": round(t.rate_after, 6),
        "optin_before": round(t.rate_before, 6),
        "optin_after": round(t.rate_after, 6),
        "drop": round(t.drop, 6),
        "persons_before": t.n1,
        "persons_after": t.n2,
        "p_value": float(f"{t.p:.3g}"),
        "q_value": float(f"{t.q:.3g}"),
        "change": t.change,
        "before": t.before,
        "after": t.after,
    }
    if t.change == "version":
        metrics |= {
            "version_before": t.before,
            "version": t.after,
            "change_day": _first_day(ctx.con, t.after),
        }
    else:
        metrics["change_day"] = t.after
    return Finding(
        "people.optin_drop",
        _severity(t.drop),
        _drop_title(t),
        {"purpose": t.purpose, "scenario": _change_label(t)},
        metrics,
        "Compare the banner or notice before and after this change (wording, default choice, "
        "button layout, placement) and test the change on a share of visitors before rolling it "
        f"out; every feature that needs this purpose thins out with the opt-in. {_whom(t)}",
        _owner(ctx, t),
        evidence={
            "table": _breakdown(
                ctx.con,
                t,
                k,
                [b["dimension"] for b in biased if b["purpose"] == t.purpose],
                shown,
            ),
            "series": _series(ctx.con, t, k, by_day),
        },
    )


def missing_bias(
    rates: dict[str, list[dict[str, Any]]], min_n: int, alpha: float
) -> list[dict[str, Any]]:
    """Return the (dimension, purpose) pairs whose decisions without a value opt in unlike
    those with one: the breakdown by that dimension is then biased by its missing values.

    ``rates`` is :func:`optin_rates` per dimension, unsuppressed. A pair is tested when both
    groups have ``min_n`` decisions or more (pooled two-proportion z test, two-sided, Holm
    over every pair of the scan); it is biased when the adjusted p is at most ``alpha`` and
    the opt-in differs by ``MIN_DROP`` or more. People who refuse consent often carry no
    cookie, so their decisions lack a region, device or channel.
    """
    pairs = []
    for dim, rows in rates.items():
        for purpose in sorted({r["purpose"] for r in rows}):
            counts = {"(none)": [0, 0], "known": [0, 0]}  # decisions, granted
            for r in rows:
                if r["purpose"] == purpose:
                    side = counts["(none)" if r["value"] == "(none)" else "known"]
                    side[0], side[1] = side[0] + r["decisions"], side[1] + r["granted"]
            (n0, x0), (n1, x1) = counts["(none)"], counts["known"]
            if min(n0, n1) >= min_n:
                pairs.append((dim, purpose, n0, x0, n1, x1))
    if not pairs:
        return []
    n0, x0, n1, x1 = (np.array([p[i] for p in pairs], dtype=float) for i in range(2, 6))
    q = holm_adjust(two_proportion_z(x0, n0, x1, n1)[1])
    diff = x0 / n0 - x1 / n1
    return [
        _bias_entry(pair, float(q[i]))
        for i, pair in enumerate(pairs)
        if q[i] <= alpha and abs(diff[i]) >= MIN_DROP
    ]


def _bias_entry(pair: tuple[str, str, int, int, int, int], q: float) -> dict[str, Any]:
    """Evidence of one biased breakdown; the rates are left to :func:`suppress_bias`."""
    dim, purpose, n0, x0, n1, x1 = pair
    return {
        "dimension": dim,
        "purpose": purpose,
        "decisions_without_value": n0,
        "granted_without_value": x0,
        "optin_without_value": round(x0 / n0, 6),
        "decisions_with_value": n1,
        "granted_with_value": x1,
        "optin_with_value": round(x1 / n1, 6),
        "q_value": float(f"{q:.3g}"),
        "note": f"{purpose} opt-in by {dim} is biased by missing values: {n0} first decisions "
        f"have no {dim} and opt in at {x0 / n0:.0%}, against {x1 / n1:.0%} for the {n1} with "
        f"one; the per-{dim} rates describe only the decisions that carry a {dim}.",
    }


def check_optin(
    ctx: ScanContext, *, from_flags: bool = False
) -> tuple[list[Finding], dict[str, Any], list[dict[str, Any]], int]:
    """Return people.optin_drop findings, the opt-in rates per dimension, the breakdowns
    biased by missing values (:func:`missing_bias`), and how many comparisons were withheld.

    Needs the consent table; its evidence is per purpose and dimension, groups smaller than
    the minimum group size suppressed. A purpose whose versions are biased is tested by date.

    A comparison with a hidden side (:func:`hides_a_side`) gives no finding, drop or not, and
    is counted among the withheld instead. A hidden rate is one where fewer than
    ``min_group_size`` persons granted, or fewer denied; a finding that opt-in dropped to it
    (or from it) tells which: after a shown 60%, a drop leaves only the side where few
    granted. The kind ``people.optin_drop`` says that much whatever its title, severity or
    metrics, so a neutral title or a fixed severity would still tell it. The count is of the
    comparisons with a hidden side, not of their drops, so that it does not tell whether any
    of them dropped (a date comparison's day is the clearest split, so its count tells only
    that that split has a hidden side); ``min_group_size = 1``, in a scan kept off shared
    reports, shows them. With ``from_flags`` the decisions are read from the events' consent
    flags (:func:`build_flag_decisions`), for a scan without a consent record.
    """
    if from_flags:
        build_flag_decisions(ctx.con, ctx.purposes)
    else:
        build_decisions(ctx.con)
    min_n = max(MIN_DECISIONS, ctx.min_group)
    alpha = ctx.config.thresholds.alpha
    rates = {dim: optin_rates(ctx.con, dim) for dim in DIMENSIONS}
    ctx.optin_counts = rates
    by_day = optin_rates(ctx.con, "day")
    biased = missing_bias(rates, min_n, alpha)
    unversioned = frozenset(b["purpose"] for b in biased if b["dimension"] == "version")

    # A value with fewer deciders than the minimum group is left out, not listed with hidden
    # counts: a rare region or version names its few people's existence.
    evidence = {dim: shown_rates(rows, ctx.min_group) for dim, rows in rates.items()}
    shown = {
        (dim, r["purpose"], r["value"])
        for dim, rows in evidence.items()
        for r in rows
        if r["optin"] is not None
    }
    tests = [
        t
        for t in drop_tests(rates["version"], by_day, min_n, unversioned)
        if min(t.n1, t.n2) >= min_n
    ]
    withheld = [t for t in tests if hides_a_side(t, ctx.min_group, shown)]
    fired = [t for t in tests if t not in withheld and t.q <= alpha and t.drop >= MIN_DROP]
    findings = [_finding(ctx, t, biased, by_day, shown) for t in fired]
    return (
        findings,
        evidence,
        [
            suppress_bias(b, ctx.min_group, (b["dimension"], b["purpose"], "(none)") not in shown)
            for b in biased
        ],
        len(withheld),
    )


def withheld_note(withheld: int, k: int) -> str:
    """The note on the opt-in comparisons :func:`check_optin` withheld."""
    what = "comparison" if withheld == 1 else "comparisons"
    return (
        f"{withheld} opt-in {what} before and after a notice version or date not reported, "
        f"drop or not: a side's rate is hidden (under {k} persons granted or denied); a scan "
        "with min_group_size = 1, kept off shared reports, shows them"
    )
