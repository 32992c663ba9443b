"""The demo's pipeline through the CLI: generate, scan, model-check, merge into one report."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from typer.testing import CliRunner

from privdiag.cli import app

runner = CliRunner()


def test_demo_pipeline_writes_every_report(tmp_path):
    demo, out = tmp_path / "demo", tmp_path / "out"
    out.mkdir()
    assert runner.invoke(app, ["generate", "--out", str(demo), "--seed", "7"]).exit_code == 0
    scan = runner.invoke(
        app,
        [
            "scan",
            str(demo / "web.ndjson.gz"),
            str(demo / "app.csv"),
            "--config",
            str(demo / "privdiag.toml"),
            "--json",
            str(out / "scan.json"),
            "--html",
            str(out / "scan.html"),
            "--fail-on",
            "critical",
            "--quiet",
        ],
    )
    assert scan.exit_code == 0, scan.output
    model = runner.invoke(
        app,
        [
            "model-check",
            str(demo / "models" / "propensity_imputed.onnx"),  # the copy the config names
            "--blind-set",
            str(demo / "holdout.parquet"),
            "--scan-result",
            str(out / "scan.json"),
            "--config",
            str(demo / "privdiag.toml"),
            "--json",
            str(out / "model.json"),
            "--fail-on",
            "critical",
            "--quiet",
        ],
    )
    assert model.exit_code == 0, model.output
    merged = runner.invoke(
        app,
        [
            "report",
            str(out / "scan.json"),
            str(out / "model.json"),
            "--html",
            str(out / "report.html"),
            "--markdown",
            str(out / "summary.md"),
            "--junit",
            str(out / "junit.xml"),
            "--fail-on",
            "critical",
            "--quiet",
        ],
    )
    assert merged.exit_code == 0, merged.output

    model_doc = json.loads((out / "model.json").read_text())
    assert {f["location"]["model"] for f in model_doc["findings"]} == {"propensity"}
    scan_doc = json.loads((out / "scan.json").read_text())
    shifts = [f for f in scan_doc["findings"] if f["kind"] == "sparsity.shift"]
    assert any(f["metrics"].get("consent_rate_changes") for f in shifts)  # records in metrics
    html = (out / "report.html").read_text()
    HTMLParser().feed(html)
    assert len(html) < 500_000
    for f in scan_doc["findings"]:
        assert f["id"] in html
