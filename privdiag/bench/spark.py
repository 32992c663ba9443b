"""The bench's Spark row: the same scan on Spark local[2] beside DuckDB, findings compared.

Spark pays off on data that already lives in a cluster, not on one small machine; local[2]
here shows the engine runs the same checks and what its fixed cost per statement is. The
row uses a small dump (``BENCH_SPARK_EVENTS``, 100k by default) unless told otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from typing import TYPE_CHECKING

from privdiag.bench.measure import Run, best_of

if TYPE_CHECKING:
    from privdiag.bench import Settings
    from privdiag.bench.data import Dump


def available() -> bool:
    """True when a Java runtime and pyspark are installed."""
    return shutil.which("java") is not None and importlib.util.find_spec("pyspark") is not None


def spark_command(duck_command: list[str], dump: Dump) -> list[str]:
    """The DuckDB scan command turned into the same scan on Spark local[2]."""
    command = list(duck_command)
    command[command.index("--json") + 1] = str(dump.folder / "scan-spark.json")
    return command + ["--engine", "spark", "--spark-master", "local[2]"]


def _findings(path: object) -> list[tuple[str, str]]:
    doc = json.loads(open(str(path), encoding="utf-8").read())
    return sorted((f["id"], json.dumps(f["metrics"], sort_keys=True)) for f in doc["findings"])


def lines(dump: Dump, duck_command: list[str], settings: Settings) -> list[str]:
    """Markdown lines comparing DuckDB and Spark local[2] on ``dump`` (or why they are absent)."""
    if not available():
        return ["", "Spark local[2]: not measured (needs Java and `pip install -e '.[spark]'`)."]
    duck: Run = best_of(duck_command, settings.repeat)
    spark: Run = best_of(spark_command(duck_command, dump), settings.repeat)
    if duck.code not in (0, 1) or spark.code not in (0, 1):
        return ["", f"Spark local[2]: failed (exit {spark.code}; DuckDB exit {duck.code})."]
    same = _findings(dump.folder / "scan.json") == _findings(dump.folder / "scan-spark.json")
    return [
        "",
        f"### Spark local[2] beside DuckDB ({dump.events:,} events, {dump.fmt})",
        "",
        "| engine | seconds | events/s | findings equal |",
        "|---|---:|---:|---|",
        f"| DuckDB | {duck.seconds:.2f} | {dump.events / duck.seconds:,.0f} | |",
        f"| Spark local[2] | {spark.seconds:.2f} | {dump.events / spark.seconds:,.0f} | "
        f"{'yes' if same else 'NO'} |",
        "",
        "Spark's time includes starting the JVM and its session; its memory is not shown "
        "(the JVM is not the measured process).",
    ]
