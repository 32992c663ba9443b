"""What changed since a compared run: each finding new, unchanged, worse or better; resolved.

A finding is the same problem in both runs when its stable id is the same. It is
``worse`` when its severity rose, or its key measure (events, else users, else share)
grew by more than ``TOLERANCE``; ``better`` for the mirror image; else ``unchanged``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privdiag.findings import SEVERITIES, severity_rank

CHANGES: tuple[str, ...] = ("new", "unchanged", "worse", "better")
KEY_METRICS: tuple[str, ...] = ("events", "users", "share")
TOLERANCE = 0.10


@dataclass
class Diff:
    """The change of every current finding by id, and the compared run's resolved findings."""

    changes: dict[str, str] = field(default_factory=dict)
    resolved: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Return how many findings are new, unchanged, worse, better and resolved."""
        out = {c: 0 for c in CHANGES}
        for change in self.changes.values():
            out[change] += 1
        out["resolved"] = len(self.resolved)
        return out


def key_metric(metrics: dict[str, Any]) -> tuple[str, float] | None:
    """Return the first of events, users, share that ``metrics`` holds as a number."""
    for name in KEY_METRICS:
        value = metrics.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
            return name, float(value)
    return None


def compare(current: dict[str, Any], before: dict[str, Any]) -> str:
    """Return worse, better or unchanged for the same finding in two runs."""
    now, then = severity_rank(current["severity"]), _rank(before.get("severity"))
    if now != then:
        return "worse" if now < then else "better"
    a, b = key_metric(current.get("metrics") or {}), key_metric(before.get("metrics") or {})
    if a is None or b is None or a[0] != b[0]:
        return "unchanged"
    if b[1] == 0:
        return "worse" if a[1] > 0 else "unchanged"
    ratio = a[1] / b[1]
    if ratio > 1 + TOLERANCE:
        return "worse"
    if ratio < 1 - TOLERANCE:
        return "better"
    return "unchanged"


def _rank(severity: str | None) -> int:
    return severity_rank(severity) if severity in SEVERITIES else len(SEVERITIES)


def diff(current: list[dict[str, Any]], compared: list[dict[str, Any]] | None) -> Diff:
    """Return the changes of ``current`` against ``compared`` (None: nothing to compare with).

    Both are findings in their JSON form; with nothing to compare with, every finding is new.
    """
    before = {f["id"]: f for f in compared or []}
    now_ids = {f["id"] for f in current}
    result = Diff()
    for finding in current:
        old = before.get(finding["id"])
        result.changes[finding["id"]] = "new" if old is None else compare(finding, old)
    result.resolved = [_resolved(f) for fid, f in before.items() if fid not in now_ids]
    return result


def _resolved(finding: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in finding.items() if k != "change"}
    out["change"] = "resolved"
    return out


def chosen(findings: list[dict[str, Any]], fail_when: str) -> list[dict[str, Any]]:
    """Return the findings that --fail-when lets count: all, only new, or new and worse."""
    if fail_when == "all":
        return list(findings)
    allowed = {"new"} if fail_when == "new" else {"new", "worse"}
    return [f for f in findings if f.get("change") in allowed]
