"""The bench's Markdown: the machine, the scan table, the spilling run, help and drift."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from privdiag.bench import ScanRow
    from privdiag.bench.measure import Run


def _meminfo_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """Return the machine's description: cores, RAM, CPU model, OS, Python and DuckDB."""
    import duckdb

    return {
        "nproc": os.cpu_count(),
        "ram_gb": _meminfo_gb(),
        "cpu": _cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def _rate(events: int, seconds: float) -> str:
    rate = events / seconds
    return f"{rate / 1e6:.2f}M" if rate >= 1e6 else f"{rate / 1e3:.0f}k"


def _scan_line(row: ScanRow) -> str:
    d, s, b = row.dump, row.scan, row.baseline
    return (
        f"| {d.events:,} | {d.fmt} | {s.seconds:.2f} | {_rate(d.events, s.seconds)} "
        f"| {s.peak_mb:,.0f} | {b.seconds:.2f} | {_rate(d.events, b.seconds)} "
        f"| {b.peak_mb:,.0f} | {s.seconds / b.seconds:.2f}x | {s.peak_mb / b.peak_mb:.2f}x |"
    )


def _scan_table(rows: list[ScanRow]) -> list[str]:
    return [
        "| events | input | scan s | scan events/s | scan peak MB | bare SQL s "
        "| bare events/s | bare peak MB | time vs bare | memory vs bare |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(_scan_line(r) for r in rows),
    ]


def _scaling_lines(rows: list[ScanRow]) -> list[str]:
    """Per input format: seconds per million events at each size, as a ratio to the smallest.

    A ratio near 1 means the cost grows linearly with the events; above 1, faster than that.
    """
    lines = []
    for fmt in dict.fromkeys(r.dump.fmt for r in rows):
        sized = sorted((r for r in rows if r.dump.fmt == fmt), key=lambda r: r.dump.events)
        if len(sized) < 2:
            continue
        unit = sized[0].scan.seconds / sized[0].dump.events
        steps = ", ".join(
            f"{r.dump.events:,}: {r.scan.seconds / r.dump.events * 1e6:.2f} s "
            f"({r.scan.seconds / r.dump.events / unit:.2f}x)"
            for r in sized
        )
        lines.append(f"- {fmt}: {steps}")
    if not lines:
        return []
    return [
        "",
        "Scaling: scan seconds per million events, and its ratio to the smallest dump's "
        "(1.00x = linear):",
        "",
        *lines,
    ]


def _limit_mb(limit: str) -> float:
    from privdiag.engine import size_bytes

    return (size_bytes(limit) or 0.0) / 1024 / 1024


def _spill_lines(row: ScanRow | None) -> list[str]:
    if row is None or row.memory_limit is None:
        return []
    limit = _limit_mb(row.memory_limit)
    peak = row.scan.peak_mb
    return [
        "",
        f"Spilling run: `--memory-limit {row.memory_limit} --temp-dir …` on "
        f"{row.dump.events:,} {row.dump.fmt} events: {row.scan.seconds:.2f} s "
        f"({_rate(row.dump.events, row.scan.seconds)} events/s), peak {peak:,.0f} MB = "
        f"{peak / limit:.2f}x the limit ({'within' if peak <= 1.25 * limit else 'OVER'} "
        f"limit + 25%); bare SQL under the same limit {row.baseline.seconds:.2f} s, "
        f"peak {row.baseline.peak_mb:,.0f} MB.",
    ]


def _drift_lines(drift: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"Drift ({drift['rows']:,} rows x {drift['features']} features, KS + Wasserstein):",
        "",
        "| tool | seconds | max abs difference to privdiag |",
        "|---|---:|---:|",
        f"| privdiag model-check drift | {drift['privdiag_seconds']:.2f} | - |",
        f"| scipy ks_2samp + wasserstein_distance | {drift['scipy_seconds']:.2f} "
        f"| {float(drift['max_abs_diff']):.1e} |",
    ]
    if drift.get("evidently_version"):
        lines.append(
            f"| Evidently {drift['evidently_version']} DataDriftPreset | "
            f"{drift['evidently_seconds']:.2f} | {float(drift['evidently_max_abs_diff']):.1e} "
            "(normed Wasserstein) |"
        )
    else:
        lines.append("| Evidently | not installed (`pip install -e '.[bench]'`) | - |")
    return lines


def render(
    info: dict[str, Any],
    rows: list[ScanRow],
    spilled: ScanRow | None,
    help_run: Run,
    drift: dict[str, Any],
) -> str:
    """Return the bench results as Markdown."""
    lines = [
        "# privdiag bench",
        "",
        f"Machine: {info['nproc']} cores, {info['ram_gb']} GB RAM, {info['cpu']}; "
        f"{info['os']}, Python {info['python']}, DuckDB {info['duckdb']}.",
        "",
        "Scan end to end (`privdiag scan EVENTS --consent LOG --config …`, a child process; "
        "peak = its maximum resident memory) against the bare DuckDB SQL floor (the same "
        "consent window and sparsity counts, hand-written for the dump's columns):",
        "",
        *_scan_table(rows),
        *_scaling_lines(rows),
        *_spill_lines(spilled),
        "",
        f"`privdiag --help`: {help_run.seconds:.2f} s (fastest of 3).",
        *_drift_lines(drift),
    ]
    return "\n".join(lines) + "\n"
