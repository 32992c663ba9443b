"""People checks that a scan can run from the data and the config alone.

Unowned sources and features, and features that nobody classified (no purpose mapping).
"""

from __future__ import annotations

from privdiag.checks.context import ScanContext
from privdiag.findings import Finding
from privdiag.mapping import owner_for


def check_unclassified(ctx: ScanContext) -> list[Finding]:
    """Return a finding per feature in the data with no purpose mapping."""
    findings = []
    for feature in sorted(set(ctx.features) - set(ctx.mapping)):
        findings.append(
            Finding(
                "people.unclassified_feature",
                "low",
                f"Nobody decided which consent {feature} needs",
                {"feature": feature},
                {},
                f"Add [features.{feature}] purposes = [...] to privdiag.toml (use [] for a "
                "feature that needs no consent) so that its collection can be checked.",
                owner_for(ctx.config, feature=feature, prefer="feature"),
            )
        )
    return findings


def check_unowned(ctx: ScanContext, sources: list[str]) -> list[Finding]:
    """Return a finding per source, and per classified feature, that has no owner."""
    findings = []
    for source in sorted(sources):
        if owner_for(ctx.config, source=source) is None:
            findings.append(
                Finding(
                    "people.unowned",
                    "low",
                    f"Source {source} has no owner",
                    {"source": source},
                    {},
                    f'Name the team that runs this pipeline: [sources.{source}] owner = "team".',
                )
            )
    for feature in sorted(ctx.mapping):
        if (
            feature in ctx.config.features
            and owner_for(ctx.config, feature=feature, prefer="feature") is None
        ):
            findings.append(
                Finding(
                    "people.unowned",
                    "info",
                    f"Feature {feature} has no owner",
                    {"feature": feature},
                    {},
                    f'Name the team that collects it: [features.{feature}] owner = "team".',
                )
            )
    return findings
