"""Guards of a model check's inputs and scores: what makes a blind set, a reference, an
export folder or a model's scores unfit to measure, refused before any finding is made, and
the roundings of a classifier's probabilities that are taken as they are meant."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from privdiag.errors import InputError, UsageError
from privdiag.model import blindset
from privdiag.model.loading import ModelFailure

# What onnxruntime says of an input the blind set does not fit, with no value from the data.
ORT_INPUT_ERRORS = (
    r"(Invalid rank for input|Unexpected input data type|Got invalid dimensions for input)"
    r"[\w\s:(),.\[\]-]*?(?= Please fix|$)"
)


def require_unmasked(
    scores: dict[str, Any], model: Path, text: list[str], numbers: list[str]
) -> None:
    """Raise InputError when the model cannot score even the complete blind set: its inputs
    do not fit the data (types, shapes) or the file is not a model; findings would be empty.
    ``text`` are the features whose columns hold text, ``numbers`` those holding numbers
    where the model learnt text, named in the hint."""

    value = scores.get("unmasked")
    if isinstance(value, ModelFailure):
        message = re.sub(r":?\s*\[.*$", "", value.message, flags=re.S)  # no data values
        # onnxruntime's words on an input's rank, type or shape name only the model's inputs
        said = re.search(ORT_INPUT_ERRORS, value.message)
        message += f" ({said.group(0).strip()})" if said else ""
        held = f"; the blind set holds text in {', '.join(text)}" if text else ""
        if numbers:
            held += f"; the model learnt {', '.join(numbers)} as text, the blind set holds numbers"
        raise InputError(
            f"cannot score the blind set as given: {message}",
            path=model,
            hint="check that the blind set's columns have the types the model takes "
            f"(numbers for numeric inputs{held}), and that the file is the trained model",
        )


# How far a probability may stray outside 0 to 1 by rounding: a tree ensemble's class
# probability is a float32 sum of its trees' shares, and may read 1.0000001.
ROUNDING = 1e-6


def snapped(scores: Any) -> Any:
    """Return a classifier's scores with a probability a rounding past 0 or 1 set to it;
    other values (and failures) as they are, for :func:`check_unmasked` to judge."""
    if not isinstance(scores, np.ndarray):
        return scores
    scores = np.where((scores > 1) & (scores <= 1 + ROUNDING), 1.0, scores)
    return np.where((scores < 0) & (scores >= -ROUNDING), 0.0, scores)


def not_finite(scores: np.ndarray) -> str:
    """Say what a variant's scores hold that is no score: NaN, infinite values or both."""
    kinds = [w for w, bad in (("NaN", np.isnan), ("infinite", np.isinf)) if bad(scores).any()]
    return f"scores are {' or '.join(kinds)}"


def check_unmasked(
    ctx: Any, frame: pl.DataFrame, model: Path, kind: str | None, *, read: bool = False
) -> None:
    """Raise InputError when the model's scores of the complete blind set are no scores: an
    infinite value, NaN on a row holding every input, or a classifier's probability outside
    0 to 1 (a logit or a decision function read as one); rows are counted, never quoted.
    NaN on a row that misses an input is the model not taking a missing value: noted.
    With ``read``, the scores were read from ``model``, a predictions file, whose rows the
    error names by their ``row_id``."""
    scores = ctx.scores.get("unmasked")
    if not isinstance(scores, np.ndarray) or scores.size != frame.height:
        return
    # a row misses an input where a cell is null, or NaN (a float column may hold either)
    missing = [
        pl.col(f).is_null() | (pl.col(f).is_nan() if frame.schema[f].is_float() else False)
        for f in ctx.features
    ]
    complete = ~frame.select(pl.any_horizontal(missing or [False])).to_series().to_numpy()
    n = f"of the blind set's {frame.height:,} rows"
    checks = [
        (
            np.isinf(scores),
            f"the model gives an infinite score to {{}} {n}",
            "a model that divides by or takes the logarithm of an input needs a guard",
        ),
        (
            np.isnan(scores) & complete,
            f"the model gives NaN to {{}} {n}, though they hold every input",
            "check the model: it should score every complete row",
        ),
    ]
    if kind == "classifier":
        checks.append(
            (
                np.isfinite(scores) & ((scores < 0) | (scores > 1)),
                f"the model's probability of class 1 is outside 0 to 1 on {{}} {n}",
                "a classifier's score is its probability of class 1 (an ONNX classifier's "
                "second output is read as its probabilities): export it so, not a logit, a "
                "decision function or a percentage",
            )
        )
    for bad, message, hint in checks:
        rows = np.flatnonzero(bad)
        if rows.size:
            first = (
                f"row_id {frame[blindset.ROW_ID][int(rows[0])]}" if read else f"row {rows[0] + 1:,}"
            )
            raise InputError(
                f"{message.format(f'{rows.size:,}')} (the first: {first})",
                path=model,
                hint=hint,
            )
    nan = int(np.isnan(scores).sum())
    if nan:
        ctx.result.note(
            f"the model gives NaN on {nan:,} rows of the blind set that miss an input, so "
            "the blind set as given could not be scored: the model takes no missing value"
        )


def numbered(frame: pl.DataFrame, path: Path, features: list[str]) -> pl.DataFrame:
    """Return ``frame`` with its rows numbered from 0 in ``row_id``, in place of a column of
    that name the file holds (an export's own row id, which no feature is: it clashed, an
    internal error). InputError when the model takes ``row_id`` as an input."""
    row_id = blindset.ROW_ID
    if row_id in features:
        raise InputError(
            f"the model takes {row_id} as an input, the name privdiag numbers the blind set's "
            "rows by (for --export-blind-sets and --predictions)",
            path=path,
            field=row_id,
            hint=f"rename the model's input and the column (a {row_id} is no feature)",
        )
    numbered = frame.drop(row_id, strict=False).with_row_index(row_id)
    return numbered.with_columns(pl.col(row_id).cast(pl.Int64))


def own_row_id_note() -> str:
    """What becomes of a blind set's own row_id column where rows are numbered."""
    return (
        f"the blind set's own {blindset.ROW_ID} column is not the {blindset.ROW_ID} of the "
        f"exported blind sets and predictions files: there {blindset.ROW_ID} numbers the "
        "blind set's rows from 0 in file order, so match those files to your rows by that "
        f"number (row position), not by your own {blindset.ROW_ID}"
    )


def export_apart(folder: Path, variants: dict[str, pl.DataFrame], inputs: list[Any]) -> None:
    """Raise UsageError when a blind set ``--export-blind-sets`` would write is a file the run
    reads (a blind set or reference named ``unmasked.parquet`` in that folder was replaced by
    the export, its labels lost), or two scenarios would write one file (features ``a/b``
    and ``a_b`` both give ``mask_a_b``)."""
    from privdiag.output import check_apart

    files = {
        f"--export-blind-sets ({name})": str(folder / f"{blindset.file_stem(name)}.parquet")
        for name in variants
    }
    try:
        check_apart(files, inputs)
    except UsageError as exc:  # its hint (another name) is no choice here: the names are fixed
        raise UsageError(
            exc.message, hint="export into another folder, or move the input out of it"
        ) from None


def enough_rows(rows: int, k: int, blind_set: Path) -> None:
    """Raise InputError for a blind set of fewer rows than ``min_group_size``: its measures
    describe those few persons (on one row the Brier score is its (score - label)^2), and a
    bootstrap of one row has no spread, so its changes all read as significant."""
    if rows < k:
        raise InputError(
            f"holds {rows:,} row(s), fewer than min_group_size ({k}): a model's measures on so "
            "few rows would tell those persons' labels and scores",
            path=blind_set,
            hint=f"give a blind set of {k} rows or more (hundreds give intervals worth reading)",
        )


# An output of these types is a label (a class), no score.
LABEL_OUTPUTS = ("tensor(bool)", "tensor(int64)", "tensor(int32)", "tensor(int8)", "tensor(uint8)")


def one_output_kind(ctx: Any, scorer: Any, model: Path, binary: bool) -> str:
    """Return the kind of an ONNX model of one output of one column beside a 0/1 label, whose
    output says not which it is (a Keras or PyTorch binary classifier ends in one sigmoid):
    a classifier when its scores of the complete blind set lie in 0 to 1, else a regressor,
    with a note either way. An output of whole numbers or booleans is a label, no score:
    refused, and so is a float output holding nothing but 0 and 1 (a label cast to float, a
    network ending in a threshold). Any other model keeps ``ctx.kind``."""
    output = getattr(scorer, "one_output", None)
    if output is None or ctx.kind != "regressor" or not binary:
        return ctx.kind
    scores = ctx.scores["unmasked"]
    finite = scores[np.isfinite(scores)]
    only_labels = bool(finite.size) and bool(np.isin(finite, (0.0, 1.0)).all())
    if output.type in LABEL_OUTPUTS or only_labels:
        held = " holding only 0 and 1" if output.type not in LABEL_OUTPUTS else ""
        raise InputError(
            f"the model's one output, {output.name} ({output.type}){held}, is a predicted "
            "label, no probability: a label cannot show how the model's confidence degrades",
            path=model,
            hint="export the classifier with its probabilities (skl2onnx writes a label and "
            "the probabilities; a network, the sigmoid of its last layer)",
        )
    if finite.size and finite.min() >= 0.0 and finite.max() <= 1.0:
        ctx.result.note(
            f"the model has one output ({output.name}) and the label is 0/1: its scores of the "
            "complete blind set lie in 0 to 1, so they were read as the probability of class "
            "1 and the model checked as a classifier (ROC AUC, calibration)"
        )
        return "classifier"
    ctx.result.note(
        f"the model has one output ({output.name}) and the label is 0/1, but its scores leave "
        "0 to 1, so it was checked as a regressor (RMSE, MAE); if it is a classifier, export "
        "its probability of class 1 (the sigmoid of a logit), not the logit"
    )
    return "regressor"


# Labels beyond the far-out fences (Tukey's: FAR_OUT interquartile ranges past the
# quartiles) that are a few rows (at most FEW_ROWS of the blind set, one at the least) and
# hold more than DOMINANT of the unmasked scores' squared or absolute error make RMSE and
# MAE their figures: noted, not refused (a large label may be right).
FAR_OUT = 3.0
FEW_ROWS = 0.05
DOMINANT = 0.5


def far_labels(y: np.ndarray, scores: np.ndarray) -> str | None:
    """The note on a regressor's blind set whose few far-out labels hold most of the error of
    the unmasked ``scores`` (a basket value of 1e300 was all of RMSE and MAE, and no scenario
    could show a loss, unsaid); None when there are none. Rows are counted, their labels and
    row numbers never shown."""
    err = np.abs(scores - y)
    if not y.size or not np.isfinite(err).all() or err.max() <= 0:
        return None
    low, high = np.quantile(y, [0.25, 0.75])
    spread = FAR_OUT * (high - low)
    far = (y < low - spread) | (y > high + spread)
    count = int(far.sum())
    if not count or count > max(1, int(FEW_ROWS * y.size)):
        return None
    unit = err / err.max()  # relative to the largest, so that 1e300 squares to no inf
    squared = float((unit[far] ** 2).sum() / (unit**2).sum())
    absolute = float(unit[far].sum() / unit.sum())
    if max(squared, absolute) <= DOMINANT:
        return None
    rows = f"{count:,} rows of the blind set's {y.size:,} hold labels"
    theirs, labels, out = "those rows'", "those labels", "the rows"
    if count == 1:
        rows = f"1 row of the blind set's {y.size:,} holds a label"
        theirs, labels, out = "that row's", "that label", "the row"
    return (
        f"{rows} far outside the others (more than {FAR_OUT:g} interquartile ranges past the "
        f"quartiles) and {squared:.0%} of the unmasked scores' squared error ({absolute:.0%} "
        f"of their absolute error): RMSE and MAE, and each scenario's change in them, are "
        f"mostly {theirs}, so a loss on the others may not show; check {labels} (a typo, "
        f"another unit) or leave {out} out"
    )


def whole_floats_note(frame: pl.DataFrame, strings: list[str]) -> str | None:
    """The note on inputs the model takes as text (``strings``) whose blind-set column holds
    floats that are all whole: they reach it as "1.0", where it may have learnt "1" (pandas
    writes an integer column with a missing value as floats); None when there are none.
    Which text an ONNX model learnt is not in the file, so this is a note, no cast."""
    floats = [f for f in strings if f in frame.columns and frame.schema[f].is_float()]
    if not floats:
        return None
    finite = [pl.col(f).filter(pl.col(f).is_finite()) for f in floats]
    held = frame.select(
        [((c % 1 == 0).all() & (c.len() > 0)).alias(f) for f, c in zip(floats, finite, strict=True)]
    ).row(0)
    whole = [f for f, all_whole in zip(floats, held, strict=True) if all_whole]
    if not whole:
        return None
    return (
        f"the model takes {', '.join(whole)} as text (a string input), and the blind set holds "
        'numbers there with a decimal point, all whole: 1.0 reaches the model as "1.0", and '
        'if it learnt "1" every value is a category it has not seen; write the column as '
        "whole numbers (an integer column in Parquet, 1 not 1.0 in CSV) or as the text the "
        "model learnt"
    )
