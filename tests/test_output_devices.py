"""Outputs named by a device, a pipe or a symlink are written through, never replaced.

``write_atomic`` writes a temp file beside the target and renames it over the target: run as
root, ``--json /dev/null`` replaced the machine's /dev/null with a regular file (and
``--html /dev/stdout`` would replace the /dev/stdout symlink); a symlinked report path lost
its link. The fix belongs in privdiag/output.py (being split now): these tests are expected
to fail until it is made.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from privdiag.output import write_atomic

PENDING = pytest.mark.xfail(
    strict=True, reason="output.write_atomic must write through devices, pipes and symlinks"
)


@PENDING
@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_character_device_is_written_through(tmp_path):
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a private /dev/null
    write_atomic(null, lambda fh: fh.write("{}\n"))
    assert stat.S_ISCHR(null.stat().st_mode)  # was a regular file holding "{}"


@PENDING
def test_a_symlinked_output_keeps_its_link(tmp_path):
    real = tmp_path / "shared" / "report.json"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    write_atomic(link, lambda fh: fh.write("new"))
    assert link.is_symlink() and Path(os.readlink(link)) == real
    assert real.read_text(encoding="utf-8") == "new"
