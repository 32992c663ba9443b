"""The README stays true: every command's usage line and an example of it are in it."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from privdiag.cli import app
from tests.conftest import REPO


def test_readme_shows_usage_and_example_of_every_command():
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        help_text = CliRunner().invoke(app, [name, "--help"], terminal_width=200).output
        usage = next(line for line in help_text.splitlines() if line.startswith("Usage:"))
        assert usage.strip() in readme, usage
        assert re.search(rf"^privdiag {re.escape(name)} ", readme, re.M), name


def test_readme_lists_every_exit_code():
    readme = (REPO / "README.md").read_text()
    for code in range(6):
        assert f"| {code} |" in readme


def test_readme_gives_the_tcf_purpose_mapping_privdiag_uses():
    """The README sent a reader of TC strings to privdiag/purposes.py to learn which TCF
    purposes grant analytics or ads (trial 22: a string without purpose 1 grants analytics)."""
    from privdiag.purposes import TCF_PURPOSES

    readme = (REPO / "README.md").read_text()
    table = dict(re.findall(r"^\| (\w+) \| ([\d, ]+) \|", readme, re.M))
    for purpose in set(TCF_PURPOSES.values()):
        assert purpose in table, purpose
        listed = {int(n) for n in table[purpose].split(",")}
        assert listed == {n for n, p in TCF_PURPOSES.items() if p == purpose}, purpose


def test_readme_names_the_severities_and_that_none_is_critical_yet(tmp_path):
    """`--fail-on critical` exited 0 on a scan of 19 high findings: no check gives `critical`,
    which the README did not say (nor which words --fail-on takes). Checked on the generated
    shop with its planted faults."""
    from privdiag.findings import SEVERITIES
    from tests.helpers import scan_generated

    readme = " ".join((REPO / "README.md").read_text().split())
    words = ", ".join(f"`{s}`" for s in SEVERITIES[:-1]) + f" or `{SEVERITIES[-1]}`"
    assert f"A SEVERITY is {words}" in readme
    assert "no check gives a finding `critical` yet" in readme
    severities = {f["severity"] for f in scan_generated(tmp_path, seed=7, users=200)["findings"]}
    assert "high" in severities and "critical" not in severities
