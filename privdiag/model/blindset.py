"""Consent-filtered blind sets: which rows lose which features under each consent scenario.

Scenarios, each a boolean mask per feature over the rows of a labelled blind set:

- ``deny_<purpose>``: every row denies that purpose; features needing it are masked.
- ``all_denied``: every purpose of the mapping is denied.
- ``observed``: each row draws its consent as the scan observed it, deterministically from
  the seed: its whole combination of states from the scan's consent mix (purposes denied
  together by one "reject all" stay together), or, given only rates, each purpose on its own
  at its rate (:mod:`privdiag.model.consent_mix`).
- ``mask_<feature>``: one feature masked on every row, for masking importance.

A feature needing several purposes is masked when any of them is denied. Masked cells become
null, or the feature's configured default (``[features.X] default = ...``), as production
would see them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from privdiag.config import Config
from privdiag.errors import ConfigError, InputError
from privdiag.model.consent_mix import MixEntry, draw_denials

ROW_ID = "row_id"
TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)  # columns of a text (categorical) feature
# Columns of the project's event formats that are never model features.
NOT_FEATURES = {
    ROW_ID,
    "event_id",
    "ts",
    "event_name",
    "user_id",
    "anonymous_id",
    "session_id",
    "user_key",
    "anon_key",
    "session_key",
}


@dataclass
class Scenario:
    """One way consent removes features: a row mask per masked feature."""

    name: str
    masks: dict[str, np.ndarray]
    purpose: str | None = None

    @property
    def features(self) -> list[str]:
        """Features masked on at least one row."""
        return [f for f, m in self.masks.items() if m.any()]

    def masked_share(self) -> dict[str, float]:
        """Share of rows masked, per masked feature."""
        return {f: float(m.mean()) for f, m in self.masks.items() if m.any()}


#: The file name endings of each table format read_table takes, the one list of them.
TABLE_SUFFIXES = {
    "csv": (".csv", ".txt", ".csv.gz"),
    "parquet": (".parquet", ".pq"),
    "ndjson": (".ndjson", ".jsonl"),
    "json": (".json",),
}


def _formats_taken() -> str:
    """Say which endings are read, every one of :data:`TABLE_SUFFIXES`."""
    ends = [end for ends in TABLE_SUFFIXES.values() for end in ends]
    lines = " and ".join(TABLE_SUFFIXES["ndjson"])
    listed = f"{', '.join(ends[:-1])} or {ends[-1]}"
    return f"give a file ending in {listed} ({lines}: one JSON object a line)"


#: Said of a file of another ending: the endings taken.
TABLE_FORMATS = _formats_taken()


def table_format(path: Path) -> str | None:
    """Return the format :func:`read_table` reads ``path`` in, by its ending; None for none."""
    name = path.name.lower()
    ends = TABLE_SUFFIXES.items()
    return next((fmt for fmt, taken in ends if name.endswith(taken) and name not in taken), None)


def read_table(path: Path) -> pl.DataFrame:
    """Return a CSV, Parquet, NDJSON (JSON lines) or JSON file as a frame; raise InputError
    when it cannot be read. A .json file holds an array of objects, or one object a line."""
    from privdiag.ingest.files import check_regular_file

    if not path.exists():
        raise InputError("file not found", path=path, hint="check the path")
    check_regular_file(path, hint=TABLE_FORMATS)
    fmt = table_format(path)
    if fmt is None:
        raise InputError("unsupported format", path=path, hint=TABLE_FORMATS)
    try:
        if fmt == "parquet":
            return _with_rows(_enums_as_text(pl.read_parquet(path)), path)
        if fmt == "csv":
            _refuse_repeated_names(path)
            codes = _code_columns(path)
            return _with_rows(pl.read_csv(path, **CSV_OPTIONS, schema_overrides=codes), path)
        if fmt == "json" and _starts_with(path, b"["):
            return _with_rows(pl.read_json(path, infer_schema_length=10000), path)
        return _with_rows(pl.read_ndjson(path, infer_schema_length=10000), path)
    except OSError as exc:
        raise InputError(f"cannot be read: {exc}", path=path) from exc
    except pl.exceptions.PolarsError as exc:
        # polars quotes the cell it could not read, and advises on its Python API
        told = _unreadable_cell(path) if fmt == "csv" else _object_over_lines(path)
        if told is None and fmt in ("json", "ndjson"):
            array = fmt == "json" and _starts_with(path, b"[")
            told = _mixed_json_field(path, "array" if array else "newline_delimited")
        raise told or _unreadable(path, exc) from exc


# What a JSON value is, by DuckDB's json_type, in the words of a blind set's column.
_JSON_KINDS = (
    "CASE json_type(v) WHEN 'ARRAY' THEN 'a list' WHEN 'OBJECT' THEN 'a record' "
    "WHEN 'VARCHAR' THEN 'text' WHEN 'BOOLEAN' THEN 'true or false' ELSE 'numbers' END"
)


def _mixed_json_field(path: Path, layout: str) -> InputError | None:
    """The InputError naming the first row of a JSON blind set whose field holds a value of
    another kind than its first rows (a list among numbers), which polars could not read
    ("failed to determine supertype of struct[7] and struct[7]"); None when there is none
    or DuckDB cannot read the file either. Read in SQL: each object once."""
    import duckdb

    query = f"""
        WITH objects AS (
            SELECT row_number() OVER () AS row, json AS doc
            FROM read_json_objects(?, format = '{layout}')),
        cells AS (
            SELECT row, key, doc -> ('$."' || key || '"') AS v
            FROM objects, unnest(json_keys(doc)) AS k(key)),
        present AS (
            SELECT row, key, {_JSON_KINDS} AS kind FROM cells WHERE json_type(v) <> 'NULL'),
        first AS (SELECT key, arg_min(kind, row) AS kind FROM present GROUP BY key)
        SELECT p.row, p.key, p.kind, f.kind
        FROM present p JOIN first f ON p.key = f.key AND p.kind <> f.kind
        ORDER BY p.row, p.key LIMIT 1"""
    try:
        found = duckdb.connect().execute(query, [str(path)]).fetchone()
    except duckdb.Error:
        return None
    if found is None:
        return None
    row, key, kind, first = found
    return InputError(
        f"holds {kind} where the rows above it hold {first}",
        path=path,
        row=int(row),
        field=key,
        hint="give the field one kind of value a row (a number, say); leave a missing value "
        "null, and flatten lists and records into columns of their own",
    )


def _starts_with(path: Path, char: bytes) -> bool:
    """True when the first character of ``path`` other than a blank (or a UTF-8 BOM) is
    ``char``; the first 64 KB are read."""
    with path.open("rb") as handle:
        head = handle.read(65536).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] == char


def _object_over_lines(path: Path) -> InputError | None:
    """The InputError of a JSON file whose first line opens an object it does not close (one
    object written over several lines, as ``json.dump(..., indent=2)`` writes it, which is
    neither an array of objects nor one object a line); None otherwise. polars said only
    "Syntax at character 0 ('{')". The first 1 MB of the first line is read."""
    with path.open("rb") as handle:
        line = handle.readline(1 << 20).lstrip(b"\xef\xbb\xbf \t\r")
    if not line.startswith(b"{"):
        return None
    try:
        json.loads(line)
    except ValueError:
        return InputError(
            "holds a JSON object written over several lines, which is neither an array of "
            "objects nor one object a line",
            path=path,
            hint="write the blind set as one JSON object a line (JSON lines), or as an array "
            "of objects; a CSV or Parquet file does too",
        )
    return None


CSV_OPTIONS: dict[str, Any] = {"infer_schema_length": 10000, "null_values": ["", "NA", "null"]}


# A number written with a leading zero ("0049", "007"): a code, which as a number loses it.
_CODE = r"^[+-]?0[0-9]"


def _code_columns(path: Path) -> dict[str, Any]:
    """The columns of a CSV file that hold a number written with a leading zero, to read as
    text: "0049" read as 49 is another category to a model that learnt "0049" (a zip or
    country code), and its scores changed silently. One pass over the file as text."""
    text = pl.scan_csv(path, infer_schema=False, null_values=CSV_OPTIONS["null_values"])
    names = text.collect_schema().names()
    found = text.select(pl.col(n).str.contains(_CODE).any() for n in names).collect()
    return {n: pl.String for n in names if found[n][0]}


def _refuse_repeated_names(path: Path) -> None:
    """Raise InputError naming the first column a CSV file's header names twice: polars
    renamed the second ``a_duplicated_0``, so the model read the first, the other unsaid."""
    header = pl.read_csv(path, has_header=False, n_rows=1, infer_schema=False)
    names = [n for n in header.row(0) if n is not None] if header.height else []
    if twice := next((n for i, n in enumerate(names) if n in names[:i]), None):
        raise InputError(
            "names a column twice in its header",
            path=path,
            field=twice,
            hint="rename or drop one of the two columns",
        )


def _with_rows(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """``frame``, or InputError when it has no rows (a header only): nothing can be scored."""
    if frame.height == 0:
        raise InputError(
            "holds no rows (only a header)", path=path, hint="export the blind set again"
        )
    return frame


def _unreadable_cell(path: Path) -> InputError | None:
    """The InputError naming the first cell of a CSV file that does not hold the type its
    column has in the first rows (by row and field, the cell described, never quoted); None
    when there is none such or the file cannot be read as text."""
    from privdiag.privacy import describe_value

    try:
        types = pl.scan_csv(path, **CSV_OPTIONS).collect_schema()
        text = pl.read_csv(path, infer_schema_length=0, null_values=CSV_OPTIONS["null_values"])
    except (pl.exceptions.PolarsError, OSError):
        return None
    text = text.with_row_index("_row", offset=1)
    for name, dtype in types.items():
        if dtype == pl.String:
            continue
        bad = pl.col(name).is_not_null() & pl.col(name).cast(dtype, strict=False).is_null()
        first = text.filter(bad).head(1)
        if first.height:
            row, value = first["_row"][0], first[name][0]
            return InputError(
                f"{describe_value(value)} is not of the type ({dtype}) the rows above it hold",
                path=path,
                row=row,
                field=name,
                hint="give the column one type (numbers only, say); leave a missing value empty",
            )
    return None


def _unreadable(path: Path, exc: Exception) -> InputError:
    from privdiag.privacy import reader_message

    return InputError(
        f"cannot be read ({reader_message(exc)})",
        path=path,
        hint=f"check that it is a complete file; {TABLE_FORMATS}",
    )


def _enums_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` with its Enum columns as text: an Enum holds only its own values, so
    a ``[features.X] default`` outside them could not mask it."""
    enums = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Enum)]
    return frame.with_columns(pl.col(enums).cast(pl.String)) if enums else frame


def feature_columns(frame: pl.DataFrame, label: str | None) -> list[str]:
    """Return the columns that can be features: all but the label, ids, timestamps, consent."""
    skip = NOT_FEATURES | {label}
    return [c for c in frame.columns if c not in skip and not c.startswith("consent_")]


#: Purposes that need no consent, so no scenario denies them: a strictly necessary feature
#: is collected whatever a person decides.
NO_CONSENT = frozenset({"necessary"})


def purposes_in_use(mapping: dict[str, list[str]]) -> list[str]:
    """Return the purposes some feature needs that a person can deny, sorted, so scenarios
    are listed stably."""
    return sorted({p for purposes in mapping.values() for p in purposes} - NO_CONSENT)


def deny_scenarios(n: int, mapping: dict[str, list[str]]) -> list[Scenario]:
    """Return one scenario per purpose in use, then ``all_denied``."""
    out = []
    for purpose in purposes_in_use(mapping):
        masks = {f: np.full(n, purpose in ps) for f, ps in mapping.items()}
        out.append(Scenario(f"deny_{purpose}", masks, purpose))
    if out:
        deniable = {f: bool(set(ps) - NO_CONSENT) for f, ps in mapping.items()}
        out.append(Scenario("all_denied", {f: np.full(n, d) for f, d in deniable.items()}))
    return out


def observed_scenario(
    n: int,
    mapping: dict[str, list[str]],
    rates: dict[str, float],
    seed: int,
    mix: list[MixEntry] | None = None,
) -> Scenario:
    """Return the observed mix: rows granted each purpose as the consent mix and rates say
    (:func:`~privdiag.model.consent_mix.draw_denials`: joint with ``mix``, else each purpose
    independently at its rate).

    Purposes without a rate are taken as granted on every row (the caller notes them), and
    a purpose that needs no consent (:data:`NO_CONSENT`) is never denied.
    """
    rng = np.random.default_rng(seed)
    denied = draw_denials(n, purposes_in_use(mapping), rates, mix, rng)
    masks = {}
    for feature, purposes in mapping.items():
        mask = np.zeros(n, bool)
        for purpose in purposes:
            if purpose in denied:
                mask |= denied[purpose]
        masks[feature] = mask
    return Scenario("observed", masks)


def feature_scenarios(n: int, features: list[str]) -> list[Scenario]:
    """Return one scenario per feature, masking it on every row."""
    return [Scenario(f"mask_{f}", {f: np.ones(n, bool)}) for f in features]


def feature_defaults(config: Config, frame: pl.DataFrame, features: list[str]) -> dict[str, Any]:
    """Return ``{feature: default}`` of the features with ``[features.X] default`` set.

    Raises ConfigError for a default the feature's column cannot hold (a text default for a
    column of numbers): masking would fail on it.
    """
    raw = config.raw.get("features", {})
    defaults = {
        f: raw[f]["default"]
        for f in features
        if isinstance(raw.get(f), dict) and "default" in raw[f]
    }
    for feature, value in defaults.items():
        if isinstance(value, dict) or (isinstance(value, float) and not math.isfinite(value)):
            # a table made the column records, and the model's failure on them read as its
            # failure on a missing value; NaN is the missing value, infinity no feature's
            raise ConfigError(
                f"default {value!r} is no value a masked cell takes (a table, NaN or infinity)",
                path=config.path,
                key=f"features.{feature}",
                hint="give the number or text production sets when consent is missing; "
                "leave default out to mask the feature as missing",
            )
        dtype = frame.schema[feature]
        try:  # as apply() masks: a default the column cannot hold fails here
            fill = pl.when(pl.lit(True)).then(pl.lit(value, dtype=dtype))
            frame.head(1).select(fill.otherwise(pl.col(feature)))
        except (pl.exceptions.PolarsError, TypeError, ValueError, OverflowError) as exc:
            holds = {"text": dtype in TEXT_TYPES, "numbers": dtype.is_numeric()}
            holds["no value at all"] = dtype == pl.Null
            said = next((words for words, fits in holds.items() if fits), f"values of {dtype}")
            raise ConfigError(
                f"default {value!r} does not fit the blind set's column {feature!r}, which "
                f"holds {said}",
                path=config.path,
                key=f"features.{feature}",
                hint="give the value production sets when consent is missing, of the "
                "column's type (a number for a number column, a text for a text column)",
            ) from exc
    return defaults


def apply(frame: pl.DataFrame, scenario: Scenario, defaults: dict[str, Any]) -> pl.DataFrame:
    """Return ``frame`` with the scenario's masked cells set to null or the feature's default."""
    exprs = []
    for feature, mask in scenario.masks.items():
        if not mask.any() or feature not in frame.columns:
            continue
        fill = pl.lit(defaults.get(feature), dtype=frame.schema[feature])
        exprs.append(pl.when(pl.Series(mask)).then(fill).otherwise(pl.col(feature)).alias(feature))
    return frame.with_columns(exprs) if exprs else frame


def file_stem(scenario: str) -> str:
    """The file name (without suffix) of a scenario's blind set and predictions.

    A scenario masking feature F is named ``mask_F``, and a feature name can hold ``/``,
    ``..`` or characters a file system refuses: anything but letters, digits, ``.``, ``_``
    and ``-`` becomes ``_``, and a leading dot too, so the file stays inside its folder.
    """
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", scenario)
    return "_" + stem[1:] if stem.startswith(".") else stem


def export_all(variants: dict[str, pl.DataFrame], features: list[str], folder: Path) -> None:
    """Write every scenario's blind set into ``folder`` (see :func:`export`), all or none:
    into a hidden folder inside it first, moved into place once all are written, so that a
    run stopped midway (Ctrl-C, a full disk) leaves no set short of scenarios, nor a file cut
    short, for someone to score as if whole. Files an earlier run left there stay."""
    import os
    import shutil
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".privdiag-export-", dir=folder))
    try:
        written = [export(frame, features, name, staging) for name, frame in variants.items()]
        for path in written:
            os.replace(path, folder / path.name)
    finally:
        try:
            shutil.rmtree(staging, ignore_errors=True)
        except KeyboardInterrupt:  # polars raises a Ctrl-C that stops a write a second time
            shutil.rmtree(staging, ignore_errors=True)
            raise


def export(frame: pl.DataFrame, features: list[str], name: str, folder: Path) -> Path:
    """Write ``row_id`` and the features of one scenario's blind set to
    ``folder/<file_stem(name)>.parquet``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{file_stem(name)}.parquet"
    frame.select([ROW_ID, *features]).write_parquet(path)
    return path
