"""Hostile inputs aimed at the scan's speed-ups: packed consent state, scratch file, signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import Config
from privdiag.engine import connect
from privdiag.ingest import load
from privdiag.state import active_purposes, resolve

EVENTS = """event_id,ts,event_name,user_id,anonymous_id,session_id,consent_analytics,page
e1,2024-01-02T00:00:00Z,page_view,u1,a1,s1,,home
e2,2024-01-03T00:00:00.123456Z,page_view,u1,a1,s1,,home
e3,2024-01-05T00:00:00Z,page_view,u2,a2,s2,,home
e4,2024-01-01T00:00:00Z,page_view,u3,a3,s3,,home
e6,2024-01-01T00:00:00Z,page_view,,,s5,granted,home
e7,2024-01-01T00:00:00Z,page_view,u5,a5,s6,,home
"""
CONSENT = """user_id,purpose,status,ts,version,source
u1,analytics,granted,2024-01-01T00:00:00.000001Z,v1,cmp
u1,analytics,denied,2024-01-02T00:00:00Z,v1,cmp
u1,analytics,granted,2024-01-03T00:00:00.123456Z,v1,cmp
u2,analytics,denied,2024-01-05T00:00:00Z,v1,cmp
u2,analytics,granted,2024-01-05T00:00:00Z,v1,cmp
u3,analytics,granted,2000-01-01T00:00:00.000001Z,v1,cmp
u5,analytics,granted,2023-12-31T23:59:59.999999Z,v1,cmp
u5,analytics,denied,2024-01-01T00:00:00Z,v1,cmp
u5,analytics,granted,2024-01-01T00:00:00Z,v1,cmp
"""


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_packed_last_decision_keeps_microseconds_and_ties_resolve_to_denied(tmp_path):
    (tmp_path / "e.csv").write_text(EVENTS)
    (tmp_path / "c.csv").write_text(CONSENT)
    con = connect(Config().engine)
    load(con, [str(tmp_path / "e.csv")], [str(tmp_path / "c.csv")], Config())
    resolve(con, active_purposes(con))
    rows = con.execute(
        "SELECT event_id, state_analytics, withdrawn_analytics, last_decision_analytics "
        "FROM scan_events ORDER BY event_id"
    ).fetchall()
    # By hand: a record at the event's instant counts; at one instant the denial wins over
    # a grant, and withdraws only a grant of an earlier instant (u5's, not u2's).
    assert rows == [
        ("e1", "denied", True, _at("2024-01-02T00:00:00")),
        ("e2", "granted", False, _at("2024-01-03T00:00:00.123456")),
        ("e3", "denied", False, _at("2024-01-05T00:00:00")),
        ("e4", "granted", False, _at("2000-01-01T00:00:00.000001")),
        ("e6", "granted", False, None),
        ("e7", "denied", True, _at("2024-01-01T00:00:00")),
    ]


def test_a_query_interrupted_by_a_signal_exits_130_not_as_a_bug(tmp_path, monkeypatch):
    import privdiag.scan

    def interrupted(*_args, **_kwargs):
        raise RuntimeError("Query interrupted")  # what DuckDB raises on Ctrl-C mid-query

    monkeypatch.setattr(privdiag.scan, "run_scan", interrupted)
    (tmp_path / "e.csv").write_text(EVENTS)
    done = CliRunner().invoke(app, ["scan", str(tmp_path / "e.csv")])
    assert done.exit_code == 130
    assert "Internal error" not in done.output


@pytest.mark.parametrize("limit", ["0", "0GB", "5"])
def test_a_zero_or_unitless_memory_limit_is_a_usage_error(tmp_path, limit):
    (tmp_path / "e.csv").write_text(EVENTS)
    args = ["scan", str(tmp_path / "e.csv"), "--memory-limit", limit]
    done = CliRunner().invoke(app, args + ["--temp-dir", str(tmp_path / "t")])
    assert done.exit_code == 2, done.output
    assert "Internal error" not in done.output


def test_running_out_of_memory_is_a_config_error_not_a_bug_nor_a_bad_input(tmp_path):
    (tmp_path / "e.csv").write_text(EVENTS)
    args = ["scan", str(tmp_path / "e.csv"), "--memory-limit", "1KB"]
    done = CliRunner().invoke(app, args + ["--temp-dir", str(tmp_path / "t")])
    assert done.exit_code == 2, done.output
    assert "ran out of memory" in done.output


def _big_events(path: Path, n: int) -> None:
    import duckdb

    duckdb.connect().execute(f"""
        COPY (SELECT 'e' || i AS event_id,
                     TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i % 864000) AS ts,
                     ['page_view', 'add_to_cart', 'purchase'][i % 3 + 1] AS event_name,
                     'u' || (i % 5000) AS user_id, 'a' || (i % 5000) AS anonymous_id,
                     's' || (i % 9000) AS session_id,
                     CASE i % 3 WHEN 0 THEN 'granted' WHEN 1 THEN 'denied' END
                         AS consent_analytics,
                     i % 7 AS f1
              FROM range({n}) t(i))
        TO '{path}' (HEADER)
    """)


@pytest.mark.slow
def test_sigterm_during_a_scan_with_a_memory_limit_removes_the_scratch_folder(tmp_path):
    events, temp = tmp_path / "e.csv", tmp_path / "scratch"
    _big_events(events, 200_000)
    out = tmp_path / "out.json"
    args = ["scan", str(events), "-q", "--memory-limit", "1GB", "--temp-dir", str(temp)]
    scan = subprocess.Popen([sys.executable, "-m", "privdiag", *args, "--json", str(out)])
    deadline = time.monotonic() + 60
    while not list(temp.glob("privdiag-*/scan.duckdb")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    scan.send_signal(signal.SIGTERM)
    assert scan.wait(timeout=60) == 128 + signal.SIGTERM
    assert not temp.exists()  # the run made it: removed with its scratch folder (trial 26)
    assert not out.exists()


def test_findings_never_name_a_user(tmp_path):
    events = EVENTS.replace("u1", "alice@example.com").replace("a1", "10.1.2.3")
    (tmp_path / "e.csv").write_text(events)
    (tmp_path / "c.csv").write_text(CONSENT.replace("u1", "alice@example.com"))
    out = tmp_path / "out.json"
    args = ["scan", str(tmp_path / "e.csv"), "--consent", str(tmp_path / "c.csv")]
    done = CliRunner().invoke(app, args + ["--json", str(out), "-q"])
    assert done.exit_code in (0, 1), done.output
    text = out.read_text()
    assert json.loads(text)["findings"] is not None
    assert "alice" not in text and "10.1.2.3" not in text


def test_an_input_that_vanishes_before_it_is_hashed_is_an_input_error(tmp_path, monkeypatch):
    import privdiag.ingest

    def vanished(path, *_args):
        # the fingerprint runs on a thread after DuckDB read the file: a rotated or moved
        # export is gone by then
        raise FileNotFoundError(2, "No such file or directory", str(path))

    monkeypatch.setattr(privdiag.ingest, "sha256_file", vanished)
    (tmp_path / "e.csv").write_text(EVENTS)
    done = CliRunner().invoke(app, ["scan", str(tmp_path / "e.csv"), "-q"])
    assert done.exit_code == 3, done.output
    assert "e.csv" in done.output and "Internal error" not in done.output


def test_a_temp_dir_under_home_is_expanded_once(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "e.csv").write_text(EVENTS)
    (tmp_path / "home" / "scratch").mkdir(parents=True)  # kept: the run did not make it
    args = ["scan", "e.csv", "-q", "--memory-limit", "500MB", "--temp-dir", "~/scratch"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert (tmp_path / "home" / "scratch").is_dir()
    assert not (tmp_path / "~").exists()


def test_each_scan_removes_its_scratch_folder_when_it_ends_not_at_exit(tmp_path):
    from privdiag.scan import run_scan

    (tmp_path / "e.csv").write_text(EVENTS)
    config = Config()
    config.engine.memory_limit, config.engine.temp_dir = "500MB", str(tmp_path / "t")
    for _ in range(2):  # an audit scans each source in one process
        run_scan([str(tmp_path / "e.csv")], config=config)
        assert not (tmp_path / "t").exists()  # the run made it: removed too (trial 26)


def test_data_under_a_version_key_is_redacted_only_the_tools_version_is_kept():
    from privdiag.result import Result

    result = Result(command="scan")
    # optin_rates by consent-notice version, and an opt-in drop's metrics, hold data
    result.evidence["optin_rates"] = {"version": [{"value": "v1 gina@example.com"}]}
    result.evidence["drop"] = {"version": "notice for 192.0.2.55"}
    doc = result.to_dict()
    text = json.dumps(doc)
    assert "gina@example.com" not in text and "192.0.2.55" not in text
    assert doc["version"] and doc["tool"] == "privdiag"


def test_a_consent_version_with_an_email_stays_out_of_every_output(tmp_path):
    users = [f"u{k}" for k in range(12)]
    events = ["event_id,ts,event_name,user_id,anonymous_id,session_id,gclid"]
    events += [
        f"e{k},2024-01-0{1 + k % 4}T10:00:00Z,page_view,{u},,s{k},x" for k, u in enumerate(users)
    ]
    consent = ["user_id,purpose,status,ts,version,source"]
    consent += [
        f"{u},ads,{'granted' if k % 3 else 'denied'},2024-01-0{1 + k % 4}T09:00:00Z,"
        f"{'v1' if k < 6 else 'v2 gina@example.com'},cmp"
        for k, u in enumerate(users)
    ]
    (tmp_path / "e.csv").write_text("\n".join(events) + "\n")
    (tmp_path / "c.csv").write_text("\n".join(consent) + "\n")
    outs = {ext: tmp_path / f"out.{ext}" for ext in ("json", "html", "md")}
    args = ["scan", str(tmp_path / "e.csv"), "--consent", str(tmp_path / "c.csv"), "-q"]
    args += ["--json", str(outs["json"]), "--html", str(outs["html"])]
    done = CliRunner().invoke(app, args + ["--markdown", str(outs["md"])])
    assert done.exit_code in (0, 1), done.output
    for path in outs.values():
        assert "gina@example.com" not in path.read_text(), path.name


def test_a_temp_dir_too_deep_for_the_scratch_file_is_a_usage_error(tmp_path):
    (tmp_path / "e.csv").write_text(EVENTS)
    deep = tmp_path / "d"
    while len(str(deep)) < 4095 - 18 - 5 - 201:  # the folder fits PATH_MAX, its files do not
        deep /= "d" * 200
    deep /= "e" * (4095 - 18 - 5 - len(str(deep)) - 1)
    args = ["scan", str(tmp_path / "e.csv"), "-q", "--memory-limit", "200MB"]
    done = CliRunner().invoke(app, args + ["--temp-dir", str(deep)])
    assert done.exit_code == 2, done.output
    assert "Internal error" not in done.output


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_full_temp_disk_is_a_config_error_not_a_bug_nor_a_bad_input(
    tmp_path, monkeypatch, wrapped
):
    import privdiag.scan
    from privdiag.errors import InputError

    full = type("IOException", (Exception,), {})(
        'IO Error: Could not write file "/t/privdiag-x/scan.duckdb": No space left on device'
    )

    def no_space(*_args, **_kwargs):
        if not wrapped:  # in the checks
            raise full
        raise InputError("inputs cannot be combined") from full  # in the ingestion

    monkeypatch.setattr(privdiag.scan, "run_scan", no_space)
    (tmp_path / "e.csv").write_text(EVENTS)
    done = CliRunner().invoke(app, ["scan", str(tmp_path / "e.csv")])
    assert done.exit_code == 2, done.output
    assert "disk space" in done.output


@pytest.mark.parametrize(
    "engine",
    ['threads = "many"', "threads = 100000", "threads = true", "memory_limit = 5", "temp_dir = 5"],
)
def test_a_wrong_engine_value_in_the_config_is_a_config_error(tmp_path, engine):
    (tmp_path / "e.csv").write_text(EVENTS)
    (tmp_path / "p.toml").write_text(f"[engine]\n{engine}\n")
    args = ["scan", str(tmp_path / "e.csv"), "-q", "--config", str(tmp_path / "p.toml")]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2, done.output
    assert "engine" in done.output


def test_threads_beyond_what_duckdb_can_start_are_refused(tmp_path):
    (tmp_path / "e.csv").write_text(EVENTS)
    done = CliRunner().invoke(app, ["scan", str(tmp_path / "e.csv"), "--threads", "100000"])
    assert done.exit_code == 2  # it aborted the process (thread-local storage ran out)
