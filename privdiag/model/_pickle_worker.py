"""Child process that unpickles a model and scores the variants of an ``.npz`` archive.

Run as ``python -m privdiag.model._pickle_worker MODEL IN.npz OUT.npz``; only ever started
by :class:`privdiag.model.pickled.PickleScorer`, never imported by the privdiag process.
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
    from privdiag.model.loading import sklearn_inputs

    names, width = sklearn_inputs(_load(Path(model_path)))
    Path(outputs).write_text(json.dumps({"names": names, "width": width}), encoding="utf-8")


def main(model_path: str, inputs: str, outputs: str) -> None:
    """Score every array of ``inputs`` and write scores plus a ``__meta__`` JSON record."""
    from privdiag.model.loading import _sklearn_kind, sklearn_scores

    model = _load(Path(model_path))
    scores, errors = {}, {}
    with np.load(inputs, allow_pickle=False) as data:
        names = [str(n) for n in data["__names__"]] if "__names__" in data.files else None
        for name in data.files:
            if name == "__names__":
                continue
            try:
                scores[name] = sklearn_scores(model, data[name], names)
            except Exception as exc:  # noqa: BLE001 - report any model error per variant
                errors[name] = f"{type(exc).__name__}: {exc}"[:300]
    meta = json.dumps({"kind": _sklearn_kind(model), "errors": errors})
    np.savez(outputs, __meta__=np.array(meta), **scores)  # type: ignore[arg-type]


if __name__ == "__main__":
    if sys.argv[1] == "--describe":
        describe(*sys.argv[2:4])
    else:
        main(*sys.argv[1:4])
