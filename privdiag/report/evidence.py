"""A finding's evidence as the HTML report shows it: its charts, and its tables capped in rows
with small groups of users hidden."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from privdiag.report import charts
from privdiag.report.text import fmt_value, is_share, is_users, suppressed

MAX_TABLE_ROWS = 50


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
    users_cols = [i for i, c in enumerate(columns) if is_users(c)]
    share_cols = {i for i, c in enumerate(columns) if is_share(c)}
    rows = [r for r in listed(ev.get("rows")) if isinstance(r, list | tuple)]
    shown, n_suppressed = [], 0
    for row in rows[:MAX_TABLE_ROWS]:
        small = any(i < len(row) and suppressed(row[i], min_group_size) for i in users_cols)
        n_suppressed += small
        shown.append(
            [
                _cell(v, i in users_cols, small, min_group_size, i in share_cols)
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


def _cell(value: Any, users_col: bool, small_row: bool, k: int, share_col: bool = False) -> str:
    if small_row and users_col:
        return f"<{k}"
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if small_row and number:
        return "–"
    if share_col and number and -1.5 <= value <= 1.5:  # a share of 1 may be written as 1
        return f"{value * 100:.1f}%"
    return fmt_value(value)


def evidence_views(evidence: Any, k: int) -> tuple[list[charts.Chart], list[TableView]]:
    """Return the charts and tables of an evidence dict; a key may hold one block or a list."""
    chart_list: list[charts.Chart] = []
    tables: list[TableView] = []
    for key, value in (evidence or {}).items() if isinstance(evidence, dict) else []:
        for block in value if isinstance(value, list) else [value]:
            if not isinstance(block, dict):
                continue
            if key == "table":
                tables.append(table_view(block, k))
            elif (kind := chart_kind(key)) in charts.BUILDERS:
                chart_list.append(charts.BUILDERS[kind](block))
    return chart_list, tables


def chart_kind(key: str) -> str:
    """The chart an evidence key holds: the key itself (``heatmap``), or for a list named after
    what it holds, its last word in the singular (``consent_gap_heatmaps`` -> ``heatmap``)."""
    if key in charts.BUILDERS:
        return key
    last = key.rsplit("_", 1)[-1]
    return last if last in charts.BUILDERS else last.removesuffix("s")
