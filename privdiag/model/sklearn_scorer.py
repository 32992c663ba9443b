"""scikit-learn models: their inputs, scores and what their encoders learnt, and the scorer
of a model saved with skops.

The helpers serve the pickle worker too (:mod:`privdiag.model._pickle_worker`), which runs
them in a child process. Imported only when such a model is scored, so that neither skops
nor scikit-learn is loaded for an ONNX model or for ``privdiag --help``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from privdiag.errors import InputError
from privdiag.model.loading import Scorer, is_text, refuse_no_numbers

# Types outside skops' defaults that a plain scikit-learn pipeline stores and that are safe.
SKOPS_ALLOWED = {"numpy.dtype"}


def _sklearn_kind(model: Any) -> str:
    return "classifier" if hasattr(model, "predict_proba") else "regressor"


def _column(values: pl.Series) -> np.ndarray:
    """One input column as a scikit-learn model takes it: numbers as float64, text as Python
    strings (an object array); a missing value is NaN in both, as pandas reads an empty cell
    and as scikit-learn's imputers and encoders take a missing value by default."""
    if not is_text(values.dtype):
        return values.cast(pl.Float64).to_numpy()
    out = np.array(values.cast(pl.String).to_numpy(), dtype=object)
    out[values.is_null().to_numpy()] = np.nan
    return out


def sklearn_input(model: Any, frame: pl.DataFrame, names: list[str]) -> Any:
    """Return the columns ``names`` of ``frame`` as a fitted scikit-learn estimator takes them.

    A model fitted on a DataFrame (it has ``feature_names_in_``) gets one with those names:
    a ColumnTransformer that picks columns by name (a OneHotEncoder on the text columns, a
    scaler on the numbers) cannot take an array. pandas is not a dependency of privdiag:
    without it such a model gets the array, which every model but one picking columns by
    name takes (with a warning of scikit-learn's). The array is float64, or of objects when
    a column is text.
    """
    refuse_no_numbers(frame, [n for n in names if not is_text(frame.schema[n])])
    columns = [_column(frame[name]) for name in names]
    if getattr(model, "feature_names_in_", None) is not None:
        try:
            import pandas as pd
        except ImportError:
            pd = None
        if pd is not None:
            return pd.DataFrame(dict(zip(names, columns, strict=True)), columns=names)
    return np.column_stack(columns) if columns else np.empty((frame.height, 0))


def sklearn_scores(model: Any, x: Any) -> np.ndarray:
    """Return class-1 probabilities or predictions of a fitted scikit-learn estimator on
    ``x`` (from :func:`sklearn_input`)."""
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(x), np.float64)[:, -1]
    return np.asarray(model.predict(x), np.float64).reshape(-1)


def sklearn_inputs(model: Any) -> tuple[list[str] | None, int | None]:
    """Return the input names a fitted scikit-learn estimator records, and its input count."""
    names = getattr(model, "feature_names_in_", None)
    width = getattr(model, "n_features_in_", None)
    return (
        [str(n) for n in names] if names is not None else None,
        int(width) if width is not None else None,
    )


ENCODERS = ("OneHotEncoder", "OrdinalEncoder")


def _learnt_as_text(encoder: Any) -> list[bool]:
    """For each input of a fitted encoder, whether the categories it learnt are text."""
    return [
        any(isinstance(c, str) for c in np.asarray(cats, dtype=object).ravel())
        for cats in getattr(encoder, "categories_", [])
    ]


def _first_encoder(step: Any) -> Any:
    """The encoder a transformer (or a pipeline whose steps keep their columns, as an
    imputer does, before it) applies to its inputs, else None."""
    if type(step).__name__ in ENCODERS:
        return step
    for _, inner in getattr(step, "steps", []):
        if type(inner).__name__ in ENCODERS:
            return inner
        if type(inner).__name__ != "SimpleImputer":
            return None
    return None


def learnt_text(model: Any, names: list[str]) -> list[str]:
    """Return the inputs (of ``names``, the model's) that a fitted scikit-learn encoder in
    ``model`` learnt as text: a OneHotEncoder or OrdinalEncoder first in the pipeline, or
    first in a ColumnTransformer's transformer, whose ``categories_`` hold strings. A model
    of another shape gives none (what it learnt is only read for a note)."""
    try:
        return _learnt_text(model, names)
    except Exception:  # noqa: BLE001 - a foreign model's attributes may be anything
        return []


def _learnt_text(model: Any, names: list[str]) -> list[str]:
    first = model.steps[0][1] if getattr(model, "steps", None) else model
    parts = [(first, names)]
    if hasattr(first, "transformers_"):  # a ColumnTransformer: each part picks its columns
        parts = []
        for _, step, cols in first.transformers_:
            picked = cols if isinstance(cols, list | tuple) else []
            parts.append((step, [names[c] if isinstance(c, int) else str(c) for c in picked]))
    out = []
    for step, cols in parts:
        flags = _learnt_as_text(_first_encoder(step))  # none without an encoder
        if len(flags) == len(cols):
            out += [c for c, text in zip(cols, flags, strict=True) if text]
    return out


class SkopsScorer(Scorer):
    """A scikit-learn model saved with skops, loaded only when all its types are trusted."""

    def __init__(
        self, path: Path, trusted: list[str] | None = None, config_features: list[str] | None = None
    ) -> None:
        super().__init__(path, format="skops")
        import skops.io as sio

        try:
            untrusted = sio.get_untrusted_types(file=path)
            allowed = SKOPS_ALLOWED | set(trusted or [])
            refused = sorted(set(untrusted) - allowed)
            if refused:
                raise InputError(
                    f"holds types that are not trusted: {', '.join(refused)}",
                    path=path,
                    hint="if you trust them, list them in [models.NAME] trusted_types = [...]",
                )
            self.model = sio.load(path, trusted=sorted(set(untrusted)))
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - skops raises many kinds on a bad file
            raise InputError(f"not a readable skops file: {exc}", path=path) from exc
        self.kind = _sklearn_kind(self.model)
        names, self.width = sklearn_inputs(self.model)
        self.feature_names = names or config_features
        self.text_inputs = learnt_text(self.model, self.feature_names or [])

    def _score(self, frame: pl.DataFrame) -> np.ndarray:
        names = self.feature_names or []
        return sklearn_scores(self.model, sklearn_input(self.model, frame, names))
