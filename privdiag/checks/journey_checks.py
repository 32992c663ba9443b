"""Run the journey checks of a scan, recording which ran and why others could not.

The checks: ``sparsity.consent_gap``, ``sparsity.shift``, ``identity.loss`` and
``funnel.consent_drop``. Each is skipped, with a reason in the user's terms, when the data
cannot support it: no consent signal, no journey (fewer than two steps), one day of data.
"""

from __future__ import annotations

from privdiag.checks.cohorts import drop_visits
from privdiag.checks.context import ScanContext
from privdiag.checks.funnel import check_consent_drop
from privdiag.checks.identity import check_identity_loss, step_counts
from privdiag.checks.shift import check_shift, days_covered
from privdiag.checks.sparsity import check_consent_gap
from privdiag.findings import Finding
from privdiag.journey import Journey
from privdiag.result import Result


def _no_journey(ctx: ScanContext) -> str:
    """Why the journey checks are skipped, naming the config file to list the steps in."""
    return (
        "no journey: fewer than two steps found; list them in "
        f"{ctx.config.file_name} under [journey] steps"
    )


def run_journey_checks(ctx: ScanContext, journey: Journey, result: Result) -> list[Finding]:
    """Return the journey checks' findings; record each check as ran or skipped in ``result``,
    and the consent-gap heatmaps in its evidence. Assumes ``events`` and ``scan_events``
    exist in ``ctx.con``."""
    findings = _gaps(ctx, result, journey=journey)
    findings += _shifts(ctx, result)
    return findings + _identity_and_funnel(ctx, result, journey=journey)


def _gaps(ctx: ScanContext, result: Result, *, journey: Journey) -> list[Finding]:
    """sparsity.consent_gap, with its heatmaps as scan-level evidence."""
    if not ctx.purposes:
        result.skipped("sparsity.consent_gap", ctx.no_signal())
        return []
    if len(journey.steps) < 2:
        result.skipped("sparsity.consent_gap", _no_journey(ctx))
        return []
    notes: list[str] = []
    gaps, heatmaps = check_consent_gap(ctx, journey, notes)
    result.note(*notes)
    result.evidence["consent_gap_heatmaps"] = heatmaps
    result.ran("sparsity.consent_gap")
    return gaps


def _shifts(ctx: ScanContext, result: Result) -> list[Finding]:
    """sparsity.shift, on events of two days or more."""
    days = days_covered(ctx.con)
    if days < 2:
        result.skipped(
            "sparsity.shift", f"the events cover {days} day(s); a shift needs at least 2 days"
        )
        return []
    withheld: list[str] = []
    findings = check_shift(ctx, withheld)
    result.note(*withheld)
    result.ran("sparsity.shift")
    return findings


def _identity_and_funnel(ctx: ScanContext, result: Result, *, journey: Journey) -> list[Finding]:
    """identity.loss and funnel.consent_drop, from the same counts per step."""
    if len(journey.steps) < 2:
        result.skipped("identity.loss", _no_journey(ctx))
        result.skipped("funnel.consent_drop", _no_journey(ctx))
        return []
    counts = step_counts(ctx, journey)  # and the funnel's visits, dropped after it
    try:
        losses = check_identity_loss(ctx, journey, counts)
        result.ran("identity.loss")
        if not ctx.purposes:
            result.skipped("funnel.consent_drop", ctx.no_signal())
            return losses
        notes: list[str] = []
        drops = check_consent_drop(ctx, journey, counts, losses, notes)
    finally:
        drop_visits(ctx)
    result.note(*notes)
    result.ran("funnel.consent_drop")
    return losses + drops
