"""Measures against scikit-learn on the same data, and the bootstrap's basic properties."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from privdiag.model import verdicts
from privdiag.model.metrics import (
    Comparison,
    bootstrap_weights,
    classifier_scores,
    compare,
    precision_at_k,
    regressor_scores,
    reliability_curve,
)


def _data(n=500, seed=3, ties=False):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.01, 0.99, n)
    if ties:
        p = np.round(p, 1)
    y = (rng.uniform(size=n) < p).astype(np.float64)
    return y, p


@pytest.mark.parametrize("ties", [False, True])
def test_classifier_scores_equal_sklearn(ties):
    y, p = _data(ties=ties)
    got = {k: float(v[0]) for k, v in classifier_scores(y, p, np.ones((1, y.size)), 0.5).items()}
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert got["pr_auc"] == pytest.approx(skm.average_precision_score(y, p), abs=1e-12)
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, p), abs=1e-12)
    assert got["brier"] == pytest.approx(skm.brier_score_loss(y, p), abs=1e-12)
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, p >= 0.5), abs=1e-12)
    assert got["precision"] == pytest.approx(skm.precision_score(y, p >= 0.5), abs=1e-12)


def test_weighted_rows_equal_sklearn_sample_weight():
    y, p = _data(n=200, ties=True)
    w = bootstrap_weights(200, 3, seed=1)
    got = classifier_scores(y, p, w, 0.5)
    for b in range(3):
        assert got["roc_auc"][b] == pytest.approx(skm.roc_auc_score(y, p, sample_weight=w[b]))
        ap = skm.average_precision_score(y, p, sample_weight=w[b])
        assert got["pr_auc"][b] == pytest.approx(ap)
        assert got["log_loss"][b] == pytest.approx(skm.log_loss(y, p, sample_weight=w[b]))


def test_ece_by_hand():
    # bin 0.1-0.2: scores 0.1, 0.1 with labels 0, 1 -> |0.5 - 0.1| * 2/4
    # bin 0.9-1.0: scores 0.9, 0.9 with labels 1, 1 -> |1.0 - 0.9| * 2/4
    y = np.array([0.0, 1.0, 1.0, 1.0])
    p = np.array([0.15, 0.15, 0.95, 0.95])
    ece = classifier_scores(y, p, np.ones((1, 4)), 0.5)["ece"][0]
    assert ece == pytest.approx(0.5 * 0.35 + 0.5 * 0.05)
    assert reliability_curve(y, p) == [[0.15, 0.5], [0.95, 1.0]]


def test_regressor_scores_equal_sklearn():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=300), rng.normal(size=300)
    got = regressor_scores(y, p, np.ones((1, 300)))
    assert got["rmse"][0] == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert got["mae"][0] == pytest.approx(skm.mean_absolute_error(y, p))


def test_precision_at_k_by_hand():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0], dtype=float)
    p = np.linspace(1.0, 0.0, 12)
    assert precision_at_k(y, p, share=0.25) == pytest.approx(2 / 3)  # top 3: 1, 0, 1


def test_compare_identical_scores_have_zero_drop_and_interval():
    y, p = _data()
    cmp = compare(y, p, p, kind="classifier", threshold=0.5, resamples=50)
    assert cmp["roc_auc"].drop == 0.0
    assert cmp["roc_auc"].low == cmp["roc_auc"].high == 0.0


def test_compare_noise_gives_positive_drop_with_interval_around_it():
    y, p = _data(n=2000)
    noisy = np.clip(p + np.random.default_rng(9).normal(0, 0.3, p.size), 0.001, 0.999)
    cmp = compare(y, p, noisy, kind="classifier", threshold=0.5, resamples=200, seed=4)
    auc = cmp["roc_auc"]
    assert auc.drop == pytest.approx(skm.roc_auc_score(y, p) - skm.roc_auc_score(y, noisy))
    assert 0 < auc.low < auc.drop < auc.high
    assert cmp["log_loss"].drop > 0  # losses are signed so that worse is positive too
    again = compare(y, p, noisy, kind="classifier", threshold=0.5, resamples=200, seed=4)
    assert again["roc_auc"].low == auc.low


def test_an_error_that_grows_is_worded_as_growing():
    """RMSE 2.99 -> 10.03: up 7.04, and 7.04 / 2.99 = +235.5%; AUC 0.81 -> 0.70 falls 0.11
    (-13.6%); a log loss 0.4 -> 0.55 grows 0.15 (+37.5%)."""
    rmse = Comparison("rmse", 2.99, 10.03, 7.04 / 2.99, 2.0, 2.6)
    f = verdicts.degradation("basket", "deny_ads", "ads", rmse, {}, 0.02, None, ["x"])
    assert f.title == "basket: RMSE grows by 7.04 (+235.5%), from 2.99 to 10.03 under deny_ads"
    assert (f.metrics["better"], f.metrics["change"]) == ("lower", 7.04)
    assert f.metrics["change_relative"] == pytest.approx(2.354515, abs=1e-6)
    auc = Comparison("roc_auc", 0.81, 0.70, 0.11, 0.08, 0.14)
    f = verdicts.degradation("p", "all_denied", None, auc, {}, 0.02, None, [])
    assert f.title == "p: ROC AUC falls by 0.11 (-13.6%), from 0.81 to 0.7 under all_denied"
    assert verdicts.change_words("log_loss", 0.4, 0.55) == (
        "log loss grows by 0.15 (+37.5%), from 0.4 to 0.55"
    )
    assert verdicts.change_words("brier", 0.2, 0.25).startswith("Brier score grows by 0.05")
    assert verdicts.change_words("mae", 2.0, 3.0).startswith("MAE grows by 1 (+50.0%)")
    rel = Comparison("rmse", 3.0, 3.705, 0.235, 0.2, 0.27)
    fragile = verdicts.fragile("basket", "x", rel, 1, "relative RMSE increase", 0.02, {}, [], None)
    assert fragile.title == "basket: masking x raises RMSE by 23.5%"
    auc = Comparison("roc_auc", 0.8, 0.75, 0.05, 0.03, 0.07)
    fragile = verdicts.fragile("p", "x", auc, 1, "ROC AUC", 0.02, {}, [], None)
    assert fragile.title == "p: masking x lowers ROC AUC by 0.050"


def test_fragile_features_are_graded_by_their_own_drop_not_their_rank():
    """Thresholds as model.degradation's (0.02): high from an interval starting at 0.10,
    medium from 0.05, low below. The twelfth trial's case: masking sessions_30d alone (ROC AUC
    -0.041, ranked first) was medium while a -0.050 scenario was low."""
    first = Comparison("roc_auc", 0.80, 0.759, 0.041, 0.030, 0.052)
    second = Comparison("roc_auc", 0.80, 0.68, 0.12, 0.104, 0.136)
    third = Comparison("roc_auc", 0.80, 0.73, 0.07, 0.051, 0.089)
    grades = [
        verdicts.fragile("p", f, c, rank, "ROC AUC", 0.02, {}, [], None)
        for rank, (f, c) in enumerate([("a", first), ("b", second), ("c", third)], start=1)
    ]
    assert [g.severity for g in grades] == ["low", "high", "medium"]
    assert grades[0].metrics == {
        "drop": 0.041,
        "drop_low": 0.03,
        "drop_high": 0.052,
        "rank": 1,
        "unit": "ROC AUC",
    }
    # the same interval makes the same grade for a scenario
    deg = verdicts.degradation("p", "mask_a", None, first, {}, 0.02, None, ["a"])
    assert deg.severity == grades[0].severity


def test_the_measure_table_says_which_way_is_better():
    table = verdicts.measure_table(
        "t",
        {
            "rmse": Comparison("rmse", 2.0, 3.0, 1.0, 0.5, 1.5),
            "roc_auc": Comparison("roc_auc", 0.8, 0.7, 0.1, 0.05, 0.15),
        },
    )
    assert table["columns"][3] == "worse_by" and table["columns"][-1] == "better"
    assert [r[-1] for r in table["rows"]] == ["lower", "higher"]
