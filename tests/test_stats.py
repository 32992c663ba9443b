"""The journey checks' statistics, checked against scipy and hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from privdiag import stats

TABLES = [(8, 10, 1, 10), (0, 5, 0, 5), (3, 3, 0, 40), (12, 200, 9, 180), (1, 1, 1, 1)]


@pytest.mark.parametrize("x1,n1,x2,n2", TABLES)
def test_fisher_greater_matches_scipy(x1, n1, x2, n2):
    expected = sps.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="greater").pvalue
    assert stats.fisher_greater(x1, n1, x2, n2) == pytest.approx(expected, rel=1e-9)


def test_fisher_greater_is_vectorised_and_empty_groups_never_fire():
    a = np.array(TABLES).T
    p = stats.fisher_greater(*a)
    assert p.shape == (len(TABLES),)
    assert stats.fisher_greater(0, 0, 3, 10) == 1.0
    assert stats.fisher_greater(5, 5, 0, 0) == 1.0


def test_two_proportion_z_hand_value():
    # 8/10 vs 1/10: pooled 0.45, se = sqrt(.45*.55*.2) = 0.22249, z = 0.7/0.22249 = 3.1463
    z, p = stats.two_proportion_z(8, 10, 1, 10)
    assert float(z) == pytest.approx(3.1463, abs=1e-4)
    assert float(p) == pytest.approx(2 * sps.norm.sf(3.1463), rel=1e-3)
    _, one_sided = stats.two_proportion_z(8, 10, 1, 10, alternative="greater")
    assert float(one_sided) == pytest.approx(float(p) / 2)


def test_two_proportion_z_equals_chi_square_without_correction():
    table = np.array([[12, 188], [9, 171]])
    chi2 = sps.chi2_contingency(table, correction=False)
    _, p = stats.two_proportion_z(12, 200, 9, 180)
    assert float(p) == pytest.approx(chi2.pvalue, rel=1e-9)


def test_two_proportion_z_degenerate_groups():
    z, p = stats.two_proportion_z(0, 10, 0, 20)
    assert (float(z), float(p)) == (0.0, 1.0)


@pytest.mark.parametrize("x,n", [(0, 10), (3, 10), (10, 10), (45, 1000)])
def test_wilson_matches_scipy(x, n):
    ci = sps.binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = stats.wilson_ci(x, n)
    assert float(low) == pytest.approx(ci.low, abs=1e-9)
    assert float(high) == pytest.approx(ci.high, abs=1e-9)


def test_newcombe_hand_value():
    # Newcombe (1998) table II example (56/70 vs 48/80): difference 0.2, CI 0.0524 to 0.3339
    low, high = stats.newcombe_ci(56, 70, 48, 80)
    assert float(low) == pytest.approx(0.0524, abs=1e-4)
    assert float(high) == pytest.approx(0.3339, abs=1e-4)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_bh_matches_scipy(ps):
    expected = sps.false_discovery_control(ps, method="bh")
    assert np.allclose(stats.bh_adjust(ps), expected)


def test_holm_hand_value():
    # sorted 0.01, 0.02, 0.04 times 3, 2, 1 -> 0.03, 0.04, 0.04 (monotone)
    assert np.allclose(stats.holm_adjust([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])
    assert stats.holm_adjust([]).size == 0
    assert stats.bh_adjust([]).size == 0


def _brute_force(x, n):
    x, n = np.array(x), np.array(n)
    best = None
    for k in range(1, len(x)):
        ll = 0.0
        for xs, ns in ((x[:k], n[:k]), (x[k:], n[k:])):
            ll += sps.binom.logpmf(xs, ns, sum(xs) / sum(ns)).sum()
        ll -= sps.binom.logpmf(x, n, sum(x) / sum(n)).sum()
        if best is None or 2 * ll > best[1]:
            best = (k, 2 * ll)
    return best


def test_change_point_located_to_the_day_and_matches_brute_force():
    x = [10, 11, 9, 10, 60, 58, 61]
    n = [100] * 7
    cp = stats.change_point(x, n)
    assert cp.index == 4
    assert cp.before == pytest.approx(0.1)
    assert cp.after == pytest.approx(179 / 300)
    k, lr = _brute_force(x, n)
    assert (cp.index, cp.statistic) == (k, pytest.approx(lr))
    assert cp.p_value < 1e-10


def test_change_point_skips_empty_days_and_flat_series():
    cp = stats.change_point([5, 0, 5, 5], [50, 0, 50, 50])
    assert cp.p_value == 1.0 or cp.p_value > 0.5
    assert stats.change_point([1], [10]) is None
    assert stats.change_point([1, 0], [10, 0]) is None
    shifted = stats.change_point([0, 0, 9], [10, 0, 10])
    assert shifted.index == 2  # the index refers to the original series, empty day kept


def test_rounded_for_output():
    assert stats.rounded(np.array([0.123456])) == 0.1235
    assert stats.rounded(float("nan")) is None
    assert stats.rounded(None) is None
    assert stats.rounded(2 / 3, 2) == 0.67


def test_cmh_one_stratum_is_the_chi_square_times_n_minus_1_over_n():
    table = np.array([[30, 20], [18, 32]])
    chi2 = sps.chi2_contingency(table, correction=False).statistic
    p, diff = stats.cmh_greater([30], [50], [18], [50], [0], 1)
    z = sps.norm.isf(p[0])
    assert z**2 == pytest.approx(chi2 * 99 / 100)
    assert diff[0] == pytest.approx(0.6 - 0.36)


def test_cmh_removes_a_difference_made_by_mixing_strata():
    # Day 1: 80 denied of 100 events, 20 granted; the field is missing on every event.
    # Day 2: 20 denied, 80 granted; the field is present on every event. Pooled, denied
    # events miss it 80% against 20%; within each day there is no difference at all.
    p, diff = stats.cmh_greater([80, 0], [80, 20], [20, 0], [20, 80], [0, 0], 1)
    assert (p[0], diff[0]) == (1.0, 0.0)  # no variance left within days: nothing to test
    pooled = stats.fisher_greater(80, 100, 20, 100)
    assert pooled < 1e-15


def test_cmh_hand_value_two_strata_and_groups():
    # group 0: strata (a=6,n1=10,b=2,n2=10) and (a=5,n1=10,b=1,n2=10)
    #   E = 4 and 3; V = 10*10*8*12/(400*19) = 1.26316 and 10*10*6*14/(400*19) = 1.10526
    #   z = (2 + 2)/sqrt(2.36842) = 2.599144; MH difference = (0.4*5 + 0.4*5)/(5+5) = 0.4
    # group 1: one side empty -> p 1, difference NaN
    p, diff = stats.cmh_greater([6, 5, 3], [10, 10, 5], [2, 1, 0], [10, 10, 0], [0, 0, 1], 2)
    assert p[0] == pytest.approx(sps.norm.sf(2.599144), rel=1e-5)
    assert diff[0] == pytest.approx(0.4)
    assert p[1] == 1.0 and np.isnan(diff[1])
