"""Load a saved model and score blind sets with it, whatever it was saved as.

A scorer turns named blind-set variants (scenario name -> frame) into one score per row:
the probability of the positive class for a classifier, the value for a regressor. A model
that raises on a variant gives a :class:`ModelFailure` for it instead of a score vector, so
one failing scenario never stops the others. ``None`` means the variant was not scored
(predictions mode without a file for it).

This module holds the base scorer, the ONNX scorer and :func:`load_scorer`; a skops model's
scorer and the scikit-learn helpers it shares with the pickle worker are in
:mod:`privdiag.model.sklearn_scorer`, pickles in :mod:`privdiag.model.pickled`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from privdiag.errors import InputError, UsageError
from privdiag.model.blindset import TEXT_TYPES

log = logging.getLogger(__name__)

BATCH_ROWS = 65536
ONNX_SUFFIXES = {".onnx"}
SKOPS_SUFFIXES = {".skops"}
PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib"}
POSITIVE_KEYS = (1, True, "1", "true", "True", "yes", "positive")


@dataclass
class ModelFailure:
    """The model raised, or could not be fed, on one variant."""

    message: str


Scores = np.ndarray | ModelFailure | None
# scikit-learn quotes the text it could not read as a number: a value from the data
_UNREAD_TEXT = re.compile(r"(could not convert string to float): .*$", re.MULTILINE)


def failure(exc: BaseException) -> ModelFailure:
    """Return the failure of a model that raised: the error's type and message, without the
    text value scikit-learn quotes when it expected a number, cut to 300 characters."""
    return ModelFailure(_UNREAD_TEXT.sub(r"\1", f"{type(exc).__name__}: {exc}".strip())[:300])


@dataclass
class Scorer:
    """Base scorer: subclasses set ``kind`` and ``feature_names`` and implement ``_score``."""

    path: Path
    kind: str | None = None  # "classifier" or "regressor"; known once scored at the latest
    feature_names: list[str] | None = None
    format: str = "model"
    notes: list[str] = field(default_factory=list)
    width: int | None = None  # number of inputs the model expects, when it says
    # inputs a fitted encoder of the model learnt as text (scikit-learn models), when known
    text_inputs: list[str] | None = None

    def score_many(self, variants: dict[str, pl.DataFrame]) -> dict[str, Scores]:
        """Return scores per variant; failures are returned, not raised."""
        out: dict[str, Scores] = {}
        for name, frame in variants.items():
            try:
                out[name] = self._score(frame)
            except InputError as exc:  # the model's outputs are no binary classifier's
                if exc.path is not None:
                    raise
                raise InputError(exc.message, path=self.path, hint=exc.hint) from None
            except Exception as exc:  # noqa: BLE001 - any runtime error of a foreign model
                out[name] = failure(exc)
        return out

    def _score(self, frame: pl.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def refuse_default(self, feature: str, value: Any) -> str | None:
        """Why the model cannot take ``value`` in place of ``feature``'s masked cells; None
        when it can, or when that is known only by scoring."""
        return None

    def string_inputs(self) -> list[str]:
        """The features fed to the model as text whatever the blind set's column holds (an
        ONNX string tensor: a number is fed as polars writes it, 1.0 as "1.0")."""
        return []


def _matrix(frame: pl.DataFrame, names: list[str], dtype: Any) -> np.ndarray:
    """Return the named columns as a 2-D array for an ONNX tensor of ``dtype``; a missing
    value is NaN in a float tensor and '' in a string tensor, which has no missing value.

    An integer or boolean tensor has no missing value either, and a fraction would be cut:
    either raises ValueError naming the columns (a masked input then fails its scenario, as
    a model that cannot take a missing value does), never a number cast from NaN.
    """
    if dtype is object:
        return frame.select([pl.col(n).cast(pl.String).fill_null("") for n in names]).to_numpy()
    refuse_no_numbers(frame, names)
    values = frame.select([pl.col(n).cast(pl.Float64) for n in names]).to_numpy()
    if dtype in (np.float16, np.float32):  # cast, a value past the type's range reads as inf
        high = float(np.finfo(dtype).max)
        far = [np.isfinite(c) & (np.abs(c) > high) for c in values.T]  # not inf as given
        beyond = [n for n, f in zip(names, far, strict=True) if f.any()]
        if beyond:
            width = np.dtype(dtype).name
            raise ValueError(
                f"the model takes {', '.join(beyond)} as a {width} tensor, but the column "
                f"holds values outside {-high:,.7g} to {high:,.7g}"
            )
    if np.issubdtype(dtype, np.floating):
        return values.astype(dtype)
    what = "a boolean" if dtype is np.bool_ else "an integer"
    missing = [n for n, column in zip(names, values.T, strict=True) if np.isnan(column).any()]
    if missing:
        raise ValueError(
            f"the model takes {', '.join(missing)} as {what} tensor, which holds no missing "
            "value: give it a default ([features.X] default) or impute it in the model"
        )
    fits = (lambda c: np.isin(c, (0.0, 1.0))) if dtype is np.bool_ else (lambda c: c % 1 == 0)
    unfit = [n for n, column in zip(names, values.T, strict=True) if not fits(column).all()]
    if unfit:
        raise ValueError(
            f"the model takes {', '.join(unfit)} as {what} tensor, but the column holds "
            f"values that are not {'0 or 1' if dtype is np.bool_ else 'whole numbers'}"
        )
    if dtype is not np.bool_:  # cast, a value past the type's range wraps round (300: 44)
        info = np.iinfo(dtype)
        # high + 1 is exact as a float where int64's high is not (2**63 rounds up to it)
        outside = [
            n
            for n, column in zip(names, values.T, strict=True)
            if ((column < info.min) | (column >= float(info.max + 1))).any()
        ]
        if outside:
            raise ValueError(
                f"the model takes {', '.join(outside)} as an integer tensor ({info.dtype}), "
                f"but the column holds values outside {info.min:,} to {info.max:,}"
            )
    return values.astype(dtype)


def refuse_no_numbers(frame: pl.DataFrame, names: list[str]) -> None:
    """Raise ValueError naming the columns of ``names`` that a model taking numbers cannot be
    given: dates or times (cast, 2026-01-01 reached the model as 20,454, days since 1970,
    unsaid) and bytes (polars' "casting from BinaryView to Float64 not supported"). Text is
    left to the cast, as a number written as text reads as one."""
    dated = [n for n in names if frame.schema[n].is_temporal()]
    if dated:
        raise ValueError(
            f"the model takes {', '.join(dated)} as numbers, but the column holds dates or "
            "times, which would reach it as a count of days or microseconds since 1970; "
            "write the number the model learnt (days since an event, an hour of the day)"
        )
    fits = (*CASTS, *TEXT_TYPES)
    unread = [n for n in names if not (frame.schema[n].is_numeric() or frame.schema[n] in fits)]
    if unread:
        kinds = sorted({str(frame.schema[n]) for n in unread})
        raise ValueError(
            f"the model takes {', '.join(unread)} as numbers, but the column holds values of "
            f"type {', '.join(kinds)}, which are no numbers"
        )


def _refuse_words(frame: pl.DataFrame, names: list[str]) -> None:
    """Raise ValueError naming the first row of a text column of ``names`` (inputs the model
    takes as numbers) that holds no number: the cast's own error named no row ("conversion
    from `str` to `f64` failed in column 'x' for 1 out of 400 values"). The value is
    described, not shown (it may be an identifier)."""
    from privdiag.privacy import describe_value

    for name in names:
        column = frame[name]
        if column.dtype not in TEXT_TYPES:
            continue
        bad = (column.is_not_null() & column.cast(pl.Float64, strict=False).is_null()).arg_true()
        if bad.len():
            more = f" ({bad.len():,} rows in all)" if bad.len() > 1 else ""
            raise ValueError(
                f"the model takes {name} as numbers, but row {int(bad[0]) + 1} holds "
                f"{describe_value(column[int(bad[0])])}, which is no number{more}; write it "
                "empty where it is missing"
            )


# The variants read from a file; every other one masks cells of the unmasked blind set.
READ_SETS = ("unmasked", "reference")

# Column types that are no numbers but cast to them as a model takes them (text is cast too:
# "1.5" reads as a number, and a word fails as it did).
CASTS = (pl.Boolean, pl.Null)

ONNX_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint64)": np.uint64,
    "tensor(uint32)": np.uint32,
    "tensor(uint16)": np.uint16,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}


def _refuse_no_probabilities(value: np.ndarray) -> None:
    """Raise ValueError when one output of several columns is no class probabilities (a
    softmax's row sums to 1): a regressor of two targets was taken for a classifier and
    refused as "probabilities outside 0 to 1"."""
    finite = np.isfinite(value).all(axis=1)
    rows = value[finite]
    if ((rows < 0) | (rows > 1)).any() or (np.abs(rows.sum(axis=1) - 1) > 1e-3).any():
        raise ValueError(
            f"the model's one output gives {value.shape[1]} values a row that are no class "
            "probabilities (they do not sum to 1): model-check takes one score a row, a "
            "classifier's probabilities or a regressor's one target"
        )


def _positive_key(keys: list[Any]) -> Any:
    """Return the class of a ZipMap's ``keys`` whose probability is class 1's: 1, true or
    yes. Raises InputError for more than two classes, and for two of which none says so
    (`churn` and `stay`: the last by name was taken, P(stay) read as P(churn))."""
    if len(keys) > 2:
        raise InputError("multi-class models are not supported", hint="export a binary model")
    key = next((k for k in POSITIVE_KEYS if k in keys), None)
    if key is None and len(keys) == 2:
        named = " and ".join(repr(str(k)) for k in sorted(keys, key=str))
        raise InputError(
            f"its classes are {named}: which is class 1 of the blind set's 0/1 label cannot "
            "be told",
            hint="export the classifier trained on a 0/1 (or false/true, no/yes) label",
        )
    return key if key is not None else keys[-1]


def _positive_column(value: Any) -> np.ndarray:
    """Return class-1 probabilities from a [n, 2] tensor or a ZipMap list of dicts."""
    if isinstance(value, list):
        key = _positive_key(list(value[0]) if value else [1])
        # ZipMap output is a Python list of dicts; onnxruntime gives no array form of it.
        return np.fromiter((row[key] for row in value), dtype=np.float64, count=len(value))
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] > 2:
        raise InputError("multi-class models are not supported", hint="export a binary model")
    return arr[:, -1] if arr.ndim == 2 else arr


def _probabilities(outputs: list[Any]) -> str:
    """Return the name of a classifier's probabilities among its outputs: the second, as
    skl2onnx writes them after the label, unless it is no probabilities (an integer label)
    and another output is (a ZipMap, or a float tensor of two columns)."""

    def probabilities(output: Any) -> bool:
        two = bool(output.shape) and output.shape[-1] == 2
        floats = output.type in ("tensor(float)", "tensor(double)")
        return output.type.startswith("seq(map(") or (floats and two)

    if probabilities(outputs[1]) or not any(probabilities(o) for o in outputs):
        return outputs[1].name
    return next(o.name for o in outputs if probabilities(o))


# Where a model of one input without names in its metadata has its features named.
CONFIG_FEATURES = "the config's [models.NAME] features"


def _row_width(tensor: Any) -> Any:
    """The features a row of an ONNX input ``tensor`` holds: its last dimension, 1 for an
    input of rank 1, the product of the others past the rows for an input of rank 3 or more
    (each of them a number, :func:`_refuse_several_vectors`); a free one's name or None."""
    shape = list(tensor.shape or ())
    if len(shape) <= 2:
        return shape[-1] if len(shape) == 2 else 1
    return int(np.prod(shape[1:]))


def _refuse_several_vectors(tensor: Any, path: Path) -> None:
    """Raise InputError for an input of rank 3 or more whose rows are not one vector each:
    a dimension past the rows free ([N, T, F], a sequence of any length) or two of them
    above 1 ([N, 2, F]). One row of the blind set is one vector of features; which of its
    values would go where in a grid of them cannot be told."""
    dims = list(tensor.shape or ())[1:]
    if len(dims) < 2:
        return
    fixed = [d for d in dims if isinstance(d, int) and d > 0]
    if len(fixed) == len(dims) and sum(d > 1 for d in fixed) <= 1:
        return
    shape = ", ".join(str(d) if d is not None else "?" for d in ["N", *dims])
    raise InputError(
        f"its input {tensor.name} is a tensor of shape [{shape}]: privdiag gives a model one "
        "vector of features a row, as [rows, features] or with the other dimensions 1 "
        "([rows, 1, features])",
        path=path,
        hint="export the model with an input of one vector a row, e.g. a reshape to "
        "[rows, 1, features] inside the graph",
    )


class OnnxScorer(Scorer):
    """An ONNX model run with onnxruntime on the CPU, in batches."""

    def __init__(self, path: Path, config_features: list[str] | None = None) -> None:
        super().__init__(path, format="onnx")
        import onnxruntime as ort

        # onnxruntime's own warnings (an unused initializer, ...) went to stderr in colour
        # codes, amid the summary and a CI log; its errors still reach the user as failures
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own unexported types
            raise InputError(f"not a readable ONNX model: {exc}", path=path) from exc
        self.inputs = self.session.get_inputs()
        if not self.inputs:  # _names read the first input's shape: an IndexError, exit 5
            raise InputError(
                "takes no input: its scores are the same whatever consent removes",
                path=path,
                hint="check that the file is the trained model, exported with its inputs",
            )
        for i in self.inputs:
            _refuse_several_vectors(i, path)
        outputs = self.session.get_outputs()
        self.kind = "classifier" if len(outputs) >= 2 else "regressor"
        # one output says not whether it is a probability or a number: decided by its scores
        # and the label (privdiag.model.guards.one_output_kind)
        self.one_output = outputs[0] if len(outputs) == 1 else None
        self.output = _probabilities(outputs) if self.kind == "classifier" else outputs[0].name
        self.feature_names = self._names(config_features)
        # a batch of fixed size: the same graph taking any rows, tried on the first rows scored
        self._free = self._free_batch(path) if self._fixed_rows() else None

    def _names(self, config_features: list[str] | None) -> list[str]:
        if len(self.inputs) > 1:
            return [i.name for i in self.inputs]
        meta = self.session.get_modelmeta().custom_metadata_map.get("feature_names")
        names = [n.strip() for n in meta.split(",")] if meta else config_features
        width = _row_width(self.inputs[0])
        if names is None and width == 1:
            return [self.inputs[0].name]
        if names and isinstance(width, int) and len(names) != width:
            named = "its metadata's feature_names" if meta else CONFIG_FEATURES
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise InputError(
                f"the model takes one tensor of {width} features, but {named} names "
                f"{len(names)} ({shown})",
                path=self.path,
                hint=f"name the {width} features of its input, in input order, in {named}",
            )
        if not names:
            raise InputError(
                f"the model takes one tensor of {width} features but their names are unknown",
                path=self.path,
                hint="set feature_names in the model metadata, or list them in "
                "[models.NAME] features = [...] in the config",
            )
        return names

    def _feeds(self, frame: pl.DataFrame) -> dict[str, np.ndarray]:
        def feed(i: Any, names: list[str]) -> np.ndarray:
            matrix = _matrix(frame, names, ONNX_TYPES.get(i.type, np.float32))
            # an input of rank 1 ([N], as a hand-written or traced graph may take a column)
            if len(i.shape or ()) == 1 and len(names) == 1:
                return matrix.reshape(-1)
            # of rank 3 or more, each row one vector ([N, 1, F]): checked when loaded
            return matrix.reshape(-1, *i.shape[1:]) if len(i.shape or ()) > 2 else matrix

        if len(self.inputs) == 1:
            return {self.inputs[0].name: feed(self.inputs[0], self.feature_names or [])}
        return {i.name: feed(i, [i.name]) for i in self.inputs}

    def _fixed_rows(self) -> int | None:
        """The rows of every batch when the model fixes them (an export with a batch size
        of 1, as PyTorch's tracing writes by default), else None: any count goes."""
        firsts = {i.shape[0] if i.shape else None for i in self.inputs}
        fixed = firsts.pop() if len(firsts) == 1 else None
        return fixed if isinstance(fixed, int) and fixed > 0 else None

    def _free_batch(self, path: Path) -> Any:
        """Return a session of the model rewritten to take batches of any size
        (:mod:`privdiag.model.onnx_batch`), or None when it cannot be made."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 4  # its failure on the first rows is expected, unsaid

        from privdiag.model.onnx_batch import free_batch

        try:
            model = free_batch(path.read_bytes())
            if model is None:
                return None
            return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001 - NotAModel, OSError, onnxruntime's own types
            return None

    def _take_free_batch(self, frame: pl.DataFrame) -> None:
        """Score the first rows of ``frame`` with the model as given (batches of its fixed
        size) and rewritten (one batch); keep the rewritten one when it scores them alike,
        so that a blind set of a million rows is not a million runs of a batch of 1."""
        free, self._free = self._free, None
        sample = frame.head(min(frame.height, 2 * (self._fixed_rows() or 1) + 3))
        if sample.height < 2:
            self._free = free  # nothing to compare yet
            return
        given = self.session
        try:
            fixed = self._run(given, sample)
            self.session, self.inputs = free, free.get_inputs()
            anyhow = self._run(free, sample)
            same = np.allclose(anyhow, fixed, rtol=1e-5, atol=1e-6, equal_nan=True)
        except Exception:  # noqa: BLE001 - any failure keeps the model as given
            same = False
        if not same:
            self.session, self.inputs = given, given.get_inputs()

    def refuse_default(self, feature: str, value: Any) -> str | None:
        """Why the input tensor of ``feature`` cannot hold ``value`` (1e39 in a float32, 1.5
        in an int64); None when it can. A masked scenario failed on it, which read as the
        model's failure on a missing value."""
        one = len(self.inputs) == 1
        tensor = self.inputs[0] if one else next(i for i in self.inputs if i.name == feature)
        dtype = ONNX_TYPES.get(tensor.type, np.float32)
        given = pl.DataFrame({feature: [value]})
        words = dtype is not object and isinstance(value, str)
        if words and given[feature].cast(pl.Float64, strict=False).is_null()[0]:
            # a word: the cast to the tensor raised polars' own error, an internal error
            return f"the model takes {feature} as numbers, and {value!r} is no number"
        try:
            _matrix(given, [feature], dtype)
        except ValueError as exc:
            return str(exc)
        return None

    def score_many(self, variants: dict[str, pl.DataFrame]) -> dict[str, Scores]:
        """Return scores per variant, the words in text columns the model takes as numbers
        refused (:func:`_refuse_words`) once a set read: a scenario only masks cells of the
        unmasked blind set (missing, or a default :meth:`refuse_default` took), so once that
        holds no word its scenarios are not cast again. Until then, and for another set
        read (the reference), each variant is checked, a failure of its own."""
        taken = self._number_inputs()
        failed: dict[str, Scores] = {}
        clean = False  # the unmasked set holds no word
        for name, frame in variants.items():
            if clean and name not in READ_SETS:
                continue
            try:
                _refuse_words(frame, taken)
            except ValueError as exc:
                failed[name] = failure(exc)
                continue
            clean = clean or name == "unmasked"
        scored = super().score_many({n: f for n, f in variants.items() if n not in failed})
        return {n: failed[n] if n in failed else scored[n] for n in variants}

    def _number_inputs(self) -> list[str]:
        """The features the model takes as numbers (every input but a string tensor)."""
        return [n for n, t in self._input_types().items() if ONNX_TYPES.get(t) is not object]

    def string_inputs(self) -> list[str]:
        return [n for n, t in self._input_types().items() if ONNX_TYPES.get(t) is object]

    def _input_types(self) -> dict[str, str]:
        """The ONNX type of the tensor each feature is fed in."""
        if len(self.inputs) == 1:
            return {n: self.inputs[0].type for n in self.feature_names or []}
        return {i.name: i.type for i in self.inputs}

    def _score(self, frame: pl.DataFrame) -> np.ndarray:
        if self._free is not None:
            self._take_free_batch(frame)
        return self._run(self.session, frame)

    def _run(self, session: Any, frame: pl.DataFrame) -> np.ndarray:
        fixed = self._fixed_rows()
        rows = fixed or BATCH_ROWS
        parts = []
        for start in range(0, frame.height, rows):
            feeds = self._feeds(frame.slice(start, rows))
            size = next(iter(feeds.values())).shape[0]
            if fixed and size < fixed:  # the last batch, filled up with its last row
                feeds = {
                    k: np.concatenate([v, np.repeat(v[-1:], fixed - size, 0)])
                    for k, v in feeds.items()
                }
            value = session.run([self.output], feeds)[0]
            if self.one_output is not None and np.ndim(value) == 2 and np.shape(value)[1] > 1:
                _refuse_no_probabilities(np.asarray(value, np.float64))
                self.kind = "classifier"  # its one output is class probabilities (a softmax)
            scores = (
                _positive_column(value)
                if self.kind == "classifier"
                else np.asarray(value, np.float64).reshape(-1)
            )
            if scores.size != (fixed or size):
                raise ValueError(f"the model gave {scores.size:,} scores for {size:,} rows")
            parts.append(scores[:size])
        return np.concatenate(parts) if parts else np.zeros(0)


def is_text(dtype: pl.DataType) -> bool:
    """True for a text column (strings, categoricals): a categorical input of the model."""
    return dtype in TEXT_TYPES


def load_scorer(
    path: Path,
    *,
    allow_pickle: bool = False,
    trusted: list[str] | None = None,
    config_features: list[str] | None = None,
) -> Scorer:
    """Return the scorer for a model file, chosen by its suffix.

    Raises InputError for an unknown suffix or an untrusted skops file, UsageError for a
    pickle without ``allow_pickle``.
    """
    from privdiag.ingest.files import check_regular_file

    if not path.exists():
        raise InputError("file not found", path=path, hint="check the model path")
    check_regular_file(path, hint="give the model file (.onnx or .skops)")
    suffix = path.suffix.lower()
    if suffix in ONNX_SUFFIXES:
        return OnnxScorer(path, config_features)
    if suffix in SKOPS_SUFFIXES:
        from privdiag.model.sklearn_scorer import SkopsScorer

        return SkopsScorer(path, trusted, config_features)
    if suffix in PICKLE_SUFFIXES:
        if not allow_pickle:
            # the file may be fine: loading it is the user's choice, so a usage error (exit 2)
            raise UsageError(
                f"{path}: pickle and joblib files can run any code when loaded; refused "
                "without --allow-pickle",
                hint="pass --allow-pickle if you trust the file (it is loaded in a separate "
                "process), or save the model with skops or ONNX",
            )
        from privdiag.model.pickled import PickleScorer

        log.warning(
            "loading %s with pickle in a separate process: only do this for files you trust", path
        )
        return PickleScorer(path, config_features)
    raise InputError(
        "unsupported model format",
        path=path,
        hint="give a .onnx or .skops file, or score the blind sets yourself with "
        "--export-blind-sets DIR and --predictions FILE...",
    )
