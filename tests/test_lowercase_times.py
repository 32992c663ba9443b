"""ISO times written with a lower-case t or z, which RFC 3339 allows, are read as the
upper-case ones (hostile round 25's (6): they were an input error naming the row)."""

from __future__ import annotations

from privdiag.scan import run_scan
from tests.helpers import by_kind, config, consent_states, write

EVENTS = """
    ts,event_name,user_id,gclid
    2026-10-01t10:00:00z,page_view,u1,G1
    2026-10-01t12:00:00+02:00,page_view,u2,G2
    2026-10-01 11:00:00z,page_view,u3,G3
"""
CONSENT = """
    user_id,purpose,status,ts
    u1,ads,denied,2026-10-01t09:00:00z
    u2,ads,denied,2026-10-01t09:00:00Z
    u3,ads,granted,2026-10-01t09:00:00z
"""


def test_lower_case_t_and_z_are_read_as_upper_case(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    consent = write(tmp_path / "consent.csv", CONSENT)
    # u2's 12:00+02:00 is 10:00 UTC; every event comes after its user's 09:00 decision
    assert consent_states([events], [consent], "ads") == [
        ("u1", "denied"),
        ("u2", "denied"),
        ("u3", "granted"),
    ]
    doc = run_scan([events], consent=[consent], config=config()).to_dict()
    (violation,) = by_kind(doc, "consent.violation")
    assert violation["metrics"]["events"] == 2
    assert not any("offset" in n for n in doc["evidence"].get("notes", []))


def test_a_lower_case_t_without_an_offset_is_noted_as_one(tmp_path):
    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id
        2026-10-01t10:00:00,page_view,u1
        """,
    )
    doc = run_scan([events], config=config()).to_dict()
    assert any("offset" in n for n in doc["evidence"]["notes"]), doc["evidence"]["notes"]
