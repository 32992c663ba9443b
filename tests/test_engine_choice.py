"""Choosing the engine: config [engine] and the scan's --engine options (no Spark needed)."""

from __future__ import annotations

from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import EngineConfig, load_config


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


def test_a_memory_limit_keeps_tables_in_a_scratch_file_removed_at_exit(tmp_path):
    """With --memory-limit the tables live compressed in a DuckDB file under the temp dir;
    without it, in memory. The file's folder is gone once the process ends."""
    import subprocess
    import sys

    code = (
        "from privdiag.config import EngineConfig\n"
        "from privdiag.engine import connect\n"
        f"con = connect(EngineConfig(memory_limit='200MB', temp_dir={str(tmp_path)!r}))\n"
        "print(con.execute('SELECT path FROM duckdb_databases() "
        "WHERE database_name = current_database()').fetchone()[0])\n"
        "print(connect().execute('SELECT current_database()').fetchone()[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    path, plain = done.stdout.split()
    assert path.startswith(str(tmp_path)) and path.endswith("scan.duckdb")
    assert plain == "memory"
    assert list(tmp_path.iterdir()) == []  # removed at exit


def test_a_temp_dir_that_is_a_file_is_a_usage_error(tmp_path):
    events = tmp_path / "e.csv"
    events.write_text("ts,event_name\n2026-10-01T00:00:00Z,page_view\n")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    args = ["scan", str(events), "--memory-limit", "100MB", "--temp-dir", str(blocker)]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2, done.output
    assert "cannot write to the temp dir" in done.output and "not-a-folder" in done.output
    # a folder that does not exist yet is made, and removed at the end (trial 26)
    made = tmp_path / "new" / "spill"
    args = ["scan", str(events), "--memory-limit", "100MB", "--temp-dir", str(made), "--quiet"]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert not (tmp_path / "new").exists()


def test_a_temp_dir_that_cannot_be_written_is_a_usage_error_without_a_memory_limit(tmp_path):
    """Before, --temp-dir went to DuckDB unchecked: a bad one failed only if the scan spilled."""
    from privdiag.engine import close, connect

    events = tmp_path / "e.csv"
    events.write_text("ts,event_name\n2026-10-01T00:00:00Z,page_view\n")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    done = CliRunner().invoke(app, ["scan", str(events), "--temp-dir", str(blocker / "t")])
    assert done.exit_code == 2, done.output
    assert "cannot write to the temp dir" in done.output
    con = connect(EngineConfig(temp_dir=str(tmp_path / "spill")))  # made, and used
    spill = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert spill.startswith(str(tmp_path / "spill" / "privdiag-spill-"))
    close(con)
    assert not (tmp_path / "spill").exists()  # the run made it: removed with its own (trial 26)


def test_duckdb_gets_the_memory_limit_less_room_for_python():
    from privdiag.engine import duckdb_share, size_bytes

    assert size_bytes("4GB") == 4e9 and size_bytes("512MiB") == 512 * 2**20
    assert size_bytes("1.5 gb") == 1.5e9 and size_bytes("50%") is None
    assert duckdb_share("1GB") == "750000000B"  # a quarter: 250 MB < 256 MiB
    assert duckdb_share("4GB") == f"{4_000_000_000 - 256 * 2**20}B"  # at most 256 MiB
    assert duckdb_share("80%") == "80%"  # DuckDB's own reading of a share of RAM


def test_without_a_temp_dir_an_in_memory_scan_spills_under_the_system_temp_dir(
    tmp_path, monkeypatch
):
    """DuckDB's own default is ./.tmp, in whatever folder the user runs privdiag from."""
    import tempfile

    from privdiag.engine import close, connect

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    con = connect()
    spill = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert spill.startswith(str(tmp_path)) and "privdiag-spill-" in spill
    con.execute("SET memory_limit = '40MB'")  # force a spill: sort more than fits
    con.execute("SELECT * FROM range(5000000) t(i) ORDER BY hash(i)").fetchmany(1)
    assert any(tmp_path.glob("privdiag-spill-*/duckdb_temp_*"))  # it did spill, there
    close(con)
    assert list(tmp_path.iterdir()) == []  # the spill folder went with the connection
