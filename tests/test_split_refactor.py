"""The pieces the refactor of the CLI, the loader and the output checks shared out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from privdiag.ingest import inserted
from privdiag.output import file_in_the_way


def test_file_in_the_way_is_the_nearest_file_above_a_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.txt").write_text("x")
    assert file_in_the_way(tmp_path / "a" / "notes.txt" / "b" / "out.json") == (
        tmp_path / "a" / "notes.txt"
    )
    assert file_in_the_way(tmp_path / "a" / "missing" / "out.json") is None
    assert file_in_the_way(tmp_path / "a" / "notes.txt") is None  # the path itself is not above


class _NoInsertCount:
    """A DuckDB connection whose INSERT returns no row, as the Spark engine's does."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(self, sql: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
        cursor = self.con.execute(sql, params)
        if sql.startswith("INSERT"):
            cursor.fetchall()  # the count, which this engine does not give
        return cursor


@pytest.mark.parametrize("wrap", [lambda con: con, _NoInsertCount])
def test_inserted_returns_the_rows_one_insert_added(wrap) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2)")
    con.execute("CREATE VIEW three AS SELECT * FROM range(3) r(v)")
    assert inserted(wrap(con), "INSERT INTO t SELECT v FROM", "three") == 3
    assert inserted(wrap(con), "INSERT INTO t SELECT v FROM", "(SELECT 1 AS v WHERE FALSE)") == 0
    assert con.execute("SELECT count(*) FROM t").fetchone() == (5,)


def test_the_cli_lists_its_commands_in_order_without_loading_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from privdiag.cli import app\n"
        "import typer\n"
        "group = typer.main.get_command(app)\n"
        "print(' '.join(group.list_commands(None)))\n"
        "print(sorted(m for m in ('duckdb', 'polars', 'pyarrow', 'numpy', 'rich') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["scan model-check report init generate audit", "[]"]


def test_the_names_others_import_from_the_cli_are_still_there() -> None:
    import privdiag.cli as cli

    for name in ("app", "main", "emit", "Outputs", "_engine", "_fail_on", "_load_config"):
        assert hasattr(cli, name), name
    assert cli._progress(cli.Outputs(quiet=True)) is None
