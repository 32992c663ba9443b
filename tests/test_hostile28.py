"""Hostile round 28: result JSON edited by hand for ``privdiag report``; ONNX models whose
named features do not fit their input; edited histories; hostile blind sets."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app

GOOD = Path(__file__).parent / "corpus" / "files" / "csv" / "good.csv"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("base") / "base.json"
    CliRunner().invoke(app, ["scan", str(GOOD), "--json", str(out), "--quiet"])
    doc = json.loads(out.read_text())
    assert doc["findings"], "the scan of good.csv has findings to edit"
    return doc


def _report(tmp: Path, *docs: dict) -> tuple[int, str, Path]:
    paths = []
    for n, doc in enumerate(docs):
        paths.append(tmp / f"r{n}.json")
        paths[-1].write_text(json.dumps(doc))
    out = tmp / "out.json"
    result = CliRunner().invoke(app, ["report", *map(str, paths), "--json", str(out), "--quiet"])
    assert "Traceback" not in result.output and result.exit_code != 5, result.output
    return result.exit_code, result.output, out


@pytest.mark.parametrize("findings", [None, "drop"])
def test_a_result_whose_findings_are_null_or_gone_is_refused_not_read_as_none(
    base, tmp_path, findings
):
    """`"findings": null` was a clean result: exit 0, "0 findings", every report written."""
    doc = copy.deepcopy(base)
    if findings == "drop":
        del doc["findings"]
    else:
        doc["findings"] = None
    code, text, out = _report(tmp_path, doc)
    assert code == 3, text
    assert "findings" in text and not out.exists()


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00+00:00", "12:00"])
def test_a_start_time_that_is_no_time_is_refused(base, tmp_path, value):
    """A run "started" `yesterday` sorted after every real time, so its findings replaced
    those of the runs that really started later."""
    doc = copy.deepcopy(base)
    doc["started_at"] = value
    code, text, out = _report(tmp_path, doc)
    assert code == 3, text
    assert "started_at" in text and not out.exists()


def test_runs_are_ordered_by_their_time_not_by_its_text(base, tmp_path):
    """12:00 at +05:00 is 07:00 UTC, before 08:00 UTC; read as text it came after, and the
    earlier run's finding was kept."""
    early, late = copy.deepcopy(base), copy.deepcopy(base)
    early["started_at"] = "2026-12-01T12:00:00+05:00"
    late["started_at"] = "2026-12-01T08:00:00Z"
    early["findings"][0]["title"] = "from the earlier run"
    late["findings"][0]["title"] = "from the later run"
    code, text, out = _report(tmp_path, late, early)
    assert code in (0, 1), text
    merged = json.loads(out.read_text())
    titles = [f["title"] for f in merged["findings"]]
    assert "from the later run" in titles and "from the earlier run" not in titles
    assert merged["started_at"] == "2026-12-01T12:00:00+05:00"


@pytest.mark.parametrize("value", ["5", 0, -1, 5.5, True])
def test_a_min_group_size_that_is_no_whole_number_of_one_or_more_is_refused(base, tmp_path, value):
    """`"min_group_size": "1"` (or 0, -1, 5.5, true) read as a result that records none, as
    an older privdiag's: the check that refuses a result made with a smaller size than the
    report's was passed by."""
    doc = copy.deepcopy(base)
    doc["min_group_size"] = value
    code, text, out = _report(tmp_path, doc)
    assert code == 3, text
    assert "min_group_size" in text and not out.exists()


@pytest.mark.parametrize(
    ("names", "config", "said"),
    [
        ("a, b, c", "", "its metadata's feature_names names 3 (a, b, c)"),
        ("a", "", "its metadata's feature_names names 1 (a)"),
        (
            "",
            "[models.m]\npath = 'model.onnx'\nfeatures = ['a']\n",
            "the config's [models.NAME] features names 1 (a)",
        ),
    ],
)
def test_feature_names_of_another_count_than_the_input_holds_are_told_as_such(
    tmp_path, names, config, said
):
    """A model of a [N, 2] input whose metadata named 3 features was refused as one whose
    "names are unknown", with the advice to set the names it had set."""
    from tests.test_hostile22 import MODEL_CONFIG, _blind_set, _model_check, _one_tensor_model

    model = _one_tensor_model(tmp_path / "model.onnx", names)
    result, out = _model_check(tmp_path, model, _blind_set(), config=MODEL_CONFIG + config)
    assert result.exit_code == 3, result.output
    assert "takes one tensor of 2 features" in result.output
    assert said in result.output and "unknown" not in result.output
    assert not out.exists()


MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"


@pytest.mark.parametrize("where", ["--blind-set", "--reference"])
@pytest.mark.parametrize("value", [float("inf"), float("-inf")])
def test_an_infinite_feature_value_is_refused_naming_its_row(tmp_path, where, value):
    """A reference whose tenure_days was infinite on every 10th row read a missing share of 0
    in both sets, yet PSI 0.70 and Jensen-Shannon 0.23 from those rows counted as missing in
    its bins; in the blind set, the ONNX model scored the row (a probability of 0 or 1) where
    a scikit-learn model refuses it."""
    import polars as pl

    from privdiag.model.synthetic import make_blind_set

    clean = make_blind_set(200, seed=3)
    bad = clean.with_columns(
        pl.when(pl.int_range(pl.len()) % 10 == 3)
        .then(value)
        .otherwise(pl.col("tenure_days"))
        .alias("tenure_days")
    )
    blind, reference = tmp_path / "blind.parquet", tmp_path / "reference.parquet"
    (bad if where == "--blind-set" else clean).write_parquet(blind)
    (bad if where == "--reference" else clean).write_parquet(reference)
    out = tmp_path / "out.json"
    args = ["model-check", str(MODELS / "propensity_imputed.onnx"), "--blind-set", str(blind)]
    args += ["--reference", str(reference), "--label", "label", "--json", str(out)]
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output and result.exit_code == 3, result.output
    named = "blind.parquet" if where == "--blind-set" else "reference.parquet"
    assert f"{named}, row 4, field 'tenure_days': holds an infinite value" in result.output
    assert "(20 rows in all)" in result.output and not out.exists()


def _zipmap_model(path: Path, classes: list[str]) -> Path:
    """An ONNX classifier of one float input a [N, 1] as skl2onnx writes one: a label, then a
    ZipMap of its classes' probabilities; the first class's is sigmoid(a - 2), the others
    share the rest."""
    from onnx_proto import FLOAT, INT64, STRING, _bytes, _int, float_tensor, node, value_info
    from onnx_proto import model as onnx_model

    share = 1.0 / (len(classes) - 1)
    nodes = [
        node("Sub", ["a", "two"], ["z"]),
        node("Sigmoid", ["z"], ["p"]),
        node("Sub", ["one", "p"], ["rest"]),
        node("Mul", ["rest", "share"], ["q"]),
        node("Concat", ["p", *["q"] * (len(classes) - 1)], ["probs"], axis=1),
        node("ArgMax", ["probs"], ["label"], axis=1),
        node("ZipMap", ["probs"], ["probability"], "ai.onnx.ml", classlabels_strings=classes),
    ]
    constants = [
        float_tensor("two", [2.0], [1]),
        float_tensor("one", [1.0], [1]),
        float_tensor("share", [share], [1]),
    ]
    # seq(map(string, tensor(float))): TypeProto sequence_type (4) of map_type (5)
    floats = _bytes(1, _int(1, FLOAT))
    zipmap = _bytes(4, _bytes(1, _bytes(5, _int(1, STRING) + _bytes(2, floats))))
    outputs = [value_info("label", INT64), _bytes(1, "probability") + _bytes(2, zipmap)]
    path.write_bytes(onnx_model(nodes, [value_info("a", FLOAT)], outputs, constants))
    return path


@pytest.mark.parametrize(
    ("classes", "said"),
    [
        # class 1 was the last by name: P(stay) read as P(churn), ROC AUC 0.30, masking "better"
        (["churn", "stay"], "its classes are 'churn' and 'stay': which is class 1"),
        # read as class "1" against the rest: a multi-class model checked as a binary one
        (["0", "1", "2"], "multi-class models are not supported"),
    ],
)
def test_a_zipmap_of_classes_that_do_not_say_which_is_class_1_is_refused(tmp_path, classes, said):
    from tests.test_hostile22 import MODEL_CONFIG, _blind_set, _model_check

    model = _zipmap_model(tmp_path / "model.onnx", classes)
    result, out = _model_check(tmp_path, model, _blind_set(), config=MODEL_CONFIG)
    assert result.exit_code == 3, result.output
    assert said in result.output and not out.exists()


@pytest.mark.parametrize("classes", [["no", "yes"], ["0", "1"], ["False", "True"]])
def test_a_zipmap_of_classes_that_say_which_is_class_1_scores(tmp_path, classes):
    from tests.test_hostile22 import MODEL_CONFIG, _blind_set, _model_check

    model = _zipmap_model(tmp_path / "model.onnx", classes)
    result, out = _model_check(tmp_path, model, _blind_set(), config=MODEL_CONFIG)
    assert result.exit_code in (0, 1), result.output
    unmasked = json.loads(out.read_text())["evidence"]["scenario_metrics"]["deny_ads"]["rows"]
    assert unmasked[0][0] == "roc_auc" and unmasked[0][1] < 0.5  # P(first class) read as 0's


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('"ten"', "its metrics' events is no number"),
        ("true", "its metrics' events is no number"),
        ("-3", "its metrics' events is below 0"),
    ],
)
def test_a_history_whose_finding_counts_were_edited_is_refused_not_compared_by_another(
    tmp_path, value, said
):
    """The first night's purchase leak of 10 events edited to "ten": the next night's 4 were
    compared by its users (1 and 1) and read `unchanged`, where they are `better`."""
    import duckdb

    from tests.audit_data import NIGHT_1, NIGHT_2, setup

    config = setup(tmp_path, NIGHT_1)
    history = tmp_path / "history.duckdb"
    audit = ["audit", "--config", str(config), "--history", str(history)]
    assert CliRunner().invoke(app, audit).exit_code == 1
    with duckdb.connect(str(history)) as con:
        edit = f"UPDATE findings SET metrics = json_merge_patch(metrics, '{{\"events\": {value}}}')"
        con.execute(edit + " WHERE title LIKE 'gclid is collected on purchase%'")
    setup(tmp_path, NIGHT_2)
    result = CliRunner().invoke(app, audit)
    assert "Traceback" not in result.output and result.exit_code == 3, result.output
    assert said in result.output and "edited by hand?" in result.output


def test_a_word_in_a_numeric_feature_is_named_by_its_row(tmp_path):
    """`n/a` on one row of a number column read "conversion from `str` to `f64` failed in
    column 'sessions_30d' for 1 out of 400 values": no row to find it by."""
    import polars as pl

    from privdiag.model.synthetic import make_blind_set

    frame = make_blind_set(200, seed=3)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 7)
        .then(pl.lit("n/a"))
        .otherwise(pl.col("sessions_30d").cast(pl.String))
        .alias("sessions_30d")
    )
    blind = tmp_path / "blind.csv"
    frame.write_csv(blind)
    out = tmp_path / "out.json"
    args = ["model-check", str(MODELS / "propensity_imputed.onnx"), "--blind-set", str(blind)]
    result = CliRunner().invoke(app, [*args, "--label", "label", "--json", str(out)])
    assert "Traceback" not in result.output and result.exit_code == 3, result.output
    assert "sessions_30d" in result.output and "row 8" in result.output
    assert "n/a" not in result.output and not out.exists()  # a value is described, not shown


def test_rmse_of_errors_whose_squares_overflow_is_their_size_not_nan():
    """A basket value of 1e300 on one row squared to inf: RMSE null in every scenario, its
    interval NaN, numpy's RuntimeWarnings on stderr, and no degradation ever found."""
    import numpy as np

    from privdiag.model.metrics import regressor_scores

    y, p = np.zeros(2), np.array([3e200, 4e200])
    with np.errstate(all="raise"):
        out = regressor_scores(y, p, np.ones((1, 2)))
    assert out["rmse"][0] == pytest.approx(math.sqrt(12.5) * 1e200)
    assert out["mae"][0] == pytest.approx(3.5e200)
    zero = regressor_scores(np.ones(3), np.ones(3), np.ones((2, 3)))
    assert zero["rmse"].tolist() == [0.0, 0.0]


def test_a_consent_log_of_tc_strings_reads_their_purposes_without_their_vendor_lists(
    monkeypatch,
):
    """A TC string of 37 characters whose ranges name every vendor id in both sections and a
    restriction (196,605 ids, the most read) cost 50 ms to decode, its vendor sets built only
    to be dropped: a consent log of 100,000 distinct such strings held a scan for 80 minutes.
    The data path keeps its purposes and checks its vendor lists, building none."""
    from privdiag.decode import tcf
    from tests.test_decode_tcf import encode, make

    every = frozenset(range(1, 65_536))
    restriction = tcf.PublisherRestriction(2, 1, every)
    big = make(
        max_vendor_id=65_535,
        vendor_consents=every,
        max_vendor_li_id=65_535,
        vendor_legitimate_interests=every,
        publisher_restrictions=(restriction,),
    )
    text = encode(big, as_ranges=(True, True))
    bitfield = encode(make(max_vendor_id=400, vendor_consents=frozenset({1, 400})))
    assert tcf.decode(text).vendor_consents == every  # read in full when asked for

    def built(merged):
        raise AssertionError("a vendor set was built on the data path")

    monkeypatch.setattr(tcf, "_ids", built)
    monkeypatch.setattr(tcf._Bits, "idset", lambda self, n, name: _no_set(self, n, name))
    rows = tcf.decode_many([text, bitfield]).to_pylist()
    assert [r["error"] for r in rows] == [None, None]
    assert [r["unread"] for r in rows] == [None, None]
    assert all(r["consent_ads"] and r["consent_analytics"] for r in rows)


def _no_set(bits, n: int, name: str) -> frozenset[int]:
    """``_Bits.idset`` for the fixed fields (24 bits at most); a vendor bitfield is refused."""
    assert n <= 24, f"a vendor set of {n} bits was built on the data path ({name})"
    chunk = bits.take(n, name)
    return frozenset(i + 1 for i, bit in enumerate(chunk) if bit == "1")


def test_a_model_feature_the_blind_set_lacks_is_matched_to_the_column_it_may_be(tmp_path):
    """A model exported with its input named `Sessions_30D` on a blind set of `sessions_30d`
    was told "lacks the model's feature(s) Sessions_30D", the column beside it unsaid."""
    from onnx_proto import FLOAT, float_tensor, node, value_info
    from onnx_proto import model as onnx_model

    from privdiag.model.synthetic import make_blind_set

    model = tmp_path / "model.onnx"
    nodes = [node("Sub", ["Sessions_30D", "two"], ["z"]), node("Sigmoid", ["z"], ["p"])]
    inputs, outputs = [value_info("Sessions_30D", FLOAT)], [value_info("p", FLOAT)]
    model.write_bytes(onnx_model(nodes, inputs, outputs, [float_tensor("two", [2.0], [1])]))
    blind = tmp_path / "blind.csv"
    make_blind_set(200, seed=3).write_csv(blind)
    result = CliRunner().invoke(app, ["model-check", str(model), "--blind-set", str(blind)])
    assert "Traceback" not in result.output and result.exit_code == 3, result.output
    assert "lacks the model's feature(s) Sessions_30D" in result.output
    assert "Sessions_30D is column 'sessions_30d'?" in result.output


@pytest.mark.parametrize(("name", "array"), [("blind.ndjson", False), ("blind.json", True)])
def test_a_json_blind_set_whose_field_turns_into_a_list_names_the_row(tmp_path, name, array):
    """A list in `ad_clicks_7d` on row 3, after numbers, read "cannot be read (failed to
    determine supertype of struct[7] and struct[7])": no row, no field."""
    rows = [{"a": 1.0, "ad_clicks_7d": 2, "label": 1}, {"a": 2.0, "ad_clicks_7d": 1, "label": 0}]
    rows += [{"a": 1.5, "ad_clicks_7d": [1, 2], "label": 1}]
    path = tmp_path / name
    lines = [json.dumps(r) for r in rows]
    path.write_text("[" + ",\n".join(lines) + "]" if array else "\n".join(lines) + "\n")
    from privdiag.errors import InputError
    from privdiag.model.blindset import read_table

    with pytest.raises(InputError) as err:
        read_table(path)
    said = str(err.value)
    assert f"{name}, row 3, field 'ad_clicks_7d'" in said, said
    assert "a list" in said and "numbers" in said and "supertype" not in said


@pytest.mark.parametrize("newer_first", [True, False])
def test_a_merged_report_names_the_version_of_the_latest_run_whatever_the_order(
    base, tmp_path, newer_first
):
    """`report new.json old.json` wrote the old run's privdiag version, `report old.json
    new.json` the new one's: the last file given decided."""
    old, new = copy.deepcopy(base), copy.deepcopy(base)
    old["started_at"], old["version"] = "2026-11-01T00:00:00+00:00", "0.0.9"
    new["started_at"], new["version"] = "2026-12-01T00:00:00+00:00", "0.1.0"
    code, text, out = _report(tmp_path, *((new, old) if newer_first else (old, new)))
    assert code in (0, 1), text
    assert json.loads(out.read_text())["version"] == "0.1.0"


@pytest.mark.parametrize("purpose", ["bogus", "Marketing"])
def test_a_scan_result_rate_of_no_canonical_purpose_is_refused(tmp_path, purpose):
    """`"consent_rates": {"ads": 0.5, "Marketing": 0.2}` edited into a scan result: the rate
    of a purpose privdiag never writes there was dropped without a word."""
    scan = {
        "schema_version": 1,
        "tool": "privdiag",
        "command": "scan",
        "findings": [],
        "evidence": {"consent_rates": {"ads": 0.5, purpose: 0.2}},
    }
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(scan))
    from privdiag.errors import InputError
    from privdiag.model.inputs import consent_from_scan

    with pytest.raises(InputError) as err:
        consent_from_scan(path)
    assert f"evidence.consent_rates gives a rate of {purpose!r}" in str(err.value)


def _check_with_default(tmp_path: Path, default: str):
    """model-check of the fixture model whose sessions_30d has ``default`` in the config."""
    from privdiag.model.synthetic import make_blind_set

    blind = tmp_path / "blind.csv"
    make_blind_set(200, seed=3).write_csv(blind)
    config = tmp_path / "privdiag.toml"
    config.write_text(f'[features.sessions_30d]\npurposes = ["analytics"]\ndefault = {default}\n')
    out = tmp_path / "out.json"
    args = ["model-check", str(MODELS / "propensity_imputed.onnx"), "--blind-set", str(blind)]
    args += ["--label", "label", "--config", str(config), "--json", str(out)]
    return CliRunner().invoke(app, args), out


@pytest.mark.parametrize(
    ("default", "said"), [("{a = 1}", "{'a': 1}"), ("nan", "nan"), ("inf", "inf"), ("-inf", "-inf")]
)
def test_a_default_no_masked_cell_can_take_is_a_config_error(tmp_path, default, said):
    """`default = {a = 1}` (a table) masked sessions_30d as records, and the model's failure on
    them read as two high `model.missing_unsupported` findings: "cannot score rows with
    sessions_30d missing"; `default = inf` fed the model an infinite value the blind set may
    not hold, and `nan` is the missing value itself."""
    result, out = _check_with_default(tmp_path, default)
    assert "Traceback" not in result.output and result.exit_code == 2, result.output
    assert f"[features.sessions_30d]: default {said} " in result.output and not out.exists()


@pytest.mark.parametrize(("default", "said"), [("1e39", "float32"), ("-1e39", "float32")])
def test_a_default_the_model_tensor_cannot_take_is_a_config_error(tmp_path, default, said):
    """`default = 1e39` fits the blind set's float64 column but no float32 tensor: the masked
    scenarios failed, read as the model's `model.missing_unsupported`."""
    result, out = _check_with_default(tmp_path, default)
    assert "Traceback" not in result.output and result.exit_code == 2, result.output
    assert "[features.sessions_30d]: default" in result.output and said in result.output
    assert "missing_unsupported" not in result.output and not out.exists()
