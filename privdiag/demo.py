"""The bundled demo: a generated shop scenario plus a held-out set for the fixture model."""

from __future__ import annotations

from pathlib import Path

from privdiag.model.synthetic import FEATURE_PURPOSES, make_blind_set

MODEL = "fixtures/models/propensity_imputed.onnx"


def add_model_blind_set(out_dir: Path, seed: int, rows: int = 3000) -> Path:
    """Write ``holdout.parquet`` for the fixture model and declare its features in the config.

    The features' purposes are appended to the scenario's ``privdiag.toml`` so that scan and
    model-check share one config, as a team would.
    """
    path = out_dir / "holdout.parquet"
    make_blind_set(n=rows, seed=seed).write_parquet(path)
    lines = ["", "# The propensity model's features and the consent each needs."]
    for feature, purposes in FEATURE_PURPOSES.items():
        listed = ", ".join(f'"{p}"' for p in purposes)
        lines += [f"[features.{feature}]", f"purposes = [{listed}]", 'owner = "data-science"', ""]
    lines += [
        "[models.propensity]",
        f'path = "../../{MODEL}"',
        'owner = "data-science"',
        'blind_set = "holdout.parquet"',
        'label = "label"',
        "",
    ]
    with (out_dir / "privdiag.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    return path
