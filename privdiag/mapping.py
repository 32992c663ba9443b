"""Which purposes each feature needs, and who owns what.

Feature -> purpose mapping comes from ``[features.X]`` in the config (names or glob
patterns), then from built-in knowledge of well-known fields. Owners follow the config's
``[features]``, ``[sources]``, ``[models]`` tables and then ``[owners]`` glob patterns
(CODEOWNERS-like: the last matching pattern wins).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from privdiag.config import Config
from privdiag.ingest.consent_strings import STRING_COLUMNS
from privdiag.ingest.sqlparts import CANONICAL_COLUMNS

# Well-known fields and the purposes they need when the config says nothing.
BUILTIN_FEATURES: dict[str, list[str]] = {
    "ga_session_id": ["analytics"],
    "ga_session_number": ["analytics"],
    "gclid": ["ads"],
    "dclid": ["ads"],
    "gbraid": ["ads"],
    "wbraid": ["ads"],
    "fbclid": ["ads"],
    "msclkid": ["ads"],
    "ttclid": ["ads"],
    "li_fat_id": ["ads"],
    "_fbp": ["ads"],
    "_fbc": ["ads"],
    "_ga": ["analytics"],
    "_gid": ["analytics"],
}


def feature_columns(con: Any) -> dict[str, str]:
    """Return feature column -> DuckDB type for the ``events`` table."""
    rows = con.execute("DESCRIBE events").fetchall()
    return {
        r[0]: r[1]
        for r in rows
        if r[0] not in CANONICAL_COLUMNS
        and not r[0].startswith("_")
        and r[0].lower() not in STRING_COLUMNS
    }


def purposes_for(feature: str, config: Config) -> list[str] | None:
    """Return the purposes a feature needs, or None when nobody classified it."""
    spec = config.features.get(feature)
    if spec is not None and spec.purposes is not None:
        return spec.purposes
    for pattern, spec in config.features.items():
        wildcard = any(ch in pattern for ch in "*?[")
        if wildcard and spec.purposes is not None and fnmatchcase(feature, pattern):
            return spec.purposes
    return BUILTIN_FEATURES.get(feature.lower())


def feature_map(features: list[str], config: Config) -> dict[str, list[str]]:
    """Return feature -> purposes for every classified feature among ``features``."""
    out = {}
    for feature in features:
        purposes = purposes_for(feature, config)
        if purposes is not None:
            out[feature] = purposes
    return out


def _pattern_owner(config: Config, *names: str) -> str | None:
    owner = None
    for pattern, team in config.owners.items():
        if any(name and fnmatchcase(name, pattern) for name in names):
            owner = team
    return owner


def owner_for(
    config: Config,
    *,
    source: str | None = None,
    feature: str | None = None,
    step: str | None = None,
    model: str | None = None,
    prefer: str = "source",
) -> str | None:
    """Return the owner of a location: the preferred thing's owner first, then the others."""

    def of_source() -> str | None:
        spec = config.sources.get(source or "")
        return spec.owner if spec and spec.owner else _pattern_owner(config, f"source:{source}")

    def of_feature() -> str | None:
        spec = config.features.get(feature or "")
        return spec.owner if spec and spec.owner else _pattern_owner(config, f"feature:{feature}")

    def of_model() -> str | None:
        spec = config.models.get(model or "")
        return spec.owner if spec and spec.owner else _pattern_owner(config, f"model:{model}")

    def of_step() -> str | None:
        return _pattern_owner(config, f"step:{step}")

    order = {
        "source": [of_source, of_feature, of_step],
        "feature": [of_feature, of_source, of_step],
        "model": [of_model, of_feature, of_source],
    }[prefer]
    for find in order:
        if (owner := find()) is not None:
            return owner
    return None
