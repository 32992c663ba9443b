"""The change-point test of ``sparsity.shift`` weighs a change against how much the days of
its series vary (quasi-binomial): clustered units (a visit's cookieless pings, one user's
many events) make the daily shares vary several times more than independent units would,
and the binomial test took that scatter for changes (13 of 40 clean generated shops)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from privdiag import stats

# 20 days of 100 units: 40, 60, 35, 65, 45, 55, 30, 70, 50, 50% (mean 50%), then the same
# ten days 10 points higher (mean 60%)
SCATTERED = [40, 60, 35, 65, 45, 55, 30, 70, 50, 50]
SCATTERED += [v + 10 for v in SCATTERED]
UNITS = [100] * 20


def test_over_dispersed_daily_shares_are_no_shift() -> None:
    cp = stats.change_point(SCATTERED, UNITS)
    # binomial: the best split (after the 30% day, 47% against 59%) has a ratio of 26.8,
    # p 2.2e-7 times 19 splits = 4.3e-6, a shift at any alpha
    assert cp.index == 7
    assert cp.statistic == pytest.approx(26.816, abs=1e-3)
    assert sps.chi2.sf(cp.statistic, 1) * 19 == pytest.approx(4.25e-6, rel=1e-2)
    # but the days stray from their halves' shares by 0 to 20 points where 100 independent
    # units would make them stray by 5: over-dispersed about 4.5 times at that split
    assert cp.p_value > 0.5


def test_dispersion_is_pearson_over_its_degrees_of_freedom() -> None:
    xs, ns = np.asarray(SCATTERED, float), np.asarray(UNITS, float)
    # split at day 10: each half strays by -10, 10, -15, 15, -5, 5, -20, 20, 0, 0 points:
    # 1,500 / (100 x 0.5 x 0.5) = 60 and 1,500 / (100 x 0.6 x 0.4) = 62.5, over 20 - 2 days
    assert stats._dispersion(xs, ns, 10) == pytest.approx(122.5 / 18)


def test_steady_days_of_the_same_shares_are_a_shift() -> None:
    # every day exactly 50%, then 60%: no scatter, the binomial test stands (dispersion 1)
    flat = [50] * 10 + [60] * 10
    assert stats._dispersion(np.asarray(flat, float), np.asarray(UNITS, float), 10) == 1.0
    cp = stats.change_point(flat, UNITS)
    assert cp.index == 10
    assert cp.p_value == pytest.approx(sps.chi2.sf(cp.statistic, 1) * 19)
    assert cp.p_value < 1e-3


def test_a_series_of_many_levels_is_not_taken_for_scatter() -> None:
    # eight levels of four days (90, 30, 80, 20, 85, 25, 90, 30% of 1,000): against two
    # shares the days stray hugely (Pearson over 30 degrees of freedom: 322), but against the
    # segments of their own changes not at all, so the dispersion is 1 and the first change
    # (after day 4) is certain; fitted against two shares alone it had p 0.18
    levels = [900, 300, 800, 200, 850, 250, 900, 300]
    x = np.asarray([v for v in levels for _ in range(4)], float)
    n = np.full(32, 1000.0)
    assert stats._dispersion(x, n, 4) == 1.0
    cp = stats.change_point(x, n)
    assert cp.index == 4 and cp.p_value < 1e-10
