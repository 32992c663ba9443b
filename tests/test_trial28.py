"""Fixes from trial 28: a data scientist's pass over a generated shop, a propensity model of
their own, a nightly audit of a banner change, and the real GA4, Snowplow and Segment inputs."""

from __future__ import annotations

import pytest

from privdiag.config import Config, FeatureConfig, Thresholds
from privdiag.scan import run_scan
from tests.helpers import by_kind, write
from tests.test_sparsity import ads_log, shop_csv

# Shop C of tests/test_shift_changes.py (600 users over 15 days, 40 a day; notice v1 on days
# 0-4, v2 from day 5, 2026-10-06, when ads opt-in falls from 90% to 30%), but here item_id and
# page_title are dropped on add_to_cart from that same day: a tag release that happened to go
# out with the new banner. Their missing share on add_to_cart rises from 0 to 1/3 (200 of 600
# add_to_cart-and-other events of the names carrying it) on 2026-10-06.


def _granted(i: int) -> bool:
    return i % 10 != 0 if i // 40 < 5 else i % 10 < 3


def _row(i: int, step: str) -> dict[str, str]:
    broken = step == "add_to_cart" and i // 40 >= 5
    return {
        "gclid": f"G{i}" if step == "page_view" and _granted(i) else "",
        "item_id": "" if broken else "SKU",
        "coupon": "" if broken else "C",
    }


@pytest.fixture(scope="module")
def release_with_banner(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release")
    text = shop_csv(600, lambda i: 3, lambda i: "", _row, day=lambda i: i // 40)
    events = write(folder / "shop.csv", text)
    consent = write(
        folder / "cmp.csv",
        ads_log(600, _granted, lambda i: "v1" if i // 40 < 5 else "v2", per_day=40),
    )
    cfg = Config(
        thresholds=Thresholds(min_group_size=1),
        features={
            "item_id": FeatureConfig(purposes=["necessary"]),
            "coupon": FeatureConfig(purposes=[]),
            "gclid": FeatureConfig(purposes=["ads"]),
        },
    )
    doc = run_scan([events], consent=[consent], config=cfg).to_dict()
    return {
        f["location"].get("feature") or f["location"]["purpose"]: f
        for f in by_kind(doc, "sparsity.shift")
    }


@pytest.mark.parametrize("feature", ["item_id", "coupon"])
def test_a_shift_of_a_feature_needing_no_consent_is_not_put_down_to_a_banner(
    release_with_banner, feature
):
    # Was: the audit's content_group (purposes ["necessary"]) shift on 2026-10-20 read
    # "(notice version v3 first seen that day)", its advice "the consent change that day
    # explains it; plan for the lower coverage", and it turned high ("worse: severity medium
    # to high") the night a new banner went out the day of its tag change: the banner, not
    # the tag, was blamed. A feature of purposes [] was also linked to every consent rate.
    shift = release_with_banner[feature]
    m = shift["metrics"]
    assert (m["change_day"], m["before"], m["after"]) == ("2026-10-06", 0.0, 0.3333)
    assert "notice version" not in shift["title"] and "consent rate" not in shift["title"]
    assert m["notice_versions"] == [] and m["consent_rate_changes"] == []
    assert shift["caused_by"] == [] and shift["severity"] == "medium"
    assert "release, tag or pipeline change" in shift["recommendation"]


def test_a_shift_of_a_consent_feature_still_names_the_banner(release_with_banner):
    gclid = release_with_banner["gclid"]
    assert gclid["metrics"]["notice_versions"] == ["v2"]
    assert "notice version v2 first seen that day" in gclid["title"]
    assert gclid["caused_by"] == [release_with_banner["ads"]["id"]]
