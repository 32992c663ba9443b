"""Hostile round 26: inputs that gave wrong results, each written by hand."""

from __future__ import annotations

import json

from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write


def _segment_pages(tmp_path, date: str) -> str:
    """Three users' page views dated without a time of day, each carrying a gclid (ads)."""
    lines = [
        json.dumps(
            {
                "type": "page",
                "userId": f"u{n}",
                "anonymousId": f"a{n}",
                "messageId": f"m{n}",
                "timestamp": date,
                "context": {"page": {"url": f"https://shop.test/?gclid=g{n}"}},
            }
        )
        for n in range(3)
    ]
    return write(tmp_path / "seg.ndjson", "\n".join(lines) + "\n")


DENIED_AT_NINE = """
user_id,purpose,status,ts
u0,ads,denied,2026-10-01T09:00:00Z
u1,ads,denied,2026-10-01T09:00:00Z
u2,ads,denied,2026-10-01T09:00:00Z
"""


def test_segment_payloads_dated_without_a_time_of_day_are_judged_over_their_day(tmp_path):
    """Segment payloads whose timestamp is a date alone were read as midnight UTC, before
    their users' denial at 09:00 that day: 3 events of 3 users `consent.pre_consent` (high),
    with no note, where a flat file of the same dates is judged neither way."""
    consent = write(tmp_path / "cmp.csv", DENIED_AT_NINE)
    doc = run_scan([_segment_pages(tmp_path, "2026-10-01")], consent=[consent], config=config())
    doc = doc.to_dict()
    assert not by_kind(doc, "consent.pre_consent")
    assert not by_kind(doc, "consent.violation")
    notes = "\n".join(doc["evidence"]["notes"])
    assert "3 time(s) in column 'timestamp' are dates without a time of day" in notes
    assert "3 event(s) dated without a time of day fall on a day" in notes
    # dated the day after the denial, every payload is a violation
    later = run_scan([_segment_pages(tmp_path, "2026-10-03")], consent=[consent], config=config())
    (violation,) = by_kind(later.to_dict(), "consent.violation")
    assert (violation["metrics"]["events"], violation["metrics"]["users"]) == (3, 3)
