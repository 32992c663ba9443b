"""Packed bit masks count the same distinct units as count(DISTINCT ...) FILTER, on a table
small enough to check by hand, and across more conditions than one BIGINT holds."""

from __future__ import annotations

from privdiag.checks.bits import MASK_BITS, Masks, distinct_sql
from privdiag.engine import connect

ROWS = """
    SELECT * FROM (VALUES
        ('a', 'u1', 1), ('a', 'u1', 5), ('a', 'u2', 5), ('a', NULL, 7),
        ('b', 'u1', 2), ('b', 's9', NULL)
    ) t(grp, user_key, x)
"""


def test_distinct_users_per_condition_by_hand():
    con = connect()
    sql = distinct_sql("grp", {"big": "x >= 5", "any": "TRUE", "two": "x = 2"}, ROWS)
    rows = con.execute(f"{sql} ORDER BY grp").fetchall()
    # a: big -> u1, u2 (the NULL user is left out); any -> u1, u2; two -> none
    # b: big -> none (NULL x is false); any -> u1, s9; two -> u1
    assert rows == [("a", 2, 2, 0), ("b", 0, 2, 1)]


def test_more_conditions_than_one_mask_holds():
    conditions = {f"c{k}": f"x > {k % 8}" for k in range(MASK_BITS + 5)}
    masks = Masks(conditions)
    assert masks.columns() == ["m0", "m1"]
    con = connect()
    got = con.execute(distinct_sql("grp", conditions, ROWS) + " ORDER BY grp").fetchall()
    want = con.execute(
        "SELECT grp, "
        + ", ".join(
            f"count(DISTINCT user_key) FILTER (WHERE {cond}) AS {name}"
            for name, cond in conditions.items()
        )
        + f" FROM ({ROWS}) GROUP BY grp ORDER BY grp"
    ).fetchall()
    assert got == want
