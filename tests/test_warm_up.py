"""The scipy import a scan starts in the background has finished when the scan returns."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import write

SCRIPT = """
import sys, threading
from privdiag.errors import InputError
from privdiag.scan import run_scan
try:
    run_scan([sys.argv[1]])
except InputError:
    pass
alive = [t.name for t in threading.enumerate() if t.name == "privdiag-import-scipy"]
print("alive" if alive else "done", "scipy.stats" in sys.modules)
"""


def _run(path: str) -> str:
    out = subprocess.run([sys.executable, "-c", SCRIPT, path], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_no_import_left_running_after_a_scan(tmp_path):
    events = write(
        tmp_path / "e.csv",
        "event_id,ts,event_name,user_id\ne1,2026-10-01T10:00:00Z,page_view,u1\n",
    )
    assert _run(events) == "done True"


def test_no_import_left_running_after_an_input_error(tmp_path):
    bad = write(tmp_path / "e.csv", "event_id,ts,event_name\ne1,not a time,page_view\n")
    assert _run(bad) == "done True"
