"""The one place that knows how a DuckDB connection is opened and tuned."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from privdiag.config import EngineConfig
from privdiag.purposes import STATES

# An event's state_P column (privdiag.state) is this ENUM of STATES on DuckDB: a one-byte
# code that the checks compare and group faster than text. Spark reads it as a string.
STATE_TYPE = "consent_state"

SIZE_UNITS = {
    "B": 1,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
    "TIB": 1024**4,
}
# What a memory limit leaves outside DuckDB for Python, its libraries and fetched results.
PYTHON_HEADROOM = 256 * 1024**2


def size_bytes(size: str) -> float | None:
    """Bytes of a size written the way DuckDB reads it (4GB = 4e9, 512MiB = 512 * 2**20);
    None for anything else: a percentage of RAM, or a number without a unit."""
    text = size.strip().upper().replace(" ", "")
    for unit, factor in sorted(SIZE_UNITS.items(), key=lambda u: -len(u[0])):
        number = text[: -len(unit)]
        if text.endswith(unit) and number.replace(".", "", 1).isdigit():
            return float(number) * factor
    return None


def duckdb_share(limit: str) -> str:
    """The part of a process memory limit given to DuckDB.

    DuckDB's limit bounds its buffer manager only; the interpreter, numpy and the fetched
    results come on top. So the process stays near the limit asked for, DuckDB gets it less
    a quarter, at most 256 MiB. A percentage is DuckDB's to read, unchanged.
    """
    total = size_bytes(limit)
    if total is None:
        return limit
    return f"{int(total - min(total / 4, PYTHON_HEADROOM))}B"


# Scratch folder of each open connection made with a memory limit, by id(connection).
_scratch: dict[int, str] = {}


def _own_folder(parent: str | None, prefix: str = "privdiag-") -> str:
    """A new folder under ``parent`` (the system temp dir when None), removed at exit if
    :func:`close` does not remove it first; UsageError when it cannot be made."""
    import atexit
    import tempfile

    from privdiag.errors import UsageError

    made = []  # the temp dir's folders this run makes, removed with its own when left empty
    try:
        if parent:
            missing = Path(parent).absolute()
            while not missing.exists() and missing != missing.parent:
                made.append(missing)
                missing = missing.parent
            Path(parent).mkdir(parents=True, exist_ok=True)
        folder = tempfile.mkdtemp(prefix=prefix, dir=parent)
    except OSError as exc:
        raise UsageError(
            f"cannot write to the temp dir {parent or tempfile.gettempdir()}: {exc.strerror}",
            hint="pass --temp-dir (or [engine] temp_dir) a writable folder with free space",
        ) from exc
    _made[folder] = made
    atexit.register(_remove, folder)
    return folder


def _remove(folder: str) -> None:
    """Remove a scratch folder, then the folders of its temp dir the run made."""
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    _remove_made(folder)


#: Per scratch folder, the missing folders of its temp dir that the run made (innermost
#: first): trial 26's `--temp-dir /nonexistent/x` left both behind after the scan.
_made: dict[str, list[Path]] = {}


def _remove_made(folder: str) -> None:
    """Remove the folders made for ``folder``'s temp dir, innermost first, those left empty
    (another run may be using one)."""
    for made in _made.pop(folder, []):
        try:
            made.rmdir()
        except OSError:
            return


def _open_scratch(database: str) -> Any:
    """Open the scratch DuckDB file; raise UsageError when DuckDB cannot create it there."""
    import duckdb

    from privdiag.errors import UsageError

    try:
        return duckdb.connect(database)
    except duckdb.IOException as exc:
        reason = str(exc).splitlines()[0]
        raise UsageError(
            f"cannot make the scratch file under the temp dir: {reason}",
            hint="pass --temp-dir (or [engine] temp_dir) a shorter, writable folder path",
        ) from exc


def close(con: Any) -> None:
    """Close a connection from :func:`connect` and remove its scratch folder, if it has one.

    A process that scans several times (an audit scans each source) would otherwise keep
    every scan's scratch file on disk until it exits.
    """

    folder = _scratch.pop(id(con), None)
    con.close()
    if folder:
        _remove(folder)


def connect(engine: EngineConfig | None = None, database: str | None = None) -> Any:
    """Return a DuckDB connection set up with the threads, memory limit and temp dir asked for.

    Tables live in memory, unless a memory limit is set: then they live in a scratch DuckDB
    file in a new folder under the temp dir, removed by :func:`close` (or at exit). DuckDB
    stores file tables compressed, a quarter of their size in memory (10M bench events:
    0.38 GB against 1.58 GB), so large scans spill far less; in memory, a 100M-event scan
    under a 4GB limit had spilled 44 GB after 7 minutes. Without a limit, DuckDB spills into
    a new folder under the temp dir (the system's when none is given), removed likewise; a
    temp dir that cannot be written is a UsageError before the run. With
    ``engine.name == "spark"`` it
    returns a connection-like adapter that runs the same DuckDB SQL on Apache Spark instead
    (``privdiag.engines.spark``; needs ``privdiag[spark]``).
    """
    import duckdb

    engine = engine or EngineConfig()
    if engine.name != "duckdb":
        from privdiag.engines import connect_engine

        return connect_engine(engine)
    # "~" expanded here, once: DuckDB expands it itself, Path.mkdir would make a folder "~"
    temp_dir = str(Path(engine.temp_dir).expanduser()) if engine.temp_dir else None
    scratch = database is None and bool(engine.memory_limit)
    # DuckDB would spill into ./.tmp of whatever folder the user runs in, or into a temp dir
    # it cannot write, found only once it spills: the run's own folder is made up front.
    spill = database is None and not scratch
    folder = None
    if scratch:
        folder = _own_folder(temp_dir)
    elif spill:
        folder = _own_folder(temp_dir, "privdiag-spill-")
    if database is None:
        database = str(Path(folder) / "scan.duckdb") if scratch else ":memory:"
    con = _open_scratch(database) if scratch else duckdb.connect(database)
    if folder:
        _scratch[id(con)] = folder
    if spill:
        temp_dir = folder
    con.execute("SET TimeZone = 'UTC'")
    # count_if over only NULL conditions gives NULL in DuckDB, not 0: checks count with this.
    con.execute("CREATE MACRO count_true(x) AS coalesce(count_if(x), 0)")
    con.execute(f"CREATE TYPE IF NOT EXISTS {STATE_TYPE} AS ENUM {STATES!r}")
    if engine.threads:
        con.execute(f"SET threads = {int(engine.threads)}")
    if engine.memory_limit:
        _set_memory_limit(con, engine.memory_limit)
    if temp_dir:
        con.execute("SET temp_directory = ?", [temp_dir])
    return con


def _set_memory_limit(con: Any, limit: str) -> None:
    """Set DuckDB's share of the limit (:func:`duckdb_share`); raise UsageError for a limit
    DuckDB refuses or that is zero."""
    import re

    import duckdb

    from privdiag.errors import UsageError

    hint = "write it like 4GB or 512MB: a number above 0 and a unit"
    if re.fullmatch(r"\s*(0+(\.0*)?|\.0+)\s*[A-Za-z%]*\s*", limit):
        raise UsageError(f"memory limit {limit!r} is zero", hint=hint)
    try:
        con.execute("SET memory_limit = ?", [duckdb_share(limit)])
    except duckdb.Error as exc:
        raise UsageError(f"memory limit {limit!r} is not a size DuckDB takes", hint=hint) from exc


def quote(name: str) -> str:
    """Quote an identifier for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """Quote a string literal for DuckDB SQL."""
    return "'" + value.replace("'", "''") + "'"


def fetch_rows(con: Any, sql: str) -> list[dict[str, Any]]:
    """Run an aggregate query and return its rows as dicts keyed by column name."""
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(con: Any, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    """Run a query and return its first row (or None), leaving no unfinished result behind."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


# DuckDB's common-subexpression optimizer takes time quadratic in the expressions of one
# projection: copying 600 events of 3,000 feature columns into ``scan_events`` spent 29 of
# the scan's 34 CPU-s planning (1.9 without it). Narrow statements keep it: without it the
# 10M bench dump's staging evaluates its repeated id expressions again (9% more CPU).
WIDE_PROJECTION = 100


@contextmanager
def planned_wide(con: Any, expressions: int) -> Iterator[None]:
    """Run the statements of the block without DuckDB's common-subexpression optimizer when
    one of them projects more than :data:`WIDE_PROJECTION` ``expressions``; another engine,
    or a narrower statement, is planned as always."""
    if expressions <= WIDE_PROJECTION or getattr(con, "engine_name", "duckdb") != "duckdb":
        yield
        return
    con.execute("SET disabled_optimizers = 'common_subexpressions'")
    try:
        yield
    finally:
        con.execute("RESET disabled_optimizers")
