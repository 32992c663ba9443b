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
from privdiag.ingest.files import check_regular_file
from privdiag.model.blindset import ROW_ID, TABLE_SUFFIXES, file_stem, read_table
from privdiag.model.loading import Scorer, Scores
from privdiag.privacy import describe_value

MAX_LISTED = 20  # scenario names listed in an error; one mask_ scenario per feature


# the endings read_table reads a file by, the longest first (.csv.gz before .csv)
_ENDINGS = sorted((e for ends in TABLE_SUFFIXES.values() for e in ends), key=len, reverse=True)


def scenario_of(path: Path) -> str:
    """Return the scenario a predictions file scores: its name without the table suffix, so
    that ``mask_page.cat.parquet`` (feature ``page.cat``) scores ``mask_page.cat``."""
    for suffix in _ENDINGS:
        if path.name.lower().endswith(suffix):
            return path.name[: -len(suffix)]
    return path.name


class PredictionsScorer(Scorer):
    """Scores read from files, one per variant, matched by file stem."""

    def __init__(self, files: list[Path]) -> None:
        super().__init__(files[0] if files else Path("."), format="predictions")
        self.files: dict[str, Path] = {}
        for path in files:
            if not path.exists():
                raise InputError("file not found", path=path, hint="check the --predictions path")
            check_regular_file(path, hint="give one CSV or Parquet file of scores per scenario")
            name = scenario_of(path)
            if name in self.files:
                raise UsageError(
                    f"--predictions {self.files[name]} and {path} both score scenario {name!r}",
                    hint="give one file per scenario",
                )
            self.files[name] = path
        self.rows: dict[Path, int] = {}  # rows read from each file, once scored
        self.outside: Path | None = None  # a file with a score outside 0 to 1, once scored

    def score_many(self, variants: dict[str, pl.DataFrame]) -> dict[str, Scores]:
        """Return the scores of every variant that has a file; ``None`` for the others.

        Raises UsageError for a file whose name matches no variant: its scores would be
        left out without a word.
        """
        self._check_names(variants)
        out: dict[str, Scores] = {}
        for name, frame in variants.items():
            path = self.files.get(file_stem(name))
            out[name] = self._read(path, frame) if path is not None else None
        scored = {n: v for n, v in out.items() if isinstance(v, np.ndarray) and v.size}
        outside = [n for n, v in scored.items() if np.nanmin(v) < 0.0 or np.nanmax(v) > 1.0]
        if outside:  # the first file whose scores are no probabilities, for the error
            self.outside = self.files[file_stem(outside[0])]
        if self.kind is None and scored:
            self.kind = "regressor" if outside else "classifier"
        return out

    def _check_names(self, variants: dict[str, pl.DataFrame]) -> None:
        names = list(variants)
        listed = ", ".join(names[:MAX_LISTED])
        if len(names) > MAX_LISTED:
            listed += f", ... ({len(names)} in all)"
        stems = {file_stem(name) for name in variants}
        if len(stems) < len(variants):
            raise UsageError(
                "two scenarios have the same file name once characters a file name cannot "
                "hold are replaced; rename the features (see --export-blind-sets)"
            )
        for stem, path in self.files.items():
            if stem not in stems:
                raise UsageError(
                    f"--predictions {path}: its name {stem!r} matches no scenario; "
                    f"the scenarios are {listed}",
                    hint="name each file after the scenario it scores, as --export-blind-sets "
                    "names its files: <scenario>.parquet or <scenario>.csv",
                )
        if "unmasked" in variants and "unmasked" not in self.files:
            given = ", ".join(str(p) for p in self.files.values())
            raise UsageError(
                f"--predictions has no file for the unmasked scenario (given: {given}); every "
                "scenario's quality drop is measured against the unmasked scores",
                hint="score unmasked.parquet of --export-blind-sets too and pass it as "
                "--predictions unmasked.csv (or .parquet)",
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
            _numbers(table, path),
            on=ROW_ID,
            how="left",
            maintain_order="left",
        )
        scores = joined["score"].to_numpy()
        if np.isnan(scores).all():
            raise InputError("no row_id matches the exported blind set", path=path, field=ROW_ID)
        _check_complete(frame, table, path)
        return scores


def _check_complete(frame: pl.DataFrame, table: pl.DataFrame, path: Path) -> None:
    """Raise InputError when row_ids of the exported blind set have no row in the file: the
    scenario would read as one the model could not score. An empty score is the model's
    failure on that row and stays a missing score."""
    absent = frame.select(ROW_ID).join(
        table.select(pl.col(ROW_ID).cast(pl.Int64, strict=False)), on=ROW_ID, how="anti"
    )
    if absent.height:
        raise InputError(
            f"has no row for {absent.height:,} of the {frame.height:,} row_ids of the exported "
            f"blind set (the first: row_id {absent[ROW_ID][0]})",
            path=path,
            field=ROW_ID,
            hint="score every row of the exported file and save one row per row_id",
        )


def _numbers(table: pl.DataFrame, path: Path) -> pl.DataFrame:
    """Return ``row_id`` (whole numbers) and ``score`` (numbers) of a predictions file.

    Raises InputError naming the first row whose value is not a number (rows count from 1,
    the header not counted), describing the value without quoting it.
    """
    ids = pl.col(ROW_ID)
    if table.schema[ROW_ID].is_float():  # 0.5 cast to 0: a fraction is no row_id
        ids = pl.when(ids % 1 == 0).then(ids)
    typed = table.select(
        ids.cast(pl.Int64, strict=False).alias(ROW_ID),
        pl.col("score").cast(pl.Float64, strict=False),
    )
    for column, kind in ((ROW_ID, "a whole number"), ("score", "a number")):
        bad = (table[column].is_not_null() & typed[column].is_null()).arg_true()
        if bad.len():
            row = int(bad[0])
            raise InputError(
                f"{describe_value(table[column][row])} is not {kind}",
                path=path,
                row=row + 1,
                field=column,
                hint="write one row per row_id with its score: a classifier's probability "
                "of class 1, else the prediction",
            )
    twice = (typed[ROW_ID].is_not_null() & typed[ROW_ID].is_duplicated()).arg_true()
    if twice.len():  # joined, each repeat added a score: "operands could not be broadcast"
        row = int(twice[0])
        raise InputError(
            f"holds row_id {typed[ROW_ID][row]} more than once ({twice.len():,} rows share "
            "a row_id)",
            path=path,
            field=ROW_ID,
            hint="write one row per row_id with its score",
        )
    return typed
