"""Canonical consent purposes and the vocabularies that map onto them.

A purpose's state for an event is one of ``granted``, ``denied`` or ``unknown``.
"""

from __future__ import annotations

from collections.abc import Mapping

PURPOSES: tuple[str, ...] = (
    "analytics",
    "ads",
    "ad_user_data",
    "ad_personalization",
    "personalization",
    "functional",
    "necessary",
)

STATES: tuple[str, ...] = ("granted", "denied", "unknown")

# Keys are compared lower-cased with spaces, dashes and dots folded to underscores.
BUILTIN_ALIASES: dict[str, str] = {
    # Google Consent Mode
    "analytics_storage": "analytics",
    "ad_storage": "ads",
    "ads_storage": "ads",
    "ad_user_data": "ad_user_data",
    "ad_personalization": "ad_personalization",
    "personalization_storage": "personalization",
    "functionality_storage": "functional",
    "security_storage": "necessary",
    # OneTrust categories
    "c0001": "necessary",
    "c0002": "analytics",
    "c0003": "functional",
    "c0004": "ads",
    "c0005": "ads",
    # Segment / Snowplow / CMP words
    "advertising": "ads",
    "marketing": "ads",
    "targeting": "ads",
    "ads": "ads",
    "analytics": "analytics",
    "statistics": "analytics",
    "performance": "analytics",
    "personalization": "personalization",
    "personalisation": "personalization",
    "preferences": "personalization",
    "functional": "functional",
    "functionality": "functional",
    "necessary": "necessary",
    "essential": "necessary",
    "strictly_necessary": "necessary",
}

# IAB TCF v2.2 purpose number -> canonical purpose.
TCF_PURPOSES: dict[int, str] = {
    1: "functional",
    2: "ads",
    3: "ads",
    4: "ads",
    7: "ads",
    5: "personalization",
    6: "personalization",
    11: "personalization",
    8: "analytics",
    9: "analytics",
    10: "analytics",
}


def fold(name: str) -> str:
    """Return the comparison form of a vocabulary word: lower case, separators as '_'."""
    out = name.strip().lower()
    for ch in " -./":
        out = out.replace(ch, "_")
    return out


def alias_table(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the folded alias -> purpose table: built-ins, then the config's additions."""
    table = {fold(k): v for k, v in BUILTIN_ALIASES.items()}
    for purpose in PURPOSES:
        table[fold(purpose)] = purpose
    for key, value in (extra or {}).items():
        table[fold(key)] = value
    return table


def canonical(name: str, extra: Mapping[str, str] | None = None) -> str | None:
    """Return the canonical purpose for a source category, or None when it is unmapped."""
    return alias_table(extra).get(fold(name))
