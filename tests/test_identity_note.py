"""A flat export with no recognisable id column says so, naming the config key to map it."""

from __future__ import annotations

from privdiag.scan import run_scan
from tests.helpers import config, write


def test_no_id_column_is_said_with_the_mapping_to_fix_it(tmp_path):
    events = write(
        tmp_path / "shop.csv",
        "event_id,ts,event_name,customer,gclid\n"
        "e1,2026-10-01T10:00:00Z,page_view,c1,g1\n"
        "e2,2026-10-01T10:01:00Z,purchase,c1,g1\n",
    )
    doc = run_scan([events], config=config()).to_dict()
    notes = [n for n in doc["evidence"].get("notes", []) if "no user or anonymous id" in n]
    assert len(notes) == 1
    assert '[sources.shop.columns] user_id = "<column>"' in notes[0]
    assert "c1" not in str(doc)  # the unmapped id column is a feature; no value reaches output


def test_an_id_column_found_gives_no_note(tmp_path):
    events = write(
        tmp_path / "shop.csv",
        "event_id,ts,event_name,customer_id\ne1,2026-10-01T10:00:00Z,page_view,c1\n",
    )
    doc = run_scan([events], config=config()).to_dict()
    assert not any("no user or anonymous id" in n for n in doc["evidence"].get("notes", []))
