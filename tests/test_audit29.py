"""Audit fixes of helper audit29.

A finding of fewer than ``min_group_size`` users (``hidden``) is matched with the compared run
by its id and severity, which each run's reports publish, never by its figures: one that stood
last night no longer fails ``--fail-when regressed`` every night (trial 20's (1), trial 25's
(4)), while one the compared run lacked still fails, and a hidden count that moved tells
nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from privdiag.audit.diff import chosen, diff, failing
from privdiag.cli import app
from tests.audit_data import NIGHT_1, NIGHT_2, setup


def _audit(config: Path, *args: str) -> tuple[int, str, dict]:
    out = config.parent / "out.json"
    run = CliRunner().invoke(
        app, ["audit", "--config", str(config), "--json", str(out), "--quiet", *args]
    )
    assert run.exit_code in (0, 1), run.output
    return run.exit_code, run.stderr + run.stdout, json.loads(out.read_text())


def _night(folder: Path, night: list, k: int, consent: str | None = None) -> Path:
    config = setup(folder, night)
    config.write_text(re.sub(r"min_group_size = \d+", f"min_group_size = {k}", config.read_text()))
    if consent is not None:
        (folder / "data" / "cmp.csv").write_text(consent, encoding="utf-8")
    return config


def _at(doc: dict, step: str) -> dict:
    [finding] = [
        f
        for f in doc["findings"]
        if f["kind"] == "consent.violation" and f["location"].get("step") == step
    ]
    return finding


def test_a_night_with_nothing_changed_passes_though_a_high_finding_is_hidden(tmp_path):
    """u1's leaks (1 user each, high) are hidden at k = 2. The first night fails on them (no
    compared run); the same data the next night passes: they stood last night."""
    config = _night(tmp_path, NIGHT_1, k=2)
    code, _, first = _audit(config)
    assert code == 1 and _at(first, "purchase")["counted_as"] == "new"
    code, _, second = _audit(config)
    leak = _at(second, "purchase")
    assert (leak["change"], leak["counted_as"], leak["severity"]) == ("hidden", "unchanged", "high")
    assert "change_reason" not in leak
    assert code == 0 and failing(second, "high") == []
    assert second["audit"]["exit_code"] == 0


def test_a_new_hidden_high_finding_still_fails_the_night(tmp_path):
    """Night 2 brings u1's view_item leak (1 user, hidden at k = 2), which night 1 lacked: it
    fails the run, counted as new; the page_view and purchase leaks, hidden both nights (the
    purchase's events 10 then 4), stood and do not."""
    config = _night(tmp_path, NIGHT_1, k=2)
    _audit(config)
    _night(tmp_path, NIGHT_2, k=2)
    code, _, doc = _audit(config)
    assert code == 1
    assert [f["location"]["step"] for f in failing(doc, "high")] == ["view_item"]
    assert _at(doc, "view_item")["counted_as"] == "new"
    assert {_at(doc, s)["counted_as"] for s in ("page_view", "purchase")} == {"unchanged"}
    assert all(f["change"] == "hidden" for f in failing(doc, "high"))
    # the run's line says which, and how it is counted
    run = CliRunner().invoke(app, ["audit", "--config", str(config)])
    assert "exit 1" not in run.output  # night 2's data again: nothing new


def test_a_hidden_count_that_moved_tells_nothing(tmp_path):
    """k = 3: u1's purchase leak (1 user, 10 events), then u1 and u3's (2 users, 11 events):
    hidden both nights, so the second night reads as a night with nothing changed (exit 0,
    unchanged, no reason), as a night whose leak kept its one user and ten events does."""
    consent = "user_id,purpose,status,ts,version\n" + "".join(
        f"{u},ads,denied,2026-10-01T09:00:00Z,v1\n" for u in ("u1", "u3")
    )
    night = [("purchase", "u1", "gclid", 10), ("page_view", "u2", None, 1)]
    outcomes = []
    for second in (night, [*night, ("purchase", "u3", "gclid", 1)]):
        folder = tmp_path / f"n{len(outcomes)}"
        folder.mkdir()
        config = _night(folder, night, k=3, consent=consent)
        _audit(config)
        _night(folder, second, k=3, consent=consent)
        code, _, doc = _audit(config)
        leak = _at(doc, "purchase")
        outcomes.append((code, leak["change"], leak["counted_as"], leak.get("change_reason")))
    assert outcomes == [(0, "hidden", "unchanged", None)] * 2


def _finding(fid: str, severity: str, users: int) -> dict:
    return {
        "id": fid,
        "kind": "consent.violation",
        "severity": severity,
        "location": {"source": "shop"},
        "metrics": {"users": users, "events": 40},
    }


def test_a_hidden_finding_is_compared_by_its_id_and_severity_alone():
    """k = 5. Hidden now: a (gone before: new), b (medium before: worse, as both runs' reports
    show its severity), c (high and visible before, 9 users: unchanged, its users not told),
    d (high before, low now: better). Only a and b fail --fail-when regressed, only a
    --fail-when new; --fail-when all counts every one."""
    before = [_finding("b", "medium", 2), _finding("c", "high", 9), _finding("d", "high", 1)]
    now = [
        _finding("a", "high", 1),
        _finding("b", "high", 2),
        _finding("c", "high", 3),
        _finding("d", "low", 1),
    ]
    result = diff(now, before, k=5)
    assert result.changes == dict.fromkeys("abcd", "hidden")
    assert result.counted == {"a": "new", "b": "worse", "c": "unchanged", "d": "better"}
    assert result.why == {"b": "severity medium to high", "d": "severity high to low"}
    for f in now:
        f["change"], f["counted_as"] = "hidden", result.counted[f["id"]]
    assert [f["id"] for f in chosen(now, "regressed")] == ["a", "b"]
    assert [f["id"] for f in chosen(now, "new")] == ["a"]
    assert [f["id"] for f in chosen(now, "all")] == ["a", "b", "c", "d"]


def test_a_hidden_finding_of_an_earlier_privdiags_json_counts_as_new():
    """An audit.json written before ``counted_as`` (a report of it, its JUnit) counts a hidden
    finding as new, as the run that wrote it did."""
    old = {**_finding("a", "high", 1), "change": "hidden"}
    doc = {"findings": [old], "audit": {"fail_when": "regressed"}}
    assert failing(doc, "high") == [old]


def test_the_generated_shops_second_night_of_the_same_data_passes(tmp_path):
    """The generated shop (seed 11) holds high findings of fewer than min_group_size users;
    its nightly audit exited 1 on them every night when nothing changed (trial 20, trial 25)."""
    shop = tmp_path / "shop"
    made = CliRunner().invoke(
        app, ["generate", "--out", str(shop), "--seed", "11", "--users", "150", "--days", "10"]
    )
    assert made.exit_code == 0, made.output
    config = shop / "privdiag.toml"
    code, _, first = _audit(config)
    hidden = [f for f in first["findings"] if f["change"] == "hidden"]
    assert code == 1 and any(f["severity"] == "high" for f in hidden)
    code, _, second = _audit(config)
    assert (code, failing(second, "high")) == (0, [])
    assert {f["counted_as"] for f in second["findings"] if f["change"] == "hidden"} == {"unchanged"}


def test_a_hidden_gap_that_first_shows_as_its_violation_is_mended_counts_unchanged():
    """k = 5: the violation (9 users) resolved, its gap (2 users, hidden) first shows: the
    leak mended, it counts as unchanged, not new, as a shown gap does."""
    where = {"source": "shop", "step": "purchase", "feature": "gclid", "purpose": "ads"}
    violation = {**_finding("v", "high", 9), "location": where}
    gap = {**_finding("g", "high", 2), "kind": "sparsity.consent_gap", "location": where}
    result = diff([gap], [violation], k=5)
    assert (result.changes, result.counted) == ({"g": "hidden"}, {"g": "unchanged"})
    assert [f["id"] for f in result.resolved] == ["v"]


def _consent(*cohorts: tuple[str, str, int, int, int]) -> str:
    """A consent log: per cohort (version, day, first person, persons, granted) each person's
    one analytics decision, the first ``granted`` of them granted."""
    rows = ["user_id,purpose,status,ts,version"]
    for version, day, first, persons, granted in cohorts:
        for n in range(persons):
            status = "granted" if n < granted else "denied"
            rows.append(f"p{first + n:03d},analytics,{status},2026-10-{day}T09:00:00Z,{version}")
    return "\n".join(rows) + "\n"


V1 = ("v1", "01", 0, 40, 32)  # 80% opt in
V2 = ("v2", "05", 40, 40, 8)  # 20%: a drop with v2


def _drops(doc: dict) -> list[str]:
    return [f["location"]["scenario"] for f in doc["findings"] if f["kind"] == "people.optin_drop"]


def test_an_optin_drop_a_later_banner_took_over_is_superseded_not_resolved(tmp_path):
    """Night 1: v1 then v2, a high drop. Night 2: v3 follows v2 and takes 30 of v2's 40 first
    decisions, so v2 (10 persons) is too small to test: the drop is gone, nothing mended.
    It is listed ``superseded`` with why, not counted resolved, in the JSON, the one line,
    the Markdown and --show."""
    config = _night(tmp_path, NIGHT_1, k=5, consent=_consent(V1, V2))
    _, _, first = _audit(config)
    assert _drops(first) == ["notice v2"]
    _night(
        tmp_path,
        NIGHT_1,
        k=5,
        consent=_consent(V1, ("v2", "05", 40, 10, 2), ("v3", "08", 50, 30, 6)),
    )
    run = CliRunner().invoke(
        app, ["audit", "--config", str(config), "--json", str(tmp_path / "2.json")]
    )
    doc = json.loads((tmp_path / "2.json").read_text())
    assert _drops(doc) == []
    [gone] = [r for r in doc["resolved"] if r["kind"] == "people.optin_drop"]
    assert gone["change"] == "superseded"
    assert gone["change_reason"] == (
        "notice version v3 followed v2 and took v2's first decisions from then on: the drop "
        "from v1 to v2 is no longer measured, not mended"
    )
    counts = doc["audit"]["counts"]
    assert counts["superseded"] == 1
    assert counts["resolved"] == len(doc["resolved"]) - 1
    assert f", {counts['hidden']} hidden, 1 superseded (not mended)" in run.output
    summary = (Path(doc["audit"]["report_dir"]) / "summary.md").read_text()
    assert "1 superseded (gone since, not mended" in summary
    assert "\nSuperseded:\n" in summary and "Resolved:" not in summary
    assert (
        "superseded, not mended: analytics opt-in at persons' first decision fell from 80% to 20%"
        in summary
    )
    shown = CliRunner().invoke(app, ["audit", "--config", str(config), "--show", "last"]).output
    [line] = [li for li in shown.splitlines() if "people.optin_drop" in li]
    assert line.split()[:2] == ["high", "superseded"] and "(notice version v3 followed" in line


def test_an_optin_drop_that_recovered_is_resolved(tmp_path):
    """Night 2 without a later banner, v2's persons opting in as v1's did: resolved."""
    config = _night(tmp_path, NIGHT_1, k=5, consent=_consent(V1, V2))
    _audit(config)
    _night(tmp_path, NIGHT_1, k=5, consent=_consent(V1, ("v2", "05", 40, 40, 31)))
    _, _, doc = _audit(config)
    [gone] = [r for r in doc["resolved"] if r["kind"] == "people.optin_drop"]
    assert gone["change"] == "resolved" and doc["audit"]["counts"]["superseded"] == 0


def test_a_gone_drop_is_superseded_by_a_later_drop_of_its_purpose_read_back():
    """Read back from the history (no opt-in rates): a drop of the same purpose from a later
    day supersedes the gone one; of another purpose, or a date split, it does not."""

    def drop(fid, purpose, before, after, day, change="version"):
        metrics = {"users": 40, "drop": 0.3, "change": change, "change_day": day}
        metrics |= {"version_before": before, "version": after} if change == "version" else {}
        return {
            "id": fid,
            "kind": "people.optin_drop",
            "severity": "high",
            "location": {"purpose": purpose},
            "metrics": metrics,
        }

    before = [
        drop("a", "analytics", "v1", "v2", "2026-10-05"),
        drop("b", "ads", "v1", "v2", "2026-10-05"),
        drop("c", "ads", "", "", "2026-10-03", change="date"),
    ]
    now = [drop("d", "analytics", "v2", "v3", "2026-10-08")]
    gone = {f["id"]: f["change"] for f in diff(now, before, k=5).resolved}
    assert gone == {"a": "superseded", "b": "resolved", "c": "resolved"}
    assert diff(now, before, k=5).counts()["resolved"] == 2


def _history(config: Path) -> Path:
    return config.parent / "privdiag-history.duckdb"


def test_a_run_dated_after_a_later_run_is_named_and_runs_keep_their_recorded_order(tmp_path):
    """Hostile 28's (2): a history's first run dated 2030 (a clock set ahead). The next run
    is still compared with the run recorded last, the trend chart keeps the recorded order,
    its point marked, and a note names the run, its date, and what to do."""
    import duckdb

    config = _night(tmp_path, NIGHT_1, k=1)
    _, _, first = _audit(config)
    _, _, second = _audit(config)
    ahead = "2030-01-01T02:15:00+00:00"
    with duckdb.connect(str(_history(config))) as con:
        con.execute(
            "UPDATE runs SET started_at = ? WHERE run_id = ?", [ahead, first["audit"]["run_id"]]
        )
    _, _, third = _audit(config)
    assert third["audit"]["compared_with"] == second["audit"]["run_id"]
    trend = third["evidence"]["trends"]
    assert trend["x"] == [ahead, second["started_at"], third["started_at"]]
    assert {"x": ahead, "label": "dated out of order"} in trend["marks"]
    [note] = [n for n in third["evidence"]["notes"] if "out of order" in n]
    one = first["audit"]["run_id"]
    assert note.startswith(
        f"the history's run {one} is dated {ahead}, after the run {second['audit']['run_id']} "
        f"recorded after it ({second['started_at']}): "
    ), note
    assert "compared in the order recorded" in note and "check the clock" in note


def test_runs_in_date_order_get_no_note(tmp_path):
    config = _night(tmp_path, NIGHT_1, k=1)
    for _ in range(2):
        _, _, doc = _audit(config)
    assert not [n for n in doc["evidence"].get("notes") or [] if "out of order" in n]
    assert all(m["label"] != "dated out of order" for m in doc["evidence"]["trends"]["marks"])
