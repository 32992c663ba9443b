"""The key measures of a run, kept in the history, and their series across runs.

Measures (names are stable; the report charts them):

- ``consent_rate.<purpose>``: the scan's rate (:func:`privdiag.consent_rates.consent_evidence`),
  each person weighed once; runs of a privdiag before that weighed decided events;
- ``violations``: events collected although the purpose was denied (``consent.violation``
  and ``consent.after_withdrawal``) that the findings show: of a finding whose users are
  hidden, its events without a user id;
- ``findings``: how many findings the run had;
- ``model.<name>.<measure>.<scenario>``: a model's primary quality measure (the first row of
  each scenario's table), unmasked and under each consent scenario.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

OUT_OF_ORDER = "dated out of order"

VIOLATION_KINDS = ("consent.violation", "consent.after_withdrawal")


def measures(doc: dict[str, Any], models: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Return the key measures of a run from its JSON document and its models' evidence.

    ``models`` maps a model's name to the ``evidence`` of its model-check result.
    """
    out: dict[str, float] = {}
    for purpose, rate in (doc.get("evidence", {}).get("consent_rates") or {}).items():
        if isinstance(rate, int | float):
            out[f"consent_rate.{purpose}"] = float(rate)
    # a finding whose few users are hidden counts its events without a user id (shown apart)
    events = [
        f["metrics"].get("events") or f["metrics"].get("events_without_user_id") or 0
        for f in doc["findings"]
        if f["kind"] in VIOLATION_KINDS
    ]
    out["violations"] = float(sum(events))
    out["findings"] = float(len(doc["findings"]))
    for name, evidence in models.items():
        out.update(_model_measures(name, evidence))
    return out


def _model_measures(name: str, evidence: dict[str, Any]) -> dict[str, float]:
    """Read the primary measure of each scenario table; tolerate any other shape."""
    out: dict[str, float] = {}
    tables = evidence.get("scenario_metrics")
    if not isinstance(tables, dict):
        return out
    for scenario, table in tables.items():
        try:
            columns, row = table["columns"], table["rows"][0]
            values = dict(zip(columns, row, strict=False))
            measure = str(values["measure"])
            out[f"model.{name}.{measure}.unmasked"] = float(values["unmasked"])
            out[f"model.{name}.{measure}.{scenario}"] = float(values["scenario"])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    return out


def of_small_groups(name: str) -> bool:
    """True for a measure a run made with a smaller ``min_group_size`` may give of fewer
    users than a larger one: a consent rate (of 3 users deciding, at 1) and the violations'
    events (of a finding a larger size hides)."""
    return name.startswith("consent_rate.") or name == "violations"


def series(
    history: list[tuple[str, str, str, float]],
    current: tuple[str, str, dict[str, float]],
    *,
    marks: dict[str, str] | None = None,
    smaller: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Return a ``series`` evidence block of every measure over the runs, oldest first.

    ``history`` holds (run id, started at, measure, value) rows; ``current`` is (run id,
    started at, measures) of this run; ``marks`` maps a run id to a label (e.g. baseline).
    A measure a run lacks is None there, and so is one :func:`of_small_groups` of a run of
    ``smaller`` (made with a smaller ``min_group_size`` than this one, or recording none).
    """
    runs: dict[str, str] = {}
    values: dict[tuple[str, str], float] = {}
    for run_id, started, name, value in history:
        runs.setdefault(run_id, started)
        if not (run_id in smaller and of_small_groups(name)):
            values[(run_id, name)] = value
    run_id, started, now = current
    runs[run_id] = started
    values.update({(run_id, k): v for k, v in now.items()})

    names = sorted({name for _, name in values})
    order = list(runs)
    return {
        "title": "Key measures per audit run",
        "x": [runs[r] for r in order],
        "series": {n: [values.get((r, n)) for r in order] for n in names},
        "marks": [
            {"x": runs[r], "label": label} for r, label in (marks or {}).items() if r in runs
        ],
    }


def _when(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else None


def out_of_order(runs: list[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """Return each of ``runs`` ((run id, started at), in the order recorded) dated after a run
    recorded after it, with the first such run: (run id, its date, later run id, its date).

    A clock set ahead (or a history copied from another machine) dates a run after the runs
    that followed it. The runs stay in the order recorded (what a run is compared with, the
    trend chart's order): the later run did come later, whichever clock was wrong.
    """
    out = []
    for n, (run_id, started) in enumerate(runs):
        when = _when(started)
        later = next(
            (r for r in runs[n + 1 :] if when and (w := _when(r[1])) is not None and w < when),
            None,
        )
        if later is not None:
            out.append((run_id, started, *later))
    return out
