"""Funnel (placeholder while being written)."""

from __future__ import annotations

from privdiag.checks.context import ScanContext
from privdiag.findings import Finding
from privdiag.journey import Journey


def check_consent_drop(ctx: ScanContext, journey: Journey, losses: list[Finding]) -> list[Finding]:
    return []
