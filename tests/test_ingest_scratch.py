"""The loader drops every staging table and view once ``events`` and ``consent`` are built."""

from __future__ import annotations

import duckdb
import pytest

from privdiag import ingest
from privdiag.config import Config
from tests.helpers import write
from tests.test_decode_tcf import encode, make

EVENTS = """
event_id,ts,event_name,user_id,session_id,gclid
e1,2026-10-01T10:00:00Z,page_view,u1,s1,G1
e2,2026-10-01T10:05:00Z,purchase,u2,s2,
"""

# u1 denies ads, u2 grants it; "Newsletter" maps to no purpose and is left out.
CONSENT = """
user_id,purpose,status,ts,version
u1,ads,denied,2026-10-01T09:00:00Z,v1
u2,ads,granted,2026-10-01T09:00:00Z,v1
u2,Newsletter,granted,2026-10-01T09:00:00Z,v1
"""


def _leftovers(con) -> list[str]:
    """Every table and view of the connection besides the canonical ones and DuckDB's own."""
    rows = con.execute("""
        SELECT table_name FROM duckdb_tables() WHERE NOT internal
        UNION ALL
        SELECT view_name FROM duckdb_views() WHERE NOT internal
        ORDER BY 1
    """).fetchall()
    # unmapped_consent holds only the decisions in categories that map to no purpose, and
    # consent_shared_browsers the browsers several user ids share (privdiag.consent_keys)
    kept = ("events", "consent", "unmapped_consent", "consent_shared_browsers")
    return [r[0] for r in rows if r[0] not in kept]


def test_no_staging_table_remains_after_load_of_events_and_consent_files(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    consent = write(tmp_path / "cmp.csv", CONSENT)
    # a TC string with consent for TCF purposes 1-11, for u3
    strings = write(
        tmp_path / "tc.csv", f"user_id,tc_string,ts\nu3,{encode(make())},2026-10-01T09:00:00Z\n"
    )
    con = duckdb.connect()
    loaded = ingest.load(con, [events], [consent, strings], Config())

    assert _leftovers(con) == []
    # cmp.csv: 3 rows, the Newsletter one in no purpose; TCF purposes 1-11 map to four
    # canonical purposes: one record each from tc.csv's one row
    assert [(i.rows, i.records) for i in loaded.inputs] == [(2, None), (3, 2), (1, 4)]
    got = con.execute(
        "SELECT user_key, purpose, granted FROM consent WHERE purpose = 'ads' ORDER BY 1"
    ).fetchall()
    assert got == [("u1", "ads", False), ("u2", "ads", True), ("u3", "ads", True)]
    assert loaded.unmapped == {"cmp": ["Newsletter"]}


@pytest.mark.parametrize(
    "relative",
    [
        "segment/doc_example_events.json",
        "snowplow/source/snowplow_web_events.csv",
        "ga4/ga4_sample_rows_92days.ndjson",
    ],
)
def test_no_staging_table_remains_after_load_of_each_format(realdata, relative):
    con = duckdb.connect()
    ingest.load(con, [str(realdata / relative)], [], Config())
    assert _leftovers(con) == []
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] > 0


def test_a_consent_time_out_of_range_is_still_refused_after_the_drop(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    consent = write(tmp_path / "cmp.csv", CONSENT.replace("2026-10-01T09", "1970-01-01T09", 1))
    with pytest.raises(Exception, match="consent decision time in year 1970"):
        ingest.load(duckdb.connect(), [events], [consent], Config())


def test_unmapped_categories_are_found_once_from_the_kept_decisions(tmp_path):
    """Two consent logs of one source (both named cmp.csv) each hold a Newsletter decision:
    the category is listed once, with both decisions (u2 and u3) counted by the scan. The
    readers listed it each, so the source listed it twice."""
    from privdiag.scan import run_scan
    from tests.helpers import by_kind, config

    events = write(tmp_path / "web.csv", EVENTS)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write(tmp_path / "a" / "cmp.csv", CONSENT)
    second = write(
        tmp_path / "b" / "cmp.csv",
        "user_id,purpose,status,ts\nu3,Newsletter,denied,2026-10-01T09:00:00Z\n",
    )
    con = duckdb.connect()
    loaded = ingest.load(con, [events], [first, second], Config())
    assert loaded.unmapped == {"cmp": ["Newsletter"]}

    doc = run_scan([events], consent=[first, second], config=config()).to_dict()
    [finding] = by_kind(doc, "consent.unmapped_category")
    assert finding["location"] == {"source": "cmp", "purpose": "Newsletter"}
    assert (finding["metrics"]["decisions"], finding["metrics"]["users"]) == (2, 2)


def test_readers_give_the_sql_of_unmapped_decisions_not_a_list():
    from privdiag.ingest.base import Staged

    assert not hasattr(Staged(format="consent"), "unmapped_categories")
