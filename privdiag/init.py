"""``privdiag init``: a commented starter config inferred from the data."""

from __future__ import annotations

import glob
import json
import os
import re
from pathlib import Path

from privdiag.checks.context import present_sql
from privdiag.config import Config, absolute
from privdiag.engine import connect
from privdiag.ingest import Loaded, load
from privdiag.journey import journey_steps
from privdiag.mapping import BUILTIN_FEATURES, feature_columns

_CONTROL = re.compile("[\x00-\x1f\x7f]")


#: How the journey written was found, in the config's comment.
_ORIGINS = {
    "ecommerce": "GA4 and Segment e-commerce event names",
    "order": "the order of event names in sessions",
    "none": "none found: fewer than two steps",
    "config": "from a config",
}


def _toml_key(name: str) -> str:
    bare = name.replace("_", "").replace("-", "").isalnum() and name.isascii()
    return name if bare else _toml_string(name)


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes (quote, backslash, control characters) are TOML's;
    JSON leaves DEL raw, which TOML forbids."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_step(names: list[str]) -> str:
    """A journey step as the config writes it: its one name, or the list of its names."""
    if len(names) == 1:
        return _toml_string(names[0])
    return "[" + ", ".join(_toml_string(n) for n in names) + "]"


def _names_someone(name: str) -> bool:
    """Whether an event name holds an e-mail or IP address, or looks like an identifier."""
    from privdiag.privacy import names_an_id, scrub

    return scrub(name) != name or names_an_id(name)


def _left_out(count: int) -> str:
    """The comment's tail counting the event names left out of it, if any."""
    if not count:
        return ""
    return f" (and {count:,} name(s) holding an address or an identifier, left out)"


def _comment(text: str) -> str:
    """Text from the data, fit for a TOML comment: one line, no control character (TOML
    forbids them), no e-mail or IP address."""
    from privdiag.privacy import scrub

    return _CONTROL.sub("\ufffd", scrub(text))


# How many folders up a path written in the config may climb from the config's folder. A
# path that climbs further, or up to the filesystem root, is written absolute: the config and
# the data then share no project folder, and moving the config would not keep them together.
MAX_CLIMB = 2


def config_path(argument: str, base: Path | None) -> str:
    """Return ``argument`` (a file, folder or glob) as a config written in ``base`` names it.

    Relative to ``base`` where the two share a folder at most :data:`MAX_CLIMB` levels up,
    other than the filesystem root (audit resolves config paths against the config's folder);
    else absolute (as for another drive on Windows); as given when ``base`` is None, or when
    it is a URL (holding ``://``, as ``s3a://bucket/events/``).
    """
    if base is None or "://" in argument:
        return argument
    full = str(absolute(argument))
    folder = absolute(base)
    try:
        relative = Path(os.path.relpath(full, folder))
    except ValueError:
        return full
    climb = relative.parts.count("..")  # relpath puts every ".." first
    shared = folder.parents[climb - 1] if climb else folder
    if climb > MAX_CLIMB or (climb and shared == Path(shared.anchor)):
        return Path(full).as_posix()
    return relative.as_posix()


def _paths_line(arguments: list[str], base: Path | None) -> str:
    return "paths = [" + ", ".join(_toml_string(config_path(a, base)) for a in arguments) + "]"


def _source_tables(loaded: Loaded, base: Path | None) -> list[str]:
    """One ``[sources.X]`` per source, with the paths it was read from and who owns it."""
    paths: dict[str, list[str]] = {}
    for argument, staged in loaded.staged:
        if staged.events_view and staged.source:
            paths.setdefault(staged.source, []).append(argument)
    lines: list[str] = []
    for source in sorted(loaded.formats):
        lines += [
            f"[sources.{_toml_key(source)}]",
            f"# read as {loaded.formats[source]}; who runs this pipeline?",
            'owner = ""',
        ]
        if source in paths:
            lines.append(_paths_line(paths[source], base))
        lines.append("")
    return lines


def _consent_table(consent: list[str], base: Path | None) -> list[str]:
    lines = [
        "[consent]",
        "# Consent records files (user, purpose, status, time), read by every run.",
    ]
    if consent:
        return [*lines, _paths_line(consent, base), ""]
    return [*lines, "# None were given to init; for example:", '# paths = ["cmp_log.csv"]', ""]


def _features_with_values(con: object) -> tuple[list[str], list[str]]:
    """The feature columns to write (sorted): those some event sets, and the well-known ones
    (their purposes hold once values come); and the others, which no event sets (the GA4
    sample's ``all_data`` parameter is null on every event), in one grouped query."""
    columns = sorted(feature_columns(con).items())
    if not columns:
        return [], []
    counts = ", ".join(f"count_true({present_sql(f, t)})" for f, t in columns)
    row = con.execute(f"SELECT {counts} FROM events").fetchone()  # type: ignore[attr-defined]
    kept = [f for (f, _), n in zip(columns, row, strict=True) if n or f.lower() in BUILTIN_FEATURES]
    return kept, [f for f, _ in columns if f not in kept]


def starter_config(
    data: list[str], consent: list[str] | None = None, base: Path | None = None
) -> str:
    """Return the text of a starter privdiag.toml for the given inputs.

    ``base`` is the folder the config will be written in: the data and consent paths are
    written relative to it, so that ``privdiag audit`` on the config reads the same files.
    Without it (the config goes to stdout) they are written as given.
    """
    con = connect()
    loaded = load(con, data, consent or [], Config())
    features, never_set = _features_with_values(con)
    names = [
        r[0]
        for r in con.execute(
            "SELECT event_name, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    ]
    # the journey a scan without [journey] steps infers, so that the config keeps it: GA4's
    # add_payment_info and Segment's "Product Viewed" were left out by a list of five GA4 names
    journey = journey_steps(con, Config())
    con.close()

    # a step of a GA4 and a Segment name (view_item and "Product Viewed") is written as the
    # list of both, else the Segment events would be in no step
    steps = [step.event_names for step in journey.steps]
    lines = [
        "# privdiag.toml: written by `privdiag init` from "
        + _comment(", ".join(Path(d).name for d in data))
        + ".",
        "# Review every line: which consent a feature needs is a decision for your",
        "# privacy lead, not something privdiag can know.",
        "",
    ]
    # a name holding an address or an identifier (an order number, a user id the tag wrote
    # into it) is one person's: counted, not written into a config kept in a repository
    shown = [str(n) for n in names if n is not None and not _names_someone(str(n))]
    private = [n for names in steps for n in names if _names_someone(n)]
    kept = [[n for n in names if n not in private] for names in steps]
    lines += [
        "[journey]",
        "# The customer journey, in order. Event names seen most often: "
        + _comment(", ".join(shown[:12]))
        + _left_out(len(names) - len(shown) - (None in names)),
        f"# Inferred as a scan infers it ({_ORIGINS[journey.origin]}); list your own.",
        *(
            ['# A step of several names (["view_item", "Product Viewed"]) counts each of them.']
            if any(len(names) > 1 for names in kept)
            else []
        ),
        *([f"# {len(private)} inferred step name(s) left out: see above."] if private else []),
        "steps = [" + ", ".join(_toml_step(names) for names in kept if names) + "]",
        "",
    ]
    lines += [
        "[purposes.aliases]",
        "# Extra CMP vocabulary -> canonical purpose, e.g.",
        '# "Marketing Cookies" = "ads"',
        "",
    ]
    lines += _source_tables(loaded, base)
    # the consent files read: a file given twice (or by a hard link) is listed once
    lines += _consent_table([i.path for i in loaded.inputs if i.role == "consent"], base)
    if never_set:  # a scan never reports them: a table for them would classify nothing
        lines += [
            "# Fields without a value in any event of these inputs, left out: "
            + _comment(", ".join(never_set)),
            "",
        ]
    for feature in features:
        known = BUILTIN_FEATURES.get(feature.lower())
        if glob.escape(feature) != feature:  # the name alone, not every feature it matches
            lines.append(f"# the feature {_comment(feature)}: its name holds glob characters")
        lines.append(f"[features.{_toml_key(glob.escape(feature))}]")
        if known:
            lines.append("# well-known field: privdiag assumes these purposes")
            lines.append("purposes = [" + ", ".join(f'"{p}"' for p in known) + "]")
        else:
            lines.append(
                "# needs which consent? analytics, ads, ad_user_data, "
                "ad_personalization, personalization, functional, necessary; [] = none"
            )
            lines.append("# purposes = []")
        lines += ['owner = ""', ""]
    lines += ["[thresholds]", 'fail_on = "high"', "grace_seconds = 2.0", "min_group_size = 5", ""]
    return "\n".join(lines)
