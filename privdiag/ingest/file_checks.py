"""Look into an input file's text when a reader cannot be trusted with it, or has failed:
the header's names, ragged lines, quotes left open, invalid UTF-8, over-long lines; and
the reader's error told again with the file, line and field a user needs."""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from privdiag.errors import InputError
from privdiag.ingest.files import MAX_LINE, check_gzip, is_gzip, read_head, truncated_gzip


def header_names(path: Path) -> list[str] | None:
    """Return the column names of a CSV's first line (delimiter sniffed), or None if unsure."""
    import csv
    import io

    head, _ = read_head(path)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text else ""
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
        return [n.strip() for n in next(csv.reader(io.StringIO(first), dialect))]
    except (csv.Error, StopIteration):
        return None


def check_csv_header(path: Path) -> None:
    """Refuse a CSV whose header names a column twice, in any letter case (SQL names are
    case-insensitive, so readers would rename one silently)."""
    check_unique_names(path, header_names(path) or [])


def check_parquet_columns(path: Path) -> None:
    """Refuse a Parquet file whose schema names a column twice, as :func:`check_csv_header`
    does a CSV (DuckDB renamed the second ``user_id`` to ``user_id_1``, then a feature)."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except (OSError, ValueError):  # not Parquet after all: the reader says what is wrong
        return
    check_unique_names(path, names, "schema")


def check_unique_names(path: Path, names: list[str], where: str = "header") -> None:
    """Raise InputError naming the first column of ``names`` named twice, in any case."""
    seen: dict[str, str] = {}
    for name in names:
        if name and name.casefold() in seen:
            twice = name if seen[name.casefold()] == name else f"{seen[name.casefold()]}/{name}"
            raise InputError(
                f"names column {twice!r} twice in its {where}",
                path=path,
                field=name,
                hint="rename or drop one of the two columns",
            )
        seen[name.casefold()] = name


def check_csv_columns(path: Path, columns: dict[str, str]) -> None:
    """Refuse a CSV whose columns as read are not its header's names.

    When rows have more fields than the header, or another delimiter, the reader takes a data
    row as the header; its values would then surface as feature names. The message names no
    value from the file.
    """
    names = header_names(path)
    if names is None or len(names) < 2 or _headerless(columns):
        return
    if not any(_fits(split, columns) for split in _first_line_splits(path)):
        raise InputError(
            "its header does not fit its rows: some rows use another delimiter or have more "
            "fields than the header",
            path=path,
            hint="use one delimiter (comma, semicolon or tab) in every row, give every row the "
            "header's number of fields, and quote fields that contain the delimiter",
        )


def _first_line_splits(path: Path) -> list[list[str]]:
    """The first line split by each usual delimiter, as the CSV module reads it."""
    import csv
    import io

    head, _ = read_head(path)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text else ""
    return [next(csv.reader(io.StringIO(first), delimiter=d), []) for d in ",;\t|"]


def _fits(names: list[str], columns: dict[str, str]) -> bool:
    return all(not n.strip() or n in columns or n.strip() in columns for n in names)


@contextmanager
def _csv_reader(path: Path, *, strict: bool = False) -> Iterator[Any]:
    """A csv reader over ``path`` with the delimiter of its header line (None when that
    cannot be told), its fields allowed up to 64 MB as the DuckDB reader's lines are."""
    import csv

    head, _ = read_head(path)
    first = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[:1]
    try:
        dialect = csv.Sniffer().sniff(first[0], delimiters=",;\t|") if first else None
    except csv.Error:
        dialect = None
    if dialect is None:
        yield None
        return
    opener = gzip.open if is_gzip(path) else open
    previous = csv.field_size_limit(MAX_LINE)
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            yield csv.reader(fh, dialect, strict=strict)  # type: ignore[arg-type]
    finally:
        csv.field_size_limit(previous)


def first_ragged_line(
    path: Path, limit: int = 5_000_000, *, more: bool = False
) -> tuple[int, int, int] | None:
    """Return (line, fields, header fields) of the first record whose number of fields
    differs from the header's (with ``more``: is larger than the header's; an unclosed quote
    runs on to the end), or None.

    Reads with the delimiter of the header line; only called after a failed read, and stops
    after ``limit`` records.
    """
    import csv

    try:
        with _csv_reader(path) as reader:
            if reader is None:
                return None
            width = len(next(reader, []))
            start = reader.line_num + 1
            for count, record in enumerate(reader):
                if record and (len(record) > width if more else len(record) != width):
                    return start, len(record), width
                start = reader.line_num + 1
                if count > limit:
                    break
    except csv.Error:
        return None
    return None


def non_object(path: Path, limit: int = 5_000_000) -> int | None:
    """Return the first line of the NDJSON file ``path`` holding a JSON value that is not an
    object (blank lines and lines that are not JSON are left to the reader's own error), or
    None; only called after a failed read, stops after ``limit`` lines."""
    import json

    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if number > limit:
                    break
                try:
                    value = json.loads(line) if line.strip() else {}
                except (ValueError, RecursionError):  # deeper than Python's parser goes
                    continue
                if not isinstance(value, dict):
                    return number
    except (OSError, EOFError, zlib.error):
        return None
    return None


def first_unclosed_quote(path: Path, limit: int = 5_000_000) -> int | None:
    """Return the line where a quoted field opens that is never closed (it runs on to the
    end of the file), or None; only called after a failed read, stops after ``limit``
    records."""
    import csv

    start = 1
    try:
        with _csv_reader(path, strict=True) as reader:
            for count, _record in enumerate(reader or ()):
                start = reader.line_num + 1
                if count > limit:
                    break
    except csv.Error as exc:
        return start if "unexpected end of data" in str(exc) else None
    except (OSError, EOFError):  # a truncated gzip file: told by its own error
        return None
    return None


def unclosed_quote(path: Path | str, line: int | None) -> InputError:
    """The error for a quoted field opened on ``line`` (when known) and never closed."""
    where = f"line {line} opens" if line else "a field opens"
    return InputError(
        f"{where} a quoted field that is never closed, so the rest of the file would read as "
        "one value; the file may be cut short",
        path=path,
        hint='close the quote (a quote inside a quoted field is written twice: "") or export '
        "the file again",
    )


def _headerless(columns: dict[str, str]) -> bool:
    """True when the reader named the columns itself (column0, column1, ...): no header row."""
    return all(re.fullmatch(r"column\d+", c) for c in columns)


def _first_bad_utf8(path: Path) -> tuple[int, int] | None:
    """Return (line, byte) of the first invalid UTF-8 sequence of a file, or None."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    opener = gzip.open if is_gzip(path) else open
    line, offset = 1, 0
    with opener(path, "rb") as fh:
        while block := fh.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return line + block.count(b"\n", 0, exc.start), offset + exc.start
            line += block.count(b"\n")
            offset += len(block)
    return None


def first_long_line(path: Path, limit: int = MAX_LINE) -> int | None:
    """Return the number of the first line longer than ``limit`` bytes, or None.

    Reads blocks, not lines: a line that fits in one block is shorter than ``limit``, so only
    the bytes between the last newline of a block and the first of a later one are measured.
    A line without end stops the read once it passes ``limit``. InputError for a truncated
    gzip file.
    """
    size = min(1 << 23, limit)
    opener = gzip.open if is_gzip(path) else open
    line, run = 1, 0  # run: bytes of the current line read so far
    try:
        with opener(path, "rb") as fh:
            while block := fh.read(size):
                first = block.find(b"\n")
                if run + (len(block) if first == -1 else first) > limit:
                    return line
                if first == -1:
                    run += len(block)
                    continue
                line += block.count(b"\n")
                run = len(block) - block.rfind(b"\n") - 1
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise truncated_gzip(path, str(exc)) from exc
    return None


def long_line(path: Path | str, number: int) -> InputError:
    """The error for line ``number`` of ``path``, longer than :data:`MAX_LINE`."""
    return InputError(
        f"line {number} is longer than 64 MB, the most one CSV row or JSON object may take",
        path=path,
        hint="split the record, or check that the file's line endings are intact",
    )


# privdiag lists an input's files itself and gives the readers each by name, so a reader that
# finds none under a name means that the file went away after it was listed.
_NOT_FOUND = re.compile(r'No files found that match the pattern "([^"]*)"')


def went_away(path: Path | str) -> InputError:
    """The error for a file listed as an input that is gone when it is read."""
    return InputError(
        "went away after privdiag listed it: it was removed or renamed while its folder was "
        "read (a log rotation, a cleanup, an upload replacing it)",
        path=path,
        hint="run again when the folder's files stay put, or scan a copy of the folder",
    )


def explain_read_error(files: list[Path], message: str) -> InputError | None:
    """Return an InputError naming the true line for reader errors whose line number is wrong
    or missing (invalid UTF-8, an over-long line), or the file that went away after it was
    listed, else None. Runs only after a failed read."""
    gone = _NOT_FOUND.search(message)
    if gone:
        return went_away(gone.group(1))
    low = message.lower()
    # DuckDB's sniffer gives up on a quote that runs to the end: "Error when sniffing file"
    if "unterminated quote" in low or "csv error on line" in low or "sniffing file" in low:
        for path in files:  # the reader's line is where it noticed, not where the quote opened
            line = first_unclosed_quote(path)
            if line:
                return unclosed_quote(path, line)
    if "gzip" in low:
        for path in files:
            try:
                check_gzip(path)
            except InputError as exc:
                return exc
    if "unicode" in low or "utf-8" in low or "utf8" in low:
        for path in files:
            found = _first_bad_utf8(path)
            if found:
                return InputError(
                    f"line {found[0]} is not UTF-8 text (invalid byte at offset {found[1]})",
                    path=path,
                    hint="re-export as UTF-8, or convert it (iconv -f latin1 -t utf-8)",
                )
    if "maximum line size" in low:
        for path in files:
            number = first_long_line(path)
            if number:
                return long_line(path, number)
    return _parquet_type_clash(files, message) or _type_clash(message)


def _parquet_type_clash(files: list[Path], message: str) -> InputError | None:
    """The error for Parquet files of one input that hold a column in types the reader cannot
    cast into one another (a time as a timestamp in one file and as epoch seconds, an
    integer, in another): DuckDB reads every file with the type of the first, and its message
    names only the file it could not cast. The file whose type it took is looked up in
    ``files`` by their schemas."""
    found = re.search(
        r'reading file "([^"\n]+)": failed to cast column "([^"\n]+)" from type (.+?) to '
        r"([A-Z][A-Z ]*[A-Z])",
        message,
    )
    if not found:
        return None
    failed, column, its_type, taken = found.groups()
    other = next((f for f in files if _parquet_type(f, column) not in (None, its_type)), None)
    beside = f"{other} holds it as {taken}" if other else f"the files before it hold {taken}"
    return InputError(
        f"holds {column} as {its_type} where {beside}: the files of one input are read with "
        f"one type per column, and {its_type} cannot be read as {taken}",
        path=failed,
        field=column,
        hint=f"write {column} with one type in every file (times as timestamps), or give the "
        "files of each type as an input of their own (each input is read with its own types)",
    )


def _parquet_type(path: Path, column: str) -> str | None:
    """The DuckDB type of ``column`` in the Parquet file ``path``, None when it has none or
    cannot be read."""
    import duckdb

    from privdiag.engine import literal

    try:
        with duckdb.connect() as con:
            found = con.sql(
                f"SELECT {_quoted(column)} FROM read_parquet({literal(str(path))}) LIMIT 0"
            ).types
    except duckdb.Error:
        return None
    return str(found[0]) if found else None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _type_clash(message: str) -> InputError | None:
    """The error for a CSV value the reader could not convert to the type it sniffed for its
    column (DuckDB's message names the column, the file and the line, and quotes the value,
    which is not repeated): in a folder, the type of one file's values is taken for all."""
    column = re.search(r'converting column "([^"\n]*)"', message)
    if not column:
        return None
    file = re.search(r"^\s*file = (.+)$", message, re.MULTILINE)
    line = re.search(r"CSV Error on Line: (\d+)", message)
    where = f"line {line.group(1)} holds" if line else "it holds"
    return InputError(
        f"{where} a value of another type than the column's other values (numbers in one "
        "file and words or true/false in another, say)",
        path=file.group(1).strip() if file else None,
        field=column.group(1),
        hint="write the column with one kind of value in every file, or give the files as "
        "separate inputs",
    )
