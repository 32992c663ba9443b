"""Progress on stderr for the CLI: a spinner per phase, then each phase's time and rate.

The core only names its phases through a ``progress(message)`` callback; this module turns
those calls into a live line on a terminal and, when the command ends, one line per phase
with its seconds and rate. Where stderr is not a terminal, a phase that lasts a minute or
more is said once a minute (:class:`Heartbeat`), and nothing else.
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
        from rich.markup import escape

        from privdiag.privacy import scrub

        # messages name the user's files: no rich markup, no control characters, no e-mail
        message = escape(scrub(message))
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

    def lines(
        self, events: int | None, read: dict[str, tuple[int | None, str]] | None = None
    ) -> list[str]:
        """Return one line per finished phase: name, seconds and its rate.

        A phase reading an input that ``read`` names (``"reading PATH"`` -> its rows and
        their unit, ``events`` or ``rows``) is rated by that input's own rows; the other
        phases by all the scan's ``events``. Trial 26's consent log of 869,724 rows read in
        111 s was rated "0.05M events/s", the scan's 5.4M events over its time.
        """
        from rich.markup import escape

        from privdiag.privacy import scrub

        own = {escape(scrub(k)): v for k, v in (read or {}).items()}
        out = []
        for name, seconds in self.phases:
            count, unit = own.get(name, (events, "events"))
            rate = f"  {_per_second(count / seconds)} {unit}/s" if count and seconds > 0 else ""
            out.append(f"{name:<40} {seconds:7.2f} s{rate}")
        return out

    def close(
        self, events: int | None = None, read: dict[str, tuple[int | None, str]] | None = None
    ) -> None:
        """Stop the spinner and print each phase's time (and rate when ``events`` is known;
        an input's reading by its own rows, see :meth:`lines`)."""
        if self.closed:
            return
        self.closed = True
        self._end(time.perf_counter())
        if self.status is not None:
            self.status.stop()
        for line in self.lines(events, read):
            self.console.print(f"[dim]{line}[/dim]", highlight=False)


def _per_second(rate: float) -> str:
    """A rate in millions from 1M up (``  5.00M``), else in thousands (`` 7.80k``), so that a
    slow phase does not read 0.01M."""
    return f"{rate / 1e6:6.2f}M" if rate >= 1e6 else f"{rate / 1e3:6.2f}k"


class Heartbeat:
    """Progress where stderr is no terminal (a pipe, a CI log): nothing for a phase shorter
    than ``every`` seconds, then a line every ``every`` seconds while it lasts
    (``privdiag: still reading exports/web (120 s)``). Trial 26's 5.4M-event scan piped
    into a log was silent for over four minutes, as a hung job is; short runs, and the
    output that tests and scripts read, stay as they were."""

    def __init__(self, stream: Any, every: float = 60.0) -> None:
        import threading

        self.stream, self.every = stream, every
        self.current: tuple[str, float] | None = None
        self.stopped = threading.Event()
        self.thread: Any = None

    def __call__(self, message: str) -> None:
        import threading

        from privdiag.privacy import scrub

        # messages name the user's files: no control characters, no e-mail
        text = "".join(c if c.isprintable() else "?" for c in scrub(message))
        self.current = (text, time.monotonic())
        if self.thread is None:
            self.thread = threading.Thread(target=self._beat, daemon=True)
            self.thread.start()

    def _beat(self) -> None:
        while not self.stopped.wait(self.every):
            self.tick(time.monotonic())

    def tick(self, now: float) -> None:
        """Say the phase under way when it has lasted ``every`` seconds or more."""
        if self.current is None or self.stopped.is_set():
            return
        name, started = self.current
        if now - started >= self.every:
            try:
                print(f"privdiag: still {name} ({now - started:.0f} s)", file=self.stream)
                self.stream.flush()
            except (OSError, ValueError):  # the stream was closed: nothing more to say
                self.stopped.set()

    def close(self, events: int | None = None, read: Any = None) -> None:
        """Stop the beat (the phase times are a terminal's only)."""
        self.stopped.set()


def phase_progress(enabled: bool, terminal: bool = True) -> PhaseProgress | Heartbeat | None:
    """Return a progress sink on stderr: phases on a ``terminal``, else a heartbeat during
    a long phase; None when ``enabled`` is false."""
    if not enabled:
        return None
    if not terminal:
        import sys

        return Heartbeat(sys.stderr)
    from rich.console import Console

    return PhaseProgress(Console(stderr=True))
