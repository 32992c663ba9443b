"""Problems the fifth new-user trial found: each test fails without its fix."""

from __future__ import annotations

import pytest

from privdiag.errors import InputError
from privdiag.scan import run_scan
from tests.helpers import write


def _two_files(tmp_path, a: str, b: str):
    """A folder ev/ of a.csv and b.csv holding ``a`` and ``b``."""
    folder = tmp_path / "ev"
    folder.mkdir()
    write(folder / "a.csv", a)
    write(folder / "b.csv", b)
    return folder


def test_a_file_without_a_time_column_is_named_not_its_folder(tmp_path):
    """Of a folder of two files, the one without the time column others have was told as
    "folder/ (2 files), row 1: timestamp is empty": the file is now named."""
    folder = _two_files(
        tmp_path,
        "user_id,event_name,ts\nu1,page_view,2026-10-01T10:00:00Z\n",
        "user_id,event_name,when\nu2,page_view,yesterday\n",
    )
    with pytest.raises(InputError) as caught:
        run_scan([str(folder)])
    assert caught.value.path == str(folder / "b.csv")
    assert "no event time in any row" in caught.value.message


def test_an_unreadable_time_is_told_by_its_file_and_row_in_that_file(tmp_path):
    folder = _two_files(
        tmp_path,
        "user_id,event_name,ts\nu1,page_view,2026-10-01T10:00:00Z\n",
        "user_id,event_name,ts\nu2,page_view,2026-10-01T10:00:00Z\nu2,purchase,soon\n",
    )
    with pytest.raises(InputError) as caught:
        run_scan([str(folder)])
    assert (caught.value.path, caught.value.row, caught.value.field) == (
        str(folder / "b.csv"),
        2,
        "ts",
    )


def test_no_time_column_in_any_file_names_a_file(tmp_path):
    folder = _two_files(
        tmp_path,
        "user_id,event_name,when\nu1,page_view,x\n",
        "user_id,event_name,when\nu2,page_view,y\n",
    )
    with pytest.raises(InputError) as caught:
        run_scan([str(folder)])
    assert str(caught.value).startswith(
        f"{folder / 'a.csv'} (and the other 1 file of {folder}/): no column for the event time"
    )
