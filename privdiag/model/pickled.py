"""Pickle and joblib models, loaded and run only in a separate Python process.

Unpickling runs arbitrary code, so the file is never opened in the privdiag process: each
variant's inputs go to a child process as an Arrow IPC file (numbers and text, missing values
kept), listed in a JSON manifest, and the scores come back as one ``.npz`` archive of
numbers, read without pickle. One child serves every scenario, so the model is loaded once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from privdiag.errors import InputError
from privdiag.model.loading import ModelFailure, Scorer, Scores

TIMEOUT_SECONDS = 600


class PickleScorer(Scorer):
    """A pickled or joblib-saved scikit-learn style model, scored in a child process."""

    def __init__(self, path: Path, config_features: list[str] | None = None) -> None:
        super().__init__(path, format=path.suffix.lower().lstrip("."))
        self.feature_names = config_features
        if config_features is None:  # the model's own names, asked of a child as well
            with tempfile.TemporaryDirectory(prefix="privdiag-pickle-") as tmp:
                out = Path(tmp) / "inputs.json"
                self._run("--describe", str(self.path), str(out))
                described = json.loads(out.read_text(encoding="utf-8"))
            self.feature_names, self.width = described["names"], described["width"]

    def _run(self, *args: str) -> None:
        cmd = [sys.executable, "-m", "privdiag.model._pickle_worker", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise InputError(f"could not be loaded in a separate process: {last}", path=self.path)

    def score_many(self, variants: dict[str, pl.DataFrame]) -> dict[str, Scores]:
        """Return scores per variant from one child process run."""
        names = self.feature_names or []
        with tempfile.TemporaryDirectory(prefix="privdiag-pickle-") as tmp:
            manifest, outputs = Path(tmp) / "variants.json", Path(tmp) / "out.npz"
            files = {}
            for i, (name, frame) in enumerate(variants.items()):
                files[name] = str(Path(tmp) / f"{i}.arrow")  # a scenario's name may be no file
                frame.select(names).write_ipc(files[name])
            manifest.write_text(json.dumps(files), encoding="utf-8")
            self._run(str(self.path), str(manifest), str(outputs))
            return self._read(outputs, list(variants))

    def _read(self, outputs: Path, names: list[str]) -> dict[str, Scores]:
        with np.load(outputs, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
            self.kind = meta["kind"]
            self.text_inputs = meta.get("text")
            out: dict[str, Scores] = {}
            for name in names:
                if name in meta["errors"]:
                    out[name] = ModelFailure(meta["errors"][name])
                else:
                    out[name] = np.asarray(data[name], np.float64)
            return out
