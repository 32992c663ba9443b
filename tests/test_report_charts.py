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
    assert [len(s.attrs["points"].split()) for s in lines] == [2]  # and d, alone, a dot
    assert [s.attrs["class"] for s in chart.shapes if s.tag == "circle"] == ["dot s0"]
    assert [s.text for s in chart.shapes if s.attrs.get("class") == "mark-lbl"] == ["banner v3"]
    assert "change points: banner v3 at c" in chart.desc


def test_marks_of_one_day_share_a_label_and_crowded_labels_take_another_row():
    # A shift's change and the notice version first seen that day were two labels drawn at
    # the same place, written over each other ("90% to 30%" over "notice version v2"); a
    # second change five days later ran into the first's label.
    days = [f"2026-10-{d:02d}" for d in range(1, 16)]
    marks = [
        {"x": "2026-10-06", "label": "90% to 30%"},
        {"x": "2026-10-06", "label": "notice version v2"},
        {"x": "2026-10-11", "label": "30% to 60%"},
        {"x": "2026-10-12", "label": "a mark a day later"},
        {"x": "2026-10-13", "label": "and another"},
        {"x": "2026-10-14", "label": "no room left"},
        {"x": "2026-10-15", "label": "last one"},
    ]
    chart = charts.series({"title": "t", "x": days, "series": {"rate": [0.5] * 15}, "marks": marks})
    drawn = [
        (s.text, float(s.attrs["y"])) for s in chart.shapes if s.attrs.get("class") == "mark-lbl"
    ]
    # 40 px a day from x=56, 7 px a character, each label starting 3 px after its line.
    # Row 0 (y 40): 10-06's joined label, 259 to 469; row 1 (y 27): 10-11's, 459 to 529;
    # row 0 again: 10-12's from 499; row 1: 10-13's from 539; 10-14's ends at its line
    # (it would pass the right edge) from 489: row 2 (y 14); 10-15's, from 557, meets a
    # label on every row and is left out.
    assert drawn == [
        ("90% to 30% · notice version v2", 40.0),
        ("30% to 60%", 27.0),
        ("a mark a day later", 40.0),
        ("and another", 27.0),
        ("no room left", 14.0),
    ]
    assert chart.height == 250 + 2 * charts.MARK_ROW  # the plot moved down two rows
    assert sum(s.attrs.get("class") == "mark" for s in chart.shapes) == 6  # a line each day
    assert "last one at 2026-10-15" in chart.desc


def test_one_row_of_marks_keeps_the_chart_as_it_was():
    chart = charts.series(
        {
            "title": "t",
            "x": ["a", "b"],
            "series": {"r": [1, 2]},
            "marks": [{"x": "b", "label": "x"}],
        }
    )
    assert chart.height == 250
    assert [float(s.attrs["y"]) for s in chart.shapes if s.attrs.get("class") == "mark-lbl"] == [
        14.0
    ]


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


def test_a_heatmap_of_one_value_shades_no_cell_as_higher():
    # Trial 23: a consent-gap map whose shown cells all read 0 (the rest hidden) drew every
    # cell at the darkest shade under "Darker is higher (share: 0 to 0)": a privacy lead
    # read the darkest cells as the largest gaps, where there was none.
    chart = charts.heatmap({"rows": ["r"], "cols": ["a", "b", "c"], "values": [[0, 0.0, None]]})
    shades = [s.attrs.get("fill-opacity") for s in chart.shapes if s.attrs["class"] == "heat"]
    assert shades == ["0.12", "0.12"]
    assert chart.note == "Every cell with a value reads 0: one shade, none higher."
    assert "from 0 to 0" not in chart.desc and chart.desc.endswith("every value 0.")


def test_a_series_point_between_missing_days_is_drawn_as_a_dot():
    # Trial 23: a Segment stream of 80 app users drew its daily ads consent rate on 5 of 29
    # days, each between days of fewer than 5 users (null): each was a line of one point,
    # which draws nothing, and the chart showed only its change mark.
    chart = charts.series(
        {"x": ["d1", "d2", "d3", "d4"], "series": {"rate": [None, 0.8, None, 0.3]}}
    )
    dots = [s for s in chart.shapes if s.tag == "circle"]
    assert [s.attrs["class"] for s in dots] == ["dot s0", "dot s0"]
    assert not [s for s in chart.shapes if s.tag == "polyline"]
    joined = charts.series({"x": ["d1", "d2"], "series": {"rate": [0.8, 0.3]}})
    assert [s.tag for s in joined.shapes if s.tag in ("circle", "polyline")] == ["polyline"]
