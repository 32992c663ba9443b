"""Benchmark: per-feature drift for many rows, timed, and its values checked against scipy.

``python -m privdiag.bench_drift [ROWS] [FEATURES]`` (default 1,000,000 x 20). Prints one
JSON line: seconds for privdiag's drift and for scipy's functions on the same data, and the
largest absolute difference between the two. Evidently's preset is not run here.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import polars as pl
from scipy import stats

from privdiag.model.drift import frame_drift


def _data(rows: int, features: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = {f"f{i}": rng.normal(0, 1, rows) for i in range(features)}
    cur = {f"f{i}": rng.normal(0.01 * i, 1 + 0.01 * i, rows) for i in range(features)}
    return pl.DataFrame(ref), pl.DataFrame(cur)


def run(rows: int = 1_000_000, features: int = 20) -> dict:
    """Return timings and the worst difference to scipy for KS, its p-value and Wasserstein."""
    ref, cur = _data(rows, features)
    start = time.perf_counter()
    out = frame_drift(ref, cur, list(ref.columns), alpha=0.01, min_gap=0.1)
    ours = time.perf_counter() - start
    start, worst = time.perf_counter(), 0.0
    for row in out:
        a, b = ref[row.feature].to_numpy(), cur[row.feature].to_numpy()
        ks = stats.ks_2samp(a, b, method="asymp")
        w = stats.wasserstein_distance(a, b)
        worst = max(
            worst, abs(ks.statistic - row.ks), abs(ks.pvalue - row.ks_p), abs(w - row.wasserstein)
        )
    return {
        "rows": rows,
        "features": features,
        "privdiag_seconds": round(ours, 3),
        "scipy_seconds": round(time.perf_counter() - start, 3),
        "max_abs_diff": worst,
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    sys.stdout.write(json.dumps(run(*args)) + "\n")
