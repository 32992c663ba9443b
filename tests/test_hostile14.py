"""The fourteenth hostile session's findings: configs nested past Python's recursion limit,
globs and folders with symlinks, id columns of nested types, e-mail and IP addresses in the
names a finding's id is made of."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _events_csv(path: Path, n: int = 12) -> Path:
    lines = ["event_id,ts,event_name,user_id,gclid"]
    lines += [f"e{i},2026-10-01T01:00:{i:02d}Z,page_view,u{i},g{i}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "toml",
    [
        "x = " + "[" * 3000 + "]" * 3000 + "\n",  # the TOML reader recursed
        "[" + ".".join(f"a{i}" for i in range(3000)) + "]\n",  # privdiag's NUL check did
    ],
    ids=["arrays", "tables"],
)
def test_a_config_nested_thousands_deep_is_a_config_error(tmp_path, toml):
    """A config of arrays or tables nested 3,000 deep was an internal error (exit 5,
    RecursionError) instead of a config error."""
    config = tmp_path / "privdiag.toml"
    config.write_text(toml)
    events = _events_csv(tmp_path / "ev.csv")
    code, output = _run("scan", str(events), "--config", str(config), "-q")
    assert code == 2, output
    assert "more than 32 levels deep" in output
