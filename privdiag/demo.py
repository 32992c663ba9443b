"""The bundled demo: a generated shop scenario plus a held-out set for the fixture model."""

from __future__ import annotations

import shutil
from pathlib import Path

from privdiag.model.synthetic import FEATURE_PURPOSES, make_blind_set

# The fixture model of a source checkout (also an editable install); a wheel does not hold it.
MODEL = Path(__file__).resolve().parent.parent / "fixtures" / "models" / "propensity_imputed.onnx"
BLIND_SET = "holdout.parquet"
MODEL_COPY = "models/propensity_imputed.onnx"  # inside the scenario folder


def demo_paths(out_dir: Path) -> list[Path]:
    """Return the files :func:`add_model_blind_set` writes into ``out_dir``."""
    return [out_dir / BLIND_SET] + ([out_dir / MODEL_COPY] if MODEL.is_file() else [])


def add_model_blind_set(out_dir: Path, seed: int, rows: int = 3000) -> Path:
    """Write ``holdout.parquet`` for the fixture model and declare its features in the config.

    The features' purposes are appended to the scenario's ``privdiag.toml`` so that scan and
    model-check share one config, as a team would. The fixture model is copied into the
    folder and named by a path relative to the config, so the folder still audits after it
    is moved; without the fixture model (a wheel install) the model's table is left out.
    """
    path = out_dir / BLIND_SET
    make_blind_set(n=rows, seed=seed).write_parquet(path)
    lines = ["", "# The propensity model's features and the consent each needs."]
    for feature, purposes in FEATURE_PURPOSES.items():
        listed = ", ".join(f'"{p}"' for p in purposes)
        lines += [f"[features.{feature}]", f"purposes = [{listed}]", 'owner = "data-science"', ""]
    lines += _model_table(out_dir)
    with (out_dir / "privdiag.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    return path


def _model_table(out_dir: Path) -> list[str]:
    """Copy the fixture model into ``out_dir`` and return its ``[models.propensity]`` lines."""
    if not MODEL.is_file():
        return [
            f"# No [models.propensity]: the fixture model {MODEL.name} comes with a source",
            "# checkout of privdiag, not with this install.",
            "",
        ]
    target = out_dir / MODEL_COPY
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MODEL, target)
    return [
        "[models.propensity]",
        "# Paths are relative to this file's folder.",
        f'path = "{MODEL_COPY}"',
        'owner = "data-science"',
        f'blind_set = "{BLIND_SET}"',
        'label = "label"',
        "",
    ]
