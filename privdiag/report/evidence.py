"""A finding's evidence as the HTML report shows it: its charts, and its tables capped in rows
with small groups of users hidden."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from privdiag.findings import measure_name
from privdiag.report import charts
from privdiag.report.text import (
    as_percent,
    fmt_value,
    is_share,
    is_users,
    metric_label,
    suppressed,
    which_way,
)

MAX_TABLE_ROWS = 50
#: The columns of a model check's table of measures under a scenario (JSON): ``worse_by`` is
#: positive when the scenario is worse, so a negative one (better) reads as a double negative;
#: the report shows the signed change and says which way it went instead (:func:`quality_view`).
QUALITY_COLUMNS = ("measure", "unmasked", "scenario", "worse_by", "worse_by_low", "worse_by_high")
QUALITY_SHOWN = [
    "measure",
    "unmasked",
    "scenario",
    "change",
    "95% interval of the change",
    "the model is",
]


#: Columns of model-check's drift and category-share tables that are None only when their
#: share would tell of 1 to min_group_size - 1 rows (:func:`privdiag.model.drift.small_side`).
HIDDEN_WHEN_NONE = frozenset(
    {"missing_reference", "missing_current", "share_reference", "share_current"}
)


@dataclass
class TableView:
    title: str
    columns: list[str]
    rows: list[list[str]]
    hidden: int = 0
    suppressed: int = 0


def listed(value: Any) -> list[Any]:
    """Return a list or tuple as a list; anything else (a bool, a number, None) as []."""
    return list(value) if isinstance(value, list | tuple) else []


def table_view(ev: dict[str, Any], min_group_size: int) -> TableView:
    """Return a table capped at ``MAX_TABLE_ROWS``; rows of fewer than ``min_group_size`` users
    show ``<k`` for the users and ``–`` for their other counts."""
    columns = [str(c) for c in listed(ev.get("columns"))]
    if all(c in columns for c in QUALITY_COLUMNS):
        return quality_view(ev, columns)
    users_cols = [i for i, c in enumerate(columns) if is_users(c)]
    share_cols = {i for i, c in enumerate(columns) if is_share(c)}
    hideable = {i for i, c in enumerate(columns) if c in HIDDEN_WHEN_NONE}
    if "ks_p" in columns:  # a drift table's keys, in the words its finding's metrics read
        share_cols |= {columns.index("masked")} if "masked" in columns else set()
        columns = [metric_label(c) for c in columns]
    rows = [r for r in listed(ev.get("rows")) if isinstance(r, list | tuple)]
    shown, n_suppressed = [], 0
    for row in rows[:MAX_TABLE_ROWS]:
        small = any(i < len(row) and suppressed(row[i], min_group_size) for i in users_cols)
        n_suppressed += small
        shown.append(
            [
                "hidden"
                if v is None and i in hideable
                else _cell(v, i in users_cols, small, min_group_size, i in share_cols)
                for i, v in enumerate(row)
            ]
        )
    return TableView(
        str(ev.get("title") or "Table"),
        columns,
        shown,
        max(0, len(rows) - MAX_TABLE_ROWS),
        n_suppressed,
    )


def quality_view(ev: dict[str, Any], columns: list[str]) -> TableView:
    """Return a model's measures under a scenario (columns :data:`QUALITY_COLUMNS` and
    ``better``) as :data:`QUALITY_SHOWN`: each measure by name with the way it is better, its
    signed change (scenario less unmasked) and that change's interval, and whether the model
    is worse or better (:func:`~privdiag.report.text.which_way`)."""
    at = {c: columns.index(c) for c in (*QUALITY_COLUMNS, "better") if c in columns}
    rows = [r for r in listed(ev.get("rows")) if isinstance(r, list | tuple)]
    shown = []
    for row in rows[:MAX_TABLE_ROWS]:
        cell = {c: row[i] if i < len(row) else None for c, i in at.items()}
        better = cell.get("better") if cell.get("better") in ("higher", "lower") else None
        name = fmt_value(measure_name(str(cell["measure"])))
        values = [_measured(cell, side) for side in ("unmasked", "scenario")]
        shown.append(
            [
                f"{name} ({better} is better)" if better else name,
                *values,
                _signed(_change(cell["worse_by"], better)),
                _interval(cell["worse_by_low"], cell["worse_by_high"], better),
                ALL_NEGATIVE
                if values[1] == NO_POSITIVE != values[0]
                else which_way(cell["worse_by"], cell["worse_by_low"], cell["worse_by_high"]),
            ]
        )
    title = str(ev.get("title") or "Table")
    return TableView(title, list(QUALITY_SHOWN), shown, max(0, len(rows) - MAX_TABLE_ROWS))


#: A precision without a value: no row scored as class 1, so no share of them is right. Under
#: a scenario that is the model predicting class 0 for everyone, which "–" hid.
NO_POSITIVE = "none: no row predicted 1"
ALL_NEGATIVE = "worse: it predicts 0 on every row"


def _measured(cell: dict[str, Any], side: str) -> str:
    """A measure's value on ``side`` (unmasked or scenario), or :data:`NO_POSITIVE` for a
    precision without one: ``None`` as a result file holds it, NaN as model-check's own
    report gets it before the JSON writer turns it into ``null``."""
    value = cell[side]
    if (value is None or value != value) and cell["measure"] == "precision":
        return NO_POSITIVE
    return fmt_value(value)


def _change(worse_by: Any, better: str | None) -> float | None:
    """The signed change (scenario less unmasked) that ``worse_by`` is for a measure better
    ``better``; None when either is unknown."""
    if not isinstance(worse_by, int | float) or isinstance(worse_by, bool) or not better:
        return None
    return -worse_by if better == "higher" else worse_by


def _signed(value: float | None) -> str:
    """A change with its sign (``+0.0282``, ``-0.225``), ``–`` when unknown."""
    if value is None or value != value:  # None or NaN
        return "–"
    return "0" if value == 0 else ("+" if value > 0 else "-") + fmt_value(abs(value))


def _interval(low: Any, high: Any, better: str | None) -> str:
    """The interval of the change from that of ``worse_by`` (``low`` to ``high``): turned
    round for a measure better higher, whose change is the opposite of how much worse."""
    ends = [_change(low, better), _change(high, better)]
    if any(e is None or e != e for e in ends):
        return "–"
    first, last = sorted(e for e in ends if e is not None)
    return f"{_signed(first)} to {_signed(last)}"


def _cell(value: Any, users_col: bool, small_row: bool, k: int, share_col: bool = False) -> str:
    if isinstance(value, bool):  # a drift table's "drifted": words, as its metric reads
        return "yes" if value else "no"
    if small_row and users_col:
        return f"<{k}"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if small_row and number:
        return "–"
    if share_col and number and (percent := as_percent(value)):  # a share of 1 may be an int
        return percent
    return fmt_value(value)


def evidence_views(
    evidence: Any, k: int, named: dict[str, str] | None = None
) -> tuple[list[charts.Chart], list[TableView]]:
    """Return the charts and tables of an evidence dict; a key may hold one block or a list.
    ``named`` gives the chart (or ``table``) of keys whose name does not tell it."""
    chart_list: list[charts.Chart] = []
    tables: list[TableView] = []
    for key, value in (evidence or {}).items() if isinstance(evidence, dict) else []:
        kind = (named or {}).get(key) or ("table" if key == "table" else chart_kind(key))
        for block in value if isinstance(value, list) else [value]:
            if not isinstance(block, dict):
                continue
            if kind == "table":
                tables.append(table_view(block, k))
            elif kind in charts.BUILDERS:
                chart_list.append(charts.BUILDERS[kind](block))
    return chart_list, tables


def chart_kind(key: str) -> str:
    """The chart an evidence key holds: the key itself (``heatmap``), or for a list named after
    what it holds, its last word in the singular (``consent_gap_heatmaps`` -> ``heatmap``)."""
    if key in charts.BUILDERS:
        return key
    last = key.rsplit("_", 1)[-1]
    return last if last in charts.BUILDERS else last.removesuffix("s")
