"""The checks of the values in ``privdiag.toml``: their types (a string, a list of paths), their
ranges, blanks, NUL characters and nesting, and the words privdiag knows (purposes, formats,
column roles), each a ConfigError naming the key and, for an unknown word, the closest known
one. :mod:`privdiag.config` reads the file and its tables with them.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privdiag.errors import ConfigError
from privdiag.purposes import PURPOSES, alias_table

if TYPE_CHECKING:
    from privdiag.config import Thresholds


# How an error message names the type a key must hold.
TYPE_WORDS: dict[type, str] = {int: "a whole number", float: "a number", str: "a string"}

# Each number of [thresholds] with the range it must fall in and how a message says it: a
# NaN or infinite grace window reached DuckDB's SQL as a column name (internal error), and
# a min_group_size of 0 or less suppressed no group at all.
RANGES: dict[str, tuple[float, float, bool, str]] = {
    "grace_seconds": (0.0, 365 * 86400.0, True, "a number of seconds from 0 to a year"),
    "min_group_size": (1, 1_000_000_000, True, "a whole number from 1 to 1,000,000,000"),
    "alpha": (0.0, 1.0, False, "a number above 0 and below 1"),
    "min_gap": (0.0, 1.0, True, "a number from 0 to 1 (a share)"),
    # model-check's: a NaN graded no scenario as degraded (no drop is above NaN), a negative
    # one every scenario. degradation is a ROC AUC drop or a regressor's relative RMSE rise
    # (which may pass 1); calibration a rise in calibration error, itself 0 to 1.
    "degradation": (0.0, 1_000_000.0, True, "a number from 0 to 1,000,000"),
    "calibration": (0.0, 1.0, True, "a number from 0 to 1"),
}


def check_ranges(th: Thresholds, path: Path) -> None:
    """Raise ConfigError for a threshold outside its range (NaN and infinity included)."""
    for key, (low, high, closed, words) in RANGES.items():
        value = getattr(th, key)
        inside = low <= value <= high if closed else low < value < high
        if not (math.isfinite(value) and inside):
            raise ConfigError(
                f"{key} = {value} is out of range: it must be {words}",
                path=path,
                key=f"thresholds.{key}",
            )


def not_blank(value: Any, path: Path, key: str, hint: str | None = None) -> Any:
    """Return ``value``; ConfigError naming ``key`` when it is an empty or blank string (a
    template's unset variable), which was taken as not given (an engine setting, a hash
    key) or as the config's own folder (a path)."""
    if isinstance(value, str) and not value.strip():
        table, name = key.rsplit(".", 1)
        raise ConfigError(
            f"{name} is empty or blank",
            path=path,
            key=table,
            hint=hint or f"give {name} a value, or remove it",
        )
    return value


def check_steps(steps: list[str | tuple[str, ...]], path: Path) -> None:
    """ConfigError for a journey step with a blank name, or a name given twice: an event
    takes the first step of its name, so a repeated one was a step no event ever reached,
    unsaid. ``steps``: each step's one name, or its names."""
    seen: dict[str, int] = {}
    for n, step in enumerate(steps, 1):
        for name in (step,) if isinstance(step, str) else step:
            if not name.strip():
                raise ConfigError(f"step {n} is blank", path=path, key="journey.steps")
            if name in seen:
                raise ConfigError(
                    f"step {name!r} is given twice (steps {seen[name]} and {n})"
                    if seen[name] != n
                    else f"step {n} names {name!r} twice",
                    path=path,
                    key="journey.steps",
                    hint="name each step once, in the order users take them",
                )
            seen[name] = n


def text(value: Any, path: Path, key: str, name: str = "") -> Any:
    """Return ``value``, a string or None; ConfigError naming ``key`` for another type (a
    number or a list was written as its Python form, or failed deep in the run)."""
    if value is not None and not isinstance(value, str):
        name = name or key.rsplit(".", 1)[-1]
        raise ConfigError(f"{name} must be a string", path=path, key=key)
    return value


def path_list(value: Any, path: Path, key: str) -> list[str]:
    """A ``paths`` value as a list: one path or a list of them; ConfigError for another
    type (a number was an internal error when the files were looked for)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ConfigError("paths must be a path or a list of paths", path=path, key=key)
    if any(not v.strip() for v in items):  # was read as the config's own folder
        raise ConfigError(
            "paths holds an empty or blank path", path=path, key=key, hint="remove it"
        )
    return list(items)


def purpose_list(value: Any, path: Path, key: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ConfigError("purposes must be a list of purpose names", path=path, key=key)
    aliases = alias_table()
    out = []
    for item in items:
        canonical = aliases.get(item.strip().lower())
        if canonical is None:
            # [purposes.aliases] maps the consent records' words, not these: "add it there"
            # left the same error
            raise ConfigError(
                f"unknown purpose {item!r}",
                path=path,
                key=key,
                hint=f"use one of {', '.join(PURPOSES)} (or a built-in name of one, such as "
                "ad_storage or C0004)",
            )
        if canonical not in out:  # ["ads", "ADS"] reported each finding once a purpose
            out.append(canonical)
    return out


def check_format(fmt: Any, path: Path, key: str) -> None:
    """Raise ConfigError for a ``format`` no reader reads (the readers load only then)."""
    if fmt is None or fmt == "auto":
        return
    from privdiag.ingest import FORMATS  # the readers import privdiag.config, which imports this

    if fmt not in FORMATS:
        hint = f"use one of {', '.join(FORMATS)}, or leave format out to detect it"
        raise unknown("format", str(fmt), FORMATS, path, key, hint)


def check_column_roles(columns: Any, path: Path, key: str, *, consent: bool = False) -> None:
    """Raise ConfigError for a ``columns`` role no reader knows (``tz`` for ``ts``, say): it
    would otherwise be refused only once the data file is read, as if the data were wrong.
    ``consent``: the roles of a consent file only, else those of events and consent files."""
    if not isinstance(columns, dict):
        raise ConfigError("must be a table of role = column", path=path, key=key)
    from privdiag.ingest.roles import CONSENT_ROLES, EVENT_ROLES

    known = (
        tuple(CONSENT_ROLES) if consent else tuple(dict.fromkeys([*EVENT_ROLES, *CONSENT_ROLES]))
    )
    for role, column in columns.items():
        if role not in known:
            raise unknown("column role", role, known, path, key, f"roles are {', '.join(known)}")
        if not isinstance(column, str):
            raise ConfigError(
                f"{role} must name a column (a string)", path=path, key=f"{key}.{role}"
            )
    _check_one_role_a_column(columns, path, key)


def _check_one_role_a_column(columns: dict[str, str], path: Path, key: str) -> None:
    """Raise ConfigError when two roles name one column (as the readers match names, in any
    case): ``ts`` and ``event_name`` both "ts" read every event's time as its name, unsaid."""
    seen: dict[str, str] = {}
    for role, column in columns.items():
        other = seen.setdefault(column.lower(), role)
        if other != role:
            raise ConfigError(
                f"{other} and {role} both name the column {column!r}",
                path=path,
                key=f"{key}.{role}",
                hint="map each role to a column of its own",
            )


def unknown(
    what: str, word: str, known: list[str] | tuple[str, ...], path: Path, key: str, hint: str
) -> ConfigError:
    """Return the ConfigError for a ``what`` (key, format) privdiag does not know, naming the
    closest known one."""
    return ConfigError(
        f"unknown {what} {word!r}{did_you_mean(word, known, table=False)}",
        path=path,
        key=key,
        hint=hint,
    )


def did_you_mean(word: str, known: list[str] | tuple[str, ...], *, table: bool) -> str:
    close = closest(word, known)
    if close is None:
        return ""
    return f"; did you mean [{close}]?" if table else f"; did you mean {close!r}?"


def closest(word: str, known: list[str] | tuple[str, ...], cutoff: float = 0.6) -> str | None:
    """The name of ``known`` closest to ``word`` by spelling (difflib's ratio ``cutoff`` or
    more), None when none is that close."""
    found = difflib.get_close_matches(word, known, n=1, cutoff=cutoff)
    return found[0] if found else None


# privdiag's own tables nest four deep ([sources.app.columns], a list in them); a config
# nested far deeper is no privdiag config, and walking it recursed past Python's limit.
MAX_CONFIG_DEPTH = 32


def too_deep(path: Path) -> ConfigError:
    return ConfigError(
        f"nests tables or arrays more than {MAX_CONFIG_DEPTH} levels deep: not a privdiag config",
        path=path,
        hint="privdiag's tables nest at most four deep ([sources.app.columns]); see README, Config",
    )


def check_no_nul(value: Any, path: Path, key: str, depth: int = 0) -> None:
    """Raise ConfigError naming the first key or text of ``value`` that holds a NUL character,
    or saying the config nests deeper than :data:`MAX_CONFIG_DEPTH`.

    TOML allows ``"\\u0000"``, but no file name can hold one (the OS call fails with an error
    that would surface as an internal one), nor a name in the data.
    """
    if isinstance(value, dict | list) and depth > MAX_CONFIG_DEPTH:
        raise too_deep(path)
    if isinstance(value, dict):
        for name, item in value.items():
            check_no_nul(name, path, key)
            check_no_nul(item, path, f"{key}.{name}" if key else name, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_no_nul(item, path, key, depth + 1)
    elif isinstance(value, str) and "\0" in value:
        raise ConfigError(
            "holds a NUL character (\\u0000), which no path or name can hold",
            path=path,
            key=key or None,
            hint="remove it from the config",
        )


def status_word_map(table: Any, path: Path) -> dict[str, str]:
    """The config's ``[consent.status_words]`` as word (edge spaces dropped) -> meaning
    (granted, denied or undecided), each meaning a word or a list of them. Words are compared
    as consent values are, in any case; ConfigError for another key, a value that is not
    text, a blank word, or a word mapped to two meanings."""
    from privdiag.ingest.sqlparts import STATUS_MEANINGS, fold_word

    key = "consent.status_words"
    if not isinstance(table, dict):
        raise ConfigError("must be a table of meaning = [words]", path=path, key=key)
    out: dict[str, str] = {}
    seen: dict[str, tuple[str, str]] = {}  # folded word -> (meaning, the word as written)
    for meaning, value in table.items():
        if meaning not in STATUS_MEANINGS:
            hint = f"[{key}] takes {', '.join(STATUS_MEANINGS)}, each a list of words"
            raise unknown("key", meaning, STATUS_MEANINGS, path, key, hint)
        for word in value if isinstance(value, list) else [value]:
            _check_status_word(word, path, f"{key}.{meaning}")
            other, written = seen.setdefault(fold_word(word), (meaning, word))
            if other != meaning:
                raise ConfigError(
                    f"the status word {word!r} is mapped to {other} (as {written!r}) and to "
                    f"{meaning}; words are compared in any case",
                    path=path,
                    key=key,
                    hint="map each word to one meaning: remove it from the other list",
                )
            out[word.strip(" ")] = meaning
    return out


def _check_status_word(word: Any, path: Path, key: str) -> None:
    """ConfigError for a status word of ``key`` that is not text or is blank (it would read
    an empty status, which says no decision)."""
    if not isinstance(word, str):
        kinds = {bool: "true/false", int: "a number", float: "a number", list: "a list"}
        raise ConfigError(
            f"holds {kinds.get(type(word), 'a table or a date')}, not text",
            path=path,
            key=key,
            hint='write each status word as a string, quoted: ["1", "opted_in"]',
        )
    if not word.strip():
        raise ConfigError(
            "holds an empty or blank word",
            path=path,
            key=key,
            hint="remove it: an empty status already says no decision",
        )
