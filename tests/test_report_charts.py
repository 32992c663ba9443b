"""Chart geometry, caps and robustness against any evidence shape."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from privdiag.report import charts
from privdiag.report.evidence import evidence_views, table_view


def test_nice_ticks_cover_the_range_with_round_steps():
    assert charts.nice_ticks(0, 1) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert charts.nice_ticks(0, 2100) == [0, 1000, 2000, 3000]
    assert charts.nice_ticks(5, 5) == [5]
    ticks = charts.nice_ticks(0, 0.7)
    assert ticks[0] == 0 and ticks[-1] >= 0.7 and len(ticks) == 5


def test_nice_ticks_near_the_largest_float_stay_finite():
    """A value of 1.5e308 (hypothesis found it) made the step an int power of ten and the
    tick above it 2e308, which no float holds: the chart raised OverflowError."""
    assert charts.nice_ticks(0.0, 1.5000000005e308) == [0.0, 5e307, 1e308, 1.5e308]
    assert charts.nice_ticks(0.0, 1.7e308) == [0.0, 1.7e308]  # the next tick, 2e308, is inf
    assert charts.nice_ticks(-1e308, 1e308) == [-1e308, 1e308]
    chart = charts.series({"series": {"": [1.5000000005e308]}})
    assert chart is not None


def test_histogram_bars_span_their_edges():
    chart = charts.histogram({"title": "t", "edges": [0, 1, 3], "counts": [4, 2], "unit": "s"})
    rects = [s for s in chart.shapes if s.tag == "rect"]
    assert len(rects) == 2
    frame_width = charts.WIDTH - 72
    assert float(rects[1].attrs["width"]) == round(frame_width * 2 / 3 - 1, 1)
    assert float(rects[0].attrs["height"]) == 2 * float(rects[1].attrs["height"])
    assert "largest bin, 0 to 1, holds 4" in chart.desc


def test_series_breaks_at_missing_values_and_marks_change_points():
    chart = charts.series(
        {
            "title": "t",
            "x": ["a", "b", "c", "d"],
            "series": {"rate": [1, 2, None, 3]},
            "marks": [{"x": "c", "label": "banner v3"}, {"x": "zz", "label": "no"}],
        }
    )
    lines = [s for s in chart.shapes if s.tag == "polyline"]
    assert [len(s.attrs["points"].split()) for s in lines] == [2, 1]
    assert [s.text for s in chart.shapes if s.attrs.get("class") == "mark-lbl"] == ["banner v3"]
    assert "change points: banner v3 at c" in chart.desc


def test_caps_bound_every_chart():
    many = list(range(1000))
    bars = charts.bars({"labels": [str(i) for i in many], "values": many})
    assert sum(s.tag == "rect" for s in bars.shapes) == charts.MAX_BARS
    assert bars.note == "970 more bars not shown."
    heat = charts.heatmap({"rows": many, "cols": many, "values": [[1.0] * 1000] * 1000})
    assert sum(s.tag == "rect" for s in heat.shapes) == charts.MAX_HEAT**2
    ser = charts.series({"x": many, "series": {"a": many}})
    assert len(ser.shapes[-1].attrs.get("points", "").split()) <= charts.MAX_POINTS or ser.note


def test_heatmap_shows_missing_cells_as_na():
    chart = charts.heatmap({"rows": ["r"], "cols": ["a", "b"], "values": [[0.5, None]]})
    classes = [s.attrs["class"] for s in chart.shapes if s.tag == "rect"]
    assert classes == ["heat", "na"]


def test_curve_draws_the_diagonal():
    chart = charts.curve({"points": {"m": [[0.2, 0.3]]}, "diagonal": True})
    assert any(s.attrs.get("class") == "diag" for s in chart.shapes)
    assert ("perfect calibration", "diag") in chart.legend


def test_table_caps_rows_and_suppresses_small_groups():
    view = table_view(
        {
            "title": "t",
            "columns": ["step", "events", "users"],
            "rows": [["a", 10, 2]] * 60 + [["b", 5, 9]],
        },
        5,
    )
    assert len(view.rows) == 50 and view.hidden == 11 and view.suppressed == 50
    assert view.rows[0] == ["a", "–", "<5"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)
block = st.dictionaries(
    st.sampled_from(
        [
            "title",
            "edges",
            "counts",
            "x",
            "series",
            "marks",
            "labels",
            "values",
            "points",
            "diagonal",
            "rows",
            "cols",
            "columns",
            "unit",
        ]
    ),
    json_values,
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["table", *charts.BUILDERS, "other"]),
        block | st.lists(block, max_size=2) | json_values,
        max_size=4,
    )
)
def test_any_evidence_shape_renders_without_error(evidence):
    chart_list, tables = evidence_views(evidence, 5)
    for chart in chart_list:
        assert chart.width > 0 and chart.height > 0
        for shape in chart.shapes:
            assert all(isinstance(v, str) for v in shape.attrs.values())
            assert not any(w in v for v in shape.attrs.values() for w in ("nan", "inf"))
