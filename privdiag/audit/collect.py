"""Run what the config names — every event source (with the consent files) and every model
that has a blind set — and gather the results into one ``audit`` result."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from privdiag.chains import link_models
from privdiag.config import Config
from privdiag.errors import ConfigError, UsageError
from privdiag.result import Result

Progress = Callable[[str], None]


def source_paths(config: Config) -> list[str]:
    """Return every configured event path, resolved against the config's folder.

    The scan reads each with its source's ``format`` (detected when not set). Raises
    UsageError when no source has a path, since an audit without event data has nothing to
    check.
    """
    paths = [config.data_path(p) for spec in config.sources.values() for p in spec.paths]
    if not paths and config.path is None:
        raise UsageError(
            "no config: --config was not given and there is no privdiag.toml in this folder",
            hint="pass --config FILE, or write one with: privdiag init DATA --consent FILE",
        )
    if not paths:
        raise UsageError(
            f"the config {config.path} names no event data for the audit",
            hint='add a source with its files: [sources.shop] paths = ["exports/shop/*.csv"]',
        )
    return paths


def absorb(result: Result, part: Result, *, prefix: str = "") -> None:
    """Add ``part``'s inputs, findings (once per id) and checks to ``result``."""
    seen_inputs = {(i.path, i.role) for i in result.inputs}
    result.inputs += [i for i in part.inputs if (i.path, i.role) not in seen_inputs]
    seen = {f.id for f in result.findings}
    result.findings += [f for f in part.findings if f.id not in seen]
    for check in part.checks:
        check.name = f"{prefix}{check.name}"
        result.checks.append(check)


def scan_sources(config: Config, result: Result, progress: Progress | None) -> None:
    """Scan every configured source, in one scan as ``privdiag scan`` of the same paths
    would, into ``result``; the scan's evidence (consent rates, ...) goes to its evidence."""
    from privdiag.scan import run_scan

    # The scan reads the config's [consent] paths itself, so that its notes name them so.
    part = run_scan(source_paths(config), config=config, progress=progress)
    absorb(result, part)
    for key, value in part.evidence.items():
        result.evidence.setdefault(key, value)


def check_model_files(config: Config) -> None:
    """Raise ConfigError when a ``[models.X]`` that the audit checks names a file that is not
    there: the message names the config file, the key and the path as resolved against the
    config's folder."""
    for name, spec in config.models.items():
        if not spec.blind_set:
            continue  # skipped with its reason, so its files are not needed
        for key in ("path", "blind_set", "reference"):
            value = getattr(spec, key)
            resolved = config.resolve(value) if value else None
            if resolved is not None and not resolved.exists():
                raise ConfigError(
                    f"[models.{name}] {key} = {value!r}: {resolved} does not exist",
                    path=config.path,
                    hint="paths in the config are relative to the config file's folder; "
                    "fix the path or give an absolute one",
                )


def check_models(config: Config, result: Result, progress: Progress | None) -> dict[str, Any]:
    """Run model-check for each ``[models.X]`` with a blind set; return each one's evidence.

    A model without a blind set, or a build without model checks, is a skipped check with
    its reason, never an error.
    """
    evidence: dict[str, Any] = {}
    wanted = {name: spec for name, spec in config.models.items() if spec.blind_set}
    for name in sorted(set(config.models) - set(wanted)):
        result.skipped(f"model-check {name}", f"no blind_set in [models.{name}] of the config")
    if not wanted:
        return evidence
    try:
        from privdiag.model.api import run_model_check
        from privdiag.model.consent_mix import read_mix
    except ImportError:
        for name in wanted:
            result.skipped(f"model-check {name}", "model checks are not part of this build")
        return evidence

    accepts = inspect.signature(run_model_check).parameters
    rates = result.evidence.get("consent_rates") or None
    for name, spec in wanted.items():
        if progress:
            progress(f"checking model {name}")
        extra: dict[str, Any] = {"consent_rates": rates} if "consent_rates" in accepts else {}
        if rates and "consent_mix" in accepts:  # the scan's joint mix, drawn from as a whole
            extra["consent_mix"] = read_mix(result.evidence.get("consent_mix"))
        part = run_model_check(
            config.resolve(spec.path),
            config.resolve(spec.blind_set or ""),
            config=config,
            label=spec.label,
            reference=config.resolve(spec.reference) if spec.reference else None,
            **extra,
        )
        absorb(result, part, prefix=f"{name}: ")
        evidence[name] = part.evidence
        # the model's notes (an observed scenario without a rate, ...) are the run's notes too,
        # so the terminal and the reports show them as model-check's do
        notes = [f"model {name}: {n}" for n in part.evidence.get("notes") or []]
        result.note(*notes)
    result.evidence["models"] = evidence
    link_models(result.findings)  # a model's fragile features to the scan's gaps and shifts
    return evidence
