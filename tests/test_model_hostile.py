"""Hostile models: a malicious pickle never runs in privdiag's process; mismatched inputs are
named. Goes through the CLI, as a user would."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.model.synthetic import FEATURES, make_blind_set

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"


class _Evil:
    """Unpickling this writes the unpickling process's id to a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        code = f"import os; open({str(self.marker)!r}, 'w').write(str(os.getpid()))"
        return (exec, (code,))


@pytest.fixture(scope="module")
def blind(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("blind") / "blind.csv"
    make_blind_set(400, seed=3).write_csv(path)
    return path


def model_check(*args) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["model-check", *map(str, args)])
    assert "Traceback" not in result.output and result.exit_code != 5, result.output
    return result.exit_code, result.output


def config(tmp: Path) -> Path:
    path = tmp / "privdiag.toml"
    path.write_text(
        "[models.evil]\npath = 'x'\nfeatures = [" + ", ".join(repr(f) for f in FEATURES) + "]\n"
    )
    return path


@pytest.mark.parametrize(
    "name", ["model.pkl", "model.joblib", "model.pickle", "model.onnx", "model.skops", "model.bin"]
)
def test_malicious_pickle_is_refused_without_running(blind, tmp_path, name):
    marker = tmp_path / "pwned"
    model = tmp_path / name
    model.write_bytes(pickle.dumps(_Evil(marker)))
    out = tmp_path / "o.json"
    code, text = model_check(model, "--blind-set", blind, "--json", out)
    assert code in (2, 3), text
    assert not marker.exists(), "the pickle ran in privdiag's process"
    assert not out.exists()
    if name.endswith((".pkl", ".joblib", ".pickle")):
        assert "--allow-pickle" in text


def test_allowed_pickle_runs_only_in_a_child_process(blind, tmp_path):
    marker = tmp_path / "pwned"
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps(_Evil(marker)))
    out = tmp_path / "o.json"
    code, text = model_check(
        model, "--blind-set", blind, "--allow-pickle", "--json", out, "--config", config(tmp_path)
    )
    assert marker.exists(), text
    assert int(marker.read_text()) != os.getpid()
    assert code == 3 and "cannot score" in text, text  # exec returned None: not a model
    assert not out.exists()


def test_onnx_inputs_that_do_not_match_the_data_are_named(tmp_path):
    data = make_blind_set(200, seed=4)
    dropped = FEATURES[0]
    path = tmp_path / "blind.csv"
    data.drop(dropped).write_csv(path)
    out = tmp_path / "o.json"
    code, text = model_check(MODELS / "propensity_imputed.onnx", "--blind-set", path, "--json", out)
    assert code == 3, text
    assert dropped in text and not out.exists()


def test_onnx_input_of_the_wrong_type_is_named(tmp_path):
    data = make_blind_set(200, seed=4)
    column = FEATURES[0]
    path = tmp_path / "blind.csv"
    data.with_columns(pl.lit("<script>x</script>").alias(column)).write_csv(path)
    out = tmp_path / "o.json"
    code, text = model_check(MODELS / "propensity_imputed.onnx", "--blind-set", path, "--json", out)
    assert code == 3, text
    assert column in text and not out.exists()


def test_onnx_garbage_file_is_a_clear_error(blind, tmp_path):
    model = tmp_path / "model.onnx"
    model.write_bytes(b"\x08\x07garbage" * 50)
    code, text = model_check(model, "--blind-set", blind)
    assert code == 3 and "model.onnx" in text, text
