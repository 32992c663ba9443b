"""The scheduling snippets of docs/AUDIT.md run: each command line is parsed out of the doc
and run with this test's folders in place of /srv/privdiag."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audit_data import NIGHT_1, setup

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "AUDIT.md").read_text(encoding="utf-8")
SERVER = "/srv/privdiag"


def block(lang: str, containing: str) -> str:
    blocks = re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)
    (hit,) = [b for b in blocks if containing in b]
    return hit


def install(folder: Path) -> dict[str, str]:
    """Lay out /srv/privdiag in ``folder``: config, data, log folder, .venv/bin/privdiag."""
    setup(folder, NIGHT_1)
    (folder / "log").mkdir()
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "privdiag"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m privdiag "$@"\n')
    script.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    env["PYTHONPATH"] = str(REPO)
    return env


def check_run(folder: Path, done: subprocess.CompletedProcess, history: Path) -> None:
    assert done.returncode == 1, done.stderr  # night 1 has high findings
    assert "Traceback" not in done.stderr
    assert history.exists()
    (report,) = [p for p in (folder / "privdiag-reports").iterdir()]
    assert json.loads((report / "audit.json").read_text())["command"] == "audit"


def test_crontab_line(tmp_path):
    env = install(tmp_path)
    line = block("crontab", "privdiag audit").strip()
    command = line.split(maxsplit=5)[5].replace(SERVER, str(tmp_path))
    done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True)
    check_run(tmp_path, done, tmp_path / "privdiag-history.duckdb")
    assert "audit" in (tmp_path / "log" / "audit.log").read_text()
    assert done.stdout.startswith("audit ")  # cron mails this one line


def test_systemd_service(tmp_path):
    env = install(tmp_path)
    unit = block("ini", "ExecStart=").replace(SERVER, str(tmp_path))
    fields = dict(re.findall(r"^(\w+)=(.*)$", unit, flags=re.M))
    done = subprocess.run(
        shlex.split(fields["ExecStart"]),
        cwd=fields["WorkingDirectory"],
        env=env,
        capture_output=True,
        text=True,
    )
    check_run(tmp_path, done, tmp_path / "privdiag-history.duckdb")
    timer = block("ini", "OnCalendar=")
    assert "Persistent=true" in timer


def test_github_actions_step(tmp_path):
    env = install(tmp_path)
    steps = re.findall(r"^\s+- run: (.*privdiag audit.*)$", block("yaml", "jobs:"), flags=re.M)
    (command,) = steps
    if importlib.util.find_spec("privdiag.report") is None:
        command = re.sub(r"--junit \S+", "", command)  # the JUnit writer is not in this build
    done = subprocess.run(
        ["sh", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    check_run(tmp_path, done, tmp_path / "audit" / "history.duckdb")
    if "--junit" in command:
        assert (tmp_path / "audit" / "junit.xml").exists()


def test_doc_lists_every_audit_option():
    from typer.testing import CliRunner

    from privdiag.cli import app

    help_text = CliRunner().invoke(app, ["audit", "--help"]).output
    for option in ("--history", "--baseline", "--fail-when", "--keep", "--log", "--list", "--show"):
        assert option in help_text
        assert option in DOC


@pytest.mark.parametrize("code", ["0", "1", "2", "3", "4", "5"])
def test_doc_has_the_exit_code_table(code):
    assert re.search(rf"^\| {code} \|", DOC, flags=re.M)
