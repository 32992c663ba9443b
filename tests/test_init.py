"""`privdiag init` writes a starter config that loads and keeps unknown features unclassified."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import load_config
from tests.helpers import write


def test_init_writes_a_config_that_scan_accepts(tmp_path):
    events = write(
        tmp_path / "shop.csv",
        """
        ts,event_name,user_id,gclid,coupon
        2026-10-01T10:00:00Z,page_view,u1,G1,
        2026-10-01T10:01:00Z,add_to_cart,u1,,C1
        2026-10-01T10:02:00Z,purchase,u1,,
    """,
    )
    out = tmp_path / "privdiag.toml"
    result = CliRunner().invoke(app, ["init", events, "--output", str(out)])
    assert result.exit_code == 0, result.output
    cfg = load_config(out)
    assert cfg.steps == ["page_view", "add_to_cart", "purchase"]
    assert cfg.features["gclid"].purposes == ["ads"]
    assert cfg.features["coupon"].purposes is None  # left for a person to decide
    assert "shop" in cfg.sources

    again = CliRunner().invoke(app, ["init", events, "--output", str(out)])
    assert again.exit_code == 2 and "--force" in again.output

    scan = CliRunner().invoke(app, ["scan", events, "--config", str(out), "--quiet"])
    assert scan.exit_code == 0, scan.output


def test_init_on_missing_data_writes_nothing(tmp_path):
    out = tmp_path / "privdiag.toml"
    result = CliRunner().invoke(app, ["init", str(Path(tmp_path) / "none.csv"), "-o", str(out)])
    assert result.exit_code == 3
    assert not out.exists()
