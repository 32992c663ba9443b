"""The pieces the refactor of the CLI, the loader and the output checks shared out."""

from __future__ import annotations

from pathlib import Path

from privdiag.output import file_in_the_way


def test_file_in_the_way_is_the_nearest_file_above_a_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.txt").write_text("x")
    assert file_in_the_way(tmp_path / "a" / "notes.txt" / "b" / "out.json") == (
        tmp_path / "a" / "notes.txt"
    )
    assert file_in_the_way(tmp_path / "a" / "missing" / "out.json") is None
    assert file_in_the_way(tmp_path / "a" / "notes.txt") is None  # the path itself is not above
