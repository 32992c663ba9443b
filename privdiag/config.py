"""Load and validate ``privdiag.toml``.

Every command works without a config; :func:`load_config` then returns defaults.
An unknown top-level table or key, or an unknown key of a table whose keys are fixed, is a
ConfigError that names the closest known one: a typo (``[thresholdz]``) is never ignored.
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privdiag.errors import ConfigError, UsageError
from privdiag.findings import SEVERITIES
from privdiag.privacy import use_hash_key
from privdiag.purposes import PURPOSES, alias_table, fold

DEFAULT_PATH = Path("privdiag.toml")
# DuckDB threads at most: 100,000 aborted the process (thread-local storage runs out).
MAX_THREADS = 1024


def composed_name(name: str) -> str:
    """A name in Unicode's composed form (NFC): ``café`` typed as ``e`` and a combining accent
    (as macOS file names and some exports write it) is the same name as with ``é``. The events'
    ids and names are composed as they are read (:func:`privdiag.ingest.sqlparts.composed`)."""
    return name if name.isascii() else unicodedata.normalize("NFC", name)


@dataclass
class FeatureConfig:
    purposes: list[str] | None  # None: nobody decided yet (no purposes key)
    owner: str | None = None


@dataclass
class SourceConfig:
    owner: str | None = None
    format: str | None = None
    paths: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class ModelConfig:
    path: str
    owner: str | None = None
    blind_set: str | None = None
    label: str | None = None
    reference: str | None = None


@dataclass
class Thresholds:
    fail_on: str = "high"
    grace_seconds: float = 2.0
    min_group_size: int = 5
    alpha: float = 0.01
    min_gap: float = 0.1
    degradation: float = 0.02
    calibration: float = 0.02


@dataclass
class EngineConfig:
    threads: int | None = None
    memory_limit: str | None = None
    temp_dir: str | None = None
    name: str = "duckdb"  # or "spark" (see docs/SPARK.md)
    spark_master: str | None = None
    spark_remote: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)  # [engine.spark_conf]


@dataclass
class Config:
    path: Path | None = None
    steps: list[str] | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    features: dict[str, FeatureConfig] = field(default_factory=dict)
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    models: dict[str, ModelConfig] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    consent_files: list[str] = field(default_factory=list)
    consent_columns: dict[str, str] = field(default_factory=dict)  # role -> consent file column
    thresholds: Thresholds = field(default_factory=Thresholds)
    engine: EngineConfig = field(default_factory=EngineConfig)
    hash_key: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        """The config file's name, for advice that says where to add a line (``ga4.toml``
        for ``--config ga4.toml``); ``privdiag.toml``, the default, without a file."""
        return self.path.name if self.path else DEFAULT_PATH.name

    def alias_map(self) -> dict[str, str]:
        """Return the folded vocabulary -> canonical purpose table for this config."""
        return alias_table(self.aliases)

    def resolve(self, relative: str) -> Path:
        """Resolve a path written in the config against the config file's folder.

        ``..`` is taken by name (as ``privdiag init`` writes paths), not from the target of
        a symlinked folder, which the OS would do.
        """
        base = self.path.parent if self.path else current_folder()
        p = Path(relative)
        return p if p.is_absolute() else Path(os.path.normpath(base / p))

    def data_path(self, written: str) -> str:
        """Return a data or consent path of the config as the readers take it: a URL (one
        holding ``://``, as ``s3a://bucket/events/``) as written, else :meth:`resolve`'d (a
        Path would make the URL a folder below the config's: ``s3a:/bucket/events``)."""
        return written if "://" in written else str(self.resolve(written))


def current_folder() -> Path:
    """The current folder; UsageError when it no longer exists (deleted or moved away while
    a shell or cron job still stood in it), where ``Path.cwd()`` raises FileNotFoundError."""
    try:
        return Path.cwd()
    except FileNotFoundError as exc:
        raise UsageError(
            "the current folder no longer exists (it was deleted or moved)",
            hint="cd to a folder that exists, or give --config and the paths as absolute paths",
        ) from exc


def absolute(path: Path | str) -> Path:
    """``path`` made absolute against the current folder, ``..`` taken by name."""
    p = Path(path)
    return Path(os.path.normpath(p if p.is_absolute() else current_folder() / p))


# The top-level tables of privdiag.toml, and the keys of those whose keys are fixed
# ([features], [sources], [models] and [owners] hold names the user chooses; [thresholds] and
# the audit's [audit] check their own keys).
TABLES: dict[str, tuple[str, ...] | None] = {
    "journey": ("steps",),
    "purposes": ("aliases",),
    "features": None,
    "sources": None,
    "models": None,
    "owners": None,
    "consent": ("paths", "columns"),
    "thresholds": None,
    "engine": (
        "threads",
        "memory_limit",
        "temp_dir",
        "name",
        "spark_master",
        "spark_remote",
        "spark_conf",
    ),
    "privacy": ("hash_key",),
    "audit": None,
}


def _closest(word: str, known: list[str] | tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return found[0] if found else None


def _check_known_keys(raw: dict[str, Any], path: Path) -> None:
    """Raise ConfigError for the first top-level table or key privdiag does not know, or the
    first unknown key of a table whose keys are fixed, naming the closest known one."""
    for key, value in raw.items():
        if key not in TABLES:
            what = f"table [{key}]" if isinstance(value, dict) else f"key {key!r}"
            raise ConfigError(
                f"unknown {what}{_did_you_mean(key, list(TABLES), table=True)}",
                path=path,
                hint=_where_it_goes(key) or f"the tables are {', '.join(TABLES)}",
            )
        keys = TABLES[key]
        if keys is None or not isinstance(value, dict):
            continue
        for sub in value:
            if sub not in keys:
                raise _unknown("key", sub, keys, path, key, f"[{key}] takes {', '.join(keys)}")


# The keys of one entry of the tables whose entries the user names ([features.gclid], ...).
ENTRY_KEYS: dict[str, tuple[str, ...]] = {
    "features": ("purposes", "owner", "default"),
    "sources": ("owner", "format", "paths", "path", "columns"),
    "models": ("path", "owner", "blind_set", "label", "reference", "features", "trusted_types"),
}


def _check_entry_keys(table: str, name: str, spec: dict[str, Any], path: Path) -> None:
    """Raise ConfigError for the first key of ``[table.name]`` privdiag does not know (a
    misspelt ``purpose`` would leave the feature unclassified without a word)."""
    keys, entry = ENTRY_KEYS[table], f"{table}.{name}"
    for sub in spec:
        if sub not in keys:
            raise _unknown("key", sub, keys, path, entry, f"[{entry}] takes {', '.join(keys)}")


def _check_format(fmt: Any, path: Path, key: str) -> None:
    """Raise ConfigError for a ``format`` no reader reads (the readers load only then)."""
    if fmt is None or fmt == "auto":
        return
    from privdiag.ingest import FORMATS  # the readers import this module

    if fmt not in FORMATS:
        hint = f"use one of {', '.join(FORMATS)}, or leave format out to detect it"
        raise _unknown("format", str(fmt), FORMATS, path, key, hint)


def _check_column_roles(columns: Any, path: Path, key: str, *, consent: bool = False) -> None:
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
            raise _unknown("column role", role, known, path, key, f"roles are {', '.join(known)}")
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


def _unknown(
    what: str, word: str, known: list[str] | tuple[str, ...], path: Path, key: str, hint: str
) -> ConfigError:
    """Return the ConfigError for a ``what`` (key, format) privdiag does not know, naming the
    closest known one."""
    return ConfigError(
        f"unknown {what} {word!r}{_did_you_mean(word, known, table=False)}",
        path=path,
        key=key,
        hint=hint,
    )


def _did_you_mean(word: str, known: list[str] | tuple[str, ...], *, table: bool) -> str:
    close = _closest(word, known)
    if close is None:
        return ""
    return f"; did you mean [{close}]?" if table else f"; did you mean {close!r}?"


def _where_it_goes(key: str) -> str | None:
    """A hint for a table's key written at the top level, e.g. fail_on outside [thresholds]."""
    nested = {sub: table for table, subs in TABLES.items() for sub in subs or ()}
    nested.update({name: "thresholds" for name in Thresholds.__dataclass_fields__})
    return f"{key} belongs under [{nested[key]}]" if key in nested else None


def _table(raw: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError("must be a table", path=path, key=key)
    return value


def _purpose_list(value: Any, path: Path, key: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ConfigError("purposes must be a list of purpose names", path=path, key=key)
    aliases = alias_table()
    out = []
    for item in items:
        canonical = aliases.get(item.strip().lower())
        if canonical is None:
            raise ConfigError(
                f"unknown purpose {item!r}",
                path=path,
                key=key,
                hint=f"use one of {', '.join(PURPOSES)} or add it under [purposes.aliases]",
            )
        out.append(canonical)
    return out


def _engine(raw: dict[str, Any], path: Path) -> EngineConfig:
    """The [engine] table, its values checked: a wrong type would fail deep in DuckDB."""
    engine = _table(raw, "engine", path)
    for key in ("memory_limit", "temp_dir", "name", "spark_master", "spark_remote"):
        if not isinstance(engine.get(key, ""), str):
            raise ConfigError(f"{key} must be a string", path=path, key=f"engine.{key}")
        _not_blank(engine.get(key), path, f"engine.{key}")
    threads = engine.get("threads")
    wrong = not isinstance(threads, int) or isinstance(threads, bool)
    if threads is not None and (wrong or not 1 <= threads <= MAX_THREADS):
        raise ConfigError(
            f"threads must be a whole number from 1 to {MAX_THREADS}",
            path=path,
            key="engine.threads",
        )
    return EngineConfig(
        threads=threads,
        memory_limit=engine.get("memory_limit"),
        temp_dir=engine.get("temp_dir"),
        name=str(engine.get("name", "duckdb")),
        spark_master=engine.get("spark_master"),
        spark_remote=engine.get("spark_remote"),
        spark_conf={str(k): str(v) for k, v in _table(engine, "spark_conf", path).items()},
    )


# How an error message names the type a key must hold.
TYPE_WORDS: dict[type, str] = {int: "a whole number", float: "a number", str: "a string"}


def _thresholds(raw: dict[str, Any], path: Path) -> Thresholds:
    th = Thresholds()
    for key, value in _table(raw, "thresholds", path).items():
        if not hasattr(th, key):
            known = list(Thresholds.__dataclass_fields__)
            raise ConfigError(
                f"unknown key {key!r}{_did_you_mean(key, known, table=False)}",
                path=path,
                key="thresholds",
                hint=f"[thresholds] takes {', '.join(known)}",
            )
        expected = type(getattr(th, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ConfigError(
                f"{key} must be {TYPE_WORDS[expected]}", path=path, key=f"thresholds.{key}"
            )
        setattr(th, key, value)
    _check_ranges(th, path)
    if th.fail_on not in SEVERITIES:
        raise ConfigError(
            f"fail_on must be one of {', '.join(SEVERITIES)}", path=path, key="thresholds.fail_on"
        )
    return th


# Each number of [thresholds] with the range it must fall in and how a message says it: a
# NaN or infinite grace window reached DuckDB's SQL as a column name (internal error), and
# a min_group_size of 0 or less suppressed no group at all.
RANGES: dict[str, tuple[float, float, bool, str]] = {
    "grace_seconds": (0.0, 365 * 86400.0, True, "a number of seconds from 0 to a year"),
    "min_group_size": (1, 1_000_000_000, True, "a whole number from 1 to 1,000,000,000"),
    "alpha": (0.0, 1.0, False, "a number above 0 and below 1"),
    "min_gap": (0.0, 1.0, True, "a number from 0 to 1 (a share)"),
}


def _check_ranges(th: Thresholds, path: Path) -> None:
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


def _aliases(table: dict[str, Any], path: Path) -> dict[str, str]:
    """Return the config's ``[purposes.aliases]``, each mapping to a canonical purpose.

    Words are compared as consent records' categories are (case, spaces, ``-``, ``.``, ``/``
    folded), so two words read as one must agree, and a canonical purpose's own name may not
    be made another purpose: ``analytics = "ads"`` read every analytics decision as ads.
    """
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for word, target in table.items():
        if target not in PURPOSES:
            raise ConfigError(
                f"alias {word!r} maps to unknown purpose {target!r}",
                path=path,
                key="purposes.aliases",
                hint=f"map it to one of {', '.join(PURPOSES)}",
            )
        folded = fold(word)
        if folded in PURPOSES and folded != target:
            raise ConfigError(
                f"alias {word!r} maps the purpose {folded} to {target}: records deciding "
                f"{folded} would be read as deciding {target}",
                path=path,
                key="purposes.aliases",
                hint=f"remove the alias; {folded} is a purpose of its own",
            )
        if folded in seen and out[seen[folded]] != target:
            raise ConfigError(
                f"aliases {seen[folded]!r} and {word!r} are one word as categories are "
                f"compared (case, spaces and -./ aside) but map to {out[seen[folded]]} and "
                f"{target}",
                path=path,
                key="purposes.aliases",
                hint="keep one of them",
            )
        seen.setdefault(folded, word)
        out[word] = target
    return out


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    """Validate a parsed TOML document and return the typed config."""
    _check_known_keys(raw, path)
    cfg = Config(path=path, raw=raw)

    journey = _table(raw, "journey", path)
    if "steps" in journey:
        steps = journey["steps"]
        if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
            raise ConfigError("steps must be a list of event names", path=path, key="journey")
        steps = [composed_name(s) for s in steps]  # as the events' names are
        _check_steps(steps, path)
        cfg.steps = steps

    cfg.aliases = _aliases(_table(_table(raw, "purposes", path), "aliases", path), path)

    for name, spec in _table(raw, "features", path).items():
        if not isinstance(spec, dict):
            raise ConfigError("must be a table", path=path, key=f"features.{name}")
        _check_entry_keys("features", name, spec, path)
        purposes_of = (
            _purpose_list(spec["purposes"], path, f"features.{name}")
            if "purposes" in spec
            else None
        )
        owner = _owner(spec, path, f"features.{name}")
        cfg.features[name] = FeatureConfig(purposes=purposes_of, owner=owner)

    for name, spec in _table(raw, "sources", path).items():
        if not isinstance(spec, dict):
            raise ConfigError("must be a table", path=path, key=f"sources.{name}")
        _check_entry_keys("sources", name, spec, path)
        _check_format(spec.get("format"), path, f"sources.{name}")
        _check_column_roles(spec.get("columns", {}), path, f"sources.{name}.columns")
        paths = spec.get("paths", spec.get("path", []))
        cfg.sources[name] = SourceConfig(
            owner=_owner(spec, path, f"sources.{name}"),
            format=spec.get("format"),
            paths=_path_list(paths, path, f"sources.{name}.paths"),
            columns=dict(spec.get("columns", {})),
        )

    for name, spec in _table(raw, "models", path).items():
        if not isinstance(spec, dict) or "path" not in spec:
            raise ConfigError("needs a path", path=path, key=f"models.{name}")
        _check_entry_keys("models", name, spec, path)
        for key in ("path", "blind_set", "label", "reference"):
            _not_blank(
                _text(spec.get(key), path, f"models.{name}.{key}"), path, f"models.{name}.{key}"
            )
        cfg.models[name] = ModelConfig(
            path=spec["path"],
            owner=_owner(spec, path, f"models.{name}"),
            blind_set=spec.get("blind_set"),
            label=spec.get("label"),
            reference=spec.get("reference"),
        )

    owners = _table(raw, "owners", path).items()
    if any(not str(k).strip() for k, _ in owners):  # a pattern matching nothing, unsaid
        raise ConfigError(
            "a pattern is empty or blank",
            path=path,
            key="owners",
            hint='give the pattern of the names it owns ("feature:gclid*", "*"), or remove it',
        )
    cfg.owners = {str(k): _text(v, path, f"owners.{k}", "an owner").strip() for k, v in owners}
    consent = _table(raw, "consent", path)
    cfg.consent_files = _path_list(consent.get("paths", []), path, "consent.paths")
    _check_column_roles(consent.get("columns", {}), path, "consent.columns", consent=True)
    cfg.consent_columns = dict(consent.get("columns", {}))
    cfg.thresholds = _thresholds(raw, path)

    cfg.engine = _engine(raw, path)
    cfg.hash_key = _hash_key(raw, path)
    return cfg


def _hash_key(raw: dict[str, Any], path: Path) -> str | None:
    """``[privacy] hash_key``; ConfigError for an empty one (a template's unset variable),
    which keyed nothing: ids were keyed by the run's own key, another in each run."""
    key = _text(_table(raw, "privacy", path).get("hash_key"), path, "privacy.hash_key")
    hint = "give hash_key a secret of your own (the same in every run), or remove it"
    return _not_blank(key, path, "privacy.hash_key", hint)


def _not_blank(value: Any, path: Path, key: str, hint: str | None = None) -> Any:
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


def _check_steps(steps: list[str], path: Path) -> None:
    """ConfigError for a journey step that is blank or given twice: an event takes the first
    step of its name, so a repeated step was one that no event ever reached, unsaid."""
    seen: dict[str, int] = {}
    for n, step in enumerate(steps, 1):
        if not step.strip():
            raise ConfigError(f"step {n} is blank", path=path, key="journey.steps")
        if step in seen:
            raise ConfigError(
                f"step {step!r} is given twice (steps {seen[step]} and {n})",
                path=path,
                key="journey.steps",
                hint="name each step once, in the order users take them",
            )
        seen[step] = n


def _owner(spec: dict[str, Any], path: Path, key: str) -> str | None:
    """A table's owner; a blank one (``""``, spaces) is no owner."""
    owner = _text(spec.get("owner"), path, f"{key}.owner")
    return (owner.strip() or None) if owner is not None else None


def _text(value: Any, path: Path, key: str, name: str = "") -> Any:
    """Return ``value``, a string or None; ConfigError naming ``key`` for another type (a
    number or a list was written as its Python form, or failed deep in the run)."""
    if value is not None and not isinstance(value, str):
        name = name or key.rsplit(".", 1)[-1]
        raise ConfigError(f"{name} must be a string", path=path, key=key)
    return value


def _path_list(value: Any, path: Path, key: str) -> list[str]:
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


def load_config(path: Path | None) -> Config:
    """Load ``path``, or ``./privdiag.toml`` when present, or return the defaults; finding ids
    are keyed with its ``[privacy] hash_key`` from then on (:func:`privacy.use_hash_key`)."""
    use_hash_key(None)
    if path is None:
        if not DEFAULT_PATH.exists():
            cfg = Config(hash_key=_env_hash_key())
            use_hash_key(cfg.hash_key)
            return cfg
        path = DEFAULT_PATH
    if not path.exists():
        raise ConfigError("file not found", path=path, hint="check the --config path")
    try:
        raw = tomllib.loads(_read_text(path))
    except UnicodeDecodeError as exc:
        raise ConfigError("is not UTF-8 text", path=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=path) from exc
    except RecursionError as exc:  # the TOML reader recurses once per nested array
        raise _too_deep(path) from exc
    _check_no_nul(raw, path, "")
    cfg = parse_config(raw, path)
    if cfg.hash_key is None:
        cfg.hash_key = _env_hash_key()
    use_hash_key(cfg.hash_key)
    return cfg


#: Where a key for finding ids comes from when the config has none: a secret kept out of a
#: config that is committed to a repository.
HASH_KEY_VARIABLE = "PRIVDIAG_HASH_KEY"


def _env_hash_key() -> str | None:
    """The key of :data:`HASH_KEY_VARIABLE`, None when it is not set; UsageError when it is
    set but blank (a template's unset variable: ids would change in every run, unsaid)."""
    from privdiag.errors import UsageError

    key = os.environ.get(HASH_KEY_VARIABLE)
    if key is not None and not key.strip():
        raise UsageError(
            f"{HASH_KEY_VARIABLE} is set but empty",
            hint="give it a secret of your own (the same in every run), or unset it",
        )
    return key


# privdiag's own tables nest four deep ([sources.app.columns], a list in them); a config
# nested far deeper is no privdiag config, and walking it recursed past Python's limit.
MAX_CONFIG_DEPTH = 32


def _too_deep(path: Path) -> ConfigError:
    return ConfigError(
        f"nests tables or arrays more than {MAX_CONFIG_DEPTH} levels deep: not a privdiag config",
        path=path,
        hint="privdiag's tables nest at most four deep ([sources.app.columns]); see README, Config",
    )


# A config is a page of TOML; a file larger than this (a device such as /dev/zero, a data
# file given by mistake) would be read into memory whole before any error could be said.
MAX_CONFIG_BYTES = 16 * 1024 * 1024


def _read_text(path: Path) -> str:
    """Return the text of the config file ``path``, without a UTF-8 byte order mark;
    ConfigError for a folder, a file that cannot be read, or more than
    :data:`MAX_CONFIG_BYTES` (a device that never ends). A pipe is read (``--config <(...)``)."""
    if path.is_dir():
        raise ConfigError(
            "is a folder, not a config file",
            path=path,
            hint="give --config the TOML file itself (privdiag.toml), not its folder",
        )
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot be read ({exc.strerror or exc})", path=path) from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MB: not a config file",
            path=path,
            hint="give the privdiag.toml written by privdiag init (or by hand)",
        )
    # utf-8-sig: a byte order mark (Windows editors write one) is no TOML, and not the user's
    return data.decode("utf-8-sig")


def _check_no_nul(value: Any, path: Path, key: str, depth: int = 0) -> None:
    """Raise ConfigError naming the first key or text of ``value`` that holds a NUL character,
    or saying the config nests deeper than :data:`MAX_CONFIG_DEPTH`.

    TOML allows ``"\\u0000"``, but no file name can hold one (the OS call fails with an error
    that would surface as an internal one), nor a name in the data.
    """
    if isinstance(value, dict | list) and depth > MAX_CONFIG_DEPTH:
        raise _too_deep(path)
    if isinstance(value, dict):
        for name, item in value.items():
            _check_no_nul(name, path, key)
            _check_no_nul(item, path, f"{key}.{name}" if key else name, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_no_nul(item, path, key, depth + 1)
    elif isinstance(value, str) and "\0" in value:
        raise ConfigError(
            "holds a NUL character (\\u0000), which no path or name can hold",
            path=path,
            key=key or None,
            hint="remove it from the config",
        )
