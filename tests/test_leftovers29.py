"""leftovers29: model-check's words check once a blind set, the blind-set endings named in
the refusal's hint, a note on labels that dominate a regressor's error figures."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from privdiag.cli import app

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"


def _with_word(row: int | None) -> pl.DataFrame:
    """The synthetic blind set, sessions_30d as text, ``n/a`` on row ``row`` (0-based)."""
    from privdiag.model.synthetic import make_blind_set

    frame = make_blind_set(200, seed=3)
    text = pl.col("sessions_30d").cast(pl.String)
    if row is not None:
        text = pl.when(pl.int_range(pl.len()) == row).then(pl.lit("n/a")).otherwise(text)
    return frame.with_columns(text.alias("sessions_30d"))


def _masked(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    return frame.with_columns(pl.lit(None, dtype=frame.schema[column]).alias(column))


def test_the_words_of_a_blind_set_are_looked_for_once_not_per_scenario(monkeypatch):
    """Every scenario cast the text inputs again to look for a word: 5 variants, 5 casts.
    The unmasked set and the reference (a set of its own) are looked at, the scenarios
    masking the unmasked one are not."""
    from privdiag.model import loading

    calls = []
    real = loading._refuse_words
    monkeypatch.setattr(loading, "_refuse_words", lambda f, n: calls.append(1) or real(f, n))
    scorer = loading.OnnxScorer(MODELS / "propensity_imputed.onnx")
    frame = _with_word(None)
    variants = {
        "unmasked": frame,
        "deny_analytics": _masked(frame, "sessions_30d"),
        "mask_noise": _masked(frame, "noise"),
        "all_denied": _masked(_masked(frame, "sessions_30d"), "noise"),
        "reference": frame.head(50),
    }
    scores = scorer.score_many(variants)
    assert len(calls) == 2
    assert list(scores) == list(variants)
    assert all(scores[n].shape == (variants[n].height,) for n in variants)  # all scored


def test_a_word_still_fails_the_blind_set_naming_its_row_and_the_reference_on_its_own():
    """The unmasked set holding `n/a` on row 8 fails as before; a scenario masking the
    column is then checked as scored, and scores; a reference holding a word fails alone."""
    from privdiag.model.loading import ModelFailure, OnnxScorer

    scorer = OnnxScorer(MODELS / "propensity_imputed.onnx")
    frame = _with_word(7)
    scores = scorer.score_many(
        {
            "unmasked": frame,
            "mask_sessions_30d": _masked(frame, "sessions_30d"),
            "mask_noise": _masked(frame, "noise"),
        }
    )
    expected = (
        "ValueError: the model takes sessions_30d as numbers, but row 8 holds a 3-character "
        "value of letters and '/', which is no number; write it empty where it is missing"
    )
    assert isinstance(scores["unmasked"], ModelFailure)
    assert scores["unmasked"].message == expected
    assert scores["mask_noise"].message == expected
    assert scores["mask_sessions_30d"].shape == (200,)
    clean = _with_word(None)
    scores = scorer.score_many({"unmasked": clean, "reference": _with_word(0).head(20)})
    assert scores["unmasked"].shape == (200,)
    assert scores["reference"].message == expected.replace("row 8", "row 1")


def test_a_default_that_is_no_number_for_a_number_input_is_a_config_error(tmp_path):
    """Found by leftovers29: `default = "none"` for a text column the model takes as numbers
    ended in an internal error (exit 5, polars' "conversion from `str` to `f64` failed")."""
    blind = tmp_path / "blind.parquet"
    _with_word(None).write_parquet(blind)
    config = tmp_path / "privdiag.toml"
    config.write_text(
        '[features.sessions_30d]\npurposes = ["analytics"]\ndefault = "none"\n', encoding="utf-8"
    )
    args = ["model-check", str(MODELS / "propensity_imputed.onnx"), "--blind-set", str(blind)]
    result = CliRunner().invoke(app, [*args, "--label", "label", "--config", str(config)])
    assert "Traceback" not in result.output and result.exit_code == 2, result.output
    assert "[features.sessions_30d]" in result.output
    assert "the model takes sessions_30d as numbers, and 'none' is no number" in result.output


#: Every ending README says a blind set is read by, written down by hand.
ENDINGS = (".csv", ".txt", ".csv.gz", ".parquet", ".pq", ".ndjson", ".jsonl", ".json")


def test_a_blind_set_of_another_ending_is_refused_naming_every_ending_read(tmp_path):
    """Found by README audit 28: the hint named .csv, .parquet, .ndjson, .jsonl and .json,
    not .txt, .csv.gz and .pq, which are read too."""
    from privdiag.model.blindset import table_format

    assert all(table_format(Path(f"blind{end}")) is not None for end in ENDINGS)
    assert table_format(Path("blind.xlsx")) is None and table_format(Path("b.txt.gz")) is None
    blind = tmp_path / "blind.xlsx"
    blind.write_text("a,label\n1,0\n", encoding="utf-8")
    args = ["model-check", str(MODELS / "propensity_imputed.onnx"), "--blind-set", str(blind)]
    result = CliRunner().invoke(app, args)
    assert "Traceback" not in result.output and result.exit_code == 3, result.output
    said = " ".join(result.output.split())
    assert "unsupported format" in said
    listed = said[said.index("hint:") :]
    assert all(f"{end}," in listed or f"{end} " in listed for end in ENDINGS), said


def test_a_predictions_file_of_json_lines_scores_the_scenario_it_is_named_after(tmp_path):
    """Found by leftovers29: predictions files are read as blind sets are, NDJSON and JSON
    too, but their scenario was their name less a CSV or Parquet ending only, so
    `unmasked.ndjson` scored no scenario and was refused ("matches no scenario")."""
    from privdiag.model.predictions import scenario_of

    assert scenario_of(Path("unmasked.ndjson")) == "unmasked"
    assert scenario_of(Path("mask_page.cat.jsonl")) == "mask_page.cat"
    assert scenario_of(Path("all_denied.json")) == "all_denied"
    assert scenario_of(Path("observed.csv.gz")) == "observed"
    assert scenario_of(Path("mask_page.cat.parquet")) == "mask_page.cat"
    assert scenario_of(Path("mask_x.pq")) == "mask_x"
    blind = tmp_path / "blind.csv"
    _with_word(None).write_csv(blind)
    scores = pl.DataFrame({"row_id": range(200), "score": [0.5] * 200})
    unmasked = tmp_path / "unmasked.ndjson"
    scores.write_ndjson(unmasked)
    command = ["model-check", "elsewhere.onnx", "--blind-set", str(blind), "--label", "label"]
    result = CliRunner().invoke(app, [*command, "--predictions", str(unmasked)])
    assert "Traceback" not in result.output and result.exit_code in (0, 1), result.output
