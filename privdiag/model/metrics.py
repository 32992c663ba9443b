"""Quality and calibration measures, computed for many bootstrap resamples at once.

Every measure is written for a weight matrix ``w`` of shape ``(B, n)``: row ``b`` holds how
often each of the ``n`` rows of the blind set was drawn in resample ``b`` (a row of ones is
the plain estimate). One sort of the scores then serves every resample, so a 200-resample
bootstrap costs a few matrix products instead of 200 passes. Weighted forms equal
scikit-learn's with ``sample_weight``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ECE_BINS = 10
# Measures where a higher value is better; the others (losses, errors) are better lower.
HIGHER_IS_BETTER = {"roc_auc", "pr_auc", "accuracy", "precision"}
CLASSIFIER_PRIMARY = "roc_auc"
REGRESSOR_PRIMARY = "rmse"


def _tie_groups(p: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return weighted positive and negative counts per distinct score, scores descending."""
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    wo, yo = w[:, order], y[order]
    return np.add.reduceat(wo * yo, starts, axis=1), np.add.reduceat(
        wo * (1.0 - yo), starts, axis=1
    )


def _ranking(p: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """ROC AUC (ties count half) and average precision for each weight row."""
    gpos, gneg = _tie_groups(p, y, w)
    tot_pos, tot_neg = gpos.sum(axis=1), gneg.sum(axis=1)
    cumneg = np.cumsum(gneg, axis=1)
    below = tot_neg[:, None] - cumneg  # negatives scored strictly lower than the group
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (gpos * (below + 0.5 * gneg)).sum(axis=1) / (tot_pos * tot_neg)
        tp, fp = np.cumsum(gpos, axis=1), cumneg
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-300), 0.0)
        ap = (gpos * precision).sum(axis=1) / tot_pos
    return {"roc_auc": auc, "pr_auc": ap}


def _calibration_sums(p: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per resample and bin: weighted count, sum of scores, sum of labels (10 equal bins)."""
    bins = np.minimum((p * ECE_BINS).astype(np.int64), ECE_BINS - 1)
    onehot = np.zeros((p.size, ECE_BINS))
    onehot[np.arange(p.size), bins] = 1.0
    return w @ onehot, (w * p) @ onehot, (w * y) @ onehot


def classifier_scores(y: np.ndarray, p: np.ndarray, w: np.ndarray, threshold: float) -> dict:
    """Return ROC AUC, PR AUC, log loss, Brier, accuracy, precision and ECE per weight row.

    Assumes ``y`` in {0, 1}, ``p`` the probability of class 1 without NaN, ``w`` of shape (B, n).
    AUCs are NaN for a resample holding a single class.
    """
    total = w.sum(axis=1)
    eps = np.finfo(np.float64).eps
    pc = np.clip(p, eps, 1.0 - eps)
    loss = -(y * np.log(pc) + (1.0 - y) * np.log(1.0 - pc))
    predicted = (p >= threshold).astype(np.float64)
    counts, psum, ysum = _calibration_sums(p, y, w)
    out = _ranking(p, y, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["precision"] = (w @ (predicted * y)) / (w @ predicted)
    out["log_loss"] = (w @ loss) / total
    out["brier"] = (w @ (p - y) ** 2) / total
    out["accuracy"] = (w @ (predicted == y).astype(np.float64)) / total
    out["ece"] = np.abs(ysum - psum).sum(axis=1) / total
    return out


def regressor_scores(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> dict:
    """Return RMSE and MAE per weight row; assumes no NaN in ``p``. The errors are summed
    relative to the largest, so that errors past 1e154 (a label of 1e300) square to no inf."""
    total = w.sum(axis=1)
    err = np.abs(p - y)
    scale = float(err.max()) if err.size and err.max() > 0 else 1.0
    unit = err / scale
    return {
        "rmse": scale * np.sqrt((w @ unit**2) / total),
        "mae": scale * ((w @ unit) / total),
    }


def precision_at_k(y: np.ndarray, p: np.ndarray, share: float = 0.1) -> float:
    """Return the share of positives among the top ``ceil(share * n)`` scores (stable order)."""
    k = max(1, math.ceil(share * y.size))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].mean())


def reliability_curve(y: np.ndarray, p: np.ndarray, min_rows: int = 1) -> list[list[float]]:
    """Return ``[[mean score, observed rate], ...]`` for each equal-width bin of at least
    ``min_rows`` rows: a bin of one row shows its score and its label, that person's outcome,
    so bins under the minimum group size are left out. So is a bin whose positives, or
    negatives, are 1 to ``min_rows`` - 1 rows: ten rows observed at 0.1 tell the one
    positive among them."""
    counts, psum, ysum = _calibration_sums(p, y, np.ones((1, p.size)))
    k = max(min_rows, 1)
    negatives = counts[0] - ysum[0]
    keep = (
        (counts[0] >= k) & ~((ysum[0] > 0) & (ysum[0] < k)) & ~((negatives > 0) & (negatives < k))
    )
    return [
        [round(float(a), 6), round(float(b), 6)]
        for a, b in zip(
            psum[0][keep] / counts[0][keep], ysum[0][keep] / counts[0][keep], strict=True
        )
    ]


def bootstrap_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """Return a (resamples, n) matrix of multinomial draw counts, deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)


@dataclass
class Comparison:
    """One measure on the unmasked blind set and under a scenario, with the drop's interval.

    ``drop`` is positive when the scenario is worse, whatever the measure's direction.
    """

    measure: str
    baseline: float
    scenario: float
    drop: float
    low: float
    high: float

    def to_row(self) -> list:
        return [self.measure, *(round(v, 6) for v in self.values())]

    def values(self) -> tuple[float, ...]:
        return (self.baseline, self.scenario, self.drop, self.low, self.high)


def _scores(kind: str, y: np.ndarray, p: np.ndarray, w: np.ndarray, threshold: float) -> dict:
    if kind == "classifier":
        return classifier_scores(y, p, w, threshold)
    return regressor_scores(y, p, w)


def compare(
    y: np.ndarray,
    base: np.ndarray,
    scen: np.ndarray,
    *,
    kind: str,
    threshold: float,
    resamples: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, Comparison]:
    """Return every measure under ``scen`` against ``base`` with a paired bootstrap interval.

    The same resampled rows score both, so the interval is the drop's own. Assumes no NaN
    in either score vector.
    """
    ones = np.ones((1, y.size))
    point_b = _scores(kind, y, base, ones, threshold)
    point_s = _scores(kind, y, scen, ones, threshold)
    w = bootstrap_weights(y.size, resamples, seed)
    boot_b = _scores(kind, y, base, w, threshold)
    boot_s = _scores(kind, y, scen, w, threshold)
    tail = (1.0 - level) / 2.0 * 100.0
    out = {}
    for name in point_b:
        sign = 1.0 if name in HIGHER_IS_BETTER else -1.0
        drops = sign * (boot_b[name] - boot_s[name])
        drops = drops[np.isfinite(drops)]
        low, high = np.percentile(drops, [tail, 100.0 - tail]) if drops.size else (np.nan, np.nan)
        b, s = float(point_b[name][0]), float(point_s[name][0])
        out[name] = Comparison(name, b, s, sign * (b - s), float(low), float(high))
    return out


def point_scores(y: np.ndarray, p: np.ndarray, *, kind: str, threshold: float) -> dict[str, float]:
    """Return every measure once on the whole blind set, plus precision@k for classifiers."""
    out = {k: float(v[0]) for k, v in _scores(kind, y, p, np.ones((1, y.size)), threshold).items()}
    if kind == "classifier":
        out["precision_at_k"] = precision_at_k(y, p)
    return out
