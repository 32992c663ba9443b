"""Placeholder ids ("undefined", "null", ...) are read as no id, not as one shared user."""

from __future__ import annotations

import duckdb

from privdiag.config import FeatureConfig
from privdiag.engine import connect
from privdiag.ingest import load
from privdiag.ingest.placeholders import placeholder_sql
from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write

EVENTS = """event_id,ts,event_name,user_id,anonymous_id,session_id,gclid
e1,2026-10-01T10:00:00Z,page_view,undefined,a1,s1,g1
e2,2026-10-01T10:00:00Z,page_view,NULL,a2,s2,g2
e3,2026-10-01T10:00:00Z,page_view, Undefined ,undefined,(not set),g3
e4,2026-10-01T10:00:00Z,page_view,u4,a4,s4,g4
e5,2026-10-01T10:00:00Z,page_view,u0,nullable,s5,g5
"""
# The placeholder user's grant would have applied to e1 and e3; a1 and u4 denied ads.
CONSENT = """user_id,purpose,status,ts
undefined,ads,granted,2026-10-01T09:00:00Z
a1,ads,denied,2026-10-01T09:00:00Z
u4,ads,denied,2026-10-01T09:00:00Z
"""


def _inputs(tmp_path):
    return write(tmp_path / "events.csv", EVENTS), write(tmp_path / "consent.csv", CONSENT)


def test_placeholders_become_no_id_and_fall_back_to_the_anonymous_id(tmp_path):
    events, consent = _inputs(tmp_path)
    con = connect(config().engine)
    loaded = load(con, [events], [consent], config())
    rows = con.execute(
        "SELECT event_id, user_key, anon_key, session_key, cookieless FROM events ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("e1", "a1", "a1", "s1", False),
        ("e2", "a2", "a2", "s2", False),
        ("e3", None, None, None, True),
        ("e4", "u4", "a4", "s4", False),
        ("e5", "u0", "nullable", "s5", False),  # "nullable" is not a placeholder
    ]
    assert con.execute("SELECT user_key FROM consent ORDER BY 1").fetchall() == [("a1",), ("u4",)]
    assert any("'(not set)', 'null', 'undefined'" in n and n.endswith(": 3") for n in loaded.notes)
    assert any("consent records dropped" in n and n.endswith(": 1") for n in loaded.notes)


def test_a_placeholder_user_does_not_lend_its_consent(tmp_path):
    events, consent = _inputs(tmp_path)
    cfg = config(min_group_size=1)
    cfg.features = {"gclid": FeatureConfig(purposes=["ads"])}
    doc = run_scan([events], consent=[consent], config=cfg).to_dict()
    violations = by_kind(doc, "consent.violation")
    # e1 (a1, denied) and e4 (u4, denied); e1 was "granted" as user "undefined" before
    assert [f["metrics"]["events"] for f in violations] == [2]
    assert "undefined" not in str(doc["findings"])


def test_placeholder_sql_by_hand():
    con = duckdb.connect()
    values = [None, "", "null", "NULL", "Undefined", "(Not Set)", "-", "0", "nullx", "a" * 40]
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    got = [r[0] for r in con.execute(f"SELECT {placeholder_sql('v')} FROM t ORDER BY i").fetchall()]
    assert got == [False, False, True, True, True, True, True, False, False, False]
