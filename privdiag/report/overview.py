"""The report's Overview: the evidence of whole runs, beside each finding's own.

A scan's consent-gap maps are named after their chart (``consent_gap_heatmaps``); a model
check's blocks (``reliability``, ``importance``, ``drift``) and an audit's (``trends``, and
its models' evidence under ``models``) are not, and are read here.
"""

from __future__ import annotations

from typing import Any

from privdiag.findings import measure_name
from privdiag.report import charts
from privdiag.report.evidence import TableView, evidence_views

#: Keys of a model check's evidence and what each holds: the reliability curves per
#: scenario, the feature drift table of the observed scenario, and the masking importance
#: per feature and per purpose (two bar charts, by name, under ``importance``).
MODEL_BLOCKS = {"reliability": "curve", "drift": "table", "importance": "bars"}

#: What the Overview shows, said above it: per key of the evidence that it draws.
BLURBS = {
    "consent_gap_heatmaps": (
        "a consent-gap map per source and purpose shows, at each journey step and for each "
        "feature, how much more often the feature is missing when the purpose is denied than "
        "when it is granted"
    ),
    "reliability": (
        "a model check's reliability curves per scenario, its masking importance per feature "
        "and per purpose, and the drift of its features under the observed consent mix"
    ),
    "models": (
        "each model's reliability curves, masking importance and feature drift, as its check "
        "measured them in this run"
    ),
    "trends": (
        "the audit's key measures per run (consent rates, model quality under each scenario, "
        "findings and violation events), each kind of measure on a chart of its own scale"
    ),
}

#: The reliability curves drawn first: the chart holds six, and a model check has seven
#: scenarios or more (one per purpose), the observed one last.
FIRST_CURVES = ("unmasked", "observed", "all_denied")

#: An audit's measures by the name they begin with, one chart each: a consent rate, a
#: model's quality and a count of findings or events do not share a scale.
TREND_CHARTS = (
    ("consent_rate.", "Consent rate per audit run"),
    ("model.", "Model quality per audit run"),
    ("", "Findings and violation events per audit run"),
)


def overview_blurb(evidence: Any) -> str:
    """The sentence above the Overview, naming what the evidence of the run(s) holds."""
    held = [b for key, b in BLURBS.items() if isinstance(evidence, dict) and key in evidence]
    return (
        "Charts over the whole run, beside each finding's own evidence: "
        + ("; ".join(held) or "what the run measured beyond its findings")
        + "."
    )


def overview_views(evidence: Any, k: int) -> tuple[list[charts.Chart], list[TableView]]:
    """Return the Overview's charts and tables of a result's (or merged results') evidence."""
    if not isinstance(evidence, dict):
        return [], []
    shown = dict(evidence)
    models = shown.pop("models", None)
    trends = shown.pop("trends", None)
    chart_list, tables = evidence_views(_model_blocks(shown), k, MODEL_BLOCKS)
    for name, model in (models or {}).items() if isinstance(models, dict) else []:
        more = evidence_views(_model_blocks(model, f"{name}: "), k, MODEL_BLOCKS)
        chart_list += more[0]
        tables += more[1]
    for block in trends if isinstance(trends, list) else [trends]:
        chart_list += [charts.series(b) for b in _trend_blocks(block)]
    return chart_list, tables


def _model_blocks(evidence: Any, prefix: str = "") -> dict[str, Any]:
    """A model check's evidence with its importance charts as a list, its observed and
    all_denied reliability curves among the six drawn, and titles led by ``prefix``."""
    if not isinstance(evidence, dict):
        return {}
    out = dict(evidence)
    importance = out.get("importance")
    if isinstance(importance, dict) and "title" not in importance:
        out["importance"] = list(importance.values())
    for key in MODEL_BLOCKS:
        blocks = out.get(key)
        listed = blocks if isinstance(blocks, list) else [blocks]
        out[key] = [_titled(_first_curves(b), prefix) for b in listed if isinstance(b, dict)]
    return out


def _titled(block: dict[str, Any], prefix: str) -> dict[str, Any]:
    return block | {"title": prefix + str(block.get("title") or "")} if prefix else block


def _first_curves(block: dict[str, Any]) -> dict[str, Any]:
    points = block.get("points")
    if not isinstance(points, dict):
        return block
    first = {n: points[n] for n in FIRST_CURVES if n in points}
    return block | {"points": first | {n: p for n, p in points.items() if n not in first}}


def _trend_blocks(block: Any) -> list[dict[str, Any]]:
    """An audit's ``trends`` series split into charts of one scale each, the runs named by
    their day and minute (``12-05 17:54``: a run's full time, cut, read the same each run)."""
    if not isinstance(block, dict) or not isinstance(block.get("series"), dict):
        return []
    x = [_when(v) for v in block.get("x") or []]
    marks = [
        m | {"x": _when(m["x"])}
        for m in block.get("marks") or []
        if isinstance(m, dict) and "x" in m
    ]
    left = dict(block["series"])
    out = []
    for start, title in TREND_CHARTS:
        mine = {n: v for n, v in left.items() if n.startswith(start)}
        left = {n: v for n, v in left.items() if n not in mine}
        if start == "model.":
            title, mine = _model_lines(title, mine)
        elif start:
            mine = {n.removeprefix(start): v for n, v in mine.items()}
        if mine:
            out.append({"title": title, "x": x, "series": mine, "marks": marks})
    return out


def _model_lines(title: str, series: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``model.<name>.<measure>.<scenario>`` lines named by scenario (and model, when there are
    several), the unmasked, observed and all_denied ones first, the measures in the title."""
    parts = {n: n.split(".", 3) for n in series if n.count(".") >= 3}
    models = {p[1] for p in parts.values()}
    measures = sorted({measure_name(p[2]) for p in parts.values()})

    def rank(name: str) -> tuple[int, str]:
        scenario = parts[name][3]
        first = FIRST_CURVES.index(scenario) if scenario in FIRST_CURVES else len(FIRST_CURVES)
        return first, name

    lines = {
        (f"{parts[n][1]}: " if len(models) > 1 else "") + parts[n][3]: series[n]
        for n in sorted(parts, key=rank)
    }
    return (f"{title} ({', '.join(measures)})" if measures else title), lines


def _when(value: Any) -> str:
    """``2026-12-05T17:54:17+00:00`` as ``12-05 17:54``; another value as it is."""
    text = str(value)
    return f"{text[5:10]} {text[11:16]}" if len(text) >= 16 and text[10:11] == "T" else text
