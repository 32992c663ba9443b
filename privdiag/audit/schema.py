"""The audit history's file and schema: what a history file must be (a DuckDB database that
privdiag wrote, not an input's data, a device or an empty file), the schema version its
``meta`` table carries, the migrations that bring it up to :data:`SCHEMA_VERSION` and the
tables and columns it must then hold (:mod:`privdiag.audit.history` reads and writes it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privdiag.errors import InputError

SCHEMA_VERSION = 2
DUCKDB_MAGIC = b"DUCK"
NOT_DB = (
    "the history is one DuckDB database file that privdiag writes: give --history (or "
    "[audit] history) a new file name, e.g. privdiag-history.duckdb"
)

# Migration n brings a file from schema n to n + 1; never edit one that has shipped.
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE meta (key VARCHAR, value VARCHAR)",
        "INSERT INTO meta VALUES ('schema_version', '0')",
        """CREATE TABLE runs (seq INTEGER, run_id VARCHAR, started_at VARCHAR,
           finished_at VARCHAR, config_path VARCHAR, inputs VARCHAR, exit_code INTEGER,
           summary VARCHAR)""",
        """CREATE TABLE findings (run_id VARCHAR, finding_id VARCHAR, kind VARCHAR,
           severity VARCHAR, title VARCHAR, owner VARCHAR, location VARCHAR, metrics VARCHAR,
           change VARCHAR)""",
    ],
    [
        "ALTER TABLE runs ADD COLUMN report_dir VARCHAR",
        "ALTER TABLE runs ADD COLUMN previous_run VARCHAR",
        "ALTER TABLE runs ADD COLUMN baseline VARCHAR",
        "CREATE TABLE measures (run_id VARCHAR, name VARCHAR, value DOUBLE)",
    ],
]

RUN_COLUMNS = (
    "seq, run_id, started_at, finished_at, config_path, inputs, exit_code, summary, "
    "report_dir, previous_run, baseline"
)
FINDING_COLUMNS = ("finding_id", "kind", "severity", "title", "owner", "location", "metrics")


def edited_history(path: Path, where: str, column: str, what: str) -> InputError:
    """The error of a history whose cell was edited into one privdiag never writes."""
    return InputError(
        f"{where}: its {column} {what}, as no run of privdiag writes it (edited by hand?)",
        path=path,
        hint="restore the history from a backup, or move it aside: privdiag then starts a new "
        "history there (earlier runs' reports stay in their folders)",
    )


def read_schema_version(con: Any, path: Path | None = None) -> int:
    """Return the schema version written in ``meta``, 0 for a database without it; an
    InputError naming ``path`` when an edit left a version no privdiag writes (a word, a
    fraction, none, below 0): ``int()`` of it was an internal error, and a negative one
    made the audit apply the last migration again."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "meta" not in tables:
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if not row:
        return 0
    text = row[0].strip() if isinstance(row[0], str) else ""
    if not text.isdigit() or not text.isascii():
        raise edited_history(
            path or Path("history"), "meta", "schema_version", "is not a whole number (0 or more)"
        )
    return int(text)


# The tables and columns of a history at SCHEMA_VERSION, as the migrations make them.
TABLES = {
    "meta": {"key", "value"},
    "runs": {*RUN_COLUMNS.split(", ")},
    "findings": {"run_id", "change", *FINDING_COLUMNS},
    "measures": {"run_id", "name", "value"},
}


def check_tables(con: Any, path: Path) -> None:
    """Raise InputError naming the first table or column of :data:`TABLES` the history
    lacks (dropped by hand): reading it was an internal error naming DuckDB's catalog."""
    rows = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = 'main'"
    ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    for table, columns in TABLES.items():
        if table not in found:
            raise edited_history(path, "the history", f"table {table}", "is missing")
        if lacking := sorted(columns - found[table]):
            raise edited_history(path, f"table {table}", f"column {lacking[0]}", "is missing")


def migrate(con: Any, path: Path) -> int:
    """Bring the history to SCHEMA_VERSION in one transaction; return the version it had.

    Raises InputError when the file was written by a newer privdiag.
    """
    con.begin()
    try:
        found = read_schema_version(con, path)
        if found == 0:
            refuse_other_database(con, path)
        if found > SCHEMA_VERSION:
            raise InputError(
                f"the history has schema version {found}; this privdiag reads up to "
                f"{SCHEMA_VERSION}",
                path=path,
                hint="upgrade privdiag, or give a new --history file",
            )
        for steps in MIGRATIONS[found:]:
            for sql in steps:
                con.execute(sql)
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
        check_tables(con, path)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return found


def refuse_other_database(con: Any, path: Path) -> None:
    """Raise InputError when a database without privdiag's ``meta`` table holds tables: it is
    another database (the audit created its tables in it, or failed on one named like its
    own: an internal error), not a history to start."""
    names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if {"runs", "findings"} <= names <= set(TABLES):  # privdiag's, its version edited away
        raise edited_history(path, "table meta", "schema_version", "is missing")
    count = len(names)
    if count:
        raise InputError(
            f"is not a privdiag history: it is a DuckDB database of other data ({count} "
            f"table{'s' if count > 1 else ''} privdiag did not write), which privdiag leaves "
            "alone",
            path=path,
            hint=NOT_DB,
        )


def holds_other_data(path: Path) -> bool:
    """True when ``path`` is a file with content that is not a DuckDB database (bytes 8-11 of
    one read DUCK): read first, since DuckDB opens a CSV named ``*.csv`` as an in-memory
    table, where writes would be lost, and may write a database over a small one."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:  # missing, a folder, unreadable: DuckDB says why
        return False
    return bool(head) and head[8:12] != DUCKDB_MAGIC


def read_as_data(path: Path) -> InputError:
    return InputError(
        "is not a privdiag history: DuckDB reads a file of this name as data, not as a database",
        path=path,
        hint=NOT_DB,
    )


def in_memory(con: Any) -> bool:
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return row is None or row[0] is None


def check_history_file(path: Path) -> None:
    """Raise InputError when the file at ``path`` cannot be a history: it holds data that is
    no DuckDB database (an input's CSV), or nothing (``touch``). Cheap, so that an audit says
    so before it takes the history's lock and leaves ``<file>.lock`` beside such a file.
    A device or a pipe is none either: reading a pipe's first bytes waited for ever."""
    if path.exists() and not path.is_file() and not path.is_dir():
        raise InputError(
            "is not a privdiag history: it is no regular file (a device or a pipe)",
            path=path,
            hint=NOT_DB,
        )
    if holds_other_data(path):
        raise InputError(
            "is not a privdiag history: it is not a DuckDB database file", path=path, hint=NOT_DB
        )
    if path.is_file() and path.stat().st_size == 0:  # touch, mktemp: DuckDB cannot open it
        raise InputError(
            "is not a privdiag history: it is an empty file",
            path=path,
            hint=f"remove it, and privdiag makes the history there; or: {NOT_DB}",
        )
