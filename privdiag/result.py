"""The result of one command: inputs, checks that ran or were skipped, findings, evidence.

Its JSON form is the contract of DESIGN.md; every writer in ``privdiag.report`` reads the
JSON form, so that ``privdiag report`` can merge earlier results without the data.

Evidence vocabulary (all optional; the report charts whichever a finding carries):

- ``table``: ``{"title", "columns": [str], "rows": [[value, ...]]}``
- ``histogram``: ``{"title", "edges": [float], "counts": [int], "unit"}``
- ``series``: ``{"title", "x": [str], "series": {name: [float | None]}, "marks": [{"x", "label"}]}``
- ``bars``: ``{"title", "labels": [str], "values": [float], "unit"}``
- ``curve``: ``{"title", "points": {name: [[x, y], ...]}, "diagonal": bool}``
- ``heatmap``: ``{"title", "rows": [str], "cols": [str], "values": [[float | None]], "unit"}``
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from privdiag import __version__
from privdiag.findings import Finding, rank, summarize
from privdiag.privacy import redact_id_names, scrub_doc

SCHEMA_VERSION = 1


@dataclass
class InputInfo:
    """One input file: what it was read as and its fingerprint.

    ``rows`` are the rows (records of a JSON file) read from the input's files, except for
    an events input, whose rows are its events (repeated events counted once). ``records``
    are the consent records a consent input gave: one per purpose a row decides, so a row
    granting three purposes gives three (None for other inputs, and not written).
    ``sources`` are an events input's events by the source they are read as (its
    ``[sources.X]`` name, else its file's; one today): an audit weighs a finding's events by
    the growth of its own source's, summed over that source's inputs.
    """

    path: str
    format: str
    rows: int | None  # None when privdiag reads no rows from it (a model, a result JSON)
    sha256: str
    role: str = "events"
    records: int | None = None
    sources: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "sha256": self.sha256,
            "role": self.role,
        }
        if self.records is not None:
            out["records"] = self.records
        if self.sources is not None:
            out["sources"] = self.sources
        return out


@dataclass
class CheckRun:
    """A check, and whether it ran; a skipped check says why in the user's terms."""

    name: str
    status: str  # "ran" or "skipped"
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "reason": self.reason}


@dataclass
class Result:
    """Everything one command found, ready for the writers."""

    command: str
    inputs: list[InputInfo] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    checks: list[CheckRun] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    # the minimum group size the findings and evidence were made with, so that a report at
    # a larger one knows what it cannot hide again (privdiag.report.bounds)
    min_group_size: int | None = None
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def ran(self, name: str) -> None:
        self.checks.append(CheckRun(name, "ran"))

    def skipped(self, name: str, reason: str) -> None:
        self.checks.append(CheckRun(name, "skipped", reason))

    def note(self, *notes: str) -> None:
        """Add notes on the run (``evidence.notes``) in order; none adds no key."""
        if notes:
            self.evidence.setdefault("notes", []).extend(notes)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON document of DESIGN.md, findings ranked."""
        ranked = rank(self.findings)
        doc = {
            "schema_version": SCHEMA_VERSION,
            "tool": "privdiag",
            "version": __version__,
            "command": self.command,
            "started_at": self.started_at,
            "inputs": [i.to_dict() for i in self.inputs],
            "summary": summarize(ranked),
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in ranked],
            "evidence": self.evidence,
        }
        if self.min_group_size is not None:
            doc["min_group_size"] = self.min_group_size
        return scrub_doc(redact_id_names(doc))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
