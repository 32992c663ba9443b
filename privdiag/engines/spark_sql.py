"""DuckDB SQL -> Spark SQL: the rewrites SQLGlot's own transpiler leaves to us.

SQLGlot (read="duckdb", write="spark") carries most of the dialect; these functions fix what
would change a result or fail on Spark: ``epoch()`` keeps fractions of a second, full regex
matches stay anchored, decimal literals become doubles (DuckDB averages them as doubles),
``rowid`` is the events table's explicit ``_rowid`` column, ``row_number() OVER ()`` needs no
global sort, DuckDB type specs given to ``from_json`` become Spark DDL, and ``nfc_normalize``,
which Spark lacks, leaves its text as it is.
Nothing here needs Spark.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp

from privdiag.engine import STATE_TYPE

# A SQLGlot syntax node (its base class is named differently across SQLGlot versions).
Node = Any
ROWID = "_rowid"
READERS = (
    "read_parquet",
    "read_csv",
    "read_csv_auto",
    "read_json",
    "read_json_auto",
    "read_ndjson",
)

# DuckDB type name -> Spark SQL type name, for from_json specs and read_json columns.
SPARK_TYPES = {
    "VARCHAR": "STRING",
    "JSON": "STRING",
    "TEXT": "STRING",
    "BIGINT": "BIGINT",
    "INTEGER": "INT",
    "DOUBLE": "DOUBLE",
    "FLOAT": "FLOAT",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP_NTZ",
    "TIMESTAMPTZ": "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "SMALLINT": "SMALLINT",
    "TINYINT": "TINYINT",
    "BLOB": "BINARY",
    '"NULL"': "STRING",
    "DATE": "DATE",
}


def parse(sql: str, params: list[Any] | dict[str, Any] | None = None) -> Node:
    """Return the DuckDB statement ``sql`` parsed, its parameters bound as literals.

    ``params`` is a list for ``?`` and ``$1`` placeholders, a dict for ``$name`` ones.
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not params:
        return tree
    positional = iter(params) if isinstance(params, list | tuple) else iter(())
    return tree.transform(lambda node: _bind(node, params, positional))


def _bind(node: Node, params: Any, positional: Any) -> Node:
    if not isinstance(node, exp.Placeholder):
        return node
    name = node.name
    if name in ("", "?"):
        return _literal(next(positional))
    if isinstance(params, dict):
        return _literal(params[name])
    return _literal(params[int(name) - 1])


def _literal(value: Any) -> Node:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float | Decimal):
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat()), "TIMESTAMP")
    return exp.Literal.string(str(value))


def function_name(node: Node) -> str:
    """Return the lower-case SQL name of a function node ('' for anything else)."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return ""


def is_reader(node: Node) -> bool:
    """True for a DuckDB table function that reads files (read_parquet, read_csv, ...)."""
    return isinstance(node, exp.Func) and function_name(node) in READERS


def reader_args(node: Node) -> tuple[list[str], dict[str, Any]]:
    """Return the paths and the named options of a DuckDB reader call."""
    paths: list[str] = []
    options: dict[str, Any] = {}
    for child in node.iter_expressions():
        if isinstance(child, exp.Array):
            paths += [e.name for e in child.expressions]
        elif isinstance(child, exp.Literal) and child.is_string:
            paths.append(child.name)
        elif isinstance(child, exp.EQ):
            options[child.this.name.lower()] = _option(child.expression)
    return paths, options


def _option(value: Node) -> Any:
    if isinstance(value, exp.Boolean):
        return bool(value.this)
    if isinstance(value, exp.Struct):
        return {e.this.name: e.expression.name for e in value.expressions}
    if isinstance(value, exp.Literal):
        return value.name if value.is_string else float(value.name)
    if isinstance(value, exp.Neg):
        return -float(value.this.name)
    return value.sql()


def spark_type(duck: Any) -> str:
    """Return the Spark DDL type of a DuckDB type given as a name or a from_json structure."""
    if isinstance(duck, list):
        return f"ARRAY<{spark_type(duck[0])}>"
    if isinstance(duck, dict):
        fields = ", ".join(f"`{k}`: {spark_type(v)}" for k, v in duck.items())
        return f"STRUCT<{fields}>"
    name = str(duck).upper()
    if name.endswith("[]"):
        return f"ARRAY<{spark_type(name[:-2])}>"
    return SPARK_TYPES.get(name, name)


def _epoch(node: exp.TimeToUnix) -> Node:
    micros = exp.Anonymous(this="unix_micros", expressions=[node.this])
    return exp.Div(this=exp.cast(micros, "DOUBLE"), expression=exp.Literal.number(1000000))


def _full_match(node: Node) -> Node:
    if isinstance(node, exp.Anonymous):
        subject, pattern = node.expressions[:2]
    else:
        subject, pattern = node.this, node.expression
    if isinstance(pattern, exp.Literal):
        anchored: Node = exp.Literal.string(f"^(?:{pattern.name})$")
    else:
        anchored = exp.func("concat", exp.Literal.string("^(?:"), pattern, exp.Literal.string(")$"))
    return exp.RegexpLike(this=subject, expression=anchored)


def _from_json(node: Node) -> Node:
    spec = node.expressions[1] if isinstance(node, exp.Anonymous) else node.args.get("expression")
    if not isinstance(spec, exp.Literal) or not spec.name.lstrip().startswith(("[", "{")):
        return node
    ddl = spark_type(json.loads(spec.name))
    spec.replace(exp.Literal.string(ddl))
    return node


def _decimal_literal(node: exp.Literal) -> Node:
    text = node.name.lower()
    if node.is_string or not any(ch in text for ch in ".e"):
        return node
    return exp.cast(node.copy(), "DOUBLE")


def _row_number(node: Node) -> Node:
    """``row_number() OVER ()`` (an input's row, for error messages) without a global sort.

    Spark's row id counts rows within each split, so it equals the row number for an input
    read as one split (files under ~128 MB) and is a position for larger ones.
    """
    if isinstance(node.this, exp.RowNumber) and not node.args.get("order"):
        if not node.args.get("partition_by"):
            return exp.Add(
                this=exp.func("monotonically_increasing_id"), expression=exp.Literal.number(1)
            )
    return node


# DuckDB's trim() strips exactly the Unicode space separators (category Zs: the space,
# no-break spaces, the em space, ...; not tabs or newlines); Spark's strips the ASCII space only.
_BLANKS = {"LEADING": "^\\p{Zs}+", "TRAILING": "\\p{Zs}+$"}


def _blank_trim(node: exp.Trim) -> Node:
    """A one-argument trim, ltrim or rtrim as the regexp_replace that strips what DuckDB's does."""
    position = str(node.args.get("position") or "").upper()
    pattern = _BLANKS.get(position) or "|".join(_BLANKS.values())
    # the trimmed text is rewritten here: transform() does not enter the node it returns
    this = node.this.transform(_rewrite)
    return exp.Anonymous(
        this="regexp_replace",
        expressions=[this, exp.Literal.string(pattern), exp.Literal.string("")],
    )


def _rewrite(node: Node) -> Node:
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.JSON:
        return exp.DataType.build("STRING")  # Spark keeps JSON as text
    if isinstance(node, exp.DataType) and str(node.args.get("kind")) == STATE_TYPE:
        return exp.DataType.build("STRING")  # DuckDB's ENUM of consent states: text on Spark
    if isinstance(node, exp.TimeToUnix):
        return _epoch(node)
    if isinstance(node, exp.Trim) and node.args.get("expression") is None:
        return _blank_trim(node)
    if isinstance(node, exp.Literal):
        return _decimal_literal(node)
    if isinstance(node, exp.Window):
        return _row_number(node)
    if isinstance(node, exp.Column) and node.name.lower() == "rowid" and not node.this.quoted:
        node.set("this", exp.to_identifier(ROWID))
        return node
    name = function_name(node)
    if name == "regexp_full_match":
        return _full_match(node)
    if name in ("from_json", "json_transform"):
        return _from_json(node)
    if name == "epoch_us":  # microseconds since the epoch: Spark's unix_micros
        return exp.Anonymous(this="unix_micros", expressions=list(node.expressions))
    if name == "strlen":  # bytes of a string: Spark's octet_length
        return exp.Anonymous(this="octet_length", expressions=list(node.expressions))
    if name == "nfc_normalize":  # Spark has none: its text is compared as written (README)
        return node.expressions[0]
    if name == "count_true":  # privdiag's DuckDB macro; Spark's count_if already counts 0
        return exp.Anonymous(this="count_if", expressions=list(node.expressions))
    return node


def to_spark(tree: Node) -> str:
    """Return Spark SQL for a DuckDB statement whose readers and stars are already resolved."""
    return tree.transform(_rewrite).sql(dialect="spark")
