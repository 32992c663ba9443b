"""What every format module receives and returns.

A format module has ``NAME``, ``detect(columns) -> bool`` and
``stage(ctx: StageContext) -> Staged``. ``stage`` creates DuckDB views (or temp tables) that
select canonical columns, each through :meth:`StageContext.create`; the loader unions them into
the ``events`` and ``consent`` tables, then drops them so that their memory is freed. A
format whose reading spans inputs also has ``join(con, staged)``, run once on all the inputs
staged in it before the tables are built (Segment's identities across files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privdiag.config import Config

TIME_HINT = "use ISO-8601 (2026-10-01T12:00:00Z) or epoch seconds / ms / µs"
# A time in a zone abbreviation is left unread (privdiag.ingest.sqlparts.iso_ts).
ZONE_ABBREVIATION_HINT = (
    "a zone abbreviation (BST, CST, IST) names several zones: write its UTC offset (+01:00)"
)
_CREATE = re.compile(r"\s*CREATE TEMP (TABLE|VIEW) (\w+) AS\b")


@dataclass
class StageContext:
    """One input argument ready to be staged: its files, how to read them, its source name."""

    con: Any
    read_sql: str  # a table function call that reads every file of the input
    columns: dict[str, str]  # column name -> DuckDB type, as the reader infers them
    files: list[Path]
    source: str
    prefix: str  # unique name prefix for the views this input creates
    index: int  # the input's position, stored in events._input
    config: Config
    container: str = "csv"
    scratch: list[tuple[str, str]] = field(default_factory=list)  # (TABLE or VIEW, name)
    # time columns the files of a CSV folder give different types -> the first file of each
    times_apart: dict[str, dict[str, Path]] = field(default_factory=dict)
    # the columns the JSON reader typed JSON, read as text, and how the input read them before
    json_columns: tuple[str, ...] = ()
    json_read_sql: str = ""

    def create(self, statement: str) -> None:
        """Run ``CREATE TEMP TABLE|VIEW <name> AS ...`` and note the name in :attr:`scratch`,
        which the loader drops once the input's records are in ``events`` and ``consent``."""
        made = _CREATE.match(statement)
        if made is None:
            raise ValueError("expected CREATE TEMP TABLE|VIEW <name> AS ...")
        self.con.execute(statement)
        self.scratch.append((made[1], made[2]))

    def time_hint(self, column: str) -> str:
        """The hint of an error on an unreadable time in ``column``: write ISO-8601 or epoch,
        and, when the files of the folder give it different types (so that it was read from
        its text), in which files."""
        hint = TIME_HINT
        apart = self.times_apart.get(column)
        if not apart:
            return f"{hint}; {ZONE_ABBREVIATION_HINT}"
        kinds = ", ".join(f"{path.name} as {_kind(t)}" for t, path in apart.items())
        return (
            f"the files write {column} in different ways ({kinds}), so it is read from its "
            f"text: {hint} in every file, or give the files as separate inputs"
        )

    def where(self) -> str:
        """The input as an error names it: its one file, or its folder and number of files."""
        if len(self.files) == 1:
            return str(self.files[0])
        return f"{self.files[0].parent}/ ({len(self.files)} files)"

    def missing(self) -> str:
        """The file an error about a column none of the files has names, with the rest told."""
        if len(self.files) == 1:
            return str(self.files[0])
        others = len(self.files) - 1
        plural = "s" if others > 1 else ""
        return f"{self.files[0]} (and the other {others} file{plural} of {self.files[0].parent}/)"

    def first_bad_row(self, expr: str, bad_when: str, detail: str = "NULL") -> tuple | None:
        """Return (row, value, detail) of the first row of the whole input whose ``expr`` (as
        ``v``) meets ``bad_when``, its row counted across the input's files; None when none.

        A plain pass looks for one first: numbering the rows is a window over the whole input,
        on one thread, and most inputs have no such row."""
        from privdiag.engine import one

        if not one(
            self.con,
            f"SELECT 1 FROM (SELECT {expr} AS v FROM {self.read_sql}) WHERE {bad_when} LIMIT 1",
        ):
            return None
        return one(
            self.con,
            f"SELECT n, v, {detail} FROM (SELECT row_number() OVER () AS n, {expr} AS v "
            f"FROM {self.read_sql}) WHERE {bad_when} LIMIT 1",
        )

    def first_bad(self, expr: str, bad_when: str, detail: str = "NULL") -> BadRow | None:
        """Return the first row whose ``expr`` (as ``v``) meets ``bad_when``: the file it is in
        and its row there when DuckDB can tell the files apart, else the input and its row;
        ``detail`` (SQL over ``v``) is worked out for that row only."""
        from privdiag.engine import one

        if not self._files_told_apart():
            found = self.first_bad_row(expr, bad_when, detail)
            return BadRow(self.where(), int(found[0]), found[1], True, found[2]) if found else None
        found = one(
            self.con,
            f"""
            SELECT f, n - min(n) OVER w + 1 AS row_in_file, v, count(v) OVER w > 0 AS any_v,
                   {detail} AS detail, n
            FROM (SELECT row_number() OVER () AS n, filename AS f, {expr} AS v
                  FROM {self.read_sql})
            WINDOW w AS (PARTITION BY f)
            QUALIFY {bad_when}
            ORDER BY n LIMIT 1
            """,
        )
        if not found:
            return None
        return BadRow(str(found[0]), int(found[1]), found[2], bool(found[3]), found[4])

    def _files_told_apart(self) -> bool:
        """True when the reader's ``filename`` column names each row's file: several files
        read by DuckDB, none of them with a column of that name."""
        return (
            len(self.files) > 1
            and getattr(self.con, "engine_name", "duckdb") == "duckdb"
            and "filename" not in self.columns
        )


@dataclass
class BadRow:
    """A row found wrong: the file (or input) it is in, its row there, its value, whether
    any row of that file has a value at all (False: the file has no such column), and the
    detail the search asked for."""

    path: str
    row: int
    value: Any
    file_has_values: bool
    detail: Any = None


@dataclass
class Staged:
    """What one input produced: view names and notes for the terminal and the report."""

    format: str
    events_view: str | None = None
    consent_view: str | None = None
    notes: list[str] = field(default_factory=list)
    # SQL of (category, user_key, decision), one row per decision whose category maps to no
    # purpose (decision: see privdiag.ingest.sqlparts.decision_sql)
    unmapped_sql: str | None = None
    source: str | None = None  # the source name the input was read as (set by the loader)
    scratch: list[tuple[str, str]] = field(default_factory=list)  # dropped by the loader
    time_field: str = "time"  # the input's field the event time is read from, for errors
    # the staging a format's ``join`` completes from all its inputs once every input is
    # staged (Segment's identities: privdiag.ingest.segment_join.join)
    joint: tuple[str, ...] = ()
    # the consent view has a column ``_day_only``: decision times that are dates alone
    day_only: bool = False


def json_as_text(ctx: StageContext) -> None:
    """Read the columns that the JSON reader typed JSON as their text (flat events and
    consent files, whose every column is one value).

    A column gets the JSON type when its records hold values of different kinds (one user
    id an object among strings, one number too large for any number type among text); its
    text is then the JSON written out, quotes and all: every user id read ``"u1"``, so no
    event met its user's consent, and every empty string ``""``, so an empty feature was
    present. ``->> '$'`` gives a string's text, the JSON of an object or array, and NULL
    for null; an id's object or array is refused (:func:`privdiag.ingest.roles.refuse_nested`)."""
    from privdiag.engine import quote

    found = [c for c, t in ctx.columns.items() if t.upper() == "JSON"]
    if not found:
        return
    texts = ", ".join(f"({quote(c)} ->> '$') AS {quote(c)}" for c in found)
    ctx.json_columns, ctx.json_read_sql = tuple(found), ctx.read_sql
    ctx.read_sql = f"(SELECT * REPLACE ({texts}) FROM {ctx.read_sql})"
    ctx.columns = ctx.columns | dict.fromkeys(found, "VARCHAR")


def _kind(sql_type: str) -> str:
    """What a DuckDB type the CSV sniffer gave a time column says of its values."""
    if sql_type.startswith("TIME"):
        return "times"
    return "dates" if sql_type == "DATE" else "numbers"
