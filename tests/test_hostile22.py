"""Breaks found by the twenty-second hostile session, each with the input that showed it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app


def _history(path: Path) -> Path:
    """A history of one run, as an audit records it."""
    from privdiag.audit.history import RunRecord, open_history

    with open_history(path) as opened:
        finding = {"id": "f1", "kind": "consent.violation", "severity": "high", "title": "t"}
        opened.record(
            RunRecord(run_id="r1", started_at="2026-10-01T00:00:00+00:00"),
            [dict(finding, owner=None, location={}, metrics={"users": 9}, change="new")],
            {"consent_rate.ads": 0.5},
        )
    return path


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        # each was an internal error (exit 5) of --list, --show and the next audit; -1 was
        # "run privdiag audit once to upgrade it", and that audit applied a migration again
        ("UPDATE meta SET value = 'two' WHERE key = 'schema_version'", "meta: its schema_ver"),
        ("UPDATE meta SET value = '1.5' WHERE key = 'schema_version'", "meta: its schema_ver"),
        ("UPDATE meta SET value = NULL WHERE key = 'schema_version'", "meta: its schema_ver"),
        ("UPDATE meta SET value = '-1' WHERE key = 'schema_version'", "meta: its schema_ver"),
        ("DROP TABLE findings", "the history: its table findings is missing"),
        ("DROP TABLE measures", "the history: its table measures is missing"),
        ("ALTER TABLE runs DROP COLUMN baseline", "table runs: its column baseline is missing"),
        # was "a DuckDB database of other data (4 tables privdiag did not write)"
        ("DELETE FROM meta", "table meta: its schema_version is missing"),
    ],
)
@pytest.mark.parametrize("how", [["--list"], ["--show", "last"], ["--config", "cfg"]])
def test_a_history_of_an_edited_schema_is_an_input_error(tmp_path, edit, said, how):
    import duckdb

    history = _history(tmp_path / "history.duckdb")
    with duckdb.connect(str(history)) as con:
        con.execute(edit)
    if how[0] == "--config":  # the next audit: stops before it scans anything
        data = tmp_path / "web.csv"
        data.write_text("user_id,ts,event_name\nu1,2026-10-01T10:00:00Z,page_view\n")
        config = tmp_path / "privdiag.toml"
        config.write_text(f"[sources.web]\npaths = [{str(data)!r}]\n")
        how = ["--config", str(config)]
    result = CliRunner().invoke(app, ["audit", "--history", str(history), *how])
    assert result.exit_code == 3, result.output
    assert f"history.duckdb: {said}" in result.output and "edited by hand?" in result.output
    assert not (tmp_path / "privdiag-reports").exists() or not any(
        (tmp_path / "privdiag-reports").iterdir()
    )


def _audit_config(tmp_path: Path, audit: str = "") -> Path:
    data = tmp_path / "web.csv"
    data.write_text("user_id,ts,event_name\nu1,2026-10-01T10:00:00Z,page_view\n")
    config = tmp_path / "privdiag.toml"
    config.write_text(f"[sources.web]\npaths = [{str(data)!r}]\n{audit}")
    return config


@pytest.mark.parametrize("how", [["--list"], ["--show", "last"], ["--config"]])
def test_a_history_that_is_a_pipe_is_refused_leaving_no_lock(tmp_path, how):
    """``--history /dev/null`` (a device; a pipe here, which a test may make) left
    ``/dev/null.lock`` behind and exited 3 on DuckDB's "Could not fsync file"; a pipe waited
    for ever (reading its first bytes), ``--list`` and ``--show`` too. Run apart, with a
    timeout, so that a wait fails the test."""
    import os
    import subprocess
    import sys

    pipe = tmp_path / "history.fifo"
    os.mkfifo(pipe)
    if how == ["--config"]:
        how = ["--config", str(_audit_config(tmp_path))]
    run = subprocess.run(
        [sys.executable, "-m", "privdiag", "audit", "--history", str(pipe), *how],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    # a run's history is checked as a path to write (a usage error), --list's as one to read
    assert run.returncode == (2 if "--config" in how else 3), run.stderr
    assert "history.fifo" in run.stderr and "no regular file" in run.stderr
    assert not (tmp_path / "history.fifo.lock").exists()
    assert not (tmp_path / "privdiag-reports").exists()


def test_a_history_named_as_the_reports_folder_is_a_usage_error(tmp_path):
    """``history`` and ``reports_dir`` of one name: the run made the folder, then opened it
    as the history (exit 3, "Could not read from file ...: Is a directory"), leaving the
    folder and its lock file behind."""
    config = _audit_config(tmp_path, '[audit]\nhistory = "same"\nreports_dir = "same"\n')
    result = CliRunner().invoke(app, ["audit", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "[audit] history and [audit] reports_dir both name" in result.output
    assert not (tmp_path / "same").exists() and not (tmp_path / "same.lock").exists()


def _classifier(path: Path, nodes: list[bytes], inputs: list[bytes], constants, meta=None):
    """Write an ONNX classifier whose ``nodes`` compute a logit ``z0``: p = sigmoid(z0 - 1),
    its outputs p and the probabilities [1 - p, p]."""
    from onnx_proto import FLOAT, float_tensor, node, value_info
    from onnx_proto import model as onnx_model

    nodes = [
        *nodes,
        node("Add", ["z0", "bias"], ["z"]),
        node("Sigmoid", ["z"], ["p"]),
        node("Sub", ["one", "p"], ["q"]),
        node("Concat", ["q", "p"], ["probabilities"], axis=1),
    ]
    constants = [*constants, float_tensor("bias", [-1.0], []), float_tensor("one", [1.0], [])]
    outputs = [value_info("p", FLOAT), value_info("probabilities", FLOAT, 2)]
    path.write_bytes(onnx_model(nodes, inputs, outputs, constants, meta))
    return path


def _two_input_model(path: Path) -> Path:
    """An ONNX classifier of two float inputs a and b [N, 1]: p = sigmoid(0.5 a + 0.3 b - 1)."""
    from onnx_proto import FLOAT, float_tensor, node, value_info

    nodes = [
        node("Mul", ["a", "wa"], ["x1"]),
        node("Mul", ["b", "wb"], ["x2"]),
        node("Add", ["x1", "x2"], ["z0"]),
    ]
    constants = [float_tensor("wa", [0.5], []), float_tensor("wb", [0.3], [])]
    return _classifier(path, nodes, [value_info("a", FLOAT), value_info("b", FLOAT)], constants)


def _one_tensor_model(path: Path, names: str) -> Path:
    """An ONNX classifier of one float input [N, 2] whose metadata names its columns
    ``names``: p = sigmoid(x @ [0.5, 0.3] - 1)."""
    from onnx_proto import FLOAT, float_tensor, node, value_info

    nodes = [node("MatMul", ["x", "w"], ["z0"])]
    constants = [float_tensor("w", [0.5, 0.3], [2, 1])]
    meta = {"feature_names": names}
    return _classifier(path, nodes, [value_info("x", FLOAT, 2)], constants, meta)


def _blind_set(rows: int = 200):
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(1)
    a, b = rng.normal(2, 1, rows), rng.normal(1, 1, rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(-(0.5 * a + 0.3 * b - 1)))).astype(int)
    return pl.DataFrame({"a": a, "b": b, "label": y})


MODEL_CONFIG = """
[features.a]
purposes = ["ads"]
default = 0.0
[features.b]
purposes = ["analytics"]
default = 0.0
"""


def _model_check(tmp_path: Path, model: Path, blind, *extra: str, config: str = MODEL_CONFIG):
    blind_path = tmp_path / "blind.parquet"
    blind.write_parquet(blind_path)
    cfg = tmp_path / "privdiag.toml"
    cfg.write_text(config)
    out = tmp_path / "out.json"
    args = ["model-check", str(model), "--blind-set", str(blind_path), "--config", str(cfg)]
    args += ["--consent-rates", "ads=0.5,analytics=0.7", "--json", str(out), *extra]
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output and result.exit_code != 5, result.output
    return result, out


@pytest.mark.parametrize(
    ("names", "config", "said"),
    [
        # a polars DuplicateError, with its advice on .alias()
        ("a,a", "", "model.onnx: names the feature 'a' twice among its inputs"),
        # "blind.parquet: lacks the model's feature(s) " naming nothing
        ("a,", "", "model.onnx: names an empty feature among its inputs"),
        ("a, ", "", "model.onnx: names an empty feature among its inputs"),
        # the same from the config, for a model without names in its metadata
        ("", "[models.m]\npath = 'model.onnx'\nfeatures = ['b', 'b']\n", "'b' twice"),
    ],
)
def test_feature_names_given_twice_or_empty_are_named(tmp_path, names, config, said):
    model = _one_tensor_model(tmp_path / "model.onnx", names)
    result, out = _model_check(tmp_path, model, _blind_set(), config=MODEL_CONFIG + config)
    assert result.exit_code == 3, result.output
    assert said in result.output and "DuplicateError" not in result.output
    assert not out.exists()


def test_the_one_tensor_model_scores_when_its_names_are_fine(tmp_path):
    """The same model and blind set as above, the names right: the check runs."""
    model = _one_tensor_model(tmp_path / "model.onnx", "a, b")
    result, out = _model_check(tmp_path, model, _blind_set())
    assert result.exit_code in (0, 1), result.output
    assert out.exists()


@pytest.mark.parametrize(
    ("label", "said"),
    [
        # an internal error: "casting from BinaryView to Float64 not supported"
        (b"\x01", "field 'label': holds values of type Binary, which are no label"),
        # "a 10-character value of digits and '-' is not a classifier's label"
        ("date", "field 'label': holds values of type Date, which are no label"),
    ],
)
def test_a_label_of_bytes_or_dates_is_named(tmp_path, label, said):
    import datetime as dt

    import polars as pl

    value = dt.date(2026, 1, 1) if label == "date" else label
    blind = _blind_set().with_columns(pl.lit(value).alias("label"))
    result, out = _model_check(tmp_path, _two_input_model(tmp_path / "m.onnx"), blind)
    assert result.exit_code == 3, result.output
    assert said in result.output and not out.exists()


def test_a_feature_past_float32_is_an_input_error_not_infinity(tmp_path):
    """1e300 reached a float32 input as infinity, with numpy's "overflow encountered in
    cast" warning on the terminal, and was scored so (a float16 input was refused already)."""
    import polars as pl

    blind = _blind_set().with_columns(pl.lit(1e300).alias("a"))
    result, out = _model_check(tmp_path, _two_input_model(tmp_path / "m.onnx"), blind)
    assert result.exit_code == 3, result.output
    assert "as a float32 tensor, but the column holds values outside" in result.output
    assert "overflow" not in result.output and not out.exists()


def test_a_feature_of_bytes_is_named_without_polars_query(tmp_path):
    """A Binary feature: polars' "casting from BinaryView to Float64 not supported" and the
    query it failed in, over several lines."""
    import polars as pl

    blind = _blind_set().with_columns(pl.lit(b"\x01\x02").alias("a"))
    result, out = _model_check(tmp_path, _two_input_model(tmp_path / "m.onnx"), blind)
    assert result.exit_code == 3, result.output
    assert "the model takes a as numbers, but the column holds values of type Binary" in (
        result.output
    )
    assert "This error occurred" not in result.output and not out.exists()


def _reference(tmp_path: Path, frame) -> str:
    path = tmp_path / "reference.parquet"
    frame.write_parquet(path)
    return str(path)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        # an internal error: "cannot cast List type (inner: 'Float64', to: 'String')"
        ("list", "field 'a': holds lists"),
        # compared as categories: "a drifts ...: category mix shifted (JS 0.59)"
        ("struct", "field 'a': holds records (a struct)"),
        # compared as categories: "category mix shifted (JS 1.00)"
        ("bytes", "field 'a': holds values of type Binary where the blind set holds numbers"),
        ("date", "field 'a': holds dates or times where the blind set holds numbers"),
    ],
)
def test_a_reference_whose_feature_cannot_be_compared_is_named(tmp_path, change, said):
    import datetime as dt

    import polars as pl

    blind = _blind_set()
    column = {
        "list": pl.concat_list(pl.col("a")),
        "struct": pl.struct(pl.col("a")),
        "bytes": pl.lit(b"x"),
        "date": pl.lit(dt.date(2026, 1, 1)),
    }[change]
    ref = _reference(tmp_path, blind.with_columns(column.alias("a")))
    model = _two_input_model(tmp_path / "m.onnx")
    result, out = _model_check(tmp_path, model, blind, "--reference", ref)
    assert result.exit_code == 3, result.output
    assert f"reference.parquet, {said}" in result.output and not out.exists()


def test_a_reference_of_fewer_rows_than_min_group_size_is_refused(tmp_path):
    """A reference of 2 rows was compared: its missing and category shares describe those
    two persons, as a blind set of so few would (refused already)."""
    blind = _blind_set()
    ref = _reference(tmp_path, blind.head(2))
    model = _two_input_model(tmp_path / "m.onnx")
    result, out = _model_check(tmp_path, model, blind, "--reference", ref)
    assert result.exit_code == 3, result.output
    assert "reference.parquet: holds 2 row(s), fewer than min_group_size (5)" in result.output
    assert not out.exists()


def test_a_feature_the_reference_lacks_is_noted(tmp_path):
    """A reference without the feature a: its drift row was left out, unsaid."""
    import json

    blind = _blind_set()
    ref = _reference(tmp_path, blind.drop("a"))
    model = _two_input_model(tmp_path / "m.onnx")
    result, out = _model_check(tmp_path, model, blind, "--reference", ref)
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(out.read_text())
    assert [r[0] for r in doc["evidence"]["drift"]["rows"]] == ["b"]
    assert any(
        n.startswith("the reference (--reference) lacks the model's feature(s) a:")
        for n in doc["evidence"]["notes"]
    )


def test_a_purpose_named_twice_gives_each_finding_once(tmp_path):
    """``purposes = ["ads", "ads", "ADS", "ad_storage"]``: every finding of gclid came three
    (four) times over, with one id, in the JSON, the reports and an audit's history."""
    from helpers import write

    from privdiag.config import load_config
    from privdiag.scan import run_scan

    config = tmp_path / "privdiag.toml"
    config.write_text('[features.gclid]\npurposes = ["ads", "ads", "ADS", "ad_storage"]\n')
    cfg = load_config(config)
    assert cfg.features["gclid"].purposes == ["ads"]
    events = "user_id,ts,event_name,gclid\n" + "".join(
        f"u{i},2026-10-01T10:00:0{i}Z,page_view,g{i}\n" for i in range(6)
    )
    log = "user_id,purpose,status,ts\n" + "".join(
        f"u{i},ads,denied,2026-10-01T09:00:00Z\n" for i in range(6)
    )
    data, consent = write(tmp_path / "web.csv", events), write(tmp_path / "cmp.csv", log)
    doc = run_scan([data], consent=[consent], config=cfg).to_dict()
    ids = [f["id"] for f in doc["findings"]]
    assert len(ids) == len(set(ids))
    violations = [f for f in doc["findings"] if f["kind"] == "consent.violation"]
    assert [(f["metrics"]["events"], f["metrics"]["users"]) for f in violations] == [(6, 6)]


def test_an_unknown_purpose_of_a_feature_is_not_sent_to_the_aliases(tmp_path):
    """The hint said "or add it under [purposes.aliases]", and doing so left the same error:
    those aliases map the consent records' words, not a feature's purposes."""
    config = tmp_path / "privdiag.toml"
    config.write_text(
        '[purposes.aliases]\n"Paid Media" = "ads"\n[features.gclid]\npurposes = ["Paid Media"]\n'
    )
    data = tmp_path / "web.csv"
    data.write_text("user_id,ts,event_name\nu1,2026-10-01T10:00:00Z,page_view\n")
    result = CliRunner().invoke(app, ["scan", str(data), "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "unknown purpose 'Paid Media'" in result.output
    assert "[purposes.aliases]" not in result.output


@pytest.mark.parametrize("name", ["blind.csv", "blind.csv.gz"])
def test_a_csv_blind_set_naming_a_column_twice_is_refused(tmp_path, name):
    """A header ``a,b,a,label``: polars renamed the second ``a_duplicated_0``, and the model
    read the first a (here the real one; the second all zero) without a word."""
    import gzip

    blind = _blind_set()
    text = "a,b,a,label\n" + "".join(f"{a},{b},0.0,{y}\n" for a, b, y in blind.iter_rows())
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    cfg = tmp_path / "privdiag.toml"
    cfg.write_text(MODEL_CONFIG)
    model = _two_input_model(tmp_path / "m.onnx")
    args = ["model-check", str(model), "--blind-set", str(path), "--config", str(cfg)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 3, result.output
    assert f"{name}, field 'a': names a column twice in its header" in result.output


def test_a_label_of_one_class_is_noted(tmp_path):
    """Every label 0: ROC AUC, PR AUC and masking importance all read null, with no word, so
    the run (exit 0, no model.degradation) looked like a model consent does not hurt."""
    import json

    import polars as pl

    blind = _blind_set().with_columns(pl.lit(0).alias("label"))
    result, out = _model_check(tmp_path, _two_input_model(tmp_path / "m.onnx"), blind)
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(out.read_text())
    assert doc["evidence"]["importance"]["features"]["values"] == [None, None]
    assert any("label holds one class only" in n for n in doc["evidence"]["notes"])


def test_an_onnx_model_of_no_inputs_is_an_input_error(tmp_path):
    """A graph of no inputs (a constant score): an internal error, IndexError, reading the
    first input's shape; README listed it as not tried, for want of a way to write one."""
    from onnx_proto import FLOAT, float_tensor, node, value_info
    from onnx_proto import model as onnx_model

    path = tmp_path / "constant.onnx"
    nodes = [node("Identity", ["c"], ["p"]), node("Identity", ["c2"], ["probabilities"])]
    constants = [float_tensor("c", [0.3], [1, 1]), float_tensor("c2", [0.7, 0.3], [1, 2])]
    outputs = [value_info("p", FLOAT), value_info("probabilities", FLOAT, 2)]
    path.write_bytes(onnx_model(nodes, [], outputs, constants))
    result, out = _model_check(tmp_path, path, _blind_set())
    assert result.exit_code == 3, result.output
    assert "constant.onnx: takes no input" in result.output and not out.exists()


def test_audits_sharing_a_reports_folder_touch_it_only_under_its_lock(tmp_path, monkeypatch):
    """Two configs, each with its own history, one reports folder (the default beside both):
    the second audit, started while the first wrote its reports, removed the first's hidden
    folder as a killed run's, and the first ended in an internal error (FileNotFoundError
    publishing it) with its run recorded and its reports gone. Finishing killed runs'
    folders, and writing, publishing and pruning one's own, now happen under the reports
    folder's lock, an flock on the folder: each step below finds it held (a second open of the
    folder cannot take it)."""
    import fcntl
    import os

    from privdiag.audit import folders

    config = _audit_config(tmp_path, '[audit]\nhistory = "b.duckdb"\nreports_dir = "rep"\n')
    held: dict[str, bool] = {}

    def watched(name: str):
        step = getattr(folders, name)

        def call(*args, **kwargs):
            fd = os.open(tmp_path / "rep", os.O_RDONLY | os.O_DIRECTORY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held[name] = False
            except BlockingIOError:
                held[name] = True
            finally:
                os.close(fd)
            return step(*args, **kwargs)

        monkeypatch.setattr(folders, name, call)

    for name in ("recover", "publish", "prune"):
        watched(name)
    result = CliRunner().invoke(app, ["audit", "--config", str(config)])
    assert result.exit_code in (0, 1), result.output
    assert held == {"recover": True, "publish": True, "prune": True}
    assert len([p for p in (tmp_path / "rep").iterdir()]) == 1  # the run's folder alone


@pytest.mark.parametrize(
    ("audit", "said"),
    [
        # both read "--keep -1 keeps no report" and "--fail-when 'never' is not a choice",
        # naming a flag nobody gave
        ("keep = -1", "privdiag.toml: [audit] keep = -1 keeps no report"),
        ('fail_when = "never"', "privdiag.toml: [audit] fail_when = 'never' is not a choice"),
    ],
)
def test_a_bad_audit_setting_of_the_config_is_named_as_the_config_writes_it(tmp_path, audit, said):
    config = _audit_config(tmp_path, f"[audit]\n{audit}\n")
    result = CliRunner().invoke(app, ["audit", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert said in result.output and "--" not in result.output.split("hint")[0]


def _predictions(tmp_path: Path, change) -> tuple:
    """Scores of the unmasked blind set, written by ``change`` (a frame -> frame) to
    ``unmasked.csv``, and the model check given them."""
    import numpy as np
    import polars as pl

    blind = _blind_set().with_row_index("row_id")
    z = 0.5 * blind["a"].to_numpy() + 0.3 * blind["b"].to_numpy() - 1
    scores = pl.DataFrame({"row_id": blind["row_id"].cast(pl.Int64), "score": 1 / (1 + np.exp(-z))})
    path = tmp_path / "unmasked.csv"
    change(scores).write_csv(path)
    model = _two_input_model(tmp_path / "m.onnx")
    return _model_check(tmp_path, model, _blind_set(), "--predictions", str(path))


def test_predictions_of_a_row_id_twice_are_an_input_error(tmp_path):
    """Rows 0-2 scored twice: an internal error, "operands could not be broadcast together
    with shapes (1,203) (200,)"."""
    import polars as pl

    result, out = _predictions(tmp_path, lambda s: pl.concat([s, s.head(3)]))
    assert result.exit_code == 3, result.output
    assert "unmasked.csv, field 'row_id': holds row_id 0 more than once (6 rows" in result.output
    assert not out.exists()


def test_predictions_of_a_fractional_row_id_are_an_input_error(tmp_path):
    """row_id 0.5, 1.5, ...: cast to 0, 1, ... and taken, scores matched to other rows."""
    import polars as pl

    result, out = _predictions(tmp_path, lambda s: s.with_columns(pl.col("row_id") + 0.5))
    assert result.exit_code == 3, result.output
    assert "unmasked.csv, row 1, field 'row_id'" in result.output
    assert "is not a whole number" in result.output and not out.exists()


def test_predictions_as_exported_are_taken(tmp_path):
    """The same scores, each row once: the check runs (row_id 1.0 as a number is whole)."""
    import polars as pl

    result, out = _predictions(tmp_path, lambda s: s.with_columns(pl.col("row_id") * 1.0))
    assert result.exit_code in (0, 1), result.output
    assert out.exists()


def test_a_scikit_learn_model_given_dates_is_an_input_error(tmp_path):
    """A date where the skops fixture model takes a number: cast to days since 1970 (20,454)
    and scored so without a word, where an ONNX model refused it already."""
    import datetime as dt

    import polars as pl

    from privdiag.model.synthetic import FEATURES, make_blind_set

    model = Path(__file__).resolve().parent.parent / "fixtures" / "models"
    model = model / "propensity_imputed.skops"
    blind = make_blind_set(300, seed=3).with_columns(pl.lit(dt.date(2026, 1, 1)).alias(FEATURES[0]))
    listed = ", ".join(repr(f) for f in FEATURES)
    config = f"[models.p]\npath = {str(model)!r}\nfeatures = [{listed}]\n"
    result, out = _model_check(tmp_path, model, blind, config=config)
    assert result.exit_code == 3, result.output
    assert f"the model takes {FEATURES[0]} as numbers, but the column holds dates" in (
        result.output
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("purposes", "said"),
    [
        # hostile 22's (3): the key was named "[aliases]", which no config writes
        ({"aliases": "ads"}, "[purposes.aliases]: must be a table"),
        # an empty alias was taken: it would map a record's empty category
        ({"aliases": {"": "ads"}}, "[purposes.aliases]: holds an empty alias"),
        ({"aliases": {"  ": "ads"}}, "[purposes.aliases]: holds an empty alias"),
    ],
)
def test_a_bad_aliases_table_is_named_as_the_config_writes_it(purposes, said):
    from privdiag.config import parse_config
    from privdiag.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config({"purposes": purposes}, Path("privdiag.toml"))
    assert said in str(caught.value)
