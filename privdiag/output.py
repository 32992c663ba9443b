"""Writing results: atomic files, JSON, and the terminal summary."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import signal
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from privdiag.errors import UsageError, empty_value
from privdiag.findings import SEVERITIES


def check_writable(path: Path | str, option: str = "", *, make: bool = False) -> None:
    """Raise UsageError, naming ``option`` and ``path``, when no file can be written there.

    With ``make``, a missing folder is left for the caller to make (with its parents), so
    only the nearest folder above it that exists must be writable. ``-`` (stdout) is always
    writable. Checked before a run, so that a long scan does not end on an output it cannot
    write; :func:`write_atomic` still reports what changed since.
    """
    if str(path) == "-":
        return
    target = Path(path)
    where = f"{option} {target}".strip()
    if str(path).endswith(("/", os.sep)) and not target.is_dir():  # Path() drops the slash
        raise UsageError(
            f"cannot write {f'{option} {path}'.strip()}: it names a folder (it "
            "ends in '/') that does not exist, where a file is written",
            hint="give a file name, in a folder that exists or one made first",
        )
    if _is_device(target):  # written through, not replaced: its own permission counts
        if not os.access(target, os.W_OK):
            raise UsageError(f"cannot write {where}: it is not writable")
        return
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    folder = target.parent
    if target.is_dir():
        raise UsageError(
            f"cannot write {where}: it is a folder", hint=f"give a file name inside {target}"
        )
    if not folder.is_dir():
        blocker = file_in_the_way(target)
        if blocker is not None:
            raise UsageError(f"cannot write {where}: {blocker} is a file, not a folder")
        if make:
            folder = next(p for p in folder.parents if p.is_dir())
        else:
            raise UsageError(
                f"cannot write {where}: folder {folder} does not exist",
                hint="make the folder first, or give a path in a folder that exists",
            )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(
            f"cannot write {where}: folder {folder} is not writable",
            hint="give a path in a folder you can write to",
        )


def check_apart(given: dict[str, str | None], inputs: Iterable[Path | str]) -> None:
    """Raise UsageError when two outputs name one file, or an output names a file the run
    reads (an events, consent, model or config file, also through a link, a folder or a
    glob): the output would replace it, and the data with it.

    Outputs are given as option -> path (None when not asked for); ``-`` is stdout. URLs and
    inputs that name nothing are passed over here: reading them says what is wrong.
    """
    files = {option: path for option, path in given.items() if path and path != "-"}
    seen: dict[str, str] = {}
    for option, path in files.items():
        real = os.path.realpath(path)
        if real in seen and not _is_device(Path(real)):
            raise UsageError(
                f"{seen[real]} and {option} both name {path}",
                hint="give each output a file of its own",
            )
        seen[real] = option
    existing = {_identity_of(Path(p)): (o, p) for o, p in files.items() if _identity_of(Path(p))}
    if not existing:  # a new file cannot be an input: no need to look for the inputs
        return
    for argument in inputs:
        for found in _input_files(str(argument)):
            clash = existing.get(_identity_of(found))
            if clash:
                option, path = clash
                raise UsageError(
                    f"cannot write {option} {path}: it is also an input of this run ({found}), "
                    "which the output would replace",
                    hint="give the output another name",
                )


def _identity_of(path: Path) -> tuple[int, int] | None:
    """The (device, inode) of a regular file (through links), None for anything else."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino) if stat.S_ISREG(found.st_mode) else None


def _input_files(argument: str) -> list[Path]:
    """The files an input argument names (a file, a folder, a glob); none for a URL or an
    argument that names nothing, which the run itself reports."""
    from privdiag.errors import PrivdiagError
    from privdiag.ingest.files import expand

    if "://" in argument:
        return []
    try:
        return expand(argument)
    except (PrivdiagError, OSError):
        return []


def write_atomic(path: Path | str, write: Callable[[IO[str]], object]) -> None:
    """Write a text file through a temp file in the same folder, then rename it into place.

    ``-`` writes to stdout. A device or pipe (``/dev/null``, ``/dev/stdout``) is written
    through, and a symlink's target replaced, never the link: a rename over either would
    replace the device or the link with a regular file. A failure leaves no partial file
    behind; a path that cannot be written is a UsageError naming it.
    """
    if str(path) == "-":
        _write_stdout(write)
        return
    target = Path(path)
    if _is_device(target):
        _write_through(target, write)
        return
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    check_writable(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _unwritable(target, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            write(fh)
        os.chmod(tmp, _file_mode(target))  # mkstemp makes 0600; outputs are meant to be shared
        if _STAGED is not None:  # renamed with the run's other outputs, at the end
            _STAGED.append((Path(tmp), target))
            return
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _unwritable(target, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# The files written inside staged_outputs(), each as (temp file, target), renamed at its end.
_STAGED: list[tuple[Path, Path]] | None = None


@contextmanager
def staged_outputs() -> Iterator[None]:
    """Within it, :func:`write_atomic` leaves each file in its temp file; leaving it without
    an error renames them all into place, with SIGINT and SIGTERM held off until the last.

    An error or an interrupt (Ctrl-C) while the outputs are written then leaves none of them,
    and the files an earlier run wrote there as they were: not a JSON of this run beside the
    HTML of the last. Stdout and devices are written at once.
    """
    global _STAGED
    if _STAGED is not None:  # nested: the outer one renames
        yield
        return
    _STAGED = staged = []
    try:
        yield
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        _STAGED = None
    held = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        for done, (tmp, target) in enumerate(staged):
            try:
                os.replace(tmp, target)
            except OSError as exc:
                for left, _ in staged[done:]:
                    left.unlink(missing_ok=True)
                raise _unwritable(target, exc) from exc
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


# Stdout gets a document in pieces of this size, each flushed: when a pipe's reader leaves
# (`| head`) in the middle of one large write, the write returns short without an error and
# the rest was lost unsaid; the next piece's write raises BrokenPipeError instead.
STDOUT_PIECE = 1 << 16


def _write_stdout(write: Callable[[IO[str]], object]) -> None:
    buffer = io.StringIO()
    write(buffer)
    text = buffer.getvalue()
    for start in range(0, len(text), STDOUT_PIECE):
        sys.stdout.write(text[start : start + STDOUT_PIECE])
        sys.stdout.flush()


def _is_device(path: Path) -> bool:
    """True for an existing path that is neither a file nor a folder: a device or a pipe."""
    return path.exists() and not path.is_file() and not path.is_dir()


def _write_through(target: Path, write: Callable[[IO[str]], object]) -> None:
    """Write to a device or pipe as it is (no temp file, no rename)."""
    try:
        with open(target, "w", encoding="utf-8", newline="\n") as fh:
            write(fh)
    except OSError as exc:
        raise _unwritable(target, exc) from exc


def _unwritable(target: Path, exc: OSError) -> UsageError:
    return UsageError(
        f"cannot write {target}: {why_unwritable(target, exc)}",
        hint="give a path in a folder you can write to, with room to spare",
    )


def why_unwritable(path: Path, exc: OSError) -> str:
    """Return why ``path`` could not be written or made: a file where a folder must be, else
    the system's reason."""
    blocker = file_in_the_way(path)
    return f"{blocker} is a file, not a folder" if blocker else exc.strerror or str(exc)


def file_in_the_way(path: Path) -> Path | None:
    """Return the nearest folder above ``path`` that exists as a file, so that nothing can be
    made under it; None when every existing one above it is a folder."""
    return next((p for p in path.parents if p.exists() and not p.is_dir()), None)


def folder_option(value: str, option: str) -> Path:
    """The folder an option names; UsageError for an empty name, which a path type reads as
    the current folder (``--out ""`` wrote a whole scenario into it)."""
    if not value.strip():
        raise empty_value(option, "folder name")
    return Path(value)


def check_folder(path: Path, option: str, *, make: bool = True) -> None:
    """Raise UsageError naming ``option`` and ``path`` when files cannot be written into the
    folder ``path``; make it first (with its parents) when ``make``, else a missing folder is
    left for the caller to make."""
    where = f"{option} {path}"
    if path.exists() and not path.is_dir():
        raise UsageError(f"cannot write {where}: it is a file, not a folder")
    if make:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot write {where}: {why_unwritable(path, exc)}") from exc
    elif not path.exists():
        blocker = file_in_the_way(path)
        if blocker is not None:
            raise UsageError(f"cannot write {where}: {blocker} is a file, not a folder")
        return
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(
            f"cannot write {where}: the folder is not writable",
            hint="give a folder you can write to",
        )


def _file_mode(target: Path) -> int:
    """The mode the file gets: the old file's mode, else 0o666 less the umask."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_json(doc: dict[str, Any], path: Path | str) -> None:
    """Write a result document as indented JSON (NaN is written as null)."""
    text = json.dumps(_finite(doc), indent=2, ensure_ascii=False, allow_nan=False)
    write_atomic(path, lambda fh: fh.write(text + "\n"))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# Said when `report` is given something other than a result (an events export, say).
RESULT_HINT = (
    "report reads the JSON results of privdiag scan, model-check or audit (written with "
    "--json FILE); to read event exports or consent files, run privdiag scan on them"
)


def load_json(path: Path, hint: str) -> Any:
    """Return the JSON value of the file at ``path`` (a BOM before it allowed); InputError
    naming the file, with ``hint``, for a file that cannot be read or is no JSON privdiag
    writes (nested thousands deep, a number of thousands of digits)."""
    from privdiag.errors import InputError

    try:  # utf-8-sig: an editor on Windows may have put a BOM before it
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise InputError("file not found", path=path) from exc
    except IsADirectoryError as exc:
        raise InputError(
            "is a folder", path=path, hint="name the result files in it (FOLDER/*.json)"
        ) from exc
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", path=path) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"is not JSON ({exc})", path=path, hint=hint) from exc
    except (RecursionError, ValueError) as exc:  # nested too deep, a number of 4,300+ digits
        raise InputError(
            "is not a privdiag result: it nests arrays or objects thousands deep or holds a "
            "number of thousands of digits",
            path=path,
            hint=hint,
        ) from exc


def read_json(path: Path) -> dict[str, Any]:
    """Read a result document written by privdiag, with a clear error naming the file for
    anything else (a foreign or edited document included); return it scrubbed of e-mail
    and IP addresses and control characters, as every output must be."""
    from privdiag.errors import InputError

    doc = load_json(path, RESULT_HINT)
    if not isinstance(doc, dict) or doc.get("tool") != "privdiag" or "findings" not in doc:
        raise InputError(
            "is not a privdiag result (no tool/findings keys)", path=path, hint=RESULT_HINT
        )
    if _depth(doc) > MAX_DEPTH:  # every step after this one walks the document recursively
        raise InputError(
            f"is not a privdiag result: it nests arrays or objects more than {MAX_DEPTH} deep",
            path=path,
            hint=RESULT_HINT,
        )
    from privdiag.privacy import redact_id_names, scrub_doc
    from privdiag.report.merge import check_document

    check_document(doc, where=str(path))  # before any output is written
    # a document from elsewhere may hold e-mail or IP addresses, or names that look like ids
    return scrub_doc(redact_id_names(doc))


# How deep a result's arrays and objects may nest: privdiag writes about 6 levels; 900 made
# the scrubbing and the reports an internal error (RecursionError).
MAX_DEPTH = 64


def _depth(doc: Any) -> int:
    """The nesting depth of a JSON value, measured without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            stack += [(child, level + 1) for child in children]
    return deepest


SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def _console_class() -> type:
    from rich.console import Console

    class PipeConsole(Console):
        """A rich console that lets a closed output raise BrokenPipeError, for the CLI to end
        the run quietly, instead of exiting with 1 itself (rich's own choice)."""

        def on_broken_pipe(self) -> None:
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return PipeConsole


#: Characters of a name or value in the terminal summary's tables (a kind, a location, an
#: owner, an input's name), and of one line of text (a note, a check's reason, who must act):
#: a result whose texts run to megabytes (an edited one, a feature named by the data) would
#: otherwise flood the terminal.
SUMMARY_CELL = 100
SUMMARY_LINE = 300
#: Inputs named and kinds counted one by one in the terminal summary; the others are counted.
SUMMARY_INPUTS = 10
SUMMARY_KINDS = 30


#: Columns of the summary written to a file or a pipe (a CI job's log), where no terminal
#: says how wide it is: rich's 80 cut the kinds and locations of the tables.
PIPE_WIDTH = 160
#: Line and column breaks in a text from the data (an event name, a column, an owner), which
#: would start a new line of the summary inside a cell or a sentence: an event name
#: "x\n0 findings" printed a line of its own.
_BREAKS = re.compile("[\t\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """Return ``text`` with each run of line or column breaks as one space."""
    return _BREAKS.sub(" ", text)


def summary_width(stream: IO[str]) -> int | None:
    """The summary's width: the terminal's (None lets rich ask it), ``COLUMNS`` when set,
    else :data:`PIPE_WIDTH`."""
    isatty = getattr(stream, "isatty", None)
    if (callable(isatty) and isatty()) or os.environ.get("COLUMNS", "").strip().isdigit():
        return None
    return PIPE_WIDTH


def print_summary(doc: dict[str, Any], *, stream: IO[str], top: int = 12) -> None:
    """Print findings by severity and kind, then the top findings, with rich; every text is cut
    to :data:`SUMMARY_CELL` or :data:`SUMMARY_LINE` characters, and the counts are of all."""
    from rich.markup import escape

    from privdiag.report.text import cut, missing_owners, shorten

    console = _console_class()(
        file=stream, highlight=False, soft_wrap=False, width=summary_width(stream)
    )
    summary = doc["summary"]
    console.print(
        f"[bold]privdiag {escape(cut(str(doc.get('command', '')), SUMMARY_CELL))}[/bold]: "
        + _inputs_text(doc.get("inputs", []))
    )
    counts = "  ".join(
        f"[{SEVERITY_STYLE[s]}]{summary['by_severity'].get(s, 0)} {s}[/]"
        for s in SEVERITIES
        if summary["by_severity"].get(s)
    )
    console.print(f"{summary['findings']} findings  {counts or '(none)'}")
    # with no finding the notes and skipped checks still follow: "0 findings" of a run that
    # measured nothing (a blind set without its label) must say so
    if doc["findings"]:
        _print_table(console, _kinds_table(summary.get("by_kind", {})))
        _print_table(console, _top_table(doc["findings"], top))

    # a long line keeps whole words and its last clause, where the advice is
    for line in missing_owners(doc["findings"])[:5]:
        console.print(f"[bold]who must act:[/bold] {escape(shorten(one_line(line), SUMMARY_LINE))}")
    for note in (doc.get("evidence") or {}).get("notes") or []:
        console.print(
            f"[yellow]note:[/yellow] {escape(shorten(one_line(str(note)), SUMMARY_LINE))}"
        )
    skipped = [c for c in doc.get("checks") or [] if c.get("status") == "skipped"]
    for check in skipped:
        name = escape(cut(one_line(str(check["name"])), SUMMARY_CELL))
        reason = escape(shorten(one_line(str(check.get("reason") or "")), SUMMARY_LINE))
        console.print(f"[dim]skipped {name}: {reason}[/dim]")


def _print_table(console: Any, table: Any) -> None:
    """Print a rich ``table`` line by line without the blanks that pad its last cells and its
    title to the table's width: a CI log, or a file diffed between runs, kept a line of
    trailing spaces per finding whose last cell (``explains``) was empty."""
    from rich.segment import Segment, Segments

    lines = []
    for line in console.render_lines(table, pad=False):
        while line and not line[-1].control and not line[-1].text.rstrip():
            line.pop()
        if line and not line[-1].control:
            line[-1] = Segment(line[-1].text.rstrip(), line[-1].style)
        lines += [*line, Segment.line()]
    console.print(Segments(lines), end="")


def _inputs_text(inputs: list[dict[str, Any]]) -> str:
    """The first :data:`SUMMARY_INPUTS` inputs as ``name (format, N rows)`` (a consent input's
    ``name (consent, N rows, M records)``), then how many more; an edited result may lack any
    key a scan writes, and hold markup in any text."""
    from rich.markup import escape

    from privdiag.report.text import cut

    def named(i: dict[str, Any]) -> str:
        name = cut(one_line(Path(i["path"]).name), SUMMARY_CELL)
        text = f"{name} ({cut(str(i.get('format') or '?'), SUMMARY_CELL)}"
        rows = f", {i['rows']:,} rows" if isinstance(i.get("rows"), int) else ""
        records = f", {i['records']:,} records" if isinstance(i.get("records"), int) else ""
        return escape(text) + rows + records + ")"

    more = len(inputs) - SUMMARY_INPUTS
    return ", ".join(named(i) for i in inputs[:SUMMARY_INPUTS]) + (
        f" and {more:,} more" if more > 0 else ""
    )


def _kinds_table(by_kind: dict[str, int]) -> Any:
    """The findings by kind: the first :data:`SUMMARY_KINDS` kinds, then one row that counts the
    findings of the others, so that the rows add up to all."""
    from rich.markup import escape
    from rich.table import Table

    from privdiag.report.text import cut

    table = Table(title=None, show_edge=False, box=None, pad_edge=False)
    table.add_column("kind")
    table.add_column("findings", justify="right")
    rows = list(by_kind.items())
    for kind, n in rows[:SUMMARY_KINDS]:
        table.add_row(escape(cut(one_line(str(kind)), SUMMARY_CELL)), str(n))
    if len(rows) > SUMMARY_KINDS:
        others = rows[SUMMARY_KINDS:]
        table.add_row(f"{len(others):,} other kinds", str(sum(n for _, n in others)))
    return table


def _top_table(findings: list[dict[str, Any]], top: int) -> Any:
    """The first ``top`` findings ranked (a missing owner is told under "who must act" instead),
    their kind, location and owner cut to :data:`SUMMARY_CELL` characters, and how many
    findings each explains (lists among its causes): root causes rank before their symptoms,
    so a low finding above high ones says why it is there."""
    from rich.markup import escape
    from rich.table import Table

    from privdiag.report.text import OWNERSHIP_GAP, cut, fmt_number

    table = Table(
        show_edge=False, box=None, pad_edge=False, title="top findings", title_justify="left"
    )
    for col in ("severity", "kind", "where", "owner", "events", "explains"):
        table.add_column(col)
    explains: dict[str, int] = {}
    for f in findings:
        for cause in set(f.get("caused_by") or []):
            explains[str(cause)] = explains.get(str(cause), 0) + 1
    ranked = [f for f in findings if f.get("kind") != OWNERSHIP_GAP]
    for f in ranked[:top]:
        where = one_line(" · ".join(str(v) for v in (f.get("location") or {}).values()))
        events = (f.get("metrics") or {}).get("events")
        symptoms = explains.get(str(f.get("id")), 0)
        table.add_row(
            f"[{SEVERITY_STYLE[f['severity']]}]{f['severity']}[/]",
            escape(cut(one_line(str(f["kind"])), SUMMARY_CELL)),
            escape(cut(where, SUMMARY_CELL)),
            escape(cut(one_line(str(f.get("owner") or "-")), SUMMARY_CELL)),
            fmt_number(events) if isinstance(events, int | float) else "",
            f"{fmt_number(symptoms)} finding{'s' if symptoms != 1 else ''}" if symptoms else "",
        )
    return table
