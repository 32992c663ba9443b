"""A model given to model-check is matched to its [models.X] entry by the file it is, however
its path is written; a model matching no entry says so, naming the entries."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import load_config
from privdiag.model import run_model_check
from privdiag.model.entries import model_entry
from privdiag.model.synthetic import FEATURE_PURPOSES, FEATURES, make_blind_set

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"
# every purpose the features need has a rate, so the observed scenario adds no note
RATES = {"analytics": 0.6, "ads": 0.4, "personalization": 0.5, "functional": 0.7}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """proj/privdiag.toml names proj/models/p.onnx as [models.prop], owned by data-science."""
    proj = tmp_path / "proj"
    (proj / "models").mkdir(parents=True)
    shutil.copy(MODELS / "propensity_imputed.onnx", proj / "models" / "p.onnx")
    features = "".join(
        f"[features.{f}]\npurposes = {json.dumps(p)}\n" for f, p in FEATURE_PURPOSES.items()
    )
    (proj / "privdiag.toml").write_text(
        '[models.prop]\npath = "models/p.onnx"\nowner = "data-science"\n\n' + features,
        encoding="utf-8",
    )
    make_blind_set(400, seed=5).write_csv(tmp_path / "blind.csv")
    return proj


def _owners(result) -> set[tuple[str | None, str | None]]:
    return {(f.location.get("model"), f.owner) for f in result.findings}


def _check(project: Path, model: Path):
    config = load_config(project / "privdiag.toml")
    return run_model_check(model, project.parent / "blind.csv", config=config, consent_rates=RATES)


def _notes(result) -> list[str]:
    """The run's notes but the one every run given --consent-rates has (the observed
    scenario draws each purpose on its own)."""
    drawn = "observed scenario: each purpose is drawn on its own"
    return [n for n in result.evidence.get("notes", []) if not n.startswith(drawn)]


def test_the_entry_matches_through_absolute_relative_symlinked_and_hard_linked_paths(
    project, tmp_path, monkeypatch
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "link.onnx").symlink_to(project / "models" / "p.onnx")
    os.link(project / "models" / "p.onnx", elsewhere / "hard.onnx")
    monkeypatch.chdir(tmp_path)
    config = load_config(project / "privdiag.toml")

    for given in (
        project / "models" / "p.onnx",
        Path("proj/models/p.onnx"),
        Path("proj/models/../models/p.onnx"),
        Path("elsewhere/link.onnx"),
        Path("elsewhere/hard.onnx"),  # another name of the same file: read as another before
    ):
        entry = model_entry(config, given)
        assert (entry.name, entry.table.get("owner"), entry.note) == ("prop", "data-science", "")

    result = _check(project, Path("elsewhere/hard.onnx"))
    assert result.findings and _owners(result) == {("prop", "data-science")}
    assert not _notes(result)


def test_a_model_matching_no_entry_names_the_entries(project, tmp_path):
    copy = tmp_path / "p_copy.onnx"
    shutil.copy(project / "models" / "p.onnx", copy)

    result = _check(project, copy)

    assert result.findings and _owners(result) == {("p_copy", None)}
    assert _notes(result) == [
        f"model {copy} matches no [models.X] entry of {project / 'privdiag.toml'}: it is "
        "checked as p_copy, without an entry's owner, label or input names. Give the model by "
        "the path of an entry, relative to the config's folder (prop (models/p.onnx)), or add "
        "an entry for this file"
    ]


def test_a_model_named_like_an_entry_takes_its_input_names_and_says_the_paths_differ(
    project, tmp_path
):
    """An entry matched by name gives its owner (as before) and now its input names too: the
    skops file names none, so it ran only with them."""
    config = project / "privdiag.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[models.propensity_imputed]\npath = "models/sk.skops"\nowner = "ml"\n'
        f"features = {json.dumps(FEATURES)}\n",
        encoding="utf-8",
    )
    model = MODELS / "propensity_imputed.skops"

    result = _check(project, model)

    assert result.findings and _owners(result) == {("propensity_imputed", "ml")}
    assert result.evidence["model"]["features"] == FEATURES
    assert _notes(result) == [
        f"model {model} is read as [models.propensity_imputed] by its name, though that "
        "entry's path (models/sk.skops) is another file"
    ]


def test_without_entries_there_is_no_note(project, tmp_path):
    (project / "privdiag.toml").write_text("", encoding="utf-8")
    result = _check(project, project / "models" / "p.onnx")
    assert not _notes(result)


def _terminal(project: Path, folder: Path, tmp_path: Path) -> str:
    """The terminal output of model-check on a copy of p.onnx in ``folder``, whitespace
    joined; the JSON result is tmp_path/out.json."""
    copy = folder / "p_copy.onnx"
    shutil.copy(project / "models" / "p.onnx", copy)
    result = CliRunner().invoke(
        app,
        [
            "model-check",
            str(copy),
            "--blind-set",
            str(tmp_path / "blind.csv"),
            "--config",
            str(project / "privdiag.toml"),
            "--json",
            str(tmp_path / "out.json"),
        ],
    )
    assert result.exit_code in (0, 1), result.output
    return " ".join(result.output.split())


def test_the_terminal_says_the_model_matches_no_entry(project, tmp_path):
    text = _terminal(project, tmp_path, tmp_path)
    assert "matches no [models.X] entry" in text
    assert "prop (models/p.onnx)" in text


def test_a_long_note_in_the_terminal_keeps_its_advice(project, tmp_path):
    """The model in a folder of 144 characters: the note is over 400 characters, and the
    terminal cut it at 300 inside the advice, so "or add an entry for this file" was lost
    (and with it the entries). It keeps whole words and its last sentence, the advice with
    the entries, now."""
    deep = tmp_path / ("deep_folder_" * 12)
    deep.mkdir()
    text = _terminal(project, deep, tmp_path)
    [note] = json.loads((tmp_path / "out.json").read_text())["evidence"]["notes"]
    assert len(note) > 400
    assert (
        "… Give the model by the path of an entry, relative to the config's folder (prop "
        "(models/p.onnx)), or add an entry for this file"
    ) in text
