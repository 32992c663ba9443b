"""Start or join the Spark session a scan runs on, with the defaults the scan's SQL needs.

:func:`session` returns a Spark session of its own (own temp views, same cluster) for Spark
Connect, a master URL or the active/default session, with DuckDB's semantics set (UTC,
NULL on a failed cast) and Spark's log level and console output kept quiet.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from privdiag.config import EngineConfig
from privdiag.errors import ConfigError, UsageError

SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # DuckDB semantics: an out-of-range list index or a failed cast gives NULL, not an error
    "spark.sql.ansi.enabled": "false",
}
# Set on the session unless [engine.spark_conf] (or the session privdiag joins, e.g. a
# spark-submit --conf) sets the key: the user's value wins.
SESSION_DEFAULTS = {
    # Off, because Spark's constraint propagation breaks on the adapter's checkpoints: a local
    # checkpoint (CREATE TABLE ... AS, INSERT) keeps the constraints of the plan it ran, with
    # their columns mapped to its own by exact equality, nullability included; a column that a
    # filter made non-null (the IS NOT NULL of a consent view) keeps its old id there, and the
    # next UNION over that checkpoint (the second --consent file's INSERT) fails in
    # UnionBase.rewriteConstraints with "key not found". The scan's SQL needs none of the
    # filters Spark infers from constraints; results are the same without them.
    "spark.sql.constraintPropagation.enabled": "false",
    # The values of key=value folders are text, as DuckDB reads them (privdiag.ingest.reading's
    # HIVE): inferred, an id folder user_id=0x10 or -0 would be read as a number.
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}
# Spark's log level unless [engine.spark_conf] sets spark.log.level (``scan -q`` sets ERROR).
LOG_LEVEL = "WARN"
# Levels at which a driver JVM started by the scan writes nothing to stderr at all: its
# startup messages (log4j profile, default level, Java module warnings) come before any log
# level applies.
SILENT_LEVELS = ("ERROR", "FATAL", "OFF")
LOG_LEVELS = ("ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF")


def session(engine: EngineConfig) -> Any:
    """Return a Spark session: Spark Connect, a master URL, or the active/default one."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise UsageError(
            "the spark engine needs pyspark", hint="pip install 'privdiag[spark]'"
        ) from exc
    builder = SparkSession.builder.appName("privdiag")
    if engine.spark_remote:
        for key, value in engine.spark_conf.items():
            builder = builder.config(key, value)
        return _with_session_conf(builder.remote(engine.spark_remote).getOrCreate(), engine)
    if engine.spark_master:
        builder = builder.master(engine.spark_master)
        if engine.spark_master.startswith("local"):
            builder = builder.config("spark.ui.enabled", "false")
    level = _log_level(engine)
    # privdiag shows its own progress; Spark's stage bars are not warnings
    conf = {"spark.ui.showConsoleProgress": "false", "spark.log.level": level}
    for key, value in {**conf, **engine.spark_conf}.items():
        builder = builder.config(key, value)
    with _stderr_discarded(level in SILENT_LEVELS):
        spark = builder.getOrCreate()
    if "spark.log.level" in engine.spark_conf:  # also for a context started before
        spark.sparkContext.setLogLevel(level)
    if level in ("WARN", "INFO"):
        _quiet_sink_probe(spark)
    return _with_session_conf(spark.newSession(), engine)  # own temp views; shares the cluster


# Spark 4 looks for a streaming sink's metadata folder under the one path a reader is given,
# and logs a warning with a Java stack trace when that path is a glob, which privdiag's are
# when a file name holds a glob character (escaped: see ``spark_read.hadoop_literal``).
# privdiag reads no stream output; the probe's logger is set to errors only.
_SINK_LOGGER = "org.apache.spark.sql.execution.streaming"


def _quiet_sink_probe(spark: Any) -> None:
    """Set the logger of Spark's streaming sink probe to ERROR (a JVM of classic Spark)."""
    from py4j.protocol import Py4JError

    try:
        jvm = spark.sparkContext._jvm
        log4j = jvm.org.apache.logging.log4j
        log4j.core.config.Configurator.setLevel(_SINK_LOGGER, log4j.Level.ERROR)
    except (Py4JError, AttributeError):  # another logging backend: its warnings stay
        pass


def _log_level(engine: EngineConfig) -> str:
    """The log level asked for in [engine.spark_conf] (or by ``scan -q``), else WARN."""
    level = str(engine.spark_conf.get("spark.log.level", LOG_LEVEL)).upper()
    if level not in LOG_LEVELS:
        raise ConfigError(
            f"spark.log.level {level!r} is not a Spark log level",
            hint=f"use one of {', '.join(LOG_LEVELS)}",
        )
    return level


def _with_session_conf(spark: Any, engine: EngineConfig) -> Any:
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)
    for key, value in SESSION_DEFAULTS.items():
        if key in engine.spark_conf:  # a session started before did not take it from the builder
            spark.conf.set(key, engine.spark_conf[key])
        elif spark.conf.get(key, None) is None:
            spark.conf.set(key, value)
    return spark


@contextmanager
def _stderr_discarded(discard: bool) -> Iterator[None]:
    """Point file descriptor 2 at /dev/null meanwhile, when ``discard``: a driver JVM
    launched then inherits it and writes nothing to the terminal for its whole life."""
    if not discard:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
