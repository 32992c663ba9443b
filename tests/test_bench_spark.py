"""The bench's Spark row: the command it runs and its table, on a tiny dump (not timed)."""

from __future__ import annotations

import pytest

from privdiag.bench import Settings, scan_command
from privdiag.bench import spark as bench_spark
from privdiag.bench.data import write_dump


def test_spark_command_is_the_duckdb_scan_on_local_spark(tmp_path):
    dump = write_dump(tmp_path / "d", 2_000, "parquet", seed=1)
    command = bench_spark.spark_command(scan_command(dump, Settings()), dump)
    assert command[-4:] == ["--engine", "spark", "--spark-master", "local[2]"]
    assert command[command.index("--json") + 1].endswith("scan-spark.json")


@pytest.mark.spark
@pytest.mark.slow  # a second Spark session: ~45 s; the engine tests already compare findings
@pytest.mark.skipif(not bench_spark.available(), reason="needs Java and pyspark")
def test_spark_row_reports_equal_findings(tmp_path):
    dump = write_dump(tmp_path / "d", 2_000, "parquet", seed=1)
    text = "\n".join(bench_spark.lines(dump, scan_command(dump, Settings()), Settings()))
    assert "| Spark local[2] |" in text
    assert text.rstrip().splitlines()[-3].endswith("| yes |")
