"""Findings stay identical after the scan's queries were restructured for speed.

``data/bench_golden_findings.json`` was written by the scan before the restructuring (one
query with a ``count(DISTINCT)`` per condition, timestamps always parsed from text) on a
generated shop scenario (GA4 + app events as Parquet) and on small bench dumps in Parquet
and CSV. Any change to ingest, state or compliance must keep these findings. The file holds
the compliance findings (``consent.*``); it was rewritten once, on purpose, when a
violation's share stopped counting withdrawn events in its denominator (only ``share`` and
``denied_events`` of ``consent.violation`` changed then), and again when a finding of fewer
than ``min_group_size`` users stopped showing those users' events, shares and lead times.
It was rewritten again (only ``share`` of ``consent.pre_consent``) when that share's base
became the events before a later decision, without those of users who never decide.
The bench dumps' part was written again when the dumps got sessions (layout 2), by the code
of commit 966b667, the last before consent state was resolved by spans, so that it still
holds the findings of the code before that restructuring. The scenario's part was written
again (its inputs, not the scan, had changed: the same 15 findings, other counts) when the
generator's shoppers began to arrive before the window too. All three parts were written
again (only ``consent.conflict``: high, with ``events_flag_granted``, ``users_flag_granted``
and ``features_flag_granted``) when a conflict whose events' flags grant what the log denied
became high and counted those events apart (trial 20).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privdiag.bench.data import write_dump
from privdiag.config import load_config
from privdiag.generate import generate_scenario
from privdiag.scan import run_scan

GOLDEN = Path(__file__).parent / "data" / "bench_golden_findings.json"


def _findings(paths: list[str], consent: list[str], config: Path) -> list:
    doc = run_scan(paths, consent=consent, config=load_config(config)).to_dict()
    rows = [
        [f["id"], f["kind"], f["severity"], f["location"], f["metrics"], f.get("evidence")]
        for f in doc["findings"]
        if f["kind"].startswith("consent.")
    ]
    return json.loads(json.dumps(sorted(rows, key=lambda r: r[0]), default=str))


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_scenario_findings_unchanged(tmp_path: Path, golden: dict) -> None:
    generate_scenario(tmp_path, seed=7, users=300, ga4_format="parquet", generic_format="parquet")
    got = _findings(
        [str(tmp_path / "web.parquet"), str(tmp_path / "app.parquet")],
        [],
        tmp_path / "privdiag.toml",
    )
    assert len(got) == 15
    assert got == golden["scenario"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_bench_dump_findings_unchanged(tmp_path: Path, golden: dict, fmt: str) -> None:
    dump = write_dump(tmp_path, 20_000, fmt, seed=3)
    got = _findings([str(dump.events_file)], [str(dump.consent_file)], dump.config_file)
    assert len(got) == 62
    assert got == golden[f"dump_{fmt}"]
