"""Links to folders inside a folder input: one to a folder that holds the input folder (``/``,
``..``) or holds the link itself had the scan read every data file below it, the whole file
system for ``root -> /``. Such a link is an input error naming it; a link back into the input
folder is entered once, and one to a folder elsewhere (a month on another disk) is read."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.errors import InputError
from privdiag.ingest.files import expand

runner = CliRunner()


def _events_csv(path: Path) -> Path:
    path.write_text("ts,event_name,user_id\n2026-10-01T01:00:00Z,page_view,u1\n")
    return path


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    _events_csv(folder / "a.csv")
    _events_csv(tmp_path / "other_team.csv")  # beside the input folder, not in it
    return folder


def test_a_link_to_the_root_is_an_input_error_naming_it(exports):
    (exports / "everything").symlink_to("/")
    for argument in (str(exports), f"{exports}/**/*.csv"):
        with pytest.raises(InputError, match="is a link to /, a folder that holds the input"):
            expand(argument)
    result = runner.invoke(app, ["scan", str(exports), "-q"])
    assert result.exit_code == 3, result.output
    assert f"{exports / 'everything'}" in result.output.replace("\n", "")
    assert "Traceback" not in result.output


def test_a_link_to_the_folder_above_is_refused(exports, tmp_path):
    (exports / "sub").mkdir()
    (exports / "sub" / "up").symlink_to("../..")  # exports/sub/up -> tmp_path
    with pytest.raises(InputError, match="holds the input folder") as caught:
        expand(str(exports))
    assert caught.value.path == exports / "sub" / "up"


def test_a_link_in_a_linked_month_to_the_folder_holding_it_is_refused(exports, tmp_path):
    archive = tmp_path / "archive"
    (archive / "2026-10").mkdir(parents=True)
    _events_csv(archive / "2026-10" / "b.csv")
    _events_csv(archive / "2026-09.csv")  # another month, not linked in
    (exports / "2026-10").symlink_to(archive / "2026-10")
    assert expand(str(exports)) == [exports / "2026-10" / "b.csv", exports / "a.csv"]
    (archive / "2026-10" / "all").symlink_to(archive)
    with pytest.raises(InputError, match="a folder that holds the link itself"):
        expand(str(exports))


def test_links_back_into_the_input_folder_are_entered_once(exports):
    (exports / "sub").mkdir()
    _events_csv(exports / "sub" / "b.csv")
    (exports / "sub" / "back").symlink_to("..")
    (exports / "again").symlink_to(exports / "sub")
    # by hand: a.csv, and b.csv once, through sub or again (whichever is listed first)
    assert sorted(p.name for p in expand(str(exports))) == ["a.csv", "b.csv"]
