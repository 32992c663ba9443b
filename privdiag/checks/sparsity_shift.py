"""Shift (placeholder while being written)."""

from __future__ import annotations

from typing import Any

from privdiag.checks.context import ScanContext
from privdiag.findings import Finding


def days_covered(con: Any) -> int:
    return int(con.execute("SELECT count(DISTINCT ts::DATE) FROM events").fetchone()[0])


def check_shift(ctx: ScanContext) -> list[Finding]:
    return []
