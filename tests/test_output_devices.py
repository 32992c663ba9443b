"""Outputs named by a device, a pipe or a symlink are written through, never replaced.

``write_atomic`` writes a temp file beside the target and renames it over the target: run as
root, ``--json /dev/null`` replaced the machine's /dev/null with a regular file (and
``--html /dev/stdout`` would replace the /dev/stdout symlink); a symlinked report path lost
its link.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from privdiag.output import write_atomic


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_character_device_is_written_through(tmp_path):
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a private /dev/null
    write_atomic(null, lambda fh: fh.write("{}\n"))
    assert stat.S_ISCHR(null.stat().st_mode)  # was a regular file holding "{}"


def test_a_symlinked_output_keeps_its_link(tmp_path):
    real = tmp_path / "shared" / "report.json"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    write_atomic(link, lambda fh: fh.write("new"))
    assert link.is_symlink() and Path(os.readlink(link)) == real
    assert real.read_text(encoding="utf-8") == "new"


def test_a_device_passes_the_check_before_a_run_where_its_folder_is_not_writable(
    tmp_path, monkeypatch
):
    """As /dev is to a normal user: the folder is not writable, the device is."""
    from privdiag import output

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    monkeypatch.setattr(output.os, "access", lambda p, mode: Path(p) == pipe)
    output.check_writable(pipe, "--json")  # no error: the pipe is written through
    with pytest.raises(output.UsageError, match="folder .* is not writable"):
        output.check_writable(tmp_path / "report.json", "--json")
