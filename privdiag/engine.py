"""The one place that knows how a DuckDB connection is opened and tuned."""

from __future__ import annotations

from typing import Any

from privdiag.config import EngineConfig


def connect(engine: EngineConfig | None = None, database: str = ":memory:") -> Any:
    """Return a DuckDB connection set up with the threads, memory limit and temp dir asked for.

    With ``engine.name == "spark"`` it returns a connection-like adapter that runs the same
    DuckDB SQL on Apache Spark instead (``privdiag.engines.spark``; needs ``privdiag[spark]``).
    """
    import duckdb

    engine = engine or EngineConfig()
    if engine.name != "duckdb":
        from privdiag.engines import connect_engine

        return connect_engine(engine)
    con = duckdb.connect(database)
    con.execute("SET TimeZone = 'UTC'")
    # count_if over only NULL conditions gives NULL in DuckDB, not 0: checks count with this.
    con.execute("CREATE MACRO count_true(x) AS coalesce(count_if(x), 0)")
    if engine.threads:
        con.execute(f"SET threads = {int(engine.threads)}")
    if engine.memory_limit:
        con.execute("SET memory_limit = ?", [engine.memory_limit])
    if engine.temp_dir:
        con.execute("SET temp_directory = ?", [engine.temp_dir])
    return con


def quote(name: str) -> str:
    """Quote an identifier for DuckDB SQL."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """Quote a string literal for DuckDB SQL."""
    return "'" + value.replace("'", "''") + "'"


def one(con: Any, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    """Run a query and return its first row (or None), leaving no unfinished result behind."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None
