"""Find input files (files, globs, folders) and tell what container each one is."""

from __future__ import annotations

import glob
import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

from privdiag.errors import InputError

DATA_SUFFIXES = (".csv", ".tsv", ".json", ".ndjson", ".jsonl", ".parquet", ".gz")
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileKind:
    """What a file holds: ``container`` is csv, json (array), ndjson or parquet."""

    container: str
    compressed: bool


def expand(argument: str) -> list[Path]:
    """Return the data files an argument names: a file, a glob, or a folder (recursively).

    Hidden files and files that are not data (by suffix) are left out of folders.
    """
    path = Path(argument)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
            and p.name.lower().endswith(DATA_SUFFIXES)
        )
        if not files:
            raise InputError(
                "folder holds no data files (.csv, .json, .ndjson, .parquet)", path=path
            )
        return files
    matches = sorted(Path(m) for m in glob.glob(argument, recursive=True) if Path(m).is_file())
    if matches:
        return matches
    raise InputError(
        "no such file, folder or matching glob",
        path=argument,
        hint="check the path; quote globs so the shell does not expand them",
    )


def source_name(argument: str) -> str:
    """Return the default source name of an argument: the file stem or the folder name."""
    path = Path(argument)
    if any(ch in argument for ch in "*?["):
        path = Path(argument.split("*")[0].split("?")[0].split("[")[0] or ".")
        if not path.is_dir():
            path = path.parent
    name = path.resolve().name if path.is_dir() else path.name
    return name.split(".")[0] or "data"


def _head(path: Path) -> tuple[bytes, bool]:
    with path.open("rb") as fh:
        raw = fh.read(SNIFF_BYTES)
    if raw[:2] != b"\x1f\x8b":
        return raw, False
    try:
        # a streaming decoder reads the first block without needing the whole member
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, SNIFF_BYTES), True
    except zlib.error as exc:
        raise InputError(
            f"is not a valid gzip file ({exc})", path=path, hint="re-export or re-compress the file"
        ) from exc


def check_gzip(path: Path) -> None:
    """Read a gzip file to its end so truncation is caught before any output is written."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 22):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            f"gzip data is truncated or corrupt ({exc})",
            path=path,
            hint="download or export the file again",
        ) from exc


def sniff(path: Path) -> FileKind:
    """Tell the container of a file from its content (not its name)."""
    try:
        head, compressed = _head(path)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", path=path) from exc
    if head.startswith(b"PAR1"):
        return FileKind("parquet", False)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise InputError("is empty", path=path, hint="export the data again or leave the file out")
    if text[:1] == b"[":
        return FileKind("json", compressed)
    if text[:1] == b"{":
        return FileKind("ndjson", compressed)
    if b"\x00" in head:
        raise InputError("is binary, not CSV, JSON or Parquet", path=path)
    return FileKind("csv", compressed)


def check_csv_header(path: Path) -> None:
    """Refuse a CSV whose header names a column twice (readers would rename one silently)."""
    import csv
    import io

    head, _ = _head(path)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text else ""
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
        names = next(csv.reader(io.StringIO(first), dialect))
    except (csv.Error, StopIteration):
        return
    seen: set[str] = set()
    for name in (n.strip() for n in names):
        if name and name in seen:
            raise InputError(
                f"names column {name!r} twice in its header",
                path=path,
                field=name,
                hint="rename or drop one of the two columns",
            )
        seen.add(name)
