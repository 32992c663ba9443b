"""Staging one input: its files read, its format chosen (detected, forced or configured),
and the format's stager run into temp tables and views."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from privdiag.config import Config
from privdiag.errors import InputError, UsageError
from privdiag.ingest.base import StageContext, Staged
from privdiag.ingest.file_checks import explain_read_error
from privdiag.ingest.files import (
    FileKind,
    expand,
    partition_columns,
    path_literal,
    source_name,
)
from privdiag.ingest.reading import (
    check_columns,
    container_of,
    describe,
    duck_message,
    input_files,
    materialise,
    reader_sql,
)
from privdiag.ingest.roles import id_column_names, time_column_names
from privdiag.result import InputInfo

# Detection order: the most specific formats first; generic always matches.
FORMATS: tuple[str, ...] = ("ga4", "snowplow", "segment", "generic")


def format_module(name: str) -> Any:
    """Return the module that reads format ``name``."""
    module_name = "consent_file" if name == "consent" else name
    try:
        return importlib.import_module(f"privdiag.ingest.{module_name}")
    except ModuleNotFoundError as exc:
        raise UsageError(f"format {name!r} is not available in this build") from exc


def stage_one(
    con: Any,
    argument: str,
    index: int,
    *,
    files: list[Path] | None,
    role: str,
    fmt: str,
    config: Config,
    source: str | None = None,
) -> tuple[Staged, InputInfo, list[Path]]:
    """Stage the input ``argument`` (in position ``index``) as events or consent (``role``);
    return what it was staged as, its InputInfo (a consent input's file rows counted; events
    rows, consent records and fingerprint still to fill in) and its files. ``files`` are the
    argument's files to read (None for a URL the engine lists). Raises InputError naming the
    input for anything unreadable."""
    listed = files is None
    files, kind = input_files(con, argument, files)
    local = [] if listed else files  # the files of a URL the engine lists are not opened here
    read_sql = reader_sql(files, kind)
    columns = describe(con, read_sql, argument, local)
    check_columns(local, kind, columns, argument)
    configured, configured_fmt = configured_source(argument, config)
    name = source or configured or source_name(argument)
    if fmt == "auto" and configured_fmt:
        fmt = configured_fmt
    chosen = _chosen_format(con, role, fmt, columns, argument)
    text, apart = _text_columns(con, kind, files, columns, config, role, chosen)
    if text and kind.container == "csv":
        read_sql = reader_sql(files, kind, text=text)
    elif text:  # JSON takes the type of every column or of none (of the folder names' none)
        keys = partition_columns(files)
        types = {c: "VARCHAR" if c in text else t for c, t in columns.items() if c not in keys}
        read_sql = reader_sql(files, kind, types)
    columns.update(dict.fromkeys(text, "VARCHAR"))
    read_sql = _read_again_sql(
        con, read_sql, files, kind, columns, role=role, index=index, argument=argument
    )

    ctx = StageContext(
        con=con,
        read_sql=read_sql,
        columns=columns,
        files=files,
        source=name,
        prefix=f"in{index}",
        index=index,
        config=config,
        container=kind.container,
        times_apart=apart,
        scratch=[("TABLE", read_sql)] if role == "consent" else [],
    )
    staged = _run_stager(chosen, ctx, argument)
    staged.source = name
    staged.scratch = ctx.scratch
    info = InputInfo(path=argument, format=chosen, rows=0, sha256="", role=role)
    if role == "consent":  # its file rows; its records are counted once they are inserted
        info.rows = _count(con, read_sql)
        if not info.rows:  # as an events input of no events: a log cut to its header
            raise InputError(
                "holds no consent records (only a header, or an empty list)",
                path=argument,
                hint="export the consent log again or leave it out",
            )
    return staged, info, files


def join_inputs(con: Any, staged: list[Staged], min_group: int = 1) -> None:
    """Run the ``join`` of each format that has one on the inputs staged in it, once all
    inputs are staged (Segment reads identities and consent categories across its inputs);
    a format without ``join``, or with no input, costs nothing. ``min_group`` is the
    config's ``min_group_size``, which the notes of a join keep to."""
    for name in FORMATS:
        mine = [s for s in staged if s.format == name]
        join = getattr(format_module(name), "join", None) if mine else None
        if join is not None:
            join(con, mine, min_group)


def _text_columns(
    con: Any,
    kind: FileKind,
    files: list[Path],
    columns: dict[str, str],
    config: Config,
    role: str,
    chosen: str,
) -> tuple[tuple[str, ...], dict[str, dict[str, Path]]]:
    """The columns of a CSV input that the sniffer typed otherwise and that are read as text:
    identifier columns, time columns typed with a zone, in a consent file every column but
    its times (a status of ``1.50`` or ``INF`` mapped in ``[consent.status_words]`` was read
    as the number 1.5 or an endless date) and, in events, consent flag columns
    (``consent_<purpose>``) and, when the input has several ``files``, time columns its
    files give different types (:func:`_times_typed_apart`) and, in events, every column but
    the time columns (its features).

    A number loses what an id is ("1234567890.1611144299", a GA4 client id, reads as the
    double 1234567890.1611145; "007" as 7), so the same user would not match between a CSV
    and a JSON or Parquet input, and two users could become one. A time with a zone is read
    from its text so that an offset no zone has (+99:00) is refused, not added
    (:func:`privdiag.ingest.sqlparts.iso_ts`). A flag column is read by its values as text
    anyway (:func:`privdiag.ingest.sqlparts.flag`), and the checks only ask whether a feature
    is present: the sniffer gives a column one type for all the files of a folder, so a file
    that writes it as 1/0 and another as yes/no or true/false could not both be read. The
    Spark engine reads CSV its own way (Known limitations). Also returned: per time column
    its files give different types, the first file of each type."""
    if getattr(con, "engine_name", "duckdb") != "duckdb":
        return (), {}
    times = time_column_names(config)
    if kind.container in ("json", "ndjson"):
        return () if chosen == "ga4" else _zoned_json_times(columns, times), {}
    if kind.container != "csv":
        return (), {}
    ids = id_column_names(config)

    def as_text(column: str, sql_type: str) -> bool:
        low = column.lower()
        if low in times:
            return sql_type == "TIMESTAMP WITH TIME ZONE"
        features = role == "events" and len(files) > 1
        flags = role == "events" and low.startswith("consent_")
        return low in ids or flags or features or role == "consent"

    keys = partition_columns(files)  # from the folder names, not the files: no type to give
    typed = {c: t for c, t in columns.items() if t != "VARCHAR" and c not in keys}
    text = tuple(c for c, t in typed.items() if as_text(c, t))
    typed_times = [c for c in typed if c.lower() in times and c not in text]
    apart = _times_typed_apart(con, files, typed_times) if len(files) > 1 and typed_times else {}
    return text + tuple(apart), apart


# The first rows of each file of a CSV folder whose types are compared for its time columns.
SNIFF_ROWS = 2048


def _times_typed_apart(
    con: Any, files: list[Path], columns: list[str]
) -> dict[str, dict[str, Path]]:
    """The time ``columns`` of a folder of CSV ``files`` that its files give different types
    by their first rows: ISO text in one file (a time without a zone, a date), epoch numbers
    in another. The reader takes one type for all the files and refuses the values of the
    others; read from its text, each time is read as what it is
    (:func:`privdiag.ingest.sqlparts.any_ts`). A time the files agree on keeps its type,
    whatever its format (10/01/2026 10:00 is read as the sniffer found it). Each file's first
    rows are sniffed (a few milliseconds a file), only for a folder whose time the reader
    typed as a time without a zone, a date or a number: one with a zone is read as text.
    Returns per such column the first file of each type, for the error on a time its text
    does not give."""
    import duckdb

    seen: dict[str, dict[str, Path]] = {c: {} for c in columns}
    for path in files:
        try:
            row = con.execute(
                f"SELECT Columns FROM sniff_csv({path_literal(path)}, header=true, "
                f"sample_size={SNIFF_ROWS}, quote='\"', escape='\"')"
            ).fetchone()
        except duckdb.Error:
            continue  # the read names what is wrong with that file
        types = {c["name"]: c["type"] for c in row[0]} if row else {}
        for column, kinds in seen.items():  # text: a file whose first rows have no time
            if types.get(column, "VARCHAR") != "VARCHAR":
                kinds.setdefault(types[column], path)
        if all(len(k) > 1 for k in seen.values()):
            break
    return {c: kinds for c, kinds in seen.items() if len(kinds) > 1}


def _zoned_json_times(columns: dict[str, str], times: set[str]) -> tuple[str, ...]:
    """The time columns of a JSON input that the reader types with a zone (and so shifts by
    any offset, +99:00 too): read as text, as a CSV's are. Not of an input staged as a GA4
    export, whose reader gives its own types (its time is epoch microseconds); a GA4-shaped
    file read with ``--format generic`` is checked like any other."""
    zoned = "TIMESTAMP WITH TIME ZONE"
    return tuple(c for c, t in columns.items() if t == zoned and c.lower() in times)


def _count(con: Any, table: str) -> int:
    """The rows of ``table`` (a consent file read into a temp table)."""
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def _read_again_sql(
    con: Any,
    read_sql: str,
    files: list[Path],
    kind: FileKind,
    columns: dict[str, str],
    *,
    role: str,
    index: int,
    argument: str,
) -> str:
    """Return how the stager reads the input: a consent file from a temp table it is read into
    once, one CSV file with the column types already found, anything else as it was read."""
    if role == "consent":
        return materialise(con, read_sql, f"in{index}_raw", argument, files)
    if kind.container == "csv" and len(files) == 1:
        # Each later read would sniff the whole file again: pass the types found once
        # (not of hive partition keys, which come from the folder names, not the file).
        keys = partition_columns(files)
        return reader_sql(files, kind, {c: t for c, t in columns.items() if c not in keys})
    return read_sql


def _chosen_format(con: Any, role: str, fmt: str, columns: dict[str, str], argument: str) -> str:
    """Return the format to stage the input as: consent for a consent input, else the one
    detected from its columns (``fmt`` auto) or forced; refuse a forced format the columns do
    not fit, and a DuckDB-only format on another engine."""
    if role == "consent":
        chosen = "consent"
    elif fmt == "auto":
        chosen = next(f for f in FORMATS if _detect(f, columns))
        if chosen == "generic":
            _refuse_consent_log(columns, argument)
    else:
        chosen = fmt
        _check_forced(chosen, columns, argument)
    if chosen in DUCKDB_ONLY and getattr(con, "engine_name", "duckdb") != "duckdb":
        raise _duckdb_only(argument, chosen)
    return chosen


def _refuse_consent_log(columns: dict[str, str], argument: str) -> None:
    """Refuse dbt-snowplow-web's consent log given as events: read as events, its consent
    rows would be page events and its decisions lost."""
    from privdiag.ingest.consent_file import is_snowplow_log

    if is_snowplow_log(columns):
        what = "is" if Path(argument).is_file() else "is or holds"
        raise InputError(
            f"{what} a Snowplow consent log (snowplow_web_consent_log), not events",
            path=argument,
            hint="give the log with --consent, beside the events it was built from",
        )


def _run_stager(chosen: str, ctx: StageContext, argument: str) -> Staged:
    """Run format ``chosen``'s stager; a DuckDB error becomes an InputError naming the input."""
    import duckdb

    try:
        return format_module(chosen).stage(ctx)
    except duckdb.Error as exc:
        explained = explain_read_error(ctx.files, str(exc))
        if explained:
            raise explained from exc
        raise InputError(
            f"cannot be read as {chosen}: {duck_message(exc)}",
            path=argument,
            hint="check the file, or choose the format with --format",
        ) from exc


# Formats whose staging uses DuckDB's JSON functions, which the Spark engine does not have.
DUCKDB_ONLY = ("segment", "snowplow")


def _duckdb_only(argument: str, fmt: str) -> UsageError:
    return UsageError(
        f"{argument} is a {fmt} export: only the DuckDB engine can read {fmt} exports, "
        "the Spark engine cannot",
        hint='scan it with --engine duckdb (the default; or [engine] name = "duckdb"), or '
        "pass --format generic if it is not a " + fmt + " export",
    )


def check_engine_formats(data: list[str], fmt: str, config: Config) -> None:
    """Raise UsageError when the Spark engine is chosen for an events input in a DuckDB-only
    format, before Spark starts.

    The format is the one --format or the config's [sources] give, else the one detected
    from a sample of the input's first file (local files only: Spark lists remote ones, and
    the loader checks those once it detects their format).
    """
    if config.engine.name == "duckdb":
        return
    for argument in data:
        configured = configured_source(argument, config)[1]
        chosen = fmt if fmt != "auto" else configured or _peek_format(argument)
        if chosen in DUCKDB_ONLY:
            raise _duckdb_only(argument, chosen)


# Records (or CSV rows) a format is detected from before a Spark run: its first file's first.
PEEK_SAMPLE = 20_000


def peek_columns(argument: str) -> dict[str, str] | None:
    """Return the columns (name -> type) of a sample of a local input's first file, None
    when it cannot be read (the loader reports that, with the engine chosen)."""
    import duckdb

    if "://" in argument:
        return None
    try:
        files = expand(argument)
        sql = reader_sql(files[:1], container_of(files, argument), sample=PEEK_SAMPLE)
        with duckdb.connect() as con:
            rows = con.execute(f"DESCRIBE SELECT * FROM {sql}").fetchall()
    except (duckdb.Error, InputError, OSError):
        return None
    return {r[0]: r[1] for r in rows}


def detected_format(columns: dict[str, str]) -> str:
    """The format ``columns`` are detected as (generic when no export's)."""
    return next(f for f in FORMATS if _detect(f, columns))


def _peek_format(argument: str) -> str | None:
    """Return the format detected from a sample of a local input, None when it cannot be read
    (the loader reports that, with the engine chosen)."""
    columns = peek_columns(argument)
    return None if columns is None else detected_format(columns)


# Forced formats whose reader would otherwise accept anything (GA4 says what it misses itself).
CHECKED_WHEN_FORCED = ("segment", "snowplow")


def _check_forced(fmt: str, columns: dict[str, str], argument: str) -> None:
    """Refuse a --format the file's columns do not fit, instead of reading it as nothing."""
    if fmt in CHECKED_WHEN_FORCED and not _detect(fmt, columns):
        raise InputError(
            f"is not a {fmt} export: its fields do not match (it has: "
            f"{', '.join(list(columns)[:8])})",
            path=argument,
            hint="leave --format at auto, or check that this is the right file",
        )


def configured_source(argument: str, config: Config) -> tuple[str | None, str | None]:
    """Return the config's name and format for an argument listed under [sources.X] paths."""
    wanted = Path(argument).resolve()
    for name, spec in config.sources.items():
        for path in spec.paths:
            if path == argument or config.resolve(path).resolve() == wanted:
                return name, spec.format
    return None, None


def detected_export(columns: dict[str, str]) -> str | None:
    """The export format other than generic that ``columns`` are detected as, else None."""
    return next((f for f in FORMATS if f != "generic" and _detect(f, columns)), None)


def _detect(fmt: str, columns: dict[str, str]) -> bool:
    try:
        return bool(format_module(fmt).detect(columns))
    except UsageError:
        return False
