"""Hostile round 27: owner patterns that own nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from privdiag.config import parse_config
from privdiag.errors import ConfigError
from privdiag.mapping import owner_for


@pytest.mark.parametrize(
    ("pattern", "meant"),
    [
        ("purpose: ads", "purpose:ads"),
        ("source:app ", "source:app"),
        ("step: purchase", "step:purchase"),
        ("purpose:", "purpose:<name or pattern>"),
        ("feature:", "feature:<name or pattern>"),
    ],
)
def test_an_owners_pattern_of_a_kind_with_a_blank_or_spaced_name_is_a_config_error(pattern, meant):
    """`"purpose: ads" = "privacy-office"` owned nothing (the name read " ads") and
    `"purpose:"` nothing at all, each with no word of it, where `"purpose:ads"` owns the
    opt-in drops and violations on ads."""
    with pytest.raises(ConfigError) as err:
        parse_config({"owners": {pattern: "team"}}, Path("privdiag.toml"))
    assert f"owners.{pattern}" in str(err.value)
    assert meant in str(err.value)


def test_a_feature_pattern_may_hold_spaces_as_a_column_name_does():
    cfg = parse_config({"owners": {"feature: gclid": "ads"}}, Path("privdiag.toml"))
    assert owner_for(cfg, source="app", feature=" gclid", purpose="ads") == "ads"
