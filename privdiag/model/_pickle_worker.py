"""Child process that unpickles a model and scores the variants a JSON manifest lists.

Run as ``python -m privdiag.model._pickle_worker MODEL VARIANTS.json OUT.npz``, where the
manifest maps each variant's name to an Arrow IPC file of the model's input columns; only
ever started by :class:`privdiag.model.pickled.PickleScorer`, never imported by the privdiag
process.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np


def _load(path: Path):
    if path.suffix.lower() == ".joblib":
        import joblib

        return joblib.load(path)
    with path.open("rb") as fh:
        return pickle.load(fh)  # noqa: S301 - the user passed --allow-pickle


def describe(model_path: str, outputs: str) -> None:
    """Write the input names and count the model records as JSON (``names``, ``width``)."""
    from privdiag.model.sklearn_scorer import sklearn_inputs

    names, width = sklearn_inputs(_load(Path(model_path)))
    Path(outputs).write_text(json.dumps({"names": names, "width": width}), encoding="utf-8")


def main(model_path: str, manifest: str, outputs: str) -> None:
    """Score every variant of ``manifest`` and write scores plus a ``__meta__`` JSON record."""
    import polars as pl

    from privdiag.model.loading import failure
    from privdiag.model.sklearn_scorer import (
        _sklearn_kind,
        learnt_text,
        sklearn_input,
        sklearn_scores,
    )

    model = _load(Path(model_path))
    scores, errors, columns = {}, {}, []
    for name, path in json.loads(Path(manifest).read_text(encoding="utf-8")).items():
        frame = pl.read_ipc(path)
        columns = frame.columns
        try:
            scores[name] = sklearn_scores(model, sklearn_input(model, frame, frame.columns))
        except Exception as exc:  # noqa: BLE001 - report any model error per variant
            errors[name] = failure(exc).message
    text = learnt_text(model, columns)
    meta = json.dumps({"kind": _sklearn_kind(model), "errors": errors, "text": text})
    np.savez(outputs, __meta__=np.array(meta), **scores)  # type: ignore[arg-type]


if __name__ == "__main__":
    if sys.argv[1] == "--describe":
        describe(*sys.argv[2:4])
    else:
        main(*sys.argv[1:4])
