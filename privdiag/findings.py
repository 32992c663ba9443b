"""The Finding type: one diagnosed problem with its evidence, id, severity and owner."""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from privdiag.privacy import NAMED_BY_DATA, id_part

#: Metric names that count people, suppressed below the minimum group size: users,
#: denied_users, ...; users_total (consent.missing_record's users in all) too.
_USERS = re.compile(r"(^|_)users(_total)?$")


def is_users(name: str) -> bool:
    """True when a metric or column named ``name`` counts users (here, not in the reports:
    the audit's comparison needs it and must not import the report package)."""
    return bool(_USERS.search(name.lower()))


SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
AREAS: tuple[str, ...] = ("data", "model", "people")
UNOWNED = "unowned"
LOCATION_KEYS: tuple[str, ...] = ("source", "step", "feature", "purpose", "model", "scenario")
#: The kind that says nobody owns a source, feature or model. Chains link it to the findings
#: of what nobody owns (``caused_by``), but it is who must act, not why they happened: the
#: reports show it as a missing owner, never as a root cause, and ranking orders it by its
#: own severity and size, not before the findings that name it.
OWNERSHIP_GAP = "people.unowned"

KINDS: dict[str, str] = {
    "consent.violation": "data",
    "consent.pre_consent": "data",
    "consent.after_withdrawal": "data",
    "consent.conflict": "data",
    "consent.missing_record": "data",
    "consent.unmapped_category": "data",
    "sparsity.consent_gap": "data",
    "sparsity.shift": "data",
    "identity.loss": "data",
    "funnel.consent_drop": "data",
    "model.degradation": "model",
    "model.calibration": "model",
    "model.fragile_feature": "model",
    "model.missing_unsupported": "model",
    "drift.feature": "model",
    "drift.prediction": "model",
    "people.unowned": "people",
    "people.unclassified_feature": "people",
    "people.optin_drop": "people",
    "people.trust_gap": "people",
}

#: The names of model quality measures as a reader knows them; the model check's titles and the
#: reports use them.
MEASURE_NAMES: dict[str, str] = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "log_loss": "log loss",
    "brier": "Brier score",
    "ece": "calibration error",
    "rmse": "RMSE",
    "mae": "MAE",
    "precision_at_k": "precision at k",
}


def measure_name(measure: str) -> str:
    """Return a measure's name as a reader knows it (``rmse`` -> ``RMSE``)."""
    return MEASURE_NAMES.get(measure, measure.replace("_", " "))


def severity_rank(severity: str) -> int:
    """Return 0 for critical up to 4 for info; lower ranks are more severe."""
    return SEVERITIES.index(severity)


def at_or_above(severity: str, threshold: str) -> bool:
    """True when ``severity`` is as severe as ``threshold`` or more."""
    return severity_rank(severity) <= severity_rank(threshold)


def finding_id(kind: str, location: dict[str, str]) -> str:
    """Return the stable id of a finding: a hash of its kind and location only.

    Metrics are left out on purpose so that the same problem keeps its id across runs. A
    location name holding an e-mail or IP address, or a step or feature name that looks like an
    identifier, enters it keyed (:func:`id_part`).
    """
    named = {
        k: id_part(v, named_by_data=k in NAMED_BY_DATA) if isinstance(v, str) else v
        for k, v in location.items()
    }
    key = json.dumps({"kind": kind, "location": named}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass
class Finding:
    """One diagnosed problem. ``location`` holds only the keys that apply."""

    kind: str
    severity: str
    title: str
    location: dict[str, Any]  # None values are dropped
    metrics: dict[str, Any] = field(default_factory=dict)
    recommendation: str = ""
    owner: str | None = None
    caused_by: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    #: The counts of ``metrics`` hidden for a small group, as counted: for the scan's own
    #: rules only (:mod:`privdiag.checks.across`), never in any output.
    withheld: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        unknown = set(self.location) - set(LOCATION_KEYS)
        if unknown:
            raise ValueError(f"unknown location keys {sorted(unknown)}")
        self.location = {k: str(v) for k, v in self.location.items() if v is not None}

    @property
    def area(self) -> str:
        return KINDS[self.kind]

    @property
    def id(self) -> str:
        return finding_id(self.kind, self.location)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of DESIGN.md (plus ``evidence`` for charts)."""
        data = asdict(self)
        return {
            "id": self.id,
            "kind": self.kind,
            "area": self.area,
            "severity": self.severity,
            "title": self.title,
            "location": data["location"],
            "metrics": data["metrics"],
            "owner": self.owner,
            "caused_by": list(self.caused_by),
            "recommendation": self.recommendation,
            "evidence": data["evidence"],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a finding from its JSON form (ids are recomputed, not trusted)."""
        return cls(
            kind=data["kind"],
            severity=data["severity"],
            title=data.get("title", ""),
            location=dict(data.get("location") or {}),
            metrics=dict(data.get("metrics") or {}),
            recommendation=data.get("recommendation") or "",
            owner=data.get("owner"),
            caused_by=list(data.get("caused_by") or []),
            evidence=dict(data.get("evidence") or {}),
        )


@dataclass(frozen=True)
class Ranked:
    """What ranking needs of a finding, whether it is a Finding or its JSON form."""

    id: str
    severity: str
    impact: float  # its events, else its users, else 0
    caused_by: tuple[str, ...]
    no_cause: bool = False  # an ownership gap: the links naming it order nothing


def impact_of(metrics: dict[str, Any]) -> float:
    """The size of a finding for ranking: its events, else its users, else a model finding's
    loss (``drop``, as ``d / (1 + d)``: below one event, so it orders the model's findings
    among themselves, the feature whose masking costs most first, and never outranks a
    finding of events or users), else 0."""
    value = metrics.get("events") or metrics.get("users") or 0
    if isinstance(value, int | float) and not isinstance(value, bool) and value:
        return float(value)
    drop = metrics.get("drop")
    if isinstance(drop, int | float) and not isinstance(drop, bool) and drop > 0:
        return float(drop) / (1.0 + float(drop))
    return 0.0


def _ranked(f: Finding) -> Ranked:
    return Ranked(
        f.id, f.severity, impact_of(f.metrics), tuple(f.caused_by), f.kind == OWNERSHIP_GAP
    )


def _links(findings: list[Ranked]) -> list[set[int]]:
    """Return, per position, the positions of the findings that name it in ``caused_by``;
    none for a finding that is no cause (``no_cause``: a missing owner)."""
    at: dict[str, list[int]] = {}
    for n, f in enumerate(findings):
        if not f.no_cause:
            at.setdefault(f.id, []).append(n)
    symptoms: list[set[int]] = [set() for _ in findings]
    for n, f in enumerate(findings):
        for cause in f.caused_by:
            for c in at.get(cause, []):
                if c != n:
                    symptoms[c].add(n)
    return symptoms


def chain_sizes(findings: list[Ranked]) -> tuple[list[int], list[float], list[int]]:
    """Per position, of the finding and every symptom it leads to (directly or not, each
    once): the most severe rank, the total impact; and the number of its cycle of links.

    Chains are bit sets built once per cycle, symptoms first (Tarjan numbers cycles in that
    order), so a long chain costs bits, not a set of every symptom per finding.
    """
    import numpy as np

    symptoms = _links(findings)
    group = _cycles(symptoms)
    members: list[list[int]] = [[] for _ in range(max(group, default=-1) + 1)]
    for n, g in enumerate(group):
        members[g].append(n)
    weights = np.array([f.impact for f in findings], dtype=float)
    size = (len(findings) + 7) // 8
    bits = [0] * len(members)
    worst = [0] * len(members)
    impact = [0.0] * len(members)
    for g, inside in enumerate(members):
        nexts = {group[t] for n in inside for t in symptoms[n]} - {g}
        for n in inside:
            bits[g] |= 1 << n
        worst[g] = min([severity_rank(findings[n].severity) for n in inside], default=4)
        for h in nexts:
            bits[g] |= bits[h]
            worst[g] = min(worst[g], worst[h])
        chain = np.unpackbits(
            np.frombuffer(bits[g].to_bytes(size, "little"), dtype=np.uint8), bitorder="little"
        )
        impact[g] = float(weights[chain[: len(findings)].astype(bool)].sum())
    return [worst[g] for g in group], [impact[g] for g in group], group


def chain_impact(findings: list[Finding]) -> dict[str, float]:
    """Return id -> the impact (events, else users) of the finding and all its symptoms, each
    symptom counted once even when several paths lead to it."""
    ranked = [_ranked(f) for f in findings]
    _, impact, _ = chain_sizes(ranked)
    return {f.id: impact[n] for n, f in enumerate(ranked)}


def rank_order(findings: list[Ranked]) -> list[int]:
    """Return the positions of ``findings`` in rank order: every root cause before its
    symptoms, then by impact.

    Among findings whose causes are all placed, the next is the one whose chain (itself and its
    symptoms) holds the most severe finding, then the largest chain impact with shared
    symptoms counted once, then its own severity. Without links this is severity, then size.
    Findings on a cycle of links (which :mod:`privdiag.chains` never makes, but an edited or
    merged document can hold) are ordered among themselves by the same keys. A missing owner
    (:data:`OWNERSHIP_GAP`) is no cause: it is ranked alone, by its own severity and size.
    The JSON, the HTML and the Markdown reports all rank with this one order.
    """
    symptoms = _links(findings)
    worst, impact, group = chain_sizes(findings)
    keys = [
        (worst[n], -impact[n], severity_rank(f.severity), f.id, n) for n, f in enumerate(findings)
    ]
    # Links inside a cycle are not waited for: its members are ready together, once every
    # cause outside the cycle is placed, and take their turn by key like any other finding.
    waiting = [0] * len(findings)
    for n, targets in enumerate(symptoms):
        for t in targets:
            waiting[t] += group[t] != group[n]
    ready = [keys[n] for n in range(len(findings)) if not waiting[n]]
    heapq.heapify(ready)
    placed: list[int] = []
    while ready:
        n = heapq.heappop(ready)[-1]
        placed.append(n)
        for t in symptoms[n]:
            if group[t] != group[n]:
                waiting[t] -= 1
                if waiting[t] == 0:
                    heapq.heappush(ready, keys[t])
    return placed


def _cycles(symptoms: list[set[int]]) -> list[int]:
    """Per position, the number of its strongly connected component (Tarjan's algorithm,
    without recursion): findings on one cycle of links share a number."""
    index = [-1] * len(symptoms)
    low = [0] * len(symptoms)
    group = [-1] * len(symptoms)
    stack: list[int] = []
    counter = groups = 0
    for root in range(len(symptoms)):
        if index[root] != -1:
            continue
        work = [(root, iter(sorted(symptoms[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        while work:
            node, targets = work[-1]
            nxt = next(targets, None)
            if nxt is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        group[member] = groups
                        if member == node:
                            break
                    groups += 1
            elif index[nxt] == -1:
                index[nxt] = low[nxt] = counter
                counter += 1
                stack.append(nxt)
                work.append((nxt, iter(sorted(symptoms[nxt]))))
            elif group[nxt] == -1:
                low[node] = min(low[node], index[nxt])
    return group


def rank(findings: list[Finding]) -> list[Finding]:
    """Return ``findings`` in rank order (see :func:`rank_order`)."""
    return [findings[n] for n in rank_order([_ranked(f) for f in findings])]


def summarize(findings: list[Finding]) -> dict[str, Any]:
    """Return the JSON ``summary`` block: counts in total, by severity, by kind and by owner.

    Findings without an owner are counted under "unowned".
    """
    by_severity: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    by_owner: dict[str, int] = {}
    for f in findings:
        by_severity[f.severity] = by_severity.get(f.severity, 0) + 1
        by_kind[f.kind] = by_kind.get(f.kind, 0) + 1
        owner = f.owner or UNOWNED
        by_owner[owner] = by_owner.get(owner, 0) + 1
    ordered = {s: by_severity[s] for s in SEVERITIES if s in by_severity}
    return {
        "findings": len(findings),
        "by_severity": ordered,
        "by_kind": dict(sorted(by_kind.items())),
        "by_owner": dict(sorted(by_owner.items())),
    }
