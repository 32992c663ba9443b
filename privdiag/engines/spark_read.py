"""Spark's readers for the files a DuckDB reader call names, and the files under a URL.

privdiag's reader calls name files, never patterns, but Spark's readers apply Hadoop's glob
to every path: :func:`hadoop_literal` escapes what that glob would read as a pattern.
:func:`read` reads the files as DuckDB's call would (CSV delimiter, JSON arrays, Parquet
hive folders); :func:`list_files` lists the data files under a URL Spark reads.
"""

from __future__ import annotations

import os
import re
from typing import Any

from privdiag.engines import spark_sql
from privdiag.errors import InputError


class RemoteFile(str):
    """A file URL that answers ``name``, ``parent`` and ``parts`` like a Path does."""

    fingerprint: str

    def __new__(cls, url: str, fingerprint: str = "") -> RemoteFile:
        self = super().__new__(cls, url)
        self.fingerprint = fingerprint or url
        return self

    @property
    def name(self) -> str:
        return self.rstrip("/").rsplit("/", 1)[-1]

    @property
    def parent(self) -> RemoteFile:
        return RemoteFile(self.rstrip("/").rsplit("/", 1)[0])

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in self.split("://", 1)[-1].split("/") if p)


def list_files(spark: Any, url: str) -> tuple[list[RemoteFile], Any]:
    """The data files under a URL Spark reads (s3a://, gs://, hdfs://, file://) and their
    container, told by suffix (a .json file by its first character)."""
    from privdiag.ingest.files import FileKind

    listing = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(url)
        .select("path", "length", "modificationTime")
        .collect()
    )
    files = sorted(RemoteFile(r[0], f"{r[0]}|{r[1]}|{r[2]}") for r in listing)
    files = [f for f in files if _is_data(f)]
    if not files:
        raise InputError("holds no data files (.csv, .json, .ndjson, .parquet)", path=url)
    kinds = {_container_of(spark, f) for f in files}
    if len(kinds) > 1:
        raise InputError(
            f"mixes file types ({', '.join(sorted(kinds))})",
            path=url,
            hint="give each kind of file as its own argument",
        )
    return list(files), FileKind(kinds.pop(), any(f.endswith(".gz") for f in files))


def _is_data(file: RemoteFile) -> bool:
    from privdiag.ingest.files import DATA_SUFFIXES

    hidden = any(part.startswith((".", "_")) for part in file.parts[1:])
    return not hidden and file.name.lower().endswith(DATA_SUFFIXES)


def _container_of(spark: Any, file: RemoteFile) -> str:
    name = file.name.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith(".json"):
        first = spark.read.text(hadoop_literal(file)).limit(1).collect()
        return "json" if first and first[0][0].lstrip("\ufeff ").startswith("[") else "ndjson"
    return "ndjson"


# How a DuckDB reader call names a file (privdiag.ingest.files.path_literal): each ``[``,
# ``*`` and ``?`` of the name in a bracket class of its own.
_DUCKDB_ESCAPE = re.compile(r"\[([\[*?])\]")
# The characters Hadoop's glob, which Spark's readers apply to every path, reads as a pattern.
_HADOOP_GLOB = re.compile(r"([\\{}\[\]*?])")


def file_name(path: str) -> str:
    """The file a path of a DuckDB reader call names, with path_literal's escapes undone:
    the reader calls privdiag writes name files, never patterns."""
    return _DUCKDB_ESCAPE.sub(r"\1", path)


def hadoop_literal(path: str) -> str:
    """``path`` as Spark's readers take exactly that file: each character Hadoop's glob reads
    as a pattern escaped by a backslash ("ev[1].csv" would match ev1.csv, "a{b}" a file "ab")."""
    return _HADOOP_GLOB.sub(r"\\\1", path)


# Hadoop makes a path of each name it joins to a folder, and reads a ``:`` before the first
# ``/`` of it as the end of a URI scheme ("Relative path in absolute URI: .ev:1.csv.crc"):
# its local file system joins a checksum file ``.NAME.crc`` to each file it opens, its glob
# each part of a path. A local path holding ``:`` is given whole and absolute, and read
# through the raw local file system (the same files, no checksum files), for that read only.
RAW_LOCAL = {
    "fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
    "fs.file.impl.disable.cache": "true",  # else the session's cached file system serves it
}


def local_files(paths: list[str]) -> tuple[list[str], dict[str, str]]:
    """The files ``paths`` as Spark's readers can be given them (before the glob escapes):
    local ones absolute, as privdiag found them, whatever folder Spark's driver runs in; and
    the reader options reading them needs. InputError for a local file Spark cannot read."""
    local = {p: os.path.abspath(p) for p in paths if is_local(p)}
    for path in local.values():  # the folder a relative path is in can hold ':' too
        _check_readable(path)
    files = [local.get(p, p) for p in paths]
    return files, RAW_LOCAL if any(":" in p for p in local.values()) else {}


# A URL as Spark lists the files under one: s3a://bucket/key, file:/tmp/feed/ev.json
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/")


def is_local(path: str) -> bool:
    """True for a path of a local file (``ev:1.csv`` too), False for a URL."""
    return not _URL.match(path) or os.path.exists(path)


def _check_readable(path: str) -> None:
    """InputError for a local file whose name Hadoop cannot give, or whose compression it
    would misread: Hadoop decompresses a file as gzip when, and only when, its name ends in
    ``.gz`` (lower case); DuckDB is told so by privdiag, which looks at the content."""
    from pathlib import Path

    from privdiag.ingest.files import is_gzip

    if ":" in path and _HADOOP_GLOB.search(path):  # the glob the escapes ask for splits it
        raise InputError(
            "cannot be read on Spark: its path holds both ':' and one of [ ] * ? { } \\, "
            "which Hadoop cannot name together",
            path=path,
            hint="rename the file or its folder, or scan with --engine duckdb",
        )
    gzip_named = path.endswith(".gz")
    if is_gzip(Path(path)) != gzip_named:
        said = "is not gzip-compressed" if gzip_named else "is gzip-compressed"
        raise InputError(
            f"cannot be read on Spark: it {said}, and Spark decompresses a file as gzip "
            "when, and only when, its name ends in .gz",
            path=path,
            hint="rename the file to end in .gz when it is compressed and not otherwise, "
            "or scan with --engine duckdb",
        )


def read(spark: Any, function: str, paths: list[str], options: dict[str, Any]) -> Any:
    """Return a DataFrame reading the files ``paths`` the way DuckDB's reader call would."""
    paths, common = local_files(paths)
    names = [hadoop_literal(p) for p in paths]
    base = _hive_base(paths) if options.get("hive_partitioning") else None
    if base:  # Spark adds the columns of the key=value folders below it, as DuckDB does
        common = {**common, "basePath": base}
    if function == "read_parquet":
        reader = spark.read.options(**common).option("mergeSchema", "true")
        return reader.parquet(*names)
    if function.startswith("read_csv"):
        sep = _delimiter(spark, paths[0])
        reader = spark.read.options(**common, header=True, sep=sep, escape='"')
        types = options.get("types")
        if isinstance(types, dict):  # the types an earlier read of the same file found
            ddl = ", ".join(f"`{k}` {spark_sql.spark_type(v)}" for k, v in types.items())
            return reader.schema(ddl).csv(names, mode="PERMISSIVE")
        return reader.csv(names, inferSchema=True, mode="PERMISSIVE")
    reader = spark.read.options(**common)
    if options.get("records") or options.get("format") == "array":
        reader = reader.option("multiLine", "true")
    columns = options.get("columns")
    if isinstance(columns, dict):
        ddl = ", ".join(f"`{k}` {spark_sql.spark_type(v)}" for k, v in columns.items())
        reader = reader.schema(ddl)
    return reader.json(names)


def _hive_base(paths: list[str]) -> str | None:
    """The folder above the first ``key=value`` folder, when the files sit in such folders."""
    head, sep, rest = paths[0].rpartition("://")
    parts = rest.split("/")
    for i, part in enumerate(parts[:-1]):
        if "=" in part:
            base = "/".join(parts[:i])
            return (head + sep + base) if i else None
    return None


def _delimiter(spark: Any, path: str) -> str:
    """Tell a CSV file's delimiter from its header line (DuckDB sniffs it the same way)."""
    if not is_local(path):
        first = spark.read.text(hadoop_literal(path)).limit(1).collect()
        header = first[0][0] if first else ""
    else:
        import gzip

        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            header = fh.readline()
    return max((",", ";", "\t", "|"), key=header.count)
