"""Find input files (files, globs, folders) and tell what container each one is."""

from __future__ import annotations

import fnmatch
import glob
import gzip
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISDIR, S_ISREG

from privdiag.engine import literal
from privdiag.errors import InputError
from privdiag.privacy import scrub

DATA_SUFFIXES = (".csv", ".tsv", ".json", ".ndjson", ".jsonl", ".parquet", ".gz")
SNIFF_BYTES = 64 * 1024
# The most one CSV row or JSON object may take; the readers are given it (max_line_size,
# maximum_object_size), and NDJSON lines are measured before reading, as DuckDB 2.0 reads
# longer objects whole.
MAX_LINE = 64 << 20


@dataclass(frozen=True)
class FileKind:
    """What a file holds: ``container`` is csv, json (array), ndjson or parquet."""

    container: str
    compressed: bool


def expand(argument: str) -> list[Path]:
    """Return the data files an argument names: a file, a glob, or a folder (recursively).

    Hidden files and files that are not data (by suffix) are left out of folders. Raises
    InputError for an argument that names no data file, or a file or folder that may not
    be read (a folder inside it too: its files would be left out unsaid).
    """
    path = Path(argument)
    kind = _kind(path)
    if kind == "file":
        return [path]
    if kind == "folder":
        return _folder_files(path)
    matches = sorted(Path(m) for m in _glob(argument) if Path(m).is_file())
    if matches:
        return matches
    if kind == "other":
        raise InputError(
            "is not a regular file or folder (a pipe, a device or /dev/stdin)",
            path=argument,
            hint="save the data to a file first: privdiag reads each input more than once",
        )
    raise InputError(
        "no such file, folder or matching glob",
        path=argument,
        hint="check the path; quote globs so the shell does not expand them",
    )


def check_regular_file(path: Path, hint: str) -> None:
    """Raise InputError when ``path`` is there but is no regular file: a folder (``hint`` says
    what to give instead), or a pipe or a device, which a reader would wait on for ever (Ctrl-C
    cannot stop a read inside a native library) or read without end. Nothing is said of a
    path that is not there: each caller says that in its own words."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if S_ISDIR(mode):
        raise InputError("is a folder, not a file", path=path, hint=hint)
    if not S_ISREG(mode):
        raise InputError(
            "is not a regular file (a pipe or a device)",
            path=path,
            hint="save it to a file first: privdiag reads it more than once",
        )


def _kind(path: Path) -> str | None:
    """file, folder or other (a pipe, a device); None when nothing is there. Raises
    InputError when a folder on the way may not be entered."""
    try:
        mode = path.stat().st_mode
    except PermissionError as exc:
        raise _unreadable(path, exc) from exc
    except OSError:
        return None
    return "file" if S_ISREG(mode) else "folder" if S_ISDIR(mode) else "other"


def _folder_files(folder: Path) -> list[Path]:
    """The data files in ``folder`` and below, hidden files and folders left out, sorted."""
    found = [
        p
        for p in _walk(folder, hidden=False)
        if p.name.lower().endswith(DATA_SUFFIXES) and _kind(p) == "file"
    ]
    if not found:
        raise InputError("folder holds no data files (.csv, .json, .ndjson, .parquet)", path=folder)
    return sorted(found)


def _walk(folder: Path, *, hidden: bool) -> list[Path]:
    """Every file in ``folder`` and below (hidden ones only with ``hidden``), through links
    to folders too: a month's folder linked in from another disk is data like the others.
    Each folder is entered once, however many links reach it, so a link back into the folder
    (``loop -> .``) ends the walk there instead of running it for ever. A link to a folder
    that holds the input folder or the link (``root -> /``) is refused
    (:func:`_check_link`)."""

    def fail(exc: OSError) -> None:
        raise _unreadable(Path(exc.filename or folder), exc) from exc

    entered = {_folder_identity(folder)}
    top = Path(os.path.realpath(folder))
    found = []
    for root, folders, names in os.walk(folder, onerror=fail, followlinks=True):
        keep = []
        for name in folders:
            identity = _folder_identity(Path(root) / name)
            if (hidden or not name.startswith(".")) and identity not in entered:
                _check_link(Path(root) / name, top)
                entered.add(identity)
                keep.append(name)
        folders[:] = keep
        found += [Path(root) / n for n in names if hidden or not n.startswith(".")]
    return found


def _check_link(path: Path, top: Path) -> None:
    """InputError when ``path`` is a link to a folder outside ``top`` (the input folder, as
    its real path) that holds ``top`` or the link itself (``root -> /``, ``all -> ..`` in a
    linked month): following it would read every data file below that folder, other exports
    and the whole file system with them, as the input's. A link to a folder inside ``top``
    reaches files the walk reads anyway; one to a folder elsewhere that holds neither (a
    month's exports on another disk) is data the folder's owner linked in on purpose."""
    if not path.is_symlink():
        return
    target = Path(os.path.realpath(path))
    if target == top or top in target.parents:
        return
    holder = Path(os.path.realpath(path.parent))
    if target in top.parents or target == holder or target in holder.parents:
        raise InputError(
            f"is a link to {target}, a folder that holds "
            f"{'the input folder' if target in top.parents else 'the link itself'}: following "
            f"it would read every data file below {target}",
            path=path,
            hint="remove the link, or give the folders to scan by name",
        )


def _folder_identity(path: Path) -> tuple[int, int] | None:
    """The (device, inode) of a folder, through links; None when it cannot be looked at."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


def _glob(pattern: str) -> list[str]:
    """The paths ``pattern`` matches, as :func:`glob.glob` finds them, except that ``**``
    walks as a folder argument does: through links to folders, each folder once. (Python's
    own ``**`` follows every link again, so a link to a folder above ran for ever.)"""
    parts = pattern.split(os.sep)
    if "**" not in parts:
        return glob.glob(pattern)
    fixed = 0
    while fixed < len(parts) and not glob.has_magic(parts[fixed]):
        fixed += 1
    root = os.sep.join(parts[:fixed]) or ("" if pattern.startswith(os.sep) else ".")
    if pattern.startswith(os.sep) and not root:
        root = os.sep
    if not os.path.isdir(root):
        return []
    base = Path(root)
    return [
        str(path if parts[:fixed] else path.relative_to(base))
        for path in _walk(base, hidden=True)
        if _matches(path.relative_to(base).parts, parts[fixed:])
    ]


def _matches(names: tuple[str, ...], pattern: list[str]) -> bool:
    """True when the path ``names`` matches the glob ``pattern``, part by part: ``**`` stands
    for any number of folders; a hidden name matches only a part that starts with a dot."""
    if not pattern:
        return not names
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(
            _matches(names[i:], rest)
            for i in range(len(names) + 1)
            if not any(n.startswith(".") for n in names[:i])
        )
    if not names or (names[0].startswith(".") and not head.startswith(".")):
        return False
    return fnmatch.fnmatchcase(names[0], head) and _matches(names[1:], rest)


def _unreadable(path: Path, exc: OSError) -> InputError:
    return InputError(
        f"cannot be read ({exc.strerror or exc})",
        path=path,
        hint="check the permissions of the file and of the folders above it",
    )


# DuckDB's readers take each file name as a glob: these characters match other files unless
# each is put in a bracket class of its own ("a[1].csv" read as "a1.csv").
GLOB_ESCAPES = str.maketrans({"[": "[[]", "*": "[*]", "?": "[?]"})


def path_literal(path: Path | str) -> str:
    """Return a DuckDB string literal that a DuckDB reader takes as exactly this file.

    Assumes a local path that :func:`expand` found (a file the user gave, or one a folder or
    glob held), never a pattern: ``*``, ``?`` and ``[`` in it are escaped.
    """
    return literal(str(path).translate(GLOB_ESCAPES))


@dataclass
class Reached:
    """One input argument and the data files it reaches that no earlier argument reached.

    ``files`` is None for a URL the engine lists itself; ``left_out`` are the local files
    an earlier argument of the same role already reached (by any path, link or glob), and
    ``through`` those earlier arguments, each as (argument, origin); ``elsewhere`` the files
    a folder or glob reached that an input of the other role names by itself (a consent log
    inside the events folder). ``origin`` says where the argument was given (``--consent``,
    ``the [consent] paths of privdiag.toml``), '' when that goes without saying.
    """

    argument: str
    files: list[Path] | None
    left_out: list[Path]
    elsewhere: list[Path] = field(default_factory=list)
    origin: str = ""
    through: list[tuple[str, str]] = field(default_factory=list)

    def note(self) -> str | None:
        """Return the note that says which files were left out, or None when none were."""
        again = self._read_once_note()
        other = _left_out_note(
            self.argument,
            self.elsewhere,
            bool(self.files),
            ("given by itself as an input of the other role", "and not read here"),
        )
        return "; ".join(n for n in (again, other) if n) or None

    def _read_once_note(self) -> str:
        """The note on the files an earlier argument read already, '' for none: they were
        read once, through that argument, not "not read"."""
        if not self.left_out:
            return ""
        if self.files or self.elsewhere or not self.through:
            how = f"through {_through(self.through)}" if self.through else "by another path"
            return _left_out_note(
                _named(self.argument, self.origin),
                self.left_out,
                bool(self.files or self.elsewhere),
                (f"read already {how}", "and not again"),
            )
        if [a for a, _ in self.through] == [self.argument]:  # the same path given twice
            origins = list(dict.fromkeys([o for _, o in self.through] + [self.origin]))
            named = f": by {' and by '.join(origins)}" if len(origins) > 1 and all(origins) else ""
            return f"{self.argument}: read once, though named twice{named}"
        what = "its file was" if len(self.left_out) == 1 else "all its files were"
        return f"{_named(self.argument, self.origin)}: {what} read once, through " + _through(
            self.through
        )


def _named(argument: str, origin: str) -> str:
    """An argument as a note names it: with where it was given, when that is said."""
    return f"{argument} ({origin})" if origin else argument


def _through(earlier: list[tuple[str, str]]) -> str:
    """The earlier arguments that read the files, as a note names them."""
    return " and ".join(_named(argument, origin) for argument, origin in earlier)


def _left_out_note(argument: str, paths: list[Path], others: bool, why: tuple[str, str]) -> str:
    """The note on ``paths`` left out of ``argument``, '' for none: ``why`` they were, and
    what came of it; ``others``: whether any other file of the argument is read."""
    if not paths:
        return ""
    if not others:
        what = "its file was" if len(paths) == 1 else "all its files were"
        return f"{argument}: not read, {what} {why[0]}"
    names = ", ".join(p.name for p in paths[:3])
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    was = "was" if len(paths) == 1 else "were"
    return f"{argument}: {len(paths)} of its files {was} {why[0]} {why[1]} ({names}{more})"


def named_files(arguments: list[str]) -> frozenset[tuple[int, int]]:
    """Return the (device, inode) of each argument that names a local file itself (not a
    folder, glob or URL); :func:`first_reached` leaves these out of the other role's folders
    and globs."""
    return frozenset(
        (stat.st_dev, stat.st_ino) for stat in (_stat(Path(a)) for a in arguments) if stat
    )


def _stat(path: Path) -> os.stat_result | None:
    """The file's status, None when it is not a regular file or cannot be read."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found if S_ISREG(found.st_mode) else None


def _identity(path: Path) -> tuple[int, int]:
    """The (device, inode) of a file found a moment ago; InputError when it is gone now."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise InputError(
            f"cannot be read: {exc.strerror or exc}",
            path=path,
            hint="check that the file is still there (was it moved or deleted during the run?)",
        ) from exc
    return (stat.st_dev, stat.st_ino)


def first_reached(
    arguments: list[str],
    *,
    urls_listed: bool = False,
    other_role: frozenset[tuple[int, int]] = frozenset(),
    origins: list[str] | None = None,
) -> list[Reached]:
    """Return each argument with the data files it is the first to reach, in argument order.

    Arguments are expanded first (files, globs, folders), then each local file is kept where
    it is first reached: two paths name the same file when they have the same device and
    inode, so a hard link, a symlink, ``./x`` or a folder holding a file given separately
    reach it once. A file in ``other_role`` (:func:`named_files` of the other role's
    arguments) is left out of a folder or glob. With ``urls_listed`` an argument holding
    ``://`` is left to the engine to list (``files`` None). ``origins`` says where each
    argument was given (``Reached.origin``), for the notes. Raises InputError for an
    argument that names no data file.
    """
    origins = origins or [""] * len(arguments)
    first: dict[tuple[int, int], int] = {}  # file -> index of the argument that reads it
    reached = []
    for index, (argument, origin) in enumerate(zip(arguments, origins, strict=True)):
        if urls_listed and "://" in argument:
            reached.append(Reached(argument, None, [], origin=origin))
            continue
        found = expand(argument)
        itself = _kind(Path(argument)) == "file"
        kept: list[Path] = []
        one = Reached(argument, kept, [], origin=origin)
        for path in found:
            key = _identity(path)
            if key in other_role and not itself:
                one.elsewhere.append(path)
                continue
            if key not in first:
                kept.append(path)
                first[key] = index
                continue
            one.left_out.append(path)
            earlier = (arguments[first[key]], origins[first[key]])
            if first[key] != index and earlier not in one.through:
                one.through.append(earlier)
        reached.append(one)
    return reached


def is_partition(folder: str) -> bool:
    """True for a hive-style folder name, ``key=value``; a name with nothing before its ``=``
    is no key."""
    return "=" in folder[1:]


def partition_keys(path: Path) -> tuple[str, ...]:
    """The keys of the hive-style folder names above ``path`` (``user_id=u1/dt=2026-10-01/``
    gives user_id and dt), outermost first."""
    return tuple(part.split("=", 1)[0] for part in path.parent.parts if is_partition(part))


def partition_columns(files: list[Path]) -> set[str]:
    """The columns the readers add to ``files`` from their hive-style folder names, whose
    values come from those names, not from the rows."""
    return {key for path in files for key in partition_keys(path)}


def source_name(argument: str) -> str:
    """Return the default source name of an argument: the file stem or the folder name."""
    path = Path(argument)
    if any(ch in argument for ch in "*?["):
        path = Path(argument.split("*")[0].split("?")[0].split("[")[0] or ".")
        if not path.is_dir():
            path = path.parent
    name = path.resolve().name if path.is_dir() else path.name
    # a file named for a person (a data-subject export, alice@example.com.ndjson) cut at its
    # first dot still names them (alice@example): the address is redacted before the cut
    return scrub(name).split(".")[0] or "data"


def read_head(path: Path) -> tuple[bytes, bool]:
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
    """Read a gzip file to its end; InputError when it is truncated or corrupt."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 22):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise truncated_gzip(path, str(exc)) from exc


def truncated_gzip(path: Path | str, detail: str) -> InputError:
    """The error for a gzip file whose data ends early or is corrupt (``detail`` says how)."""
    return InputError(
        f"is truncated or corrupt: its gzip data cannot be read to the end ({detail})",
        path=path,
        hint="download or export the file again (a copy cut short, e.g. by a full disk)",
    )


def sniff(path: Path) -> FileKind:
    """Tell the container of a file from its content (not its name)."""
    try:
        head, compressed = read_head(path)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", path=path) from exc
    if head.startswith(b"PAR1"):
        return FileKind("parquet", False)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text and compressed:
        check_gzip(path)  # a gzip file cut before its first block reads as empty
    if not text:
        raise InputError("is empty", path=path, hint="export the data again or leave the file out")
    if _lines_after_a_value(text):
        return FileKind("ndjson", compressed)
    if text[:1] == b"[":
        return FileKind("json", compressed)
    if text[:1] == b"{":
        return FileKind("ndjson", compressed)
    if b"\x00" in head:
        encoding = utf16_encoding(head)
        if encoding:
            raise InputError(
                f"is text in {encoding}, not UTF-8",
                path=path,
                hint=f"convert it to UTF-8 (iconv -f {encoding} -t UTF-8 FILE > FILE.utf8) or "
                "export it again as UTF-8",
            )
        if where := _nul_in_text(head):
            raise InputError(
                f"holds a NUL byte on {where}, which no CSV or JSON text holds",
                path=path,
                hint="remove the NUL bytes (tr -d '\\000' < FILE > FILE.clean) or export the "
                "file again",
            )
        raise InputError("is binary, not CSV, JSON or Parquet", path=path)
    return FileKind("csv", compressed)


def _nul_in_text(head: bytes) -> str | None:
    """Where the first NUL byte of ``head`` is ("line 3, byte 57" of the file's text) when
    what comes before it is UTF-8 text of whole lines' characters; None when it is not text
    (a binary file)."""
    at = head.index(b"\x00")
    try:
        before = head[:at].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not before or not all(c.isprintable() or c in "\r\n\t" for c in before):
        return None
    return f"line {before.count(chr(10)) + 1:,}, byte {at + 1:,}"


def _lines_after_a_value(text: bytes) -> bool:
    """True when the first line is a whole JSON value other than an object (``5``, ``"x"``,
    ``null``, ``[1, 2]``) and a later line opens one: NDJSON whose first record is no object,
    which the reader then names. (Read as CSV, or as a JSON array, the file was said to lack
    a column for the event time, or "expected records".)"""
    import json

    first, _, rest = text.partition(b"\n")
    if not rest.lstrip().startswith(b"{"):
        return False
    try:
        value = json.loads(first)
    except (ValueError, RecursionError):  # nested deeper than Python's parser goes
        return False
    return not isinstance(value, dict)


def utf16_encoding(head: bytes) -> str | None:
    """The UTF-16 encoding the first bytes of a file are text in ("UTF-16LE", "UTF-16BE"),
    with or without a byte order mark; None when they are not such text.

    Text of ASCII characters in UTF-16 has a zero in every other byte: the second of each
    pair little-endian, the first big-endian; anything else with zeros is binary.
    """
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16LE" if head[:2] == b"\xff\xfe" else "UTF-16BE"
    pairs = head[: len(head) // 2 * 2]
    if len(pairs) < 4:
        return None
    firsts, seconds = pairs[0::2], pairs[1::2]
    for zeros, others, name in ((seconds, firsts, "UTF-16LE"), (firsts, seconds, "UTF-16BE")):
        if zeros.count(0) >= 0.9 * len(zeros) and others.count(0) <= 0.1 * len(others):
            try:
                text = pairs.decode(name)
            except UnicodeDecodeError:
                continue
            if all(c.isprintable() or c in "\r\n\t" for c in text):
                return name
    return None


def is_gzip(path: Path) -> bool:
    """True when the file begins as gzip data does (its name aside)."""
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"
