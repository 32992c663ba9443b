"""Run a command as a child process and measure its wall time and peak memory."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """One measured child process: exit code, wall seconds, peak resident memory, stdout."""

    code: int
    seconds: float
    peak_mb: float
    stdout: str


def measure(command: list[str], cwd: Path | None = None) -> Run:
    """Run ``command`` to its end; return its exit code, wall time and peak RSS.

    The peak is the child's own maximum resident set (``wait4``'s ``ru_maxrss``, in KiB on
    Linux); the commands measured here do their work in that one process.
    """
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        child = subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.PIPE, stderr=devnull, stdin=subprocess.DEVNULL
        )
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return Run(child.returncode, seconds, usage.ru_maxrss / 1024, out.decode(errors="replace"))


def best_of(command: list[str], times: int) -> Run:
    """Run ``command`` ``times`` times and return the fastest run (peak memory: the largest)."""
    runs = [measure(command) for _ in range(times)]
    fastest = min(runs, key=lambda r: r.seconds)
    return Run(fastest.code, fastest.seconds, max(r.peak_mb for r in runs), fastest.stdout)
