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


def _far(outlier: float, scored: float) -> str | None:
    """Labels 1..19 and ``outlier``; scores one above each label, ``scored`` for the last.
    Quartiles 5.75 and 15.25 (numpy's linear), so the far-out fences are -22.75 and 43.75."""
    import numpy as np

    from privdiag.model.guards import far_labels

    y = np.array([*range(1, 20), outlier], dtype=np.float64)
    return far_labels(y, np.array([*range(2, 21), scored], dtype=np.float64))


def test_a_few_far_out_labels_holding_most_of_the_error_are_noted():
    """Found by hostile round 28 (3): one label of 1e300 was all of RMSE and MAE, unsaid.
    Errors 1 on 19 rows; the far-out row's 100 is 10000 / 10019 of the squared error (100%)
    and 100 / 119 of the absolute (84%); its 5 is 25 / 44 (57%) and 5 / 24 (21%); its 4 is
    16 / 35 (46%) and 4 / 23: no more than half, no note."""
    said = _far(100.0, 0.0)
    assert said is not None and said.startswith("1 row of the blind set's 20 holds a label far")
    assert "100% of the unmasked scores' squared error (84% of their absolute error)" in said
    assert "57% of the unmasked scores' squared error (21% of" in _far(100.0, 95.0)
    assert _far(100.0, 96.0) is None
    assert _far(43.0, -100.0) is None  # inside the fences, however badly scored
    assert "100% of the unmasked scores' squared error (100% of" in _far(1e300, 0.0)
    assert _far(1e300, 1e300) is None  # scored well: the figures are the others'


def test_far_out_labels_of_more_than_a_few_rows_are_the_labels_shape_not_noted():
    """Two far-out labels of 20 rows are more than 5% (one row): no note."""
    import numpy as np

    from privdiag.model.guards import far_labels

    y = np.array([*range(1, 19), 1000.0, 1000.0])
    assert far_labels(y, np.zeros(20)) is None
    assert far_labels(np.ones(20), np.ones(20)) is None  # no error at all


def test_model_check_of_a_regressor_notes_a_label_of_1e300_without_showing_it(tmp_path):
    from privdiag.model import run_model_check
    from privdiag.model.synthetic import make_blind_set

    frame = make_blind_set(400, seed=3)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 11)
        .then(1e300)
        .otherwise(pl.col("basket_value"))
        .alias("basket_value")
    )
    blind = tmp_path / "blind.parquet"
    frame.write_parquet(blind)
    from privdiag.config import Config

    result = run_model_check(
        MODELS / "basket_value.onnx", blind, config=Config(), label="basket_value"
    )
    notes = [n for n in result.evidence.get("notes", []) if "far outside the others" in n]
    assert len(notes) == 1 and notes[0].startswith("1 row of the blind set's 400 holds")
    assert "1e+300" not in notes[0] and "row 12" not in notes[0]


def test_whole_floats_fed_to_a_string_input_are_named_by_column():
    """Found by hostile round 28 (1): a float column of whole numbers (pandas' integer column
    with a missing value) reaches a string input as "1.0" where the model may have learnt
    "1", every row then an unseen category, without a note."""
    from privdiag.model.guards import whole_floats_note

    frame = pl.DataFrame(
        {
            "store": [1.0, 2.0, None, 3.0],
            "half": [1.0, 1.5, 2.0, 3.0],
            "count": [1, 2, 3, 4],
            "empty": pl.Series([None] * 4, dtype=pl.Float64),
            "number": [1.0, 2.0, 3.0, 4.0],
        }
    )
    said = whole_floats_note(frame, ["store", "half", "count", "empty"])
    assert said is not None and said.startswith("the model takes store as text (a string input)")
    assert '1.0 reaches the model as "1.0"' in said and "1 not 1.0 in CSV" in said
    assert whole_floats_note(frame, ["half", "count", "empty"]) is None
    assert whole_floats_note(frame, []) is None  # "number" is fed as a number: no note


def test_model_check_notes_whole_floats_given_to_an_onnx_string_input(tmp_path):
    from tests.test_model_text import _onnx_text_model

    model = tmp_path / "text.onnx"
    _onnx_text_model(model)
    channel = pl.int_range(pl.len()) % 4
    frame = _with_word(None).with_columns(
        pl.when(channel == 0).then(None).otherwise(channel.cast(pl.Float64)).alias("channel"),
        pl.col("sessions_30d").cast(pl.Float64),
    )
    blind = tmp_path / "blind.parquet"
    frame.write_parquet(blind)
    from privdiag.config import Config
    from privdiag.model import run_model_check

    result = run_model_check(model, blind, config=Config(), label="label")
    notes = [n for n in result.evidence.get("notes", []) if "a string input" in n]
    assert len(notes) == 1 and notes[0].startswith("the model takes channel as text")
    frame.with_columns(pl.col("channel").cast(pl.Int64)).write_parquet(blind)
    result = run_model_check(model, blind, config=Config(), label="label")
    assert not [n for n in result.evidence.get("notes", []) if "a string input" in n]
