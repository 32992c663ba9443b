"""Run the scan's DuckDB SQL on Apache Spark through a DuckDB-like connection.

:class:`SparkConnection` offers the part of the DuckDB connection API the core uses
(``execute(sql, params)`` returning a cursor with ``fetchall``/``fetchone``/``description``,
``register``, ``unregister``, ``close``). Each statement is parsed as DuckDB SQL; DDL becomes
session temp views (``CREATE TABLE ... AS`` is materialised with a local checkpoint, the events
table gaining an explicit ``_rowid``; ``INSERT``, ``UPDATE`` and ``DELETE`` rebuild the table
and checkpoint it), DuckDB's file readers become Spark readers on the same paths
(:mod:`privdiag.engines.spark_read`), ``UNION ALL BY NAME`` becomes ``unionByName``, and every
query is translated by :mod:`privdiag.engines.spark_sql`. Only aggregated rows come back to
Python. The session comes from :mod:`privdiag.engines.spark_session`.
"""

from __future__ import annotations

import itertools
from typing import Any

import duckdb
from sqlglot import exp
from sqlglot.errors import SqlglotError

from privdiag.config import EngineConfig
from privdiag.engines import spark_read, spark_sql
from privdiag.engines.spark_read import RemoteFile
from privdiag.engines.spark_session import session
from privdiag.engines.spark_sql import ROWID, Node

EVENTS = "events"
# SQLGlot renamed these argument keys (``from`` -> ``from_``) across versions.
FROM_KEY = "from_" if "from_" in exp.Select.arg_types else "from"
WITH_KEY = "with_" if "with_" in exp.Select.arg_types else "with"


class SparkSQLError(duckdb.Error):
    """A statement Spark could not run; the core reports it like a DuckDB error."""


def connect(engine: EngineConfig) -> SparkConnection:
    """Return a :class:`SparkConnection` on the session the engine config asks for."""
    return SparkConnection(session(engine))


class SparkCursor:
    """The rows of one statement, fetched once (results are aggregates, so small)."""

    def __init__(self, rows: list[tuple[Any, ...]], names: list[str], types: list[str]):
        self._rows = rows
        self._next = 0
        self.description = [
            (n, t, None, None, None, None, None) for n, t in zip(names, types, strict=True)
        ]

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Return the rows not fetched yet."""
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows

    def fetchnumpy(self) -> dict[str, Any]:
        """Return the rows not fetched yet as one numpy array per column."""
        import numpy as np

        rows = self.fetchall()
        names = [d[0] for d in self.description]
        return {n: np.asarray([r[i] for r in rows]) for i, n in enumerate(names)}

    def fetchone(self) -> tuple[Any, ...] | None:
        """Return the next row, or None."""
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]


def duck_type(dtype: Any) -> str:
    """Return the DuckDB name of a Spark data type (as DuckDB's DESCRIBE would print it)."""
    from pyspark.sql import types as T

    if isinstance(dtype, T.ArrayType):
        return duck_type(dtype.elementType) + "[]"
    if isinstance(dtype, T.StructType):
        return "STRUCT(" + ", ".join(f"{f.name} {duck_type(f.dataType)}" for f in dtype) + ")"
    if isinstance(dtype, T.MapType):
        return f"MAP({duck_type(dtype.keyType)}, {duck_type(dtype.valueType)})"
    simple = dtype.simpleString()
    names = {
        "string": "VARCHAR",
        "bigint": "BIGINT",
        "int": "INTEGER",
        "smallint": "SMALLINT",
        "tinyint": "TINYINT",
        "double": "DOUBLE",
        "float": "FLOAT",
        "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMP WITH TIME ZONE",
        "timestamp_ntz": "TIMESTAMP",
        "date": "DATE",
        "binary": "BLOB",
        "void": '"NULL"',
    }
    return names.get(simple, simple.upper())


def _empty(names: list[str] | None = None) -> SparkCursor:
    return SparkCursor([], names or [], ["VARCHAR"] * len(names or []))


class SparkConnection:
    """A DuckDB-like connection whose tables are temp views of one Spark session."""

    engine_name = "spark"  # the loader refuses formats only DuckDB stages

    def __init__(self, spark: Any):
        self.spark = spark
        self._tables: dict[str, Any] = {}  # name -> DataFrame (materialised tables and views)
        self._readers: dict[str, str] = {}  # reader call SQL -> temp view
        self._ids = itertools.count()

    # -- the DuckDB connection API -------------------------------------------------------
    def execute(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> SparkCursor:
        """Run one DuckDB statement on Spark and return its rows."""
        from pyspark.errors import PySparkException

        try:
            return self._statement(spark_sql.parse(sql, params))
        except (PySparkException, SqlglotError) as exc:
            raise SparkSQLError(_first_line(exc)) from exc

    def register(self, name: str, table: Any) -> None:
        """Make a pyarrow table queryable as ``name`` (small tables: decoded consent strings)."""
        from pyspark.sql import types as T

        fields = [T.StructField(f.name, _arrow_type(f.type)) for f in table.schema]
        frame = self.spark.createDataFrame(table.to_pylist(), T.StructType(fields))
        self._keep(name, frame)

    def unregister(self, name: str) -> None:
        """Forget a registered table."""
        self._drop(name)

    def list_files(self, url: str) -> tuple[list[RemoteFile], Any]:
        """The data files under a URL Spark reads and their container (see
        :func:`privdiag.engines.spark_read.list_files`)."""
        return spark_read.list_files(self.spark, url)

    def close(self) -> None:
        """Drop every view this connection made; the Spark session stays for others."""
        for name in list(self._tables) + list(self._readers.values()):
            self.spark.catalog.dropTempView(name)
        self._tables.clear()
        self._readers.clear()

    # -- statements ----------------------------------------------------------------------
    def _statement(self, tree: Node) -> SparkCursor:
        if isinstance(tree, exp.Set) or (
            isinstance(tree, exp.Command) and str(tree.this).upper() in ("SET", "RESET", "PRAGMA")
        ):
            return _empty()  # SET threads / memory_limit: Spark is sized by its own config
        if isinstance(tree, exp.Command):
            raise SparkSQLError(f"{tree.this} statements are not supported on Spark")
        if isinstance(tree, exp.Describe):
            return self._describe(tree.this)
        if isinstance(tree, exp.Create):
            return self._create(tree)
        if isinstance(tree, exp.Insert):
            return self._insert(tree)
        if isinstance(tree, exp.Alter):
            return self._alter(tree)
        if isinstance(tree, exp.Drop):
            for table in tree.args.get("tables") or [tree.this]:
                self._drop(table.name)
            return _empty()
        if isinstance(tree, exp.Update):
            return self._update(tree)
        if isinstance(tree, exp.Delete):
            return self._delete(tree)
        return self._fetch(self._frame(tree))

    def _fetch(self, frame: Any) -> SparkCursor:
        rows = [tuple(r) for r in frame.collect()]
        fields = frame.schema.fields
        return SparkCursor(rows, [f.name for f in fields], [duck_type(f.dataType) for f in fields])

    def _describe(self, target: Node) -> SparkCursor:
        if isinstance(target, exp.Table) and not isinstance(target.this, exp.Func):
            name = target.name
            frame = self._tables[name] if name in self._tables else self.spark.table(name)
        else:
            frame = self._frame(
                target if isinstance(target, exp.Query) else exp.select("*").from_(target)
            )
        rows = [
            (f.name, duck_type(f.dataType), "YES", None, None, None)
            for f in frame.schema.fields
            if f.name != ROWID
        ]
        names = ["column_name", "column_type", "null", "key", "default", "extra"]
        return SparkCursor(rows, names, ["VARCHAR"] * len(names))

    def _create(self, tree: exp.Create) -> SparkCursor:
        target = tree.this
        name = (target.this if isinstance(target, exp.Schema) else target).name
        query = tree.expression
        if query is None:  # CREATE TABLE t (col type, ...)
            self._keep(name, self._empty_table(target))
            return _empty()
        frame = self._frame(query)
        if str(tree.args.get("kind", "")).upper() == "VIEW":
            self._keep(name, frame)
            return _empty()
        if name == EVENTS:
            from pyspark.sql import functions as F

            frame = frame.withColumn(ROWID, F.monotonically_increasing_id())
        self._keep(name, frame.localCheckpoint(eager=True))
        return _empty()

    def _empty_table(self, schema: exp.Schema) -> Any:
        columns = ", ".join(
            f"CAST(NULL AS {spark_sql.spark_type(c.args['kind'].sql(dialect='duckdb'))}) AS "
            f"`{c.name}`"
            for c in schema.expressions
        )
        return self.spark.sql(f"SELECT {columns}").limit(0)

    def _insert(self, tree: exp.Insert) -> SparkCursor:
        name = tree.this.name
        target = self._tables[name]
        new = self._frame(tree.expression)
        cols = [
            new[c].cast(f.dataType).alias(f.name)
            for c, f in zip(new.columns, target.schema.fields, strict=True)
        ]
        self._keep(name, target.unionByName(new.select(*cols)).localCheckpoint(eager=True))
        return _empty()

    def _alter(self, tree: exp.Alter) -> SparkCursor:
        from pyspark.sql import functions as F

        name = tree.this.name
        frame = self._tables[name]
        for action in tree.args.get("actions") or []:
            if not isinstance(action, exp.ColumnDef):
                raise SparkSQLError(f"ALTER TABLE {action.sql()} is not supported on Spark")
            kind = spark_sql.spark_type(action.args["kind"].sql(dialect="duckdb"))
            frame = frame.withColumn(action.name, F.lit(None).cast(kind))
        self._keep(name, frame)
        return _empty()

    def _update(self, tree: exp.Update) -> SparkCursor:
        """``UPDATE t SET c = e, ... FROM d WHERE cond`` as a left join that rebuilds ``t``."""
        name = tree.this.name
        source = _from(tree).this
        alias = source.alias_or_name
        sets = {e.this.name: e.expression for e in tree.expressions}
        keep = self._tables[name]
        cols = []
        for column in keep.columns:
            if column in sets:
                value = sets[column].sql(dialect="duckdb")
                cols.append(f"CASE WHEN {alias}._matched THEN {value} ELSE {name}.{column} END")
            else:
                cols.append(f"{name}.{column}")
            cols[-1] += f" AS {column}"
        matched = f"(SELECT *, TRUE AS _matched FROM {source.name}) AS {alias}"
        where = tree.args["where"].this.sql(dialect="duckdb")
        sql = f"SELECT {', '.join(cols)} FROM {name} LEFT JOIN {matched} ON {where}"
        self._keep(name, self._frame(spark_sql.parse(sql)).localCheckpoint(eager=True))
        return _empty()

    def _delete(self, tree: exp.Delete) -> SparkCursor:
        """``DELETE FROM t WHERE cond`` as ``t`` rebuilt from the rows where ``cond`` is not
        true; returns the count of rows deleted, as DuckDB's DELETE does."""
        name = tree.this.name
        where = tree.args.get("where")
        hit = f"coalesce({where.this.sql(dialect='duckdb')}, FALSE)" if where else "TRUE"
        counted = self._frame(spark_sql.parse(f"SELECT count(*) FROM {name} WHERE {hit}"))
        deleted = counted.collect()[0][0]
        kept = self._frame(spark_sql.parse(f"SELECT * FROM {name} WHERE NOT {hit}"))
        self._keep(name, kept.localCheckpoint(eager=True))
        return SparkCursor([(deleted,)], ["Count"], ["BIGINT"])

    # -- queries -------------------------------------------------------------------------
    def _frame(self, tree: Node) -> Any:
        """Return the DataFrame of a DuckDB query."""
        if isinstance(tree, exp.Union) and tree.args.get("by_name"):
            left, right = self._frame(tree.left), self._frame(tree.right)
            return left.unionByName(right, allowMissingColumns=True)
        tree = tree.copy()
        for node in list(tree.find_all(exp.Func)):
            if spark_sql.is_reader(node):
                view = self._reader_view(node)
                table = node.parent
                table.set("this", exp.to_identifier(view))
        ctes = tree.args.get(WITH_KEY)
        for select in list(tree.find_all(exp.Select)):
            self._expand_except(select, ctes)
        return self.spark.sql(spark_sql.to_spark(tree))

    def _expand_except(self, select: exp.Select, ctes: Node | None) -> None:
        """Spell out ``SELECT * EXCLUDE (...)`` and ``t.* EXCLUDE (...)`` (not in Spark 3.5).

        Like DuckDB's ``rowid``, the events table's ``_rowid`` is left out of the star.
        """
        for item in list(select.expressions):
            star = item.this if isinstance(item, exp.Column) else item
            excluded = isinstance(star, exp.Star) and (
                star.args.get("except_") or star.args.get("except")  # SQLGlot 30 / 25
            )
            if not excluded:
                continue
            table = item.table if isinstance(item, exp.Column) else ""
            probe = exp.select(exp.column(exp.Star(), table=table) if table else exp.Star())
            probe = probe.from_(_from(select).this.copy())
            probe.set("joins", [j.copy() for j in select.args.get("joins") or []])
            if ctes is not None:
                probe.set(WITH_KEY, ctes.copy())
            dropped = {c.name for c in excluded} | {ROWID}
            kept = [
                exp.column(c, table=table or None, quoted=True)
                for c in self._frame(probe).columns
                if c not in dropped
            ]
            position = select.expressions.index(item)
            select.set(
                "expressions",
                select.expressions[:position] + kept + select.expressions[position + 1 :],
            )

    def _reader_view(self, node: Node) -> str:
        key = node.sql(dialect="duckdb")
        if key not in self._readers:
            view = f"_privdiag_read_{next(self._ids)}"
            paths, options = spark_sql.reader_args(node)
            files = [spark_read.file_name(p) for p in paths]
            frame = spark_read.read(self.spark, spark_sql.function_name(node), files, options)
            frame.createOrReplaceTempView(view)
            self._readers[key] = view
        return self._readers[key]

    def _keep(self, name: str, frame: Any) -> None:
        self._tables[name] = frame
        frame.createOrReplaceTempView(name)

    def _drop(self, name: str) -> None:
        self._tables.pop(name, None)
        self.spark.catalog.dropTempView(name)


def _from(node: Node) -> Node:
    """The FROM clause of a statement."""
    return node.args.get(FROM_KEY)


def _arrow_type(arrow: Any) -> Any:
    import pyarrow as pa
    from pyspark.sql import types as T

    if pa.types.is_boolean(arrow):
        return T.BooleanType()
    if pa.types.is_integer(arrow):
        return T.LongType()
    if pa.types.is_floating(arrow):
        return T.DoubleType()
    return T.StringType()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]
