"""Breaks found by the twentieth hostile session, each with the input that showed it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import config, write

from privdiag.config import FeatureConfig
from privdiag.scan import run_scan


def _scan(tmp_path: Path, events: str, log: str, **thresholds: Any) -> dict[str, Any]:
    """Scan ``events`` (CSV text) with the consent ``log`` (CSV text), gclid needing ads."""
    cfg = config()
    cfg.features["gclid"] = FeatureConfig(purposes=["ads"])
    for key, value in thresholds.items():
        setattr(cfg.thresholds, key, value)
    data = write(tmp_path / "web.csv", events)
    consent = write(tmp_path / "cmp.csv", log)
    return run_scan([data], consent=[consent], config=cfg).to_dict()


def _metrics(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f["metrics"] for f in doc["findings"] if f["kind"] == kind]


def test_a_consent_row_of_an_anonymous_visitor_is_keyed_by_its_anonymous_id(tmp_path):
    """A CMP log with user_id and anonymous_id columns: the rows of visitors not logged in
    (user_id empty) were left out "as they belong to no user", though their events, keyed by
    the same anonymous id, were there: 2 of the 3 users read as having no decision, and
    their gclid sent after denying ads was no violation (1 event found of 3)."""
    doc = _scan(
        tmp_path,
        """
        event_id,ts,event_name,user_id,anonymous_id,gclid
        e1,2026-10-01T10:00:00Z,page_view,,a1,g
        e2,2026-10-01T10:05:00Z,page_view,,a2,g
        e3,2026-10-01T10:06:00Z,page_view,u3,a3,g
        """,
        """user_id,anonymous_id,purpose,status,ts
,a1,ads,denied,2026-10-01T09:59:00Z
undefined,a2,ads,denied,2026-10-01T09:59:00Z
u3,a3,ads,denied,2026-10-01T09:59:00Z
""",
    )
    assert [m["events"] for m in _metrics(doc, "consent.violation")] == [3]
    assert _metrics(doc, "consent.missing_record") == []
    assert doc["inputs"][1]["records"] == 3
    assert not any("without a user id" in n for n in doc["evidence"].get("notes", []))
