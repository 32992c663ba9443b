"""A scenario generated without faults (``generate --no-faults``): nothing planted, and a scan
of it reports none of the faults the faulty scenario of the same seed plants.

What such a scan still reports is what respecting consent does to the data: features that
need a purpose are missing where it is denied (``sparsity.consent_gap``) and Consent Mode's
cookieless pings have no identity (``identity.loss``).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import load_config
from privdiag.generate import generate_scenario
from privdiag.scan import run_scan

# Every kind the faulty scenario plants, but the two that respecting consent gives as well.
PLANTED_ONLY = {
    "consent.violation",
    "consent.pre_consent",
    "consent.after_withdrawal",
    "consent.conflict",
    "consent.missing_record",
    "sparsity.shift",
    "people.optin_drop",
    "people.unowned",
    "people.unclassified_feature",
}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("clean")
    info = generate_scenario(out, seed=7, users=600, faults=False)
    paths = info.paths
    doc = run_scan(
        [str(paths["web"]), str(paths["app"])],
        consent=[],
        config=load_config(paths["config"]),
    ).to_dict()
    return out, doc


def test_clean_scenario_plants_nothing_and_configures_everything(clean) -> None:
    out, _ = clean
    assert json.loads((out / "ground_truth.json").read_text())["faults"] == []
    config = tomllib.loads((out / "privdiag.toml").read_text())
    assert config["sources"]["app"]["owner"] == "mobile-platform"
    assert config["features"]["engagement_time_msec"]["purposes"] == ["analytics"]
    assert config["features"]["search_term"]["purposes"] == ["necessary"]


def test_scan_of_a_clean_scenario_finds_no_planted_fault(clean) -> None:
    _, doc = clean
    kinds = {f["kind"] for f in doc["findings"]}
    assert not kinds & PLANTED_ONLY
    ran = {c["name"] for c in doc["checks"] if c["status"] == "ran"}
    assert ran >= PLANTED_ONLY  # found nothing because nothing is there, not because skipped


def test_scan_of_a_clean_scenario_finds_no_funnel_drop(clean) -> None:
    """When every shopper started on day one, the first days were new shoppers' pings sent
    before the banner answer (denied), and the identity-restored estimate saw a drop at
    view_item (analytics: 71% against 88%), withheld with a note. Shoppers now arrive as real
    traffic does (returning shoppers from the first day on), and the note says the largest-
    looking gap is chance: app, add_to_cart from view_item, ads, 47% against 66%, q 0.13,
    since conversion follows the users of a state at the earlier step (it read page_view,
    analytics, 32% against 51%, q 0.1, counting each step's users by their own states)."""
    _, doc = clean
    assert not [f for f in doc["findings"] if f["kind"] == "funnel.consent_drop"]
    notes = [n for n in doc["evidence"]["notes"] if n.startswith("funnel.consent_drop")]
    assert [n.split(":")[0] for n in notes] == ["funnel.consent_drop found no drop"]
    assert "from view_item to add_to_cart in app (denied 47%, granted 66%), has q 0.13" in notes[0]


def test_faulty_twin_plants_them(tmp_path: Path) -> None:
    info = generate_scenario(tmp_path, seed=7, users=600)
    planted = {f["kind"] for f in info.truth["faults"]}
    assert planted >= PLANTED_ONLY | {"funnel.consent_drop"}


def test_generate_no_faults_on_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "clean"
    got = CliRunner().invoke(
        app, ["generate", "--out", str(out), "--users", "40", "--days", "4", "--no-faults"]
    )
    assert got.exit_code == 0, got.output
    assert json.loads((out / "ground_truth.json").read_text())["faults"] == []


def _shift_titles(out: Path, seed: int) -> list[str]:
    info = generate_scenario(out, seed=seed, users=600, faults=False)
    paths = info.paths
    doc = run_scan(
        [str(paths["web"]), str(paths["app"])], consent=[], config=load_config(paths["config"])
    ).to_dict()
    return [f["title"] for f in doc["findings"] if f["kind"] == "sparsity.shift"]


@pytest.mark.parametrize("seed", [1, 4, 9, 3, 16, 36])
def test_clean_scenarios_of_other_seeds_report_no_shift(tmp_path: Path, seed: int) -> None:
    """With every shopper's first visit in the window, the consent rates rose over the first
    week (new shoppers' pings before the banner answer are denied) and seeds 1, 4 and 9
    reported 4 or 5 sparsity.shift findings each ("The analytics consent rate rose from 43%
    to 60% on 2026-10-08"). Then the test took the scatter of the daily shares, several
    times what their units allow (a visit's cookieless pings each counted as one), for
    changes: seed 3 reported 5 ("The analytics consent rate fell from 60% to 43% on
    2026-10-26"), 16 reported 4 ("The ads consent rate rose from 34% to 47% on 2026-10-05")
    and 36 reported 5 ("The analytics consent rate fell from 60% to 29% on 2026-10-28", its
    last day); a change is now weighed against the days' over-dispersion."""
    assert _shift_titles(tmp_path, seed) == []


@pytest.mark.slow  # 40 scenarios generated and scanned: about two minutes
def test_clean_scenarios_of_seeds_1_to_40_report_a_shift_on_three(tmp_path: Path) -> None:
    """Before the over-dispersion was weighed, 13 of seeds 1-40 reported sparsity.shift
    findings (3, 6, 16, 18, 20, 21, 22, 24, 28, 29, 32, 36, 37). Three still do (Known
    limitations): seed 18's web analytics rate has a dip of four days (43, 40, 33, 34%
    among days near 60%) and seeds 20 and 22 a fall of 14 points, days of returning
    shoppers alike beyond what the days' own scatter allows."""
    found = {seed for seed in range(1, 41) if _shift_titles(tmp_path / str(seed), seed)}
    assert found == {18, 20, 22}
