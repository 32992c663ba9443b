"""A small labelled blind set with a known structure, for fixtures, tests and demos.

Each feature stands for one consent purpose, so masking it is what denying that purpose
does in production. The label depends on the features through a known logistic model.
"""

from __future__ import annotations

import numpy as np
import polars as pl

FEATURE_PURPOSES: dict[str, list[str]] = {
    "sessions_30d": ["analytics"],
    "ad_clicks_7d": ["ads"],
    "reco_clicks": ["personalization"],
    "tenure_days": [],
    "noise": ["functional"],
}
FEATURES: list[str] = list(FEATURE_PURPOSES)

# True logistic coefficients of the label on the centred features.
COEFFICIENTS: dict[str, float] = {
    "sessions_30d": 0.5,
    "ad_clicks_7d": 0.9,
    "reco_clicks": 0.3,
    "tenure_days": 0.001,
    "noise": 0.0,
}


def feature_matrix(n: int, rng: np.random.Generator) -> np.ndarray:
    """Return an ``n x 5`` float matrix of the features in :data:`FEATURES` order."""
    return np.column_stack(
        [
            rng.poisson(3.0, n),
            rng.poisson(1.0, n),
            rng.poisson(2.0, n),
            rng.uniform(0.0, 1000.0, n),
            rng.normal(0.0, 1.0, n),
        ]
    ).astype(np.float64)


def true_logit(x: np.ndarray) -> np.ndarray:
    """Return the label's logit for a feature matrix in :data:`FEATURES` order."""
    centre = np.array([3.0, 1.0, 2.0, 500.0, 0.0])
    beta = np.array([COEFFICIENTS[f] for f in FEATURES])
    return -1.0 + (x - centre) @ beta


def make_blind_set(n: int = 2000, seed: int = 0) -> pl.DataFrame:
    """Return a labelled frame: the features, ``label`` (0/1) and ``basket_value`` (float)."""
    rng = np.random.default_rng(seed)
    x = feature_matrix(n, rng)
    logit = true_logit(x)
    label = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    basket = 20.0 + 4.0 * x[:, 0] + 6.0 * x[:, 1] + 2.0 * x[:, 2] + rng.normal(0.0, 3.0, n)
    frame = pl.DataFrame({name: x[:, i] for i, name in enumerate(FEATURES)})
    return frame.with_columns(pl.Series("label", label), pl.Series("basket_value", basket))
