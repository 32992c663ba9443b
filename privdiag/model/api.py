"""``run_model_check``: score consent-filtered blind sets with a saved model and report.

Steps: read the blind set, load the model (or read predictions), build the consent
scenarios, score every variant in one batch, then measure quality, calibration, masking
importance and drift, and turn what crosses the thresholds into findings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from privdiag.chains import link_models
from privdiag.config import Config
from privdiag.errors import ConfigError, InputError
from privdiag.mapping import model_owner, owner_for, purposes_for
from privdiag.model import blindset, guards, importance, verdicts
from privdiag.model.consent_mix import INDEPENDENT, JOINT, MixEntry
from privdiag.model.drift import frame_drift, series_drift
from privdiag.model.inputs import Inputs, label_error, read_inputs, read_reference
from privdiag.model.loading import ModelFailure, is_text
from privdiag.model.metrics import (
    CLASSIFIER_PRIMARY,
    REGRESSOR_PRIMARY,
    Comparison,
    compare,
    reliability_curve,
)
from privdiag.privacy import describe_value
from privdiag.result import Result

log = logging.getLogger(__name__)
RESAMPLES = 200


@dataclass
class Context:
    """What every step of one model check needs."""

    config: Config
    model: str
    features: list[str]
    mapping: dict[str, list[str]]
    threshold: float
    seed: int
    result: Result
    y: np.ndarray | None = None
    kind: str = "classifier"
    scores: dict[str, Any] = field(default_factory=dict)
    scenarios: dict[str, blindset.Scenario] = field(default_factory=dict)

    def feature_owner(self, feature: str) -> str | None:
        """The owner of a finding on one feature: the feature's, else the model's (tables,
        then patterns, as :func:`~privdiag.mapping.owner_for` tries them)."""
        return owner_for(self.config, feature=feature, model=self.model, prefer="feature")

    def scenario_owner(self, features: list[str]) -> str | None:
        """The owner of a finding on a scenario masking ``features``: the model's, else the
        owner those features share (:func:`~privdiag.mapping.model_owner`)."""
        return model_owner(self.config, self.model, features)


def _variants(ctx: Context, frame: pl.DataFrame, given: Inputs) -> dict[str, pl.DataFrame]:
    """Build the scenarios and return every variant frame to score, ``unmasked`` first."""
    n = frame.height
    scen = blindset.deny_scenarios(n, ctx.mapping)
    if given.rates is not None and ctx.mapping:
        scen.append(blindset.observed_scenario(n, ctx.mapping, given.rates, ctx.seed, given.mix))
    scen += blindset.feature_scenarios(n, ctx.features)
    ctx.scenarios = {s.name: s for s in scen}
    defaults = blindset.feature_defaults(ctx.config, frame, ctx.features)
    for feature, value in defaults.items():
        if why := given.scorer.refuse_default(feature, value):
            raise ConfigError(
                f"default {value!r} cannot be given to the model: {why}",
                path=ctx.config.path,
                key=f"features.{feature}",
                hint="give a value the model's input takes (the one production sets when "
                "consent is missing)",
            )
    out = {"unmasked": frame}
    out.update({s.name: blindset.apply(frame, s, defaults) for s in scen})
    return out


def _failure_findings(ctx: Context) -> None:
    """Add model.missing_unsupported for every consent scenario the model cannot score."""
    for name, sc in ctx.scenarios.items():
        value = ctx.scores.get(name)
        if not _fails(value) or name.startswith("mask_"):
            continue
        bad = [f for f in sc.features if _fails(ctx.scores.get(f"mask_{f}"))] or sc.features
        message = value.message if isinstance(value, ModelFailure) else guards.not_finite(value)
        ctx.result.findings.append(
            verdicts.missing_unsupported(ctx.model, name, bad, message, ctx.scenario_owner(bad))
        )


def _fails(value: Any) -> bool:
    """Whether the model failed on a variant: it raised, or gave a NaN or infinite score."""
    return isinstance(value, ModelFailure) or (
        isinstance(value, np.ndarray) and not bool(np.isfinite(value).all())
    )


def _usable(ctx: Context, name: str) -> np.ndarray | None:
    value = ctx.scores.get(name)
    return None if value is None or _fails(value) else value


def _on_threshold_scale(main: Comparison) -> Comparison:
    """Return the primary measure's comparison on the scale the degradation threshold applies
    to: RMSE's drop and interval relative to the unmasked RMSE, ROC AUC's as they are."""
    if main.measure != REGRESSOR_PRIMARY or main.baseline <= 0:
        return main
    b = main.baseline
    return Comparison(main.measure, b, main.scenario, main.drop / b, main.low / b, main.high / b)


def _compare(ctx: Context, base: np.ndarray, scen: np.ndarray) -> dict[str, Comparison]:
    """Return every measure's paired-bootstrap comparison of ``scen`` against ``base``."""
    return compare(
        ctx.y,
        base,
        scen,
        kind=ctx.kind,
        threshold=ctx.threshold,
        resamples=RESAMPLES,
        seed=ctx.seed,
    )


#: Why quality and importance are skipped without a label: what would name one.
NO_LABEL = (
    "no label column: the blind set has none named 'label' and neither --label nor "
    "[models.NAME] label names another; pass --label COLUMN to measure quality"
)


def _primary(ctx: Context, base: np.ndarray, scen: np.ndarray) -> Comparison:
    """Return the primary measure's comparison, on the threshold's scale."""
    primary = CLASSIFIER_PRIMARY if ctx.kind == "classifier" else REGRESSOR_PRIMARY
    return _on_threshold_scale(_compare(ctx, base, scen)[primary])


def _quality(ctx: Context) -> None:
    """Measures per consent scenario, with model.degradation and model.calibration."""
    base = _usable(ctx, "unmasked")
    if ctx.y is None or base is None:
        ctx.result.skipped(
            "quality", NO_LABEL if ctx.y is None else "the unmasked blind set could not be scored"
        )
        return
    if ctx.kind == "regressor" and (note := guards.far_labels(ctx.y, base)):
        ctx.result.note(note)
    th = ctx.config.thresholds
    primary = CLASSIFIER_PRIMARY if ctx.kind == "classifier" else REGRESSOR_PRIMARY
    tables, curves = (
        {},
        {"unmasked": reliability_curve(ctx.y, base, th.min_group_size)}
        if ctx.kind == "classifier"
        else {},
    )
    for name, sc in ctx.scenarios.items():
        scen = _usable(ctx, name)
        if name.startswith("mask_") or scen is None:
            continue
        cmp = _compare(ctx, base, scen)
        tables[name] = verdicts.measure_table(f"{ctx.model} under {name}", cmp)
        main = _on_threshold_scale(cmp[primary])
        if main.low > th.degradation:
            ctx.result.findings.append(
                verdicts.degradation(
                    ctx.model,
                    name,
                    sc.purpose,
                    main,
                    tables[name],
                    th.degradation,
                    ctx.scenario_owner(sc.features),
                    sc.features,
                    decision=ctx.threshold,
                )
            )
        if ctx.kind == "classifier":
            curves[name] = reliability_curve(ctx.y, scen, th.min_group_size)
            if cmp["ece"].low > th.calibration:
                curve = {
                    "title": f"Reliability under {name}",
                    "diagonal": True,
                    "points": {"unmasked": curves["unmasked"], name: curves[name]},
                }
                ctx.result.findings.append(
                    verdicts.calibration(
                        ctx.model,
                        name,
                        sc.purpose,
                        cmp["ece"],
                        curve,
                        th.calibration,
                        ctx.scenario_owner(sc.features),
                    )
                )
    ctx.result.evidence["scenario_metrics"] = tables
    if curves:
        ctx.result.evidence["reliability"] = {
            "title": "Reliability per scenario",
            "points": curves,
            "diagonal": True,
        }
    ctx.result.ran("quality")
    ctx.result.ran("calibration") if ctx.kind == "classifier" else ctx.result.skipped(
        "calibration", "the model is a regressor"
    )


def _importance(ctx: Context) -> None:
    """Masking importance per feature and per purpose, with model.fragile_feature."""
    base = _usable(ctx, "unmasked")
    if ctx.y is None or base is None:
        ctx.result.skipped("importance", NO_LABEL if ctx.y is None else "no unmasked scores")
        return
    unit = "ROC AUC" if ctx.kind == "classifier" else "relative RMSE increase"
    drops = {}
    for f in ctx.features:
        masked = _usable(ctx, f"mask_{f}")
        if masked is not None:
            drops[f] = importance.quality_drop(
                ctx.y, base, masked, kind=ctx.kind, threshold=ctx.threshold
            )
    by_purpose = {}
    for name, sc in ctx.scenarios.items():
        masked = _usable(ctx, name)
        if sc.purpose and masked is not None:
            by_purpose[sc.purpose] = importance.quality_drop(
                ctx.y, base, masked, kind=ctx.kind, threshold=ctx.threshold
            )
    feature_bars = importance.bars("Masking importance per feature", drops, unit)
    ctx.result.evidence["importance"] = {
        "features": feature_bars,
        "purposes": importance.bars("Masking importance per purpose", by_purpose, unit),
    }
    floor = ctx.config.thresholds.degradation
    for rank, (f, _drop) in enumerate(importance.fragile(drops, floor), start=1):
        # Graded as model.degradation grades a scenario: by where the drop's own
        # interval starts, not by the rank.
        ctx.result.findings.append(
            verdicts.fragile(
                ctx.model,
                f,
                _primary(ctx, base, ctx.scores[f"mask_{f}"]),
                rank,
                unit,
                floor,
                feature_bars,
                ctx.mapping.get(f, []),
                ctx.feature_owner(f),
            )
        )
    ctx.result.ran("importance")


def _drift(
    ctx: Context, reference: pl.DataFrame, variants: dict[str, pl.DataFrame], given: bool
) -> None:
    """Feature drift reference vs consent-filtered set; score drift per scenario.

    Without ``--reference`` (``given`` false) the reference is the unmasked blind set, so the
    rows the scenario masked are left out: their missing share is the scenario's by
    construction, and a finding would only restate it.
    """
    th = ctx.config.thresholds
    target = "observed" if "observed" in variants else "all_denied"
    if target not in variants:
        ctx.result.skipped("drift", "no feature -> purpose mapping, so nothing is filtered")
        return
    rows = frame_drift(
        reference,
        variants[target],
        ctx.features,
        alpha=th.alpha,
        min_gap=th.min_gap,
        min_n=th.min_group_size,
        masked=None if given else ctx.scenarios[target].masks,
    )
    title = f"Feature drift: reference vs {target}"
    if not given:
        title = (
            f"Feature drift: blind set vs {target}, on the rows {target} left unmasked "
            "('masked': the share it masked, missing by construction)"
        )
    ctx.result.evidence["drift"] = verdicts.drift_table(rows, title)
    shares = {r.feature: r.shares for r in rows if r.shares}
    if shares:  # text features: which categories the consent-filtered set holds less of
        ctx.result.evidence["drift_categories"] = shares
    for row in (r for r in rows if r.drifted):
        ctx.result.findings.append(
            verdicts.drift_feature(
                ctx.model,
                target,
                row,
                ctx.mapping.get(row.feature, []),
                ctx.feature_owner(row.feature),
            )
        )
    ctx.result.ran("drift.feature")
    _score_drift(ctx)


def _score_drift(ctx: Context) -> None:
    ref = _usable(ctx, "reference")
    ref = _usable(ctx, "unmasked") if ref is None else ref
    names = [n for n in ctx.scenarios if not n.startswith("mask_") and _usable(ctx, n) is not None]
    if ref is None or not names:
        ctx.result.skipped("drift.prediction", "no scores to compare")
        return
    th = ctx.config.thresholds
    for name in names:
        row = series_drift(
            pl.Series("score", ref),
            pl.Series("score", _usable(ctx, name)),
            alpha=th.alpha / len(names),
            min_gap=th.min_gap,
            min_n=th.min_group_size,
        )
        if row.drifted:
            scenario = ctx.scenarios[name]
            ctx.result.findings.append(
                verdicts.drift_prediction(
                    ctx.model, name, scenario.purpose, row, ctx.scenario_owner(scenario.features)
                )
            )
    ctx.result.ran("drift.prediction")


def run_model_check(
    model: Path,
    blind_set: Path,
    *,
    config: Config,
    label: str | None = None,
    reference: Path | None = None,
    scan_result: Path | None = None,
    consent_rates: dict[str, float] | None = None,
    consent_mix: list[MixEntry] | None = None,
    seed: int = 0,
    allow_pickle: bool = False,
    export_blind_sets: Path | None = None,
    predictions: list[Path] | None = None,
    threshold: float = 0.5,
) -> Result:
    """Return the ``model-check`` result of ``model`` on consent-filtered ``blind_set``.

    Consent rates for the observed scenario come from ``consent_rates`` (with
    ``consent_mix``, the joint draw; without, each purpose independently), else from the
    scan result JSON (its mix too, when it holds one). Without ``label`` (or the config's,
    or a ``label`` column) only drift runs.
    Raises InputError / UsageError for unreadable inputs; a model that fails on missing
    features gives a finding, not an error.
    """
    result = Result(command="model-check", min_group_size=config.thresholds.min_group_size)
    given = read_inputs(
        model,
        blind_set,
        result,
        config=config,
        label=label,
        scan_result=scan_result,
        consent_rates=consent_rates,
        allow_pickle=allow_pickle,
        predictions=predictions,
        consent_mix=consent_mix,
    )
    guards.enough_rows(given.frame.height, config.thresholds.min_group_size, blind_set)
    features = given.features
    mapping = {f: p for f in features if (p := purposes_for(f, config)) is not None}
    ctx = Context(config, given.name, features, mapping, threshold, seed, result, y=given.y)

    # every scenario masks a copy of the blind set, its rows numbered for predictions files
    frame = guards.numbered(given.frame, blind_set, features)
    if blindset.ROW_ID in given.frame.columns and (export_blind_sets or predictions):
        result.note(guards.own_row_id_note())
    variants = _variants(ctx, frame, given)
    _note_scenarios(ctx, given, features)
    # read before anything is written
    k = config.thresholds.min_group_size
    ref_frame = read_reference(reference, frame, ctx.features, ctx.result, k)
    if export_blind_sets is not None:
        read = [model, blind_set, reference, scan_result, *(predictions or []), config.path]
        guards.export_apart(export_blind_sets, variants, [p for p in read if p is not None])
        blindset.export_all(variants, features, export_blind_sets)
        result.ran("export_blind_sets")
    if reference is not None and set(features) <= set(ref_frame.columns):
        variants["reference"] = guards.numbered(
            ref_frame, reference, features
        )  # scored, not exported

    _score(ctx, given.scorer, variants, model, blind_set, given.label)
    for read in given.predictions:  # counted as the scores were read
        read.rows = given.scorer.rows.get(Path(read.path))
    result.evidence["model"] = {
        "name": given.name,
        "kind": ctx.kind,
        "features": features,
        "purposes": mapping,
    }

    _failure_findings(ctx)
    result.ran("missing_inputs")
    _quality(ctx)
    _importance(ctx)
    _drift(ctx, ref_frame, variants, given=reference is not None)
    link_models(result.findings)  # a loss to the features behind it, with a scan or without
    return result


def _score(
    ctx: Context,
    scorer: Any,
    variants: dict[str, pl.DataFrame],
    model: Path,
    blind_set: Path,
    label: str | None,
) -> None:
    """Score every scenario; refuse a model that cannot score the complete blind set."""
    ctx.scores = scorer.score_many(variants)
    if scorer.kind == "classifier":
        ctx.scores = {name: guards.snapped(scores) for name, scores in ctx.scores.items()}
    unmasked = variants["unmasked"].schema
    # a column of numbers where the model learnt text: every value an unknown category
    numbers = [
        f
        for f in getattr(scorer, "text_inputs", None) or []
        if f in unmasked and not is_text(unmasked[f])
    ]
    guards.require_unmasked(
        ctx.scores, model, [f for f in ctx.features if is_text(unmasked[f])], numbers
    )
    read = getattr(scorer, "files", {}).get("unmasked")  # --predictions: no model ran
    guards.check_unmasked(ctx, variants["unmasked"], read or model, scorer.kind, read=bool(read))
    if numbers:
        ctx.result.note(
            f"the model learnt {', '.join(numbers)} as text (its encoder's categories are "
            "text) but the blind set holds numbers there: every value is a category it has "
            "not seen, so it was scored as if the feature were unknown on every row; write "
            "the column as text (quoted in CSV, a string column in Parquet)"
        )
    if note := guards.whole_floats_note(variants["unmasked"], scorer.string_inputs()):
        ctx.result.note(note)
    ctx.kind = scorer.kind or "classifier"
    binary = ctx.y is not None and np.isin(ctx.y, (0.0, 1.0)).all()
    ctx.kind = guards.one_output_kind(ctx, scorer, model, binary)
    if ctx.kind == "regressor" and binary and getattr(scorer, "outside", None) is not None:
        # scores read from files: a logit or a percentage made a classifier a regressor
        raise InputError(
            "holds scores outside 0 to 1 beside a 0/1 label; a classifier's score is its "
            "probability of class 1",
            path=scorer.outside,
            field="score",
            hint="save predict_proba(X)[:, 1], not a logit, a decision function or a "
            "percentage (a regressor's label is a number other than 0/1)",
        )
    if ctx.kind == "classifier" and ctx.y is not None and not binary:
        bad = pl.Series(np.flatnonzero(~np.isin(ctx.y, (0.0, 1.0))))
        given = variants["unmasked"]
        cells = given[label] if label in given.columns else pl.Series(ctx.y)
        raise label_error(
            bad,
            blind_set,
            label or "label",
            f"{describe_value(cells[int(bad[0])])} is not a classifier's label",
            "a classifier's label is 0/1, true/false or yes/no; fix or drop the rows, or check "
            "that --label names the outcome column",
        )
    if ctx.kind == "classifier" and ctx.y is not None and np.unique(ctx.y).size == 1:
        # every ROC AUC and PR AUC read null, masking importance too, without a word: no
        # model.degradation looked like a model that consent does not hurt
        ctx.result.note(
            "the blind set's label holds one class only: ROC AUC and PR AUC have no value, "
            "nor has masking importance, so no scenario can show a loss of ranking quality; "
            "give a blind set holding both outcomes"
        )


def _note_missing_rates(ctx: Context, rates: dict[str, float]) -> None:
    """Note the purposes some feature needs that have no consent rate: the observed scenario
    takes them as granted on every row, so it shows no loss from their features."""
    missing = [p for p in blindset.purposes_in_use(ctx.mapping) if p not in rates]
    if not missing:
        return
    features = [f for f, ps in ctx.mapping.items() if set(ps) & set(missing)]
    ctx.result.note(
        f"observed scenario: no consent rate for {', '.join(missing)}, taken as granted on "
        f"every row, so {', '.join(features)} are never masked there and its loss may be "
        f"understated; give each purpose a rate (model-check --consent-rates "
        f"{missing[0]}=0.5, or consent records that decide it)"
    )


def _note_scenarios(ctx: Context, given: Inputs, features: list[str]) -> None:
    """Record which scenarios ran and why others did not, and how the observed one drew."""
    rates = given.rates
    unmapped = [f for f in features if not ctx.mapping.get(f)]
    if not ctx.mapping:
        ctx.result.skipped(
            "scenarios",
            "no feature has a purpose in the config "
            "([features.NAME] purposes = [...]); only masking importance runs",
        )
    else:
        ctx.result.ran("scenarios")
    draw = None
    if rates is None:
        ctx.result.skipped("observed", "no consent rates: pass --consent-rates or --scan-result")
    elif ctx.mapping:
        ctx.result.ran("observed")
        draw = _note_draw(ctx, given)
        _note_missing_rates(ctx, rates)
        if given.by_events:
            ctx.result.note(
                "observed scenario: the scan result's consent rates and mix are shares of "
                "events (a scan by an older privdiag), so a user with many events weighs more "
                "and the scenario moves when traffic does; scan again to weigh each person once"
            )
    shares = {n: s.masked_share() for n, s in ctx.scenarios.items() if not n.startswith("mask_")}
    ctx.result.evidence["scenarios"] = {
        "masked_share": shares,
        "unmapped_features": unmapped,
        "consent_rates": rates or {},
        "observed_draw": draw,
    }


def _note_draw(ctx: Context, given: Inputs) -> str:
    """Note how the observed scenario drew each row's consent; return ``joint`` or
    ``independent``."""
    if given.mix is None:
        ctx.result.note(
            "observed scenario: each purpose is drawn on its own at its consent rate, the "
            f"purposes taken as independent, because {given.independent}; a banner's "
            '"reject all" denies them together, so fewer rows lose several features at once '
            "here than in production, more lose one, and the scenario's loss may be off either "
            "way"
        )
        return INDEPENDENT
    shown = [e for e in given.mix if e.granted is not None]
    pooled = 1 - sum(e.share for e in shown) / sum(e.share for e in given.mix)
    ctx.result.note(
        "observed scenario: each row draws its whole combination of consent states from the "
        f"scan's consent mix ({len(shown)} combinations"
        + (f", {pooled:.1%} pooled and drawn purpose by purpose" if pooled > 1e-9 else "")
        + "), so purposes denied together in the scan are denied together here"
    )
    return JOINT
