"""A tiny hand-written result document whose writer outputs the tests spell out in full."""

from __future__ import annotations

from typing import Any


def small_doc() -> dict[str, Any]:
    """Two findings (a cause and its symptom), one ran and one skipped check."""
    return {
        "schema_version": 1,
        "tool": "privdiag",
        "version": "0.1.0",
        "command": "scan",
        "started_at": "2024-03-20T10:00:00+00:00",
        "inputs": [
            {
                "path": "events.csv",
                "format": "generic",
                "rows": 120,
                "sha256": "0" * 64,
                "role": "events",
            }
        ],
        "summary": {"findings": 2, "by_severity": {"high": 1, "medium": 1}},
        "checks": [
            {"name": "consent", "status": "ran", "reason": ""},
            {"name": "model", "status": "skipped", "reason": "no model given"},
        ],
        "findings": [
            {
                "id": "b2",
                "kind": "consent.violation",
                "area": "data",
                "severity": "high",
                "title": "gclid sent | without ads consent",
                "location": {"source": "web", "feature": "gclid"},
                "metrics": {"events": 1500, "users": 80},
                "owner": "paid-media",
                "caused_by": ["a1"],
                "recommendation": "Gate the tag.",
                "evidence": {},
            },
            {
                "id": "a1",
                "kind": "people.unowned",
                "area": "people",
                "severity": "medium",
                "title": "gclid has no owner",
                "location": {"feature": "gclid"},
                "metrics": {"features": 1},
                "owner": None,
                "caused_by": [],
                "recommendation": "Name an owner.",
                "evidence": {},
            },
        ],
        "evidence": {},
    }
