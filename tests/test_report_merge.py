"""Merging result documents: dedupe, union, ranking, validation."""

from __future__ import annotations

import copy

import pytest
from browser.samples import sample_doc
from browser.small import small_doc

from privdiag.errors import InputError
from privdiag.report.merge import merge, rank_dicts


def test_findings_are_deduped_by_id_and_causes_united():
    """b2 (high) before a1 (medium, "gclid has no owner"): a missing owner named in
    caused_by is no cause and ranks by its own severity (it came first until polish11)."""
    a, b = small_doc(), small_doc()
    b["command"] = "model-check"
    b["findings"][0]["caused_by"] = ["zz"]
    b["findings"][0]["title"] = "newer title"
    b["inputs"][0]["path"] = "other.csv"
    b["checks"] = [{"name": "model", "status": "ran", "reason": ""}]
    out = merge([a, b])
    assert [f["id"] for f in out["findings"]] == ["b2", "a1"]
    b2 = out["findings"][0]
    assert b2["title"] == "newer title" and b2["caused_by"] == ["a1", "zz"]
    assert [i["path"] for i in out["inputs"]] == ["events.csv", "other.csv"]
    assert out["checks"] == [
        {"name": "consent", "status": "ran", "reason": ""},
        {"name": "model", "status": "ran", "reason": ""},
    ]
    assert out["command"] == "report" and out["commands"] == ["scan", "model-check"]
    assert out["summary"] == {
        "findings": 2,
        "by_severity": {"high": 1, "medium": 1},
        "by_kind": {"consent.violation": 1, "people.unowned": 1},
        "by_owner": {"paid-media": 1, "unowned": 1},
    }


def test_same_input_twice_is_listed_once():
    assert len(merge([small_doc(), small_doc()])["inputs"]) == 1


@pytest.mark.parametrize(
    "c3_events, order",
    [
        # a1 (medium) explains b2 (high, 1500 events): its chain is high, and c3's 99999
        # events outweigh it
        (99999, ["c3", "a1", "b2"]),
        # c3's 10 events do not: a1 comes first, its symptom b2 as soon as a1 is placed
        (10, ["a1", "b2", "c3"]),
    ],
)
def test_a_cause_ranks_with_the_worst_symptom_it_explains(c3_events, order):
    doc = small_doc()
    # a cause, not small_doc's missing owner (which is no cause and ranks alone)
    doc["findings"][1]["kind"] = "people.unclassified_feature"
    other = copy.deepcopy(doc["findings"][0])
    other.update(id="c3", severity="high", caused_by=[], metrics={"events": c3_events})
    assert [f["id"] for f in rank_dicts(doc["findings"] + [other])] == order


def test_rank_survives_a_cycle_of_causes():
    doc = small_doc()
    doc["findings"][1]["caused_by"] = ["b2"]
    assert {f["id"] for f in rank_dicts(doc["findings"])} == {"a1", "b2"}


def test_merging_does_not_change_the_inputs():
    doc = sample_doc()
    before = copy.deepcopy(doc)
    merge([doc, doc])
    assert doc == before


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"tool": "other"}, "not a privdiag result"),
        ({"tool": "privdiag", "schema_version": 99}, "schema_version 99"),
        ([], "not a privdiag result"),
    ],
)
def test_foreign_documents_are_refused(bad, words):
    with pytest.raises(InputError, match=words):
        merge([small_doc(), bad])


def test_nothing_to_merge():
    with pytest.raises(InputError, match="no result"):
        merge([])


def test_finding_without_severity_is_refused():
    doc = small_doc()
    doc["findings"][0]["severity"] = "urgent"
    with pytest.raises(InputError, match="finding 1 has severity .urgent., not one of critical"):
        merge([doc])


def _audit_run(run_id: str, started: str, previous: str | None) -> dict:
    """small_doc as an audit run: both findings new on the first run."""
    doc = small_doc()
    doc["command"], doc["started_at"] = "audit", started
    for f in doc["findings"]:
        f["change"] = "new"
    doc["resolved"] = []
    doc["audit"] = {"run_id": run_id, "previous_run": previous, "counts": {"new": 2}}
    return doc


@pytest.mark.parametrize("later_first", [False, True])
def test_two_audit_runs_leave_out_what_the_later_resolved_and_tag_nothing(later_first):
    """Run r1 holds b2 (gclid without consent) and a1; run r2, after the tag was fixed,
    holds a1 only (unchanged) and lists b2 as resolved. Merged, b2 read "(new)" as a
    present leak, and in the order r2, r1 every finding read new: the earlier run's
    version replaced the later's whatever its time."""
    first = _audit_run("r1", "2024-03-20T10:00:00+00:00", None)
    second = _audit_run("r2", "2024-03-21T10:00:00+00:00", "r1")
    gone = second["findings"].pop(0)
    second["findings"][0]["change"] = "unchanged"
    second["findings"][0]["title"] = "gclid has no owner (second run)"
    second["resolved"] = [{**gone, "change": "resolved"}]
    second["audit"]["counts"] = {"unchanged": 1, "resolved": 1}
    out = merge([second, first] if later_first else [first, second])
    assert [f["id"] for f in out["findings"]] == ["a1"]
    assert out["findings"][0]["title"] == "gclid has no owner (second run)"
    assert "change" not in out["findings"][0]
    assert "audit" not in out and "resolved" not in out
    assert out["evidence"]["notes"] == [
        "2 audit runs reported together (r1, r2): no finding is tagged new, worse or better "
        "(each run compared with its own previous run); 1 finding(s) a later run resolved "
        "are left out (id b2)"
    ]


def test_a_finding_found_again_after_it_was_resolved_stays():
    """r2 resolved b2, r3 found it again: the latest run naming it holds it."""
    runs = [_audit_run(f"r{n}", f"2024-03-2{n}T10:00:00+00:00", None) for n in (1, 2, 3)]
    runs[1]["resolved"] = [{**runs[1]["findings"].pop(0), "change": "resolved"}]
    out = merge(runs)
    assert sorted(f["id"] for f in out["findings"]) == ["a1", "b2"]
    assert out["evidence"]["notes"][-1].endswith("(each run compared with its own previous run)")


def test_a_note_two_results_share_is_listed_once():
    a, b = small_doc(), small_doc()
    a["evidence"]["notes"] = ["3 duplicate events dropped", "only in a"]
    b["evidence"]["notes"] = ["3 duplicate events dropped"]
    assert merge([a, b])["evidence"]["notes"] == ["3 duplicate events dropped", "only in a"]
