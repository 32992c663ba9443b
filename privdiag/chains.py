"""Root-cause chains: which findings cause which, set as ``caused_by`` ids.

Rules, each a symptom <- its causes (a link is added only when both findings are present):

- ``model.fragile_feature(F)`` <- ``sparsity.consent_gap(F)`` at any step and source, and
  ``sparsity.shift(F)``: the model leans on a feature that consent makes sparse.
- ``model.degradation`` / ``model.calibration`` of model M <- M's fragile features that the
  scenario masks (``metrics.masked_features``; without it, those whose purposes include the
  scenario's purpose).
- ``sparsity.consent_gap(S, F, P)`` <- the consent findings of source S for purpose P that show
  S does not respect P (``consent.violation``, ``consent.after_withdrawal``,
  ``consent.pre_consent``, ``consent.conflict``), and ``people.unclassified_feature(S, F)``
  (nobody decided which consent F needs).
- Those consent findings of source S <- ``people.unowned(S)``: a pipeline nobody owns.
- ``funnel.consent_drop(S, step)`` <- ``identity.loss(S)`` at that step or the step before it.
- ``sparsity.shift`` <- ``people.optin_drop`` of the same purpose on the same day or notice
  version (a feature's shift matches through the consent-rate changes it lists).

Rules only point from a later layer to an earlier one (model <- journey <- compliance <-
people), so the links never form a cycle. :func:`privdiag.findings.rank` then puts causes
before symptoms.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from privdiag.errors import InputError
from privdiag.findings import Finding

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


def _link_compliance(findings: list[Finding]) -> None:
    respect = _of(findings, *RESPECT)
    unclassified = _of(findings, "people.unclassified_feature")
    unowned = [f for f in _of(findings, "people.unowned") if "source" in f.location]
    for gap in _of(findings, "sparsity.consent_gap"):
        _add(gap, _same(respect, gap, "source", "purpose"))
        _add(gap, _same(unclassified, gap, "source", "feature"))
    for c in respect:
        _add(c, _same(unowned, c, "source"))


def _link_journey(findings: list[Finding]) -> None:
    losses = _of(findings, "identity.loss")
    for drop in _of(findings, "funnel.consent_drop"):
        steps = {drop.location.get("step"), drop.metrics.get("from_step")} - {None}
        _add(drop, [x for x in _same(losses, drop, "source") if x.location.get("step") in steps])


def _shift_purposes(shift: Finding) -> set[str]:
    """The purposes a shift is about: its own, else the consent-rate changes it lists."""
    listed = {c.get("purpose") for c in shift.metrics.get("consent_rate_changes") or []}
    return _purposes(shift) or {p for p in listed if p}


def _same_change(shift: Finding, drop: Finding) -> bool:
    """True when the opt-in drop happened on the shift's day or with a version it names."""
    day = shift.metrics.get("change_day")
    versions = set(shift.metrics.get("notice_versions") or [])
    same_day = day is not None and day == drop.metrics.get("change_day")
    return same_day or drop.metrics.get("version") in versions


def _link_optin(findings: list[Finding]) -> None:
    drops = _of(findings, "people.optin_drop")
    for shift in _of(findings, "sparsity.shift"):
        purposes = _shift_purposes(shift)
        _add(
            shift,
            [
                d
                for d in drops
                if _same_change(shift, d)
                and (not purposes or d.location.get("purpose") in purposes)
            ],
        )


def link(findings: list[Finding]) -> None:
    """Set ``caused_by`` on every finding that one of the module's rules explains.

    Existing links are kept; each cause is listed once. Findings are changed in place.
    """
    _link_compliance(findings)
    _link_journey(findings)
    _link_optin(findings)
    _link_models(findings)


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
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("findings", []), list):
            raise ValueError("no findings list")
        return link_model_to_scan(findings, doc)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            "is not a scan result with findings",
            path=path,
            hint="pass the JSON written by privdiag scan --json",
        ) from exc
