"""People checks that a scan can run from the data and the config alone.

Unowned sources and features, and features that nobody classified (no purpose mapping).
"""

from __future__ import annotations

from privdiag.checks.context import ScanContext, present_sql
from privdiag.findings import Finding
from privdiag.mapping import feature_spec, owner_for


def _present_by_source(ctx: ScanContext, features: list[str]) -> list[tuple[str, str, int]]:
    """Return (source, feature, events with a value) for features present in each source."""
    if not features:
        return []
    counts = ", ".join(f"count_true({present_sql(f, ctx.features[f])})" for f in features)
    rows = ctx.con.execute(f"SELECT source, {counts} FROM events GROUP BY 1 ORDER BY 1").fetchall()
    return [
        (row[0], f, int(n)) for row in rows for f, n in zip(features, row[1:], strict=True) if n
    ]


def check_unclassified(ctx: ScanContext) -> list[Finding]:
    """Return a finding per (source, feature) present in the data with no purpose mapping."""
    findings = []
    unclassified = sorted(set(ctx.features) - set(ctx.mapping))
    for source, feature, events in _present_by_source(ctx, unclassified):
        findings.append(
            Finding(
                "people.unclassified_feature",
                "low",
                f"Nobody decided which consent {feature} needs",
                {"source": source, "feature": feature},
                {"events": events},
                f"Add [features.{feature}] purposes = [...] to {ctx.config.file_name} (use [] "
                "for a feature that needs no consent) so that its collection can be checked.",
                owner_for(ctx.config, source=source, feature=feature, prefer="feature"),
            )
        )
    return findings


def check_unowned(ctx: ScanContext, sources: list[str]) -> list[Finding]:
    """Return a finding per source, configured feature and configured model without an owner."""
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
            feature_spec(ctx.config, feature) is not None
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
    return findings + _unowned_models(ctx)


def _unowned_models(ctx: ScanContext) -> list[Finding]:
    """A finding per model in the config whose owner nobody wrote down."""
    return [
        Finding(
            "people.unowned",
            "low",
            f"Model {name} has no owner",
            {"model": name},
            {},
            f'Name the team that trains and serves it: [models.{name}] owner = "team".',
        )
        for name in sorted(ctx.config.models)
        if owner_for(ctx.config, model=name, prefer="model") is None
    ]
