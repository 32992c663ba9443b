"""Identity loss (placeholder while being written)."""

from __future__ import annotations

from privdiag.checks.context import ScanContext
from privdiag.findings import Finding
from privdiag.journey import Journey


def check_identity_loss(ctx: ScanContext, journey: Journey) -> list[Finding]:
    return []
