"""What opt-in evidence may show of small groups: the rules that hide a choice a few
persons made, shared by the opt-in check and the trust checks.

A rate tells each member's choice when fewer than ``k`` persons chose one way (none
counts); and a group hidden alone beside a total shown elsewhere is told by subtraction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from privdiag.checks.context import hide

#: True when a group of (persons, granted), shown, would tell a small group by difference
#: with a figure shown elsewhere (privdiag.checks.across); its third argument: the indexes of
#: the groups summed (one, those hidden, or all), whose population decides whether it does;
#: its fourth: the minimum group size, a group of fewer than which it tells. It must be
#: monotone in the size: what it tells at one size it tells at every larger one.
Tells = Callable[[int, int, frozenset[int], int], bool]


def _never(_n: int, _x: int, _groups: frozenset[int], _k: int) -> bool:
    return False


def small_split(decisions: int, granted: int, k: int) -> bool:
    """True when fewer than ``k`` persons granted or fewer than ``k`` denied (none counts),
    unless ``k`` is 1 (nothing is hidden then).

    The count who granted, or the opt-in rate beside the decisions, would then tell a small
    group's choice. A group where everyone made the same choice (0% or 100%) is hidden too,
    however large: its rate tells each member's choice to anyone who knows that a person is
    in the group (a region, a device, a day), which is what hiding small groups guards
    against; the zero who chose otherwise are counted as a group under ``k``, as a
    statistics office's disclosure rules count an empty cell beside a full one.
    """
    return k > 1 and min(granted, decisions - granted) < k


def shown_groups(
    groups: list[tuple[int, int]], listed: list[bool], k: int, tells: Tells | None = None
) -> list[bool]:
    """Return, per (persons, granted) group, whether its granted count may be shown.

    A group not ``listed`` or a :func:`small_split` is hidden; then more groups are hidden,
    smallest first, until the persons whose choice is not shown are none or not a small
    split. Assumes the groups part a total that is shown elsewhere (the same purpose by
    another dimension, or a drop's side): the total less the groups shown tells the hidden
    groups' sum, so one group hidden alone, or hidden groups that all chose alike, would be
    told. With ``tells``, a group it is true of is hidden as a small split is, and so is
    one group at least where it is true of the groups' total; at every smaller size too.

    The groups hidden at ``k`` hold those hidden at every smaller size (:func:`_hidden_upto`):
    else two outputs of one data at two sizes, each hiding a group by another beside it,
    would show between them the two that hide it, and the total less them would tell it.
    """
    told = tells or _never
    shown = [
        ok and not small_split(n, x, k) and not told(n, x, frozenset([i]), k)
        for i, ((n, x), ok) in enumerate(zip(groups, listed, strict=True))
    ]
    everyone = frozenset(range(len(groups)))
    total = told(sum(g[0] for g in groups), sum(g[1] for g in groups), everyone, k)
    order = sorted(range(len(groups)), key=lambda i: groups[i][0])  # smallest first
    reach = _hidden_upto(groups, listed, k, order, tells)
    for i in order[:reach]:
        shown[i] = False

    def hidden() -> frozenset[int]:
        return frozenset(i for i, s in enumerate(shown) if not s)

    n = sum(groups[i][0] for i in hidden())
    x = sum(groups[i][1] for i in hidden())
    while any(shown) and ((small_split(n, x, k) or told(n, x, hidden(), k)) if n else total):
        i = next(i for i in order if shown[i])
        shown[i] = False
        n, x = n + groups[i][0], x + groups[i][1]
    return shown


def _turns(told: Callable[[int], bool], j: int, k: int) -> int:
    """The smallest size above ``j`` and below ``k`` at which ``told`` (monotone in the
    size) turns true, else ``k``: found by bisection, as a size may be up to 10^9."""
    if k - j < 2 or not told(k - 1):
        return k
    lo, hi = j, k - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if told(mid) else (mid, hi)
    return hi


def _hidden_upto(
    groups: list[tuple[int, int]],
    listed: list[bool],
    k: int,
    order: list[int],
    tells: Tells | None = None,
) -> int:
    """How many groups of ``order`` (smallest first) :func:`shown_groups` hides beside those
    it must at some size from 2 to ``k`` - 1: at each size, the small splits of that size,
    the groups ``tells`` is true of at it and the groups not ``listed`` hidden, it hides the
    next in order until their sum is no small split and tells nothing (none hidden: until the
    total tells nothing), and a larger size starts where the smaller stopped. A scan at size
    j hides those of its own run, so each size hides all that every smaller one hides.
    (Groups ``listed`` by their persons come in that order, so those listed at j but not at
    ``k`` come first.) Only the sizes at which a group or the sum turns a small split, or
    turns told, are visited: a size may be up to 10^9, and at others nothing changes."""
    told = tells or _never
    everyone = frozenset(range(len(groups)))
    all_n, all_x = sum(g[0] for g in groups), sum(g[1] for g in groups)
    hidden = [not ok for ok in listed]

    def telling(n: int, x: int, size: int) -> bool:  # the hidden groups' sum, n, x
        if not n:
            return told(all_n, all_x, everyone, size)
        hid = frozenset(i for i, h in enumerate(hidden) if h)
        return small_split(n, x, size) or told(n, x, hid, size)

    reach, j = 0, 2
    while j < k:
        for i, (n, x) in enumerate(groups):
            hidden[i] = hidden[i] or small_split(n, x, j) or told(n, x, frozenset([i]), j)
        n = sum(g[0] for g, h in zip(groups, hidden, strict=True) if h)
        x = sum(g[1] for g, h in zip(groups, hidden, strict=True) if h)
        while telling(n, x, j) and reach < len(order):
            i = order[reach]
            reach += 1
            if not hidden[i]:
                hidden[i] = True
                n, x = n + groups[i][0], x + groups[i][1]
        # the next size at which a group shown, or the sum hidden, has too few on a side
        sides = [min(gx, gn - gx) + 1 for (gn, gx), h in zip(groups, hidden, strict=True) if not h]
        nxt = [*sides, min(x, n - x) + 1 if n else k]
        if tells:  # or at which a group shown, or the sum hidden, turns told
            nxt += [
                _turns(lambda size, i=i: told(*groups[i], frozenset([i]), size), j, k)
                for i, h in enumerate(hidden)
                if not h
            ]
            nxt.append(_turns(lambda size, n=n, x=x: telling(n, x, size), j, k))
        j = min([s for s in nxt if s > j], default=k)
    return reach


def shown_rates(
    rows: list[dict[str, Any]], k: int, tells: Callable[[str], Tells] | None = None
) -> list[dict[str, Any]]:
    """Return the :func:`optin_rates` rows of one dimension as the evidence shows them.

    A value with fewer than ``k`` persons is left out; a value's granted and opt-in are
    hidden where :func:`small_split`, and more where :func:`shown_groups` says so (with
    ``tells`` of the purpose, when given).
    """
    out = []
    for purpose in dict.fromkeys(r["purpose"] for r in rows):
        mine = [r for r in rows if r["purpose"] == purpose]
        listed = [r["decisions"] >= k for r in mine]
        groups = [(r["decisions"], r["granted"]) for r in mine]
        shown = shown_groups(groups, listed, k, tells(purpose) if tells else None)
        out += [
            hide(dict(r), [] if s else ["granted", "optin"], k)
            for r, ok, s in zip(mine, listed, shown, strict=True)
            if ok
        ]
    return out


_SMALL = "under {k} persons granted or denied"


def suppress_bias(
    entry: dict[str, Any], k: int, none_hidden: bool = False, why: str = ""
) -> dict[str, Any]:
    """Return a bias entry with its granted counts and rates hidden where fewer than ``k``
    granted or denied on a side, or where the opt-in rates hide the dimension's "(none)"
    value (``none_hidden``: its side is that value); the note then gives the decisions only.

    Both sides are hidden when one is: they add up to the purpose's total, which the rates
    by another dimension show. ``why`` words the reason in the note when it is another.
    """
    sides = ("without_value", "with_value")
    hidden = []
    small = any(small_split(entry[f"decisions_{s}"], entry[f"granted_{s}"], k) for s in sides)
    if small or none_hidden:
        hidden = [f"{kind}_{side}" for side in sides for kind in ("granted", "optin")]
    hide(entry, hidden, k)
    if hidden:
        entry["note"] = (
            f"{entry['purpose']} opt-in by {entry['dimension']} is biased by missing values: "
            f"{entry['decisions_without_value']} first decisions have no {entry['dimension']} "
            f"and opt in unlike the others (rates hidden: {why or _SMALL.format(k=k)})."
        )
    return entry
