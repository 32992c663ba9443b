"""Problems the sixth new-user trial found: each test fails without its fix."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from privdiag.cli import app
from tests.helpers import write

runner = CliRunner()

GOOD_TC = "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"  # a TCF v2 string that decodes

EVENTS = """
    user_id,event_name,ts,gclid
    u1,page_view,2024-05-01T10:00:00Z,g1
    u2,page_view,2024-05-01T11:00:00Z,
"""


def test_a_consent_file_with_other_column_names_is_told_which_names_are_read(tmp_path):
    """A consent log of customer, Category, Opted In, when was told only that it lacked
    user_id, status and ts: the hint now lists the names read for each missing role."""
    events = write(tmp_path / "events.csv", EVENTS)
    consent = write(
        tmp_path / "cmp.csv",
        """
        customer,Category,Opted In,when
        u1,Marketing,yes,2024-05-01
        """,
    )
    result = runner.invoke(app, ["scan", events, "--consent", consent, "-q"])
    assert result.exit_code == 3
    out = " ".join(result.output.split())
    assert "lacks columns for user_id, status, ts" in out
    assert "user_id from user_id, userid, user, " in out
    assert "status from status, granted, consent, " in out
    assert "ts from ts, timestamp, time, " in out
    assert "purpose from" not in out  # Category is read as the purpose already
    assert "(it has: customer, Category, Opted In, when)" in out


def test_one_undecodable_tc_string_is_told_in_the_singular(tmp_path):
    """A TC-string file with one bad string of two said "1 of 2 rows could not be decoded and
    were left out": one row now "was left out"."""
    events = write(tmp_path / "events.csv", EVENTS)
    rows = [("u1", GOOD_TC), ("u2", "not-a-tc-string")]
    consent = tmp_path / "tc.csv"
    consent.write_text(
        "user_id,tc_string,ts\n" + "".join(f"{u},{s},2024-05-01T09:00:00Z\n" for u, s in rows)
    )
    out = tmp_path / "out.json"
    args = ["scan", events, "--consent", str(consent), "--json", str(out)]
    assert runner.invoke(app, args).exit_code in (0, 1)
    notes = json.loads(out.read_text())["evidence"]["notes"]
    [note] = [n for n in notes if "could not be decoded" in n]
    assert "1 of 2 rows could not be decoded and was left out (first: row 2," in note


def test_report_given_an_export_instead_of_a_result_says_what_it_reads(tmp_path):
    """`privdiag report events.csv` said only "is not JSON (Expecting value: ...)", and a
    Segment JSON export "give JSON files written with --json": both now say that report reads
    the results of scan, model-check or audit, and that exports are read by scan."""
    csv = write(tmp_path / "events.csv", EVENTS)
    segment = tmp_path / "segment.json"
    segment.write_text(json.dumps([{"type": "track", "event": "Order Completed"}]))
    for given in (csv, str(segment)):
        result = runner.invoke(app, ["report", given, "--html", str(tmp_path / "r.html")])
        assert result.exit_code == 3
        out = " ".join(result.output.split())
        assert "report reads the JSON results of privdiag scan, model-check or audit" in out
        assert "run privdiag scan on them" in out
        assert not (tmp_path / "r.html").exists()


GA4_ROW = {
    "event_date": "20240501",
    "event_timestamp": 1714557600000000,
    "event_name": "page_view",
    "user_pseudo_id": "p1",
    "event_params": [{"key": "ga_session_id", "value": {"int_value": 1714557600}}],
    "privacy_info": {"analytics_storage": "Yes", "ads_storage": "No"},
}


def test_an_events_export_given_as_consent_is_told_to_be_passed_as_data(tmp_path):
    """A GA4 export given with --consent was told to rename its columns to purpose, status
    and ts: it is now told to be passed as data, as privdiag reads the consent it carries."""
    events = write(tmp_path / "events.csv", EVENTS)
    ga4 = tmp_path / "ga4.ndjson"
    ga4.write_text(json.dumps(GA4_ROW) + "\n")
    result = runner.invoke(app, ["scan", events, "--consent", str(ga4), "-q"])
    assert result.exit_code == 3
    out = " ".join(result.output.split())
    assert "it looks like a ga4 events export, not a consent file: pass it as data" in out
    assert "rename the columns" not in out


def test_a_consent_file_given_as_data_is_told_to_be_passed_with_consent(tmp_path):
    """A consent log given as the events was told to name an 'event_name' column: it is now
    told to be passed with --consent."""
    consent = write(
        tmp_path / "cmp.csv",
        """
        user_id,purpose,status,ts
        u1,ads,granted,2024-05-01T09:00:00Z
        """,
    )
    result = runner.invoke(app, ["scan", consent, "-q"])
    assert result.exit_code == 3
    out = " ".join(result.output.split())
    assert "no column for the event name" in out
    assert (
        "it looks like a consent file (user, purpose, status, time): pass it with --consent" in out
    )


def test_a_shredded_snowplow_consent_table_given_as_consent_is_told_what_to_pass(tmp_path):
    """Snowplow's shredded consent_preferences table (root_id, root_tstamp, event_type,
    consent_scopes, ...) given with --consent was told to rename columns it cannot have: it
    is now told to pass dbt-snowplow-web's consent log instead."""
    events = write(tmp_path / "events.csv", EVENTS)
    table = write(
        tmp_path / "consent_preferences.csv",
        """
        root_id,root_tstamp,consent_version,consent_scopes,event_type
        e1,2024-05-01 09:00:00,1.0,"[""necessary""]",allow_selected
        """,
    )
    result = runner.invoke(app, ["scan", events, "--consent", table, "-q"])
    assert result.exit_code == 3
    out = " ".join(result.output.split())
    assert "it looks like Snowplow's shredded consent_preferences table" in out
    assert "pass dbt-snowplow-web's consent log (snowplow_web_consent_log) with --consent" in out
    assert "rename the columns" not in out


def test_scan_with_a_config_but_no_data_says_that_audit_reads_the_configs_paths(tmp_path):
    """After `privdiag init`, `privdiag scan --config privdiag.toml` said only "Missing
    argument 'data'.": it now says to name the exports, and that audit reads [sources]."""
    config = write(tmp_path / "privdiag.toml", '[sources.web]\npaths = ["events.csv"]\n')
    for command in ("scan", "init"):
        result = runner.invoke(
            app, [command, "--config", config] if command == "scan" else [command]
        )
        assert result.exit_code == 2
        out = " ".join(result.output.split())
        assert "Missing argument 'data'. Name the event exports (files, globs or folders)" in out
        assert "[sources] paths are read by privdiag audit --config FILE" in out
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 2
    assert "Name the event exports" not in result.output


def test_the_html_report_leaves_out_metrics_that_are_empty_lists():
    """A shift with no notice version showed "NOTICE_VERSIONS []" and "CONSENT_RATE_CHANGES []"
    among its figures: empty lists are now left out; the other figures stay."""
    from privdiag.report.context import metric_items

    metrics = {"events": 120, "notice_versions": [], "consent_rate_changes": [], "share": 0.5}
    names = [name for name, _ in metric_items(metrics, 5)]
    assert names == ["Events", "Share"]
    assert metric_items({"notice_versions": ["v2"]}, 5) == [("Notice versions", "v2")]


def test_a_result_whose_suppressed_list_is_a_number_is_refused_not_a_crash(tmp_path):
    """An edited result with "suppressed": 1 in a finding's metrics crashed the HTML report
    (TypeError, exit 5; found by the hostile-edit property test): it is now refused as
    invalid input (exit 3) naming the field; the renderer also reads a number as no list."""
    from privdiag.report.context import metric_items

    events = write(tmp_path / "events.csv", EVENTS)
    result_file = tmp_path / "scan.json"
    runner.invoke(app, ["scan", events, "--json", str(result_file), "-q"])
    doc = json.loads(result_file.read_text())
    assert doc["findings"]
    for key in ("suppressed", "no_user_ids"):
        edited = json.loads(json.dumps(doc))
        edited["findings"][0].setdefault("metrics", {})[key] = 1
        result_file.write_text(json.dumps(edited))
        result = runner.invoke(
            app, ["report", str(result_file), "--html", str(tmp_path / "r.html")]
        )
        assert result.exit_code == 3, result.output
        assert f"findings.metrics.{key}" in result.output
        assert "Internal error" not in result.output
    items = dict(metric_items({"users": None, "suppressed": 1, "no_user_ids": 2}, 5))
    assert items == {"Users": "–"}
