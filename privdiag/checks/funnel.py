"""Funnel: step-to-step conversion by consent state, net of identity loss.

For each pair of steps and each purpose, conversion is a cohort's: of the users in a consent
state at the earlier step (the state they held on reaching it), the share who reach the later
step after it, in any state (:mod:`privdiag.checks.cohorts`); it is never above 100%. A user
denied at a page view who grants before adding to cart is a denied user who went on, not a
granted user who appeared. It is computed twice: *measured* (identified users only) and
*restored*, where the events without identity at each step, which cannot be followed from
step to step, are turned into users by their own state (see
:func:`privdiag.checks.identity.identity_less_units`) and added to the cohort at the earlier
step and to those going on at the later one, at most the whole cohort. The gap between
granted and denied users splits into the part identity loss explains (measured gap minus
restored gap) and the real drop-off (the restored gap), which is what a finding reports.

The restored estimate cannot tell whose a cookieless event is. Where most of a side's events
at the earlier step have no identity it rests on that guess: Consent Mode sends every ping
before the banner answer as denied, so users who go on to grant sit among the denied at the
first steps and convert in the granted state, and the denied look as if they dropped out
(about 65% against 86% on a generated shop where consent changes nothing). There the users
with an identity must show the drop as well; a drop only the estimate shows is withheld, with
a note saying what the check cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from privdiag.checks.cohorts import cohort_counts
from privdiag.checks.context import ScanContext, hide, suppress
from privdiag.checks.identity import identity_less_units
from privdiag.findings import Finding
from privdiag.journey import Journey
from privdiag.mapping import owner_for
from privdiag.stats import bh_adjust, fisher_greater, newcombe_ci, rounded, share


@dataclass
class Transition:
    """From one step to a later one, for one source and purpose, with its per-state counts."""

    source: str
    before: dict[str, Any]  # step_counts row of the earlier step
    after: dict[str, Any]
    purpose: str
    cohort: dict[str, Any]  # cohort_counts: the identified users by state at the earlier step
    reached: dict[str, Any]  # and those of them who reach the later step

    def users(self, state: str) -> float:
        """The identified users whose state on reaching the earlier step is ``state``."""
        return float(self.cohort.get(f"users_{state}_{self.purpose}", 0))

    def going_on(self, state: str) -> float:
        """Those of :meth:`users` who reach the later step after it."""
        return float(self.reached.get(f"users_{state}_{self.purpose}", 0))

    def restored_users(self, state: str) -> float:
        """:meth:`users` and the users of the state's events without identity there."""
        return self.users(state) + identity_less_units(self.before, f"_{state}_{self.purpose}")

    def restored_going_on(self, state: str) -> float:
        """:meth:`going_on` and the users of the state's events without identity at the later
        step, at most :meth:`restored_users`: those events are taken as the cohort's own (none
        can be followed), and where they outnumber it the cohort at most all goes on."""
        lost = identity_less_units(self.after, f"_{state}_{self.purpose}")
        return min(self.going_on(state) + lost, self.restored_users(state))

    def identity_less(self, row: dict[str, Any], state: str) -> float:
        """The share of the state's events at the step without identity (0 without events)."""
        n = float(row[f"n_{state}_{self.purpose}"])
        return float(row[f"noid_{state}_{self.purpose}"]) / n if n else 0.0


# Above this share of a side's events at the earlier step without identity, the restored
# conversion does not carry a finding alone: the users with an identity must show the drop.
MOSTLY_IDENTITY_LESS = 0.5


def transitions(
    ctx: ScanContext, journey: Journey, counts: dict[tuple[str, str], dict[str, Any]]
) -> list[Transition]:
    """Return every (source, earlier step, later step, purpose with a signal).

    Not only consecutive steps: a step whose events lost their identity or consent state
    (a checkout on another domain) would otherwise hide a drop from the step before it.
    """
    out = []
    names = journey.names
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    cohorts, reached = cohort_counts(ctx, journey)
    for source in sorted({s for s, _ in counts}):
        for a, b in pairs:
            if (source, a) in counts and (source, b) in counts:
                before, after = counts[(source, a)], counts[(source, b)]
                cohort, going_on = cohorts.get((source, a), {}), reached.get((source, a, b), {})
                out += [
                    Transition(source, before, after, p, cohort, going_on) for p in ctx.purposes
                ]
    return out


SIDES = ("granted", "denied")


def _arrays(todo: list[Transition]) -> dict[str, np.ndarray]:
    v: dict[str, np.ndarray] = {}
    for s in SIDES:
        v[f"from_{s}"] = np.array([t.users(s) for t in todo])
        v[f"to_{s}"] = np.array([t.going_on(s) for t in todo])
        v[f"rfrom_{s}"] = np.array([t.restored_users(s) for t in todo])
        v[f"rto_{s}"] = np.array([t.restored_going_on(s) for t in todo])
        v[f"measured_{s}"] = share(v[f"to_{s}"], v[f"from_{s}"])
        v[f"conv_{s}"] = share(v[f"rto_{s}"], v[f"rfrom_{s}"])
        # Whole users for the exact test (rounding keeps those going on within the cohort)
        v[f"tn_{s}"] = np.rint(v[f"rfrom_{s}"])
        v[f"tx_{s}"] = np.rint(v[f"rto_{s}"])
        v[f"noid_{s}"] = np.array([t.identity_less(t.before, s) for t in todo])
    v["apparent_gap"] = v["measured_granted"] - v["measured_denied"]
    v["real_gap"] = v["conv_granted"] - v["conv_denied"]
    v["identity_part"] = v["apparent_gap"] - v["real_gap"]
    v["p"] = fisher_greater(v["tx_granted"], v["tn_granted"], v["tx_denied"], v["tn_denied"])
    v["q"] = bh_adjust(v["p"])
    v["identity_less"] = np.maximum(v["noid_granted"], v["noid_denied"])
    v["q_measured"] = bh_adjust(
        fisher_greater(v["to_granted"], v["from_granted"], v["to_denied"], v["from_denied"])
    )
    return v


def _decide(v: dict[str, np.ndarray], alpha: float, min_gap: float) -> tuple[np.ndarray, ...]:
    """Return the transitions to report and those withheld.

    The restored gap must be significant and at least ``min_gap``. Where most of a side's
    events at the earlier step have no identity (:data:`MOSTLY_IDENTITY_LESS`) the
    identified users' own gap must be too, else the drop is withheld: the estimate cannot
    tell a user who denies from one who has not answered yet.
    """
    restored_says = (v["q"] < alpha) & (np.nan_to_num(v["real_gap"]) >= min_gap)
    identified_say = (v["q_measured"] < alpha) & (np.nan_to_num(v["apparent_gap"]) >= min_gap)
    unsure = v["identity_less"] > MOSTLY_IDENTITY_LESS
    fired = restored_says & (~unsure | identified_say)
    return np.flatnonzero(fired), np.flatnonzero(restored_says & ~fired)


def _table(t: Transition, k: int) -> dict[str, Any]:
    """Per consent state at the earlier step: its identified users and those of them going on
    (None below ``k``, and those going on where fewer than ``k`` do not), and both
    conversions (None where either count is: 1 of 3 converting reads 0.333 whatever hides the
    1 and the 3)."""

    def users(value: float) -> int | None:
        return int(value) if not 0 < int(value) < k else None

    rows = []
    for s in ("granted", "denied", "unknown"):
        suffix = f"_{s}_{t.purpose}"
        if not t.before[f"n{suffix}"]:
            continue
        cohort, going_on, not_going_on = _told(t, s)
        before, after = users(cohort), users(going_on)
        if before is not None and 0 < not_going_on < k:  # shown less those going on: the few
            after = None  # who do not (with the cohort hidden, 0 going on tells no one)
        small = before is None or after is None
        rows.append(
            [
                s,
                before,
                after,
                int(t.after[f"noid{suffix}"]),
                None if small else rounded(share(t.going_on(s), t.users(s))),
                None if small else rounded(share(t.restored_going_on(s), t.restored_users(s))),
            ]
        )
    return {
        "title": f"{t.before['step']} to {t.after['step']} by {t.purpose} consent state",
        "columns": [
            "consent state",
            f"users at {t.before['step']}",
            f"of them going on to {t.after['step']}",
            f"{t.after['step']} events without identity",
            "conversion (identified users)",
            "conversion (identity restored)",
        ],
        "rows": rows,
    }


# Per side, the metrics a conversion of that side's users gives; the gaps take both sides.
_SIDE_METRICS = {
    "denied": ("share", "conversion_denied", "measured_conversion_denied"),
    "granted": ("conversion_granted", "measured_conversion_granted"),
}
# (the share without identity, beside the events shown without identity, tells the events)
_GAPS = ("apparent_gap", "identity_part", "real_gap", "real_gap_ci", "identity_less_share")


def _told(t: Transition, side: str) -> tuple[float, float, float]:
    """The groups of users a side's conversion tells: its cohort, those of it going on, and
    those of it who do not (the cohort holds the others, so the cohort less those going on
    tells them: 398 of 400 converting leave 2)."""
    users, going_on = t.users(side), t.going_on(side)
    return users, going_on, users - going_on


def _small_sides(t: Transition, k: int) -> list[str]:
    """The metrics to hide because a side has fewer than ``k`` users (above 0) at the
    earlier step, going on, or not going on (:func:`_told`): its conversion, with the other
    count, tells that count (2% of 100 users converting are 2, 98% the 2 who do not), and a
    gap less the other side's conversion tells it too."""
    small = [side for side in _SIDE_METRICS if any(0 < n < k for n in _told(t, side))]
    hidden = [m for side in small for m in _SIDE_METRICS[side]]
    return hidden + list(_GAPS) if small else []


def _finding(
    ctx: ScanContext, t: Transition, v: dict[str, np.ndarray], k: int, causes: list[str]
) -> Finding:
    low, high = newcombe_ci(
        v["tx_granted"][k],
        v["tn_granted"][k],
        v["tx_denied"][k],
        v["tn_denied"][k],
        1 - ctx.config.thresholds.alpha,
    )
    metrics = {
        "events": int(t.before[f"n_denied_{t.purpose}"]),
        "users": int(t.users("denied")),
        "share": rounded(v["conv_denied"][k]),
        "from_step": t.before["step"],
        "conversion_granted": rounded(v["conv_granted"][k]),
        "conversion_denied": rounded(v["conv_denied"][k]),
        "measured_conversion_granted": rounded(v["measured_granted"][k]),
        "measured_conversion_denied": rounded(v["measured_denied"][k]),
        "apparent_gap": rounded(v["apparent_gap"][k]),
        "identity_part": rounded(v["identity_part"][k]),
        "real_gap": rounded(v["real_gap"][k]),
        "real_gap_ci": [rounded(low), rounded(high)],
        "p_value": float(f"{v['p'][k]:.3g}"),
        "q_value": float(f"{v['q'][k]:.3g}"),
        "identity_less_share": rounded(v["identity_less"][k]),
        "decided_on": "identity restored",
    }
    gap = float(v["real_gap"][k])
    steps = f"convert from {t.before['step']} to {t.after['step']}"
    title = (
        f"Users who deny {t.purpose} {steps} at {v['conv_denied'][k]:.0%} against "
        f"{v['conv_granted'][k]:.0%}, beyond identity loss"
    )
    if hidden := _small_sides(t, ctx.min_group):
        hide(metrics, hidden, ctx.min_group)
        title = f"Users who deny {t.purpose} {steps} less often than those who grant it"
        title += ", beyond identity loss"
    if v["identity_less"][k] > MOSTLY_IDENTITY_LESS:
        # Neither figure is sure here (the restored one guesses whose the cookieless events
        # are; the identified users are a part, whose own steps may lose identity): name none.
        metrics["decided_on"] = "identity restored and users with an identity"
        gap = min(gap, float(v["apparent_gap"][k]))
        title = (
            f"Users who deny {t.purpose} {steps} less often than those who grant it, both "
            "among users with an identity and with identity restored"
        )
    return Finding(
        "funnel.consent_drop",
        "high" if gap >= 0.3 else "medium" if gap >= 0.15 else "low",
        title,
        {"source": t.source, "step": t.after["step"], "purpose": t.purpose},
        suppress(metrics, ctx.min_group, follow=("events",)),  # the hidden users' events
        f"Look at what {t.after['step']} offers users without {t.purpose} consent: "
        "personalization, recommendations or saved state that depend on it, and give them a "
        "consent-free fallback.",
        owner_for(ctx.config, source=t.source, step=t.after["step"]),
        caused_by=causes,
        evidence={"table": _table(t, ctx.min_group)},
    )


def _strongest_per_location(
    todo: list[Transition], v: dict[str, np.ndarray], fired: np.ndarray, names: list[str]
) -> list[int]:
    """Keep one transition per (source, later step, purpose): from the nearest step.

    A transition that skips steps is kept only when the drop is not there already one step
    earlier (from the same step), so a drop is reported at the step where it appears.
    """
    significant = {
        (todo[k].source, todo[k].before["step"], todo[k].after["step"], todo[k].purpose)
        for k in (int(i) for i in fired)
    }
    best: dict[tuple[str, str, str], int] = {}
    best_rank: dict[tuple[str, str, str], tuple[float, float, float]] = {}
    for k in (int(i) for i in fired):
        t = todo[k]
        a, c = names.index(t.before["step"]), names.index(t.after["step"])
        if c > a + 1 and (t.source, names[a], names[c - 1], t.purpose) in significant:
            continue
        key = (t.source, str(t.after["step"]), t.purpose)
        # the nearest earlier step locates the drop best; then the most significant
        rank_k = (-a, v["q"][k], -v["real_gap"][k])
        if key not in best or rank_k < best_rank[key]:
            best[key], best_rank[key] = k, rank_k
    return sorted(best.values())


def _withheld_note(t: Transition, v: dict[str, np.ndarray], k: int, min_group: int) -> str:
    """What the check saw at a withheld transition and why it cannot tell, the reason last (a
    console keeps a long note's start and last clause). No figure where a side has fewer than
    ``min_group`` users: a conversion tells the counts."""
    small = bool(_small_sides(t, min_group))

    def figures(denied: str, granted: str) -> str:
        return "" if small else f" (denied {v[denied][k]:.0%}, granted {v[granted][k]:.0%})"

    before = t.before["step"]
    if nobody := [s for s in ("denied", "granted") if not t.users(s)]:
        identified = f"no {nobody[0]} user at {before} has an identity to compare"
    else:
        measured = figures("measured_denied", "measured_granted")
        identified = f"users with an identity show no clear drop from {before}{measured}"
    side = "denied" if v["noid_denied"][k] >= v["noid_granted"][k] else "granted"
    share = "most" if small else f"{v['identity_less'][k]:.0%}"
    return (
        f"funnel.consent_drop not reported ({t.source}, {t.after['step']}, {t.purpose}): "
        f"{identified}, only the identity-restored estimate shows one"
        f"{figures('conv_denied', 'conv_granted')}, and {share} of the {side} {before} events "
        "have no identity: whose they are cannot be told (Consent Mode sends the pings before "
        "a banner answer as denied)."
    )


def check_consent_drop(
    ctx: ScanContext,
    journey: Journey,
    counts: dict[tuple[str, str], dict[str, Any]],
    losses: list[Finding],
    notes: list[str] | None = None,
) -> list[Finding]:
    """Return a finding per transition and purpose where denied users convert less than
    granted ones once identity loss is taken out.

    Needs a one-sided exact test significant after Benjamini-Hochberg across transitions and
    purposes, and a restored gap of at least ``min_gap``; where most of a side's events at the
    earlier step have no identity, the identified users' own test and gap too (see
    :func:`_decide`), else a note in ``notes`` says what was withheld. Identity-loss findings
    at either step are linked as causes when identity loss explains part of the measured gap.
    """
    todo = transitions(ctx, journey, counts)
    if not todo:
        return []
    v = _arrays(todo)
    th = ctx.config.thresholds
    fired, withheld = _decide(v, th.alpha, th.min_gap)
    findings = []
    for k in _strongest_per_location(todo, v, fired, journey.names):
        t = todo[int(k)]
        steps = {t.before["step"], t.after["step"]}
        causes = [
            f.id
            for f in losses
            if f.location.get("source") == t.source
            and f.location.get("step") in steps
            and np.nan_to_num(v["identity_part"][k]) > 0
        ]
        findings.append(_finding(ctx, t, v, int(k), causes))
    if notes is not None:
        reported = {
            (f.location["source"], f.location["step"], f.location["purpose"]) for f in findings
        }
        for k in _strongest_per_location(todo, v, withheld, journey.names):
            t = todo[k]
            if (t.source, t.after["step"], t.purpose) not in reported:
                notes.append(_withheld_note(t, v, k, ctx.min_group))
        if not findings and not len(withheld):
            notes += _closest_miss_note(todo, v, th.min_gap, th.alpha, ctx.min_group)
    return findings


def _closest_miss_note(
    todo: list[Transition], v: dict[str, np.ndarray], min_gap: float, alpha: float, k: int
) -> list[str]:
    """When no drop is reported or withheld, the largest-looking one short of significance:
    the check ran, and a data engineer whose conversions fell is told what it saw and why it
    says nothing, not left with silence. The most significant transition whose restored gap
    is at least ``min_gap``, where most of neither side's events at the earlier step lack an
    identity (there the estimate is a guess, see :func:`_decide`); its conversions only where
    both sides have at least ``k`` users at both steps (:func:`_small_sides`), as its
    finding would show them."""
    gaps = np.nan_to_num(v["real_gap"])
    near = [
        i
        for i in range(len(todo))
        if gaps[i] >= min_gap
        and np.isfinite(v["q"][i])
        and v["identity_less"][i] <= MOSTLY_IDENTITY_LESS  # else the estimate is a guess
    ]
    if not near:
        return []
    i = min(near, key=lambda j: (v["q"][j], -gaps[j]))
    t = todo[i]
    # The conversions are the restored ones: where events without identity change them,
    # the note says so (the identified users' own, which a reader counts, differ)
    restored = any(v[f"r{n}_{s}"][i] != v[f"{n}_{s}"][i] for n in ("from", "to") for s in SIDES)
    # hidden, the note says why, and speaks of no size it does not show (Found by trial29)
    hidden = bool(_small_sides(t, k))
    shown = (
        f" (its conversions not shown: they would tell a group of fewer than {k} users)"
        if hidden
        else (
            f" ({'with identities restored: ' if restored else ''}"
            f"denied {v['conv_denied'][i]:.0%}, granted {v['conv_granted'][i]:.0%})"
        )
    )
    return [
        f"funnel.consent_drop found no drop: the largest-looking, users denying {t.purpose} "
        f"going on from {t.before['step']} to {t.after['step']} in {t.source}{shown}, has "
        f"q {v['q'][i]:.2g} after the correction for {len(todo)} test"
        f"{'' if len(todo) == 1 else 's'}, above alpha {alpha:g}; "
        f"so few users cannot tell {'such a drop' if hidden else 'a drop of that size'} "
        "from chance."
    ]
