"""The sixteenth hostile session's findings: crafted scan results read by model-check
(``--scan-result``), results of several scans merged by ``privdiag report``."""

from __future__ import annotations

import json

import pytest

from privdiag.chains import link_scan_result
from privdiag.errors import InputError
from privdiag.model.inputs import consent_from_scan

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # json.loads raised RecursionError: an internal error (exit 5)
        (DEEP, "nests arrays or objects thousands deep"),
        ('{"evidence": {"consent_rates": {"ads": 0.5}, "consent_mix": ' + DEEP + "}}", "deep"),
        # float(10**400) raised OverflowError: an internal error (exit 5)
        ('{"evidence": {"consent_rates": {"ads": 1' + "0" * 400 + "}}}", "consent_rates"),
    ],
)
def test_a_hostile_scan_result_is_an_input_error(tmp_path, text, said):
    path = tmp_path / "scan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        consent_from_scan(path)
    assert said in str(caught.value) and "scan.json" in str(caught.value)
    if "deep" in said:  # the findings are read apart, to link the model's to them
        with pytest.raises(InputError):
            link_scan_result([], path)


def test_a_scan_result_with_a_bom_is_read(tmp_path):
    # an editor on Windows may put one before it, as privdiag report already allowed
    path = tmp_path / "scan.json"
    doc = {"evidence": {"consent_rates": {"ads": 0.25}}, "findings": []}
    path.write_text("\ufeff" + json.dumps(doc), encoding="utf-8")
    assert consent_from_scan(path)[0] == {"ads": 0.25}
    assert link_scan_result([], path) == 0


def _scan_doc(mix: list, k: int) -> dict:
    return {
        "schema_version": 1,
        "tool": "privdiag",
        "version": "0.1",
        "command": "scan",
        "min_group_size": k,
        "findings": [],
        "evidence": {"notes": [f"scan at {k}"], "consent_rates": {"ads": 0.5}, "consent_mix": mix},
    }


HALF = [
    {"granted": ["ads"], "denied": [], "share": 0.5},
    {"granted": [], "denied": ["ads"], "share": 0.5},
]
ALL_GRANTED = [{"granted": ["ads"], "denied": [], "share": 1.0}]
POOLED = [{"granted": None, "denied": None, "share": 1.0}]


def test_merged_scans_keep_each_consent_mix_apart():
    # run together, the two mixes read as one of three entries whose shares sum to 2
    from privdiag.report.group_size import pool_consent_mix
    from privdiag.report.merge import merge

    docs = [_scan_doc(HALF, 1), _scan_doc(ALL_GRANTED, 5), _scan_doc(HALF, 5)]
    merged = merge(docs)
    assert merged["evidence"]["consent_mix"] == [HALF, ALL_GRANTED, HALF]
    assert merged["evidence"]["notes"] == ["scan at 1", "scan at 5", "scan at 5"]  # as before
    # at 5, only the mix of the scan made at 1 is pooled
    pool_consent_mix(merged, docs, 5)
    assert merged["evidence"]["consent_mix"] == [POOLED, ALL_GRANTED, HALF]
    # one document's mix is still the mix itself
    alone = merge(docs[:1])
    pool_consent_mix(alone, docs[:1], 5)
    assert alone["evidence"]["consent_mix"] == POOLED
