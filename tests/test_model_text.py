"""model-check on models with text (categorical) inputs: a scikit-learn Pipeline whose
ColumnTransformer one-hot encodes country, device and channel beside a number, saved with
skops or pickle, and an ONNX model with a string input; blind sets in Parquet and CSV.

Measures are checked against scikit-learn's own on the same masked frame: a masked text cell
is NaN, as pandas reads an empty cell and as scikit-learn's imputers and encoders take it.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import parse_config
from privdiag.errors import ConfigError
from privdiag.model import run_model_check

pd = pytest.importorskip("pandas", reason="the tests fit scikit-learn models on DataFrames")

FEATURES = ["country", "device", "channel", "sessions_30d"]
PURPOSES = {"device": ["analytics"], "channel": ["ads"], "sessions_30d": ["analytics"]}
RATES = {"analytics": 0.6, "ads": 0.4}


def make_text_blind_set(n: int, seed: int) -> pl.DataFrame:
    """Rows with three text features and one number; the label depends on channel (paid
    search converts), country and sessions. Three rows hold rare countries (Tuvalu once,
    Nauru twice), and every row a user id."""
    rng = np.random.default_rng(seed)
    country = rng.choice(["DE", "FR", "US", "GB"], n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    country[:3] = ["Tuvalu", "Nauru", "Nauru"]
    device = rng.choice(["mobile", "desktop", "tablet"], n, p=[0.5, 0.4, 0.1])
    channel = rng.choice(["paid_search", "social", "email", "direct"], n)
    sessions = rng.poisson(3.0, n).astype(np.float64)
    logit = -1.0 + 1.5 * (channel == "paid_search") + 0.8 * (country == "US") + 0.3 * (sessions - 3)
    label = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    return pl.DataFrame(
        {
            "user_id": [f"u{i:07d}" for i in range(n)],
            "country": country.astype(str),
            "device": device,
            "channel": channel,
            "sessions_30d": sessions,
            "label": label,
        }
    )


def _pipeline(handle_unknown: str = "ignore"):
    """The data scientist's model: missing text imputed as "missing" then one-hot encoded,
    the number imputed and scaled, a logistic regression on top; fitted on a DataFrame."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if handle_unknown == "ignore":
        text = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="ignore"),
        )
    else:  # fails on a value it has not seen, a missing one included
        text = OneHotEncoder(handle_unknown="error")
    numbers = make_pipeline(SimpleImputer(), StandardScaler())
    columns = ColumnTransformer(
        [("text", text, ["country", "device", "channel"]), ("num", numbers, ["sessions_30d"])]
    )
    train = make_text_blind_set(4000, seed=1).to_pandas()
    return make_pipeline(columns, LogisticRegression(max_iter=1000)).fit(
        train[FEATURES], train["label"]
    )


@pytest.fixture(scope="module")
def model():
    return _pipeline()


@pytest.fixture(scope="module")
def blind(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("text") / "blind.parquet"
    make_text_blind_set(2000, seed=2).write_parquet(path)
    return path


def _config(**features):
    raw = {"features": {f: {"purposes": p} for f, p in PURPOSES.items()} | features}
    return parse_config(raw, Path("privdiag.toml"))


def _measures(result, scenario: str) -> dict[str, tuple[float, float]]:
    rows = result.evidence["scenario_metrics"][scenario]["rows"]
    return {row[0]: (row[1], row[2]) for row in rows}


def _expected(model, blind: Path, masked: list[str]) -> dict[str, tuple[float, float]]:
    """ROC AUC, Brier score and log loss by scikit-learn, unmasked and with ``masked`` NaN."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

    frame = pd.read_parquet(blind)
    y, x = frame["label"], frame[FEATURES]
    base = model.predict_proba(x)[:, 1]
    scen = model.predict_proba(x.assign(**dict.fromkeys(masked, np.nan)))[:, 1]
    return {
        name: (measure(y, base), measure(y, scen))
        for name, measure in [
            ("roc_auc", roc_auc_score),
            ("brier", brier_score_loss),
            ("log_loss", log_loss),
        ]
    }


def test_a_skops_pipeline_with_text_inputs_is_scored_as_scikit_learn_scores_it(
    model, blind, tmp_path
):
    """Every input was cast to a number, so a pipeline one-hot encoding country, device and
    channel could not be scored ("cannot score the blind set as given", exit 3)."""
    import skops.io as sio

    path = tmp_path / "text.skops"
    sio.dump(model, path)
    result = run_model_check(path, blind, config=_config(), consent_rates=RATES)
    assert result.evidence["model"]["features"] == FEATURES  # the user id is no input

    for scenario, masked in [
        ("deny_ads", ["channel"]),
        ("deny_analytics", ["device", "sessions_30d"]),
    ]:
        got, expected = _measures(result, scenario), _expected(model, blind, masked)
        for name, pair in expected.items():
            assert got[name] == pytest.approx(pair, abs=1e-6), (scenario, name)

    # masking importance of a text feature: the ROC AUC lost with channel missing everywhere
    bars = result.evidence["importance"]["features"]
    drop = dict(zip(bars["labels"], bars["values"], strict=True))["channel"]
    auc = _expected(model, blind, ["channel"])["roc_auc"]
    assert drop == pytest.approx(auc[0] - auc[1], abs=1e-6)
    assert drop > 0.05  # paid search drives the label: losing channel costs the most
    fragile = [f.location["feature"] for f in result.findings if f.kind == "model.fragile_feature"]
    assert fragile[0] == "channel"


def test_a_pickled_pipeline_gets_its_text_inputs_in_the_child_process(model, blind, tmp_path):
    """The pickle transfer was an .npz of numbers, which carries no text: a pickled text
    pipeline failed on every scenario. The child now reads Arrow files holding the text."""
    csv = tmp_path / "blind.csv"
    pl.read_parquet(blind).write_csv(csv)
    path = tmp_path / "text.pkl"
    path.write_bytes(pickle.dumps(model))
    result = run_model_check(path, csv, config=_config(), consent_rates=RATES, allow_pickle=True)
    got, expected = _measures(result, "deny_ads"), _expected(model, blind, ["channel"])
    assert got["roc_auc"] == pytest.approx(expected["roc_auc"], abs=1e-6)
    assert got["brier"] == pytest.approx(expected["brier"], abs=1e-6)
    assert not [f for f in result.findings if f.kind == "model.missing_unsupported"]


def test_an_encoder_that_fails_on_a_missing_text_is_a_finding_not_a_crash(blind, tmp_path):
    """OneHotEncoder(handle_unknown="error") raises on the NaN that consent masking leaves:
    model.missing_unsupported names the masked text feature."""
    import skops.io as sio

    path = tmp_path / "strict.skops"
    sio.dump(_pipeline(handle_unknown="error"), path)
    result = run_model_check(path, blind, config=_config(), consent_rates=RATES)
    failing = {
        f.location["scenario"]: f.metrics["features"]
        for f in result.findings
        if f.kind == "model.missing_unsupported"
    }
    assert failing["deny_ads"] == ["channel"]
    assert "unknown categories" in next(
        f.metrics["error"] for f in result.findings if f.kind == "model.missing_unsupported"
    )


def test_a_text_feature_default_is_what_masking_sets(model, blind, tmp_path):
    """[features.X] default on a text feature: masked cells read the default, and a default
    that a column of numbers cannot hold is a config error naming the feature, no longer an
    internal error (exit 5)."""
    import skops.io as sio

    out = tmp_path / "sets"
    config = _config(channel={"purposes": ["ads"], "default": "unknown"})

    path = tmp_path / "text.skops"
    sio.dump(model, path)
    run_model_check(path, blind, config=config, export_blind_sets=out)
    assert pl.read_parquet(out / "deny_ads.parquet")["channel"].unique().to_list() == ["unknown"]

    bad = _config(sessions_30d={"purposes": ["analytics"], "default": "none"})
    with pytest.raises(ConfigError, match=r"\[features.sessions_30d\]: default 'none' does not"):
        run_model_check(path, blind, config=bad)


def test_text_drift_names_only_large_categories(model, blind, tmp_path):
    """A text feature's drift finding shows its category shares in both sets; the rare
    countries (Tuvalu once, Nauru twice) are pooled, never named."""
    import skops.io as sio

    path = tmp_path / "text.skops"
    sio.dump(model, path)
    # the blind set as its own --reference: the masked rows count (without one they are left
    # out, their missing share being the scenario's)
    result = run_model_check(path, blind, config=_config(), consent_rates=RATES, reference=blind)
    shares = result.evidence["drift_categories"]
    frame = pl.read_parquet(blind)
    counts = frame["country"].value_counts()
    n_other = int(counts.filter(pl.col("country").is_in(["Tuvalu", "Nauru"]))["count"].sum())
    rows = {r[0]: r[1:] for r in shares["country"]["rows"]}
    assert set(rows) == {"DE", "FR", "US", "GB", "(other values)"}
    # the pooled rare countries are 3 rows of 2,000 (0.0015), fewer than min_group_size: a
    # share of them tells of those 3, so it is published as no value
    assert n_other == 3
    assert rows["(other values)"] == [None, None]

    # channel: 40% of rows grant ads, so about 60% are missing in the observed set
    drifted = next(
        f
        for f in result.findings
        if f.kind == "drift.feature" and f.location["feature"] == "channel"
    )
    table = drifted.evidence["table"][1]
    assert table["columns"] == ["category", "share_reference", "share_current"]
    missing = dict((r[0], r[2]) for r in table["rows"])["(missing)"]
    assert missing == pytest.approx(drifted.metrics["missing_current"])
    assert sum(r[1] for r in table["rows"]) == pytest.approx(1.0)
    assert sum(r[2] for r in table["rows"]) == pytest.approx(1.0)
    text = json.dumps(result.to_dict())
    assert "Tuvalu" not in text and "Nauru" not in text and "u0000001" not in text


def test_cli_checks_a_text_model_on_a_csv_blind_set(model, blind, tmp_path):
    """Through the CLI as a user runs it: exit 0 or 1 (findings), the HTML names the
    category shares as percentages."""
    import skops.io as sio

    path = tmp_path / "text.skops"
    sio.dump(model, path)
    csv = tmp_path / "blind.csv"
    pl.read_parquet(blind).write_csv(csv)
    config = tmp_path / "privdiag.toml"
    config.write_text(
        "".join(f"[features.{f}]\npurposes = {json.dumps(p)}\n" for f, p in PURPOSES.items())
    )
    html = tmp_path / "model.html"
    args = ["model-check", str(path), "--blind-set", str(csv), "--config", str(config)]
    args += ["--consent-rates", "analytics=0.6,ads=0.4", "--html", str(html), "-q"]
    args += ["--reference", str(csv)]  # without one, masking alone is not drift: no finding
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    page = html.read_text(encoding="utf-8")
    assert "<caption>Category shares of channel</caption>" in page
    assert "Tuvalu" not in page


# no two channels differ by a multiple of the sessions weight: no ties that float32 could order
CHANNEL_WEIGHTS = {"direct": 0.13, "email": -0.21, "paid_search": 1.5, "social": 0.37}


def _onnx_text_model(path: Path) -> None:
    """An ONNX classifier with a string input: p = sigmoid(w[channel] + 0.3 * sessions - 1),
    a channel it does not know (the empty string included) weighing 0."""
    from onnx_proto import FLOAT, STRING, float_tensor, node, value_info
    from onnx_proto import model as onnx_model

    nodes = [
        node(
            "LabelEncoder",
            ["channel"],
            ["c_w"],
            domain="ai.onnx.ml",
            keys_strings=list(CHANNEL_WEIGHTS),
            values_floats=list(CHANNEL_WEIGHTS.values()),
            default_float=0.0,
        ),
        node("Mul", ["sessions_30d", "w_s"], ["s_w"]),
        node("Add", ["c_w", "s_w"], ["z0"]),
        node("Add", ["z0", "bias"], ["z"]),
        node("Sigmoid", ["z"], ["p"]),
        node("Sub", ["one", "p"], ["q"]),
        node("Concat", ["q", "p"], ["probabilities"], axis=1),
    ]
    constants = [
        float_tensor("w_s", [0.3], []),
        float_tensor("bias", [-1.0], []),
        float_tensor("one", [1.0], []),
    ]
    inputs = [value_info("channel", STRING), value_info("sessions_30d", FLOAT)]
    outputs = [value_info("p", FLOAT), value_info("probabilities", FLOAT, 2)]
    path.write_bytes(onnx_model(nodes, inputs, outputs, constants))


def test_an_onnx_model_with_a_string_input_is_scored_with_missing_text_as_empty(blind, tmp_path):
    """A string tensor holds no missing value: a masked channel reaches the model as '', which
    this model (like a LabelEncoder's default) weighs 0. ROC AUC by hand, in float32."""
    from sklearn.metrics import roc_auc_score

    path = tmp_path / "text.onnx"
    _onnx_text_model(path)
    result = run_model_check(path, blind, config=_config(), consent_rates=RATES)
    assert result.evidence["model"]["features"] == ["channel", "sessions_30d"]

    frame = pl.read_parquet(blind)
    weight = frame["channel"].replace_strict(CHANNEL_WEIGHTS, return_dtype=pl.Float32).to_numpy()
    sessions = frame["sessions_30d"].cast(pl.Float32).to_numpy()

    def scores(w: np.ndarray) -> np.ndarray:
        z = w + np.float32(0.3) * sessions - np.float32(1.0)
        return 1.0 / (1.0 + np.exp(-z.astype(np.float64)))

    y = frame["label"].to_numpy()
    expected = (roc_auc_score(y, scores(weight)), roc_auc_score(y, scores(np.zeros_like(weight))))
    assert _measures(result, "deny_ads")["roc_auc"] == pytest.approx(expected, abs=1e-6)
    # a missing number is NaN, which this model does not impute: only the number fails
    failing = [f for f in result.findings if f.kind == "model.missing_unsupported"]
    assert {tuple(f.metrics["features"]) for f in failing} == {("sessions_30d",)}


@pytest.mark.parametrize("suffix", [".skops", ".pkl"])
def test_text_where_a_model_takes_numbers_is_named_without_quoting_it(tmp_path, suffix):
    """A numeric model given a text column: exit 3, naming the column; scikit-learn's message
    quoted the value it could not read ("could not convert string to float: 'Alice Smith'")."""
    import skops.io as sio

    from privdiag.model.synthetic import FEATURES as NUMBERS
    from privdiag.model.synthetic import make_blind_set

    models = Path(__file__).resolve().parent.parent / "fixtures" / "models"
    model = sio.load(models / "propensity_imputed.skops", trusted=["numpy.dtype"])
    path = tmp_path / f"numbers{suffix}"
    if suffix == ".pkl":
        path.write_bytes(pickle.dumps(model))
    else:
        sio.dump(model, path)
    csv = tmp_path / "blind.csv"
    make_blind_set(200, seed=4).with_columns(pl.lit("Alice Smith").alias("noise")).write_csv(csv)
    config = tmp_path / "privdiag.toml"
    config.write_text(f"[models.m]\npath = '{path.name}'\nfeatures = {json.dumps(NUMBERS)}\n")
    args = ["model-check", str(path), "--blind-set", str(csv), "--config", str(config)]
    result = CliRunner().invoke(app, [*args, "--allow-pickle"])
    assert result.exit_code == 3, result.output
    assert "could not convert string to float" in result.output
    assert "the blind set holds text in noise" in " ".join(result.output.split())
    assert "Alice" not in result.output


def test_an_enum_column_takes_a_default_outside_its_values(model, blind, tmp_path):
    """A Parquet column of polars' Enum type holds only its listed values: masking it with
    `default = "unknown"` failed; Enum columns are read as text."""
    import skops.io as sio

    frame = pl.read_parquet(blind)
    typed = tmp_path / "enum.parquet"
    channels = sorted(frame["channel"].unique().to_list())
    frame.with_columns(pl.col("channel").cast(pl.Enum(channels))).write_parquet(typed)
    assert isinstance(pl.read_parquet(typed).schema["channel"], pl.Enum)
    path = tmp_path / "text.skops"
    sio.dump(model, path)
    out = tmp_path / "sets"
    config = _config(channel={"purposes": ["ads"], "default": "unknown"})
    result = run_model_check(path, typed, config=config, export_blind_sets=out)
    assert pl.read_parquet(out / "deny_ads.parquet")["channel"].unique().to_list() == ["unknown"]
    assert "deny_ads" in result.evidence["scenario_metrics"]


def test_exported_text_blind_sets_scored_elsewhere_give_the_same_measures(model, blind, tmp_path):
    """Predictions mode: the exported blind sets keep the text columns (a masked cell empty),
    and scores computed from them elsewhere give the measures of the direct run."""
    import skops.io as sio

    path = tmp_path / "text.skops"
    sio.dump(model, path)
    out = tmp_path / "sets"
    direct = run_model_check(path, blind, config=_config(), export_blind_sets=out)
    exported = pl.read_parquet(out / "deny_ads.parquet")
    assert exported.schema["channel"] == pl.String
    assert exported["channel"].null_count() == exported.height

    preds = []
    for file in sorted(out.glob("*.parquet")):
        frame = pd.read_parquet(file)  # as a data scientist reads it: a missing text is NaN
        score = model.predict_proba(frame[FEATURES])[:, 1]
        target = tmp_path / "scores" / file.name
        target.parent.mkdir(exist_ok=True)
        pl.DataFrame({"row_id": frame["row_id"], "score": score}).write_parquet(target)
        preds.append(target)
    back = run_model_check(Path("text.skops"), blind, config=_config(), predictions=preds)
    for scenario in ("deny_ads", "deny_analytics", "all_denied"):
        a = direct.evidence["scenario_metrics"][scenario]["rows"]
        b = back.evidence["scenario_metrics"][scenario]["rows"]
        assert a == b, scenario


def test_a_label_written_as_words_is_read_and_a_bad_one_named_without_quoting(
    model, blind, tmp_path
):
    """A label column of "yes"/"no" (text) ended in an internal error (exit 5) quoting the
    values; yes/no and true/false read as 1/0 now, and a label that is neither is an input
    error naming its row without quoting it."""
    import skops.io as sio

    path = tmp_path / "text.skops"
    sio.dump(model, path)
    frame = pl.read_parquet(blind)
    words = frame.with_columns(
        pl.when(pl.col("label") == 1).then(pl.lit(" Yes")).otherwise(pl.lit("no")).alias("label")
    )
    csv = tmp_path / "words.csv"
    words.write_csv(csv)
    as_words = run_model_check(path, csv, config=_config())
    as_numbers = run_model_check(path, blind, config=_config())
    assert as_words.evidence["scenario_metrics"] == as_numbers.evidence["scenario_metrics"]

    bad = tmp_path / "bad.csv"
    row = pl.int_range(pl.len()) == 7
    words.with_columns(
        pl.when(row).then(pl.lit("Alice")).otherwise("label").alias("label")
    ).write_csv(bad)
    config = tmp_path / "privdiag.toml"
    config.write_text("")
    args = ["model-check", str(path), "--blind-set", str(bad), "--config", str(config)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output
    assert "row 8, field 'label': a 5-character value of letters is not a label" in result.output
    assert "Alice" not in result.output


@pytest.mark.parametrize(
    ("column", "default", "holds"),
    [
        (pl.Series("f", [1.0, 2.0]), "none", "numbers"),
        (pl.Series("f", [None, None]), 3, "no value at all"),
        (pl.Series("f", ["a", "b"], dtype=pl.Enum(["a", "b"])), "zz", "text"),
    ],
)
def test_a_default_the_column_cannot_hold_is_a_config_error(column, default, holds):
    from privdiag.model.blindset import feature_defaults

    config = _config(f={"default": default})
    with pytest.raises(ConfigError, match=f"\\[features.f\\]: default .* which holds {holds}"):
        feature_defaults(config, column.to_frame(), ["f"])
    assert feature_defaults(_config(f={"default": 0}), pl.DataFrame({"f": ["a"]}), ["f"]) == {
        "f": 0
    }  # a number for a text column is the text "0"


def _store_pipeline():
    """A pipeline that learnt ``store`` as text ("10", "20", "30": codes written as text in
    training) one-hot encoded, unknown categories ignored, beside a number."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(3)
    store = rng.choice(["10", "20", "30"], 1000).astype(object)
    sessions = rng.poisson(3.0, 1000).astype(np.float64)
    label = (rng.uniform(size=1000) < np.where(store == "30", 0.8, 0.2)).astype(int)
    train = pd.DataFrame({"store": store, "sessions_30d": sessions})
    text = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(handle_unknown="ignore"),
    )
    columns = ColumnTransformer(
        [("text", text, ["store"]), ("num", "passthrough", ["sessions_30d"])]
    )
    model = make_pipeline(columns, LogisticRegression(max_iter=1000)).fit(train, label)
    blind = pl.DataFrame({"store": store.astype(str), "sessions_30d": sessions, "label": label})
    return model, blind


def test_numbers_where_the_model_learnt_text_are_noted(tmp_path):
    """The eleventh hostile session: a blind set column of numbers (a CSV of store codes
    10/20/30 reads as integers) where the pipeline learnt text was scored silently, every
    value an unknown category. The fitted OneHotEncoder's categories are read now: a note
    names the column, quoting no value; the same column as text gives none."""
    import skops.io as sio

    from privdiag.model.sklearn_scorer import learnt_text

    model, blind = _store_pipeline()
    assert learnt_text(model, ["store", "sessions_30d"]) == ["store"]
    path = tmp_path / "store.skops"
    sio.dump(model, path)
    config = parse_config({"features": {"store": {"purposes": ["ads"]}}}, Path("x.toml"))
    as_text = tmp_path / "text.parquet"
    blind.write_parquet(as_text)
    as_numbers = tmp_path / "numbers.csv"
    blind.write_csv(as_numbers)  # 10, 20, 30 unquoted: read back as integers
    assert pl.read_csv(as_numbers)["store"].dtype == pl.Int64

    right = run_model_check(path, as_text, config=config, consent_rates={"ads": 0.5})
    assert not any("as text" in n for n in right.evidence.get("notes", []))
    wrong = run_model_check(path, as_numbers, config=config, consent_rates={"ads": 0.5})
    notes = [n for n in wrong.evidence["notes"] if "learnt store as text" in n]
    assert len(notes) == 1 and "holds numbers" in notes[0]
    assert not any(v in notes[0] for v in ("10", "20", "30"))
    # every store unknown: the scores carry no store at all, so masking it costs nothing
    base = wrong.evidence["importance"]["features"]
    assert dict(zip(base["labels"], base["values"], strict=True))["store"] == 0.0

    pickled = tmp_path / "store.pkl"
    pickled.write_bytes(pickle.dumps(model))
    by_pickle = run_model_check(
        pickled, as_numbers, config=config, consent_rates={"ads": 0.5}, allow_pickle=True
    )
    assert any("learnt store as text" in n for n in by_pickle.evidence["notes"])


def test_a_model_refusing_numbers_it_learnt_as_text_names_them_in_the_hint(tmp_path):
    """handle_unknown="error": the model cannot score the numbers at all (exit 3); the hint
    says which column it learnt as text."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from privdiag.errors import InputError

    _, blind = _store_pipeline()
    columns = ColumnTransformer(
        [
            ("text", OneHotEncoder(handle_unknown="error"), ["store"]),
            ("num", "passthrough", ["sessions_30d"]),
        ]
    )
    model = make_pipeline(columns, LogisticRegression()).fit(
        blind.drop("label").to_pandas(), blind["label"].to_numpy()
    )
    path = tmp_path / "strict.skops"
    sio.dump(model, path)
    csv = tmp_path / "numbers.csv"
    blind.write_csv(csv)
    config = parse_config({"features": {"store": {"purposes": ["ads"]}}}, Path("x.toml"))
    with pytest.raises(InputError) as error:
        run_model_check(path, csv, config=config)
    assert "the model learnt store as text, the blind set holds numbers" in str(error.value)
