"""Reading input files: the DuckDB reader of each container, the columns it finds, and
the errors that name the file, its row or its field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privdiag.engine import literal
from privdiag.errors import InputError
from privdiag.ingest.file_checks import (
    check_csv_columns,
    check_csv_header,
    check_parquet_columns,
    explain_read_error,
    first_long_line,
    first_ragged_line,
    first_unclosed_quote,
    long_line,
    non_object,
    unclosed_quote,
    went_away,
)
from privdiag.ingest.files import (
    MAX_LINE,
    FileKind,
    is_gzip,
    is_partition,
    partition_keys,
    path_literal,
    sniff,
)


def reader_sql(
    files: list[Path],
    kind: FileKind,
    types: dict[str, str] | None = None,
    sample: int = -1,
    text: tuple[str, ...] = (),
) -> str:
    """Return a DuckDB table-function call that reads all ``files`` of one container.

    A CSV reader sniffs every row for the column types (or the first ``sample`` rows) unless
    ``types`` gives them (as an earlier full sniff found them); then only a sample is sniffed
    for the dialect. The CSV columns ``text`` are read as text, the others sniffed. JSON
    readers infer their types from ``sample`` records likewise, unless ``types`` gives every
    column's. Every reader adds the columns of hive-style folder names (:data:`HIVE`).
    """
    names = "[" + ", ".join(path_literal(f) for f in files) + "]"
    compression = ", compression='gzip'" if _all_gzip(files, kind) else ""
    if kind.container == "parquet":
        return f"read_parquet({names}, union_by_name=true, {HIVE})"
    if kind.container == "csv" and types:
        typed = ", ".join(f"{literal(c)}: {literal(t)}" for c, t in types.items())
        return (
            f"read_csv({names}, header=true, union_by_name=true, types={{{typed}}}, "
            f"strict_mode=false, {CSV_RFC4180}, {HIVE}{compression})"
        )
    if kind.container == "csv":
        as_text = ", ".join(f"{literal(c)}: 'VARCHAR'" for c in text)
        typed = f"types={{{as_text}}}, " if text else ""
        return (
            f"read_csv({names}, header=true, union_by_name=true, sample_size={sample}, "
            f"{typed}strict_mode=false, {CSV_RFC4180}, {HIVE}{compression})"
        )
    fmt = "array" if kind.container == "json" else "auto"
    fmt_sql = "format='auto'" if fmt == "auto" else "format='auto', records=true"
    if types:  # JSON takes the type of every column or of none
        typed = ", ".join(f"{literal(c)}: {literal(t)}" for c, t in types.items())
        fmt_sql += f", columns={{{typed}}}"
    return (
        f"read_json({names}, {fmt_sql}, union_by_name=true, sample_size={sample}, "
        f"maximum_object_size={MAX_LINE}, {HIVE}{compression})"
    )


# Files in hive-style folders (``user_id=u1/part.csv``, ``dt=2026-10-01/``) are read with each
# folder's key as a column holding its value, in every container: left to DuckDB, a CSV or JSON
# reader adds them only when it detects the layout, and drops them silently when some file is
# outside such folders. The values are text as the folder names write them: cast, an id folder
# ``0x10`` read as 16 (one user with ``16``) and ``-0`` as 0; the stagers read times and
# consent flags from text anyway.
HIVE = "hive_partitioning=true, hive_types_autocast=false"


def _all_gzip(files: list[Path], kind: FileKind) -> bool:
    """True when ``files`` are read with compression='gzip': every one is gzipped (whatever
    its name). Files of both kinds are read with DuckDB's default instead, which decompresses
    by name (``.gz``, any case); :func:`container_of` refused the files whose name misleads.
    Files that are not local (a URL's) keep the input's compression."""
    if not kind.compressed:
        return False
    local = [f for f in files if isinstance(f, Path)]
    return len(local) < len(files) or all(is_gzip(f) for f in local)


# Quote and escape are given, not sniffed: the sniffer can miss RFC-4180 doubled quotes
# ('"""x"' read as '""x'); lines up to 64 MB are read like JSON objects are. The buffer is
# set to that size too: left to DuckDB it grows with max_line_size to one buffer for the
# whole file, which one thread reads (1M rows: 0.65 s on one core, 0.42 s on two).
CSV_RFC4180 = f"quote='\"', escape='\"', max_line_size={MAX_LINE}, buffer_size={MAX_LINE}"


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


def describe(
    con: Any, read_sql: str, where: str, files: list[Path] | None = None
) -> dict[str, str]:
    """Return the columns ``read_sql`` reads, name -> DuckDB type; InputError naming ``where``
    when the files cannot be read."""
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


def container_of(files: list[Path], argument: str) -> FileKind:
    """Return the one container of ``files`` (compressed when any is); InputError when they
    mix containers."""
    kinds = {sniff(f) for f in files}
    containers = {k.container for k in kinds}
    if len(containers) > 1:
        raise InputError(
            f"mixes file types ({', '.join(sorted(containers))})",
            path=argument,
            hint="give each kind of file as its own argument",
        )
    compressed = any(k.compressed for k in kinds)
    if len({k.compressed for k in kinds}) > 1:
        check_gzip_names(files)
    return FileKind(containers.pop(), compressed)


def check_gzip_names(files: list[Path]) -> None:
    """Refuse, in files of which some are gzipped and some not, a file whose name says
    otherwise (a gzipped ``b.csv``, a plain ``a.csv.gz``): such files are read with
    DuckDB's default, which decompresses a file when its name ends in ``.gz``."""
    for path in files:
        gzipped = is_gzip(path)
        if gzipped != path.name.lower().endswith(".gz"):
            said = (
                "is gzip-compressed but its name does not end in .gz"
                if gzipped
                else "is named .gz but is not gzip-compressed"
            )
            raise InputError(
                f"{said}, among files of which some are gzipped and some not",
                path=path,
                hint="name each gzipped file .gz and no other, or give the gzipped and plain "
                "files as separate inputs",
            )


def input_files(con: Any, argument: str, files: list[Path] | None) -> tuple[list[Path], FileKind]:
    """The files of an argument and their container; a URL's (``files`` None, s3a://...) as
    the engine lists them."""
    if files is None:
        return con.list_files(argument)
    try:
        kind = container_of(files, argument)
        check_partitions(files, argument)
        if kind.container == "csv":
            check_csv_header(files[0])
        if kind.container == "parquet":
            check_parquet_columns(files[0])
        if kind.container == "ndjson":
            check_line_lengths(files)
    except FileNotFoundError as exc:  # listed, then rotated away: an internal error before
        raise went_away(exc.filename or argument) from exc
    return files, kind


def check_partitions(files: list[Path], argument: str) -> None:
    """Refuse the files of one input when they are not all in hive-style folders of the same
    keys (``user_id=u1/`` beside ``user_id=u2/dt=2026-10-01/``, or a file outside them): the
    readers take a folder's key as a column of every file, so they cannot read such files
    together."""
    for path in files:
        _check_partition_values(path, argument)
    first = set(partition_keys(files[0]))
    for path in files[1:]:
        keys = set(partition_keys(path))
        if keys != first:
            raise InputError(
                f"holds files in folders of different partition keys: {files[0]} "
                f"({_keys_text(first)}) and {path} ({_keys_text(keys)})",
                path=argument,
                hint="put every file of the input in key=value folders of the same keys, or "
                "give the files of each layout as an input of its own",
            )


def _check_partition_values(path: Path, argument: str) -> None:
    """Refuse a key=value folder whose value holds another ``=`` (a base64 user id ends in
    one: ``user_id=dXNlcjE=``): DuckDB does not read its key, so the column went missing
    (every user id lost, no word), or files of such folders were refused in DuckDB's words
    as a mismatch of partitions."""
    for part in path.parent.parts:
        if is_partition(part) and "=" in part.split("=", 1)[1]:
            raise InputError(
                f"{path}: a key=value folder above it holds '=' in its value, which the "
                "hive-style reader cannot read",
                path=argument,
                hint="write each '=' of a folder's value as %3D (user_id=dXNlcjE%3D reads "
                "as the value dXNlcjE=), or move the files out of such folders",
            )


def _keys_text(keys: set[str]) -> str:
    """Partition keys as an error names them."""
    if not keys:
        return "in no key=value folder"
    return "keys " + ", ".join(sorted(keys))


def check_line_lengths(files: list[Path]) -> None:
    """Refuse an NDJSON file with a line over 64 MB before any reader takes it whole."""
    for path in files:
        number = first_long_line(path)
        if number:
            raise long_line(path, number)


def materialise(
    con: Any, read_sql: str, table: str, where: str, files: list[Path] | None = None
) -> str:
    """Read a consent file once into a temp table and return the table's name.

    Staging a consent file validates and reads it several times; a CSV read with a full
    sniff each time cost more than the rest of the scan on large logs.
    """
    import duckdb

    try:
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {read_sql}")
    except duckdb.Error as exc:
        explained = explain_read_error(files or [], str(exc))
        if explained:
            raise explained from exc
        raise InputError(
            f"cannot be read: {duck_message(exc)}",
            path=where,
            hint="check that the file is complete CSV, JSON or Parquet",
        ) from exc
    return table


def check_columns(
    files: list[Path], kind: FileKind, columns: dict[str, str], argument: str
) -> None:
    """Raise InputError naming ``argument`` when the columns read are not a table: a CSV header
    the rows do not fit, JSON records that are not objects of named fields, or a CSV that reads
    as one column, or a column name too long to be one. ``files`` are the local files to look
    into (none for a URL's)."""
    check_name_lengths(columns, argument)
    if kind.container == "csv" and files:
        check_csv_columns(files[0], columns)
    check_json_records(columns, kind, argument, files)
    if kind.container in ("json", "ndjson"):
        check_json_cases(columns, argument)
    if kind.container == "csv" and len(columns) < 2:
        for path in files:  # the sniffer gives up on a quote that runs to the end
            line = first_unclosed_quote(path)
            if line:
                raise unclosed_quote(path, line)
        for path in files:  # and on a line longer than it reads (a corrupt file, no newlines)
            line = first_long_line(path)
            if line:
                raise long_line(path, line)
        raise InputError(
            "reads as a single column: its delimiter could not be told, or its rows have "
            f"different numbers of fields{ragged_note(files)}",
            path=argument,
            hint="use one delimiter (comma, semicolon or tab) in every row and quote fields "
            "that contain it",
        )


# The longest column name taken; a longer one would be a feature's name in every report.
MAX_COLUMN_NAME = 1000


def check_name_lengths(columns: dict[str, str], argument: str) -> None:
    """Refuse a column whose name is longer than :data:`MAX_COLUMN_NAME`, naming its position
    and length (not the name: it may be a row of data read as the header)."""
    for position, name in enumerate(columns, start=1):
        if len(name) > MAX_COLUMN_NAME:
            raise InputError(
                f"its column {position} has a name of {len(name):,} characters (at most "
                f"{MAX_COLUMN_NAME:,})",
                path=argument,
                hint="give the column a short name in the header; a name that long is often "
                "data on the header line (a header and a row joined without a line break)",
            )


def check_json_cases(columns: dict[str, str], argument: str) -> None:
    """Refuse JSON records that write one field in two letter cases (``Gclid`` in some,
    ``gclid`` in others, as two SDK versions send it): the reader renames the second
    ``gclid_1``, so a feature configured as gclid met half its events and the scan's note
    suggested gclid_1, a name the data does not hold. CSV and Parquet are refused by their
    header (:func:`check_unique_names`); JSON's fields are known only as read."""
    folded = {c.casefold(): c for c in columns}
    for column in columns:
        base, _, number = column.rpartition("_")
        first = folded.get(base.casefold())
        if base and number.isdigit() and base not in columns and first not in (None, column):
            raise InputError(
                f"names field '{first}/{base}' in two letter cases (the reader renamed the "
                f"second {column})",
                path=argument,
                field=base,
                hint="write the field in one letter case in every record, or drop one of them",
            )


def check_json_records(
    columns: dict[str, str], kind: FileKind, argument: str, files: list[Path] = ()
) -> None:
    """Refuse JSON the reader could only take as one map per record (an empty key does it),
    or as one JSON value per record: some record is no object (an array, a number), so none
    has columns; the first such line of ``files`` (NDJSON) is named."""
    if kind.container in ("json", "ndjson") and list(columns) == ["json"]:
        if columns["json"].upper().startswith("MAP("):
            raise InputError(
                "its records cannot be read as columns: they are empty, or some field has "
                "an empty name",
                path=argument,
                hint='give every field a name (a key "" is not allowed)',
            )
        if columns["json"].upper() == "JSON":
            found = next(
                ((p, n) for p in files if kind.container == "ndjson" for n in [non_object(p)] if n),
                None,
            )
            named = f" of {found[0].name}" if found and len(files) > 1 else ""
            where = f"line {found[1]}{named} is" if found else "some record is"
            raise InputError(
                f"its records cannot be read as columns: {where} a JSON value that is not an "
                "object (an array, a number or a text)",
                path=argument,
                hint="write each event as one JSON object of named fields; remove the others",
            )


def ragged_note(files: list[Path]) -> str:
    """Text naming the first record whose field count differs from its header's, if any."""
    for path in files:
        found = first_ragged_line(path)
        if found:
            line, fields, width = found
            return f" ({path.name} line {line} has {fields} fields, its header {width})"
    return ""
