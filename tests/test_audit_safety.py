"""Audit under cron: the lock, and runs killed at random points leave everything intact."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.audit import folders
from privdiag.audit.history import open_history
from privdiag.audit.lock import hold
from privdiag.cli import app
from privdiag.errors import LockError
from tests.audit_data import NIGHT_1, NIGHT_2, setup

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


def test_a_second_holder_fails_at_once(tmp_path):
    history = tmp_path / "h.duckdb"
    with hold(history):
        started = time.monotonic()
        with pytest.raises(LockError) as err:
            with hold(history):
                pass
        assert time.monotonic() - started < 1
        assert str(os.getpid()) in str(err.value) and "h.duckdb" in str(err.value)
    with hold(history):  # released, whatever happened
        pass


def test_cli_exits_4_with_a_clear_message_when_the_lock_is_held(tmp_path):
    config = setup(tmp_path, NIGHT_1)
    with hold(tmp_path / "privdiag-history.duckdb"):
        result = runner.invoke(app, ["audit", "--config", str(config)])
    assert result.exit_code == 4
    assert result.output.startswith("Error: another audit is running")
    assert not (tmp_path / "privdiag-reports").exists() or not any(
        (tmp_path / "privdiag-reports").iterdir()
    )


def test_lock_file_stays_after_a_run_and_the_readme_says_why(tmp_path):
    """Deleting an flock'ed file races (two runs could lock two files of one name), so the
    file stays; the README says so where it describes audit."""
    config = setup(tmp_path, NIGHT_1)
    result = runner.invoke(app, ["audit", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert (tmp_path / "privdiag-history.duckdb.lock").is_file()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    audit_section = " ".join(readme[readme.index("### audit") : readme.index("### init")].split())
    assert "`privdiag-history.duckdb.lock`" in audit_section
    assert "stays after the run" in audit_section and "on purpose" in audit_section


def test_lock_held_by_another_process(tmp_path):
    history = tmp_path / "h.duckdb"
    code = (
        "import sys, time; from pathlib import Path; from privdiag.audit.lock import hold\n"
        f"with hold(Path({str(history)!r})):\n    print('held', flush=True); time.sleep(30)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=REPO)
    try:
        assert holder.stdout and holder.stdout.readline().strip() == b"held"
        with pytest.raises(LockError, match=str(holder.pid)):
            with hold(history):
                pass
    finally:
        holder.kill()
        holder.wait()
    with hold(history):  # the kernel released it with the process
        pass


def _audit_cmd(config: Path) -> list[str]:
    return [sys.executable, "-m", "privdiag", "audit", "--config", str(config), "--keep", "4"]


def _state(folder: Path) -> dict[str, int]:
    """Return run id -> number of findings; assert every visible report folder is whole."""
    with open_history(folder / "privdiag-history.duckdb", read_only=True) as history:
        runs = {r.run_id: len(history.findings(r.run_id)) for r in history.runs()}
        for r in history.runs():
            assert r.summary["findings"] == runs[r.run_id]
    for report in folders.visible(folder / "privdiag-reports"):
        doc = json.loads((report / "audit.json").read_text())
        assert doc["audit"]["run_id"] in runs, f"{report} belongs to no recorded run"
        assert len(doc["findings"]) == runs[doc["audit"]["run_id"]]
    return runs


def _kill_at_random(folder: Path, rng: random.Random, duration: float, kills: int) -> None:
    config = folder / "privdiag.toml"
    for i in range(kills):
        before = _state(folder)
        setup(folder, NIGHT_2 if i % 2 else NIGHT_1)
        proc = subprocess.Popen(
            _audit_cmd(config), cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, 1.05) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = _state(folder)
        # earlier runs are intact; the killed run is either wholly recorded or absent
        assert {k: v for k, v in after.items() if k in before} == before
        assert len(after) - len(before) in (0, 1)


def _timed_run(folder: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(_audit_cmd(folder / "privdiag.toml"), cwd=REPO, capture_output=True)
    assert done.returncode in (0, 1), done.stderr
    return time.monotonic() - started


@pytest.mark.parametrize("seed", [7])
def test_runs_killed_at_random_points_leave_history_and_reports_intact(tmp_path, seed):
    setup(tmp_path, NIGHT_1)
    duration = _timed_run(tmp_path)
    _kill_at_random(tmp_path, random.Random(seed), duration, kills=4)

    # the next run recovers: it succeeds, and nothing hidden is left behind
    _timed_run(tmp_path)
    runs = _state(tmp_path)
    assert len(runs) >= 2
    hidden = [p.name for p in (tmp_path / "privdiag-reports").iterdir() if p.name.startswith(".")]
    assert hidden == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_many_random_kills(tmp_path, seed):
    setup(tmp_path, NIGHT_1)
    duration = _timed_run(tmp_path)
    _kill_at_random(tmp_path, random.Random(seed), duration, kills=12)
    _timed_run(tmp_path)
    _state(tmp_path)


def test_a_folder_left_between_record_and_rename_is_published(tmp_path):
    config = setup(tmp_path, NIGHT_1)
    runner.invoke(app, ["audit", "--config", str(config)])
    reports = tmp_path / "privdiag-reports"
    (done,) = folders.visible(reports)
    os.replace(done, reports / f"{folders.PARTIAL}{done.name}")  # as if killed before rename
    orphan = reports / f"{folders.PARTIAL}2026-01-01T000000Z-deadbeef"
    orphan.mkdir()
    (orphan / "audit.json").write_text("{")  # a run killed while writing, never recorded

    runner.invoke(app, ["audit", "--config", str(config)])
    names = sorted(p.name for p in reports.iterdir())
    assert done.name in names and len(names) == 2
    assert not orphan.exists()


def test_a_failure_while_recording_leaves_no_report_folder(tmp_path, monkeypatch):
    from privdiag.audit.history import History

    config = setup(tmp_path, NIGHT_1)
    runner.invoke(app, ["audit", "--config", str(config)])

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(History, "record", boom)
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(crashes))  # the crash log goes here
    result = runner.invoke(app, ["audit", "--config", str(config)])
    assert result.exit_code == 5 and "Traceback" not in result.output
    logs = list(crashes.glob("privdiag-error-*.log"))
    assert len(logs) == 1 and logs[0].stat().st_mode & 0o777 == 0o600
    assert str(logs[0]) in result.output
    assert len(list((tmp_path / "privdiag-reports").iterdir())) == 1
    assert len(_state(tmp_path)) == 1


@pytest.mark.parametrize("target", ["precious.txt", "missing.txt"])
def test_a_log_that_is_a_symbolic_link_is_refused_and_its_target_left_as_it_was(tmp_path, target):
    """``--log`` appended through a symbolic link at FILE: a link planted in a shared log
    folder had a cron job append its lines to the file it leads to (or make one there). Such
    a log is a usage error, before the audit runs, as the lock file's link already was."""
    config = setup(tmp_path, NIGHT_1)
    precious = tmp_path / "precious.txt"
    precious.write_text("precious\n")
    log = tmp_path / "logs" / "audit.log"
    log.parent.mkdir()
    log.symlink_to(tmp_path / target)
    result = runner.invoke(app, ["audit", "--config", str(config), "--log", str(log)])
    assert result.exit_code == 2, result.output
    assert f"the log {log} is a symbolic link" in result.output.replace("\n", " ")
    assert precious.read_text() == "precious\n"
    assert not (tmp_path / "missing.txt").exists()
    assert not (tmp_path / "privdiag-reports").exists()  # stopped before anything ran


def test_a_log_linked_to_a_stream_is_written(tmp_path):
    """``--log /dev/stderr`` is a link (to ``/proc/self/fd/2``) and was refused with the links
    to files; a link whose target is no file (a pipe here, a terminal, a device) is written:
    appending to a file a planted link names is what the log refuses."""
    import os
    import threading

    config = setup(tmp_path, NIGHT_1)
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    log = tmp_path / "audit.log"
    log.symlink_to(fifo)
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append(fifo.read_bytes()))
    reader.start()
    result = runner.invoke(app, ["audit", "--config", str(config), "--log", str(log)])
    reader.join(60)
    assert result.exit_code == 1, result.output  # the night's findings
    assert b"audit " in read[0] and b"started" in read[0]


def test_a_log_to_dev_stderr_is_written_wherever_stderr_goes(tmp_path):
    """``/dev/stderr`` leads to the run's own descriptor 2, a file where cron redirects it
    (pytest's capture here): the user's own stream, not a link planted in a shared folder."""
    config = setup(tmp_path, NIGHT_1)
    result = runner.invoke(app, ["audit", "--config", str(config), "--log", "/dev/stderr"])
    assert result.exit_code == 1, result.output
