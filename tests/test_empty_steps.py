"""`[journey] steps = []` is read as no steps given, with a note saying so (hostile round
25's (4): the journey was inferred in silence)."""

from __future__ import annotations

from pathlib import Path

from privdiag.config import load_config
from privdiag.scan import run_scan
from tests.helpers import write

EVENTS = """
    ts,event_name,user_id
    2026-10-01T10:00:00Z,view_item,u1
    2026-10-01T10:01:00Z,add_to_cart,u1
    2026-10-01T10:02:00Z,purchase,u1
"""


def _notes(tmp_path: Path, toml: str) -> tuple[list[str], dict]:
    events = write(tmp_path / "web.csv", EVENTS)
    cfg = Path(write(tmp_path / "privdiag.toml", toml))
    doc = run_scan([events], config=load_config(cfg)).to_dict()
    return doc["evidence"].get("notes", []), doc["evidence"]["journey"]


def test_an_empty_steps_list_is_noted(tmp_path):
    notes, journey = _notes(tmp_path, "[journey]\nsteps = []\n")
    assert journey == {"steps": ["view_item", "add_to_cart", "purchase"], "origin": "ecommerce"}
    assert (
        "[journey] steps is an empty list, read as no steps given: the journey was inferred "
        "from the e-commerce event names; list the journey's event names there, or remove the "
        "key"
    ) in notes


def test_steps_left_out_are_inferred_without_the_note(tmp_path):
    notes, journey = _notes(tmp_path, "[thresholds]\nmin_group_size = 1\n")
    assert journey["origin"] == "ecommerce"
    assert not any("empty list" in n for n in notes)
