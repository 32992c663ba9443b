"""How the CLI ends a run: privdiag's errors as one line and their exit code, signals, a
closed output, and unexpected errors as a bug whose traceback goes to a private log file."""

from __future__ import annotations

import errno
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from privdiag.errors import PrivdiagError, UsageError


def _crash_log(text: str) -> Path | None:
    """Write a crash's traceback to a new file in the temp dir that only the user can read
    (mode 0600), one file per crash; return its path, or None when it cannot be written."""
    try:
        fd, name = tempfile.mkstemp(prefix="privdiag-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError:
        return None
    return Path(name)


def _without_data(text: str) -> str:
    """Return an error text or traceback without e-mail or IP addresses and without the
    values and records a reader quoted from the data."""
    from privdiag.privacy import scrub, without_quoted_data

    return without_quoted_data(scrub(text))


# DuckDB turns a signal that arrives while a query runs into RuntimeError("Query interrupted");
# the signal that stopped the run (SIGINT unless SIGTERM came) gives the exit code 128 + n.
_INTERRUPTED = "Query interrupted"
_stopped_by: list[int] = []


def on_sigterm(signum: int, _frame: Any) -> None:
    """Stop like Ctrl-C, so that atexit removes the scratch folder of --memory-limit."""
    _stopped_by.append(signum)
    raise KeyboardInterrupt


def _interrupted() -> typer.Exit:
    """Return the exit of a run stopped by a signal, after saying so on stderr."""
    signum = _stopped_by[-1] if _stopped_by else signal.SIGINT
    typer.echo("Interrupted.", err=True)
    return typer.Exit(128 + int(signum))


def _scrubbed(exc: BaseException | None) -> str:
    """An error's text with e-mail and IP addresses (from file names or data) redacted, and
    without a value or record that a reader quoted from the data."""
    from privdiag.privacy import scrub, without_quoted_data

    return without_quoted_data(scrub(str(exc)))


def _one_line_each(exc: PrivdiagError) -> str:
    """An error's message and hint scrubbed (:func:`_scrubbed`), each on one line: a file's
    name holding a line break ("b\\n0 findings.csv") printed a line of its own."""
    from privdiag.output import one_line

    message = one_line(_scrubbed(exc.message))
    return f"{message}\n  hint: {one_line(_scrubbed(exc.hint))}" if exc.hint else message


# The exit code when stdout or stderr is closed before privdiag has written to it (`| head`):
# 128 + SIGPIPE, what a shell shows for a tool that SIGPIPE stopped.
CLOSED_OUTPUT_EXIT = 128 + 13


def _output_closed() -> bool:
    """Whether stdout or stderr is a pipe whose reader has gone (poll reports an error on it).

    Tells a closed output from a BrokenPipeError of another pipe, which is a bug.
    """
    import select

    if not hasattr(select, "poll"):  # Windows: no poll; a broken pipe is then the output's
        return True
    for stream in (sys.stdout, sys.stderr):
        try:
            poller = select.poll()
            poller.register(stream.fileno(), select.POLLOUT)
        except (AttributeError, OSError, ValueError):  # not a real file (a test runner's)
            continue
        if any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)):
            return True
    return False


def _closed_output() -> typer.Exit:
    """Return the quiet exit of a run whose output was closed: nothing more is printed.

    What is still buffered for the closed stream goes to /dev/null instead, so that Python's
    flush at exit does not complain about the broken pipe either.
    """
    _drop_unflushed(BrokenPipeError)
    return typer.Exit(CLOSED_OUTPUT_EXIT)


def _drop_unflushed(failed: type[OSError]) -> None:
    """Flush stdout and stderr; a stream whose flush raises ``failed`` (its reader gone, its
    disk full) is sent to /dev/null, so that Python's flush at exit does not fail on it too."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except failed:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            continue


# Added to click's "Missing argument 'data'.": what a user who ran init, then scan with only
# --config, needs to hear.
NO_DATA = (
    "Name the event exports (files, globs or folders); a config's [sources] paths are read "
    "by privdiag audit --config FILE, not by scan or init."
)


class PrivdiagGroup(TyperGroup):
    """Turns privdiag's errors into one line and the exit code of DESIGN.md.

    Usage errors are reported by typer itself (exit 2); anything unexpected is a bug
    (exit 5) whose traceback goes to a log file, never to the terminal. A closed stdout
    (``privdiag ... | head``) ends the run quietly with exit 141.
    """

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:  # --help and --version print here, before invoke
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            raise _closed_output() from None
        except OSError as exc:
            if not _output_full(exc):
                raise
            raise _no_room_for_output(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            if not _output_closed():
                raise _internal(exc) from None
            raise _closed_output() from None
        except PrivdiagError as exc:
            if _out_of_room(exc.__cause__):  # not the input's fault, whatever wrapped it
                raise _no_room(exc.__cause__) from None
            from privdiag.cli_emit import guarded  # a file's name may hold "\n::error::"

            typer.echo(guarded(f"Error: {_one_line_each(exc)}"), err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise _interrupted() from None
        except (typer.Exit, typer.Abort):
            raise
        except RuntimeError as exc:
            if str(exc) != _INTERRUPTED:
                raise _internal(exc) from None
            raise _interrupted() from None
        except Exception as exc:
            if type(exc).__module__.startswith(("click", "typer")):
                _explain_missing_data(exc)
                raise
            if _output_full(exc):
                raise _no_room_for_output(exc) from None
            raise (_no_room(exc) if _out_of_room(exc) else _internal(exc)) from None


# What a write to a full disk raises: stdout or stderr redirected to a file there, or to
# /dev/full. A file privdiag writes itself says its name (see privdiag.output.write_atomic).
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def _output_full(exc: BaseException) -> bool:
    """Whether ``exc`` is a write to stdout or stderr that found no room (no file named)."""
    return isinstance(exc, OSError) and exc.errno in _FULL and exc.filename is None


def _no_room_for_output(exc: OSError) -> typer.Exit:
    """Say, where stderr still takes it, that the output found no room; return exit 2, the
    exit of an output path that cannot be written."""
    error = UsageError(
        f"cannot write to stdout or stderr: {exc.strerror or exc}",
        hint="free space where they are redirected, or write the outputs to files "
        "(--json FILE, --html FILE) on a disk with room",
    )
    try:
        typer.echo(f"Error: {error}", err=True)
    except OSError:
        pass  # stderr is what is full: the exit code alone tells it
    _drop_unflushed(OSError)
    return typer.Exit(error.exit_code)


def _explain_missing_data(exc: Exception) -> None:
    """Add NO_DATA to click's missing-argument error for ``data`` (click is vendored by newer
    typer releases, so its class is told by name)."""
    param = getattr(exc, "param", None)
    if type(exc).__name__ == "MissingParameter" and param is not None and not exc.message:
        if param.name == "data":
            exc.message = NO_DATA


def _out_of_room(exc: BaseException | None) -> bool:
    """Whether DuckDB ran out of memory or of disk space (duckdb's types, not imported)."""
    name = type(exc).__name__
    return name == "OutOfMemoryException" or (
        name == "IOException" and "No space left on device" in str(exc)
    )


def _no_room(exc: BaseException | None) -> typer.Exit:
    """Say that DuckDB ran out of memory or disk and return the exit of a config error (2)."""
    disk = type(exc).__name__ == "IOException"
    error = UsageError(
        f"DuckDB ran out of {'disk space' if disk else 'memory'}: "
        f"{_scrubbed(exc).splitlines()[0][:200]}",
        hint="free space or pass --temp-dir a folder on a larger disk"
        if disk
        else "raise --memory-limit (or [engine] memory_limit; JSON inputs need about 256MB "
        "at least), or set one if none is set: tables then go to a scratch file under "
        "--temp-dir",
    )
    typer.echo(f"Error: {error}", err=True)
    return typer.Exit(error.exit_code)


def _internal(exc: Exception) -> typer.Exit:
    """Log the traceback of an unexpected error to its own private file and return exit 5
    (a bug)."""
    path = _crash_log(_without_data(traceback.format_exc()))
    where = f"the details are in {path}" if path else "its details could not be logged"
    typer.echo(
        f"Internal error: {type(exc).__name__}: {_without_data(str(exc))[:200]}. This is a "
        f"bug; {where} (readable by you only).",
        err=True,
    )
    return typer.Exit(5)
