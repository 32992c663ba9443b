"""Small statistical tests for the journey checks, vectorised with numpy and scipy.

Every function takes arrays of counts (one element per test) from the aggregated tables the
checks query, never rows of events. Proportions with a zero denominator give NaN, and their
p-values are 1 so that an empty group can never make a finding.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np


def _stats() -> Any:
    """scipy.stats, imported on first use: it takes most of a second, which a scan spends
    while DuckDB reads the inputs (see :func:`warm_up`) and ``privdiag --help`` never does."""
    from scipy import stats

    return stats


@contextmanager
def warmed_up() -> Iterator[None]:
    """Import scipy.stats on a background thread while the block (or the function it decorates)
    runs; wait for it at the end.

    A scan spends the import (most of a second) while DuckDB reads its inputs; the import lock
    makes a check that needs scipy first wait for it. Waiting at the end leaves no import
    running when the scan returns: a model-check or audit that imports scipy next in the same
    process never imports it beside this thread (concurrent imports of scipy's submodules
    can deadlock), and a scan that ends early on an input error does not exit while the
    thread is inside scipy's C++ code (that aborted the process with exit 134).
    """
    if "scipy.stats" in sys.modules:
        yield
        return
    thread = threading.Thread(target=_stats, name="privdiag-import-scipy")
    thread.start()
    try:
        yield
    finally:
        thread.join()


ArrayLike = np.ndarray | list[float] | list[int] | float | int


def _arrays(*values: ArrayLike) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in np.broadcast_arrays(*values)]


def share(x: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Return ``x / n`` elementwise, NaN where ``n`` is 0."""
    xa, na = _arrays(x, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(na > 0, xa / np.where(na > 0, na, 1.0), np.nan)


def fisher_greater(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike) -> np.ndarray:
    """Return the one-sided exact (Fisher) p-value that group 1's share exceeds group 2's.

    Same value as ``scipy.stats.fisher_exact([[x1, n1-x1], [x2, n2-x2]], "greater")``, computed
    for all tests at once from the hypergeometric tail. Empty groups give 1.
    """
    a, na, b, nb = _arrays(x1, n1, x2, n2)
    p = _stats().hypergeom.sf(a - 1, na + nb, a + b, na)
    return np.where((na > 0) & (nb > 0), np.clip(p, 0.0, 1.0), 1.0)


def two_proportion_z(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, alternative: str = "two-sided"
) -> tuple[np.ndarray, np.ndarray]:
    """Return (z, p) of the pooled two-proportion z test of share 1 against share 2.

    ``alternative`` is "two-sided" or "greater" (share 1 larger). Where the pooled variance is
    zero (both groups all 0 or all 1) z is 0 and p is 1.
    """
    a, na, b, nb = _arrays(x1, n1, x2, n2)
    pooled = share(a + b, na + nb)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
        z = np.where(se > 0, (share(a, na) - share(b, nb)) / se, 0.0)
    z = np.nan_to_num(z)
    p = 2 * _stats().norm.sf(np.abs(z)) if alternative == "two-sided" else _stats().norm.sf(z)
    return z, np.where(se > 0, p, 1.0)


def wilson_ci(x: ArrayLike, n: ArrayLike, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Return the Wilson score interval (low, high) for the share ``x / n``; NaN where n is 0."""
    xa, na = _arrays(x, n)
    z = _stats().norm.ppf(0.5 + level / 2)
    p = share(xa, na)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (p + z * z / (2 * na)) / (1 + z * z / na)
        half = z / (1 + z * z / na) * np.sqrt(p * (1 - p) / na + z * z / (4 * na * na))
    return centre - half, centre + half


def newcombe_ci(
    x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Return Newcombe's hybrid score interval (low, high) for share 1 minus share 2.

    Built from the two Wilson intervals (Newcombe 1998, method 10); it behaves well for small
    groups and shares near 0 or 1, where the Wald interval does not.
    """
    p1, p2 = share(x1, n1), share(x2, n2)
    l1, u1 = wilson_ci(x1, n1, level)
    l2, u2 = wilson_ci(x2, n2, level)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def cmh_greater(
    x1: ArrayLike,
    n1: ArrayLike,
    x2: ArrayLike,
    n2: ArrayLike,
    group: ArrayLike,
    groups: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (p, difference) per group for 2x2 tables split into strata (e.g. days).

    Each element is one stratum of group ``group[k]`` (0 <= group < ``groups``). ``p`` is the
    one-sided Cochran-Mantel-Haenszel test (normal form, no continuity correction) that share
    1 exceeds share 2 within strata; ``difference`` is the Mantel-Haenszel weighted difference
    of the shares. A difference that only comes from the strata mixing (say, more denials
    on the days a field broke for everyone) gives neither. Groups with no stratum holding
    both sides get p 1 and difference NaN.
    """
    a, na, b, nb, g = _arrays(x1, n1, x2, n2, group)
    index = g.astype(int)
    total = na + nb
    m = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(total > 0, total, 1.0)
        expected = na * m / safe
        variance = np.where(total > 1, na * nb * m * (total - m) / (safe**2 * (safe - 1)), 0.0)
        weight = na * nb / safe
        weighted = (a * nb - b * na) / safe

    def per_group(values: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=values, minlength=groups)

    var = per_group(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, per_group(a - expected) / np.sqrt(var), 0.0)
        diff = np.where(per_group(weight) > 0, per_group(weighted) / per_group(weight), np.nan)
    return np.where(var > 0, _stats().norm.sf(z), 1.0), diff


def bh_adjust(p: ArrayLike) -> np.ndarray:
    """Return Benjamini-Hochberg adjusted p-values (q-values), in the input's order.

    Same as ``scipy.stats.false_discovery_control(p, method="bh")``; NaN counts as 1.
    """
    pa = np.nan_to_num(np.atleast_1d(np.asarray(p, dtype=float)), nan=1.0)
    m = pa.size
    if m == 0:
        return pa
    order = np.argsort(pa)
    scaled = pa[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.clip(q, 0.0, 1.0)
    return out


def holm_adjust(p: ArrayLike) -> np.ndarray:
    """Return Holm step-down adjusted p-values (family-wise error), in the input's order."""
    pa = np.nan_to_num(np.atleast_1d(np.asarray(p, dtype=float)), nan=1.0)
    m = pa.size
    if m == 0:
        return pa
    order = np.argsort(pa)
    scaled = np.maximum.accumulate(pa[order] * (m - np.arange(m)))
    out = np.empty(m)
    out[order] = np.clip(scaled, 0.0, 1.0)
    return out


@dataclass(frozen=True)
class ChangePoint:
    """The best single split of a daily share series: the first day of the new level."""

    index: int  # first index of the "after" segment
    before: float
    after: float
    statistic: float  # likelihood-ratio statistic, chi-square with 1 degree of freedom
    p_value: float  # of the statistic over its over-dispersion; Bonferroni over the splits


def _binomial_loglik(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Maximised binomial log-likelihood of x successes in n trials (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / np.where(n > 0, n, 1), 0.0)
        a = np.where(x > 0, x * np.log(np.where(p > 0, p, 1)), 0.0)
        b = np.where(n - x > 0, (n - x) * np.log(np.where(p < 1, 1 - p, 1)), 0.0)
    return a + b


# The most changes, and the p-value (Bonferroni over a segment's splits) at which one is
# taken, that :func:`_dispersion` fits beside the change tested before it measures how much
# the days stray from their segments' shares: a series of many levels is not over-dispersed.
DISPERSION_CHANGES = 10
DISPERSION_LEVEL = 0.001


def _split_scores(cx: np.ndarray, cn: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Binomial likelihood ratios of the splits lo+1 .. hi-1 of the days lo .. hi-1, from
    cumulative sums that start with 0."""
    k = np.arange(lo + 1, hi)
    left = _binomial_loglik(cx[k] - cx[lo], cn[k] - cn[lo])
    right = _binomial_loglik(cx[hi] - cx[k], cn[hi] - cn[k])
    whole = _binomial_loglik(cx[hi : hi + 1] - cx[lo], cn[hi : hi + 1] - cn[lo])
    return 2 * (left + right - whole)


def _pearson(cx: np.ndarray, cn: np.ndarray, cq: np.ndarray, cuts: list[int]) -> float:
    """Pearson's chi-square of the days against their segment's share (cuts sorted, with the
    ends); a segment whose share is 0 or 1 adds nothing."""
    b = np.asarray(cuts)
    x, n, q = np.diff(cx[b]), np.diff(cn[b]), np.diff(cq[b])
    p = x / n
    spread = np.maximum(q - x * x / n, 0.0)  # sum of (x_i - n_i p)^2 / n_i
    inside = (p > 0) & (p < 1)
    return float(np.where(inside, spread / np.where(inside, p * (1 - p), 1.0), 0.0).sum())


def _dispersion(xs: np.ndarray, ns: np.ndarray, first: int) -> float:
    """How many times more the days vary than independent units would make them vary, at
    least 1: Pearson's chi-square of the days (non-empty ones) against the shares of the
    segments between their changes, over its degrees of freedom (days - segments).

    The changes are ``first`` (the one tested) and those a binary segmentation adds beside
    it, each taken when its ratio over the dispersion of the days cut there too is sure at
    :data:`DISPERSION_LEVEL` (a quasi-binomial test of nested models): else a series of
    several levels would read as noise about two. With fewer than three days there is
    nothing to estimate it from, and it is 1.
    """
    m = xs.size
    if m < 3:
        return 1.0
    zero = np.zeros(1)
    cx, cn = np.concatenate([zero, np.cumsum(xs)]), np.concatenate([zero, np.cumsum(ns)])
    cq = np.concatenate([zero, np.cumsum(xs * xs / ns)])
    cuts, added = [0, first, m], []
    while len(added) < DISPERSION_CHANGES and m - len(cuts) >= 1:
        best: tuple[float, int, int] | None = None
        for lo, hi in zip(cuts, cuts[1:], strict=False):
            if hi - lo >= 2:
                scores = _split_scores(cx, cn, lo, hi)
                j = int(np.argmax(scores))
                if best is None or scores[j] > best[0]:
                    best = (float(scores[j]), lo + 1 + j, hi - lo - 1)
        if best is None:
            break
        added.append(best)
        cuts = sorted([*cuts, best[1]])
    # the last change added first: kept when sure over the dispersion of its own segmentation
    while added:
        score, at, splits = added[-1]
        phi = max(1.0, _pearson(cx, cn, cq, cuts) / (m - len(cuts) + 1))
        if _stats().chi2.sf(max(score, 0.0) / phi, 1) * splits <= DISPERSION_LEVEL:
            break
        added.pop()
        cuts.remove(at)
    return max(1.0, _pearson(cx, cn, cq, cuts) / (m - len(cuts) + 1))


def change_point(x: ArrayLike, n: ArrayLike, min_size: int = 1) -> ChangePoint | None:
    """Return the most likely single change in the share ``x / n`` of a daily series.

    Scans every split with at least ``min_size`` non-empty days on each side, scoring each by
    the binomial likelihood ratio of two shares against one. The ratio is divided by the
    split's over-dispersion (:func:`_dispersion`, quasi-binomial): when the days vary more
    than their counts of independent units allow, a change of that size is that much less
    sure. The p-value is the chi-square tail of the divided ratio times the number of
    candidate splits (Bonferroni), so long series are not favoured. Returns None when no
    split is possible (fewer than two non-empty days).
    """
    xa, na = _arrays(x, n)
    keep = np.flatnonzero(na > 0)
    if keep.size < 2 * min_size:
        return None
    xs, ns = xa[keep], na[keep]
    cx, cn = np.cumsum(xs), np.cumsum(ns)
    splits = np.arange(min_size, keep.size - min_size + 1)
    left = _binomial_loglik(cx[splits - 1], cn[splits - 1])
    right = _binomial_loglik(cx[-1] - cx[splits - 1], cn[-1] - cn[splits - 1])
    lr = 2 * (left + right - _binomial_loglik(cx[-1:], cn[-1:]))
    best = int(np.argmax(lr))
    k = int(splits[best])
    before = cx[k - 1] / cn[k - 1]
    after = (cx[-1] - cx[k - 1]) / (cn[-1] - cn[k - 1])
    scaled = max(lr[best], 0.0) / _dispersion(xs, ns, k)
    p = min(1.0, float(_stats().chi2.sf(scaled, 1)) * splits.size)
    return ChangePoint(int(keep[k]), float(before), float(after), float(lr[best]), p)


def days_apart(n: ArrayLike, index: int, days: int) -> bool:
    """True when a change at ``index`` of a daily series of counts ``n`` has at least
    ``days`` days with a count (above 0) on either side of it."""
    (na,) = _arrays(n)
    return bool((na[:index] > 0).sum() >= days and (na[index:] > 0).sum() >= days)


def further_changes(
    x: ArrayLike, n: ArrayLike, first: int, level: float, limit: int, days: int = 1
) -> list[tuple[int, float]]:
    """Return (index, p-value) of the changes beside ``first`` in a daily share series, by
    binary segmentation: the best split of each segment on either side of a change found
    (:func:`change_point` on the segment alone, its p-value Bonferroni-corrected over the
    segment's own splits) is kept when its p-value is at most ``level``, and its two sides
    are searched in turn; at most ``limit`` changes, the segments searched in the order they
    were cut. ``first`` is the series' own best change, found before. A segment's best split
    with fewer than ``days`` days with a count on either side of it within the segment
    (:func:`days_apart`) is no change, and the segment is not cut.
    """
    xa, na = _arrays(x, n)
    found: list[tuple[int, float]] = []
    todo = [(0, first), (first, xa.size)]
    while todo and len(found) < limit:
        lo, hi = todo.pop(0)
        cp = change_point(xa[lo:hi], na[lo:hi])
        if cp is None or cp.p_value > level or not days_apart(na[lo:hi], cp.index, days):
            continue
        k = lo + cp.index
        found.append((k, cp.p_value))
        todo += [(lo, k), (k, hi)]
    return found


def rounded(value: Any, digits: int = 4) -> float | None:
    """Return a scalar (or one-element array) rounded for output; None when not finite."""
    if value is None:
        return None
    number = float(np.asarray(value, dtype=float).reshape(-1)[0])
    return round(number, digits) if np.isfinite(number) else None
