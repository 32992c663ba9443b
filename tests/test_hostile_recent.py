"""Hostile inputs aimed at the recent changes (fast presence test, compliance aggregation,
shift units, one ranking, owners in reports, generate / init / consent paths); each test
fails without its fix."""

from __future__ import annotations

from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write


def _shift_events(ids: list[str]) -> str:
    """14 days of 30 user-less page views each; feature f is present the first 7 days only."""
    rows = ["event_id,ts,event_name,user_id,anonymous_id,session_id,f"]
    for day in range(1, 15):
        for k in range(30):
            value = "v" if day <= 7 else ""
            rows.append(f"{ids[(day - 1) * 30 + k]},2026-10-{day:02d}T10:{k:02d}:00Z,pv,,,,{value}")
    return "\n".join(rows) + "\n"


def test_shift_counts_user_less_events_without_an_id_or_with_a_shared_one(tmp_path):
    # Each event without a user is its own unit, whatever its id: a NULL id or an id shared
    # by several distinct events must not shrink the day's weight (it made it 0 or 1/30).
    for name, ids in (("none", [""] * 420), ("shared", [f"d{n // 30}" for n in range(420)])):
        events = write(tmp_path / f"{name}.csv", _shift_events(ids))
        doc = run_scan([events], config=config()).to_dict()
        shifts = by_kind(doc, "sparsity.shift")
        assert [f["location"] for f in shifts] == [{"source": name, "feature": "f"}], name
