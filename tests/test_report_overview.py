"""The scan's overview evidence (its consent-gap maps) is drawn in the report's Overview."""

from __future__ import annotations

import re

from privdiag.report.evidence import chart_kind
from privdiag.report.html import render_html
from privdiag.report.merge import merge
from tests.helpers import scan_generated


def test_chart_kind_reads_a_list_named_after_its_charts():
    assert chart_kind("heatmap") == "heatmap"
    assert chart_kind("consent_gap_heatmaps") == "heatmap"
    assert chart_kind("x_series") == "series"  # already a chart's name: kept
    assert chart_kind("optin_rates") == "rate"  # no such chart: not drawn


def test_every_consent_gap_map_of_the_scan_is_in_the_overview(tmp_path):
    # Before, the scan's consent_gap_heatmaps matched no chart: the Overview never showed.
    doc = scan_generated(tmp_path / "shop", seed=7)
    maps = doc["evidence"]["consent_gap_heatmaps"]
    assert len(maps) == 4  # sources web and app x purposes analytics and ads

    html = render_html(merge([doc]))
    overview = html[html.index('<section id="overview"') :]
    overview = overview[: overview.index("</section>")]
    assert len(re.findall(r'<figure class="chart chart-heatmap"', overview)) == 4
    for m in maps:
        title = m["title"].replace("'", "&#39;")
        assert title in overview
    assert '<a href="#overview">Overview</a>' in html
