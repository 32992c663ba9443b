"""A file whose name holds glob characters (``*``, ``?``, ``[``) is read itself, never another
file its name would match as a pattern (DuckDB's readers take each name as a glob)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privdiag.engine import connect
from privdiag.ingest.files import path_literal
from privdiag.scan import run_scan
from tests.helpers import config, write


def _segment(path: Path, ids: list[str]) -> None:
    rows = [
        {
            "type": "track",
            "event": "Order Completed",
            "messageId": m,
            "userId": f"user-{m}",
            "timestamp": "2026-03-01T10:00:00Z",
        }
        for m in ids
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.mark.parametrize("name", ["a[1].csv", "st*r.csv", "q?.csv"])
def test_path_literal_reads_exactly_that_file(tmp_path, name):
    write(tmp_path / name, "x\n1\n2\n")
    write(tmp_path / "a1.csv", "x\n7\n")  # what "a[1].csv" matches as a glob
    write(tmp_path / "stXr.csv", "x\n7\n")
    write(tmp_path / "qq.csv", "x\n7\n")
    con = connect()
    rows = con.execute(f"SELECT x FROM read_csv({path_literal(tmp_path / name)})").fetchall()
    assert rows == [(1,), (2,)]


def test_path_literal_quotes_and_leaves_other_characters():
    assert path_literal("it's {a}\\b].csv") == "'it''s {a}\\b].csv'"
    assert path_literal("a[1]*?.csv") == "'a[[]1][*][?].csv'"


def test_a_segment_file_named_like_a_glob_is_read_itself(tmp_path):
    """s[1].ndjson holds 2 events, s1.ndjson (what s[1] matches as a glob) 1: the Segment
    reader read s1.ndjson's event for s[1].ndjson."""
    _segment(tmp_path / "s[1].ndjson", ["m-1", "m-2"])
    _segment(tmp_path / "s1.ndjson", ["m-9"])
    doc = run_scan([str(tmp_path / "s[1].ndjson")], config=config()).to_dict()
    [info] = doc["inputs"]
    assert (info["format"], info["rows"]) == ("segment", 2)


def test_a_generic_file_named_like_a_glob_is_read_itself(tmp_path):
    header = "event_id,ts,event_name,user_id\n"
    two = "e1,2026-10-01T10:00:00Z,view,u1\ne2,2026-10-01T10:01:00Z,view,u2\n"
    write(tmp_path / "a[1].csv", header + two)
    write(tmp_path / "a1.csv", header + "z9,2026-10-01T10:00:00Z,buy,u9\n")
    doc = run_scan([str(tmp_path / "a[1].csv")], config=config()).to_dict()
    assert doc["inputs"][0]["rows"] == 2  # a1.csv's 1 row was read for it
