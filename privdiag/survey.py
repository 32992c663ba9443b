"""Survey exports (zero-party data): read CSV or JSON into the DuckDB table ``survey``.

A survey file has one row per respondent or per segment. Columns are found by name, case
insensitive, in these roles:

- respondent: respondent, respondent_id, user_id, user, user_key or customer_id; matched
  with the consent log's user key, with the device of a decision, or with the user id of
  the decision's event (a Snowplow decision is kept under its browser).
- segment: segment, group or cohort; else a column named region, country, device, channel,
  source or version (the opt-in dimension it names).
- trust: trust, trust_score, sentiment, sentiment_score or score (any numeric scale).
- respondents: respondents, n, count or weight; how many answers a segment row stands for.
- date: date, ts, timestamp, submitted_at, created_at or answered_at.
- stated preferences: columns pref_*, preference_*, prefers_*, interest_*, or a
  preferences / stated_preferences column; data the respondent chose to share.

JSON may be a list of objects, newline-delimited objects, or an object holding such a list
(under any key). A row needs a trust score, a finite number; rows without one are left out
and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from privdiag.engine import one, quote
from privdiag.errors import InputError
from privdiag.ingest.files import SNIFF_BYTES, check_regular_file
from privdiag.ingest.sqlparts import NO_FLAG_WORDS, composed
from privdiag.privacy import describe_value

ROLES: dict[str, tuple[str, ...]] = {
    "respondent": ("respondent", "respondent_id", "user_id", "user", "user_key", "customer_id"),
    "segment": ("segment", "group", "cohort"),
    "trust": ("trust", "trust_score", "sentiment", "sentiment_score", "score"),
    "respondents": ("respondents", "n", "count", "weight"),
    "date": ("date", "ts", "timestamp", "submitted_at", "created_at", "answered_at"),
}
# Segment columns named after a dimension of the opt-in breakdown, in the order tried.
DIMENSION_COLUMNS = {
    "region": "region",
    "country": "region",
    "device": "device",
    "channel": "channel",
    "source": "source",
    "version": "version",
}
PREFERENCE_PREFIXES = ("pref_", "preference_", "prefers_", "interest_")
PREFERENCE_LISTS = ("preferences", "stated_preferences")
TABLE = "survey"


@dataclass
class Survey:
    """What was read: the files, rows kept and dropped, and which columns played which role."""

    paths: list[str]
    rows: int = 0
    dropped: int = 0
    roles: dict[str, str] = field(default_factory=dict)
    dimension: str | None = None  # opt-in dimension the segment column names, if it names one
    preferences: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # files without a row (a header only)

    @property
    def has_respondents(self) -> bool:
        return "respondent" in self.roles


def _records(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON survey: a list, NDJSON, or the first list inside an object."""
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(doc, dict):
        doc = next((v for v in doc.values() if isinstance(v, list)), [doc])
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise ValueError("expected a list of objects")
    return doc


def _check_is_text(path: Path) -> None:
    """Raise InputError for a folder (polars read the files in it as one CSV) or a binary
    file (its bytes were read as CSV fields)."""
    check_regular_file(path, hint="name the survey files in it")
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        binary = b"\0" in head and not head.startswith(b"\x1f\x8b")  # gzip is read
    except FileNotFoundError:
        return  # the reader says so
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", path=path) from exc
    if binary:
        raise InputError(
            "is binary, not a CSV or JSON survey export",
            path=path,
            hint="give a CSV with a header or a JSON list of objects",
        )


def read_frame(path: Path) -> pl.DataFrame:
    """Return the survey file as a frame of text columns. Raises InputError when unreadable."""
    from privdiag.privacy import reader_message

    _check_is_text(path)
    try:
        if path.suffix.lower() in (".json", ".ndjson", ".jsonl"):
            records = [
                {k: v if isinstance(v, str) or v is None else json.dumps(v) for k, v in r.items()}
                for r in _records(path)
            ]
            frame = pl.DataFrame(records, infer_schema_length=None)
        else:
            frame = pl.read_csv(path, infer_schema_length=0)
    except (OSError, ValueError, RecursionError, pl.exceptions.PolarsError) as exc:
        ragged = _ragged_line(path) if isinstance(exc, pl.exceptions.PolarsError) else None
        raise InputError(
            f"cannot be read as a survey export: {ragged or reader_message(exc)}",
            path=path,
            hint="give every row the header's number of fields, quoting fields that hold the "
            "delimiter"
            if ragged
            else "give a CSV with a header or a JSON list of objects",
        ) from exc
    # a JSON column null in every row is of polars' Null type: text too, as the docstring says
    frame = frame.with_columns(pl.all().cast(pl.String))
    _refuse_repeated_names(path, frame.columns)
    return frame.rename({c: c.strip().lower() for c in frame.columns})


def _refuse_repeated_names(path: Path, columns: list[str]) -> None:
    """Raise InputError naming the first column the header names twice, in any case and
    spacing, as the roles are read (``Trust`` and ``trust ``: a DuplicateError, exit 5); of
    a CSV, its header as written (polars renames a repeat ``trust_duplicated_0``)."""
    names = columns
    if path.suffix.lower() not in (".json", ".ndjson", ".jsonl"):
        header = pl.read_csv(path, has_header=False, n_rows=1, infer_schema=False)
        names = [n for n in header.row(0) if n is not None] if header.height else []
    seen: dict[str, str] = {}
    for name in names:
        key = name.strip().lower()
        if key in seen:
            both = name if seen[key] == name else f"{seen[key]}/{name}"
            raise InputError(
                f"names column {both!r} twice in its header",
                path=path,
                field=key,
                hint="rename or drop one of the two columns",
            )
        seen[key] = name


def _ragged_line(path: Path) -> str | None:
    """Words naming the first line of a CSV survey whose fields are more than its header's
    (polars refuses those, and says neither where nor how many), or None."""
    from privdiag.ingest.file_checks import first_ragged_line

    found = first_ragged_line(path, more=True)  # fewer fields are read, the rest empty
    if found is None:
        return None
    line, fields, width = found
    return f"line {line} has {fields} fields, its header {width}"


def _roles(columns: list[str]) -> tuple[dict[str, str], str | None, list[str]]:
    roles = {}
    for role, names in ROLES.items():
        found = next((n for n in names if n in columns), None)
        if found is not None:
            roles[role] = found
    dimension = None
    if "segment" not in roles:
        found = next((c for c in DIMENSION_COLUMNS if c in columns), None)
        if found is not None:
            roles["segment"], dimension = found, DIMENSION_COLUMNS[found]
    prefs = [c for c in columns if c.startswith(PREFERENCE_PREFIXES) or c in PREFERENCE_LISTS]
    return roles, dimension, prefs


def _shared_sql(prefs: list[str]) -> str:
    """SQL counting the stated preferences a row shares (non-empty, not no/false/0/[])."""
    if not prefs:
        return "0"
    empty = "('', 'no', 'false', '0', '[]', 'null', 'none', 'n/a')"
    parts = [
        f"CASE WHEN lower(trim(coalesce({quote(p)}, ''))) IN {empty} THEN 0 ELSE 1 END"
        for p in prefs
    ]
    return " + ".join(parts)


def load_survey(con: Any, paths: list[str]) -> Survey:
    """Create the table ``survey`` from the files and return what was read.

    Columns: respondent, segment (VARCHAR, NULL when absent), trust DOUBLE, respondents
    INTEGER, date TIMESTAMP, shared INTEGER (stated preferences given). Raises InputError for a
    file without a trust column, or without a respondent or segment column; a file without a
    row (a CSV header only, an empty JSON list) is listed under ``empty``, its columns not
    checked.
    """
    survey = Survey(paths=list(paths))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {TABLE} (respondent VARCHAR, segment VARCHAR,
                    trust DOUBLE, respondents INTEGER, date TIMESTAMP, shared INTEGER)""")
    for raw in paths:
        path = Path(raw)
        frame = read_frame(path)
        if frame.height == 0:
            survey.empty.append(raw)
            continue
        roles, dimension, prefs = _roles(frame.columns)
        if "trust" not in roles:
            raise InputError(
                "has no trust or sentiment column",
                path=path,
                hint=f"name the score column one of {', '.join(ROLES['trust'])}",
            )
        if "respondent" not in roles and "segment" not in roles:
            raise InputError(
                "has neither a respondent nor a segment column",
                path=path,
                hint="add a respondent_id (matching the consent log's user) or a segment column",
            )
        survey.roles |= roles
        survey.dimension = survey.dimension or dimension
        survey.preferences += [p for p in prefs if p not in survey.preferences]
        if "respondents" in roles:
            _check_respondents(frame, roles["respondents"], path)
        _check_trust(frame, roles["trust"], path)
        _insert(con, frame, roles, prefs, survey)
    return survey


# A segment row stands for a whole number of answers, at least one, that fits the column.
MOST_RESPONDENTS = 2**31 - 1
# Trust cells that say no answer was given, lowered: as no consent flag was (n/a, none), or
# a dash.
NO_ANSWER = (*NO_FLAG_WORDS, "-", "--")


def _check_respondents(frame: pl.DataFrame, column: str, path: Path) -> None:
    """Raise InputError naming the first row whose respondent count is no whole number from
    1 to MOST_RESPONDENTS. Such a count was used as written (0 or -5 respondents weighed a
    segment's trust by nothing or against the others) or, beyond the column's range or not a
    number, silently read as 1."""
    number = pl.col(column).str.strip_chars().cast(pl.Float64, strict=False)
    wrong = (
        number.is_null()
        | number.is_nan()
        | ~number.is_between(1, MOST_RESPONDENTS)
        | (number != number.floor())
    )
    _refuse_first(
        frame,
        column,
        wrong,
        path,
        "is no count of respondents",
        f"give each row the whole number of answers it stands for, 1 to {MOST_RESPONDENTS:,} "
        "(a survey weight is no count: rename that column), or leave it empty for one",
    )


def _check_trust(frame: pl.DataFrame, column: str, path: Path) -> None:
    """Raise InputError naming the first row whose trust score is written but is no number
    (``4/5``, ``80%``): such rows were dropped as unanswered. An empty score is no answer,
    as is a word a survey tool writes for one (``n/a``, ``none``, ``-``), and ``NaN`` or an
    infinity is dropped with the unanswered rows."""
    value = pl.col(column).str.strip_chars()
    wrong = value.cast(pl.Float64, strict=False).is_null() & ~value.str.to_lowercase().is_in(
        NO_ANSWER
    )
    _refuse_first(
        frame,
        column,
        wrong,
        path,
        "is no trust score",
        "write each score as a number on one scale (4, 0.8), or leave it empty for no answer",
        count=True,
    )


def _refuse_first(
    frame: pl.DataFrame,
    column: str,
    wrong: pl.Expr,
    path: Path,
    said: str,
    hint: str,
    *,
    count: bool = False,
) -> None:
    """Raise InputError naming the first row whose ``column`` is written (not empty) and
    ``wrong``, describing its value (never quoting it), with how many such rows if ``count``."""
    value = pl.col(column).str.strip_chars()
    rows = frame.with_row_index("row", offset=1).filter(value.is_not_null() & (value != "") & wrong)
    if rows.height:
        row, found = rows.select("row", value).row(0)
        many = f" ({rows.height:,} rows in all)" if count and rows.height > 1 else ""
        raise InputError(
            f"{describe_value(found)} {said}{many}",
            path=path,
            row=int(row),
            field=column,
            hint=hint,
        )


def _insert(
    con: Any, frame: pl.DataFrame, roles: dict[str, str], prefs: list[str], survey: Survey
) -> None:
    def col(role: str, sql_type: str = "VARCHAR") -> str:
        name = roles.get(role)
        return f"TRY_CAST({quote(name)} AS {sql_type})" if name else f"NULL::{sql_type}"

    respondent = composed(f"nullif(trim({col('respondent')}), '')")  # as the consent log's
    con.register("survey_in", frame.to_arrow())
    con.execute(f"""
        INSERT INTO {TABLE}
        SELECT {respondent}, nullif(trim({col("segment")}), ''),
               {col("trust", "DOUBLE")}, coalesce({col("respondents", "INTEGER")}, 1),
               {col("date", "TIMESTAMP")}, {_shared_sql(prefs)}
        FROM survey_in
    """)
    con.unregister("survey_in")
    # one(): a result left unfinished makes the next file's register fail
    # NaN or an infinity ("nan", "inf" read as numbers) is no score either: one left in made
    # the correlation NaN, and the check found nothing, silently. (No isfinite(): Spark has
    # none; NaN sorts above every number on both engines, as infinity does above the rest.)
    finite = "abs(trust) <= 1.7976931348623157e308"
    dropped = one(con, f"DELETE FROM {TABLE} WHERE trust IS NULL OR NOT ({finite})")
    survey.dropped += int(dropped[0]) if dropped else 0
    counted = one(con, f"SELECT count(*) FROM {TABLE}")
    survey.rows = int(counted[0]) if counted else 0
