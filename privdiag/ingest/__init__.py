"""Ingestion: detect each input's format, stage it, and build the canonical tables.

``load`` is the one entry point. Each format lives in its own module with ``NAME``,
``detect(columns)`` and ``stage(ctx)``; adding a format is adding a module to ``FORMATS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privdiag.config import Config
from privdiag.engine import literal, one
from privdiag.errors import InputError, UsageError
from privdiag.ingest.base import StageContext, Staged
from privdiag.ingest.consent_strings import apply_to_events
from privdiag.ingest.files import (
    FileKind,
    check_csv_columns,
    check_csv_header,
    expand,
    explain_read_error,
    first_ragged_line,
    sniff,
    source_name,
)
from privdiag.ingest.placeholders import clear_placeholder_ids
from privdiag.ingest.sqlparts import CANONICAL_COLUMNS
from privdiag.result import InputInfo, sha256_file

# Detection order: the most specific formats first; generic always matches.
FORMATS: tuple[str, ...] = ("ga4", "snowplow", "segment", "generic")
CONSENT_COLUMNS = ("user_key", "purpose", "granted", "ts", "source", "version", "region", "device")


@dataclass
class Loaded:
    """What ingestion produced besides the tables: inputs, notes, unmapped vocabulary."""

    inputs: list[InputInfo] = field(default_factory=list)
    staged: list[tuple[str, Staged]] = field(default_factory=list)
    unmapped: dict[str, list[str]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)  # source -> format
    undecodable: dict[str, int] = field(default_factory=dict)  # column -> events
    notes: list[str] = field(default_factory=list)  # about the combined inputs


def format_module(name: str) -> Any:
    """Return the module that reads format ``name``."""
    module_name = "consent_file" if name == "consent" else name
    try:
        return importlib.import_module(f"privdiag.ingest.{module_name}")
    except ModuleNotFoundError as exc:
        raise UsageError(f"format {name!r} is not available in this build") from exc


def reader_sql(
    files: list[Path], kind: FileKind, types: dict[str, str] | None = None, sample: int = -1
) -> str:
    """Return a DuckDB table-function call that reads all ``files`` of one container.

    A CSV reader sniffs every row for the column types (or the first ``sample`` rows) unless
    ``types`` gives them (as an earlier full sniff found them); then only a sample is sniffed
    for the dialect. JSON readers infer their types from ``sample`` records likewise.
    """
    names = "[" + ", ".join(literal(str(f)) for f in files) + "]"
    compression = ", compression='gzip'" if kind.compressed else ""
    if kind.container == "parquet":
        return f"read_parquet({names}, union_by_name=true, hive_partitioning=true)"
    if kind.container == "csv" and types:
        typed = ", ".join(f"{literal(c)}: {literal(t)}" for c, t in types.items())
        return (
            f"read_csv({names}, header=true, union_by_name=true, types={{{typed}}}, "
            f"strict_mode=false, {CSV_RFC4180}{compression})"
        )
    if kind.container == "csv":
        return (
            f"read_csv({names}, header=true, union_by_name=true, sample_size={sample}, "
            f"strict_mode=false, {CSV_RFC4180}{compression})"
        )
    fmt = "array" if kind.container == "json" else "auto"
    fmt_sql = "format='auto'" if fmt == "auto" else "format='auto', records=true"
    return (
        f"read_json({names}, {fmt_sql}, union_by_name=true, sample_size={sample}, "
        f"maximum_object_size=67108864{compression})"
    )


# Quote and escape are given, not sniffed: the sniffer can miss RFC-4180 doubled quotes
# ('"""x"' read as '""x'); lines up to 64 MB are read like JSON objects are. The buffer is
# set to that size too: left to DuckDB it grows with max_line_size to one buffer for the
# whole file, which one thread reads (1M rows: 0.65 s on one core, 0.42 s on two).
CSV_RFC4180 = "quote='\"', escape='\"', max_line_size=67108864, buffer_size=67108864"


def duck_message(exc: Exception) -> str:
    """Return the first line of a DuckDB error, without its class prefix, kept short."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for prefix in (
        "Invalid Input Error: ",
        "Conversion Error: ",
        "IO Error: ",
        "Binder Error: ",
        "Parser Error: ",
        "Catalog Error: ",
    ):
        text = text.removeprefix(prefix)
    from privdiag.privacy import without_quoted_data

    return without_quoted_data(text)[:300]


def _describe(
    con: Any, read_sql: str, where: str, files: list[Path] | None = None
) -> dict[str, str]:
    import duckdb

    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {read_sql}").fetchall()
    except duckdb.Error as exc:
        explained = explain_read_error(files or [], str(exc))
        if explained:
            raise explained from exc
        raise InputError(
            f"cannot be read: {duck_message(exc)}",
            path=where,
            hint="check that the file is complete CSV, JSON or Parquet",
        ) from exc
    return {r[0]: r[1] for r in rows}


def _container(files: list[Path], argument: str) -> FileKind:
    kinds = {sniff(f) for f in files}
    containers = {k.container for k in kinds}
    if len(containers) > 1:
        raise InputError(
            f"mixes file types ({', '.join(sorted(containers))})",
            path=argument,
            hint="give each kind of file as its own argument",
        )
    compressed = any(k.compressed for k in kinds)
    return FileKind(containers.pop(), compressed)


def _files(con: Any, argument: str) -> tuple[list[Path], FileKind]:
    """The files of an argument and their container; URLs (s3a://...) if the engine lists them."""
    list_files = getattr(con, "list_files", None)
    if list_files is not None and "://" in argument:
        return list_files(argument)
    files = expand(argument)
    kind = _container(files, argument)
    if kind.container == "csv":
        check_csv_header(files[0])
    return files, kind


def _stage_one(
    con: Any,
    argument: str,
    index: int,
    *,
    role: str,
    fmt: str,
    config: Config,
    source: str | None = None,
) -> tuple[Staged, InputInfo, list[Path]]:
    import duckdb

    files, kind = _files(con, argument)
    read_sql = reader_sql(files, kind)
    columns = _describe(con, read_sql, argument, files)
    if kind.container == "csv":
        check_csv_columns(files[0], columns)
    _check_json_records(columns, kind, argument)
    if kind.container == "csv" and len(columns) < 2:
        raise InputError(
            "reads as a single column: its delimiter could not be told, or its rows have "
            f"different numbers of fields{_ragged(files)}",
            path=argument,
            hint="use one delimiter (comma, semicolon or tab) in every row and quote fields "
            "that contain it",
        )
    if role == "consent":
        read_sql = _materialise(con, read_sql, f"in{index}_raw", argument)
    elif kind.container == "csv" and len(files) == 1:
        # Each later read would sniff the whole file again: pass the types found once
        # (not of hive partition keys, which come from the folder names, not the file).
        keys = {part.split("=", 1)[0] for part in files[0].parent.parts if "=" in part}
        read_sql = reader_sql(files, kind, {c: t for c, t in columns.items() if c not in keys})
    configured, configured_fmt = _configured_source(argument, config)
    name = source or configured or source_name(argument)
    if fmt == "auto" and configured_fmt:
        fmt = configured_fmt
    if role == "consent":
        chosen = "consent"
    elif fmt == "auto":
        chosen = next(f for f in FORMATS if _detect(f, columns))
    else:
        chosen = fmt
        _check_forced(chosen, columns, argument)
    if chosen in DUCKDB_ONLY and getattr(con, "engine_name", "duckdb") != "duckdb":
        raise _duckdb_only(argument, chosen)
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
        scratch=[("TABLE", read_sql)] if role == "consent" else [],
    )
    try:
        staged = format_module(chosen).stage(ctx)
    except duckdb.Error as exc:
        explained = explain_read_error(files, str(exc))
        if explained:
            raise explained from exc
        raise InputError(
            f"cannot be read as {chosen}: {duck_message(exc)}",
            path=argument,
            hint="check the file, or choose the format with --format",
        ) from exc
    staged.source = name
    staged.scratch = ctx.scratch
    info = InputInfo(path=argument, format=chosen, rows=0, sha256="", role=role)
    return staged, info, files


def _materialise(con: Any, read_sql: str, table: str, where: str) -> str:
    """Read a consent file once into a temp table and return the table's name.

    Staging a consent file validates and reads it several times; a CSV read with a full
    sniff each time cost more than the rest of the scan on large logs.
    """
    import duckdb

    try:
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {read_sql}")
    except duckdb.Error as exc:
        raise InputError(
            f"cannot be read: {duck_message(exc)}",
            path=where,
            hint="check that the file is complete CSV, JSON or Parquet",
        ) from exc
    return table


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
        configured = _configured_source(argument, config)[1]
        chosen = fmt if fmt != "auto" else configured or _peek_format(argument)
        if chosen in DUCKDB_ONLY:
            raise _duckdb_only(argument, chosen)


# Records (or CSV rows) a format is detected from before a Spark run: its first file's first.
PEEK_SAMPLE = 20_000


def _peek_format(argument: str) -> str | None:
    """Return the format detected from a sample of a local input, None when it cannot be read
    (the loader reports that, with the engine chosen)."""
    import duckdb

    if "://" in argument:
        return None
    try:
        files = expand(argument)
        sql = reader_sql(files[:1], _container(files, argument), sample=PEEK_SAMPLE)
        with duckdb.connect() as con:
            rows = con.execute(f"DESCRIBE SELECT * FROM {sql}").fetchall()
    except (duckdb.Error, InputError, OSError):
        return None
    columns = {r[0]: r[1] for r in rows}
    return next(f for f in FORMATS if _detect(f, columns))


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


def _check_json_records(columns: dict[str, str], kind: FileKind, argument: str) -> None:
    """Refuse JSON the reader could only take as one map per record (an empty key does it)."""
    if kind.container in ("json", "ndjson") and list(columns) == ["json"]:
        if columns["json"].upper().startswith("MAP("):
            raise InputError(
                "its records cannot be read as columns: they are empty, or some field has "
                "an empty name",
                path=argument,
                hint='give every field a name (a key "" is not allowed)',
            )


def _ragged(files: list[Path]) -> str:
    """Text naming the first record whose field count differs from its header's, if any."""
    for path in files:
        found = first_ragged_line(path)
        if found:
            line, fields, width = found
            return f" ({path.name} line {line} has {fields} fields, its header {width})"
    return ""


def _configured_source(argument: str, config: Config) -> tuple[str | None, str | None]:
    """Return the config's name and format for an argument listed under [sources.X] paths."""
    wanted = Path(argument).resolve()
    for name, spec in config.sources.items():
        for path in spec.paths:
            if path == argument or config.resolve(path).resolve() == wanted:
                return name, spec.format
    return None, None


def _detect(fmt: str, columns: dict[str, str]) -> bool:
    try:
        return bool(format_module(fmt).detect(columns))
    except UsageError:
        return False


def _digest(info: InputInfo, digest: Future[str]) -> str:
    """The fingerprint hashed on the thread; InputError when the file went away meanwhile."""
    try:
        return digest.result()
    except OSError as exc:
        raise InputError(
            f"cannot be fingerprinted ({exc.strerror or exc}): it was moved or changed while "
            "being scanned",
            path=info.path,
            hint="scan a copy of the export that nothing rotates or rewrites",
        ) from exc


def _fingerprint(files: list[Path]) -> str:
    if hasattr(files[0], "fingerprint"):  # a remote file: its listing, not its bytes
        from hashlib import sha256

        return sha256(
            "\n".join(getattr(f, "fingerprint", str(f)) for f in files).encode()
        ).hexdigest()
    if len(files) == 1:
        return sha256_file(files[0])
    from hashlib import sha256

    combined = sha256()
    for f in files:
        combined.update(sha256_file(f).encode())
    return combined.hexdigest()


def _build_events(con: Any, views: list[str]) -> None:
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {v}" for v in views)
    con.execute(f"CREATE TABLE events AS {union}")
    have = {r[0] for r in con.execute("DESCRIBE events").fetchall()}
    for column in CANONICAL_COLUMNS:
        if column not in have:
            sql_type = (
                "BOOLEAN"
                if column.startswith("consent_") or column == "cookieless"
                else ("TIMESTAMPTZ" if column == "ts" else "VARCHAR")
            )
            con.execute(f"ALTER TABLE events ADD COLUMN {column} {sql_type}")


@dataclass
class ConsentInput:
    """What the loader keeps of one input's consent records once their staging is dropped."""

    rows: int
    bad_time: str | None  # the year of the first decision time before EARLIEST or ahead


def _build_consent(con: Any, loaded: Loaded, *, drop: bool) -> dict[int, ConsentInput]:
    """Insert each input's consent records into ``consent``; return, by input position, their
    count and first out-of-range time, read while the input's staging still exists. With
    ``drop``, each input's staging is dropped once its records are in."""
    con.execute("""CREATE TABLE consent (user_key VARCHAR, purpose VARCHAR, granted BOOLEAN,
                   ts TIMESTAMPTZ, source VARCHAR, version VARCHAR, region VARCHAR,
                   device VARCHAR)""")
    cols = ", ".join(CONSENT_COLUMNS)
    found = {}
    for index, (_, staged) in enumerate(loaded.staged):
        if not staged.consent_view:
            continue
        rows = inserted(con, f"INSERT INTO consent SELECT {cols} FROM", staged.consent_view)
        bad = one(
            con,
            f"""SELECT CAST(year(ts) AS VARCHAR) FROM {staged.consent_view}
                WHERE ts < TIMESTAMPTZ '{EARLIEST}' OR ts > now() + INTERVAL 2 DAY LIMIT 1""",
        )
        found[index] = ConsentInput(rows=rows, bad_time=str(bad[0]) if bad else None)
        if drop:  # not before: Segment's consent view reads the input's event staging
            _drop_scratch(con, [staged])
    return found


def inserted(con: Any, insert: str, source: str) -> int:
    """Run ``insert`` followed by ``source`` (an INSERT ... SELECT ... FROM without its table)
    and return how many rows it added.

    DuckDB's INSERT returns that count as its one row; an engine whose INSERT returns no row
    (Spark's) counts ``source`` instead: once, not the whole target table before and after.
    """
    row = con.execute(f"{insert} {source}").fetchone()
    if row is not None:
        return int(row[0])
    return _count(con, f"SELECT count(*) FROM {source}")


def _drop_scratch(con: Any, staged: list[Staged]) -> None:
    """Drop the temp tables and views the inputs were staged in, the last made first."""
    for one_input in staged:
        for kind, name in reversed(one_input.scratch):
            con.execute(f"DROP {kind} IF EXISTS {name}")
        one_input.scratch = []


def load(
    con: Any,
    data: list[str],
    consent: list[str],
    config: Config,
    *,
    fmt: str = "auto",
    progress: Callable[[str], None] | None = None,
    keep_staging: bool = False,
) -> Loaded:
    """Read every input into the ``events`` and ``consent`` tables of ``con``.

    The temp tables and views each input was staged in are dropped once its records are in
    those tables, unless ``keep_staging`` (:mod:`privdiag.snowplow_models` reads Snowplow's).
    Raises InputError naming the file (and row or field) for anything unreadable; nothing is
    written anywhere but the connection.
    """
    import duckdb

    if fmt != "auto" and fmt not in FORMATS:
        raise UsageError(
            f"unknown --format {fmt!r}", hint=f"use auto or one of {', '.join(FORMATS)}"
        )
    loaded = Loaded()
    con.execute(f"CREATE OR REPLACE TEMP TABLE {UNMAPPED} AS {_NO_UNMAPPED}")
    event_views: list[str] = []
    jobs = [(a, "events") for a in data] + [(a, "consent") for a in consent]
    # Fingerprints are read on a thread while DuckDB stages and builds the tables: hashing
    # releases the GIL, and a 4 GB export takes seconds to hash.
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="privdiag-sha256")
    try:
        digests = []
        for index, (argument, role) in enumerate(jobs):
            if progress:
                progress(f"reading {argument}")
            staged, info, files = _stage_one(
                con, argument, index, role=role, fmt=fmt, config=config
            )
            digests.append(hashing.submit(_fingerprint, files))
            loaded.inputs.append(info)
            loaded.staged.append((argument, staged))
            if staged.events_view:
                event_views.append(staged.events_view)
            if staged.unmapped_categories:
                loaded.unmapped.setdefault(staged.source or argument, []).extend(
                    staged.unmapped_categories
                )
                _keep_unmapped(con, staged.source or argument, staged.unmapped_sql)

        if not event_views:
            raise UsageError("no event data given", hint="pass at least one events file or folder")
        events_only = [] if keep_staging else [s for _, s in loaded.staged if not s.consent_view]
        try:
            _build_events(con, event_views)
            _drop_scratch(con, events_only)
            consent_inputs = _build_consent(con, loaded, drop=not keep_staging)
            loaded.undecodable = apply_to_events(con)
            loaded.notes += drop_duplicate_events(con)
            loaded.notes += clear_placeholder_ids(con)
        except duckdb.Error as exc:
            raise InputError(
                f"inputs cannot be combined: {duck_message(exc)}",
                hint="check that the same feature has the same type in every input",
            ) from exc
        for info, digest in zip(loaded.inputs, digests, strict=True):
            info.sha256 = _digest(info, digest)
    finally:  # on an error, files not yet hashed are not hashed
        hashing.shutdown(wait=True, cancel_futures=True)

    _count_rows(con, loaded, consent_inputs)
    _check_missing_times(con, loaded)
    _check_time_range(con, loaded)
    _check_consent_time_range(loaded, consent_inputs)
    return loaded


EARLIEST = "2000-01-01"
# The decisions whose category maps to no purpose: (source, category, user_key).
UNMAPPED = "unmapped_consent"
_NO_UNMAPPED = (
    "SELECT CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS category, "
    "CAST(NULL AS VARCHAR) AS user_key WHERE FALSE"
)


def _keep_unmapped(con: Any, source: str, sql: str | None) -> None:
    """Add an input's decisions in unmapped categories to ``unmapped_consent``, before its
    staging is dropped; a stager without the SQL adds none."""
    if sql:
        con.execute(
            f"INSERT INTO {UNMAPPED} SELECT {literal(source)}, CAST(category AS VARCHAR), "
            f"CAST(user_key AS VARCHAR) FROM ({sql})"
        )


TIMELESS_KEPT = ("segment",)  # formats that keep events without a time, with a note


def _check_time_range(con: Any, loaded: Loaded) -> None:
    """Refuse event times before 2000 or more than two days ahead: a default or a wrong unit."""
    bad = one(
        con,
        f"""
        SELECT _input, CAST(year(ts) AS VARCHAR) FROM events
        WHERE ts < TIMESTAMPTZ '{EARLIEST}' OR ts > now() + INTERVAL 2 DAY
        LIMIT 1""",
    )
    if bad:
        raise InputError(
            f"an event time in year {bad[1]} is before {EARLIEST} or in the future",
            path=loaded.inputs[int(bad[0])].path,
            field="time",
            hint="a placeholder date (1970, 9999) or an epoch in the wrong unit; fix or drop "
            "those rows",
        )


def _check_missing_times(con: Any, loaded: Loaded) -> None:
    """Refuse events whose time could not be read (a reader that casts leniently leaves NULL).

    Segment keeps documentation-style fragments without a time on purpose, and says so.
    """
    kept = [i for i, info in enumerate(loaded.inputs) if info.format in TIMELESS_KEPT]
    skip = f"AND _input NOT IN ({', '.join(map(str, kept))})" if kept else ""
    bad = one(
        con, f"SELECT _input, count(*) FROM events WHERE ts IS NULL {skip} GROUP BY 1 LIMIT 1"
    )
    if bad:
        raise InputError(
            f"{bad[1]} events have no readable time",
            path=loaded.inputs[int(bad[0])].path,
            field="time",
            hint="use ISO-8601 (2026-10-01T12:00:00Z) or epoch seconds / ms / µs; fix or drop "
            "those rows",
        )


def _check_consent_time_range(loaded: Loaded, consent: dict[int, ConsentInput]) -> None:
    """Refuse consent decisions dated before 2000 or more than two days ahead, as for events."""
    for index, info in enumerate(loaded.inputs):
        bad = consent[index].bad_time if index in consent else None
        if bad:
            raise InputError(
                f"a consent decision time in year {bad} is before {EARLIEST} or in the future",
                path=info.path,
                field="time",
                hint="a placeholder date (1970, 9999) or an epoch in the wrong unit; fix or "
                "drop those rows",
            )


def drop_duplicate_events(con: Any) -> list[str]:
    """Drop exact duplicate events (every column equal); return notes on what was found.

    Exports re-sent or overlapping (two daily files sharing an hour) repeat events; counting
    them twice would inflate every rate. Events that share (source, event_id) but differ are
    kept, and said: which one is right cannot be told. A cheap count runs first; the table is
    rewritten only when an event_id repeats.
    """
    repeats = _repeated_ids(con)
    if not repeats:
        return []
    before = _count(con, "SELECT count(*) FROM events")
    con.execute("CREATE OR REPLACE TABLE events AS SELECT DISTINCT * FROM events")
    dropped = before - _count(con, "SELECT count(*) FROM events")
    notes = []
    if dropped:
        notes.append(
            f"{dropped} duplicate events (the same event again, every field equal) were dropped"
        )
    if _repeated_ids(con):
        notes.append(
            f"{_sharing_ids(con)} events share an event_id with another event of their source "
            "but differ; none was dropped"
        )
    return notes


def _repeated_ids(con: Any) -> int:
    """Events whose (source, event_id) another event of the table has too.

    Distinct hashes are counted first: equal ids have equal hashes, so no repeated hash
    means no repeated id, and the slower count of distinct strings runs only when a hash
    repeats (a repeat, or a collision).
    """
    where = "FROM events WHERE event_id IS NOT NULL"
    if not _count(con, f"SELECT count(*) - count(DISTINCT hash(source, event_id)) {where}"):
        return 0
    return _count(con, f"SELECT count(*) - count(DISTINCT (source, event_id)) {where}")


def _sharing_ids(con: Any) -> int:
    """Events whose (source, event_id) is also another event's: every one of them, not only
    the repeats (two events sharing an id are two)."""
    return _count(
        con,
        "SELECT sum(n) FROM (SELECT count(*) AS n FROM events WHERE event_id IS NOT NULL "
        "GROUP BY source, event_id HAVING count(*) > 1)",
    )


def _count(con: Any, sql: str) -> int:
    row = one(con, sql)
    return int(row[0]) if row and row[0] else 0


def _count_rows(con: Any, loaded: Loaded, consent: dict[int, ConsentInput]) -> None:
    counts = dict(con.execute("SELECT _input, count(*) FROM events GROUP BY 1").fetchall())
    for index, info in enumerate(loaded.inputs):
        if info.role == "events":
            info.rows = int(counts.get(index, 0))
            if info.rows == 0:
                raise InputError(
                    "holds no events (only a header, or an empty list)",
                    path=info.path,
                    hint="export the data again or leave it out",
                )
            loaded.formats.setdefault(_source_of(con, index), info.format)
        else:
            info.rows = consent[index].rows if index in consent else 0


def _source_of(con: Any, index: int) -> str:
    row = one(con, "SELECT any_value(source) FROM events WHERE _input = ?", [index])
    return str(row[0]) if row else ""
