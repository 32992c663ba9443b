"""Fixes from trial29: a new user's pass over the generated shop and the real GA4, Snowplow,
Segment, TCF and Consent Mode inputs, each figure recomputed by hand."""

from __future__ import annotations

from test_trial14 import _closest_miss, _forty_shoppers

from privdiag.scan import run_scan


def test_the_closest_miss_note_says_why_it_shows_no_conversions(tmp_path):
    # The generated shop (seed 7, 600 users): "funnel.consent_drop found no drop: the
    # largest-looking, users denying analytics going on from page_view to view_item in app,
    # has q 0.71 ...; so few users cannot tell a drop of that size from chance." No size was
    # shown (a side of fewer than min_group_size users hides the conversions), and the note
    # did not say so. The 40 shoppers of trial 14 at min_group_size 25: 20 users a side.
    events, cfg, _ = _closest_miss(tmp_path, _forty_shoppers())
    cfg.thresholds.min_group_size = 25
    doc = run_scan([events], config=cfg).to_dict()
    (note,) = [n for n in doc["evidence"]["notes"] if n.startswith("funnel.consent_drop")]
    assert note == (
        "funnel.consent_drop found no drop: the largest-looking, users denying ads going on "
        "from page_view to purchase in shop (its conversions not shown: they would tell a "
        "group of fewer than 25 users), has q 0.032 after the correction for 1 test, above "
        "alpha 0.01; so few users cannot tell such a drop from chance."
    )
