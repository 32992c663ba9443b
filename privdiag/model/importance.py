"""Masking importance: the quality lost when a feature (or a purpose) is masked as consent would.

Unlike permutation importance, the feature is not shuffled but set to what production sees
without consent (null or the configured default), so the number answers "what does losing
this consent cost", including how well the model copes with missing values.
"""

from __future__ import annotations

import numpy as np

from privdiag.model.metrics import point_scores


def quality_drop(
    y: np.ndarray, base: np.ndarray, scen: np.ndarray, *, kind: str, threshold: float
) -> float:
    """Return the primary measure's loss: ROC AUC drop, or the relative RMSE increase.

    Positive means the masked variant is worse. Assumes no NaN in the scores.
    """
    b = point_scores(y, base, kind=kind, threshold=threshold)
    s = point_scores(y, scen, kind=kind, threshold=threshold)
    if kind == "classifier":
        return b["roc_auc"] - s["roc_auc"]
    return (s["rmse"] - b["rmse"]) / b["rmse"] if b["rmse"] > 0 else 0.0


def ranked(drops: dict[str, float]) -> list[tuple[str, float]]:
    """Return ``(name, drop)`` pairs, largest loss first, ties by name."""
    return sorted(drops.items(), key=lambda kv: (-kv[1], kv[0]))


def fragile(drops: dict[str, float], floor: float, top: int = 3) -> list[tuple[str, float]]:
    """Return the ``top`` largest losses that are at least ``floor``."""
    return [(name, drop) for name, drop in ranked(drops)[:top] if drop >= floor]


def bars(title: str, drops: dict[str, float], unit: str) -> dict:
    """Return the ``bars`` evidence block of the losses, largest first."""
    pairs = ranked(drops)
    return {
        "title": title,
        "labels": [p[0] for p in pairs],
        "values": [round(p[1], 6) for p in pairs],
        "unit": unit,
    }
