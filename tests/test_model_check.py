"""End to end: run_model_check on the committed fixture models and generated blind sets."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from privdiag.config import Config, parse_config
from privdiag.errors import InputError, UsageError
from privdiag.model import parse_consent_rates, run_model_check
from privdiag.model.blindset import Scenario, apply, observed_scenario
from privdiag.model.importance import quality_drop
from privdiag.model.synthetic import FEATURE_PURPOSES, FEATURES, make_blind_set

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"
RATES = {"analytics": 0.6, "ads": 0.4}


def _config(**models) -> Config:
    raw = {
        "features": {f: {"purposes": p, "owner": "growth"} for f, p in FEATURE_PURPOSES.items()},
        "models": {
            "propensity": {
                "path": str(MODELS / "propensity_imputed.onnx"),
                "owner": "data-science",
            },
            **models,
        },
    }
    return parse_config(raw, Path("privdiag.toml"))


@pytest.fixture(scope="module")
def blind(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("blind") / "blind.csv"
    make_blind_set(2000, seed=5).write_csv(path)
    return path


def _kinds(result) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in result.findings:
        out.setdefault(f.kind, []).append(f)
    return out


def test_imputing_classifier_degrades_when_ads_and_analytics_are_denied(blind):
    result = run_model_check(
        MODELS / "propensity_imputed.onnx", blind, config=_config(), consent_rates=RATES
    )
    kinds = _kinds(result)
    scenarios = {f.location["scenario"] for f in kinds["model.degradation"]}
    assert {"deny_ads", "deny_analytics", "all_denied", "observed"} <= scenarios
    assert "deny_functional" not in scenarios  # the noise feature has no effect
    top = [f for f in kinds["model.fragile_feature"] if f.metrics["rank"] == 1][0]
    assert top.location["feature"] in {"sessions_30d", "ad_clicks_7d"}
    assert top.owner == "growth" and top.evidence["bars"]["unit"] == "ROC AUC"
    # a fragile feature is graded as the scenario that masks it alone (deny_ads masks
    # ad_clicks_7d only: drop 0.097, interval from 0.078 -> medium; deny_analytics masks
    # sessions_30d only: 0.051 from 0.031 -> low)
    alone = {tuple(f.metrics["masked_features"]): f.severity for f in kinds["model.degradation"]}
    for f in kinds["model.fragile_feature"]:
        assert f.severity == alone[(f.location["feature"],)]
        assert f.metrics["drop_low"] <= f.metrics["drop"] <= f.metrics["drop_high"]
    deg = kinds["model.degradation"][0]
    assert deg.owner == "data-science" and deg.location["model"] == "propensity"
    # no --reference: the missing shares are the scenario's own, not drift (see below)
    assert "drift.feature" not in kinds
    assert "model.missing_unsupported" not in kinds
    doc = result.to_dict()
    assert doc["command"] == "model-check"
    assert {i["role"] for i in doc["inputs"]} == {"model", "blind_set"}
    assert "observed" in doc["evidence"]["scenario_metrics"]
    assert doc["evidence"]["reliability"]["diagonal"] is True


def test_model_without_imputation_gives_missing_unsupported_not_a_crash(blind):
    result = run_model_check(
        MODELS / "propensity_noimpute.onnx", blind, config=_config(), consent_rates=RATES
    )
    failing = {f.location["scenario"]: f for f in _kinds(result)["model.missing_unsupported"]}
    assert set(failing) >= {"deny_ads", "deny_analytics", "observed", "all_denied"}
    assert failing["deny_ads"].metrics["features"] == ["ad_clicks_7d"]
    assert failing["deny_ads"].severity == "high"


def test_regressor_reports_rmse_rise(blind):
    result = run_model_check(
        MODELS / "basket_value.onnx", blind, config=_config(), label="basket_value"
    )
    deg = {f.location["scenario"]: f for f in _kinds(result)["model.degradation"]}
    assert deg["deny_ads"].metrics["measure"] == "rmse"
    assert "calibration" in {c.name for c in result.checks if c.status == "skipped"}


def test_skops_needs_feature_names_and_then_matches_onnx(blind):
    with pytest.raises(InputError, match="features"):
        run_model_check(MODELS / "propensity_imputed.skops", blind, config=_config())
    cfg = _config(sk={"path": str(MODELS / "propensity_imputed.skops"), "features": FEATURES})
    sk = run_model_check(MODELS / "propensity_imputed.skops", blind, config=cfg)
    onnx = run_model_check(MODELS / "propensity_imputed.onnx", blind, config=_config())
    a = sk.evidence["scenario_metrics"]["deny_ads"]["rows"][0]
    b = onnx.evidence["scenario_metrics"]["deny_ads"]["rows"][0]
    assert a[0] == "roc_auc" and a[1:3] == pytest.approx(b[1:3], abs=1e-4)  # float32 in ONNX


def test_untrusted_skops_types_are_refused(blind, monkeypatch):
    import skops.io as sio

    monkeypatch.setattr(sio, "get_untrusted_types", lambda file: ["evil.Thing"])
    with pytest.raises(InputError, match="evil.Thing"):
        run_model_check(MODELS / "propensity_imputed.skops", blind, config=_config())


def test_pickle_is_refused_then_run_in_a_child_process(blind, tmp_path, caplog):
    import skops.io as sio

    model = sio.load(MODELS / "propensity_imputed.skops", trusted=["numpy.dtype"])
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    cfg = _config(pk={"path": str(path), "features": FEATURES})
    with pytest.raises(UsageError, match="--allow-pickle") as refused:
        run_model_check(path, blind, config=cfg)
    assert refused.value.exit_code == 2 and "--allow-pickle" in (refused.value.hint or "")
    assert str(path) in refused.value.message
    result = run_model_check(path, blind, config=cfg, allow_pickle=True)
    assert "separate process" in caplog.text
    assert result.evidence["model"]["kind"] == "classifier"
    assert "model.degradation" in _kinds(result)


def test_export_then_predictions_round_trip(blind, tmp_path):
    out = tmp_path / "sets"
    direct = run_model_check(
        MODELS / "basket_value.onnx",
        blind,
        config=_config(),
        label="basket_value",
        export_blind_sets=out,
    )
    files = sorted(out.glob("*.parquet"))
    assert {"unmasked.parquet", "deny_ads.parquet", "mask_noise.parquet"} <= {f.name for f in files}
    exported = pl.read_parquet(out / "deny_ads.parquet")
    assert exported.columns == ["row_id", *FEATURES]  # no label, no identifiers
    assert exported["ad_clicks_7d"].null_count() == exported.height

    import onnxruntime as ort

    sess = ort.InferenceSession(str(MODELS / "basket_value.onnx"))
    preds = []
    for f in files:
        frame = pl.read_parquet(f)
        feeds = {n: frame[n].cast(pl.Float32).to_numpy().reshape(-1, 1) for n in FEATURES}
        score = sess.run(None, feeds)[0].reshape(-1)
        target = tmp_path / "scores" / f.name
        target.parent.mkdir(exist_ok=True)
        pl.DataFrame({"row_id": frame["row_id"], "score": score}).write_parquet(target)
        preds.append(target)
    cfg = _config()
    cfg.features = {k: v for k, v in cfg.features.items()}
    back = run_model_check(
        Path("elsewhere.bin"), blind, config=cfg, label="basket_value", predictions=preds
    )
    a = direct.evidence["scenario_metrics"]["deny_ads"]["rows"]
    b = back.evidence["scenario_metrics"]["deny_ads"]["rows"]
    assert a == b
    # the inputs list the rows read: 2000 per predictions file and in the blind set; a
    # model file has no rows (null, shown as "–")
    rows = {(i.role, Path(i.path).name): i.rows for i in back.inputs}
    assert rows[("predictions", "deny_ads.parquet")] == 2000
    assert rows[("blind_set", blind.name)] == 2000
    assert {i.role: i.rows for i in direct.inputs}["model"] is None


def test_unsupported_model_format_hints_at_predictions_mode(blind, tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"x")
    with pytest.raises(InputError, match="export-blind-sets"):
        run_model_check(path, blind, config=_config())


def test_known_answer_masking_importance():
    # A model that reads only x1 (sigmoid of 3 * x1, a missing x1 scored 0.5): masking x2
    # costs nothing, masking x1 costs everything above chance.
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=4000), rng.normal(size=4000)
    y = (rng.uniform(size=4000) < 1 / (1 + np.exp(-3 * x1))).astype(float)

    def model(a, b):
        return np.where(np.isnan(a), 0.5, 1 / (1 + np.exp(-3 * np.nan_to_num(a))))

    base = model(x1, x2)
    assert (
        quality_drop(y, base, model(x1, np.full_like(x2, np.nan)), kind="classifier", threshold=0.5)
        == 0.0
    )
    from sklearn.metrics import roc_auc_score

    drop = quality_drop(
        y, base, model(np.full_like(x1, np.nan), x2), kind="classifier", threshold=0.5
    )
    assert drop == pytest.approx(roc_auc_score(y, base) - 0.5)


def test_masking_uses_configured_default():
    frame = pl.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    sc = Scenario("s", {"a": np.array([True, False]), "b": np.array([True, True])})
    assert apply(frame, sc, {"a": -1.0}).rows() == [(-1.0, None), (2.0, None)]


def test_observed_scenario_is_deterministic_and_follows_rates():
    mapping = {"f": ["ads"], "g": ["ads", "analytics"], "h": []}
    a = observed_scenario(20000, mapping, {"ads": 0.4, "analytics": 0.5}, seed=3)
    b = observed_scenario(20000, mapping, {"ads": 0.4, "analytics": 0.5}, seed=3)
    assert np.array_equal(a.masks["g"], b.masks["g"])
    assert a.masks["f"].mean() == pytest.approx(0.6, abs=0.02)
    assert a.masks["g"].mean() == pytest.approx(1 - 0.4 * 0.5, abs=0.02)  # independent purposes
    assert not a.masks["h"].any()


def test_parse_consent_rates():
    assert parse_consent_rates("analytics=0.62, ads=41%,personalisation=0.3") == {
        "analytics": 0.62,
        "ads": 0.41,
        "personalization": 0.3,
    }
    for bad in ["", "analytics", "analytics=1.5", "nosuch=0.2", "ads=x"]:
        with pytest.raises(UsageError):
            parse_consent_rates(bad)


def test_consent_rates_with_a_misspelt_purpose_name_it():
    """'analytcs=0.5' said "cannot read", as if the syntax were wrong."""
    with pytest.raises(UsageError) as caught:
        parse_consent_rates("ads=0.4,analytcs=0.5")
    assert caught.value.message == (
        "--consent-rates: unknown purpose 'analytcs'; did you mean 'analytics'?"
    )
    assert "personalization" in caught.value.hint


@given(
    st.dictionaries(
        st.sampled_from(["analytics", "ads", "personalization", "functional"]),
        st.floats(0, 1, allow_nan=False),
        min_size=1,
    )
)
def test_parse_consent_rates_round_trips(rates):
    text = ",".join(f"{k}={v!r}" for k, v in rates.items())
    assert parse_consent_rates(text) == rates


def test_scan_result_rates_are_used(blind, tmp_path):
    scan = tmp_path / "scan.json"
    scan.write_text('{"evidence": {"consent_rates": {"analytics": 0.5, "ads": 0.5}}}')
    result = run_model_check(
        MODELS / "propensity_imputed.onnx", blind, config=_config(), scan_result=scan
    )
    assert result.evidence["scenarios"]["consent_rates"] == {"analytics": 0.5, "ads": 0.5}
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(InputError, match="consent_rates"):
        run_model_check(
            MODELS / "propensity_imputed.onnx", blind, config=_config(), scan_result=bad
        )


def test_predictions_file_named_after_no_scenario_is_a_usage_error(blind, tmp_path):
    from typer.testing import CliRunner

    from privdiag.cli import app

    rows = pl.read_csv(blind).height
    scores = pl.DataFrame({"row_id": range(rows), "score": [0.5] * rows})
    good, typo = tmp_path / "unmasked.csv", tmp_path / "deny_adds.csv"
    scores.write_csv(good)
    scores.write_csv(typo)
    command = ["model-check", "elsewhere.onnx", "--blind-set", str(blind), "--label", "label"]
    command += ["--predictions", str(good), "--predictions", str(typo)]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    assert f"--predictions {typo}: its name 'deny_adds' matches no scenario" in result.output
    assert "unmasked, " in result.output and "mask_noise" in result.output

    missing = CliRunner().invoke(app, [*command[:-1], str(tmp_path / "deny_ads.csv")])
    assert missing.exit_code == 3 and "deny_ads.csv: file not found" in missing.output

    alone = CliRunner().invoke(app, command[:-2])  # the matching file alone is accepted
    assert alone.exit_code in (0, 1), alone.output


def test_predictions_without_the_unmasked_file_are_a_usage_error(blind, tmp_path):
    """Every scenario's drop is measured against the unmasked scores: without them the run
    used to skip quality, importance and drift and pass a CI gate with nothing checked."""
    from typer.testing import CliRunner

    from privdiag.cli import app

    rows = pl.read_csv(blind).height
    deny = tmp_path / "mask_noise.csv"  # a scenario without a config: masking one feature
    pl.DataFrame({"row_id": range(rows), "score": [0.5] * rows}).write_csv(deny)
    command = ["model-check", "elsewhere.onnx", "--blind-set", str(blind), "--label", "label"]
    result = CliRunner().invoke(app, [*command, "--predictions", str(deny)])
    assert result.exit_code == 2, result.output
    assert "no file for the unmasked scenario" in result.output
    assert "--predictions unmasked.csv" in result.output


def test_a_scan_result_and_a_model_have_no_row_count(blind, tmp_path):
    scan = tmp_path / "scan.json"
    scan.write_text('{"evidence": {"consent_rates": {"ads": 0.4}}}', encoding="utf-8")
    result = run_model_check(
        MODELS / "propensity_imputed.onnx", blind, config=_config(), scan_result=scan
    )
    assert {i.role: i.rows for i in result.inputs} == {
        "model": None,
        "blind_set": 2000,
        "scan_result": None,
    }
    from privdiag.report.context import _input_views

    views = _input_views(result.to_dict())
    assert [v.rows for v in views] == ["–", "2,000", "–"]


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_a_scan_result_that_is_no_file_is_an_input_error_not_a_crash(blind, tmp_path, kind):
    from typer.testing import CliRunner

    from privdiag.cli import app

    scan = tmp_path / "scan.json"
    if kind == "folder":
        scan.mkdir()
    model = MODELS / "propensity_imputed.onnx"
    args = ["model-check", str(model), "--blind-set", str(blind), "--scan-result", str(scan)]
    # --consent-rates too: the scan result is then read only to link findings, after the run.
    out = CliRunner().invoke(app, [*args, "--consent-rates", "analytics=0.5", "-q"])
    assert out.exit_code == 3, out.output
    assert "scan.json" in out.output
    assert ("file not found" if kind == "missing" else "is a folder") in out.output
    assert "Internal error" not in out.output


def _by_name_pipeline(blind: Path):
    """A pipeline fitted on a DataFrame whose ColumnTransformer picks columns by name, and
    its ROC AUC on the blind set computed by scikit-learn itself: unmasked and with ads
    denied (ad_clicks_7d null, so imputed)."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(blind)
    cols = ["tenure_days", "sessions_30d", "ad_clicks_7d"]
    scaled = make_pipeline(SimpleImputer(), StandardScaler())
    picks = ColumnTransformer(
        [("num", scaled, ["sessions_30d", "ad_clicks_7d"]), ("t", "passthrough", ["tenure_days"])]
    )
    model = make_pipeline(picks, LogisticRegression()).fit(frame[cols], frame["label"])
    denied = frame[cols].assign(ad_clicks_7d=np.nan)
    expected = (
        roc_auc_score(frame["label"], model.predict_proba(frame[cols])[:, 1]),
        roc_auc_score(frame["label"], model.predict_proba(denied)[:, 1]),
    )
    return model, expected


def test_a_skops_model_that_picks_columns_by_name_is_scored_on_named_columns(blind, tmp_path):
    import warnings

    import skops.io as sio

    model, expected = _by_name_pipeline(blind)
    path = tmp_path / "by_name.skops"
    sio.dump(model, path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_model_check(path, blind, config=_config(), consent_rates=RATES)
    row = result.evidence["scenario_metrics"]["deny_ads"]["rows"][0]
    assert row[0] == "roc_auc" and row[1:3] == pytest.approx(expected, abs=1e-6)
    assert result.evidence["model"]["features"] == ["tenure_days", "sessions_30d", "ad_clicks_7d"]
    assert not [w for w in caught if "feature names" in str(w.message)]


def test_a_pickled_model_fitted_on_a_dataframe_uses_its_own_input_names(blind, tmp_path):
    # No [models.X] features: the blind set's other columns (basket_value, reco_clicks, noise)
    # are not the model's, and the child process tells privdiag which ones are.
    model, expected = _by_name_pipeline(blind)
    path = tmp_path / "by_name.pkl"
    path.write_bytes(pickle.dumps(model))
    result = run_model_check(path, blind, config=_config(), consent_rates=RATES, allow_pickle=True)
    row = result.evidence["scenario_metrics"]["deny_ads"]["rows"][0]
    assert row[0] == "roc_auc" and row[1:3] == pytest.approx(expected, abs=1e-6)
    assert result.evidence["model"]["features"] == ["tenure_days", "sessions_30d", "ad_clicks_7d"]


def test_a_label_that_is_one_of_the_model_inputs_is_a_usage_error(blind, tmp_path):
    # A regressor checked with --label naming one of its own inputs was scored on the outcome
    # it was given (exit 0, the quality of a model that sees the answer).
    from typer.testing import CliRunner

    from privdiag.cli import app

    model = MODELS / "basket_value.onnx"  # a regressor: any number passes as its label
    out = tmp_path / "o.json"
    args = ["model-check", str(model), "--blind-set", str(blind), "--label", "tenure_days"]
    result = CliRunner().invoke(app, [*args, "--json", str(out), "-q"])
    assert result.exit_code == 2, result.output
    assert "the label column 'tenure_days' is one of the model's inputs" in result.output
    assert not out.exists()


def test_model_findings_fall_back_to_the_owners_of_their_features(blind):
    """Without a [models.X] owner every model finding read "no owner", though each feature
    had one: a finding on one feature, or on a scenario masking features of one owner, now
    falls back to that owner (their own tables, glob tables and [owners] patterns, as scan
    findings do); a scenario masking features of several owners has none. A model pattern
    in [owners] owns them all."""
    features = {
        "sessions_30d": {"purposes": ["analytics"], "owner": "web-analytics"},
        "ad_*": {"purposes": ["ads"], "owner": "paid-media"},  # a glob table
        "reco_clicks": {"purposes": ["personalization"]},
        "tenure_days": {"purposes": []},
        "noise": {"purposes": ["functional"]},
    }
    raw = {"features": features, "owners": {"feature:reco*": "personalization-team"}}

    def check():
        config = parse_config(raw, Path("privdiag.toml"))
        model = MODELS / "propensity_imputed.onnx"
        return run_model_check(model, blind, config=config, consent_rates=RATES)

    result = check()
    owners = {f.location["scenario"]: f.owner for f in _kinds(result)["model.degradation"]}
    assert owners == {
        "deny_ads": "paid-media",
        "deny_analytics": "web-analytics",
        "all_denied": None,  # masks features of several owners
        "observed": None,
    }
    assert [f.owner for f in _kinds(result)["drift.prediction"]] == [None]  # all_denied
    fragile = {f.location["feature"]: f.owner for f in _kinds(result)["model.fragile_feature"]}
    assert fragile == {"sessions_30d": "web-analytics", "ad_clicks_7d": "paid-media"}

    raw["owners"]["model:propensity*"] = "data-science"
    result = check()
    by_scenario = {f.location["scenario"]: f.owner for f in _kinds(result)["model.degradation"]}
    assert set(by_scenario.values()) == {"data-science"}
    fragile = {f.location["feature"]: f.owner for f in _kinds(result)["model.fragile_feature"]}
    assert fragile["sessions_30d"] == "web-analytics"  # a feature's own owner comes first


def test_a_model_fitted_on_a_dataframe_gets_the_array_where_pandas_is_missing(monkeypatch):
    """pandas is not a dependency of privdiag: a model that records its input names gets a
    DataFrame when pandas is there, and the plain array, not an ImportError, when it is not
    (before, every such model stopped the check on a machine without pandas)."""
    import sys

    import numpy as np

    from privdiag.model.sklearn_scorer import sklearn_input, sklearn_scores

    class Summing:  # a fitted regressor's surface: input names, predict()
        feature_names_in_ = np.array(["a", "b"])

        def predict(self, x):
            self.got = type(x).__name__
            return np.asarray(x, dtype=float).sum(axis=1)

    model = Summing()
    frame = pl.DataFrame({"a": [1.0, 3.0], "b": [2.0, 4.5]})
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    assert sklearn_scores(model, sklearn_input(model, frame, ["a", "b"])).tolist() == [3.0, 7.5]
    assert model.got == "ndarray"


def test_an_unreadable_reference_stops_the_check_before_blind_sets_are_exported(blind, tmp_path):
    """--reference was read after --export-blind-sets had written every scenario's file, so
    a reference that cannot be read (exit 3) left a folder of blind sets behind it."""
    out = tmp_path / "sets"
    missing = tmp_path / "no_reference.parquet"
    with pytest.raises(InputError, match="file not found"):
        run_model_check(
            MODELS / "basket_value.onnx",
            blind,
            config=_config(),
            label="basket_value",
            reference=missing,
            export_blind_sets=out,
        )
    assert not out.exists()


def test_a_reference_is_scored_but_not_exported(blind, tmp_path):
    out = tmp_path / "sets"
    result = run_model_check(
        MODELS / "basket_value.onnx",
        blind,
        config=_config(),
        label="basket_value",
        reference=blind,
        export_blind_sets=out,
    )
    assert not (out / "reference.parquet").exists() and (out / "unmasked.parquet").exists()
    assert [i.role for i in result.inputs] == ["model", "blind_set", "reference"]


def test_a_blind_set_in_json_lines_or_json_reads_as_its_csv(blind, tmp_path):
    """The same 2,000 rows as NDJSON, JSON lines and a JSON array: model-check said
    "unsupported format" for them; now each gives the CSV's findings and metrics exactly,
    and the input's format is named. A .xlsx is still refused, naming the formats taken."""
    frame = pl.read_csv(blind)
    want = run_model_check(
        MODELS / "propensity_imputed.onnx", blind, config=_config(), consent_rates=RATES
    )
    paths = {f: tmp_path / f"blind.{f}" for f in ("ndjson", "jsonl", "json")}
    frame.write_ndjson(paths["ndjson"])
    frame.write_ndjson(paths["jsonl"])
    frame.write_json(paths["json"])
    for fmt, path in paths.items():
        got = run_model_check(
            MODELS / "propensity_imputed.onnx", path, config=_config(), consent_rates=RATES
        )
        assert [(f.id, f.metrics) for f in got.findings] == [
            (f.id, f.metrics) for f in want.findings
        ], fmt
        [read] = [i for i in got.inputs if i.role == "blind_set"]
        assert (read.format, read.rows) == ("json" if fmt == "json" else "ndjson", 2000)

    other = tmp_path / "blind.xlsx"
    other.write_bytes(b"PK")
    with pytest.raises(InputError, match="unsupported format") as err:
        run_model_check(MODELS / "propensity_imputed.onnx", other, config=_config())
    assert ".ndjson" in str(err.value.hint) and ".parquet" in str(err.value.hint)


def test_a_refused_pickle_is_a_usage_error_and_a_bad_label_names_its_row(blind, tmp_path):
    """The twelfth trial: a pickle refused without --allow-pickle exited 3 (input) though the
    file may be fine and loading it is the user's choice (exit 2 now, the hint naming the
    flag); a classifier label of 2 named the field but not the row."""
    from typer.testing import CliRunner

    from privdiag.cli import app

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"not": "loaded"}))
    config = tmp_path / "privdiag.toml"
    config.write_text("")
    refused = CliRunner().invoke(
        app, ["model-check", str(path), "--blind-set", str(blind), "--config", str(config)]
    )
    assert refused.exit_code == 2, refused.output
    assert "hint: pass --allow-pickle if you trust the file" in refused.output

    bad = tmp_path / "bad.csv"
    frame = pl.read_csv(blind)
    # rows 12 and 40 (1-based, as the other label errors count) hold 2 and 17
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 11)
        .then(2)
        .when(pl.int_range(pl.len()) == 39)
        .then(17)
        .otherwise(pl.col("label"))
        .alias("label")
    ).write_csv(bad)
    with pytest.raises(InputError) as error:
        run_model_check(MODELS / "propensity_imputed.onnx", bad, config=_config())
    assert error.value.exit_code == 3 and (error.value.row, error.value.field) == (12, "label")
    assert "a 1-character value of digits is not a classifier's label (2 rows in all)" in (
        error.value.message
    )


def test_drift_without_a_reference_leaves_the_masked_rows_out(blind, tmp_path):
    """The twelfth trial: without --reference the consent-filtered blind set was compared with
    the unmasked one, so sessions_30d and ad_clicks_7d "drifted" by the very share the
    observed scenario masked (40 % and 60 % at rates 0.6 and 0.4): findings restating the
    scenario. Now the masked rows are left out and their share shown as `masked`; with a
    training sample as --reference the missing share is drift again."""
    alone = run_model_check(
        MODELS / "propensity_imputed.onnx", blind, config=_config(), consent_rates=RATES
    )
    assert "drift.feature" not in _kinds(alone)
    table = alone.evidence["drift"]
    rows = {r[0]: dict(zip(table["columns"], r, strict=True)) for r in table["rows"]}
    # the seeded draw (seed 0) masks 775 and 1,185 of the 2,000 rows
    assert (rows["sessions_30d"]["masked"], rows["ad_clicks_7d"]["masked"]) == (0.3875, 0.5925)
    assert rows["sessions_30d"]["missing_current"] == 0.0 and not rows["sessions_30d"]["drifted"]
    assert rows["tenure_days"]["masked"] == 0.0
    assert "rows observed left unmasked" in table["title"]

    reference = tmp_path / "train.csv"
    make_blind_set(2000, seed=6).write_csv(reference)
    given = run_model_check(
        MODELS / "propensity_imputed.onnx",
        blind,
        config=_config(),
        consent_rates=RATES,
        reference=reference,
    )
    drifted = {f.location["feature"]: f for f in _kinds(given)["drift.feature"]}
    assert set(drifted) == {"sessions_30d", "ad_clicks_7d"}
    assert drifted["ad_clicks_7d"].title.endswith("missing share 0% -> 59%")
    assert drifted["ad_clicks_7d"].metrics["missing_current"] == 0.5925
    assert "masked" not in drifted["ad_clicks_7d"].metrics  # None: nothing left out
    assert given.evidence["drift"]["title"] == "Feature drift: reference vs observed"
