"""A result reported at a larger ``min_group_size`` than it was made with.

``privdiag report`` hides again, at its own ``min_group_size``, the user counts of a finding
and what describes only those users (:func:`privdiag.audit.diff.shown_metrics`), and the
share in ``consent.missing_record``'s title. Other checks hide by rules of their own, from
counts a result does not keep (a consent gap's state rows, a funnel's conversions, the
totals of ``identity.loss``, trust segments, opt-in rates and a model's reliability bins):
a result holding such findings, made with a smaller ``min_group_size``, is refused instead
of being shown with groups smaller than the report's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from privdiag.errors import InputError
from privdiag.ingest.segment_join import uncounted_absent_category
from privdiag.state import uncounted_undetermined

#: The kinds whose only groups under ``min_group_size`` are their users: the report hides
#: those again. Any other kind hides by rules the report cannot apply again.
REHIDDEN_KINDS = frozenset(
    {
        "consent.violation",
        "consent.pre_consent",
        "consent.after_withdrawal",
        "consent.missing_record",
        "consent.unmapped_category",
        "people.unowned",
        "people.unclassified_feature",
    }
)


def made_with(doc: dict[str, Any]) -> int | None:
    """The ``min_group_size`` a result was made with, as it records it; None when it does
    not (a result written before privdiag recorded it, or edited)."""
    k = doc.get("min_group_size")
    return k if isinstance(k, int) and not isinstance(k, bool) and k >= 1 else None


def check_group_sizes(docs: list[dict[str, Any]], paths: list[str], k: int) -> int | None:
    """Raise InputError naming the first of ``docs`` (read from ``paths``) made with a
    ``min_group_size`` under ``k`` that holds findings, or a model-check's evidence, that
    the report cannot hide again at ``k``. Return the ``min_group_size`` the report then
    keeps to: ``k``, or a larger one all the results were made with; None when a result
    does not say its own."""
    recorded = [made_with(doc) for doc in docs]
    for doc, path, size in zip(docs, paths, recorded, strict=True):
        if size is None or size >= k:
            continue
        kinds = sorted(
            {str(f.get("kind")) for f in _findings(doc)} - REHIDDEN_KINDS
            | ({"model-check evidence"} if _has_model_evidence(doc) else set())
        )
        if kinds:
            raise InputError(
                f"was made with min_group_size = {size}, and what it holds of "
                f"{_listed(kinds)} hides groups by rules that privdiag report cannot apply "
                f"again at min_group_size = {k}",
                path=path,
                hint=f"run the scan or model-check again with min_group_size = {k}, or report "
                f"this result with a config of min_group_size = {size} (kept off shared "
                "reports)",
            )
    known = [size for size in recorded if size is not None]
    return max(k, min(known)) if len(known) == len(recorded) else None


def pool_consent_mix(merged: dict[str, Any], docs: list[dict[str, Any]], k: int) -> None:
    """Pool, in place, the whole consent mix of each of ``docs`` made with a
    ``min_group_size`` under ``k`` (or recording none) in ``merged``: its combinations were
    pooled by the smaller size, and the users behind each are not kept to pool them again at
    ``k``. Several documents' mixes are a list of them, one a document (:func:`merge`)."""
    for doc, mix, keep in _per_document(merged, docs, "consent_mix"):
        keep(_pooled_mix() if (made_with(doc) or 0) < k and mix else mix)


def _per_document(
    merged: dict[str, Any], docs: list[dict[str, Any]], key: str
) -> list[tuple[dict[str, Any], Any, Callable[[Any], None]]]:
    """Per document of ``docs`` holding ``evidence[key]``: the document, its value in
    ``merged`` and a function that puts a new value there. Several documents' values are a
    list in ``merged``, one document's the value itself (:func:`merge`); none without the
    key, or where it is empty."""
    evidence = merged.get("evidence")
    if not isinstance(evidence, dict) or not evidence.get(key):
        return []
    having = [d for d in docs if key in (d.get("evidence") or {})]
    if len(having) == 1:
        return [(having[0], evidence[key], lambda value: evidence.__setitem__(key, value))]
    values = evidence[key]

    def setter(n: int) -> Callable[[Any], None]:
        return lambda value: values.__setitem__(n, value)

    return [(doc, values[n], setter(n)) for n, doc in enumerate(having)]


def rates_at(doc: dict[str, Any], rates: dict[str, Any], k: int) -> dict[str, Any]:
    """The consent ``rates`` of the result ``doc`` that may be shown at ``min_group_size``
    ``k``: all of them when it was made with ``k`` or more; else those whose floor of users
    (``evidence.consent_rates_users_at_least``) reaches ``k``, or is 0 (no identified user
    decided the purpose: its rate tells no one); none from a result without floors."""
    if (made_with(doc) or 0) >= k:
        return rates
    floors = (doc.get("evidence") or {}).get("consent_rates_users_at_least")
    floors = floors if isinstance(floors, dict) else {}

    def reaches(floor: Any) -> bool:
        return isinstance(floor, int) and not isinstance(floor, bool) and (floor == 0 or floor >= k)

    return {p: r for p, r in rates.items() if reaches(floors.get(p))}


def hide_consent_rates(merged: dict[str, Any], docs: list[dict[str, Any]], k: int) -> list[str]:
    """Drop, in place, the consent rates of ``merged`` that a result made with a
    ``min_group_size`` under ``k`` (or recording none) gave of a purpose it cannot show to
    have been decided by ``k`` users or more (``evidence.consent_rates_users_at_least``, a
    floor per purpose; 0 for a purpose no identified user decided); a result without those
    floors (an older privdiag's) keeps none. Return a note naming the purposes dropped.
    Several documents' rates are a list of them, one a document (:func:`merge`)."""
    dropped: set[str] = set()
    for doc, rates, keep in _per_document(merged, docs, "consent_rates"):
        if isinstance(rates, dict):
            shown = rates_at(doc, rates, k)
            dropped |= set(rates) - set(shown)
            keep(shown)
    # a dropped rate's floor (2: two to four users on its smaller side) goes with it
    for doc, floors, keep in _per_document(merged, docs, "consent_rates_users_at_least"):
        rates = (doc.get("evidence") or {}).get("consent_rates")
        shown = rates_at(doc, rates, k) if isinstance(rates, dict) else {}
        if isinstance(floors, dict):
            keep({p: floor for p, floor in floors.items() if p in shown})
    if not dropped:
        return []
    return [
        f"consent rate of {', '.join(sorted(dropped))} not given: the result was made with a "
        f"smaller min_group_size and does not show that {k} users or more decided it"
    ]


#: Evidence of a scan whose groups were hidden at the scan's ``min_group_size`` from counts
#: the result does not keep: the opt-in rates (by a value, hidden beside a violation's users
#: too) and the consent-gap maps (a cell beside a consent state of few users).
SMALL_GROUP_EVIDENCE = {
    "optin_rates": "opt-in rates",
    "optin_missing_values": "opt-in breakdowns by missing values",
    "consent_gap_heatmaps": "consent-gap maps",
}


def drop_small_group_evidence(docs: list[dict[str, Any]], k: int) -> list[str]:
    """Drop, in place, the :data:`SMALL_GROUP_EVIDENCE` of each of ``docs`` made with a
    ``min_group_size`` under ``k`` (or recording none): 3 persons deciding a purpose, all
    denying, or a map's cell of 3 denying users, stayed shown at a report's 5. Return a note
    naming what was dropped."""
    dropped: set[str] = set()
    for doc in docs:
        evidence = doc.get("evidence")
        if not isinstance(evidence, dict) or (made_with(doc) or 0) >= k:
            continue
        if isinstance(evidence.get("notes"), list):
            evidence["notes"] = [
                uncounted_absent_category(uncounted_undetermined(n)) if isinstance(n, str) else n
                for n in evidence["notes"]
            ]
        for key, said in SMALL_GROUP_EVIDENCE.items():
            if evidence.pop(key, None):
                dropped.add(said)
        if _drop_small_trends(evidence.get("trends")):
            dropped.add("audit trends of consent rates and violations")
    if not dropped:
        return []
    return [
        f"{', '.join(sorted(dropped))} not given: the result was made with a smaller "
        f"min_group_size, and their groups cannot be hidden again at {k}; run it again at "
        f"{k} to see them"
    ]


def _drop_small_trends(trends: Any) -> bool:
    """Drop, in place, an audit's trend series :func:`privdiag.audit.trends.of_small_groups`
    (consent rates, violations' events); True when there were any."""
    from privdiag.audit.trends import of_small_groups

    series = trends.get("series") if isinstance(trends, dict) else None
    if not isinstance(series, dict):
        return False
    small = [name for name in series if isinstance(name, str) and of_small_groups(name)]
    for name in small:
        del series[name]
    return bool(small)


def _pooled_mix() -> list[dict[str, Any]]:
    """A consent mix of one pooled share: every combination's states withheld."""
    return [{"granted": None, "denied": None, "share": 1.0}]


def _findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of a result, resolved ones of an audit too; entries that are not
    objects are left to the merge's own checks."""
    listed = [*(doc.get("findings") or []), *(doc.get("resolved") or [])]
    return [f for f in listed if isinstance(f, dict)]


def _has_model_evidence(doc: dict[str, Any]) -> bool:
    """True for a model-check's result with evidence (reliability bins, drift categories
    under ``min_group_size`` rows are left out by the check itself)."""
    commands = doc.get("commands") or [doc.get("command")]
    return "model-check" in commands and bool(doc.get("evidence"))


def _listed(kinds: list[str]) -> str:
    """Kinds named in a sentence, every one: they are privdiag's own few names, and "and 3
    more" left the reader of trial 26's refusal guessing which findings stood in the way."""
    return kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} and {kinds[-1]}"
