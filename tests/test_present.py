"""A feature value's presence test: the fast SQL equals ``nullif(trim(v), '') IS NOT NULL``."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from privdiag.checks.context import present_sql, text_present_sql

# DuckDB's trim() removes the space and the Unicode space separators (no-break space, the
# ideographic space, ...) but not a tab or a newline, so a tab alone counts as a value.
BLANKS = " \u00a0\u1680\u2000\u200a\u202f\u205f\u3000"
texts = st.one_of(st.none(), st.text(alphabet=BLANKS + "\t\n\x7f\x9f\xa1ab", max_size=6))


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=20))
def test_fast_presence_equals_trim(values):
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    got = con.execute(
        f"SELECT {text_present_sql('v')}, nullif(trim(v), '') IS NOT NULL FROM t ORDER BY i"
    ).fetchall()
    assert [fast for fast, _ in got] == [slow for _, slow in got]


def test_presence_by_hand():
    con = duckdb.connect()
    rows = [None, "", " ", "   ", " a", "a ", "a", "\t", "\u00a0", "\u3000x"]
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(rows)))
    got = [
        r[0]
        for r in con.execute(f"SELECT {present_sql('v', 'VARCHAR')} FROM t ORDER BY i").fetchall()
    ]
    assert got == [False, False, False, False, True, True, True, True, False, True]


def test_presence_of_lists_and_maps_is_never_null():
    """A NULL list or map gave NULL, not FALSE: ``NOT present`` (a missing value) was NULL too,
    and the consent-gap check, which counts missing values, counted NULL lists and maps as
    present until the scan began to carry presence (TRUE or NULL) instead of the values."""
    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        (0, [1], MAP {'k': 1}), (1, [], MAP {}), (2, NULL, NULL)) AS t(i, l, m)""")
    listed, mapped = present_sql("l", "INTEGER[]"), present_sql("m", "MAP(VARCHAR, INTEGER)")
    got = con.execute(f"SELECT NOT {listed}, NOT {mapped} FROM t ORDER BY i").fetchall()
    assert got == [(False, False), (True, True), (True, True)]
