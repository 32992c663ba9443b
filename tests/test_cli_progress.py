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


def test_an_input_s_reading_is_rated_by_its_own_rows() -> None:
    # Trial 26: web (3,420,011 events) read in 37.36 s, app (1,977,666) in 1.15 s and
    # consent.csv (869,724 rows) in 111.51 s printed 0.14M, 4.68M and 0.05M "events/s": the
    # scan's 5,397,677 events over each phase's time. Each input's own rows are its rate.
    stream = io.StringIO()
    progress = PhaseProgress(Console(file=stream, force_terminal=False, width=120))
    for name in ("reading web", "reading consent.csv", "resolving consent state"):
        progress(name)
    progress.close(events=1)
    progress.phases[:] = [
        ("reading web", 37.36),
        ("reading consent.csv", 111.51),
        ("resolving consent state", 39.42),
    ]
    read = {"reading web": (3_420_011, "events"), "reading consent.csv": (869_724, "rows")}
    web, log, resolve = progress.lines(5_397_677, read)
    assert web.endswith("37.36 s   91.54k events/s")  # 3,420,011 / 37.36 = 91,542
    assert log.endswith("111.51 s    7.80k rows/s")  # 869,724 / 111.51 = 7,800
    assert resolve.endswith("39.42 s  136.93k events/s")  # 5,397,677 / 39.42 = 136,927


def test_a_long_phase_is_said_once_a_minute_where_stderr_is_no_terminal() -> None:
    # Trial 26's 5.4M-event scan piped into a log printed nothing for over four minutes.
    from privdiag.cli_progress import Heartbeat

    stream = io.StringIO()
    beat = Heartbeat(stream, every=60.0)
    beat("reading exports/\x1b[2Jweb")  # a file name's control character is not written
    name, _ = beat.current
    beat.current = (name, 1000.0)  # started at 1000 s on the monotonic clock
    beat.tick(1059.0)
    assert stream.getvalue() == ""  # a phase under a minute says nothing
    beat.tick(1121.0)
    said = stream.getvalue()
    assert said.startswith("privdiag: still reading exports/") and "\x1b" not in said
    assert said.endswith("[2Jweb (121 s)\n")
    beat.close()
    beat.tick(1181.0)
    assert stream.getvalue().count("\n") == 1
    assert isinstance(phase_progress(True, terminal=False), Heartbeat)


def test_building_the_tables_is_a_phase_of_its_own_not_the_last_inputs(tmp_path) -> None:
    """Trial 26's 5.4M-event scan rated its consent log "7.8k rows/s": the phase "reading
    consent.csv" ran on through the building of the events table from every input (on a
    450,000-user shop, 52 s of which the log's own reading was a few). Building the tables
    is now a phase of its own, after the last input's reading."""
    from privdiag.config import Config
    from privdiag.scan import run_scan

    (tmp_path / "ev.csv").write_text(
        "event_id,ts,event_name,user_id\ne1,2026-10-01T10:00:00Z,page_view,u1\n"
    )
    (tmp_path / "c.csv").write_text(
        "user_id,purpose,status,ts\nu1,ads,denied,2026-10-01T09:00:00Z\n"
    )
    said: list[str] = []
    run_scan(
        [str(tmp_path / "ev.csv")],
        consent=[str(tmp_path / "c.csv")],
        config=Config(),
        progress=said.append,
    )
    reading = [m for m in said if m.startswith("reading ")]
    assert said[: len(reading) + 1] == [*reading, "building the events and consent tables"]
    assert len(reading) == 2 and all(len(m) <= 40 for m in said if not m.startswith("reading "))
