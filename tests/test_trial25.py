"""Found by trial 25: what a publisher, a data scientist and a privacy lead met."""

from __future__ import annotations

from privdiag.audit.diff import compare, growth_of
from tests.audit_data import setup
from tests.test_audit_run import audit, change_of


def _leak(events: int) -> dict:
    return {
        "id": "f1",
        "kind": "consent.violation",
        "severity": "high",
        "metrics": {"events": events},
    }


def _inputs(*rows: int | None) -> list[dict]:
    return [{"path": f"f{n}.csv", "role": "events", "rows": r} for n, r in enumerate(rows)]


def test_growth_is_the_ratio_of_the_event_rows_of_two_runs():
    consent = {"path": "cmp.csv", "role": "consent", "rows": 50}
    assert growth_of([*_inputs(600, 300), consent], _inputs(200, 100)).total == 3.0
    assert growth_of(_inputs(600), _inputs(None)).total is None  # rows unknown: not weighed
    assert growth_of([consent], _inputs(100)).total is None


def test_events_that_keep_pace_with_a_growing_export_are_unchanged():
    # 100 leaking events of 1,000 scanned, then 125 of 1,250: the same pace, unchanged
    assert compare(_leak(125), _leak(100), 5, growth=1.25) == "unchanged"
    # 150 of 1,250: 12% of the events, against 10%: worse
    assert compare(_leak(150), _leak(100), 5, growth=1.25) == "worse"
    # 90 of 1,250: 7.2%: better
    assert compare(_leak(90), _leak(100), 5, growth=1.25) == "better"
    # a count that moved by fewer than k stays unchanged, whatever the growth
    assert compare(_leak(100), _leak(100), 5, growth=1.25) == "unchanged"
    assert compare(_leak(125), _leak(100), 5) == "worse"  # nothing known of the inputs


NIGHT = [
    ("page_view", "u1", "gclid", 6),  # u1 denied ads: every gclid is a leak
    ("page_view", "u2", "gclid", 6),
    ("purchase", "u2", "coupon", 2),
]


def test_a_nightly_export_that_grows_by_a_day_is_no_regression(tmp_path):
    # Night 2's export holds night 1's events and as many again, of the same users and
    # pace: each leak's events double as everything else's do. The audit read that as
    # "worse" and, under the default --fail-when regressed, failed every night.
    config = setup(tmp_path, NIGHT)
    code, _, _ = audit(config)
    assert code == 1  # first run: new
    setup(tmp_path, NIGHT + NIGHT)
    code, output, doc = audit(config)
    assert change_of(doc, "consent.violation", step="page_view") == "unchanged"
    assert code == 0, output
    # a third night whose leak grows beyond the export's pace is worse
    setup(tmp_path, NIGHT + NIGHT + [("page_view", "u1", "gclid", 12)] + NIGHT[1:])
    code, _, doc = audit(config)
    assert change_of(doc, "consent.violation", step="page_view") == "worse"
    assert code == 1


def test_a_step_that_names_no_event_gets_the_name_it_likely_means(tmp_path):
    """A publisher wrote Segment's "Page Viewed" (its page calls read as page_view) and
    "article read" for "Article Read": the note said only "check the steps against the
    event names", naming none, so the step stayed empty run after run."""
    from privdiag.scan import run_scan
    from tests.helpers import config, write

    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,campaign_id
        2026-10-01T10:00:00Z,page_view,u1,c1
        2026-10-01T10:01:00Z,Article Read,u1,c1
        2026-10-01T10:02:00Z,order_9000015,u1,c1
        """,
    )
    cfg = config()
    cfg.steps = ["Page Viewed", "article read", "Article Read", "order_9000016", "Subscribe"]
    doc = run_scan([events], config=cfg).to_dict()
    notes = [n for n in doc["evidence"]["notes"] if "[journey] steps" in n]
    assert notes == [
        "the step(s) Page Viewed, article read, [redacted], Subscribe of [journey] steps "
        "name no event of the inputs (names are compared as written, case too), so the checks "
        "by step find nothing there; check the steps against the event names (Page Viewed: "
        "did you mean page_view?; article read: did you mean Article Read?)"
    ]  # an event name that looks like an identifier is never offered


def test_a_models_findings_rank_by_their_loss_and_below_any_of_events():
    """Findings without events or users (a model's) tied at a size of 0 and fell in the order
    of their ids: masking sessions_30d (ROC AUC -0.070) ranked above ad_clicks_7d (-0.089),
    the model's most fragile feature, in the terminal, HTML and Markdown alike."""
    from privdiag.findings import Ranked, impact_of, rank_order

    metrics = {"a": {"drop": 0.070}, "b": {"drop": 0.089}, "c": {"drop": 1.5}, "d": {"events": 1}}
    ranked = [Ranked(i, "medium", impact_of(m), ()) for i, m in metrics.items()]
    assert [ranked[n].id for n in rank_order(ranked)] == ["d", "c", "b", "a"]
    assert impact_of({"drop": 1.0}) == 0.5
    assert impact_of({"drop": -0.01}) == 0.0  # a better model is no size


def test_the_reports_of_a_failing_audit_run_list_what_fails_it_new_first(tmp_path):
    """After a banner change the run said "13 new, 31 worse" and exit 1, and the Markdown's
    top ten held none of the new findings: the new opt-in drop of the banner was 31st. The
    reports now list the findings that fail the run, new first, each with its change."""
    config = setup(tmp_path, NIGHT)
    audit(config)
    setup(tmp_path, NIGHT + NIGHT + [("add_to_cart", "u1", "fbclid", 3)])
    code, _, doc = audit(config)
    assert code == 1
    folder = tmp_path / "privdiag-reports"
    run = next(p for p in folder.iterdir() if p.name.endswith(doc["audit"]["run_id"]))
    summary = (run / "summary.md").read_text(encoding="utf-8")
    lead = (
        "Failing the run (exit 1): 1 finding(s) at or above high that --fail-when regressed counts:"
    )
    assert f"{lead}\n\n- high, new: fbclid is collected on add_to_cart events where ads" in summary
    html = (run / "report.html").read_text(encoding="utf-8")
    assert '<p class="changes" id="failing"><strong>Failing the run (exit 1)' in html
    assert '<span class="tag">new</span> <a href="#' in html


def test_a_label_column_not_found_offers_the_closest_column():
    """`--label lable` said "pass --label with the column holding the outcome" beside a blind
    set whose column `label` was one letter away; a column name that looks like an
    identifier is never offered."""
    from pathlib import Path

    import polars as pl
    import pytest

    from privdiag.errors import InputError
    from privdiag.model.inputs import _labels

    frame = pl.DataFrame({"label": [0, 1], "sessions_30d": [1.0, 2.0], "u4155550123": [1, 2]})
    with pytest.raises(InputError) as caught:
        _labels(frame, "lable", Path("holdout.parquet"))
    assert caught.value.hint == (
        "pass --label with the column holding the outcome: did you mean 'label'?"
    )
    with pytest.raises(InputError) as caught:
        _labels(frame, "u415555012", Path("holdout.parquet"))
    assert caught.value.hint == "pass --label with the column holding the outcome"


def test_a_degradation_that_predicts_0_on_every_row_names_the_threshold_no_score_reaches():
    """The generated shop's model under all_denied: "ROC AUC falls ... from 0.8074 to 0.55
    under all_denied; it predicts 0 on every row". A model predicting one class on every row
    ranks nothing (ROC AUC 0.5), so the data scientist read a contradiction: the scores
    still rank rows (0.55), none reaches the decision threshold (highest 0.39, checked with
    onnxruntime)."""
    from privdiag.model.metrics import Comparison
    from privdiag.model.verdicts import degradation, measure_table

    nan = float("nan")
    auc = Comparison("roc_auc", 0.8074, 0.55, 0.2574, 0.2336, 0.2797)
    precision = Comparison("precision", 0.704065, nan, nan, nan, nan)
    table = measure_table("t", {"roc_auc": auc, "precision": precision})
    found = degradation("propensity", "all_denied", None, auc, table, 0.02, None, [], decision=0.3)
    assert found.title == (
        "propensity: ROC AUC falls by 0.2574 (-31.9%), from 0.8074 to 0.55 under all_denied; "
        "no score reaches 0.3, so it predicts 0 on every row"
    )


def test_a_model_finding_whose_loss_grows_is_worse():
    """A model finding has no events, users or share: it was `unchanged` whatever its loss
    did, so a model that masking cost twice the ROC AUC of the night before never failed
    `--fail-when regressed` (severity aside)."""

    def loss(drop: float) -> dict:
        return {"id": "m", "kind": "model.fragile_feature", "severity": "medium",
                "metrics": {"drop": drop, "unit": "ROC AUC"}}  # fmt: skip

    assert compare(loss(0.14), loss(0.07), 5) == "worse"
    assert compare(loss(0.06), loss(0.07), 5) == "better"
    assert compare(loss(0.074), loss(0.07), 5) == "unchanged"  # within 10%
    assert compare(loss(0.14), loss(0.07), 5, growth=2.0) == "worse"  # the events' only
