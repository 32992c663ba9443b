"""Inline SVG charts built from a finding's evidence, as shapes a template draws.

Each builder takes one evidence block of the vocabulary in ``privdiag.result`` and returns a
``Chart``: a list of SVG shapes with computed geometry plus a text description for screen
readers. Colours are CSS classes so the light and dark schemes both apply. Sizes are capped
so that a chart never grows with the data behind it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from privdiag.report.text import cut, fmt_number, fmt_value

WIDTH = 640
MAX_POINTS = 400
MAX_BARS = 30
MAX_BINS = 100
MAX_HEAT = 40
MAX_SERIES = 6


@dataclass
class Shape:
    """One SVG element: its tag, attributes, optional text and tooltip."""

    tag: str
    attrs: dict[str, str]
    text: str = ""
    tip: str = ""


@dataclass
class Chart:
    """A chart ready for the ``_chart.html`` partial."""

    kind: str
    title: str
    desc: str
    width: int
    height: int
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (label, css class)
    note: str = ""


@dataclass
class Frame:
    """A plot area inside a chart, mapping data ranges to pixels."""

    left: float
    top: float
    width: float
    height: float
    x0: float = 0.0
    x1: float = 1.0
    y0: float = 0.0
    y1: float = 1.0

    def x(self, v: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (v - self.x0) / span * self.width

    def y(self, v: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.top + self.height - (v - self.y0) / span * self.height


def _n(v: float) -> str:
    return f"{v:.1f}"


def _text(x: float, y: float, text: str, cls: str = "lbl", anchor: str = "start") -> Shape:
    return Shape("text", {"x": _n(x), "y": _n(y), "class": cls, "text-anchor": anchor}, text)


def _line(x1: float, y1: float, x2: float, y2: float, cls: str) -> Shape:
    return Shape("line", {"x1": _n(x1), "y1": _n(y1), "x2": _n(x2), "y2": _n(y2), "class": cls})


def _rect(x: float, y: float, w: float, h: float, cls: str, tip: str = "", **extra: str) -> Shape:
    attrs = {"x": _n(x), "y": _n(y), "width": _n(max(w, 0.0)), "height": _n(max(h, 0.0))}
    return Shape("rect", {**attrs, "class": cls, **extra}, tip=tip)


def _short(label: Any, limit: int = 22) -> str:
    return cut(fmt_value(label), limit)


def _seq(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty list: evidence comes from outside."""
    return list(value) if isinstance(value, list | tuple) else []


def _map(value: Any) -> dict[Any, Any]:
    """``value`` when it is a dict, else an empty dict."""
    return value if isinstance(value, dict) else {}


def _finite(values: list[Any]) -> list[float]:
    return [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Return about ``count`` round tick values covering ``lo`` to ``hi``."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    if not math.isfinite(raw):  # a span wider than the largest float: no round ticks
        return [lo, hi]
    step = 10.0 ** math.floor(math.log10(raw))  # a float: an int power grows unbounded
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks = [start]
    while ticks[-1] < hi - step * 1e-9:  # the last tick is at or above ``hi``
        ticks.append(start + len(ticks) * step)
    # near the largest float the tick above ``hi`` overflows to inf
    return ticks if math.isfinite(ticks[-1]) else [lo, hi]


def _y_axis(frame: Frame, unit: str = "") -> list[Shape]:
    shapes = []
    for t in nice_ticks(frame.y0, frame.y1):
        y = frame.y(t)
        shapes.append(_line(frame.left, y, frame.left + frame.width, y, "grid"))
        shapes.append(_text(frame.left - 6, y + 4, fmt_number(round(t, 10)), "tick", "end"))
    if unit:
        shapes.append(_text(frame.left, frame.top - 4, unit, "tick"))
    return shapes


def _value_range(values: list[float], include_zero: bool = True) -> tuple[float, float]:
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:
        hi = lo + 1.0
    ticks = nice_ticks(lo, hi)
    return min(lo, ticks[0]), max(hi, ticks[-1])


def histogram(ev: dict[str, Any]) -> Chart:
    """A histogram from ``edges`` (one more than ``counts``) and ``counts``."""
    counts = _finite(_seq(ev.get("counts")))[:MAX_BINS]
    edges = _finite(_seq(ev.get("edges")))[: len(counts) + 1]
    if len(edges) != len(counts) + 1:
        edges = [float(i) for i in range(len(counts) + 1)]
    unit = str(ev.get("unit") or "")
    frame = Frame(56, 16, WIDTH - 72, 180, edges[0] if edges else 0, edges[-1] if edges else 1)
    frame.y0, frame.y1 = _value_range(counts)
    chart = Chart("histogram", str(ev.get("title") or "Histogram"), "", WIDTH, 240)
    chart.shapes += _y_axis(frame, "count")
    for c, a, b in zip(counts, edges, edges[1:], strict=False):
        tip = f"{fmt_number(a)}–{fmt_number(b)} {unit}: {fmt_number(c)}"
        chart.shapes.append(
            _rect(
                frame.x(a) + 0.5,
                frame.y(c),
                frame.x(b) - frame.x(a) - 1,
                frame.y(0) - frame.y(c),
                "bar",
                tip,
            )
        )
    step = max(1, len(edges) // 6)
    for e in edges[::step] + ([edges[-1]] if (len(edges) - 1) % step else []):
        chart.shapes.append(
            _text(frame.x(e), frame.top + frame.height + 16, fmt_number(e), "tick", "middle")
        )
    chart.shapes.append(_text(frame.left + frame.width / 2, 232, unit, "tick", "middle"))
    if counts:
        i = counts.index(max(counts))
        chart.desc = (
            f"Histogram of {fmt_number(sum(counts))} values in {len(counts)} bins "
            f"from {fmt_number(edges[0])} to {fmt_number(edges[-1])} {unit}; the largest "
            f"bin, {fmt_number(edges[i])} to {fmt_number(edges[i + 1])}, holds "
            f"{fmt_number(counts[i])}."
        )
    return chart


def bars(ev: dict[str, Any]) -> Chart:
    """Horizontal bars, one per label, in the given order (first ``MAX_BARS``)."""
    labels = list(_seq(ev.get("labels")))
    values = [(_finite([v]) or [0.0])[0] for v in _seq(ev.get("values"))]
    pairs = list(zip(labels, values, strict=False))
    shown = pairs[:MAX_BARS]
    unit = str(ev.get("unit") or "")
    height = 28 + 24 * len(shown) + 24
    frame = Frame(170, 24, WIDTH - 240, 24 * len(shown))
    frame.x0, frame.x1 = _value_range([v for _, v in shown])
    chart = Chart("bars", str(ev.get("title") or "Bars"), "", WIDTH, height)
    if unit:
        chart.shapes.append(_text(frame.left, 14, unit, "tick"))
    for i, (label, v) in enumerate(shown):
        y = frame.top + 24 * i
        x_a, x_b = sorted((frame.x(0), frame.x(v)))
        chart.shapes.append(_text(frame.left - 8, y + 15, _short(label), "lbl", "end"))
        chart.shapes.append(
            _rect(
                x_a,
                y + 4,
                x_b - x_a,
                16,
                "bar",
                f"{fmt_value(label)}: {fmt_number(v)} {unit}".strip(),
            )
        )
        chart.shapes.append(_text(x_b + 4, y + 15, fmt_number(v), "tick"))
    chart.shapes.append(_line(frame.x(0), frame.top, frame.x(0), frame.top + frame.height, "axis"))
    if len(pairs) > MAX_BARS:
        chart.note = f"{len(pairs) - MAX_BARS} more bars not shown."
    top = ", ".join(f"{fmt_value(lb)} {fmt_number(v)}" for lb, v in shown[:5])
    chart.desc = f"{len(pairs)} bars ({unit or 'value'}): {top}."
    return chart


#: Width of a character of an 11px label, generously (digits and "%" run about 6.5px).
CHAR_WIDTH = 7.0


def _fitted(x: float, label: str, anchor: str) -> tuple[float, str]:
    """Return where to anchor ``label`` at ``x`` so that it stays inside the chart: a label
    that would run past the right edge ends at ``x`` instead (a change point on the last
    day, the last day's tick), and one past the left edge starts there."""
    width = len(label) * CHAR_WIDTH
    right = x + (width if anchor == "start" else width / 2)
    if right > WIDTH:
        return min(x, WIDTH - 2.0), "end"
    if anchor == "middle" and x - width / 2 < 0:
        return x, "start"
    return x, anchor


def _polyline_runs(frame: Frame, xs: list[float], ys: list[Any]) -> list[str]:
    """Return polyline point lists, broken wherever a value is missing."""
    runs: list[list[str]] = [[]]
    for x, y in zip(xs, ys, strict=False):
        if isinstance(y, int | float) and math.isfinite(y):
            runs[-1].append(f"{_n(frame.x(x))},{_n(frame.y(y))}")
        elif runs[-1]:
            runs.append([])
    return [" ".join(r) for r in runs if r]


def series(ev: dict[str, Any]) -> Chart:
    """Lines over ordered ``x`` labels, with vertical marks at change points."""
    xs = [str(x) for x in _seq(ev.get("x"))]
    every = [(n, _seq(v)) for n, v in _map(ev.get("series")).items()]
    named = every[:MAX_SERIES]
    stride = max(1, math.ceil(len(xs) / MAX_POINTS))
    idx = list(range(0, len(xs), stride))
    frame = Frame(56, 24, WIDTH - 80, 170, 0, max(len(xs) - 1, 1))
    frame.y0, frame.y1 = _value_range(_finite([v for _, vs in named for v in vs]))
    marks = [
        m for m in _seq(ev.get("marks")) if isinstance(m, dict) and "x" in m and str(m["x"]) in xs
    ]
    placed = _place_marks(frame, xs, marks[:10])
    rows = max((p.row for p in placed if p.row is not None), default=0) + 1
    frame.top += MARK_ROW * (rows - 1)  # room above the plot for the labels' rows
    chart = Chart("series", str(ev.get("title") or "Series"), "", WIDTH, 250)
    chart.height += MARK_ROW * (rows - 1)
    chart.shapes += _y_axis(frame)
    for k, (name, values) in enumerate(named):
        cls = f"s{k}"
        for pts in _polyline_runs(
            frame, [float(i) for i in idx], [values[i] for i in idx if i < len(values)]
        ):
            if " " not in pts:  # a day between two missing ones: a line of one point is not seen
                cx, cy = pts.split(",")
                chart.shapes.append(
                    Shape("circle", {"cx": cx, "cy": cy, "r": "3", "class": f"dot {cls}"})
                )
                continue
            chart.shapes.append(Shape("polyline", {"points": pts, "class": f"line {cls}"}))
        chart.legend.append((_short(name, 30), cls))
    for i in range(0, len(xs), max(1, len(xs) // 5)) if xs else []:
        label = _short(xs[i], 12)
        x, anchor = _fitted(frame.x(i), label, "middle")
        chart.shapes.append(_text(x, frame.top + frame.height + 16, label, "tick", anchor))
    for mark in placed:
        chart.shapes += mark.shapes(frame)
    if stride > 1:
        chart.note = f"Every {stride}th of {len(xs)} points drawn."
    chart.note = " ".join(filter(None, [chart.note, _left_out(every, "line")]))
    if isinstance(ev.get("note"), str) and ev["note"]:  # what the evidence itself leaves out
        chart.note = " ".join(filter(None, [chart.note, _short(ev["note"], 200)]))
    where = "; ".join(f"{fmt_value(m.get('label', ''))} at {fmt_value(m['x'])}" for m in marks)
    chart.desc = (
        f"{len(named)} series over {len(xs)} points"
        + (f" from {xs[0]} to {xs[-1]}" if xs else "")
        + (f"; change points: {where}." if marks else ".")
    )
    return chart


MARK_ROW = 13  # px between two rows of mark labels
MARK_ROWS = 3  # rows of labels above a chart at most


@dataclass
class PlacedMark:
    """A marked x, its label, where the label is anchored and on which row above the plot
    (0 nearest; None: no room, the label left out)."""

    x: float
    label: str
    at: float
    anchor: str
    row: int | None

    def shapes(self, frame: Frame) -> list[Shape]:
        """The dashed line, up to the label's row, and the label."""
        if self.row is None:
            return [_line(self.x, frame.top - 6, self.x, frame.top + frame.height, "mark")]
        y = frame.top - 10 - MARK_ROW * self.row
        at = self.at - 6 if self.anchor == "end" else self.at
        return [
            _line(self.x, y + 4, self.x, frame.top + frame.height, "mark"),
            _text(at, y, self.label, "mark-lbl", self.anchor),
        ]


def _place_marks(frame: Frame, xs: list[str], marks: list[dict[str, Any]]) -> list[PlacedMark]:
    """One mark per marked x, its label the labels of that x joined ("90% to 30% · notice
    version v2"; drawn apart, they were written over each other), each label on the nearest
    of :data:`MARK_ROWS` rows where it runs into no label drawn before it. A label with no
    such row is left out: its line stays, and the chart's description names every mark."""
    labels: dict[str, list[str]] = {}
    for m in marks:
        labels.setdefault(str(m["x"]), []).append(str(m.get("label", "")))
    free_from = [-math.inf] * MARK_ROWS  # where each row's last label ends
    placed = []
    for day in sorted(labels, key=xs.index):
        x = frame.x(xs.index(day))
        label = _short(" · ".join(labels[day]), 40)
        at, anchor = _fitted(x + 3, label, "start")
        width = len(label) * CHAR_WIDTH
        start = at - 6 - width if anchor == "end" else at
        row = next((r for r in range(MARK_ROWS) if start >= free_from[r]), None)
        if row is not None:
            free_from[row] = start + width + CHAR_WIDTH
        placed.append(PlacedMark(x, label, at, anchor, row))
    return placed


def _points(value: Any) -> list[tuple[float, float]]:
    """The finite ``[x, y]`` pairs of ``value``, at most ``MAX_POINTS``."""
    pairs = [p for p in _seq(value) if isinstance(p, list | tuple) and len(p) == 2]
    good = [(float(x), float(y)) for x, y in pairs if len(_finite([x, y])) == 2]
    return good[:MAX_POINTS]


def _left_out(every: list[tuple[Any, Any]], noun: str) -> str:
    """Names the lines (or curves) past :data:`MAX_SERIES` that a chart does not draw."""
    more = len(every) - MAX_SERIES
    if more <= 0:
        return ""
    rest = ", ".join(_short(n, 30) for n, _ in every[MAX_SERIES:])
    return f"{more} more {noun}{'s' if more > 1 else ''} not drawn: {rest}."


def curve(ev: dict[str, Any]) -> Chart:
    """Curves of (x, y) points, e.g. reliability, with the diagonal when asked."""
    every = list(_map(ev.get("points")).items())
    named = [(n, _points(pts)) for n, pts in every[:MAX_SERIES]]
    diagonal = bool(ev.get("diagonal"))
    xs = [float(p[0]) for _, pts in named for p in pts] + ([0.0, 1.0] if diagonal else [])
    ys = [float(p[1]) for _, pts in named for p in pts] + ([0.0, 1.0] if diagonal else [])
    frame = Frame(56, 16, 300, 240, *_value_range(xs, False), *_value_range(ys, False))
    chart = Chart("curve", str(ev.get("title") or "Curve"), "", 420, 300)
    chart.shapes += _y_axis(frame)
    for t in nice_ticks(frame.x0, frame.x1):
        chart.shapes.append(
            _text(frame.x(t), frame.top + frame.height + 16, fmt_number(t), "tick", "middle")
        )
    if diagonal:
        chart.shapes.append(_line(frame.x(0), frame.y(0), frame.x(1), frame.y(1), "diag"))
        chart.legend.append(("perfect calibration", "diag"))
    for k, (name, pts) in enumerate(named):
        line = " ".join(f"{_n(frame.x(x))},{_n(frame.y(y))}" for x, y in pts)
        chart.shapes.append(Shape("polyline", {"points": line, "class": f"line s{k}"}))
        for x, y in pts if len(pts) <= 30 else []:
            chart.shapes.append(
                Shape(
                    "circle",
                    {"cx": _n(frame.x(x)), "cy": _n(frame.y(y)), "r": "3", "class": f"dot s{k}"},
                    tip=f"{fmt_value(name)}: ({fmt_number(x)}, {fmt_number(y)})",
                )
            )
        chart.legend.append((_short(name, 30), f"s{k}"))
    names = ", ".join(f"{fmt_value(n)} ({len(p)} points)" for n, p in named)
    chart.desc = f"Curves: {names}." + (" The diagonal marks a perfect fit." if diagonal else "")
    chart.note = _left_out(every, "curve")
    return chart


def _heat_cell(
    frame: Frame, r: int, c: int, v: Any, lo: float, hi: float, labels: tuple[str, str], cw: float
) -> list[Shape]:
    x, y = frame.left + c * cw, frame.top + r * 22
    tip = f"{labels[0]} × {labels[1]}: {fmt_value(v)}"
    if not (isinstance(v, int | float) and math.isfinite(v)):
        return [_rect(x, y, cw - 2, 20, "na", tip)]
    level = 0.12 + 0.88 * ((v - lo) / (hi - lo) if hi > lo else 0.0)  # one value: lightest
    shapes = [_rect(x, y, cw - 2, 20, "heat", tip, **{"fill-opacity": f"{level:.2f}"})]
    if cw >= 34:
        cls = "heat-hi" if level > 0.55 else "heat-lo"
        shapes.append(_text(x + cw / 2 - 1, y + 14, fmt_number(v), cls, "middle"))
    return shapes


def heatmap(ev: dict[str, Any]) -> Chart:
    """A grid of values, rows by columns, shaded by value; missing values shown as n/a."""
    rows = [str(r) for r in _seq(ev.get("rows"))][:MAX_HEAT]
    cols = [str(c) for c in _seq(ev.get("cols"))][:MAX_HEAT]
    values = [_seq(v)[: len(cols)] for v in _seq(ev.get("values"))[: len(rows)]]
    flat = _finite([v for row in values for v in row])
    lo, hi = (min(flat), max(flat)) if flat else (0.0, 1.0)
    cw = max(16.0, min(64.0, (WIDTH - 170) / max(len(cols), 1)))
    frame = Frame(150, 96, cw * len(cols), 22 * len(rows))
    chart = Chart(
        "heatmap",
        str(ev.get("title") or "Heat map"),
        "",
        int(frame.left + frame.width + 90),  # room for the last slanted column label
        int(frame.top + frame.height + 12),
    )
    # Slanted 40 degrees, labels of columns narrower than 20 px ran into each other (their
    # lines 10 px apart in 11 px type); steeper, they stay 14 px apart.
    angle = 40 if cw >= 20 else 60
    for c, name in enumerate(cols):
        x, y = frame.left + c * cw + cw / 2, frame.top - 6
        chart.shapes.append(
            Shape(
                "text",
                {
                    "x": _n(x),
                    "y": _n(y),
                    "class": "tick",
                    "transform": f"rotate(-{angle} {_n(x)} {_n(y)})",
                },
                _short(name, 16),
            )
        )
    for r, name in enumerate(rows):
        # 19 characters of 12 px type fit left of the grid; 22 ran past the chart's edge
        chart.shapes.append(
            _text(frame.left - 8, frame.top + r * 22 + 14, _short(name, 19), "lbl", "end")
        )
        for c, v in enumerate(values[r] if r < len(values) else []):
            chart.shapes += _heat_cell(frame, r, c, v, lo, hi, (name, cols[c]), cw)
    unit = str(ev.get("unit") or "")
    why = _short(ev["note"], 300) if isinstance(ev.get("note"), str) and ev["note"] else ""
    notes = [f"Darker is higher ({unit or 'value'}: {fmt_number(lo)} to {fmt_number(hi)})."]
    if not flat:  # that range was made up: no cell has a value to shade
        notes = [] if why else ["No cell has a value: every cell is grey."]
    elif hi == lo:  # no range to shade: "0 to 0" at the darkest read as the largest gaps
        notes = [f"Every cell with a value reads {fmt_number(lo)}: one shade, none higher."]
    if len(_seq(ev.get("rows"))) > MAX_HEAT or len(_seq(ev.get("cols"))) > MAX_HEAT:
        notes.append(f"First {MAX_HEAT} rows and columns shown.")
    chart.note = " ".join([*notes, why] if why else notes)  # why cells have no value
    shading = f"{unit or 'values'} from {fmt_number(lo)} to {fmt_number(hi)}"
    if hi == lo:
        shading = f"every value {fmt_number(lo)}"
    chart.desc = (
        f"Heat map of {len(rows)} rows ({', '.join(rows[:6])}) by {len(cols)} columns "
        f"({', '.join(cols[:6])}); {shading if flat else 'no cell has a value'}."
    )
    return chart


BUILDERS = {
    "histogram": histogram,
    "series": series,
    "bars": bars,
    "curve": curve,
    "heatmap": heatmap,
}
