"""Fixes from trial 16: a new user's pass over the real GA4, Segment and Snowplow inputs and a
generated shop (seed 16, 600 users), as a data engineer, a data scientist and a privacy lead."""

from __future__ import annotations

import math

from privdiag.report.evidence import table_view

QUALITY = ["measure", "unmasked", "scenario", "worse_by", "worse_by_low", "worse_by_high"]


def test_model_check_s_own_html_says_no_row_was_predicted_1():
    # The generated shop's propensity model under all_denied scores no row above 0.35 (its
    # blind set's 3,000 rows scored by hand with onnxruntime), so precision has no value.
    # `privdiag report model.json --html` said "none: no row predicted 1"; the HTML that
    # `model-check --html` writes itself showed "–" in every column: it renders the result
    # before the JSON writer turns the NaN into null.
    ev = {
        "title": "propensity under all_denied",
        "columns": [*QUALITY, "better"],
        "rows": [["precision", 0.727692, math.nan, math.nan, math.nan, math.nan, "higher"]],
    }
    assert table_view(ev, 5).rows[0] == [
        "precision (higher is better)",
        "0.728",
        "none: no row predicted 1",
        "–",
        "–",
        "worse: it predicts 0 on every row",
    ]
