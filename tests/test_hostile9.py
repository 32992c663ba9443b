"""Ninth hostile review: what the reports and the ingestion did with inputs made to break them.

Each test names the input and what privdiag did before its fix.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from browser.small import small_doc
from typer.testing import CliRunner

from privdiag.cli import app


def test_report_of_a_result_holding_lone_surrogates_writes_every_output(tmp_path):
    """A JSON result may hold a lone surrogate ("\\ud800" is valid JSON), which no UTF-8 file
    can: every output of ``privdiag report`` was an internal error (exit 5, UnicodeEncodeError).
    It is now replaced with U+FFFD as a control character is, the id by a redacted hash, and
    U+FFFF, which XML forbids, too (the JUnit file did not parse)."""
    doc = small_doc()
    cause, symptom = sorted(doc["findings"], key=lambda f: f["id"])
    cause["id"] = "a1\ud800"
    symptom["caused_by"] = ["a1\ud800"]
    symptom["title"] = "gclid \udfff sent\uffff"
    symptom["location"]["feature"] = "gc\ud83dlid"
    symptom["owner"] = "paid\udc00media"
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc), encoding="utf-8")  # ascii: the surrogates as \\udXXX
    out = {k: tmp_path / f"out.{k}" for k in ("html", "md", "xml", "json")}

    result = CliRunner().invoke(
        app,
        [
            "report", str(path), "--html", str(out["html"]), "--markdown", str(out["md"]),
            "--junit", str(out["xml"]), "--json", str(out["json"]),
        ],
    )  # fmt: skip

    assert result.exit_code == 1, result.output  # a high finding, as before the edit
    assert "gc\ufffdlid" in out["html"].read_text(encoding="utf-8")
    assert "paid\ufffdmedia" in out["md"].read_text(encoding="utf-8")
    junit = ET.parse(out["xml"]).getroot()
    assert "gclid \ufffd sent\ufffd" in ET.tostring(junit, encoding="unicode")
    written = json.loads(out["json"].read_text(encoding="utf-8"))
    ids = {f["kind"]: f["id"] for f in written["findings"]}
    assert ids["people.unowned"].startswith("redacted-")
    # the link still holds: the symptom names its cause by the same redacted id
    (linked,) = [f for f in written["findings"] if f["kind"] == "consent.violation"]
    assert linked["caused_by"] == [ids["people.unowned"]]


def test_a_config_path_holding_a_nul_character_is_a_config_error(tmp_path):
    """TOML allows "\\u0000" in a string; a model's or a consent file's path holding one was an
    internal error (exit 5, "embedded null byte" from the OS call) in model-check and scan."""
    events = tmp_path / "events.csv"
    events.write_text("ts,event_name,user_id\n2026-10-01T12:00:00Z,page_view,u1\n")
    config = tmp_path / "privdiag.toml"
    config.write_text('[consent]\npaths = ["cmp.csv", "cmp\\u0000.csv"]\n')

    result = CliRunner().invoke(app, ["scan", str(events), "--config", str(config), "-q"])

    assert result.exit_code == 2
    assert f"Error: {config}: [consent.paths]: holds a NUL character" in result.output

    config.write_text('[models.propensity]\npath = "models/m\\u0000.onnx"\n')
    result = CliRunner().invoke(
        app, ["model-check", "m.onnx", "--blind-set", str(events), "--config", str(config)]
    )
    assert result.exit_code == 2
    assert "[models.propensity.path]: holds a NUL character" in result.output


def test_a_url_given_to_init_or_written_in_the_config_stays_a_url(tmp_path):
    """``init s3a://bucket/events/`` wrote ``../../s3a:/bucket/events`` (a folder below the
    config's, as any path), and a config's URL was read below its folder by scan and audit
    (``/srv/privdiag/s3a:/bucket/cmp/log.csv``): the Spark engine reads such URLs."""
    from pathlib import Path

    from privdiag.config import Config
    from privdiag.init import config_path

    base = Path("/srv/privdiag")
    assert config_path("s3a://bucket/events/", base) == "s3a://bucket/events/"
    assert config_path("hdfs://nn:8020/x.parquet", base) == "hdfs://nn:8020/x.parquet"
    assert config_path("/srv/exports/ev.csv", base) == "../exports/ev.csv"

    config = Config(path=base / "privdiag.toml")
    assert config.data_path("s3a://bucket/cmp/log.csv") == "s3a://bucket/cmp/log.csv"
    assert config.data_path("cmp/log.csv") == "/srv/privdiag/cmp/log.csv"


def test_report_of_a_result_whose_findings_are_null(tmp_path):
    """ "findings": null was an internal error (exit 5, TypeError) in ``privdiag report``,
    found by the hypothesis test of edited results (tests/test_report_hostile.py); it was
    then read as no findings, a clean report of a broken file (hostile round 28). It is an
    input error naming the field and the file; no output is written."""
    doc = small_doc()
    doc["findings"] = None
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "out.json"

    result = CliRunner().invoke(app, ["report", str(path), "--json", str(out), "-q"])

    assert result.exit_code == 3, result.output
    assert "field 'findings'" in result.output and "edited.json" in result.output
    assert not out.exists()
