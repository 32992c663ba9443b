"""model-check's drift table publishes no missing share, nor a category's pooled share, that
tells of 1 to min_group_size - 1 rows of the blind set (privacy review 25's (5))."""

from __future__ import annotations

import polars as pl

from privdiag.model.drift import frame_drift, series_drift
from privdiag.model.verdicts import drift_table


def _tenure(missing: int, rows: int = 200) -> pl.Series:
    return pl.Series(
        "tenure_days", [None] * missing + [float(i % 50) for i in range(rows - missing)]
    )


def test_two_of_two_hundred_rows_without_a_value_are_not_told():
    # 2 of 200 reference rows lack tenure_days (0.01), 80 of 200 current rows (0.4)
    row = series_drift(_tenure(2), _tenure(80), alpha=0.01, min_gap=0.1, min_n=5)
    shown = row.to_dict()
    assert shown["missing_reference"] is None
    assert shown["missing_current"] == 0.4
    # the test and the verdict still read the hidden share
    assert row.drifted and row.reason.startswith("missing share hidden -> 40%")
    table = drift_table([row], "t")
    at = table["columns"].index("missing_reference")
    assert table["rows"][0][at] is None


def test_a_share_of_none_or_of_many_rows_is_shown():
    row = series_drift(_tenure(0), _tenure(5), alpha=0.01, min_gap=0.1, min_n=5)
    assert row.to_dict()["missing_reference"] == 0.0 and row.to_dict()["missing_current"] == 0.025
    # 198 of 200 missing: the 2 rows holding a value are told by the share too
    row = series_drift(_tenure(198), _tenure(100), alpha=0.01, min_gap=0.1, min_n=5)
    assert row.to_dict()["missing_reference"] is None and row.to_dict()["missing_current"] == 0.5


def test_a_category_tables_missing_row_of_three_rows_is_hidden():
    ref = pl.Series("channel", ["web"] * 100 + ["app"] * 97 + [None] * 3)
    cur = pl.Series("channel", ["web"] * 100 + ["app"] * 50 + [None] * 50)
    (row,) = frame_drift(
        pl.DataFrame([ref]), pl.DataFrame([cur]), ["channel"], alpha=0.01, min_gap=0.1, min_n=5
    )
    assert row.shares is not None
    rows = {r[0]: r[1:] for r in row.shares["rows"]}
    assert rows["(missing)"] == [None, 0.25]
    # app's 0.485 beside web's 0.5 told the 3 missing rows by their sum (hostile round 26)
    assert rows["web"] == [0.5, 0.5] and rows["app"] == [None, 0.25]


def test_the_report_reads_a_hidden_share_as_hidden():
    from privdiag.report.evidence import table_view

    row = series_drift(_tenure(2), _tenure(80), alpha=0.01, min_gap=0.1, min_n=5)
    view = table_view(drift_table([row], "t"), 5)
    cells = dict(zip(view.columns, view.rows[0], strict=True))
    assert cells["missing share, reference"] == "hidden"
    assert cells["missing share, current"] == "40.0%"
