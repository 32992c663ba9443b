"""CLI progress: phases timed with their rate; engine flags land in the config."""

from __future__ import annotations

import io

from rich.console import Console

from privdiag.cli import _engine
from privdiag.cli_progress import PhaseProgress, phase_progress
from privdiag.config import Config


def test_phases_are_timed_and_rated() -> None:
    stream = io.StringIO()
    progress = PhaseProgress(Console(file=stream, force_terminal=False, width=100))
    progress("reading events.parquet")
    progress("resolving consent state")
    progress.phases[0] = ("reading events.parquet", 2.0)  # a known duration to check the rate
    progress.close(events=10_000_000)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("reading events.parquet") and "5.00M events/s" in lines[0]
    assert lines[1].startswith("resolving consent state")
    progress.close(events=1)  # a second close prints nothing more
    assert len(stream.getvalue().splitlines()) == 2


def test_no_progress_when_disabled() -> None:
    assert phase_progress(False) is None


def test_engine_flags_override_config() -> None:
    cfg = Config()
    cfg.engine.threads, cfg.engine.memory_limit = 4, "8GB"
    _engine(cfg, None, "2GB", "/tmp/spill")
    assert (cfg.engine.threads, cfg.engine.memory_limit, cfg.engine.temp_dir) == (
        4,
        "2GB",
        "/tmp/spill",
    )


def test_memory_limit_must_be_a_size() -> None:
    import pytest

    from privdiag.errors import UsageError

    with pytest.raises(UsageError, match="--memory-limit"):
        _engine(Config(), None, "lots", None)
    _engine(Config(), None, "512 MB", None)
