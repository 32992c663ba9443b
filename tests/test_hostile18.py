"""The eighteenth hostile session's findings: ONNX models whose inputs are integers, half
floats or booleans, and models whose scores are no probabilities (logits, NaN, infinity).

The models are written by hand (``onnx_proto``): p = sigmoid(a + 0.3 * b - 1) over a float
``a`` (ads) and ``b`` (analytics, whole numbers 0 to 4), with variants of that graph.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from onnx_proto import FLOAT, float_tensor, node, value_info
from onnx_proto import model as onnx_model
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import Config, FeatureConfig, parse_config
from privdiag.errors import InputError
from privdiag.model import run_model_check

INT64, FLOAT16, BOOL = 7, 10, 9  # TensorProto.DataType
RATES = {"ads": 0.5, "analytics": 0.6}
CONSTANTS = [
    float_tensor("wb", [0.3], []),
    float_tensor("bias", [-1.0], []),
    float_tensor("one", [1.0], []),
]
CLASSIFIER_OUTPUTS = [value_info("p", FLOAT), value_info("probabilities", FLOAT, 2)]


def _logistic(a: str = "a", b: str = "b") -> list[bytes]:
    """z = a + 0.3 b - 1, p = sigmoid(z), probabilities = [1 - p, p]."""
    return [
        node("Mul", [b, "wb"], ["bw"]),
        node("Add", [a, "bw"], ["z0"]),
        node("Add", ["z0", "bias"], ["z"]),
        node("Sigmoid", ["z"], ["p"]),
        node("Sub", ["one", "p"], ["q"]),
        node("Concat", ["q", "p"], ["probabilities"], axis=1),
    ]


def _write(path: Path, nodes: list[bytes], a_type: int = FLOAT, b_type: int = FLOAT, **kw) -> Path:
    inputs = [value_info("a", a_type), value_info("b", b_type)]
    outputs = kw.get("outputs", CLASSIFIER_OUTPUTS)
    path.write_bytes(onnx_model(nodes, inputs, outputs, kw.get("constants", CONSTANTS)))
    return path


@pytest.fixture(scope="module")
def blind(tmp_path_factory) -> Path:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=400), rng.integers(0, 5, size=400)
    y = (rng.random(400) < 1 / (1 + np.exp(-(a + 0.3 * b - 1)))).astype(int)
    path = tmp_path_factory.mktemp("blind") / "blind.parquet"
    pl.DataFrame({"a": a, "b": b, "label": y}).write_parquet(path)
    return path


def _config(default_b: int | None = None):
    b = {"purposes": ["analytics"]} | ({} if default_b is None else {"default": default_b})
    raw = {"features": {"a": {"purposes": ["ads"]}, "b": b}}
    return parse_config(raw, Path("privdiag.toml"))


def _kinds(result) -> dict[tuple[str, str | None], dict]:
    return {(f.kind, f.location.get("scenario")): f.metrics for f in result.findings}


def test_a_masked_integer_input_fails_its_scenario_not_fed_as_a_huge_negative(blind, tmp_path):
    """NaN cast to int64 reached the model as -9223372036854775808 (with a RuntimeWarning on
    stderr): the model predicted 0 on every row and deny_analytics read as a degradation and
    a calibration loss of 569%. An integer tensor holds no missing value: the scenario fails
    as for a model that takes none, with the reason; a default makes it scorable."""
    model = _write(
        tmp_path / "int.onnx",
        [node("Cast", ["b"], ["bf"], to=FLOAT)] + _logistic(b="bf"),
        b_type=INT64,
    )
    result = run_model_check(model, blind, config=_config(), label="label", consent_rates=RATES)
    found = _kinds(result)
    assert ("model.degradation", "deny_analytics") not in found
    assert ("model.calibration", "deny_analytics") not in found
    error = found[("model.missing_unsupported", "deny_analytics")]["error"]
    assert "b as an integer tensor, which holds no missing value" in error

    defaulted = run_model_check(
        model, blind, config=_config(default_b=0), label="label", consent_rates=RATES
    )
    assert ("model.missing_unsupported", "deny_analytics") not in _kinds(defaulted)
    assert "deny_analytics" in defaulted.evidence["scenario_metrics"]


def test_half_float_and_boolean_inputs_get_their_types(blind, tmp_path):
    """float16 and bool tensors were fed float32: "cannot score the blind set as given:
    InvalidArgument", with a hint to fix the blind set's types, which were right."""
    half = _write(
        tmp_path / "half.onnx",
        [node("Cast", ["a"], ["af"], to=FLOAT)] + _logistic(a="af"),
        a_type=FLOAT16,
    )
    result = run_model_check(half, blind, config=_config(0), label="label", consent_rates=RATES)
    assert "deny_ads" not in result.evidence["scenario_metrics"]  # NaN is not imputed
    assert "deny_analytics" in result.evidence["scenario_metrics"]  # b has a default

    flag = _write(
        tmp_path / "flag.onnx",
        [node("Cast", ["b"], ["bf"], to=FLOAT)] + _logistic(b="bf"),
        b_type=BOOL,
    )
    with pytest.raises(InputError) as caught:  # b holds 0 to 4
        run_model_check(flag, blind, config=_config(), label="label", consent_rates=RATES)
    assert "takes b as a boolean tensor" in str(caught.value) and "0 or 1" in str(caught.value)


def _model_check(model: Path, blind: Path) -> tuple[int, str]:
    args = ["model-check", str(model), "--blind-set", str(blind), "--label", "label"]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


def test_a_classifier_giving_logits_is_an_input_error_not_an_internal_one(blind, tmp_path):
    """Probabilities [-z, z] (a logit): the calibration bins took -17 as an index, an
    internal error (exit 5); a negative score of -0.3 was binned from the end, silently."""
    logits = _logistic()[:3] + [
        node("Neg", ["z"], ["nz"]),
        node("Concat", ["nz", "z"], ["probabilities"], axis=1),
    ]
    outputs = [value_info("z", FLOAT), value_info("probabilities", FLOAT, 2)]
    code, output = _model_check(_write(tmp_path / "logit.onnx", logits, outputs=outputs), blind)
    assert code == 3, output
    assert "probability of class 1 is outside 0 to 1 on 311 of the blind set's 400 rows" in output
    assert "(the first: row 4)" in output and "not a logit" in output


def test_a_model_giving_infinity_or_nan_on_complete_rows_is_named(blind, tmp_path):
    """a / b is infinite where b is 0 (73 rows, the first row 5): a classifier was an
    internal error (exit 5), a regressor was scored with its quality table left empty and
    the scenarios' failures put on the masked features. NaN on complete rows likewise."""
    divide = [node("Div", ["a", "b"], ["r"])]
    code, output = _model_check(
        _write(tmp_path / "inf.onnx", divide, outputs=[value_info("r", FLOAT)], constants=[]),
        blind,
    )
    assert code == 3 and "infinite score to 73 of the blind set's 400 rows" in output, output
    assert "(the first: row 5)" in output

    nan = _logistic()[:-1] + [  # p * (b / b): NaN where b is 0
        node("Div", ["b", "b"], ["bb"]),
        node("Mul", ["p", "bb"], ["pn"]),
        node("Sub", ["one", "pn"], ["qn"]),
        node("Concat", ["qn", "pn"], ["probabilities"], axis=1),
    ]
    outputs = [value_info("pn", FLOAT), value_info("probabilities", FLOAT, 2)]
    code, output = _model_check(_write(tmp_path / "nan.onnx", nan, outputs=outputs), blind)
    assert code == 3 and "NaN to 73 of the blind set's 400 rows, though they hold every" in output


def test_nan_on_rows_missing_an_input_is_noted(blind, tmp_path):
    """A model that takes no missing value, on a blind set of 3 rows without ``a``: quality
    is skipped, now with a note counting the rows and saying why."""
    frame = pl.read_parquet(blind).with_row_index()
    frame = frame.with_columns(pl.when(pl.col("index") < 3).then(None).otherwise("a").alias("a"))
    path = tmp_path / "holes.parquet"
    frame.drop("index").write_parquet(path)
    model = _write(tmp_path / "plain.onnx", _logistic())
    result = run_model_check(model, path, config=_config(), label="label", consent_rates=RATES)
    assert any(
        "NaN on 3 rows of the blind set that miss an input" in n for n in result.evidence["notes"]
    )


@pytest.mark.parametrize(
    ("aliases", "said"),
    [
        # every analytics decision was read as an ads one: a false consent.violation of ads
        ({"analytics": "ads"}, "maps the purpose analytics to ads"),
        ({"Ad-User-Data": "ads"}, "maps the purpose ad_user_data to ads"),
        # one word as categories are compared: the later one won, silently
        ({"Stats": "analytics", "stats ": "ads"}, "'Stats' and 'stats ' are one word"),
    ],
)
def test_an_alias_that_remaps_a_purpose_or_contradicts_another_is_a_config_error(aliases, said):
    from privdiag.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config({"purposes": {"aliases": aliases}}, Path("privdiag.toml"))
    assert said in str(caught.value) and "purposes.aliases" in str(caught.value)


def test_aliases_that_agree_or_name_a_purpose_as_itself_are_kept():
    aliases = {"ANALYTICS": "analytics", "Stats": "ads", "stats": "ads", "Marketing": "analytics"}
    config = parse_config({"purposes": {"aliases": aliases}}, Path("privdiag.toml"))
    assert config.aliases == aliases


def _history(path: Path) -> Path:
    from privdiag.audit.history import RunRecord, open_history

    with open_history(path) as opened:
        finding = {"id": "f1", "kind": "consent.violation", "severity": "high", "title": "t"}
        opened.record(
            RunRecord(run_id="r1", started_at="2026-10-01T00:00:00+00:00"),
            [
                dict(
                    finding,
                    owner=None,
                    location={"source": "web"},
                    metrics={"users": 9},
                    change="new",
                )
            ],
            {"consent_rate.ads": 0.5},
        )
    return path


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        # each was an internal error (exit 5) of --show and of the next audit
        ("UPDATE findings SET metrics = 'not json'", "run r1, finding f1: its metrics is not"),
        (
            "UPDATE findings SET metrics = '[1, 2]'",
            "run r1, finding f1: its metrics is not a JSON object",
        ),
        (
            "UPDATE findings SET location = NULL",
            "run r1, finding f1: its location is not a JSON object",
        ),
        (
            "UPDATE findings SET severity = 'catastrophic'",
            "run r1, finding f1: its severity is none of critical",
        ),
        ("UPDATE runs SET seq = NULL", "run r1: its seq is empty"),
        ("UPDATE runs SET summary = '[]'", "run r1: its summary is not a JSON object"),
        # review 19: internal errors of --list (a list printed as a count) and --show
        (
            """UPDATE runs SET summary = '{"findings": [1]}'""",
            "run r1: its summary's findings is not a whole number",
        ),
        ("UPDATE findings SET change = NULL", "run r1, finding f1: its change is none of new"),
    ],
)
def test_a_history_edited_by_hand_is_an_input_error_naming_the_cell(tmp_path, edit, said):
    import duckdb

    history = _history(tmp_path / "history.duckdb")
    with duckdb.connect(str(history)) as con:
        con.execute(edit)
    result = CliRunner().invoke(app, ["audit", "--history", str(history), "--show", "last"])
    assert result.exit_code == 3, result.output
    assert f"history.duckdb: {said}" in result.output and "edited by hand?" in result.output


def test_a_measure_edited_to_no_name_or_value_is_left_out_of_the_trend(tmp_path):
    """A measure row without a name ended the next audit in an internal error (comparing
    None with a name while sorting the trend)."""
    import duckdb

    from privdiag.audit.history import open_history

    history = _history(tmp_path / "history.duckdb")
    with duckdb.connect(str(history)) as con:
        con.execute("INSERT INTO measures VALUES ('r1', NULL, 1.0), ('r1', 'x', 'nan')")
    with open_history(history) as opened:
        assert opened.measures() == [("r1", "2026-10-01T00:00:00+00:00", "consent_rate.ads", 0.5)]


def _compliance_kinds(tmp_path: Path, log: str) -> dict[str, int]:
    from helpers import config, write

    from privdiag.scan import run_scan

    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,gclid
        2026-10-01T10:00:00Z,page_view,u1,g1
        2026-10-01T11:00:00Z,purchase,u1,g1
        """,
    )
    consent = write(tmp_path / "cmp.csv", "user_id,purpose,status,ts\n" + log)
    cfg = config()
    cfg.features["gclid"] = FeatureConfig(purposes=["ads"])
    doc = run_scan([events], consent=[consent], config=cfg).to_dict()
    kinds: dict[str, int] = {}
    for f in doc["findings"]:
        if f["kind"] in ("consent.violation", "consent.after_withdrawal"):
            kinds[f["kind"]] = kinds.get(f["kind"], 0) + f["metrics"]["events"]
    return kinds


def test_a_grant_and_a_denial_at_one_instant_withdraw_nothing(tmp_path):
    """OneTrust's C0004 and C0005 both mean ads: a user granting one and denying the other in
    one answer had never granted ads, yet both events read "still collected after users
    withdrew ads consent" (consent.after_withdrawal), beside a conflict saying the user was
    treated as denied. They are a consent.violation; a grant an hour before still makes the
    same answer a withdrawal."""
    at_once = "u1,C0004,granted,2026-10-01T09:00:00Z\nu1,C0005,denied,2026-10-01T09:00:00Z\n"
    assert _compliance_kinds(tmp_path, at_once) == {"consent.violation": 2}
    earlier = "u1,ads,granted,2026-10-01T08:00:00Z\n" + at_once
    assert _compliance_kinds(tmp_path, earlier) == {"consent.after_withdrawal": 2}


def test_a_classifier_giving_its_probabilities_first_is_scored_by_them(blind, tmp_path):
    """Outputs [probabilities, label]: the second, an int64 label, was read as the scores,
    silently: ROC AUC 0.6047 on hard labels, log loss 12.6, where the probabilities give
    0.6988 (the same model with the label first)."""
    labelled = _logistic() + [
        node("Greater", ["p", "half"], ["over"]),
        node("Cast", ["over"], ["label"], to=INT64),
    ]
    constants = CONSTANTS + [float_tensor("half", [0.5], [])]
    scores = {}
    for name, outputs in {
        "first": [value_info("probabilities", FLOAT, 2), value_info("label", INT64)],
        "second": [value_info("label", INT64), value_info("probabilities", FLOAT, 2)],
    }.items():
        model = _write(tmp_path / f"{name}.onnx", labelled, outputs=outputs, constants=constants)
        result = run_model_check(model, blind, config=_config(0), label="label")
        table = result.evidence["scenario_metrics"]["deny_analytics"]
        scores[name] = dict((row[0], row[1]) for row in table["rows"])["roc_auc"]
    assert scores == {"first": pytest.approx(0.698764), "second": pytest.approx(0.698764)}


@pytest.mark.parametrize(
    ("paths", "reports", "refused"),
    [
        ('["data/"]', '"data/reports"', True),
        ('["."]', None, True),  # the default privdiag-reports beside the config
        ('["data/**/*.json"]', '"data/x/reports"', True),
        ('["data/**/*.csv"]', '"data/x/reports"', False),  # matches no report's name
        ('["data/*"]', '"data/reports"', False),  # one folder's files: reports sit below
        # review 19: a glob of fixed depth that reaches the run folders' files
        ('["data/*/*", "data/ev.csv"]', '"data"', True),
        ('["data/reports/*/*.json", "data/ev.csv"]', '"data/reports"', True),
    ],
)
def test_reports_in_a_folder_the_audit_reads_are_a_usage_error(tmp_path, paths, reports, refused):
    """The first audit wrote its reports into its source folder; the second read them as
    events and stopped: "data: mixes file types (csv, ndjson)" (exit 3), and so every night."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ev.csv").write_text(
        "event_id,ts,event_name,user_id,gclid\ne1,2026-10-01T10:00:00Z,page_view,u1,g\n"
    )
    config = tmp_path / "privdiag.toml"
    audit = f"[audit]\nreports_dir = {reports}\n" if reports else ""
    config.write_text(f"[sources.web]\npaths = {paths}\nowner = 'web'\n{audit}")
    for _night in range(2):
        result = CliRunner().invoke(app, ["audit", "--config", str(config), "--quiet"])
        if refused:
            assert result.exit_code == 2, result.output
            assert "reports_dir" in result.output and "which [sources.web] paths reads" in (
                result.output
            )
            assert not (tmp_path / "data" / "reports").exists()
        else:
            assert result.exit_code in (0, 1), result.output


def _fixed(name: str, rows: int, width: int) -> bytes:
    """A ValueInfoProto of a float tensor [rows, width]: a batch of fixed size."""
    from onnx_proto import _bytes, _int

    dims = _bytes(1, _int(1, rows)) + _bytes(1, _int(1, width))
    return _bytes(1, name) + _bytes(2, _bytes(1, _int(1, FLOAT) + _bytes(2, dims)))


@pytest.mark.parametrize("rows", [1, 3])
def test_a_model_of_a_fixed_batch_size_is_scored(blind, tmp_path, rows):
    """A model exported with a batch of 1 row (PyTorch's tracing does so by default) was
    "cannot score the blind set as given: InvalidArgument" with a hint to fix the blind
    set's types. It is fed batches of its size, the last one filled up with its last row
    (400 rows in batches of 3), and scores as the same model of any batch size."""
    inputs = [_fixed("a", rows, 1), _fixed("b", rows, 1)]
    outputs = [_fixed("p", rows, 1), _fixed("probabilities", rows, 2)]
    model = tmp_path / "fixed.onnx"
    model.write_bytes(onnx_model(_logistic(), inputs, outputs, CONSTANTS))
    result = run_model_check(model, blind, config=_config(0), label="label")
    rows_of = result.evidence["scenario_metrics"]["deny_analytics"]["rows"]
    assert dict((r[0], r[1]) for r in rows_of)["roc_auc"] == pytest.approx(0.698764)


def test_a_classifier_whose_one_output_is_its_probabilities_is_scored(blind, tmp_path):
    """One output of [n, 2] probabilities (a softmax, as Keras and PyTorch export a binary
    classifier) was taken for a regressor's values, 800 for 400 rows: an internal error
    (exit 5, "operands could not be broadcast together with shapes (800,) (400,)")."""
    only = [value_info("probabilities", FLOAT, 2)]
    model = _write(tmp_path / "softmax.onnx", _logistic(), outputs=only)
    result = run_model_check(model, blind, config=_config(0), label="label")
    rows_of = result.evidence["scenario_metrics"]["deny_analytics"]["rows"]
    assert dict((r[0], r[1]) for r in rows_of)["roc_auc"] == pytest.approx(0.698764)


def test_a_trust_score_of_nan_or_infinity_is_left_out_and_counted(tmp_path):
    """ "nan" and "inf" are read as numbers: one such segment among ten made Spearman's r NaN
    and the trust gap of the other nine (r = 1.00) went unreported, the check "ran"."""
    import duckdb

    from privdiag.survey import load_survey

    path = tmp_path / "survey.csv"
    rows = [f"R{r},{2 + 0.3 * r},10" for r in range(8)] + ["R8,nan,10", "R9,-inf,10"]
    path.write_text("segment,trust,respondents\n" + "\n".join(rows) + "\n")
    con = duckdb.connect()
    survey = load_survey(con, [str(path)])
    assert (survey.rows, survey.dropped) == (8, 2)
    assert con.execute("SELECT bool_and(isfinite(trust)) FROM survey").fetchone() == (True,)


def test_a_blind_set_of_fewer_rows_than_the_group_size_is_an_input_error(blind, tmp_path):
    """One row gave a high model.calibration ("calibration error grows by 0.2911, from
    0.3669 to 0.658": the row's |score - label| itself), its bootstrap interval of no
    spread reading as significant."""
    one = tmp_path / "one.parquet"
    pl.read_parquet(blind).head(4).write_parquet(one)
    model = _write(tmp_path / "plain.onnx", _logistic())
    five = parse_config({"thresholds": {"min_group_size": 5}}, Path("privdiag.toml"))
    with pytest.raises(InputError) as caught:
        run_model_check(model, one, config=five, label="label")
    assert "one.parquet: holds 4 row(s), fewer than min_group_size (5)" in str(caught.value)
    four = parse_config({"thresholds": {"min_group_size": 4}}, Path("privdiag.toml"))
    assert run_model_check(model, one, config=four, label="label").evidence["model"]


def test_a_configured_step_that_names_no_event_gets_a_note(tmp_path):
    """Steps in another vocabulary than the events' (Segment's "Product Added" for
    add_to_cart), or a typo, made every check by step find nothing there, unsaid."""
    from helpers import config, write

    from privdiag.scan import run_scan

    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,gclid
        2026-10-01T10:00:00Z,page_view,u1,g1
        2026-10-01T11:00:00Z,purchase,u1,g1
        """,
    )

    def notes(steps: list[str]) -> list[str]:
        cfg = config()
        cfg.steps = steps
        doc = run_scan([events], config=cfg).to_dict()
        return [n for n in doc["evidence"].get("notes", []) if "[journey] steps" in n]

    assert notes(["page_view", "purchase"]) == []
    assert notes(["page_view", "add_to_cart", "purchase"]) == [
        "the step(s) add_to_cart of [journey] steps name no event of the inputs (names are "
        "compared as written, case too), so the checks by step find nothing there; check the "
        "steps against the event names"
    ]
    assert notes(["Product Viewed", "Order Completed"])[0].startswith(
        "none of the steps of [journey] steps (Product Viewed, Order Completed) names an event"
    )


def test_a_reference_column_of_another_type_is_an_input_error(blind, tmp_path):
    """A reference holding b as text ("0x", ...) beside the blind set's numbers gave a
    drift.feature "category mix shifted (JS 1.00)": no category of one is one of the other.
    A reference column of no value at all has no type to tell, and is compared."""
    frame = pl.read_parquet(blind)
    model = _write(tmp_path / "plain.onnx", _logistic())
    text = tmp_path / "text.parquet"
    frame.with_columns(pl.col("b").cast(pl.String) + "x").write_parquet(text)
    with pytest.raises(InputError) as caught:
        run_model_check(model, blind, config=_config(0), label="label", reference=text)
    assert "text.parquet, field 'b': holds text where the blind set holds numbers" in str(
        caught.value
    )
    empty = tmp_path / "empty.csv"
    frame.with_columns(pl.lit(None, dtype=pl.String).alias("b")).write_csv(empty)
    result = run_model_check(model, blind, config=_config(0), label="label", reference=empty)
    assert "b" in [row[0] for row in result.evidence["drift"]["rows"]]


def _ranked(name: str, width: list[int]) -> bytes:
    """A ValueInfoProto of a float tensor [N, *width] (rows unnamed: any count)."""
    from onnx_proto import _bytes, _int

    dims = _bytes(1, _bytes(2, "N")) + b"".join(_bytes(1, _int(1, w)) for w in width)
    return _bytes(1, name) + _bytes(2, _bytes(1, _int(1, FLOAT) + _bytes(2, dims)))


def test_inputs_of_rank_one_are_fed_so_and_other_ranks_are_named(blind, tmp_path):
    """Inputs [N] were fed [N, 1]: "cannot score the blind set as given: InvalidArgument",
    onnxruntime's words cut with the data values it might quote. They are fed as columns;
    inputs [N, 1, 1] are fed in that shape (they failed with onnxruntime's "Invalid rank for
    input", hostile 22's (4); ``tests/test_onnx_rank.py``)."""
    from onnx_proto import _bytes, _int, _varint

    shape = _int(1, 2) + _int(2, INT64) + _bytes(7, _varint(-1) + _varint(1)) + _bytes(8, "s")
    column = [node("Reshape", ["a", "s"], ["a2"]), node("Reshape", ["b", "s"], ["b2"])]
    inputs = [_ranked("a", []), _ranked("b", [])]
    model = tmp_path / "rank1.onnx"
    model.write_bytes(
        onnx_model(column + _logistic("a2", "b2"), inputs, CLASSIFIER_OUTPUTS, CONSTANTS + [shape])
    )
    result = run_model_check(model, blind, config=_config(0), label="label")
    rows_of = result.evidence["scenario_metrics"]["deny_analytics"]["rows"]
    assert dict((r[0], r[1]) for r in rows_of)["roc_auc"] == pytest.approx(0.698764)

    three = tmp_path / "rank3.onnx"
    inputs = [_ranked("a", [1, 1]), _ranked("b", [1, 1])]
    three.write_bytes(onnx_model(_logistic()[:4], inputs, [_ranked("p", [1, 1])], CONSTANTS))
    result = run_model_check(three, blind, config=_config(0), label="label")
    rows_of = result.evidence["scenario_metrics"]["deny_analytics"]["rows"]
    assert dict((r[0], r[1]) for r in rows_of)["roc_auc"] == pytest.approx(0.698764)


def test_a_blind_set_with_a_row_id_column_of_its_own_is_checked(blind, tmp_path):
    """An export's own row_id clashed with the row numbers privdiag adds by that name: an
    internal error (exit 5, "DuplicateError: column with name 'row_id' has more than one
    occurrence"), for the blind set and for --reference alike."""
    own = tmp_path / "own.parquet"
    pl.read_parquet(blind).with_columns(pl.lit("x").alias("row_id")).write_parquet(own)
    model = _write(tmp_path / "plain.onnx", _logistic())
    out = tmp_path / "sets"
    result = run_model_check(
        model, own, config=_config(0), label="label", reference=own, export_blind_sets=out
    )
    rows_of = result.evidence["scenario_metrics"]["deny_analytics"]["rows"]
    assert dict((r[0], r[1]) for r in rows_of)["roc_auc"] == pytest.approx(0.698764)
    assert pl.read_parquet(out / "unmasked.parquet")["row_id"].to_list() == list(range(400))


def test_export_blind_sets_never_replaces_an_input_nor_writes_one_file_twice(blind, tmp_path):
    """--export-blind-sets into the blind set's folder replaced a blind set named
    unmasked.parquet with the export (row_id and features: its labels lost), exit 0; two
    features whose file names meet (a/b and a_b: mask_a_b) wrote one file, the last kept."""
    from privdiag.errors import UsageError

    given = tmp_path / "unmasked.parquet"
    given.write_bytes(blind.read_bytes())
    model = _write(tmp_path / "plain.onnx", _logistic())
    with pytest.raises(UsageError) as caught:
        run_model_check(model, given, config=_config(0), label="label", export_blind_sets=tmp_path)
    assert "--export-blind-sets (unmasked)" in str(caught.value) and "another folder" in str(
        caught.value
    )
    assert given.read_bytes() == blind.read_bytes()

    named = pl.read_parquet(blind).rename({"a": "a/b", "b": "a_b"})
    path = tmp_path / "named.parquet"
    named.write_parquet(path)
    inputs = [value_info("a/b", FLOAT), value_info("a_b", FLOAT)]
    clash = tmp_path / "clash.onnx"
    clash.write_bytes(onnx_model(_logistic("a/b", "a_b"), inputs, CLASSIFIER_OUTPUTS, CONSTANTS))
    with pytest.raises(UsageError) as caught:
        run_model_check(
            clash, path, config=Config(), label="label", export_blind_sets=tmp_path / "x"
        )
    assert "--export-blind-sets (mask_a/b) and --export-blind-sets (mask_a_b)" in str(caught.value)
    assert not (tmp_path / "x" / "mask_a_b.parquet").exists()


def test_a_probability_a_rounding_past_one_is_read_as_one(blind, tmp_path):
    """A tree ensemble's probability is a float32 sum of its trees' shares and may read
    1.0000001: such a model was refused as giving probabilities outside 0 to 1. Here
    sigmoid(20 z) saturates to 1.0 on the rows of z above about 0.85, times 1.0000005."""
    rounded = [
        node("Mul", ["b", "wb"], ["bw"]),
        node("Add", ["a", "bw"], ["z0"]),
        node("Add", ["z0", "bias"], ["z"]),
        node("Mul", ["z", "twenty"], ["z20"]),
        node("Sigmoid", ["z20"], ["s"]),
        node("Mul", ["s", "past"], ["p"]),
        node("Sub", ["one", "p"], ["q"]),
        node("Concat", ["q", "p"], ["probabilities"], axis=1),
    ]
    constants = CONSTANTS + [
        float_tensor("twenty", [20.0], []),
        float_tensor("past", [1.0000005], []),
    ]
    model = _write(tmp_path / "past.onnx", rounded, constants=constants)
    result = run_model_check(model, blind, config=_config(0), label="label", consent_rates=RATES)
    table = result.evidence["scenario_metrics"]["deny_analytics"]
    assert 0.5 < dict((row[0], row[1]) for row in table["rows"])["roc_auc"] <= 1.0


def _refused(tmp_path: Path, column: str, value: float, tensor: int) -> str:
    """The error of a model taking ``column`` as a ``tensor`` on a blind set of 40 rows,
    the sixth of which holds ``value`` there."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=40), rng.integers(0, 5, size=40).astype(float)
    (a if column == "a" else b)[5] = value
    blind = tmp_path / "far.parquet"
    pl.DataFrame({"a": a, "b": b, "label": np.arange(40) % 2}).write_parquet(blind)
    cast = [node("Cast", [column], ["cast"], to=FLOAT)]
    model = _write(
        tmp_path / "far.onnx",
        cast + _logistic(**{column: "cast"}),
        **{f"{column}_type": tensor},
    )
    with pytest.raises(InputError) as caught:
        run_model_check(model, blind, config=_config(0), label="label", consent_rates=RATES)
    return str(caught.value)


@pytest.mark.parametrize(("tensor", "value"), [(2, -1), (2, 300), (3, 200)])  # uint8, int8
def test_an_integer_outside_its_tensors_range_is_refused_not_wrapped(tmp_path, tensor, value):
    """Review 19: b read into a uint8 (2) or int8 (3) tensor wrapped round: -1 reached the
    model as 255, 300 as 44, 200 as -56, with no word; the model scored another value."""
    said = _refused(tmp_path, "b", value, tensor)
    kind = "uint8" if tensor == 2 else "int8"
    assert f"takes b as an integer tensor ({kind})" in said and "outside" in said


def test_a_value_past_a_half_floats_range_is_refused_not_read_as_infinity(tmp_path):
    """Review 19: a read into a float16 tensor: 70000 (largest float16 65504) reached the
    model as infinity, sigmoid gave 1.0 on that row, and nothing said so."""
    said = _refused(tmp_path, "a", 70000.0, FLOAT16)
    assert "takes a as a float16 tensor" in said and "outside -65,504 to 65,504" in said


@pytest.mark.parametrize("kind", ["date", "datetime"])
def test_dates_where_the_model_takes_numbers_are_refused(blind, tmp_path, kind):
    """Found by the eighteenth hostile session: a column of dates fed to a numeric input
    reached the model as days since 1970 (20,454 for 2026-01-01), scored without a word
    (the fixture's unmasked ROC AUC fell from 0.6988 to 0.5)."""
    from datetime import date, datetime

    first = date(2026, 1, 1) if kind == "date" else datetime(2026, 1, 1, 8)
    dated = tmp_path / "dated.parquet"
    pl.read_parquet(blind).with_columns(pl.lit(first).alias("b")).write_parquet(dated)
    model = _write(tmp_path / "m.onnx", _logistic())
    with pytest.raises(InputError) as caught:
        run_model_check(model, dated, config=_config(), label="label", consent_rates=RATES)
    said = str(caught.value)
    assert "takes b as numbers, but the column holds dates or times" in said
    assert said.startswith(f"{model}: cannot score the blind set as given")


def test_one_sigmoid_output_beside_a_0_1_label_is_a_classifier(blind, tmp_path):
    """Found by the nineteenth hostile session: a model of one output (a network's sigmoid)
    was scored as a regressor, by RMSE and MAE against the 0/1 label, with no word. Its
    scores lie in 0 to 1: read as the probability of class 1, as the two-output model's."""
    both = _write(tmp_path / "both.onnx", _logistic())
    one = _write(tmp_path / "one.onnx", _logistic(), outputs=[value_info("p", FLOAT)])
    expected = run_model_check(both, blind, config=_config(0), label="label", consent_rates=RATES)
    result = run_model_check(one, blind, config=_config(0), label="label", consent_rates=RATES)
    assert result.evidence["model"]["kind"] == "classifier"
    metrics = result.evidence["scenario_metrics"]["deny_analytics"]["rows"]
    assert metrics == expected.evidence["scenario_metrics"]["deny_analytics"]["rows"]
    assert dict((r[0], r[1]) for r in metrics)["roc_auc"] == pytest.approx(0.698764)
    notes = result.evidence["notes"]
    assert any("one output (p)" in n and "probability of class 1" in n for n in notes)


def test_one_logit_output_stays_a_regressor_with_a_note(blind, tmp_path):
    logit = _write(tmp_path / "logit.onnx", _logistic()[:3], outputs=[value_info("z", FLOAT)])
    result = run_model_check(logit, blind, config=_config(), label="label", consent_rates=RATES)
    assert result.evidence["model"]["kind"] == "regressor"
    assert any("scores leave 0 to 1" in n for n in result.evidence["notes"])


def _label_model(tmp_path: Path, out_type: int) -> Path:
    """The logistic model of one output: its probability over 0.5, cast to ``out_type``."""
    label_nodes = _logistic()[:4] + [
        node("Greater", ["p", "half"], ["yes"]),
        node("Cast", ["yes"], ["label_out"], to=out_type),
    ]
    constants = [*CONSTANTS, float_tensor("half", [0.5], [])]
    return _write(
        tmp_path / "label.onnx",
        label_nodes,
        outputs=[value_info("label_out", out_type)],
        constants=constants,
    )


def test_one_label_output_is_refused(blind, tmp_path):
    model = _label_model(tmp_path, INT64)
    with pytest.raises(InputError) as caught:
        run_model_check(model, blind, config=_config(), label="label", consent_rates=RATES)
    assert "one output, label_out (tensor(int64)), is a predicted label" in str(caught.value)


def test_one_float_output_of_only_0_and_1_is_refused_as_a_label(blind, tmp_path):
    """Review 21: the label cast to float (a network ending in a threshold) lay in 0 to 1
    and was read as the probability of class 1: checked as a classifier, ROC AUC 0.6047 and
    log loss 12.6 of hard labels, where an int64 output of the same labels is refused."""
    model = _label_model(tmp_path, FLOAT)
    with pytest.raises(InputError) as caught:
        run_model_check(model, blind, config=_config(), label="label", consent_rates=RATES)
    said = str(caught.value)
    assert "one output, label_out (tensor(float)) holding only 0 and 1, is a predicted" in said


def _int64_tensor(name: str, values: list[int], dims: list[int]) -> bytes:
    """A TensorProto of int64 values (an initializer such as a Reshape's shape)."""
    from onnx_proto import _bytes, _int, _varint

    data = b"".join(_int(1, d) for d in dims) + _int(2, INT64)
    return data + _bytes(7, b"".join(_varint(v) for v in values)) + _bytes(8, name)


def test_a_model_of_a_batch_of_one_row_is_run_on_many_rows_at_once(blind, tmp_path):
    """Found by the eighteenth hostile session: a model exported with a batch of 1 row was
    run one row at a time, a million runs per scenario on a blind set of a million rows.
    Its graph is rewritten to take any batch (the first dimension of its inputs and outputs
    freed) where that scores the first rows as the model does; the scores are the same."""
    from privdiag.model.loading import OnnxScorer

    inputs = [_fixed("a", 1, 1), _fixed("b", 1, 1)]
    outputs = [_fixed("p", 1, 1), _fixed("probabilities", 1, 2)]
    model = tmp_path / "one.onnx"
    model.write_bytes(onnx_model(_logistic(), inputs, outputs, CONSTANTS))
    frame = pl.read_parquet(blind)
    scorer = OnnxScorer(model)
    assert scorer.inputs[0].shape[0] == 1
    scores = scorer.score_many({"unmasked": frame})["unmasked"]
    assert isinstance(scorer.inputs[0].shape[0], str)  # any number of rows now
    a, b = frame["a"].to_numpy(), frame["b"].to_numpy()
    expected = 1 / (1 + np.exp(-(a + 0.3 * b - 1)))
    np.testing.assert_allclose(scores, expected, rtol=1e-5)


def test_a_model_that_reshapes_to_its_batch_size_keeps_it(blind, tmp_path):
    """A graph that reshapes to its fixed batch cannot take another: the rewritten one fails
    on the first rows, and the model is run as given, batch by batch, scoring as before."""
    from privdiag.model.loading import OnnxScorer

    nodes = _logistic()
    nodes[3] = node("Sigmoid", ["z"], ["p0"])
    nodes.insert(4, node("Reshape", ["p0", "shape"], ["p"]))
    inputs = [_fixed("a", 1, 1), _fixed("b", 1, 1)]
    outputs = [_fixed("p", 1, 1), _fixed("probabilities", 1, 2)]
    model = tmp_path / "reshaped.onnx"
    constants = [*CONSTANTS, _int64_tensor("shape", [1, 1], [2])]
    model.write_bytes(onnx_model(nodes, inputs, outputs, constants))
    frame = pl.read_parquet(blind).head(20)
    scorer = OnnxScorer(model)
    scores = scorer.score_many({"unmasked": frame})["unmasked"]
    assert scorer.inputs[0].shape[0] == 1
    a, b = frame["a"].to_numpy(), frame["b"].to_numpy()
    np.testing.assert_allclose(scores, 1 / (1 + np.exp(-(a + 0.3 * b - 1))), rtol=1e-5)


def test_one_output_of_two_targets_is_refused_as_no_probabilities(blind, tmp_path):
    """Found by the eighteenth hostile session: a regressor of two targets (one output of
    two columns) was taken for a softmax and refused as "probabilities outside 0 to 1"."""
    nodes = [node("Concat", ["a", "b"], ["targets"], axis=1)]
    model = _write(tmp_path / "two.onnx", nodes, outputs=[value_info("targets", FLOAT, 2)])
    with pytest.raises(InputError) as caught:
        run_model_check(model, blind, config=_config(), label="label", consent_rates=RATES)
    said = str(caught.value)
    assert "one output gives 2 values a row that are no class probabilities" in said
    assert "outside 0 to 1" not in said
