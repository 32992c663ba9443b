"""Privacy review 28: figures of few users that other rounds left, at ``min_group_size`` 5."""

from __future__ import annotations

import json

from privdiag.scan import run_scan
from tests.helpers import config


def _segment_lacking(tmp_path, lacking: int) -> str:
    """Twelve Segment users, two payloads each, whose categoryPreferences name Advertising,
    Analytics and Functional, but for the first ``lacking`` users', which leave Functional
    out: Segment reads their functional as denied."""
    lines = []
    for u in range(12):
        cats = {"Advertising": u % 2 == 0, "Analytics": True, "Functional": True}
        if u < lacking:
            del cats["Functional"]
        for n in range(2):
            payload = {
                "type": "track",
                "event": "Product Viewed",
                "userId": f"u{u}",
                "anonymousId": f"a{u}",
                "messageId": f"m{u}_{n}",
                "timestamp": f"2026-10-01T1{n}:00:00Z",
                "context": {"consent": {"categoryPreferences": cats}},
                "properties": {"value": 1},
            }
            lines.append(json.dumps(payload))
    path = tmp_path / "seg.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _absent_note(doc: dict) -> str:
    (note,) = [n for n in doc["evidence"]["notes"] if "without a category of functional" in n]
    return note


def test_the_note_on_payloads_without_a_category_does_not_count_few_users(tmp_path):
    """One user of twelve left Functional out of both their payloads: the functional rate,
    of one denier, is hidden, but the note said "2 payload(s) ... read as functional denied",
    which bounds the hidden deniers by 2 (one payload would say one person denied it). The
    payloads of fewer than 5 users are now "Some payloads"; five users' ten are counted."""
    doc = run_scan([_segment_lacking(tmp_path, 1)], config=config(min_group_size=5)).to_dict()
    assert "functional" not in doc["evidence"]["consent_rates"]
    note = _absent_note(doc)
    assert "Some payloads (of fewer than 5 users) carry" in note
    assert "2 payload" not in note
    doc = run_scan([_segment_lacking(tmp_path, 5)], config=config(min_group_size=5)).to_dict()
    assert "seg.ndjson: 10 payload(s) carry" in _absent_note(doc)


def test_a_report_at_a_larger_k_does_not_count_the_payloads_without_a_category(tmp_path):
    """A result made at min_group_size 1 counts one user's two payloads; `privdiag report` at
    5 now drops the count, as it does for the note on undetermined events."""
    from privdiag.report.group_size import drop_small_group_evidence

    doc = run_scan([_segment_lacking(tmp_path, 1)], config=config(min_group_size=1)).to_dict()
    said = _absent_note(doc)
    assert "seg.ndjson: 2 payload(s) carry" in said
    drop_small_group_evidence([doc], 5)
    assert _absent_note(doc) == said.replace("2 payload(s)", "Some payloads")
