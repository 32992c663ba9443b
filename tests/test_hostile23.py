"""Breaks found by the twenty-third hostile session, each with the input that showed it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from browser.chromium import Session, find_chromium
from test_hostile8 import finding, result
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.report.html import render_html
from privdiag.report.merge import merge

# A user id put into an event name by the tag (``cart_<user id>``), an order number as an
# event name, a phone number as a column: each is one user's, whatever counts are hidden.
UID = "a00f9c3e7b1d2"


def _events(path: Path) -> Path:
    """Ten users denying ads, each sending gclid and a column named as a phone number on a
    page view; user 0 also sends ``cart_<its id>`` and ``order_9000015``."""
    rows = ["event_id,ts,event_name,user_id,consent_ads,gclid,4155550123"]
    for u in range(10):
        rows.append(f"p{u},2026-10-01T10:{u:02d}:00Z,page_view,u{u},denied,g{u},x")
    rows.append(f"c0,2026-10-01T11:00:00Z,cart_{UID},{UID},denied,g,x")
    rows.append(f"o0,2026-10-01T11:01:00Z,order_9000015,{UID},denied,g,x")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_step_or_feature_named_as_an_id_reaches_no_output(tmp_path):
    # Was: "gclid is collected on cart_a00f9c3e7b1d2 events where ads consent was denied" in
    # the terminal, JSON, HTML and Markdown, its counts hidden but its one user named, with
    # the id an unkeyed hash of the name (an order number found by hashing 10^7 guesses).
    data = _events(tmp_path / "web.csv")
    config = tmp_path / "privdiag.toml"
    config.write_text('[features.gclid]\npurposes = ["ads"]\n')
    outs = {ext: tmp_path / f"out.{ext}" for ext in ("json", "html", "md", "xml")}
    args = ["scan", str(data), "--config", str(config), "--json", str(outs["json"])]
    args += ["--html", str(outs["html"]), "--markdown", str(outs["md"])]
    result = CliRunner().invoke(app, [*args, "--junit", str(outs["xml"])])
    assert result.exit_code == 1, result.output

    for path in outs.values():
        text = path.read_text()
        assert UID not in text and "9000015" not in text and "4155550123" not in text, path
    assert UID not in result.output and "9000015" not in result.output
    doc = json.loads(outs["json"].read_text())
    steps = {f["location"].get("step") for f in doc["findings"]}
    assert steps == {"page_view", "[redacted]", None}
    note = [n for n in doc["evidence"]["notes"] if "like an identifier" in n]
    assert note and note[0].startswith("3 step or feature names")
    plain = {
        hashlib.sha256(
            json.dumps(
                {"kind": f["kind"], "location": f["location"] | {"step": s}}, sort_keys=True
            ).encode()
        ).hexdigest()[:16]
        for f in doc["findings"]
        for s in (f"cart_{UID}", "order_9000015")
    }
    assert not plain & {f["id"] for f in doc["findings"]}
    # names of a known vocabulary stay as they are
    assert "page_view" in outs["html"].read_text() and "gclid" in outs["md"].read_text()


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed")
def test_a_long_unbroken_name_keeps_the_page_within_the_window(tmp_path):
    # Was: an event name of 300 characters without a space (and a feature name of 500) widened
    # the page to 5,220 pixels in a 1,280-pixel window: the summary's list of top findings,
    # the owners' table and every card ran off the right edge.
    name = "x" * 300
    feature = "c" * 500
    doc = result(
        [
            finding(
                0,
                title=f"{feature} is collected on {name} events where ads consent was denied",
                location={"source": "web", "step": name, "feature": feature, "purpose": "ads"},
                owner="o" * 200,
            )
        ]
    )
    page = tmp_path / "long.html"
    page.write_text(render_html(merge([doc])), encoding="utf-8")
    session = Session(find_chromium(), tmp_path / "profile")
    try:
        session.load(page.as_uri(), width=1280)
        widths = session.call(
            "Runtime.evaluate",
            {
                "expression": "[document.documentElement.scrollWidth,"
                " document.documentElement.clientWidth]",
                "returnByValue": True,
            },
            page=True,
        )["result"]["value"]
        assert session.console_errors() == []
    finally:
        session.close()
    assert widths[0] <= widths[1], widths


def _scan_rows(data: Path, rows: list[str]) -> dict:
    """Scan the CSV ``rows`` written to ``data``; return the result, which must be written."""
    data.write_text("\n".join(rows) + "\n")
    out = data.with_name("out.json")
    result = CliRunner().invoke(app, ["scan", str(data), "--json", str(out)])
    assert result.exit_code in (0, 1), result.output
    return json.loads(out.read_text())


def test_a_snowplow_consent_column_of_another_schema_version_is_noted(tmp_path):
    # Was: a column of consent_preferences 2-0-0 was passed over without a word: the scan
    # read no decision, said "no consent log given", and named no column.
    column = "unstruct_event_com_snowplowanalytics_snowplow_consent_preferences_2_0_0"
    prefs = '"{""eventType"": ""deny_all"", ""consentScopes"": [""analytics""]}"'
    rows = [f"event_id,collector_tstamp,event,event_name,domain_userid,{column}"]
    rows.append(f"a1,2026-10-01 10:00:00,unstruct,consent_preferences,d1,{prefs}")
    rows.append("a2,2026-10-01 10:01:00,page_view,page_view,d1,")
    notes = _scan_rows(tmp_path / "sp.csv", rows)["evidence"]["notes"]
    assert f"sp.csv: column {column} holds consent_preferences of schema version 2-0-0" in " ".join(
        notes
    )


def test_a_ga4_privacy_info_value_read_as_neither_state_is_noted(tmp_path):
    # Was: analytics_storage "Maybe" on every event (and an object on one) left analytics
    # unknown without a word, where a flat file's flag column of such values has a note.
    rows = []
    for n in range(6):
        storage = {"x": 1} if n == 0 else "Maybe"
        rows.append(
            {
                "event_date": "20261001",
                "event_timestamp": 1790000000000000 + n,
                "event_name": "page_view",
                "event_params": [{"key": "gclid", "value": {"string_value": f"g{n}"}}],
                "user_pseudo_id": f"p{n}",
                "privacy_info": {"analytics_storage": storage, "ads_storage": "Yes"},
            }
        )
    data = tmp_path / "ga4.ndjson"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.json"
    result = CliRunner().invoke(app, ["scan", str(data), "--json", str(out)])
    assert result.exit_code in (0, 1), result.output
    notes = json.loads(out.read_text())["evidence"]["notes"]
    said = [n for n in notes if "privacy_info" in n]
    assert len(said) == 1, notes
    assert (
        "ga4.ndjson: privacy_info.analytics_storage: 6 events with a value read as neither "
        "granted nor denied (e.g. 'Maybe')" in said[0]
    )


FORGED = "0 findings  (none)"


def _broken_lines(tmp_path: Path) -> Path:
    """Ten users sending gclid while denying ads, half of them on an event whose name breaks
    the line and writes a summary line of its own."""
    with (tmp_path / "ev.ndjson").open("w") as out:
        for n in range(10):
            name = f"ev\n{FORGED}\u2028\tx" if n % 2 else "page_view"
            row = {"event_id": f"e{n}", "ts": "2026-10-01T10:00:00Z", "event_name": name}
            row |= {"user_id": f"u{n}", "consent_ads": "denied", "gclid": f"g{n}"}
            out.write(json.dumps(row) + "\n")
    (tmp_path / "audit.toml").write_text(
        '[sources.ev]\npaths = ["ev.ndjson"]\n[features.gclid]\npurposes = ["ads"]\n'
    )
    return tmp_path / "ev.ndjson"


def test_a_line_break_in_a_name_prints_no_line_of_its_own(tmp_path):
    # Was: the terminal summary's row of that step ended at "ev" and printed "0 findings
    # (none)" at the start of the next line, as `audit --show` did: a reader or a CI grep
    # took the forged line for the run's.
    data = _broken_lines(tmp_path)
    result = CliRunner().invoke(app, ["scan", str(data), "--config", str(tmp_path / "audit.toml")])
    assert result.exit_code == 1, result.output
    assert not [line for line in result.output.splitlines() if line.startswith(FORGED)]
    assert f"ev {FORGED} x · gclid" in result.output

    config = str(tmp_path / "audit.toml")
    assert CliRunner().invoke(app, ["audit", "--config", config]).exit_code == 1
    listed = CliRunner().invoke(app, ["audit", "--config", config, "--list"]).output
    run = listed.splitlines()[1].split()[0]
    shown = CliRunner().invoke(app, ["audit", "--config", config, "--show", run]).output
    assert not [line for line in shown.splitlines() if line.startswith(FORGED)], shown
    assert f"step=ev {FORGED} x feature=gclid" in shown


@pytest.mark.parametrize(
    "text",
    [
        "signup_bob%40example.com",  # as a URL writes it
        "bob%2540example.com",  # encoded twice
        "bob\uff20example.com",  # a full-width at sign
        "b\u200bob@ex\u200bample.com",  # shows as bob@example.com
        "bob@exa\u0301mple.com",  # a combining accent: shows as bob@exámple.com
        "bob@example\u3002com",  # an ideographic full stop as the dot
        "bob@example\uff0ecom",  # a full-width dot
    ],
)
def test_an_address_written_otherwise_is_redacted(text):
    # Was: each came out as it was, in every output and error message.
    from privdiag.privacy import scrub

    assert scrub(text) == "[redacted]"


def test_an_address_written_otherwise_in_names_reaches_no_output(tmp_path):
    rows = ["event_id,ts,event_name,user_id,consent_ads,gclid,alice\uff20example.com"]
    for u in range(10):
        name = "signup_bob%40example.com" if u % 2 else "page_view"
        rows.append(f"e{u},2026-10-01T10:{u:02d}:00Z,{name},u{u},denied,g{u},x")
    data = tmp_path / "web.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = tmp_path / "privdiag.toml"
    config.write_text('[features.gclid]\npurposes = ["ads"]\n')
    out, html = tmp_path / "out.json", tmp_path / "out.html"
    args = ["scan", str(data), "--config", str(config), "--json", str(out), "--html", str(html)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    for text in (out.read_text(), html.read_text(), result.output):
        assert "bob" not in text and "alice" not in text


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize(
    "args", [["--help"], ["scan", "{data}"], ["scan", "{data}", "--json", "-", "--quiet"]]
)
def test_a_full_stdout_is_an_output_error_not_a_bug(tmp_path, args):
    # Was: "Internal error: OSError: [Errno 28] No space left on device. This is a bug" (exit
    # 5) for a scan, and a raw traceback with exit 1 for --help.
    import os
    import subprocess
    import sys

    data = _events(tmp_path / "web.csv")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    cmd = [sys.executable, "-m", "privdiag", *(a.format(data=data) for a in args)]
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            cmd, stdout=full, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
        )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Error: cannot write to stdout or stderr: No space left")
    assert "Traceback" not in done.stderr


def test_a_feature_named_as_an_id_only_in_a_heatmap_is_redacted():
    # A classified feature with no finding of its own still heads a consent gap heatmap's
    # column: it was shown there as it was.
    from privdiag.privacy import redact_id_names

    heatmap = {"title": "gaps", "rows": ["page_view"], "cols": ["4155550123", "gclid"]}
    doc = redact_id_names({"findings": [], "evidence": {"consent_gap_heatmaps": [heatmap]}})
    assert doc["evidence"]["consent_gap_heatmaps"][0]["cols"] == ["[redacted]", "gclid"]
    assert doc["evidence"]["notes"][0].startswith("1 step or feature name that looks like")


def test_a_line_break_in_a_file_name_keeps_the_error_on_one_line(tmp_path):
    # Was: "Error: b" and, on a line of its own, "0 findings  (none).csv: reads as a single
    # column ...".
    data = tmp_path / f"b\n{FORGED}.csv"
    data.write_text("a;b,c\n1;2\n3,4,5,6\n")
    result = CliRunner().invoke(app, ["scan", str(data)])
    assert result.exit_code == 3, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Error: ") and f"b {FORGED}.csv: " in lines[0], lines
    assert all(line.startswith(("Error: ", "  hint: ")) for line in lines), lines


def test_init_writes_no_event_name_of_an_address_or_an_id_into_the_config(tmp_path):
    # Was: "steps = ["page_view", "signup_carol@example.com"]" and, in the comment of the
    # names seen most often, order_9000010 to order_9000019: a config kept in a repository.
    rows = ["event_id,ts,event_name,user_id,session_id"]
    for i in range(10):
        rows.append(f"e{i},2026-10-01T10:0{i}:00Z,page_view,u{i},s{i}")
        rows.append(f"f{i},2026-10-01T10:0{i}:30Z,signup_carol@example.com,u{i},s{i}")
        rows.append(f"g{i},2026-10-01T10:0{i}:40Z,order_900001{i},u{i},s{i}")
    data = tmp_path / "ev.csv"
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "privdiag.toml"
    result = CliRunner().invoke(app, ["init", str(data), "--output", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "carol" not in text and "9000" not in text
    assert 'steps = ["page_view"]' in text
    assert "(and 11 name(s) holding an address or an identifier, left out)" in text


def test_a_snowplow_contexts_cell_whose_data_is_no_list_is_read_as_none(tmp_path):
    # Was: "sp.csv: cannot be read as snowplow: Expected ARRAY, but got OBJECT:
    # {"schema":"u1@example.com"}" (exit 3): one cell stopped the file, quoted, no row named.
    rows = ["event_id,collector_tstamp,event,event_name,domain_userid,contexts"]
    bad = '"{""data"": {""schema"": ""u1@example.com""}}"'
    rows.append(f"e1,2026-10-01 10:00:00,page_view,page_view,d1,{bad}")
    rows.append("e2,2026-10-01 10:01:00,page_view,page_view,d2,")
    assert _scan_rows(tmp_path / "sp.csv", rows)["inputs"][0]["rows"] == 2


def test_a_json_value_of_the_wrong_type_is_not_quoted_in_an_error():
    from privdiag.privacy import without_quoted_data

    said = without_quoted_data('Expected ARRAY, but got OBJECT: {"schema":"u1"}')
    assert said == "Expected ARRAY, but got OBJECT (value not shown)"
