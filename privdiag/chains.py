"""Root-cause chains: which findings cause which, set as ``caused_by`` ids.

Rules, each a symptom <- its causes (a link is added only when both findings are present):

- ``model.fragile_feature(F)`` <- ``sparsity.consent_gap(F)`` at any step and source, and
  ``sparsity.shift(F)``: the model leans on a feature that consent makes sparse.
- ``model.degradation`` / ``model.calibration`` of model M <- M's fragile features that the
  scenario masks (``metrics.masked_features``; without it, those whose purposes include the
  scenario's purpose).
- ``sparsity.consent_gap(S, step, F, P)`` <- the findings that show source S does not respect
  P for F (``consent.violation``, ``consent.after_withdrawal``, ``consent.pre_consent`` of F
  and P in S, at the same step when there are any there), ``consent.conflict(S, P)`` when F
  needs P, and ``people.unclassified_feature(S, F)`` (nobody decided which consent F needs).
  A conflict names no feature: it bears on the features that need its purpose, not on a
  feature that needs another purpose (or none, or is unclassified) and is tested against P
  as well. Where users who deny P mostly deny Q too, such a feature, sparse for want of Q,
  shows a gap under P that a conflict of P does not explain. The consent findings explain a
  gap only where most of its events with P denied still carry F (its
  ``missing_share_denied`` shown and below a half, the gap whose advice sends its reader to
  them): a gap of F missing on most such events is consent honoured, which a leak, an early
  tag or a flag granting what the log denied does not cause (each makes the gap smaller, if
  anything).
- Those consent findings of source S, and its ``consent.missing_record`` (users without any
  decision) <- ``people.unowned(S)``: a pipeline nobody owns. This
  link says who must act, not why the findings happened: the reports show it as a missing
  owner, never as a root cause (``privdiag.report.text.OWNERSHIP_GAP``).
- ``funnel.consent_drop(S, step)`` <- ``identity.loss(S)`` at that step or the step before it.
- ``sparsity.shift`` <- ``people.optin_drop`` of its purpose (a feature's shift: the purposes
  the feature needs and the consent-rate changes it lists) that it follows: it names the drop's
  notice version, or starts on the drop's day or up to LINK_WINDOW_DAYS after it, and moves
  the way lower opt-in pushes it.

Rules only point from a later layer to an earlier one (model <- journey <- compliance <-
people), so the links never form a cycle. :func:`privdiag.findings.rank` then puts causes
before symptoms.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from privdiag.errors import InputError
from privdiag.findings import Finding

LINK_WINDOW_DAYS = 7
RESPECT = (
    "consent.violation",
    "consent.after_withdrawal",
    "consent.pre_consent",
    "consent.conflict",
)


def _add(symptom: Finding, causes: Iterable[Finding]) -> None:
    for cause in causes:
        if cause is not symptom and cause.id != symptom.id and cause.id not in symptom.caused_by:
            symptom.caused_by.append(cause.id)


def _of(findings: list[Finding], *kinds: str) -> list[Finding]:
    return [f for f in findings if f.kind in kinds]


def _same(candidates: list[Finding], symptom: Finding, *keys: str) -> list[Finding]:
    """The candidates whose location has the symptom's value at every key in ``keys``."""
    want = {k: symptom.location.get(k) for k in keys}
    return [c for c in candidates if all(c.location.get(k) == v for k, v in want.items())]


def _purposes(f: Finding) -> set[str]:
    return {p for p in f.location.get("purpose", "").split(",") if p}


def _masks(scenario: Finding, fragile: Finding) -> bool:
    """True when the model scenario masks the fragile feature (same model)."""
    if fragile.location.get("model") != scenario.location.get("model"):
        return False
    masked = scenario.metrics.get("masked_features")
    if isinstance(masked, list):
        return fragile.location.get("feature") in masked
    purpose = scenario.location.get("purpose")
    return purpose is not None and purpose in _purposes(fragile)


def _link_models(findings: list[Finding]) -> None:
    gaps = _of(findings, "sparsity.consent_gap", "sparsity.shift")
    fragile = _of(findings, "model.fragile_feature")
    for f in fragile:
        _add(f, _same(gaps, f, "feature"))
    for f in _of(findings, "model.degradation", "model.calibration"):
        _add(f, [x for x in fragile if _masks(f, x)])


def _carried(gap: Finding) -> bool:
    """True when most of the gap's events with its purpose denied still carry the feature:
    the part that is missing is consent honoured, the rest is what the consent findings of
    the feature report. A gap missing on most such events (or whose share is hidden, or
    unknown) is consent working as intended, which no consent finding causes."""
    share = gap.metrics.get("missing_share_denied")
    return isinstance(share, int | float) and share < 0.5


def _link_compliance(findings: list[Finding], mapping: dict[str, list[str]]) -> None:
    respect = _of(findings, *RESPECT)
    unclassified = _of(findings, "people.unclassified_feature")
    unowned = [f for f in _of(findings, "people.unowned") if "source" in f.location]
    for gap in _of(findings, "sparsity.consent_gap"):
        if _carried(gap):
            same_flow = _same(respect, gap, "source", "purpose", "feature")
            _add(gap, _same(same_flow, gap, "step") or same_flow)
            if gap.location.get("purpose") in mapping.get(gap.location.get("feature", ""), []):
                whole_source = _same(respect, gap, "source", "purpose")  # a conflict
                _add(gap, [c for c in whole_source if "feature" not in c.location])
        _add(gap, _same(unclassified, gap, "source", "feature"))
    for c in respect + _of(findings, "consent.missing_record"):
        _add(c, _same(unowned, c, "source"))


def _link_journey(findings: list[Finding]) -> None:
    losses = _of(findings, "identity.loss")
    for drop in _of(findings, "funnel.consent_drop"):
        steps = {drop.location.get("step"), drop.metrics.get("from_step")} - {None}
        _add(drop, [x for x in _same(losses, drop, "source") if x.location.get("step") in steps])


def _shift_purposes(shift: Finding, mapping: dict[str, list[str]]) -> set[str]:
    """The purposes a shift is about: a consent-rate shift's own purpose; for a feature's
    shift, the purposes the feature needs and those of the rate changes it lists."""
    if "feature" not in shift.location:
        return _purposes(shift)
    listed = {c.get("purpose") for c in shift.metrics.get("consent_rate_changes") or []}
    needed = set(mapping.get(shift.location["feature"], []))
    return {p for p in listed | needed if p}


def _days_after(day: Any, start: Any) -> int | None:
    """Whole days from ``start`` to ``day`` (both 'YYYY-MM-DD'), None when either is missing."""
    try:
        return (date.fromisoformat(str(day)[:10]) - date.fromisoformat(str(start)[:10])).days
    except ValueError:
        return None


def _follows(shift: Finding, drop: Finding) -> bool:
    """True when one of the shift's changes starts on the opt-in drop's day or within
    LINK_WINDOW_DAYS after it (event-level rates lag: earlier users keep their decisions), or
    the shift names the drop's notice version, and that change goes the way a lower opt-in
    pushes it (consent rate down, missing share up). A shift lists its changes under
    ``changes``; one without the list has only its ``change_day`` and ``change``."""
    versions = set(shift.metrics.get("notice_versions") or [])
    named = drop.metrics.get("version") in versions
    changes = shift.metrics.get("changes") or [
        {"day": shift.metrics.get("change_day"), "change": shift.metrics.get("change")}
    ]
    for change in changes:
        lag = _days_after(change.get("day"), drop.metrics.get("change_day"))
        timed = named or (lag is not None and 0 <= lag <= LINK_WINDOW_DAYS)
        delta = change.get("change")
        if not isinstance(delta, int | float):
            if timed:
                return True
        elif timed and (delta < 0 if "feature" not in shift.location else delta > 0):
            return True
    return False


def _link_optin(findings: list[Finding], mapping: dict[str, list[str]]) -> None:
    drops = _of(findings, "people.optin_drop")
    for shift in _of(findings, "sparsity.shift"):
        purposes = _shift_purposes(shift, mapping)
        followed = [
            d for d in drops if d.location.get("purpose") in purposes and _follows(shift, d)
        ]
        _add(shift, followed)
        if followed and "feature" in shift.location:
            _advise_optin(shift, followed[0])


def _advise_optin(shift: Finding, drop: Finding) -> None:
    """A feature's shift that no consent change of its day explained told its reader to look
    for a release or tag change that day; where it follows an opt-in drop, the drop is what
    to look at (trial 23: a feature missing more after notice v2 was sent hunting for a
    deploy)."""
    from privdiag.checks.shift import NO_CAUSE_ADVICE

    if not shift.recommendation.endswith(NO_CAUSE_ADVICE):
        return
    told = f"the drop in {drop.location.get('purpose', 'consent')} opt-in"
    if drop.metrics.get("version"):
        told += f" with notice {drop.metrics['version']}"
    elif drop.metrics.get("change_day"):
        told += f" from {drop.metrics['change_day']}"
    shift.recommendation = (
        shift.recommendation[: -len(NO_CAUSE_ADVICE)]
        + f"{told} explains it (a finding of its own); plan for the lower coverage."
    )


def link(findings: list[Finding], mapping: dict[str, list[str]] | None = None) -> None:
    """Set ``caused_by`` on every finding that one of the module's rules explains.

    ``mapping`` (feature -> purposes) tells which opt-in drops a feature's shift can follow
    and which gaps a consent conflict can explain (without it, none). Existing links are kept;
    each cause is listed once. Findings are changed in place.
    """
    _link_compliance(findings, mapping or {})
    _link_journey(findings)
    _link_optin(findings, mapping or {})
    _link_models(findings)
    _reduce(findings)


def link_models(findings: list[Finding]) -> None:
    """Set the model rules' links alone: each degradation to the fragile features its
    scenario masks, each fragile feature to the consent gaps and shifts of its feature among
    ``findings`` (a model-check's own findings, or an audit's scan and models together)."""
    _link_models(findings)
    _reduce(findings)


def _reduce(findings: list[Finding]) -> None:
    """Drop a direct cause that is also reached through another cause (keep the chain).

    A feature's shift caused by a consent-rate shift that an opt-in drop caused links to the
    rate shift only, so the report reads as one chain instead of a fan.
    """
    causes = {f.id: set(f.caused_by) for f in findings}

    def reach(start: str, seen: set[str]) -> set[str]:
        for cause in causes.get(start, ()):
            if cause not in seen:
                seen.add(cause)
                reach(cause, seen)
        return seen

    for f in findings:
        indirect: set[str] = set()
        for cause in f.caused_by:
            indirect |= reach(cause, {cause}) - {cause}
        f.caused_by = [c for c in f.caused_by if c not in indirect]


def link_model_to_scan(model_findings: list[Finding], scan_doc: dict[str, Any]) -> int:
    """Link model findings to the data findings of a scan's JSON document; return the links.

    Only the model findings change: the scan's findings are rebuilt from the document to match
    on kind and location, and their ids are what ``caused_by`` refers to.
    """
    data = [Finding.from_dict(f) for f in scan_doc.get("findings") or []]
    before = sum(len(f.caused_by) for f in model_findings)
    combined = data + model_findings
    _link_models(combined)
    return sum(len(f.caused_by) for f in model_findings) - before


def link_scan_result(findings: list[Finding], path: Path) -> int:
    """Link model findings to the data findings of the scan JSON at ``path``; return the links.

    Raises InputError when the file is not a scan result.
    """
    from privdiag.output import load_json

    doc = load_json(path, "pass the JSON written by privdiag scan --json")
    try:
        if not isinstance(doc, dict) or not isinstance(doc.get("findings", []), list):
            raise ValueError("no findings list")
        return link_model_to_scan(findings, doc)
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            "is not a scan result with findings",
            path=path,
            hint="pass the JSON written by privdiag scan --json",
        ) from exc
