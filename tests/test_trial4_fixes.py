"""Problems the fourth new-user trial found: each test fails without its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privdiag.audit.collect import scan_sources, source_paths
from privdiag.config import Config, load_config
from privdiag.errors import ConfigError, InputError, UsageError
from privdiag.ingest.sqlparts import (
    DENIED_WORDS,
    GRANTED_WORDS,
    NO_FLAG_WORDS,
    flag,
    unread_flag,
)
from privdiag.result import Result
from privdiag.scan import run_scan
from tests.helpers import write


def test_consent_log_of_unmapped_categories_is_not_called_missing(tmp_path):
    """A consent log whose only category maps to no purpose left every consent check skipped
    with "no consent log given", though one was given; the reasons now point at the mapping."""
    events = write(
        tmp_path / "web.csv",
        """
        event_id,ts,event_name,user_id,anonymous_id,session_id
        1,2026-10-01T10:00:00Z,page_view,u1,a1,s1
        2,2026-10-01T10:02:00Z,purchase,u1,a1,s1
        """,
    )
    consent = write(
        tmp_path / "cmp.csv",
        """
        user_id,purpose,status,ts
        u1,Marketing Stuff,granted,2026-10-01T09:00:00Z
        """,
    )
    result = run_scan([events], consent=[consent])
    reasons = {c.name: c.reason for c in result.checks if c.status == "skipped"}
    for name in ("consent.violation", "consent.conflict", "people.optin_drop"):
        assert "no consent log given" not in reasons[name]
        assert "consent.unmapped_category" in reasons[name], name
    (missing,) = [f for f in result.findings if f.kind == "consent.missing_record"]
    assert "[purposes.aliases]" in missing.recommendation
    assert "--consent" not in missing.recommendation


def test_audit_without_any_config_says_so():
    """Run where no privdiag.toml is, `privdiag audit` said "the config  names no event
    data" (a blank where the file's name goes)."""
    with pytest.raises(UsageError) as caught:
        source_paths(Config())
    assert caught.value.message.startswith("no config: --config was not given")
    assert "privdiag init" in caught.value.hint


def test_audit_scans_its_sources_as_one_scan_would(tmp_path):
    """Sources of different formats were scanned apart (one scan per format): every check
    was listed twice, and the findings (multiple-comparison corrections, consent rates, the
    journey) differed from `privdiag scan` of the same files."""
    head = "event_id,ts,event_name,user_id,anonymous_id,session_id,gclid,consent_ads"
    rows = [
        f"{i},2026-10-0{1 + i % 3}T10:00:{i % 60:02d}Z,{step},u{i % 7},a{i % 7},s{i % 7},"
        f"{'G' if i % 2 else ''},{'denied' if i % 3 else 'granted'}"
        for i, step in enumerate(["page_view", "purchase"] * 20)
    ]
    write(tmp_path / "web.csv", "\n".join([head, *rows[:20]]) + "\n")
    write(tmp_path / "app.csv", "\n".join([head, *rows[20:]]) + "\n")
    write(
        tmp_path / "privdiag.toml",
        """
        [sources.web]
        paths = ["web.csv"]
        format = "generic"

        [sources.app]
        paths = ["app.csv"]

        [features.gclid]
        purposes = ["ads"]
        """,
    )
    config = load_config(tmp_path / "privdiag.toml")
    audit = Result(command="audit")
    scan_sources(config, audit, None)
    scan = run_scan([str(tmp_path / "web.csv"), str(tmp_path / "app.csv")], config=config)
    names = [c.name for c in audit.checks]
    assert len(names) == len(set(names)) == len(scan.checks)
    assert sorted(f.id for f in audit.findings) == sorted(f.id for f in scan.findings)


def test_model_checks_own_their_findings_in_the_checks_table_and_junit():
    """model-check's checks are named quality, importance, ...: the HTML checks table said
    "importance ran, 0 findings" beside two model.fragile_feature findings, and an audit's
    "propensity: drift.feature" owned none of its model's drift findings."""
    from privdiag.report.junit import owning_check

    checks = ["quality", "importance", "a: drift.feature", "b: drift.feature", "b: quality"]
    assert owning_check("model.fragile_feature", checks) == "importance"
    assert owning_check("model.degradation", checks) == "quality"
    assert owning_check("model.degradation", checks, "b") == "b: quality"
    assert owning_check("drift.feature", checks, "b") == "b: drift.feature"
    assert owning_check("drift.feature", checks) is None
    from privdiag.report.context import _check_views

    doc = {"checks": [{"name": "importance"}], "findings": [{"kind": "model.fragile_feature"}]}
    assert [v.findings for v in _check_views(doc)] == [1]


@pytest.mark.parametrize(
    ("entry", "wrong", "right"),
    [
        ("[features.gclid]", 'purpose = ["ads"]', "purposes"),
        ("[sources.web]", 'colums = { ts = "time" }', "columns"),
        ("[models.m]\npath = 'm.onnx'", 'blindset = "h.parquet"', "blind_set"),
    ],
)
def test_a_misspelt_key_of_a_named_entry_is_a_config_error(tmp_path, entry, wrong, right):
    """`[features.gclid] purpose = [...]` was ignored without a word: gclid stayed
    unclassified and no compliance check looked at it."""
    path = tmp_path / "privdiag.toml"
    path.write_text(f"{entry}\n{wrong}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"did you mean {right!r}?" in caught.value.message


def test_a_report_of_scan_and_model_results_is_titled_by_both():
    """`privdiag report scan.json model.json --html` titled its page "privdiag report:
    report": the writer merged the merged document again and lost its commands."""
    from browser.small import small_doc

    from privdiag.report.html import render_html
    from privdiag.report.merge import merge

    scan, model = small_doc(), small_doc()
    scan["command"], model["command"] = "scan", "model-check"
    merged = merge([scan, model])
    assert merge([merged])["commands"] == ["scan", "model-check"]
    assert "<title>privdiag report: scan, model-check</title>" in render_html(merged)


def test_a_predictions_file_with_a_score_that_is_no_number_names_its_row(tmp_path):
    """A score cell "abc" crashed model-check (exit 5, a polars cast error in the log)."""
    import polars as pl

    from privdiag.model.predictions import PredictionsScorer

    preds = write(tmp_path / "unmasked.csv", "row_id,score\n0,0.5\n1,abc\n")
    frame = pl.DataFrame({"row_id": [0, 1], "x": [1.0, 2.0]})
    with pytest.raises(InputError) as caught:
        PredictionsScorer([Path(preds)]).score_many({"unmasked": frame})
    assert caught.value.row == 2 and caught.value.field == "score"
    assert "abc" not in str(caught.value)


def test_a_predictions_file_missing_rows_is_refused_not_read_as_unscorable(tmp_path):
    """unmasked.csv with 2 of 3000 rows: model-check said "0 findings", the quality check
    skipped as "the unmasked blind set could not be scored", exit 0."""
    import polars as pl

    from privdiag.model.predictions import PredictionsScorer

    preds = write(tmp_path / "unmasked.csv", "row_id,score\n0,0.5\n1,\n")
    frame = pl.DataFrame({"row_id": [0, 1, 2, 3], "x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(InputError) as caught:
        PredictionsScorer([Path(preds)]).score_many({"unmasked": frame})
    assert "has no row for 2 of the 4 row_ids" in str(caught.value)
    # an empty score is the model's failure on that row, not a missing row
    scores = PredictionsScorer([Path(preds)]).score_many({"unmasked": frame.head(2)})
    assert scores["unmasked"][0] == 0.5 and scores["unmasked"][1] != scores["unmasked"][1]


def test_an_unknown_source_format_is_a_config_error_naming_the_entry(tmp_path):
    """`[sources.web] format = "ga5"` said only "format 'ga5' is not available in this
    build", naming neither the config nor the entry."""
    path = tmp_path / "privdiag.toml"
    path.write_text('[sources.web]\npaths = ["web.csv"]\nformat = "ga5"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: [sources.web]: unknown format 'ga5'")
    assert "did you mean 'ga4'?" in str(caught.value)


def test_consent_flag_values_read_as_neither_choice_are_said_in_a_note(tmp_path):
    """`maybe` in consent_ads made the events' ads state unknown, unsaid. Counted by hand:
    maybe, maybe and an e-mail are 3 unread values; granted, yes, no, unset and blank are
    read (or say "no decision")."""
    events = tmp_path / "e.csv"
    events.write_text(
        "event_id,ts,event_name,user_id,consent_ads,consent_analytics\n"
        "e1,2026-10-01T10:00:00Z,page_view,u1,maybe,yes\n"
        "e2,2026-10-01T10:01:00Z,page_view,u2,granted,unset\n"
        "e3,2026-10-01T10:02:00Z,page_view,u3,Maybe ,\n"
        "e4,2026-10-01T10:03:00Z,page_view,u4,pat@example.com,no\n"
    )
    doc = run_scan([str(events)], config=Config())
    text = json.dumps(doc.to_dict())
    notes = doc.evidence["notes"]
    [note] = [n for n in notes if "consent_ads" in n]
    assert "consent_ads: 3 events with a value read as neither granted nor denied" in note
    assert not any("consent_analytics" in n for n in notes)
    assert "pat@example.com" not in text


@given(
    word=st.sampled_from(GRANTED_WORDS + DENIED_WORDS + NO_FLAG_WORDS),
    pad=st.sampled_from(["", " ", "  "]),
    upper=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_every_known_consent_word_is_read_whatever_its_case_and_blanks(word, pad, upper):
    import duckdb

    value = pad + (word.upper() if upper else word) + pad
    [(unread, read)] = (
        duckdb.connect()
        .execute(f"SELECT {unread_flag('v')}, {flag('v')} FROM (SELECT ? AS v)", [value])
        .fetchall()
    )
    assert unread is False
    assert (read is None) == (word in NO_FLAG_WORDS)


def test_an_unknown_column_role_is_a_config_error_naming_the_config(tmp_path):
    """`columns = { tz = "when" }` was refused as a bad input (exit 3) naming the data file."""
    config = tmp_path / "privdiag.toml"
    config.write_text('[sources.web]\ncolumns = { tz = "when", user_id = "customer" }\n')
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert err.value.exit_code == 2
    assert str(err.value).startswith(f"{config}: [sources.web.columns]: unknown column role 'tz'")
    config.write_text('[sources.web]\ncolumns = { ts = "when", user_id = "customer" }\n')
    assert load_config(config).sources["web"].columns == {"ts": "when", "user_id": "customer"}
