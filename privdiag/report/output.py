"""Atomic file output shared by the writers: never a partial report on disk."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def write_text(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` atomically, or to stdout when ``path`` is ``-``.

    The text goes to a temporary file in the same folder, which then replaces the target,
    so a failure part-way leaves the old file (or none) in place, never a truncated one.
    """
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        os.chmod(tmp, _file_mode(target))
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_mode(target: Path) -> int:
    """The mode a new file would get: the old file's mode, else 0o666 less the umask."""
    if target.exists():
        return target.stat().st_mode & 0o777
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
