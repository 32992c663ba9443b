"""Fixes from the seventh new-user trial: a source's users without any consent decision name
the source's missing owner, and consent categories decided only by payloads without an id
count their users as unknown, not 0."""

from __future__ import annotations

import json
import re

from test_report_bounds import many_findings

from privdiag.chains import link
from privdiag.checks.context import mark_no_user_ids
from privdiag.findings import Finding
from privdiag.report.html import render_html
from privdiag.report.merge import merge
from privdiag.report.text import key_figure, missing_owners
from privdiag.scan import run_scan


def test_missing_record_of_an_unowned_source_names_who_must_act():
    unowned = Finding("people.unowned", "low", "Source app has no owner", {"source": "app"}, {})
    missing = Finding(
        "consent.missing_record", "medium", "no decision", {"source": "app"}, {"users": 42}
    )
    other = Finding("consent.missing_record", "medium", "no decision", {"source": "web"}, {})
    link([unowned, missing, other], {})
    assert missing.caused_by == [unowned.id]
    assert other.caused_by == []  # web has no ownership gap
    docs = [f.to_dict() for f in (unowned, missing, other)]
    # the missing record has no owner: the reports say nobody acts on it
    assert missing_owners(docs) == [
        "Nobody owns source app: “no decision” has no one to act on it."
    ]


def test_no_user_ids_covers_decisions_as_well_as_events():
    assert mark_no_user_ids({"decisions": 1, "users": 0}) == {
        "decisions": 1,
        "users": None,
        "no_user_ids": ["users"],
    }
    assert mark_no_user_ids({"decisions": 0, "users": 0}) == {"decisions": 0, "users": 0}
    assert mark_no_user_ids({"decisions": 3, "users": 2}) == {"decisions": 3, "users": 2}


def test_unmapped_category_without_ids_reads_unknown_users(tmp_path):
    # a legacy consent-manager payload: destination names as categories, no userId, no
    # anonymousId (as in segmentio/consent-manager's README), beside an identified page call
    payloads = [
        {
            "type": "page",
            "userId": "u1",
            "timestamp": "2026-10-01T12:00:00Z",
            "context": {"consent": {"categoryPreferences": {"Advertising": True}}},
        },
        {
            "type": "track",
            "event": "Send Track Event Clicked",
            "context": {"consent": {"categoryPreferences": {"Webhooks": True}}},
        },
    ]
    path = tmp_path / "seg.json"
    path.write_text(json.dumps(payloads))
    doc = run_scan([str(path)]).to_dict()
    [webhooks] = [
        f
        for f in doc["findings"]
        if f["kind"] == "consent.unmapped_category" and f["location"].get("purpose") == "Webhooks"
    ]
    assert webhooks["metrics"]["decisions"] == 1
    assert webhooks["metrics"]["users"] is None
    assert webhooks["metrics"]["no_user_ids"] == ["users"]


def test_key_figure_of_one_reads_singular():
    assert key_figure({"decisions": 1, "users": None}) == "1 decision"
    assert key_figure({"events": 1}) == "1 event"
    assert key_figure({"events": 2}) == "2 events"
    assert key_figure({"decisions": 3}) == "3 decisions"
    assert key_figure({"users": 1}, min_group_size=5) == "<5 users"


def test_a_bounded_merged_report_says_which_json_holds_the_rest():
    scan = many_findings(3_000)
    model = {**many_findings(3), "command": "model-check"}
    for f in model["findings"]:
        f["location"] = {**f["location"], "source": "model"}
        f["id"] = f["id"][:-4] + "beef"
    merged = merge([scan, model])
    html = render_html(merged)
    note = re.sub(r"<[^>]+>", "", html.split("Not every finding is on this page", 1)[1])
    note = note.split("\n", 1)[0]
    # no input file holds the merged order: the note says which JSON does
    assert "privdiag report of the same files with --json FILE.json writes all 3,005" in note
    assert "the file of --json" not in note
    single = re.sub(r"<[^>]+>", "", render_html(merge([scan])))
    single = single.split("Not every finding is on this page", 1)[1].split("\n", 1)[0]
    assert "jq '.findings[" in single and "privdiag report of the same files" not in single


def test_a_snowplow_folder_names_its_file_without_any_event_time(tmp_path):
    from test_ingest_snowplow import _row, _write

    from privdiag.config import Config
    from privdiag.engine import connect
    from privdiag.errors import InputError
    from privdiag.ingest import load

    folder = tmp_path / "sp"
    folder.mkdir()
    _write(folder / "a_events.csv", [_row(1, "d1"), _row(2, "d2")])
    # a consent table of dbt-snowplow-web beside the events: its own time column only
    (folder / "b_cmp_visible.csv").write_text(
        "root_id,root_tstamp,elapsed_time\nr1,2024-05-01 10:00:05.000,1.5\n"
    )
    try:
        load(connect(), [str(folder)], [], Config())
    except InputError as exc:
        text = str(exc)
    else:
        raise AssertionError("a file without any event time was accepted")
    assert "b_cmp_visible.csv" in text
    assert "collector_tstamp" in text and "no readable time" not in text


def test_an_undefined_measure_reads_as_a_dash_not_nan():
    # model-check renders its HTML from the result before JSON turns NaN into null: a
    # precision with no positive prediction read "nan" in the table, "–" in a merged report
    from privdiag.report.evidence import table_view
    from privdiag.report.text import fmt_value

    assert fmt_value(float("nan")) == "–" == fmt_value(None)
    assert fmt_value(float("inf")) == "inf"
    table = {"columns": ["measure", "scenario"], "rows": [["precision", float("nan")]]}
    assert table_view(table, 5).rows == [["precision", "–"]]
