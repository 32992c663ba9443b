"""Load and validate ``privdiag.toml``.

Every command works without a config; :func:`load_config` then returns defaults.
An unknown top-level table or key, or an unknown key of a table whose keys are fixed, is a
ConfigError that names the closest known one: a typo (``[thresholdz]``) is never ignored.
"""

from __future__ import annotations

import os
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privdiag.config_values import (
    TYPE_WORDS,
    check_column_roles,
    check_format,
    check_no_nul,
    check_ranges,
    check_steps,
    closest,
    did_you_mean,
    not_blank,
    path_list,
    purpose_list,
    status_word_map,
    text,
    too_deep,
    unknown,
)
from privdiag.errors import ConfigError, UsageError
from privdiag.findings import SEVERITIES
from privdiag.privacy import use_hash_key
from privdiag.purposes import PURPOSES, alias_table, fold

DEFAULT_PATH = Path("privdiag.toml")
# DuckDB threads at most: 100,000 aborted the process (thread-local storage runs out).
MAX_THREADS = 1024


# Characters that show as nothing, dropped from names as from the events' (sqlparts.INVISIBLE)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\x1f"))


def composed_name(name: str) -> str:
    """A name in Unicode's composed form (NFC), without characters that show as nothing:
    ``café`` typed as ``e`` and a combining accent (as macOS file names and some exports write
    it) is the same name as with ``é``, and a step pasted with a zero-width space the step
    without. The events' ids and names are read so
    (:func:`privdiag.ingest.sqlparts.composed`)."""
    if name.isascii() and "\x1f" not in name:
        return name
    return unicodedata.normalize("NFC", name).translate(_INVISIBLE)


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
    steps: list[str | tuple[str, ...]] | None = None  # a step's one name, or its names
    aliases: dict[str, str] = field(default_factory=dict)
    features: dict[str, FeatureConfig] = field(default_factory=dict)
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    models: dict[str, ModelConfig] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    consent_files: list[str] = field(default_factory=list)
    consent_columns: dict[str, str] = field(default_factory=dict)  # role -> consent file column
    # [consent.status_words]: a CMP's status word, folded, -> granted, denied or undecided
    status_words: dict[str, str] = field(default_factory=dict)
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
    "consent": ("paths", "columns", "status_words"),
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


def _check_known_keys(raw: dict[str, Any], path: Path) -> None:
    """Raise ConfigError for the first top-level table or key privdiag does not know, or the
    first unknown key of a table whose keys are fixed, naming the closest known one."""
    for key, value in raw.items():
        if key not in TABLES:
            what = f"table [{key}]" if isinstance(value, dict) else f"key {key!r}"
            raise ConfigError(
                f"unknown {what}{did_you_mean(key, list(TABLES), table=True)}",
                path=path,
                hint=_where_it_goes(key) or f"the tables are {', '.join(TABLES)}",
            )
        keys = TABLES[key]
        if keys is None or not isinstance(value, dict):
            continue
        for sub in value:
            if sub not in keys:
                raise unknown("key", sub, keys, path, key, f"[{key}] takes {', '.join(keys)}")


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
            raise unknown("key", sub, keys, path, entry, f"[{entry}] takes {', '.join(keys)}")


def _where_it_goes(key: str) -> str | None:
    """A hint for a table's key written at the top level, e.g. fail_on outside [thresholds]."""
    nested = {sub: table for table, subs in TABLES.items() for sub in subs or ()}
    nested.update({name: "thresholds" for name in Thresholds.__dataclass_fields__})
    return f"{key} belongs under [{nested[key]}]" if key in nested else None


def _table(raw: dict[str, Any], key: str, path: Path, within: str = "") -> dict[str, Any]:
    """The table ``key`` of ``raw`` ({} when absent); ``within`` names the table ``raw`` is,
    so that the error names the key as the config writes it (``purposes.aliases``)."""
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError("must be a table", path=path, key=f"{within}.{key}" if within else key)
    return value


def _engine(raw: dict[str, Any], path: Path) -> EngineConfig:
    """The [engine] table, its values checked: a wrong type would fail deep in DuckDB."""
    engine = _table(raw, "engine", path)
    for key in ("memory_limit", "temp_dir", "name", "spark_master", "spark_remote"):
        if not isinstance(engine.get(key, ""), str):
            raise ConfigError(f"{key} must be a string", path=path, key=f"engine.{key}")
        not_blank(engine.get(key), path, f"engine.{key}")
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


def _thresholds(raw: dict[str, Any], path: Path) -> Thresholds:
    th = Thresholds()
    for key, value in _table(raw, "thresholds", path).items():
        if not hasattr(th, key):
            known = list(Thresholds.__dataclass_fields__)
            raise ConfigError(
                f"unknown key {key!r}{did_you_mean(key, known, table=False)}",
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
    check_ranges(th, path)
    if th.fail_on not in SEVERITIES:
        raise ConfigError(
            f"fail_on must be one of {', '.join(SEVERITIES)}", path=path, key="thresholds.fail_on"
        )
    return th


def _aliases(table: dict[str, Any], path: Path) -> dict[str, str]:
    """Return the config's ``[purposes.aliases]``, each mapping to a canonical purpose.

    Words are compared as consent records' categories are (case, spaces, ``-``, ``.``, ``/``
    folded), so two words read as one must agree, and a canonical purpose's own name may not
    be made another purpose: ``analytics = "ads"`` read every analytics decision as ads.
    """
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for word, target in table.items():
        if not word.strip():  # it would map a record's empty category, which says nothing
            raise ConfigError(
                "holds an empty alias",
                path=path,
                key="purposes.aliases",
                hint="remove it: name the category a consent record writes",
            )
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


def _steps(steps: Any, path: Path) -> list[str | tuple[str, ...]]:
    """The journey's steps: a step is written as one event name, or as a list of the names
    two vocabularies give it (GA4's ``view_item`` and Segment's ``Product Viewed``), labelled
    by its first (kept as a tuple of them)."""
    if not isinstance(steps, list) or not all(
        isinstance(s, str) or (isinstance(s, list) and s and all(isinstance(n, str) for n in s))
        for s in steps
    ):
        raise ConfigError(
            "steps must be a list of event names, a step of several names a list of them "
            '(["page_view", ["view_item", "Product Viewed"]])',
            path=path,
            key="journey",
        )
    # as the events' names are
    out = [
        composed_name(s) if isinstance(s, str) else tuple(composed_name(n) for n in s)
        for s in steps
    ]
    check_steps(out, path)
    return out


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    """Validate a parsed TOML document and return the typed config."""
    _check_known_keys(raw, path)
    cfg = Config(path=path, raw=raw)

    journey = _table(raw, "journey", path)
    if "steps" in journey:
        cfg.steps = _steps(journey["steps"], path)

    purposes = _table(raw, "purposes", path)
    cfg.aliases = _aliases(_table(purposes, "aliases", path, within="purposes"), path)

    for name, spec in _table(raw, "features", path).items():
        if not isinstance(spec, dict):
            raise ConfigError("must be a table", path=path, key=f"features.{name}")
        _check_entry_keys("features", name, spec, path)
        purposes_of = (
            purpose_list(spec["purposes"], path, f"features.{name}") if "purposes" in spec else None
        )
        owner = _owner(spec, path, f"features.{name}")
        cfg.features[name] = FeatureConfig(purposes=purposes_of, owner=owner)

    for name, spec in _table(raw, "sources", path).items():
        if not isinstance(spec, dict):
            raise ConfigError("must be a table", path=path, key=f"sources.{name}")
        _check_entry_keys("sources", name, spec, path)
        check_format(spec.get("format"), path, f"sources.{name}")
        check_column_roles(spec.get("columns", {}), path, f"sources.{name}.columns")
        paths = spec.get("paths", spec.get("path", []))
        cfg.sources[name] = SourceConfig(
            owner=_owner(spec, path, f"sources.{name}"),
            format=spec.get("format"),
            paths=path_list(paths, path, f"sources.{name}.paths"),
            columns=dict(spec.get("columns", {})),
        )

    for name, spec in _table(raw, "models", path).items():
        if not isinstance(spec, dict) or "path" not in spec:
            raise ConfigError("needs a path", path=path, key=f"models.{name}")
        _check_entry_keys("models", name, spec, path)
        for key in ("path", "blind_set", "label", "reference"):
            not_blank(
                text(spec.get(key), path, f"models.{name}.{key}"), path, f"models.{name}.{key}"
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
    for pattern, _ in owners:
        _check_owner_kind(str(pattern), path)
    cfg.owners = {str(k): text(v, path, f"owners.{k}", "an owner").strip() for k, v in owners}
    consent = _table(raw, "consent", path)
    cfg.consent_files = path_list(consent.get("paths", []), path, "consent.paths")
    check_column_roles(consent.get("columns", {}), path, "consent.columns", consent=True)
    cfg.consent_columns = dict(consent.get("columns", {}))
    cfg.status_words = status_word_map(consent.get("status_words", {}), path)
    cfg.thresholds = _thresholds(raw, path)

    cfg.engine = _engine(raw, path)
    cfg.hash_key = _hash_key(raw, path)
    return cfg


def _hash_key(raw: dict[str, Any], path: Path) -> str | None:
    """``[privacy] hash_key``; ConfigError for an empty one (a template's unset variable),
    which keyed nothing: ids were keyed by the run's own key, another in each run."""
    key = text(_table(raw, "privacy", path).get("hash_key"), path, "privacy.hash_key")
    hint = "give hash_key a secret of your own (the same in every run), or remove it"
    return not_blank(key, path, "privacy.hash_key", hint)


#: The kinds an ``[owners]`` pattern may name before its colon (``"feature:gclid*"``); a
#: ``purpose:`` pattern owns what no source, feature, step or model of a finding's location does.
OWNER_KINDS = ("source", "feature", "model", "step", "purpose")


def _check_owner_kind(pattern: str, path: Path) -> None:
    """Refuse an ``[owners]`` pattern whose prefix is a near miss of a kind (``"purposes:ads"``,
    ``"Step:purchase"``): it was taken as a bare pattern matching names that hold the colon,
    so the team it names owned nothing and no one was told. Another prefix (``"Checkout:
    Viewed"``) stays a bare pattern: names may hold a colon. A kind naming nothing
    (``"purpose:"``) or a name with spaces around it (``"purpose: ads"``) is refused too."""
    kind, sep, rest = pattern.partition(":")
    if kind in OWNER_KINDS and (not rest.strip() or kind != "feature" and rest != rest.strip()):
        # a feature is a column, whose name may hold spaces; the other names do not
        said = f"names no {kind}" if not rest.strip() else f"has spaces around its {kind}"
        raise ConfigError(
            f"the pattern {said}, so it would own nothing",
            path=path,
            key=f"owners.{pattern}",
            hint=f'write "{kind}:{rest.strip() or "<name or pattern>"}"',
        )
    if not sep or kind in OWNER_KINDS:
        return
    close = closest(kind.strip().lower(), OWNER_KINDS, cutoff=0.75)
    if close is None:
        return
    raise ConfigError(
        f"the pattern names the kind {kind!r}, which privdiag does not know, so it would own "
        f"nothing (the kinds are {', '.join(OWNER_KINDS)})",
        path=path,
        key=f"owners.{pattern}",
        hint=f'write "{close}:{rest}"',
    )


def _owner(spec: dict[str, Any], path: Path, key: str) -> str | None:
    """A table's owner; a blank one (``""``, spaces) is no owner."""
    owner = text(spec.get("owner"), path, f"{key}.owner")
    return (owner.strip() or None) if owner is not None else None


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
        raise too_deep(path) from exc
    check_no_nul(raw, path, "")
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
