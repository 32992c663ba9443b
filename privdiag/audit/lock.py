"""An exclusive lock beside the history file, so that two audits never overlap.

The lock is ``fcntl.flock`` on ``<history>.lock``: the kernel drops it when the process
ends, however it ends, so a killed audit never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from privdiag.errors import LockError


def lock_path(history: Path) -> Path:
    """Return the lock file that guards ``history``."""
    return history.with_name(history.name + ".lock")


@contextmanager
def hold(history: Path) -> Iterator[Path]:
    """Hold the exclusive lock of ``history`` for the body; yield the lock file's path.

    Raises LockError at once (no waiting) when another process holds it. The lock file
    records the holder's process id, for the message a second audit prints.
    """
    path = lock_path(history)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockError(
                f"another audit is running on {history} (lock {path} held by "
                f"process {_holder(fd)})",
                hint="wait for it to finish; the lock is released when that process ends",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    data = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return data or "unknown"
