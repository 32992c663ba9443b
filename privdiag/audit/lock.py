"""An exclusive lock beside the history file, so that two audits never overlap.

The lock is ``fcntl.flock`` on ``<history>.lock``: the kernel drops it when the process
ends, however it ends, so a killed audit never leaves a stale lock behind.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from privdiag.errors import LockError, UsageError


def lock_path(history: Path) -> Path:
    """Return the lock file that guards ``history``."""
    return history.with_name(history.name + ".lock")


@contextmanager
def hold(history: Path) -> Iterator[Path]:
    """Hold the exclusive lock of ``history`` for the body; yield the lock file's path.

    Raises LockError at once (no waiting) when another process holds it. The lock file
    records the holder's process id, for the message a second audit prints.
    """
    with _hold(lock_path(history), str(history)) as path:
        yield path


@contextmanager
def hold_reports(reports_dir: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the reports folder ``reports_dir`` itself for the body,
    waiting for it: the bodies are short (finishing what killed runs left, then writing,
    publishing and pruning a run's folder). Two audits of different histories may share a
    reports folder (two configs of one folder, each with its own history), and the second's
    start removed the first's folder being written as one a killed run left: the first then
    ended in an internal error, its run recorded and its reports gone. The folder is locked,
    not a file: a lock file beside it landed in a folder a source reads (``data/*`` beside
    ``data/reports``), inside it among the runs' folders."""
    fd = os.open(reports_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def _hold(path: Path, subject: str) -> Iterator[Path]:
    fd = _open_own_file(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockError(
                f"another audit is running on {subject} (lock {path} held by "
                f"process {_holder(fd)})",
                hint="wait for it to finish; the lock is released when that process ends",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)


def _open_own_file(path: Path) -> int:
    """Open (or make) the lock file, refusing one that is a link to another file: the audit
    writes its process id there, and a link planted in a shared folder (``ln -s
    /etc/shadow privdiag-history.duckdb.lock``) had a cron job running as root overwrite
    its target. A device, a pipe or a second hard link of a file is refused too."""
    fd = open_not_through_link(path, os.O_RDWR | os.O_CREAT, _LOCK)
    found = os.fstat(fd)
    if not S_ISREG(found.st_mode) or found.st_nlink > 1:
        os.close(fd)
        what = "a hard link of another file" if S_ISREG(found.st_mode) else "no regular file"
        raise _not_own(path, what, _LOCK)
    return fd


@dataclass(frozen=True)
class Written:
    """A file the audit writes: what it is, what it writes there and what to do instead."""

    role: str
    writes: str
    hint: str


_LOCK = Written(
    "the audit's lock file",
    "its process id",
    "remove it (when no audit is running): privdiag makes it anew",
)


def open_not_through_link(path: Path, flags: int, written: Written) -> int:
    """``os.open`` of ``path`` with ``flags`` (with ``O_CREAT``, made 0644 when missing), never
    through a symbolic link at ``path``: a link planted in a shared folder would have a cron
    job running as root write into the file it leads to. Raises UsageError for such a link,
    in ``written``'s words; other OSErrors are the caller's."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise _not_own(path, "a symbolic link", written) from None


def _not_own(path: Path, what: str, written: Written) -> UsageError:
    return UsageError(
        f"{written.role} {path} is {what}; privdiag writes {written.writes} there and will not "
        "write through it",
        hint=written.hint,
    )


def _holder(fd: int) -> str:
    data = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return data or "unknown"
