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
from privdiag.config_values import closest
from privdiag.errors import InputError, UsageError
from privdiag.model import blindset
from privdiag.model.consent_mix import MixEntry, check_rates, drawable, read_mix
from privdiag.model.entries import model_entry
from privdiag.model.loading import Scorer, is_text, load_scorer
from privdiag.model.predictions import PredictionsScorer
from privdiag.output import load_json
from privdiag.privacy import describe_value, looks_like_id
from privdiag.purposes import PURPOSES
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
    if label is None:
        _refuse_label_in_other_case(frame, features, blind_set)
    refuse_infinite(frame, features, blind_set)
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
    if unknown := sorted(p for p in rates if p not in PURPOSES):  # a scan writes canonical ones
        raise InputError(
            f"evidence.consent_rates gives a rate of {unknown[0]!r}, which is no purpose a "
            f"scan writes ({', '.join(PURPOSES)})",
            path=path,
            field="evidence.consent_rates",
            hint="pass the JSON written by privdiag scan --json, unchanged; or pass "
            "--consent-rates (which takes aliases such as marketing)",
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


def _refuse_label_in_other_case(frame: pl.DataFrame, features: list[str], path: Path) -> None:
    """Refuse a blind set, given no label, with a column that is not a model input and is
    ``label`` in another case or with spaces (``Label``): quality would be skipped, exit 0,
    with the outcome there."""
    near = [c for c in frame.columns if c.strip().lower() == "label" and c not in features]
    if near:
        raise InputError(
            f"has no column 'label' but a column {near[0]!r}, which is not read as the label",
            path=path,
            field="label",
            hint=f"pass --label {near[0]!r} to measure quality, or rename the column label",
        )


def _labels(frame: pl.DataFrame, label: str | None, path: Path) -> np.ndarray | None:
    if label is None:
        return None
    if label not in frame.columns:
        # a column name that looks like an identifier is never offered
        near = closest(label, [c for c in frame.columns if not looks_like_id(c)])
        raise InputError(
            f"has no label column {label!r}",
            path=path,
            field=label,
            hint="pass --label with the column holding the outcome"
            + (f": did you mean {near!r}?" if near else ""),
        )
    values = frame[label]
    _refuse_nested(frame, [label], path, "a label")
    labels = (*blindset.TEXT_TYPES, pl.Boolean, pl.Null)  # pl.Null: none, refused below
    if not (values.dtype.is_numeric() or values.dtype in labels):
        # bytes were an internal error (no cast to numbers), a date a count of days
        raise InputError(
            f"holds values of type {values.dtype}, which are no label",
            path=path,
            field=label,
            hint="a classifier's label is 0/1, true/false or yes/no; a regressor's a number",
        )
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


def refuse_infinite(frame: pl.DataFrame, columns: list[str], path: Path) -> None:
    """InputError naming the first row of ``columns`` holding an infinite value: drift left
    such rows out of a feature's values and counted them in its missing bin, not in its
    missing share (PSI 0.70 beside missing shares of 0), and an ONNX model scored them where
    a scikit-learn one refuses them."""
    for column in columns:
        if not frame.schema[column].is_float():
            continue
        bad = frame[column].is_infinite().arg_true()
        if bad.len():
            count = f" ({bad.len():,} rows in all)" if bad.len() > 1 else ""
            raise InputError(
                f"holds an infinite value{count}, which no feature holds",
                path=path,
                row=int(bad[0]) + 1,
                field=column,
                hint="write the row's value empty (missing) or as the number meant (a ratio "
                "divided by 0 is no number)",
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
    _check_names(names, scorer.path)
    absent = [f for f in names if f not in frame.columns]
    if absent:
        near = {f: _near_column(f, frame.columns) for f in absent}
        said = "; ".join(f"{f} is column {c!r}?" for f, c in near.items() if c)
        raise InputError(
            f"lacks the model's feature(s) {', '.join(absent)}",
            path=path,
            hint="the blind set needs one column per model feature, named as the model "
            "names it" + (f" ({said})" if said else ""),
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


def _near_column(feature: str, columns: list[str]) -> str | None:
    """The blind set's column a model feature it lacks may be: the same name in another
    case or spacing (`Sessions` for `sessions`), else the closest by spelling."""
    columns = [c for c in columns if not looks_like_id(c)]  # an identifier is never offered
    folded = {c.strip().lower().replace(" ", "_"): c for c in columns}
    same = folded.get(feature.strip().lower().replace(" ", "_"))
    return same or closest(feature, columns)


def _check_names(names: list[str], model: Path) -> None:
    """Raise InputError naming the model when its feature names (its metadata's
    ``feature_names``, or ``[models.NAME] features``) hold an empty name or one twice: an
    empty one was "lacks the model's feature(s) " naming nothing, a repeated one a polars
    DuplicateError and its advice on ``.alias()``."""
    where = "feature_names in the model's metadata, or [models.NAME] features in the config"
    if any(not isinstance(n, str) or not n.strip() for n in names):
        raise InputError(
            "names an empty feature among its inputs",
            path=model,
            hint=f"give every input its column's name ({where})",
        )
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise InputError(
            f"names the feature {twice[0]!r} twice among its inputs",
            path=model,
            hint=f"name each input once, in input order ({where})",
        )


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
    reference: Path | None,
    frame: pl.DataFrame,
    features: list[str],
    result: Result,
    k: int = 1,
) -> pl.DataFrame:
    """Return the frame drift compares against: ``--reference``, else the blind set itself.

    Raises InputError for a reference of fewer rows than ``k`` (min_group_size), as a blind
    set of so few is, or one whose feature columns cannot be compared with the blind set's
    (lists or records, or values of another kind); notes the model's features it lacks."""
    if reference is None:
        return frame
    ref_frame = blindset.read_table(reference)
    fmt = table_format(reference)
    result.inputs.append(info(reference, "reference", fmt, ref_frame.height))
    if ref_frame.height < k:  # its missing shares and category shares would tell those rows
        raise InputError(
            f"holds {ref_frame.height:,} row(s), fewer than min_group_size ({k}): drift "
            "against so few rows would describe those persons",
            path=reference,
            hint=f"give a reference of {k} rows or more (a training sample)",
        )
    shared = [f for f in features if f in ref_frame.columns and f in frame.columns]
    _refuse_nested(ref_frame, shared, reference, "a feature's value")
    refuse_infinite(ref_frame, shared, reference)
    if lacking := [f for f in features if f not in ref_frame.columns]:
        result.note(
            f"the reference (--reference) lacks the model's feature(s) {', '.join(lacking)}: "
            "their drift is not measured, and the model's scores are not compared with the "
            "reference's"
        )
    for f in shared:
        ref_kind, kind = _kind(ref_frame[f]), _kind(frame[f])
        if ref_kind != kind and None not in (ref_kind, kind):
            # text against numbers compares no category with any: a drift of 100% that is a
            # type; bytes or dates against numbers were compared as categories too
            raise InputError(
                f"holds {ref_kind} where the blind set holds {kind}, so every value would "
                "read as drifted",
                path=reference,
                field=f,
                hint="export the reference as the blind set is (a number column without text "
                "such as n/a, a text column quoted in CSV)",
            )
    return ref_frame


def _kind(column: pl.Series) -> str | None:
    """What a feature column holds, in words, as drift compares it; None for no value at all
    (a column of no value has no type to tell)."""
    if column.null_count() == column.len():
        return None
    if is_text(column.dtype):
        return "text"
    if column.dtype.is_numeric() or column.dtype == pl.Boolean:  # booleans compare as 1/0
        return "numbers"
    return "dates or times" if column.dtype.is_temporal() else f"values of type {column.dtype}"
