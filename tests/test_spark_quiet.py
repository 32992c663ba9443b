"""``scan -q`` quiets Spark: its log level, and the stderr of a driver JVM the scan starts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import EngineConfig
from privdiag.engines import spark_session
from privdiag.errors import ConfigError
from tests.helpers import write

EVENTS = """
event_id,ts,event_name,user_id,session_id,gclid
e1,2026-10-01T10:00:00Z,page_view,u1,s1,G1
e2,2026-10-01T10:05:00Z,purchase,u2,s2,
"""


def _engine_of_scan(tmp_path, monkeypatch, *flags: str) -> EngineConfig:
    """The engine config the CLI hands to the scan (the scan itself is not run)."""
    import privdiag.scan

    seen = []

    def fake_run_scan(data, **kwargs):
        seen.append(kwargs["config"].engine)
        raise SystemExit(0)

    monkeypatch.setattr(privdiag.scan, "run_scan", fake_run_scan)
    events = write(tmp_path / "web.csv", EVENTS)
    CliRunner().invoke(app, ["scan", events, "--engine", "spark", *flags])
    return seen[0]


def test_quiet_asks_spark_for_errors_only(tmp_path, monkeypatch):
    assert _engine_of_scan(tmp_path, monkeypatch, "-q").spark_conf == {"spark.log.level": "ERROR"}
    assert _engine_of_scan(tmp_path, monkeypatch).spark_conf == {}


def test_log_level_is_warn_unless_the_config_says_and_a_wrong_one_is_a_config_error():
    level = spark_session._log_level
    assert level(EngineConfig()) == "WARN"
    assert level(EngineConfig(spark_conf={"spark.log.level": "error"})) == "ERROR"
    with pytest.raises(ConfigError, match="'LOUD' is not a Spark log level"):
        level(EngineConfig(spark_conf={"spark.log.level": "loud"}))


def test_a_process_started_while_stderr_is_discarded_writes_nothing(capfd):
    child = [sys.executable, "-c", "import sys; sys.stderr.write('from the child')"]
    with spark_session._stderr_discarded(True):
        subprocess.run(child, check=True)
    subprocess.run(child, check=True)  # fd 2 is back
    with spark_session._stderr_discarded(False):
        subprocess.run(child, check=True)
    assert capfd.readouterr().err == "from the child" * 2


FAST = """
[engine.spark_conf]
"spark.sql.shuffle.partitions" = "1"
"spark.sql.codegen.wholeStage" = "false"
"spark.sql.codegen.factoryMode" = "NO_CODEGEN"
"spark.driver.memory" = "1g"
"""


def _scan_on_spark(
    tmp_path: Path, *flags: str, name: str = "web.csv"
) -> subprocess.CompletedProcess[str]:
    events = write(tmp_path / name, EVENTS)
    config = write(tmp_path / "privdiag.toml", FAST)
    command = [sys.executable, "-m", "privdiag", "scan", events, "--config", config]
    command += ["--engine", "spark", "--spark-master", "local[1]", "--json", "-", *flags]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPARK_GATEWAY")}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.slow  # two JVM starts and scans on Spark: about 70 s
@pytest.mark.spark
def test_scan_on_spark_prints_nothing_on_stderr_with_q_and_warnings_only_without(tmp_path):
    if shutil.which("java") is None:
        pytest.skip("needs a Java runtime")
    pytest.importorskip("pyspark")
    quiet = _scan_on_spark(tmp_path, "-q")
    assert quiet.returncode in (0, 1), quiet.stderr
    assert quiet.stderr == ""
    assert '"findings"' in quiet.stdout

    loud = _scan_on_spark(tmp_path)
    assert loud.returncode in (0, 1), loud.stderr
    assert " WARN " in loud.stderr
    assert " INFO " not in loud.stderr
    assert "[Stage " not in loud.stderr  # no progress bars


@pytest.mark.slow  # a JVM start and a scan on Spark: about a minute
@pytest.mark.spark
def test_a_glob_named_file_on_spark_prints_no_stack_trace(tmp_path):
    """Spark's probe for a streaming sink's metadata under the one path read logged a warning
    with a Java stack trace (FileNotFoundException) for ev[1].csv, whose path Spark is given
    as an escaped glob; that logger is kept to errors."""
    if shutil.which("java") is None:
        pytest.skip("needs a Java runtime")
    pytest.importorskip("pyspark")
    done = _scan_on_spark(tmp_path, name="ev[1].csv")
    assert done.returncode in (0, 1), done.stderr
    assert "FileStreamSink" not in done.stderr and "Exception" not in done.stderr
    assert json.loads(done.stdout)["inputs"][0]["rows"] == 2
