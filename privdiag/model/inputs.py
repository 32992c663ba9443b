"""The inputs of one model check, read and checked before anything is scored.

:func:`read_inputs` matches the model to its ``[models.X]`` entry, reads the blind set and
its label, the consent rates (given, or from a scan result), loads the model (or the
predictions files) and resolves its input names; what does not fit is an InputError or a
UsageError naming the file or flag, raised before any scenario is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from privdiag.config import Config
from privdiag.errors import InputError, UsageError
from privdiag.model import blindset
from privdiag.model.consent_mix import MixEntry, check_rates, drawable, read_mix
from privdiag.model.entries import model_entry
from privdiag.model.loading import Scorer, is_text, load_scorer
from privdiag.model.predictions import PredictionsScorer
from privdiag.output import load_json
from privdiag.privacy import describe_value
from privdiag.report.group_size import made_with, rates_at
from privdiag.result import InputInfo, Result, sha256_file

# A classifier's label written as a word, case and spaces aside.
LABEL_WORDS = {"true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0}


@dataclass
class Inputs:
    """What a model check reads: the model's name, its scorer and input names, the blind set
    with its label, and the consent rates and mix of the observed scenario (None without
    any; ``independent`` says why there is no mix to draw from)."""

    name: str
    scorer: Scorer
    features: list[str]
    frame: pl.DataFrame
    label: str | None
    y: np.ndarray | None
    rates: dict[str, float] | None
    predictions: list[InputInfo]
    mix: list[MixEntry] | None = None
    independent: str = ""
    by_events: bool = False  # the scan result's rates and mix weigh events (an older scan)


def read_inputs(
    model: Path,
    blind_set: Path,
    result: Result,
    *,
    config: Config,
    label: str | None,
    scan_result: Path | None,
    consent_rates: dict[str, float] | None,
    allow_pickle: bool,
    predictions: list[Path] | None,
    consent_mix: list[MixEntry] | None = None,
) -> Inputs:
    """Return the checked inputs of one model check, each recorded in ``result.inputs``
    (model first, then the blind set, the scan result and the predictions files).

    Given ``consent_rates``, the observed scenario draws from them and ``consent_mix``
    (None: each purpose independently), else from the scan result's rates and mix.

    Raises InputError or UsageError for a file that cannot be read or does not fit, and a
    UsageError for a label that is one of the model's inputs.
    """
    matched = model_entry(config, model)
    if matched.note:
        result.note(matched.note)
    spec = config.models.get(matched.name)
    label = label or (spec.label if spec else None)
    frame = blindset.read_table(blind_set)
    if label is None and "label" in frame.columns:
        label = "label"
    result.inputs.append(info(blind_set, "blind_set", table_format(blind_set), frame.height))

    if scan_result is not None:
        _check_scan_result(scan_result)
        result.inputs.append(info(scan_result, "scan_result", "json", None))
    told = "the consent rates were given (--consent-rates)"
    rates, (mix, why) = consent_rates, drawable(consent_mix, told)
    by_events = False
    if consent_rates is None and scan_result is not None:
        rates, mix, why = consent_from_scan(scan_result, config.thresholds.min_group_size)
        by_events = bool(rates) and weighs_events(scan_result)

    scorer = _scorer(model, predictions, allow_pickle and not predictions, matched.table)
    features = _resolve_features(scorer, frame, label, blind_set)
    _check_label_not_an_input(label, features)
    y = _labels(frame, label, blind_set)

    if model.exists() and not predictions:
        result.inputs.insert(0, info(model, "model", scorer.format, None))  # no rows
    read = [info(path, "predictions", table_format(path), None) for path in predictions or []]
    result.inputs += read
    return Inputs(matched.name, scorer, features, frame, label, y, rates, read, mix, why, by_events)


def info(path: Path, role: str, fmt: str, rows: int | None) -> InputInfo:
    """Return the record of one input file (its fingerprint read now)."""
    return InputInfo(str(path), fmt, rows, sha256_file(path), role)


def table_format(path: Path) -> str:
    """Return ``parquet``, ``csv``, ``ndjson`` or ``json``, as
    :func:`~privdiag.model.blindset.read_table` reads it (a file it read)."""
    return blindset.table_format(path) or "csv"


SCAN_HINT = "pass the JSON written by privdiag scan --json"


def _check_scan_result(path: Path) -> None:
    """Raise InputError when ``--scan-result`` names no file (missing, a folder, a pipe)."""
    from privdiag.ingest.files import check_regular_file

    if not path.exists():
        raise InputError("file not found", path=path, hint=SCAN_HINT)
    check_regular_file(path, hint=SCAN_HINT)


def consent_from_scan(
    path: Path, k: int | None = None
) -> tuple[dict[str, float], list[MixEntry] | None, str]:
    """Return the consent rates (``evidence.consent_rates``) and mix (``evidence.consent_mix``,
    None when it has none) of a scan result, and, without a mix, why the observed scenario
    draws each purpose on its own.

    Given the model check's ``min_group_size`` ``k``, a scan that records a smaller one keeps
    only the rates it shows ``k`` users or more decided, and its mix is pooled whole, as
    ``privdiag report`` does (:mod:`privdiag.report.group_size`): the model check's
    evidence would show them again. A result recording none (hand-made, or an older
    privdiag's) is taken as it is.

    Raises InputError for a file that is no scan result, or whose mix does not read as one.
    """
    doc = load_json(path, SCAN_HINT)
    try:
        rates = doc["evidence"]["consent_rates"]
        rates = {str(k): float(v) for k, v in rates.items() if v is not None}
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise InputError(
            "is not a scan result with evidence.consent_rates", path=path, hint=SCAN_HINT
        ) from exc
    if bad := sorted(p for p, r in rates.items() if not (math.isfinite(r) and 0.0 <= r <= 1.0)):
        raise InputError(
            f"evidence.consent_rates gives {bad[0]} {rates[bad[0]]!r}, not a share from 0 to 1",
            path=path,
            field="evidence.consent_rates",
            hint="pass the JSON written by privdiag scan --json, unchanged; or pass "
            "--consent-rates",
        )
    mix = read_mix(doc["evidence"].get("consent_mix"), path)
    if k is not None and (made_with(doc) or k) < k:  # a hand-made result records none
        rates = rates_at(doc, rates, k)
        if mix is not None:
            why = (
                f"the scan result was made with a smaller min_group_size than {k}, so its "
                "consent mix is pooled (its combinations' users are not kept to pool again)"
            )
            return rates, None, why
    if mix is not None:
        check_rates(mix, rates, path)
        return rates, *drawable(mix, "")
    if "consent_mix" in doc["evidence"]:
        return rates, None, "the scan result's consent mix is empty (no event had a decision)"
    why = (
        "the scan result holds no consent mix (evidence.consent_mix; a scan by an older "
        "privdiag); scan again for the joint draw"
    )
    return rates, None, why


def weighs_events(path: Path) -> bool:
    """True when the scan result at ``path`` (read by :func:`consent_from_scan`) says nothing
    of its consent rates' unit (``evidence.consent_weighting``): a scan by an older privdiag,
    whose rates and mix are shares of events, a user weighed by their events. They are
    drawn from as they are."""
    doc = load_json(path, SCAN_HINT)
    return "consent_weighting" not in doc["evidence"]


def _labels(frame: pl.DataFrame, label: str | None, path: Path) -> np.ndarray | None:
    if label is None:
        return None
    if label not in frame.columns:
        raise InputError(
            f"has no label column {label!r}",
            path=path,
            field=label,
            hint="pass --label with the column holding the outcome",
        )
    values = frame[label]
    _refuse_nested(frame, [label], path, "a label")
    if values.dtype in blindset.TEXT_TYPES:  # "yes"/"no", "true"/"false" or numbers as text
        words = values.cast(pl.String).str.strip_chars().str.to_lowercase()
        numbers = words.replace_strict(LABEL_WORDS, default=None, return_dtype=pl.Float64)
        values = numbers.fill_null(words.cast(pl.Float64, strict=False))
        _refuse_missing(values.is_null() & words.is_null() | values.is_nan(), path, label)
        bad = values.is_null().arg_true()
        if bad.len():
            raise label_error(
                bad,
                path,
                label,
                f"{describe_value(frame[label][int(bad[0])])} is not a label",
                "a classifier's label is 0/1, true/false or yes/no; a regressor's a number",
            )
    else:
        missing = values.is_null()
        _refuse_missing(
            missing | values.is_nan() if values.dtype.is_float() else missing, path, label
        )
    return values.cast(pl.Float64).to_numpy()


def _refuse_missing(missing: pl.Series, path: Path, label: str) -> None:
    """InputError naming the first row without a label: empty, null or NaN (a NaN was
    described as "a 3-character value of letters" that is no classifier's label)."""
    if missing.any():
        raise label_error(
            missing.arg_true(),
            path,
            label,
            "rows have no label (empty, null or NaN)",
            "drop the rows whose outcome is not known yet, or write it (0/1, yes/no)",
        )


def _refuse_nested(frame: pl.DataFrame, columns: list[str], path: Path, what: str) -> None:
    """InputError naming the first of ``columns`` of nested values (a list, a struct): a
    label of lists was an internal error, a feature of structs numpy's "setting an array
    element with a sequence"."""
    for column in columns:
        dtype = frame[column].dtype
        if dtype.is_nested():
            kind = "records (a struct)" if isinstance(dtype, pl.Struct) else "lists"
            raise InputError(
                f"holds {kind}, where the model check reads {what} a row",
                path=path,
                field=column,
                hint="write one number or word a row in a column of its own (flatten it)",
            )


def label_error(bad: pl.Series, path: Path, label: str, what: str, hint: str) -> InputError:
    """The error for the label rows ``bad`` (their indexes) of the blind set ``path``: the
    first named, how many in all told."""
    row, count = int(bad[0]), bad.len()
    if what.startswith("rows have "):  # "1 row has", "2 rows have"
        message = f"{count:,} {what}" if count > 1 else f"1 row has {what[10:]}"
    else:
        message = what + (f" ({count:,} rows in all)" if count > 1 else "")
    return InputError(message, path=path, row=row + 1, field=label, hint=hint)


def _scorer(
    model: Path, predictions: list[Path] | None, allow_pickle: bool, entry: dict[str, Any]
) -> Scorer:
    if predictions:
        return PredictionsScorer(predictions)
    return load_scorer(
        model,
        allow_pickle=allow_pickle,
        trusted=entry.get("trusted_types"),
        config_features=entry.get("features"),
    )


def _resolve_features(
    scorer: Scorer, frame: pl.DataFrame, label: str | None, path: Path
) -> list[str]:
    names = scorer.feature_names or blindset.feature_columns(frame, label)
    absent = [f for f in names if f not in frame.columns]
    if absent:
        raise InputError(
            f"lacks the model's feature(s) {', '.join(absent)}",
            path=path,
            hint="the blind set needs one column per model feature",
        )
    _refuse_nested(frame, names, path, "a feature's value")
    if scorer.width is not None and len(names) != scorer.width:
        raise InputError(
            f"the model expects {scorer.width} features but their names are unknown",
            path=scorer.path,
            hint="list them in order in [models.NAME] features = [...] in the config",
        )
    scorer.feature_names = names
    return names


def _check_label_not_an_input(label: str | None, features: list[str]) -> None:
    """Raise UsageError when the label is one of the model's inputs: its quality would be
    measured on the outcome it is given."""
    if label is not None and label in features:
        raise UsageError(
            f"the label column {label!r} is one of the model's inputs: its quality would be "
            "measured on the outcome it is given",
            hint="pass --label (or [models.NAME] label) the column holding the outcome, one the "
            "model does not take",
        )


def read_reference(
    reference: Path | None, frame: pl.DataFrame, features: list[str], result: Result
) -> pl.DataFrame:
    """Return the frame drift compares against: ``--reference``, else the blind set itself."""
    if reference is None:
        return frame
    ref_frame = blindset.read_table(reference)
    fmt = table_format(reference)
    result.inputs.append(info(reference, "reference", fmt, ref_frame.height))
    # text against numbers compares no category with any: a drift of 100% that is a type
    for f in (f for f in features if f in ref_frame.columns and f in frame.columns):
        ref_text, text = is_text(ref_frame.schema[f]), is_text(frame.schema[f])
        empty = (
            ref_frame[f].null_count() == ref_frame.height or frame[f].null_count() == frame.height
        )
        if ref_text != text and not empty:  # a column of no value has no type to tell
            held = ("text", "numbers") if ref_text else ("numbers", "text")
            raise InputError(
                f"holds {held[0]} where the blind set holds {held[1]}, so every value would "
                "read as drifted",
                path=reference,
                field=f,
                hint="export the reference as the blind set is (a number column without text "
                "such as n/a, a text column quoted in CSV)",
            )
    return ref_frame
