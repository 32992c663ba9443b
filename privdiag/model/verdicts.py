"""Turn model-check measures into findings, each with its evidence block and owner."""

from __future__ import annotations

from privdiag.findings import Finding, measure_name
from privdiag.model.drift import DriftRow
from privdiag.model.metrics import HIGHER_IS_BETTER, Comparison

# "worse_by" is positive when the scenario is worse: a fall for ROC AUC, a rise for an error.
TABLE_COLUMNS = [
    "measure",
    "unmasked",
    "scenario",
    "worse_by",
    "worse_by_low",
    "worse_by_high",
    "better",
]


def change_words(measure: str, baseline: float, scenario: float) -> str:
    """Return how a measure moved, in words: which way, by how much (absolute and relative).

    E.g. "RMSE grows by 7.04 (+235%), from 2.99 to 10.03"; a measure that is better higher
    "falls", one better lower (a loss, an error) "grows" when it rises.
    """
    diff = scenario - baseline
    verb = "grows" if diff > 0 else "falls" if diff < 0 else "stays"
    relative = f" ({diff / abs(baseline):+.1%})" if baseline else ""
    return (
        f"{measure_name(measure)} {verb} by {abs(diff):.4g}{relative}, "
        f"from {baseline:.4g} to {scenario:.4g}"
    )


def severity_for(low: float, threshold: float) -> str:
    """Return the severity of a drop whose interval starts at ``low`` (above ``threshold``)."""
    if low >= 5 * threshold:
        return "high"
    return "medium" if low >= 2.5 * threshold else "low"


def measure_table(title: str, comparisons: dict[str, Comparison]) -> dict:
    """Return a ``table`` evidence block of every measure under one scenario."""
    return {
        "title": title,
        "columns": TABLE_COLUMNS,
        "rows": [
            [*c.to_row(), "higher" if c.measure in HIGHER_IS_BETTER else "lower"]
            for c in comparisons.values()
        ],
    }


def _none(value: object) -> bool:
    """A measure without a value: None, or NaN as the comparison holds it."""
    return value is None or value != value


def degradation(
    model: str,
    scenario: str,
    purpose: str | None,
    primary: Comparison,
    table: dict,
    threshold: float,
    owner: str | None,
    masked: list[str],
    decision: float = 0.5,
) -> Finding:
    """Return the model.degradation finding of one scenario.

    ``primary``'s drop and interval are on the scale the threshold applies to (relative for
    RMSE); its baseline and scenario values are the measure's own. ``decision``: the score
    from which a row is predicted 1 (``--threshold``), which the title names when no row
    reaches it: "ROC AUC ... to 0.55; it predicts 0 on every row" read as a contradiction,
    the scores still ranking rows.
    """
    change = primary.scenario - primary.baseline
    # a precision that had a value unmasked and has none now: no row is scored 1 any more
    all_zero = any(
        row[0] == "precision" and not _none(row[1]) and _none(row[2])
        for row in table.get("rows", [])
    )
    return Finding(
        "model.degradation",
        severity_for(primary.low, threshold),
        f"{model}: {change_words(primary.measure, primary.baseline, primary.scenario)} "
        f"under {scenario}"
        + (f"; no score reaches {decision:g}, so it predicts 0 on every row" if all_zero else ""),
        {"model": model, "scenario": scenario, "purpose": purpose},
        metrics={
            "measure": primary.measure,
            "better": "higher" if primary.measure in HIGHER_IS_BETTER else "lower",
            "unmasked": round(primary.baseline, 6),
            "scenario": round(primary.scenario, 6),
            "change": round(change, 6),
            "change_relative": round(change / abs(primary.baseline), 6)
            if primary.baseline
            else None,
            "drop": round(primary.drop, 6),
            "drop_low": round(primary.low, 6),
            "drop_high": round(primary.high, 6),
            "masked_features": masked,
            **({"predicts_0_on_every_row": True} if all_zero else {}),
        },
        recommendation="Retrain with the masked features missing as they are in production "
        "(or add imputation), or request the consent these features need.",
        owner=owner,
        evidence={"table": table},
    )


def calibration(
    model: str,
    scenario: str,
    purpose: str | None,
    ece: Comparison,
    curve: dict,
    threshold: float,
    owner: str | None,
) -> Finding:
    """Return the model.calibration finding of one scenario."""
    return Finding(
        "model.calibration",
        severity_for(ece.low, threshold),
        f"{model}: {change_words('ece', ece.baseline, ece.scenario)} under {scenario}",
        {"model": model, "scenario": scenario, "purpose": purpose},
        metrics={
            "ece_unmasked": round(ece.baseline, 6),
            "ece_scenario": round(ece.scenario, 6),
            "increase": round(ece.drop, 6),
            "increase_low": round(ece.low, 6),
        },
        recommendation="Recalibrate the scores on consent-filtered data (e.g. isotonic or "
        "Platt scaling) before using them as probabilities.",
        owner=owner,
        evidence={"curve": curve},
    )


def fragile(
    model: str,
    feature: str,
    primary: Comparison,
    rank: int,
    unit: str,
    threshold: float,
    bars: dict,
    purposes: list[str],
    owner: str | None,
) -> Finding:
    """Return the model.fragile_feature finding of one feature.

    ``primary`` is the primary measure with the feature masked alone; its drop and interval
    are in ``unit`` (a fall of ROC AUC, or a relative rise of RMSE). The severity is graded
    as :func:`degradation`'s, by where the interval starts against ``threshold``.
    """
    drop = primary.drop
    cost = (
        f"raises RMSE by {drop:.1%}"
        if unit.startswith("relative RMSE")
        else f"lowers {unit} by {drop:.3f}"
    )
    return Finding(
        "model.fragile_feature",
        severity_for(primary.low, threshold),
        f"{model}: masking {feature} {cost}",
        {"model": model, "feature": feature, "purpose": ",".join(purposes) or None},
        metrics={
            "drop": round(drop, 6),
            "drop_low": round(primary.low, 6),
            "drop_high": round(primary.high, 6),
            "rank": rank,
            "unit": unit,
        },
        recommendation=f"Reduce the model's reliance on {feature}, or train it with {feature} "
        "masked as consent masks it so that it learns a fallback.",
        owner=owner,
        evidence={"bars": bars},
    )


def missing_unsupported(
    model: str, scenario: str, features: list[str], message: str, owner: str | None
) -> Finding:
    """Return the model.missing_unsupported finding of one failing scenario."""
    return Finding(
        "model.missing_unsupported",
        "high",
        f"{model} cannot score rows with {', '.join(features) or 'features'} missing ({scenario})",
        {"model": model, "scenario": scenario},
        metrics={"features": features, "error": message},
        recommendation="Add imputation for missing inputs to the model (e.g. a SimpleImputer "
        "step or a model that handles NaN) before it meets consent-filtered traffic.",
        owner=owner,
        evidence={
            "table": {
                "title": "Features masked in this scenario",
                "columns": ["feature"],
                "rows": [[f] for f in features],
            }
        },
    )


def drift_table(rows: list[DriftRow], title: str) -> dict:
    """Return a ``table`` evidence block of drift rows."""
    cols = [
        "feature",
        "type",
        "missing_reference",
        "missing_current",
        "masked",
        "psi",
        "js",
        "ks",
        "ks_p",
        "wasserstein",
        "chi2_p",
        "drifted",
    ]
    return {"title": title, "columns": cols, "rows": [[r.to_dict()[c] for c in cols] for r in rows]}


def _drift_severity(row: DriftRow) -> str:
    big = abs(row.missing_current - row.missing_reference) >= 0.5 or (row.ks or 0) >= 0.3
    return "medium" if big else "low"


def drift_feature(
    model: str, scenario: str, row: DriftRow, purposes: list[str], owner: str | None
) -> Finding:
    """Return the drift.feature finding of one drifted feature."""
    return Finding(
        "drift.feature",
        _drift_severity(row),
        f"{row.feature} drifts between reference and {scenario}: {row.reason}",
        {
            "model": model,
            "scenario": scenario,
            "feature": row.feature,
            "purpose": ",".join(purposes) or None,
        },
        metrics={k: v for k, v in row.to_dict().items() if v is not None and k != "feature"},
        recommendation="Monitor this feature on consent-filtered traffic and retrain or "
        "reweight with data that has the same missing share.",
        owner=owner,
        evidence={"table": [drift_table([row], f"Drift of {row.feature}"), *_shares(row)]},
    )


def _shares(row: DriftRow) -> list[dict]:
    """The category shares of a text feature's row (none for a number)."""
    return [row.shares] if row.shares else []


def drift_prediction(
    model: str, scenario: str, purpose: str | None, row: DriftRow, owner: str | None
) -> Finding:
    """Return the drift.prediction finding of one scenario's score distribution."""
    return Finding(
        "drift.prediction",
        _drift_severity(row),
        f"{model}: score distribution shifts under {scenario} ({row.reason})",
        {"model": model, "scenario": scenario, "purpose": purpose},
        metrics={k: v for k, v in row.to_dict().items() if v is not None and k != "feature"},
        recommendation="Check thresholds and downstream rules that assume the old score "
        "distribution; recalibrate on consent-filtered data.",
        owner=owner,
        evidence={"table": drift_table([row], "Score drift")},
    )
