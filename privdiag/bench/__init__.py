"""``make bench``: scan speed and memory against a bare DuckDB floor, and drift against peers.

``python -m privdiag.bench`` generates seeded dumps (1M and 10M events; 100M too with
``BENCH_LARGE=1``) in Parquet and CSV, runs ``privdiag scan`` on each as a child process,
runs the bare SQL pipeline of :mod:`privdiag.bench.baseline` on the same files, runs one
scan under a small ``--memory-limit`` that must spill to ``--temp-dir``, times
``privdiag --help``, and compares model-check's drift with scipy and Evidently. The results
go to stdout and ``out/bench.md`` as Markdown.

Environment: ``BENCH_SIZES`` (comma-separated event counts), ``BENCH_LARGE=1``,
``BENCH_FORMATS`` (parquet,csv), ``BENCH_OUT`` (out), ``BENCH_THREADS``,
``BENCH_MEMORY_LIMIT`` (of the spilling run; default 1GB, 4GB with 100M events),
``BENCH_SPILL_EVENTS`` (the spilling run's dump size; default the largest Parquet dump),
``BENCH_DRIFT_ROWS`` / ``BENCH_DRIFT_FEATURES`` (1000000 / 20), ``BENCH_EVIDENTLY=0`` to skip
Evidently, ``BENCH_REPEAT`` (runs per measurement, the fastest kept; default 1),
``BENCH_WIDE_COLUMNS`` (the wide export's feature columns, 3000; 0 leaves that row out).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privdiag.bench import wide
from privdiag.bench.data import Dump, write_dump
from privdiag.bench.measure import Run, best_of
from privdiag.bench.report import machine, render


@dataclass
class Settings:
    """What one bench run measures, read from the environment by :meth:`from_env`."""

    sizes: list[int] = field(default_factory=lambda: [1_000_000, 10_000_000])
    formats: list[str] = field(default_factory=lambda: ["parquet", "csv"])
    out: Path = Path("out")
    threads: int | None = None
    memory_limit: str = "1GB"
    drift_rows: int = 1_000_000
    drift_features: int = 20
    evidently: bool = True
    repeat: int = 1
    spark_events: int = 100_000  # 0 leaves the Spark row out
    spill_events: int | None = None  # size of the spilling run's dump; the largest Parquet one
    wide_columns: int = 3000  # the wide export's feature columns (privdiag.bench.wide); 0: none

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Return the settings the ``BENCH_*`` variables of ``env`` ask for."""
        env = dict(os.environ if env is None else env)
        s = cls()
        if env.get("BENCH_LARGE") == "1":
            s.sizes.append(100_000_000)
            s.memory_limit = "4GB"
        if env.get("BENCH_SIZES"):
            s.sizes = [int(x) for x in env["BENCH_SIZES"].split(",")]
        if env.get("BENCH_FORMATS"):
            s.formats = env["BENCH_FORMATS"].split(",")
        s.out = Path(env.get("BENCH_OUT", "out"))
        s.threads = int(env["BENCH_THREADS"]) if env.get("BENCH_THREADS") else None
        s.memory_limit = env.get("BENCH_MEMORY_LIMIT", s.memory_limit)
        s.drift_rows = int(env.get("BENCH_DRIFT_ROWS", s.drift_rows))
        s.drift_features = int(env.get("BENCH_DRIFT_FEATURES", s.drift_features))
        s.evidently = env.get("BENCH_EVIDENTLY", "1") != "0"
        s.repeat = int(env.get("BENCH_REPEAT", "1"))
        s.spark_events = int(env.get("BENCH_SPARK_EVENTS", s.spark_events))
        s.wide_columns = int(env.get("BENCH_WIDE_COLUMNS", s.wide_columns))
        if env.get("BENCH_SPILL_EVENTS"):
            s.spill_events = int(env["BENCH_SPILL_EVENTS"])
        return s


@dataclass
class ScanRow:
    """One input measured: privdiag scan and the bare SQL floor on the same files."""

    dump: Dump
    scan: Run
    baseline: Run
    memory_limit: str | None = None


def _privdiag() -> list[str]:
    script = Path(sys.executable).with_name("privdiag")
    return [str(script)] if script.exists() else [sys.executable, "-m", "privdiag"]


def _engine_args(settings: Settings, memory_limit: str | None, temp: Path | None) -> list[str]:
    args = ["--threads", str(settings.threads)] if settings.threads else []
    if memory_limit:
        args += ["--memory-limit", memory_limit]
    if temp:
        args += ["--temp-dir", str(temp)]
    return args


def scan_command(
    dump: Dump, settings: Settings, memory_limit: str | None = None, temp: Path | None = None
) -> list[str]:
    """The ``privdiag scan`` command line for a dump, writing its JSON next to the dump."""
    return [
        *_privdiag(),
        "scan",
        str(dump.events_file),
        "--consent",
        str(dump.consent_file),
        "--config",
        str(dump.config_file),
        "--json",
        str(dump.folder / "scan.json"),
        "--fail-on",
        "critical",
        "--quiet",
        *_engine_args(settings, memory_limit, temp),
    ]


def baseline_command(
    dump: Dump, settings: Settings, memory_limit: str | None = None, temp: Path | None = None
) -> list[str]:
    """The command line of the bare SQL pipeline on the same dump."""
    return [
        sys.executable,
        "-m",
        "privdiag.bench.baseline",
        str(dump.events_file),
        str(dump.consent_file),
        str(settings.threads or ""),
        memory_limit or "",
        str(temp or ""),
    ]


def _say(message: str) -> None:
    sys.stderr.write(f"bench: {message}\n")
    sys.stderr.flush()


def _checked(run: Run, what: str) -> Run:
    if run.code not in (0, 1):
        raise RuntimeError(f"{what} failed with exit code {run.code}")
    return run


def measure_dump(
    dump: Dump, settings: Settings, memory_limit: str | None = None, temp: Path | None = None
) -> ScanRow:
    """Measure privdiag scan and the bare floor on one dump (optionally memory-limited)."""
    label = f"{dump.events:,} events, {dump.fmt}" + (
        f", limit {memory_limit}" if memory_limit else ""
    )
    _say(f"scan: {label}")
    scan = _checked(
        best_of(scan_command(dump, settings, memory_limit, temp), settings.repeat), "scan"
    )
    _say(f"bare SQL: {label}")
    base = _checked(
        best_of(baseline_command(dump, settings, memory_limit, temp), settings.repeat), "baseline"
    )
    return ScanRow(dump, scan, base, memory_limit)


def _spilling(settings: Settings, dumps: list[Dump]) -> ScanRow | None:
    parquet = [d for d in dumps if d.fmt == "parquet"]
    if settings.spill_events:  # e.g. 100M under 4GB without also scanning 100M unlimited
        n = settings.spill_events
        _say(f"writing {n:,} events as parquet for the spilling run")
        parquet = [write_dump(settings.out / "bench-data" / f"{n}-parquet", n, "parquet")]
    if not parquet:
        return None
    temp = settings.out / "bench-spill"
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir(parents=True)
    row = measure_dump(parquet[-1], settings, settings.memory_limit, temp)
    shutil.rmtree(temp, ignore_errors=True)
    return row


def _drift(settings: Settings) -> dict[str, Any]:
    from privdiag.bench import drift

    _say(f"drift: {settings.drift_rows:,} rows x {settings.drift_features} features")
    if not settings.evidently:
        from privdiag.bench_drift import run

        return run(settings.drift_rows, settings.drift_features) | {"evidently_version": None}
    return drift.run(settings.drift_rows, settings.drift_features)


def _spark(settings: Settings, data: Path) -> list[str]:
    from privdiag.bench import spark

    if not settings.spark_events:
        return []
    dump = write_dump(data / f"{settings.spark_events}-parquet", settings.spark_events, "parquet")
    _say(f"Spark local[2] beside DuckDB: {dump.events:,} events")
    return spark.lines(dump, scan_command(dump, settings), settings)


def run(settings: Settings) -> str:
    """Run every measurement; write ``bench.md`` into ``settings.out`` and return its text."""
    data = settings.out / "bench-data"
    dumps = []
    for events in settings.sizes:
        for fmt in settings.formats:
            _say(f"writing {events:,} events as {fmt} (kept in {data} for later runs)")
            dumps.append(write_dump(data / f"{events}-{fmt}", events, fmt))
    rows = [measure_dump(d, settings) for d in dumps]
    spilled = _spilling(settings, dumps)
    _say("privdiag --help")
    help_run = best_of([*_privdiag(), "--help"], 3)
    text = render(machine(), rows, spilled, help_run, _drift(settings))
    text += "\n".join(_spark(settings, data)) + "\n"
    _say(f"wide export: {settings.wide_columns:,} feature columns")
    text += "\n".join(wide.lines(settings, _privdiag())) + "\n"
    settings.out.mkdir(parents=True, exist_ok=True)
    (settings.out / "bench.md").write_text(text, encoding="utf-8")
    return text


def main() -> None:
    """Console entry: run the bench with the environment's settings, print the Markdown."""
    sys.stdout.write(run(Settings.from_env()))
