"""Trial 12: a data scientist's model-check and a platform engineer's audit in CI.

Model: the committed fixture ONNX model on the synthetic blind set (features sessions_30d
analytics, ad_clicks_7d ads, reco_clicks personalization, tenure_days none, noise
functional). Audit: a flat CSV shop whose consent.violation findings change between runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from privdiag.config import parse_config
from privdiag.model import run_model_check
from privdiag.model.blindset import deny_scenarios, observed_scenario
from privdiag.model.synthetic import FEATURE_PURPOSES, make_blind_set

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"
RATES = {"analytics": 0.6, "ads": 0.4, "personalization": 0.5, "functional": 0.7}


def _check(tmp_path: Path, purposes: dict[str, list[str]], rates: dict[str, float]):
    """model-check of the fixture model on 600 synthetic rows, features mapped by purposes."""
    blind = tmp_path / "blind.csv"
    make_blind_set(600, seed=12).write_csv(blind)
    config = parse_config(
        {"features": {f: {"purposes": p} for f, p in purposes.items()}}, Path("privdiag.toml")
    )
    return run_model_check(
        MODELS / "propensity_imputed.onnx", blind, config=config, consent_rates=rates
    )


def test_observed_scenario_notes_the_purposes_it_has_no_rate_for(tmp_path):
    # --consent-rates analytics=0.6 only: ads, functional and personalization have no rate,
    # so ad_clicks_7d, noise and reco_clicks are never masked in the observed scenario. That
    # was silent; the run now says so in a note (terminal, HTML, JSON evidence.notes).
    result = _check(tmp_path, FEATURE_PURPOSES, {"analytics": 0.6})
    shares = result.evidence["scenarios"]["masked_share"]["observed"]
    assert set(shares) == {"sessions_30d"}
    notes = [n for n in result.evidence.get("notes", []) if "no consent rate" in n]
    assert len(notes) == 1
    assert "no consent rate for ads, functional, personalization" in notes[0]
    assert "ad_clicks_7d, reco_clicks, noise" in notes[0]
    assert "--consent-rates" in notes[0]


def test_every_rate_given_gives_no_note(tmp_path):
    result = _check(tmp_path, FEATURE_PURPOSES, RATES)
    assert not [n for n in result.evidence.get("notes", []) if "no consent rate" in n]


def test_a_strictly_necessary_feature_is_never_masked_by_a_scenario(tmp_path):
    # tenure_days needs only "necessary" (no consent): before, the run built a deny_necessary
    # scenario and all_denied masked tenure_days, a loss no person's choice can cause.
    purposes = {**FEATURE_PURPOSES, "tenure_days": ["necessary"]}
    result = _check(tmp_path, purposes, RATES)
    shares = result.evidence["scenarios"]["masked_share"]
    assert "deny_necessary" not in shares
    assert "tenure_days" not in shares["all_denied"]
    assert "tenure_days" not in shares["observed"]
    assert not [n for n in result.evidence.get("notes", []) if "necessary" in n]
    # a feature needing necessary and ads is still masked when ads is denied
    mixed = {"a": ["necessary", "ads"], "b": ["necessary"]}
    by_name = {s.name: s for s in deny_scenarios(4, mixed)}
    assert set(by_name) == {"deny_ads", "all_denied"}
    assert by_name["all_denied"].masks["a"].all()
    assert not by_name["all_denied"].masks["b"].any()
    observed = observed_scenario(1000, mixed, {"ads": 0.0}, seed=1)
    assert observed.masks["a"].all() and not observed.masks["b"].any()


def _audit_doc(change: str, fail_when: str = "regressed"):
    """small_doc as an audit run wrote it: the high violation b2 ``change``d since the
    compared run, the medium unowned feature a1 unchanged."""
    from browser.small import small_doc

    doc = small_doc()
    doc["command"] = "audit"
    for f in doc["findings"]:
        f["change"] = change if f["id"] == "b2" else "unchanged"
    doc["audit"] = {"run_id": "r2", "compared_with": "r1", "fail_when": fail_when}
    doc["resolved"] = []
    return doc


def _annotations(doc, tmp_path):
    import io

    from privdiag.report import github_annotations

    out, summary = io.StringIO(), tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    github_annotations([doc], fail_on="high", env=env, stream=out)
    return out.getvalue(), summary.read_text()


def test_audit_junit_and_annotations_fail_on_what_fails_the_run(tmp_path):
    # An unchanged high violation under --fail-when regressed: the run exits 0, yet the
    # JUnit file failed its consent test case and GitHub got an ::error annotation, so CI
    # test reports went red on a green run. Now they fail only on what the exit code counts.
    from privdiag.audit.diff import failing
    from privdiag.report.junit import render_junit

    doc = _audit_doc("unchanged")
    assert failing(doc, "high") == []
    xml = render_junit(doc, fail_on="high")
    assert "<failure" not in xml
    assert 'failures="0"' in xml
    assert (
        "<system-out>1 finding(s) at or above high that --fail-when regressed does not count "
        "(neither new nor worse since the compared run):\n"
        "[high, unchanged] consent.violation" in xml
    )
    lines, summary = _annotations(doc, tmp_path)
    assert (  # first: since polish11 a missing owner (a1) ranks by its own severity
        "::warning title=privdiag consent.violation (high%2C unchanged)::"
        "consent.violation at feature=gclid, source=web [b2]"
    ) == lines.splitlines()[0]
    assert "1 at or above high, 0 failing the run (--fail-when regressed)." in summary

    worse = _audit_doc("worse")  # what regressed counts fails as before
    assert [f["id"] for f in failing(worse, "high")] == ["b2"]
    assert 'failures="1"' in render_junit(worse, fail_on="high")
    assert (
        "::error title=privdiag consent.violation (high%2C worse)::"
        in (_annotations(worse, tmp_path)[0])
    )
    # --fail-when all counts the unchanged one; a scan's document has no audit block
    assert 'failures="1"' in render_junit(_audit_doc("unchanged", "all"), fail_on="high")
    assert "not new since" in render_junit(_audit_doc("worse", "new"), fail_on="high")


def test_the_audit_line_says_why_a_run_exits_1():
    # "0 new, 0 worse, 1 not compared" beside exit 1 left the reader guessing: a finding of
    # fewer than k users is not compared and --fail-when regressed counts it as new. The line
    # calls it "hidden", as the run's JSON and --list do (trial 20).
    from types import SimpleNamespace

    from privdiag.audit.run import AuditOutcome

    doc = _audit_doc("hidden")
    doc["audit"]["fail_on"] = "high"
    counts = {"new": 0, "resolved": 0, "worse": 0, "better": 0, "hidden": 1}
    outcome = AuditOutcome(SimpleNamespace(run_id="r2"), doc, Path("/r"), counts, 1)
    assert outcome.one_line() == (
        "audit r2: 2 findings, 0 new, 0 resolved, 0 worse, 0 better, 1 hidden; "
        "exit 1 on 1 finding(s) at or above high that --fail-when regressed counts: "
        "1 hidden (counted as new) -> /r"
    )
    passed = AuditOutcome(
        SimpleNamespace(run_id="r2"), _audit_doc("unchanged"), Path("/r"), counts, 0
    )
    assert passed.one_line().endswith("1 hidden -> /r")


def test_a_shift_card_shows_its_consent_rate_changes_in_words():
    # The HTML card of a feature's sparsity.shift showed its consent_rate_changes as JSON:
    # [{"after": 0.8333, "before": 0.0, "purpose": "ads"}].
    from privdiag.report.facts import metric_items

    metrics = {
        "before": 1.0,
        "consent_rate_changes": [
            {"after": 0.8333, "before": 0.0, "purpose": "ads"},
            {"after": 0.25, "before": 0.5, "purpose": "analytics"},
        ],
    }
    items = dict(metric_items(metrics, 5, "sparsity.shift"))
    assert items["Consent rate changes"] == "ads 0% to 83%; analytics 50% to 25%"
    # an edited result's odd entry is shown as it is, not taken for a rate
    odd = {"consent_rate_changes": [{"after": "x", "before": 0.0, "purpose": "ads"}]}
    assert "after" in dict(metric_items(odd, 5, "sparsity.shift"))["Consent rate changes"]


def test_a_change_point_on_the_last_day_keeps_its_labels_inside_the_chart():
    # A shift found on the last day of the data (a nightly audit's newest day) drew its
    # mark's label from the right edge outwards ("0%" of "0% to 83%" shown) and the last
    # day's tick centred on the edge ("2026-11-0"): both now end inside the 640px chart.
    from privdiag.report.charts import WIDTH, series

    chart = series(
        {
            "title": "Daily ads consent rate (web)",
            "x": ["2026-11-02", "2026-11-03"],
            "series": {"ads consent rate": [0.0, 0.83]},
            "marks": [{"x": "2026-11-03", "label": "0% to 83%"}],
        }
    )
    texts = {s.text: s.attrs for s in chart.shapes if s.tag == "text"}
    last, mark = texts["2026-11-03"], texts["0% to 83%"]
    assert last["text-anchor"] == "end" and float(last["x"]) <= WIDTH
    assert mark["text-anchor"] == "end" and float(mark["x"]) < WIDTH - 20
    assert texts["2026-11-02"]["text-anchor"] == "middle"


@pytest.mark.parametrize("config", [None, "[features.gclid]\npurposes = ['ads']\n"])
def test_an_audit_with_no_event_data_writes_nothing(tmp_path, monkeypatch, config):
    # `privdiag audit` in a folder without privdiag.toml (or with one naming no source) exited
    # 2 but left privdiag-history.duckdb, its lock and an empty privdiag-reports behind.
    from typer.testing import CliRunner

    from privdiag.cli import app

    monkeypatch.chdir(tmp_path)
    if config:
        (tmp_path / "privdiag.toml").write_text(config)
    result = CliRunner().invoke(app, ["audit"])
    assert result.exit_code == 2
    assert ("no config" if config is None else "names no event data") in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == (["privdiag.toml"] if config else [])


def test_an_audit_shows_its_models_notes(tmp_path):
    # An audit's model-check notes stayed under evidence.models.<name>.notes, which no report
    # shows: the audit's HTML and terminal never said that personalization had no rate.
    from privdiag.audit.collect import check_models
    from privdiag.result import Result

    make_blind_set(600, seed=12).write_csv(tmp_path / "blind.csv")
    raw = {
        "features": {f: {"purposes": p} for f, p in FEATURE_PURPOSES.items()},
        "models": {
            "propensity": {
                "path": str(MODELS / "propensity_imputed.onnx"),
                "blind_set": "blind.csv",
                "label": "label",
            }
        },
    }
    result = Result(command="audit")
    result.evidence["consent_rates"] = {"analytics": 0.6, "ads": 0.4}
    # the scan's mix: analytics and ads denied together on 0.4, granted together on 0.4
    result.evidence["consent_mix"] = [
        {"granted": [], "denied": ["analytics", "ads"], "share": 0.4},
        {"granted": ["analytics", "ads"], "denied": [], "share": 0.4},
        {"granted": ["analytics"], "denied": ["ads"], "share": 0.2},
    ]
    check_models(parse_config(raw, tmp_path / "privdiag.toml"), result, None)
    assert result.evidence["models"]["propensity"]["scenarios"]["observed_draw"] == "joint"
    assert result.evidence["notes"] == [
        "model propensity: observed scenario: each row draws its whole combination of consent "
        "states from the scan's consent mix (3 combinations), so purposes denied together in "
        "the scan are denied together here",
        "model propensity: observed scenario: no consent rate for functional, personalization, "
        "taken as granted on every row, so reco_clicks, noise are never masked there and its "
        "loss may be understated; give each purpose a rate (model-check --consent-rates "
        "functional=0.5, or consent records that decide it)",
    ]


def test_the_readme_config_example_shows_every_key_of_a_model_entry():
    # A HistGradientBoosting pipeline saved with skops is refused until its TreePredictor is
    # listed in [models.NAME] trusted_types, a key the README never named (nor blind_set,
    # label and reference, which an audit needs).
    import tomllib

    from privdiag.config import ENTRY_KEYS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = readme.split("## Config")[1].split("```toml\n")[1].split("```")[0]
    entry = example.split("[models.propensity]")[1].split("\n\n")[0]
    for key in ENTRY_KEYS["models"]:
        assert f"\n{key} = " in entry or f"\n# {key} = " in entry, key
    parse_config(tomllib.loads(example), Path("privdiag.toml"))


def test_list_and_show_count_the_findings_not_compared(capsys):
    # A run that exited 1 on a hidden (not compared) finding showed "0 new ... 0 worse,
    # exit 1" in --list and --show, with nothing to say why.
    from privdiag.audit.history import RunRecord
    from privdiag.cli_audit import _echo_run, _echo_runs

    summary = {"findings": 3, "new": 0, "resolved": 1, "worse": 0, "better": 0, "hidden": 1}
    run = RunRecord("6ddbf168", "2026-12-05T10:17:33+00:00", exit_code=1, summary=summary)
    _echo_runs([run])
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[7:9] == ["hidden", "exit"]
    assert row.split()[2:9] == ["3", "0", "1", "0", "0", "1", "1"]
    _echo_run(run, [], 5)
    assert (
        capsys.readouterr()
        .out.splitlines()[0]
        .endswith("exit 1: 3 findings, 0 new, 1 resolved, 0 worse, 0 better, 1 hidden")
    )


def test_predictions_of_a_classifier_outside_0_to_1_are_an_input_error(tmp_path):
    # Scores saved as percentages (or logits) beside a 0/1 label turned the check into a
    # regressor's in silence: the observed scenario read "rmse 0.41 -> 71.7", no error.
    import numpy as np
    import polars as pl

    from privdiag.errors import InputError

    blind = tmp_path / "blind.csv"
    make_blind_set(300, seed=12).write_csv(blind)
    rng = np.random.default_rng(1)
    good = pl.DataFrame({"row_id": range(300), "score": rng.uniform(size=300)})
    good.write_csv(tmp_path / "unmasked.csv")
    good.with_columns(pl.col("score") * 100).write_csv(tmp_path / "deny_ads.csv")
    config = parse_config(
        {"features": {f: {"purposes": p} for f, p in FEATURE_PURPOSES.items()}},
        Path("privdiag.toml"),
    )
    files = [tmp_path / "unmasked.csv", tmp_path / "deny_ads.csv"]
    with pytest.raises(InputError) as caught:
        run_model_check(Path("model.bin"), blind, config=config, predictions=files)
    assert caught.value.path == tmp_path / "deny_ads.csv"
    assert "outside 0 to 1 beside a 0/1 label" in str(caught.value)
    # all in 0 to 1: a classifier, as before
    run_model_check(Path("model.bin"), blind, config=config, predictions=files[:1])
