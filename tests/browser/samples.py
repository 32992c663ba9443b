"""Hand-built result documents for the report tests, covering every area and evidence type."""

from __future__ import annotations

import copy
from typing import Any

from privdiag.findings import Finding
from privdiag.result import CheckRun, InputInfo, Result

XSS = '<script>alert(1)</script> =HYPERLINK("http://evil.example/x","click")'
STEPS = ["page_view", "view_item", "add_to_cart", "begin_checkout", "purchase"]


def _heatmap() -> dict[str, Any]:
    cols = [f"{f} · {s}" for f in ("gclid", "item_id") for s in ("granted", "denied", "unknown")]
    values = [[0.02 * (r + 1) * (c % 3 + 1) for c in range(len(cols))] for r in range(len(STEPS))]
    values[4][5] = None
    return {
        "title": "Missing share by step and consent state",
        "rows": STEPS,
        "cols": cols,
        "values": values,
        "unit": "share missing",
    }


def _table() -> dict[str, Any]:
    return {
        "title": "Events by step",
        "columns": ["step", "events", "users"],
        "rows": [["page_view", 5000, 900], ["add_to_cart", 40, 3], ["purchase", 12, 0]],
    }


def findings() -> list[Finding]:
    """Eleven findings: data, model and people, each evidence type, a chain of causes."""
    unowned = Finding(
        "people.unowned",
        "high",
        "Feature gclid has no owner",
        {"feature": "gclid"},
        {"features": 1},
        "Name an owner for gclid in privdiag.toml.",
    )
    identity = Finding(
        "identity.loss",
        "high",
        "Journeys break at add_to_cart",
        {"source": "web", "step": "add_to_cart"},
        {"events": 12000, "users": 840, "share": 0.31},
        "Keep a first-party session key for cookieless pings.",
        "web-platform",
        evidence={"heatmap": _heatmap(), "table": _table()},
    )
    gap = Finding(
        "sparsity.consent_gap",
        "high",
        "gclid missing without ads consent",
        {"step": "begin_checkout", "feature": "gclid", "purpose": "ads"},
        {"events": 5400, "share": 0.62},
        "Model the gap; do not impute gclid.",
        "paid-media",
        [identity.id],
        {"heatmap": _heatmap()},
    )
    violation = Finding(
        "consent.violation",
        "critical",
        XSS,
        {"source": "web", "feature": "gclid", "purpose": "ads"},
        {"events": 310, "users": 3},
        "Stop sending gclid when ads is denied.",
        "paid-media",
        [unowned.id],
        {"table": _table()},
    )
    pre = Finding(
        "consent.pre_consent",
        "medium",
        "gclid collected before the banner answer",
        {"source": "web", "feature": "gclid"},
        {"events": 95, "users": 40},
        "Delay the tag until consent.",
        "web-platform",
        evidence={
            "histogram": {
                "title": "Lead time before consent",
                "unit": "seconds",
                "edges": [0, 1, 2, 5, 10, 30],
                "counts": [40, 25, 15, 10, 5],
            }
        },
    )
    degr = Finding(
        "model.degradation",
        "high",
        "Propensity AUC drops when ads is denied",
        {"model": "propensity", "scenario": "deny_ads"},
        {"auc": 0.71, "auc_drop": 0.09},
        "Retrain with consent-shaped missingness.",
        "data-science",
        [gap.id],
        {
            "bars": {
                "title": "Masking importance",
                "unit": "AUC lost",
                "labels": ["gclid", "item_id", "referrer"],
                "values": [0.06, 0.02, -0.004],
            }
        },
    )
    calib = Finding(
        "model.calibration",
        "medium",
        "Calibration worsens under deny_ads",
        {"model": "propensity", "scenario": "deny_ads"},
        {"ece": 0.08},
        "Recalibrate on consent-filtered data.",
        "data-science",
        [gap.id],
        {
            "curve": {
                "title": "Reliability",
                "diagonal": True,
                "points": {
                    "all consent": [[0.1, 0.12], [0.5, 0.48], [0.9, 0.88]],
                    "deny_ads": [[0.1, 0.2], [0.5, 0.35], [0.9, 0.7]],
                },
            }
        },
    )
    drift = Finding(
        "drift.feature",
        "low",
        "item_id drifts under deny_ads",
        {"model": "propensity", "feature": "item_id", "scenario": "deny_ads"},
        {"psi": 0.14},
        "Watch item_id.",
        "data-science",
        evidence={
            "bars": {
                "title": "PSI by bin",
                "labels": ["a", "b"],
                "values": [0.1, 0.04],
                "unit": "PSI",
            }
        },
    )
    optin = Finding(
        "people.optin_drop",
        "medium",
        "Opt-in fell after banner v3",
        {"source": "web", "purpose": "ads"},
        {"drop": 0.18, "users": 1200},
        "Review banner v3 wording with the privacy office.",
        "privacy-office",
        evidence={
            "series": {
                "title": "Daily ads opt-in rate",
                "x": [f"2024-03-{d:02d}" for d in range(1, 15)],
                "series": {"ads": [0.6] * 7 + [None] + [0.42] * 6, "analytics": [0.7] * 14},
                "marks": [{"x": "2024-03-08", "label": "banner v3"}],
            }
        },
    )
    trust = Finding(
        "people.trust_gap",
        "info",
        "Low-trust segment opts in less",
        {"purpose": "personalization"},
        {"users": 2},
    )
    return [unowned, identity, gap, violation, pre, degr, calib, drift, optin, trust]


def sample_result() -> Result:
    """A scan-and-model-check result with inputs, ran and skipped checks and findings."""
    result = Result("scan", started_at="2024-03-20T10:00:00+00:00")
    result.inputs = [
        InputInfo("fixtures/demo/events.ndjson.gz", "generic", 48213, "ab" * 32),
        InputInfo("fixtures/demo/consent.csv", "consent", 1200, "cd" * 32, "consent"),
    ]
    result.findings = findings()
    result.checks = [
        CheckRun("consent.violation", "ran"),
        CheckRun("consent.after_withdrawal", "skipped", "no withdrawal records"),
        CheckRun("sparsity", "ran"),
        CheckRun("identity.loss", "ran"),
        CheckRun("model", "ran"),
        CheckRun("model.calibration", "skipped", "no label column in the blind set"),
        CheckRun("people.unowned", "ran"),
    ]
    result.evidence = {
        "series": {
            "title": "Events per day",
            "x": ["2024-03-01", "2024-03-02"],
            "series": {"events": [2000, 2100]},
            "marks": [],
        }
    }
    return result


def sample_doc() -> dict[str, Any]:
    """The JSON document of ``sample_result``."""
    return sample_result().to_dict()


def big_doc(n: int) -> dict[str, Any]:
    """The sample document with evidence of ``n`` table rows and ``n`` series points."""
    doc = copy.deepcopy(sample_doc())
    f = doc["findings"][0]
    f["evidence"]["table"] = {
        "title": "Big",
        "columns": ["day", "events", "users"],
        "rows": [[f"d{i}", i * 10, i] for i in range(n)],
    }
    f["evidence"]["series"] = {
        "title": "Long",
        "x": [f"t{i}" for i in range(n)],
        "series": {"rate": [(i % 97) / 97 for i in range(n)]},
        "marks": [{"x": f"t{n // 2}", "label": "change"}],
    }
    return doc
