"""Drift bench: privdiag's per-feature drift against scipy and Evidently's data-drift preset.

Evidently is optional (``pip install -e '.[bench]'``); without it only scipy is compared.
Evidently's preset reports, for numeric columns of more than 1,000 rows, the Wasserstein
distance normed by the reference's standard deviation; privdiag's Wasserstein distance is
normed the same way for the comparison.
"""

from __future__ import annotations

import time
from typing import Any

from privdiag.bench_drift import _data
from privdiag.bench_drift import run as run_scipy


def _evidently_values(ref: Any, cur: Any) -> tuple[float, dict[str, float]]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ref_pd, cur_pd = ref.to_pandas(), cur.to_pandas()
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=cur_pd, reference_data=ref_pd)
    seconds = time.perf_counter() - start
    values = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            values[config["column"]] = float(metric["value"])
    return seconds, values


def evidently_version() -> str | None:
    """Return Evidently's version, or None when it is not installed (or does not import)."""
    try:
        import evidently
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None
    return str(evidently.__version__)


def run(rows: int, features: int) -> dict[str, Any]:
    """Time privdiag's drift, scipy's and (when installed) Evidently's preset on one data set.

    Returns seconds for each and the largest absolute difference of privdiag's values to
    scipy's (KS, its p-value, Wasserstein) and to Evidently's normed Wasserstein distance.
    """
    import numpy as np

    from privdiag.model.drift import frame_drift

    out = run_scipy(rows, features)
    out["evidently_version"] = evidently_version()
    if out["evidently_version"] is None:
        return out
    ref, cur = _data(rows, features)
    ours = frame_drift(ref, cur, list(ref.columns), alpha=0.01, min_gap=0.1)
    seconds, theirs = _evidently_values(ref, cur)
    worst = 0.0
    for row in ours:
        normed = float(row.wasserstein or 0.0) / max(
            float(np.std(ref[row.feature].to_numpy())), 0.001
        )
        worst = max(worst, abs(normed - theirs[row.feature]))
    out["evidently_seconds"] = round(seconds, 3)
    out["evidently_max_abs_diff"] = worst
    return out
