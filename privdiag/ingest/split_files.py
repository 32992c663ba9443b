"""Event files given one by one that are one export cut into parts, read as one input.

A shell expands ``privdiag scan exports/app_*.csv`` into one argument per file before
privdiag sees it. Each argument is an input of its own, named for its file, so a month of
daily files became 28 sources of a day each: findings split by day, a change over the
month never seen, a repeat in two files never dropped. The same files given as the folder
or a quoted glob are one source. Files whose paths are the same but for their digits
(``app_20261001.csv``, ``app_20261002.csv``; ``dt=2026-10-01/part-0.parquet``) are taken
as parts of one export and read together, as that glob would read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from privdiag.ingest.files import Reached, source_name
from privdiag.privacy import scrub

_DIGITS = re.compile(r"[0-9]+")
_GLOB = "*?["


@dataclass
class Parts:
    """The arguments read as one input, all of one shape (:func:`_shape`), and, where the
    name of their :attr:`pattern` would be another input's too, the name of their files
    without digits."""

    members: list[Reached] = field(default_factory=list)
    source: str | None = None

    @property
    def pattern(self) -> str:
        """The glob of the members: each run of digits in which they differ as ``*``, those
        all of them share as written (``/tmp/run-42/app_*.csv``)."""
        runs = [_DIGITS.split(one.argument) for one in self.members]
        digits = [_DIGITS.findall(one.argument) for one in self.members]
        out = runs[0][0]
        for k, text in enumerate(runs[0][1:]):
            same = {found[k] for found in digits}
            out += (same.pop() if len(same) == 1 else "*") + text
        return out

    def reached(self) -> Reached:
        files = [path for one in self.members for path in one.files or []]
        return Reached(self.pattern, files, [], origin=self.members[0].origin)

    def note(self) -> str:
        first, last = self.members[0].argument, self.members[-1].argument
        named = self.source or source_name(self.pattern)
        return (
            f"{len(self.members)} event files given one by one ({first} to {last}) are named "
            f"alike but for their digits, and were read as one input, {self.pattern}, source "
            f"{named}, as that folder or quoted glob would be: a shell gives each file of "
            "such a glob as an argument of its own. To read them as sources of their own, "
            "name each under [sources.X] paths in the config"
        )


def _shape(one: Reached, configured: set[str]) -> str | None:
    """The glob of an argument that is one local file, with every run of digits as ``*``;
    None for a folder, a glob, a URL, a file the config names, or a name without digits."""
    argument = one.argument
    if one.files is None or len(one.files) != 1 or one.left_out or one.elsewhere:
        return None
    if any(ch in argument for ch in _GLOB) or argument in configured:
        return None
    if not Path(argument).is_file():
        return None
    shape = _DIGITS.sub("*", argument)
    return shape if shape != argument else None


def _stem(pattern: str) -> str | None:
    """A glob's file name without its digits, extensions and separators, None if empty. An
    address in it is redacted before the cut at its first dot, as :func:`source_name` does
    (``alice@example.com_*.csv`` would name the source ``alice@example``)."""
    name = scrub(Path(pattern).name).split(".")[0].replace("*", "")
    return name.strip("-_ ") or None


def join_parts(
    reaching: list[Reached], configured: set[str]
) -> tuple[list[Reached], dict[str, str], list[str]]:
    """Return ``reaching`` with the files of each shape read as one input (at the place of
    its first), the source of each such input whose glob's name another input has too, and
    a note per such input. ``configured`` are the arguments the config names a source
    for, read as given."""
    groups: dict[str, Parts] = {}
    for one in reaching:
        shape = _shape(one, configured)
        if shape:
            groups.setdefault(shape, Parts()).members.append(one)
    parts = {shape: group for shape, group in groups.items() if len(group.members) > 1}
    if not parts:
        return reaching, {}, []
    out: list[Reached] = []
    for one in reaching:
        group = parts.get(_shape(one, configured) or "")
        if group is None:
            out.append(one)
        elif one is group.members[0]:
            out.append(group.reached())
    names = [source_name(one.argument) for one in out]
    for group in parts.values():
        if names.count(source_name(group.pattern)) > 1:
            group.source = _stem(group.pattern)
    sources = {g.pattern: g.source for g in parts.values() if g.source}
    return out, sources, [g.note() for g in parts.values()]
