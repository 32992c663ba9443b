"""Fixes from trial 14: a new user's pass over the real GA4, Segment and Snowplow inputs and a
generated shop, as a data engineer, a privacy lead and a platform engineer."""

from __future__ import annotations

from privdiag.report.html import render_html
from privdiag.report.merge import merge
from privdiag.scan import run_scan


def test_a_shift_says_its_share_is_of_the_event_names_that_carry_the_feature(realdata):
    # The GA4 sample's clean_event shift: 120 events after 2020-12-29 of the names that ever
    # carry clean_event, 85 of them without it (DuckDB over the NDJSON's event_params); the
    # 170 events after that day in all include session_start and first_visit, which never
    # carry it. "70.8% of the events after the change lack clean_event" read as 70.8% of 170.
    path = realdata / "ga4" / "ga4_sample_rows_92days.ndjson"
    doc = run_scan([str(path)]).to_dict()
    (shift,) = [f for f in doc["findings"] if f["kind"] == "sparsity.shift"]
    assert (shift["metrics"]["events"], shift["metrics"]["share"]) == (120, 0.7083)
    html = render_html(merge([doc]))
    assert (
        "Share: 70.8% of the events after the change, of the event names that carry "
        "<bdi>clean_event</bdi>, lack it." in html
    )
