"""Which ``[models.X]`` entry of the config a model given to ``model-check`` is.

The entry gives the model its name, owner, label and input names; a model that matches none
is checked under its file's stem without them, and the result says so rather than losing
the owner in silence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privdiag.config import Config

MAX_NAMED = 5  # entries named in the note on a model that matches none


@dataclass
class Entry:
    """The model's config name (else its file's stem), its raw table and a note ("" when the
    match needs none)."""

    name: str
    table: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def model_entry(config: Config, model: Path) -> Entry:
    """Return the ``[models.X]`` entry of ``model``.

    An entry matches when its path, read against the config's folder, is the model's file:
    the same path once ``..`` and symlinks are resolved (a relative path against an absolute
    one, a link to the file), or the same file under another name (a hard link). Else the
    entry named like the file's stem matches: ``model-check NAME --predictions ...`` names
    the model only, and a file that exists elsewhere under that name is said in the note.
    A model matching no entry while the config has some gets a note naming them.
    """
    tables = config.raw.get("models", {})
    for name, spec in config.models.items():
        if _same_file(config.resolve(spec.path), model):
            return Entry(name, dict(tables.get(name, {})))

    stem = model.stem
    if stem in config.models:
        note = ""
        if model.exists():
            note = (
                f"model {model} is read as [models.{stem}] by its name, though that entry's "
                f"path ({config.models[stem].path}) is another file"
            )
        return Entry(stem, dict(tables.get(stem, {})), note)

    if not config.models:
        return Entry(stem)
    return Entry(stem, note=_unmatched(config, model))


def _unmatched(config: Config, model: Path) -> str:
    """The note on a model that no entry names: the entries, what the model goes without, and
    how to match it."""
    named = [f"{n} ({s.path})" for n, s in sorted(config.models.items())]
    more = len(named) - MAX_NAMED
    entries = ", ".join(named[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")
    where = f" of {config.path}" if config.path else ""
    # the advice, with the entries, is the last clause: a terminal line cut keeps it
    return (
        f"model {model} matches no [models.X] entry{where}: it is checked as {model.stem}, "
        "without an entry's owner, label or input names. Give the model by the path of an "
        f"entry, relative to the config's folder ({entries}), or add an entry for this file"
    )


def _same_file(named: Path, model: Path) -> bool:
    """True when the entry's path ``named`` and ``model`` are one file: one path once resolved,
    or, both existing, one file (a hard link)."""
    if named.resolve() == model.resolve():
        return True
    try:
        return os.path.samefile(named, model)
    except OSError:  # either is missing or unreadable: not shown to be the same
        return False
