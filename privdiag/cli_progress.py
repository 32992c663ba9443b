"""Progress on stderr for the CLI: a spinner per phase, then each phase's time and rate.

The core only names its phases through a ``progress(message)`` callback; this module turns
those calls into a live line on a terminal and, when the command ends, one line per phase
with its seconds and events per second. Nothing is shown when stderr is not a terminal.
"""

from __future__ import annotations

import atexit
import time
from typing import Any


class PhaseProgress:
    """Callable progress sink: each call starts a phase and ends the one before."""

    def __init__(self, console: Any) -> None:
        self.console = console
        self.phases: list[tuple[str, float]] = []
        self.current: tuple[str, float] | None = None
        self.status: Any = None
        self.closed = False
        atexit.register(self.close)

    def __call__(self, message: str) -> None:
        now = time.perf_counter()
        self._end(now)
        self.current = (message, now)
        if self.status is None:
            self.status = self.console.status(f"{message} …", spinner="dots")
            self.status.start()
        else:
            self.status.update(f"{message} …")

    def _end(self, now: float) -> None:
        if self.current is not None:
            name, started = self.current
            self.phases.append((name, now - started))
            self.current = None

    def lines(self, events: int | None) -> list[str]:
        """Return one line per finished phase: name, seconds and events per second."""
        out = []
        for name, seconds in self.phases:
            rate = f"  {events / seconds / 1e6:6.2f}M events/s" if events and seconds > 0 else ""
            out.append(f"{name:<40} {seconds:7.2f} s{rate}")
        return out

    def close(self, events: int | None = None) -> None:
        """Stop the spinner and print each phase's time (and rate when ``events`` is known)."""
        if self.closed:
            return
        self.closed = True
        self._end(time.perf_counter())
        if self.status is not None:
            self.status.stop()
        for line in self.lines(events):
            self.console.print(f"[dim]{line}[/dim]", highlight=False)


def phase_progress(enabled: bool) -> PhaseProgress | None:
    """Return a progress sink on stderr, or None when ``enabled`` is false."""
    if not enabled:
        return None
    from rich.console import Console

    return PhaseProgress(Console(stderr=True))
