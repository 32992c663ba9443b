"""End to end on the real GA4 sample: no consent signal anywhere, said once, plainly."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import Config
from privdiag.engine import connect
from privdiag.ingest import load


def test_ga4_sample_loads_with_typed_params_and_identity(realdata):
    con = connect()
    path = str(realdata / "ga4" / "ga4_sample_rows_92days.ndjson")
    loaded = load(con, [path], [], Config())
    assert loaded.inputs[0].format == "ga4"
    assert loaded.inputs[0].rows == 460
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'events'"
        ).fetchall()
    )
    assert types["ga_session_id"] == "BIGINT"
    assert types["page_location"] == "VARCHAR"
    users, cookieless, first_ts = con.execute(
        "SELECT count(DISTINCT user_key), count(*) FILTER (WHERE cookieless), "
        "strftime(min(ts), '%Y-%m-%d') FROM events"
    ).fetchall()[0]
    assert (users, cookieless) == (114, 0)
    assert first_ts == "2020-11-01"
    # privacy_info is null on every row: no event carries a consent flag
    assert (
        con.execute("SELECT count(consent_analytics) + count(consent_ads) FROM events").fetchall()[
            0
        ][0]
        == 0
    )


def test_ga4_sample_scan_reports_missing_signal_once(realdata, tmp_path):
    out = tmp_path / "f.json"
    path = str(realdata / "ga4" / "ga4_sample_rows_92days.ndjson")
    result = CliRunner().invoke(app, ["scan", path, "--json", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    missing = [f for f in doc["findings"] if f["kind"] == "consent.missing_record"]
    assert len(missing) == 1
    assert missing[0]["metrics"]["share"] == 1.0
    assert "no consent signal" in missing[0]["title"]
    assert not [f for f in doc["findings"] if f["kind"] == "consent.violation"]
    skipped = {c["name"] for c in doc["checks"] if c["status"] == "skipped"}
    assert "consent.violation" in skipped
    # One shift in 92 days: among the events of the names that ever carry clean_event, 0 of
    # 186 lack it before 2020-12-29 and 85 of 120 from then (counted by hand with DuckDB);
    # the search for further changes finds none on either side.
    shifts = [f for f in doc["findings"] if f["kind"] == "sparsity.shift"]
    assert [(f["location"]["feature"], f["metrics"]["change_day"]) for f in shifts] == [
        ("clean_event", "2020-12-29")
    ]
    (change,) = shifts[0]["metrics"]["changes"]
    assert (change["day"], change["before"], change["after"]) == ("2020-12-29", 0.0, 0.7083)
    # 1 to 5 users a day: no day is drawn, and the chart says why
    series = shifts[0]["evidence"]["series"]
    assert set(series["series"]["clean_event missing share"]) == {None}
    assert series["note"].startswith("92 of 92 days not drawn: fewer than 5 users that day")
    # no raw identifier reaches the output
    assert "1005694.5834348403" not in out.read_text()
