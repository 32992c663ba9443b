"""Predictions mode: scores computed elsewhere on exported blind sets, read back here.

``--export-blind-sets DIR`` writes ``DIR/<variant>.parquet`` (``row_id`` + features); the
user scores each file with the model wherever it runs and saves ``row_id`` and ``score``
under the same stem (``<variant>.parquet`` or ``.csv``), then passes the files with
``--predictions``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from privdiag.errors import InputError, UsageError
from privdiag.model.blindset import ROW_ID, read_table
from privdiag.model.loading import Scorer, Scores

MAX_LISTED = 20  # scenario names listed in an error; one mask_ scenario per feature


class PredictionsScorer(Scorer):
    """Scores read from files, one per variant, matched by file stem."""

    def __init__(self, files: list[Path]) -> None:
        super().__init__(files[0] if files else Path("."), format="predictions")
        for path in files:
            if not path.is_file():
                raise InputError("file not found", path=path, hint="check the --predictions path")
        self.files = {f.name.split(".")[0]: f for f in files}
        self.rows: dict[Path, int] = {}  # rows read from each file, once scored

    def score_many(self, variants: dict[str, pl.DataFrame]) -> dict[str, Scores]:
        """Return the scores of every variant that has a file; ``None`` for the others.

        Raises UsageError for a file whose name matches no variant: its scores would be
        left out without a word.
        """
        self._check_names(variants)
        out: dict[str, Scores] = {}
        for name, frame in variants.items():
            out[name] = self._read(self.files[name], frame) if name in self.files else None
        scored = [v for v in out.values() if isinstance(v, np.ndarray) and v.size]
        if self.kind is None and scored:
            inside = all(np.nanmin(v) >= 0.0 and np.nanmax(v) <= 1.0 for v in scored)
            self.kind = "classifier" if inside else "regressor"
        return out

    def _check_names(self, variants: dict[str, pl.DataFrame]) -> None:
        names = list(variants)
        listed = ", ".join(names[:MAX_LISTED])
        if len(names) > MAX_LISTED:
            listed += f", ... ({len(names)} in all)"
        for stem, path in self.files.items():
            if stem not in variants:
                raise UsageError(
                    f"--predictions {path}: its name {stem!r} matches no scenario; "
                    f"the scenarios are {listed}",
                    hint="name each file after the scenario it scores, as --export-blind-sets "
                    "names its files: <scenario>.parquet or <scenario>.csv",
                )

    def _read(self, path: Path, frame: pl.DataFrame) -> np.ndarray:
        table = read_table(path)
        self.rows[path] = table.height
        missing = {ROW_ID, "score"} - set(table.columns)
        if missing:
            raise InputError(
                f"lacks column(s) {', '.join(sorted(missing))}",
                path=path,
                hint="write one row per row_id with its score",
            )
        joined = frame.select(ROW_ID).join(
            table.select(pl.col(ROW_ID).cast(pl.Int64), pl.col("score").cast(pl.Float64)),
            on=ROW_ID,
            how="left",
            maintain_order="left",
        )
        scores = joined["score"].to_numpy()
        if np.isnan(scores).all():
            raise InputError("no row_id matches the exported blind set", path=path, field=ROW_ID)
        return scores
