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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from privdiag.errors import UsageError
from privdiag.ingest.files import Reached, source_name
from privdiag.privacy import REDACTED, scrub

_DIGITS = re.compile(r"[0-9]+")
_EXTENSIONS = {".csv", ".tsv", ".txt", ".ndjson", ".jsonl", ".json", ".parquet", ".gz"}
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
        """The note on the files read as one: it names their glob, not a file, whose digits
        may be a user's id (``user_4821.csv``), where the glob's ``*`` hides them."""
        named = self.source or source_name(self.pattern)
        return (
            f"{len(self.members)} event files given one by one are named "
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


def _kind(argument: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """What a file must share with the others of its shape to be read with them: its
    format and the columns it reads each event role from (``site1.csv`` with ``ts`` and
    ``site2.csv`` with ``timestamp`` are two exports, not two parts of one: read together,
    one had no time). None when the file cannot be read: it is read as given, and the loader
    says why it cannot be."""
    from privdiag.ingest.roles import EVENT_ROLES, find_roles
    from privdiag.ingest.staging import detected_format, peek_columns

    columns = peek_columns(argument)
    if columns is None:
        return None
    roles = find_roles(list(columns), EVENT_ROLES)
    return detected_format(columns), tuple(sorted((r, c.lower()) for r, c in roles.items()))


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
    sources: dict[str, str] = {}
    shapes = {id(one): _shape(one, configured) for one in reaching}
    shared = Counter(s for s in shapes.values() if s)
    keys = {
        key: (shape, _kind(one.argument))
        for key, shape, one in ((id(o), shapes[id(o)], o) for o in reaching)
        if shape and shared[shape] > 1
    }
    # a shape whose files are of several kinds is several exports: each file read as given
    mixed = {shape for shape, n in Counter(s for s, _ in set(keys.values())).items() if n > 1}
    groups: dict[tuple, Parts] = {}
    for one in reaching:
        key = keys.get(id(one))
        if key and key[1] is not None and key[0] not in mixed:
            groups.setdefault(key, Parts()).members.append(one)
    parts = {key: group for key, group in groups.items() if len(group.members) > 1}
    if not parts:
        return reaching, sources, _redacted_apart(reaching, sources, configured)
    out: list[Reached] = []
    for one in reaching:
        group = parts.get(keys.get(id(one)) or ("", None))
        if group is None:
            out.append(one)
        elif one is group.members[0]:
            out.append(group.reached())
    names = [source_name(one.argument) for one in out]
    for group in parts.values():
        if names.count(source_name(group.pattern)) > 1:
            group.source = _stem(group.pattern)
    sources.update({g.pattern: g.source for g in parts.values() if g.source})
    apart = _redacted_apart(out, sources, configured)
    for group in parts.values():
        group.source = sources.get(group.pattern)
    return out, sources, [g.note() for g in parts.values()] + apart


def _redacted_apart(
    reaching: list[Reached], sources: dict[str, str], configured: set[str]
) -> list[str]:
    """Number the sources of inputs named for different addresses: ``alice@example.com.csv``
    and ``bob@example.com.csv`` both read as source ``[redacted]``, and two people's exports
    were one source's, their events summed in every finding (privacy review 27's (1)). Each
    such name gets ``-1``, ``-2`` in the order given, into ``sources`` (keyed by argument);
    files whose names are the same but for their folder stay one source, as any do. Return
    a note that says so, naming no file (their names are the addresses)."""
    named: dict[str, list[Reached]] = {}
    for one in reaching:
        if one.argument in configured:
            continue
        name = sources.get(one.argument) or source_name(one.argument)
        if REDACTED in name:
            named.setdefault(name, []).append(one)
    notes = []
    for name, given in named.items():
        exports = list(dict.fromkeys(_unredacted(one.argument) for one in given))
        if len(exports) < 2:
            continue
        for one in given:
            sources[one.argument] = f"{name}-{exports.index(_unredacted(one.argument)) + 1}"
        notes.append(
            f"{len(exports)} event inputs are named for different addresses, redacted here: "
            f"they are read as sources {name}-1 to {name}-{len(exports)}, numbered in the "
            "order given, not as one source. To name them, list each under [sources.X] "
            "paths in the config"
        )
    return notes


def _unredacted(argument: str) -> str:
    """The name an argument's source is made of, before its addresses are redacted, without
    the extensions of a data file (``bob@example.com_*.csv.gz`` -> ``bob@example.com_*``)."""
    name = Path(argument.rstrip("/")).name
    while Path(name).suffix.lower() in _EXTENSIONS:
        name = Path(name).stem
    return name


def _consent_only(argument: str) -> tuple[bool, bool]:
    """Whether a file's columns read as a consent log's (user, purpose, status, time), and
    whether they read as that alone: no export's, no event name or time to read events by."""
    from privdiag.ingest.roles import EVENT_ROLES, find_roles, reads_as_consent
    from privdiag.ingest.staging import detected_format, peek_columns

    columns = peek_columns(argument) or {}
    if not columns or not reads_as_consent(list(columns)):
        return False, False
    events = {"ts", "event_name"} <= set(find_roles(list(columns), EVENT_ROLES))
    return True, detected_format(columns) == "generic" and not events


def _moved_note(argument: str, named: str | None) -> str:
    """The note on an event argument read as consent: ``named`` the --consent file it is
    named as but for its digits, None for a consent log named otherwise."""
    if named is not None:
        return (
            f"{argument}, given among the event files, holds a consent log named as {named} "
            "but for its digits, and was read as consent: a shell gives only the first file "
            "of an unquoted --consent glob to --consent; quote the glob or give --consent "
            "for each file"
        )
    return (
        f"{argument}, given among the event files, holds a consent log (user, purpose, "
        "status, time) and no events, and was read as consent: --consent takes one file "
        f"each time it is given; give this one as --consent {argument}, or quote a glob of "
        "the logs"
    )


def consent_parts(
    data: list[str], consent: list[str], origins: list[str] | None, configured: set[str]
) -> tuple[list[str], list[str], list[str] | None, list[str]]:
    """Move to the consent arguments each event argument that is a consent log, when consent
    files are given: one named as a ``--consent`` file but for its digits (``--consent
    logs/cmp_*.csv`` unquoted gives the shell's first file to --consent and the others to
    the events), or one that reads as a consent log and as no events (``--consent mon.csv
    tue.csv`` gives tue.csv to the events), where each was refused ("pass it with
    --consent"). Return the events, the consent arguments, where each was given, and a note
    per file moved."""

    def plain(argument: str) -> bool:
        local = not any(ch in argument for ch in _GLOB) and "://" not in argument
        return local and argument not in configured and Path(argument).is_file()

    def shape(argument: str) -> str | None:
        out = _DIGITS.sub("*", argument) if plain(argument) else argument
        return out if out != argument else None

    if not consent:
        return data, consent, origins, []
    given = {shape(c): k for k, c in enumerate(consent) if shape(c)}
    events, moved, where = [], list(consent), list(origins) if origins is not None else None
    said = []
    for argument in data:
        k = given.get(shape(argument) or "")
        log, alone = _consent_only(argument) if plain(argument) else (False, False)
        if not log or (k is None and not alone):
            events.append(argument)
            continue
        moved.append(argument)
        said.append(_moved_note(argument, None if k is None else consent[k]))
        if where is not None:
            where.append(where[k or 0])
    if data and not events:  # else "no event data given", of files the user gave
        logs = moved[len(consent) :]
        what = "is a consent log" if len(logs) == 1 else "are consent logs"
        raise UsageError(
            f"no event data given: {', '.join(logs)} {what} (user, purpose, status, time; no "
            "events), read as consent",
            hint="pass the events file or folder as well",
        )
    return events, moved, where, said
