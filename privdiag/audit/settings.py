"""The ``[audit]`` table of ``privdiag.toml``, merged with the command-line flags.

```toml
[audit]
history = "audit/history.duckdb"   # default: privdiag-history.duckdb beside the config
reports_dir = "audit/reports"      # default: privdiag-reports beside the config
keep = 30                          # report folders to keep (default: all)
baseline = "3f9c0a1e"              # run id (or unique prefix) to compare with
fail_when = "regressed"            # all | new | regressed
```

Paths are relative to the config file's folder, so cron can run from anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privdiag.config import TYPE_WORDS, Config, absolute
from privdiag.errors import ConfigError, UsageError

FAIL_WHEN: tuple[str, ...] = ("all", "new", "regressed")
DEFAULT_HISTORY = "privdiag-history.duckdb"
DEFAULT_REPORTS = "privdiag-reports"
KEYS = ("history", "reports_dir", "keep", "baseline", "fail_when")


@dataclass
class AuditSettings:
    """Where the history and reports live, what to compare with, and when to fail."""

    history: Path
    reports_dir: Path
    keep: int | None = None
    baseline: str | None = None
    fail_when: str = "regressed"


def _audit_table(config: Config) -> dict[str, Any]:
    table = config.raw.get("audit", {})
    if not isinstance(table, dict):
        raise ConfigError("must be a table", path=config.path, key="audit")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r}",
            path=config.path,
            key="audit",
            hint=f"use {', '.join(KEYS)}",
        )
    return table


def _typed(table: dict[str, Any], key: str, kind: type, config: Config) -> Any:
    value = table.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ConfigError(f"{key} must be {TYPE_WORDS[kind]}", path=config.path, key=f"audit.{key}")
    # empty (a template's unset variable): taken as not given, a baseline compared with the
    # previous run and a history went to the default file, each unsaid
    if isinstance(value, str) and not value.strip():
        raise ConfigError(
            f"{key} is empty",
            path=config.path,
            key="audit",
            hint=f"give {key} a value, or remove it for the default",
        )
    return value


def check_fail_when(value: str, where: str = "--fail-when") -> str:
    """Return ``value`` when it is a --fail-when choice; raise UsageError naming ``where``
    (the flag, or ``[audit] fail_when`` of the config) otherwise."""
    if value not in FAIL_WHEN:
        raise UsageError(
            f"{where} {value!r} is not a choice", hint=f"use one of {', '.join(FAIL_WHEN)}"
        )
    return value


def check_keep(value: int | None, where: str = "--keep") -> int | None:
    """Return ``value`` when it is a usable --keep (1 or more, or None for all); raise
    UsageError naming ``where`` otherwise."""
    if value is not None and value < 1:
        raise UsageError(f"{where} {value} keeps no report", hint="give 1 or more, or leave it out")
    return value


def audit_settings(
    config: Config,
    *,
    history: Path | None = None,
    baseline: str | None = None,
    fail_when: str | None = None,
    keep: int | None = None,
) -> AuditSettings:
    """Return the settings of one audit: flags first, then ``[audit]``, then the defaults.

    Assumes ``config`` was loaded from a file when the paths must be relative to it;
    without one they are relative to the current folder. The reports folder is returned
    absolute. Raises ConfigError / UsageError.
    """
    table = _audit_table(config)
    hist = history or config.resolve(_typed(table, "history", str, config) or DEFAULT_HISTORY)
    # absolute, as each run records it: a path relative to where the run started would not
    # find the folder from anywhere else (``audit --list``)
    reports = config.resolve(_typed(table, "reports_dir", str, config) or DEFAULT_REPORTS)
    reports = absolute(reports)
    # a value of the config was named as the flag: "--keep -1" where none was given
    in_config = f"{config.path or 'the config'}: [audit]"
    when = fail_when or _typed(table, "fail_when", str, config) or "regressed"
    kept = keep if keep is not None else _typed(table, "keep", int, config)
    return AuditSettings(
        history=Path(hist),
        reports_dir=reports,
        keep=check_keep(kept, "--keep" if keep is not None else f"{in_config} keep ="),
        baseline=baseline or _typed(table, "baseline", str, config),
        fail_when=check_fail_when(when, "--fail-when" if fail_when else f"{in_config} fail_when ="),
    )
