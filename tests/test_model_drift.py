"""Drift measures against scipy on the same data, and the verdict's use of missing shares."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from privdiag.model.drift import frame_drift, ks_wasserstein, missing_test, psi, series_drift


def test_ks_and_wasserstein_equal_scipy_with_ties():
    rng = np.random.default_rng(0)
    a = np.round(rng.normal(0, 1, 3000), 1)
    b = np.round(rng.normal(0.1, 1.2, 2000), 1)
    d, p, w = ks_wasserstein(a, b)
    ref = stats.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), abs=1e-9)


def test_psi_by_hand():
    # (0.6-0.5) ln(0.6/0.5) + (0.4-0.5) ln(0.4/0.5)
    assert psi(np.array([0.5, 0.5]), np.array([0.6, 0.4])) == pytest.approx(
        0.1 * np.log(1.2) - 0.1 * np.log(0.8)
    )


def test_missing_test_by_hand():
    # 0/100 vs 60/100 missing: pooled 0.3, z = 0.6 / sqrt(0.21 * 0.02)
    z = 0.6 / np.sqrt(0.21 * 0.02)
    assert missing_test(0, 100, 60, 100) == pytest.approx(2 * stats.norm.sf(z))
    assert missing_test(0, 100, 0, 50) == 1.0


def test_going_from_none_to_sixty_percent_missing_is_drift():
    rng = np.random.default_rng(1)
    values = rng.normal(size=1000)
    current = values.copy()
    current_nulls = pl.Series("x", current).scatter(np.arange(600), None)
    row = series_drift(pl.Series("x", values), current_nulls, alpha=0.01, min_gap=0.1)
    assert row.missing_reference == 0.0 and row.missing_current == 0.6
    assert row.drifted and "missing share 0% -> 60%" in row.reason
    # the present values alone come from the same distribution: KS alone says no drift
    assert row.ks < 0.1
    r = np.r_[np.full(10, 0.1), 0.0]  # deciles + missing bin of the reference
    assert row.js == pytest.approx(jensenshannon(r, row_shares(values, current_nulls), base=2))


def test_rows_a_scenario_masked_are_left_out_when_asked():
    """The blind set against its own masked self: 600 of 1,000 rows masked with a default of
    -99 (a shift by construction: KS 0.6, missing 0 -> 0 on the rows kept) give no drift once
    the masked rows are left out; every row masked leaves nothing to compare."""
    rng = np.random.default_rng(1)
    values = rng.normal(size=1000)
    frame = pl.DataFrame({"x": values, "y": values})
    masked = np.arange(1000) < 600
    current = frame.with_columns(
        pl.when(pl.Series(masked)).then(-99.0).otherwise(pl.col("x")).alias("x"),
        pl.lit(None, dtype=pl.Float64).alias("y"),
    )
    plain = frame_drift(frame, current, ["x"], alpha=0.01, min_gap=0.1)[0]
    assert plain.drifted and plain.ks == pytest.approx(0.6) and plain.masked is None
    rows = frame_drift(
        frame,
        current,
        ["x", "y"],
        alpha=0.01,
        min_gap=0.1,
        masked={"x": masked, "y": np.ones(1000, bool)},
    )
    assert [r.drifted for r in rows] == [False, False]
    assert (rows[0].masked, rows[0].rows_current, rows[0].missing_current) == (0.6, 400, 0.0)
    assert (rows[1].masked, rows[1].rows_current, rows[1].ks) == (1.0, 0, None)
    assert rows[1].to_dict()["missing_current"] == 1.0


def row_shares(ref, cur_series):
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, 11)[1:-1]))
    cur = cur_series.drop_nulls().to_numpy()
    counts = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    return np.append(counts, cur_series.null_count()) / cur_series.len()


def test_same_distribution_is_not_drift():
    rng = np.random.default_rng(2)
    rows = frame_drift(
        pl.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)}),
        pl.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)}),
        ["x", "c"],
        alpha=0.01,
        min_gap=0.1,
    )
    assert [r.drifted for r in rows] == [False, False]
    assert rows[1].type == "category"


def test_category_chi_square_equals_scipy():
    ref = pl.Series("c", ["a"] * 50 + ["b"] * 50 + [None] * 10)
    cur = pl.Series("c", ["a"] * 80 + ["b"] * 20 + ["z"] * 5)
    row = series_drift(ref, cur, alpha=0.01, min_gap=0.1)
    expected = stats.chi2_contingency(np.array([[50, 50, 0], [80, 20, 5]]), correction=False)
    assert row.chi2 == pytest.approx(expected.statistic)
    assert row.chi2_p == pytest.approx(expected.pvalue)
    shares_r = np.array([50, 50, 0, 10]) / 110
    shares_c = np.array([80, 20, 5, 0]) / 105
    assert row.js == pytest.approx(jensenshannon(shares_r, shares_c, base=2))
    assert row.drifted


def test_small_samples_need_a_larger_effect():
    small = series_drift(
        pl.Series("x", [0.0] * 20), pl.Series("x", [0.0] * 17 + [None] * 3), alpha=0.01, min_gap=0.1
    )
    assert not small.drifted  # 15 % missing in 20 rows is not significant


def test_rare_categories_are_pooled_before_the_chi_square():
    """Categories seen fewer than min_n times in both sets (r1 2 and 1 times, r2 once, r3 3
    times) are one pooled category: the chi-square of 5 rows of singletons is no test."""
    ref = pl.Series("c", ["a"] * 50 + ["b"] * 50 + ["r1"] * 2 + ["r2"])
    cur = pl.Series("c", ["a"] * 80 + ["b"] * 20 + ["r1"] + ["r3"] * 3)
    row = series_drift(ref, cur, alpha=0.01, min_gap=0.1, min_n=5)
    expected = stats.chi2_contingency(np.array([[50, 50, 3], [80, 20, 4]]), correction=False)
    assert row.chi2 == pytest.approx(expected.statistic)
    assert row.chi2_p == pytest.approx(expected.pvalue)
    shares_r, shares_c = np.array([50, 50, 3, 0]) / 103, np.array([80, 20, 4, 0]) / 104
    assert row.js == pytest.approx(jensenshannon(shares_r, shares_c, base=2))


def test_category_shares_name_only_large_groups_and_no_identifiers():
    """A value is named when each set holds it at least min_n times or not at all: "gone"
    (10 then 0) is named, "few" (10 then 3) would tell of 3 rows and is pooled; an e-mail
    address seen often is pooled too, and an identifier column names no value."""
    ref = ["web"] * 40 + ["gone"] * 10 + ["few"] * 10 + ["ann@example.com"] * 10 + [None] * 30
    cur = ["web"] * 40 + ["few"] * 3 + ["ann@example.com"] * 10 + [None] * 47
    row = series_drift(pl.Series("src", ref), pl.Series("src", cur), alpha=0.01, min_gap=0.1)
    assert row.shares is not None and "shares" not in row.to_dict()
    assert row.shares["rows"] == [
        ["web", 0.4, 0.4],
        ["gone", 0.1, 0.0],
        ["(other values)", 0.2, 0.13],  # few and the address: 10 + 10 of 100, 3 + 10 of 100
        ["(missing)", 0.3, 0.47],
    ]
    ids = series_drift(
        pl.Series("user_id", ref), pl.Series("user_id", cur), alpha=0.01, min_gap=0.1
    )
    assert [r[0] for r in ids.shares["rows"]] == ["(other values)", "(missing)"]
    number = series_drift(
        pl.Series("x", [1.0, 2.0]), pl.Series("x", [1.0, None]), alpha=0.01, min_gap=0.1
    )
    assert number.shares is None
    assert all(type(share) is float for line in row.shares["rows"] for share in line[1:])


@pytest.mark.parametrize("booleans_in", ["reference", "blind set"])
def test_booleans_beside_numbers_compare_as_one_and_zero(booleans_in):
    """Found by the eighteenth hostile session: a `--reference` column of booleans beside the
    blind set's 0/1 numbers was compared as categories, "true" against "1": every value
    read as drifted. 60 of 100 rows are 1 (true) in both sets: no drift."""
    flags = pl.Series("flag", [True] * 60 + [False] * 40)
    numbers = pl.Series("flag", [1] * 60 + [0] * 40)
    ref, cur = (flags, numbers) if booleans_in == "reference" else (numbers, flags)
    row = series_drift(ref, cur, alpha=0.01, min_gap=0.1)
    assert row.type == "number" and not row.drifted
    assert row.missing_reference == row.missing_current == 0.0
