"""Engines other than the embedded DuckDB default; everything engine-specific lives here.

The core writes each query once, in DuckDB SQL. ``privdiag.engines.spark`` runs that same SQL
on Apache Spark: a connection adapter translates each statement with SQLGlot
(``privdiag.engines.spark_sql``) and maps DuckDB's DDL and table functions onto Spark; its
readers are in ``privdiag.engines.spark_read``, its session set-up in
``privdiag.engines.spark_session``.
Nothing here is imported unless the engine is chosen.
"""

from typing import Any

ENGINES = ("duckdb", "spark")


def connect_engine(engine: Any) -> Any:
    """Return a connection for a non-DuckDB engine; a UsageError for an unknown name."""
    from privdiag.errors import UsageError

    if engine.name == "spark":
        try:
            from privdiag.engines.spark import connect
        except ImportError as exc:  # sqlglot missing; pyspark is checked when a session starts
            raise UsageError(
                f"the spark engine needs {exc.name or 'sqlglot'}",
                hint="pip install 'privdiag[spark]' (and a Java runtime, 17 or later)",
            ) from exc
        return connect(engine)
    raise UsageError(f"unknown engine {engine.name!r}", hint=f"use one of {', '.join(ENGINES)}")
