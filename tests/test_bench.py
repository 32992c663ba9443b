"""The bench harness on a tiny dump: not timed, only that every part runs and reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from privdiag.bench import ScanRow, Settings, run
from privdiag.bench.baseline import run as run_baseline
from privdiag.bench.data import Dump, write_dump
from privdiag.bench.measure import Run, measure
from privdiag.bench.report import _limit_mb, _scaling_lines
from privdiag.bench.wide import floor as wide_floor
from privdiag.bench.wide import write_wide


def test_dump_is_seeded_and_shaped(tmp_path: Path) -> None:
    a = write_dump(tmp_path / "a", 1000, "parquet", seed=1)
    b = write_dump(tmp_path / "b", 1000, "parquet", seed=1)
    con = duckdb.connect()
    q = "SELECT count(*), count(user_id), count(consent_ads), min(ts) FROM read_parquet('{}')"
    first = con.execute(q.format(a.events_file)).fetchone()
    assert first == con.execute(q.format(b.events_file)).fetchone()
    assert first[0] == 1000
    assert 0 < first[1] < 1000 and 0 < first[2] < 1000  # some anonymous, some flagged
    log = con.execute(
        f"SELECT count(DISTINCT purpose), count(*) FROM read_csv('{a.consent_file}')"
    ).fetchone()
    assert log[0] == 2 and log[1] > 0


def test_dump_events_fall_into_sessions_of_half_an_hour(tmp_path: Path) -> None:
    """About four sessions per user (not one per event, as before the layout stamp), each
    within 30 minutes; a dump of an older layout in the folder is written again."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "events.parquet").write_bytes(b"not a dump of this layout")
    dump = write_dump(folder, 20_000, "parquet")
    sessions, users, longest = (
        duckdb.connect()
        .execute(
            "SELECT count(DISTINCT session_id), count(DISTINCT anonymous_id), "
            "max(span) FROM (SELECT session_id, any_value(anonymous_id) AS anonymous_id, "
            "epoch(max(ts) - min(ts)) AS span "
            f"FROM read_parquet('{dump.events_file}') GROUP BY session_id)"
        )
        .fetchone()
    )
    assert users == 1000  # 20 events per user
    assert 3.5 * users < sessions <= 4 * users
    assert longest < 30 * 60
    assert (folder / "layout.txt").read_text().strip() == "2"


def test_baseline_counts_every_event(tmp_path: Path) -> None:
    for fmt in ("parquet", "csv"):
        dump = write_dump(tmp_path / fmt, 2000, fmt)
        assert run_baseline(str(dump.events_file), str(dump.consent_file))["events"] == 2000


def test_measure_reports_exit_code_and_memory() -> None:
    done = measure([sys.executable, "-c", "b = bytearray(60_000_000); print('ok'); exit(3)"])
    assert done.code == 3 and done.stdout.strip() == "ok"
    assert done.peak_mb > 55


def test_limit_units() -> None:
    assert _limit_mb("1GB") == 1e9 / 1024 / 1024
    assert _limit_mb("512MiB") == 512


def test_scaling_is_seconds_per_million_against_the_smallest() -> None:
    def row(events: int, seconds: float, fmt: str = "parquet") -> ScanRow:
        run = Run(0, seconds, 100.0, "")
        return ScanRow(Dump(Path("."), events, 1, fmt), run, run)

    # 1M in 4 s, 10M in 30 s (3 s per million: 0.75x), 100M in 500 s (5 s: 1.25x)
    lines = _scaling_lines([row(10_000_000, 30), row(1_000_000, 4), row(100_000_000, 500)])
    assert lines[-1] == (
        "- parquet: 1,000,000: 4.00 s (1.00x), 10,000,000: 3.00 s (0.75x), "
        "100,000,000: 5.00 s (1.25x)"
    )
    assert _scaling_lines([row(1_000_000, 4, "csv")]) == []  # one size scales nothing


def test_settings_from_env() -> None:
    s = Settings.from_env({"BENCH_LARGE": "1"})
    assert s.sizes[-1] == 100_000_000 and s.memory_limit == "4GB"
    s = Settings.from_env({"BENCH_SIZES": "10,20", "BENCH_FORMATS": "csv", "BENCH_EVIDENTLY": "0"})
    assert (s.sizes, s.formats, s.evidently) == ([10, 20], ["csv"], False)
    assert s.spill_events is None
    assert Settings.from_env({"BENCH_SPILL_EVENTS": "100000000"}).spill_events == 100_000_000
    assert s.wide_columns == 3000
    assert Settings.from_env({"BENCH_WIDE_COLUMNS": "0"}).wide_columns == 0


def test_the_wide_export_is_seeded_and_its_floor_reads_every_column(tmp_path: Path) -> None:
    """Same seed, same file; each feature present on about half of the 600 events; the floor
    reads all 4 + 40 columns."""
    first = write_wide(tmp_path / "a", 40)
    again = write_wide(tmp_path / "b", 40)
    assert first.read_bytes() == again.read_bytes()
    con = duckdb.connect()
    rows, present = con.execute(f"SELECT count(*), count(f7) FROM '{first}'").fetchone()
    assert rows == 600 and 240 < present < 360
    denied = con.execute(
        f"SELECT count(*) FROM '{first.parent / 'consent.csv'}' WHERE status = 'denied'"
    ).fetchone()
    assert denied == (25,)
    assert wide_floor(str(first))["columns"] == 44


def test_bench_end_to_end_on_tiny_dump(tmp_path: Path) -> None:
    settings = Settings(
        sizes=[3000],
        out=tmp_path,
        drift_rows=2000,
        drift_features=2,
        evidently=False,
        wide_columns=150,
    )
    text = run(settings)
    assert (tmp_path / "bench.md").read_text(encoding="utf-8") == text
    assert "| 3,000 | parquet |" in text and "| 3,000 | csv |" in text
    assert "Spilling run: `--memory-limit 1GB" in text
    assert "`privdiag --help`:" in text and "scipy ks_2samp" in text
    assert "Wide flat export (600 events x 150 feature columns, CSV): privdiag scan" in text
    assert "x reading it into DuckDB and counting each column's values" in text
    scan = json.loads((tmp_path / "bench-data" / "3000-parquet" / "scan.json").read_text())
    assert scan["inputs"][0]["rows"] == 3000
    assert any(f["kind"] == "consent.violation" for f in scan["findings"])


def test_scan_takes_engine_flags(tmp_path: Path) -> None:
    dump = write_dump(tmp_path, 500, "parquet")
    spill = tmp_path / "spill"
    spill.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "privdiag", "scan", str(dump.events_file), "--consent",
         str(dump.consent_file), "--config", str(dump.config_file), "--quiet",
         "--fail-on", "critical", "--threads", "1", "--memory-limit", "200MB",
         "--temp-dir", str(spill)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
