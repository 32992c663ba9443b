"""Choosing the engine: config [engine] and the scan's --engine options (no Spark needed)."""

from __future__ import annotations

from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import load_config


def test_engine_table_of_the_config(tmp_path):
    path = tmp_path / "privdiag.toml"
    path.write_text(
        '[engine]\nname = "spark"\nspark_remote = "sc://localhost:15002"\n'
        '[engine.spark_conf]\n"spark.driver.memory" = "4g"\n'
    )
    engine = load_config(path).engine
    assert engine.spark_conf == {"spark.driver.memory": "4g"}
    assert (engine.name, engine.spark_master, engine.spark_remote) == (
        "spark",
        None,
        "sc://localhost:15002",
    )


def test_duckdb_is_the_default(tmp_path):
    path = tmp_path / "privdiag.toml"
    path.write_text("")
    assert load_config(path).engine.name == "duckdb"


def test_unknown_engine_is_a_usage_error(tmp_path):
    events = tmp_path / "e.csv"
    events.write_text("ts,event_name\n2026-10-01T00:00:00Z,page_view\n")
    done = CliRunner().invoke(app, ["scan", str(events), "--engine", "presto"])
    assert done.exit_code == 2
    assert "presto" in done.output
