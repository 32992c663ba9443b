"""Atomic file output shared by the writers: never a partial report on disk."""

from __future__ import annotations

from pathlib import Path

from privdiag.output import write_atomic


def write_text(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` atomically, or to stdout when ``path`` is ``-``."""
    write_atomic(path, lambda fh: fh.write(text))
