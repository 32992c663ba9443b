"""A scan report of a realistic shop stays under 500 KB, however many events it scanned."""

from __future__ import annotations

from privdiag.config import load_config
from privdiag.generate import generate_scenario
from privdiag.report import write_html
from privdiag.scan import run_scan


def test_report_of_a_generated_shop_is_small(tmp_path):
    sizes = []
    for users in (300, 1500):
        folder = tmp_path / str(users)
        info = generate_scenario(folder, seed=7, users=users)
        config = load_config(folder / "privdiag.toml")
        doc = run_scan([str(info.paths["web"]), str(info.paths["app"])], config=config).to_dict()
        out = folder / "report.html"
        write_html([doc], out)
        sizes.append(out.stat().st_size)
    assert max(sizes) < 500_000, sizes
