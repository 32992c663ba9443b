"""Audit end to end through the CLI runner: two nights with changes in between."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.audit.history import open_history
from privdiag.cli import app
from tests.audit_data import NIGHT_1, NIGHT_2, setup

runner = CliRunner()


def audit(config: Path, *args: str) -> tuple[int, str, dict]:
    out = config.parent / "out.json"
    result = runner.invoke(app, ["audit", "--config", str(config), "--json", str(out), *args])
    doc = json.loads(out.read_text()) if out.exists() and result.exit_code in (0, 1) else {}
    out.unlink(missing_ok=True)
    return result.exit_code, result.output, doc


def change_of(doc: dict, kind: str, **location: str) -> str:
    hits = [
        f["change"]
        for f in doc["findings"]
        if f["kind"] == kind and all(f["location"].get(k) == v for k, v in location.items())
    ]
    assert len(hits) == 1, (kind, location)
    return hits[0]


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audit")
    config = setup(folder, NIGHT_1)
    first = audit(config)
    setup(folder, NIGHT_2)
    second = audit(config)
    return folder, config, first, second


def test_first_run_finds_everything_new_and_fails_on_high(two_nights):
    _, _, (code, output, doc), _ = two_nights
    assert code == 1
    assert {f["change"] for f in doc["findings"]} == {"new"}
    assert doc["resolved"] == []
    assert doc["audit"]["previous_run"] is None and doc["audit"]["baseline"] is None
    assert doc["command"] == "audit"
    assert output.strip().count("\n") == 0  # quiet by default: one line
    assert output.startswith(f"audit {doc['audit']['run_id']}: ")


def test_second_run_says_new_unchanged_worse_better_and_resolved(two_nights):
    _, _, (_, _, first), (code, output, doc) = two_nights
    assert doc["audit"]["previous_run"] == first["audit"]["run_id"]
    v = "consent.violation"
    assert change_of(doc, v, step="page_view", feature="gclid") == "unchanged"
    assert change_of(doc, v, step="purchase", feature="gclid") == "better"  # 10 -> 4 events
    assert change_of(doc, v, step="view_item", feature="gclid") == "new"
    assert change_of(doc, "consent.missing_record", source="shop") == "worse"  # 1 -> 3 users
    assert change_of(doc, "people.unclassified_feature", feature="coupon") == "unchanged"

    (resolved,) = doc["resolved"]
    assert resolved["kind"] == v and resolved["location"]["step"] == "add_to_cart"
    assert resolved["metrics"]["events"] == 1
    assert doc["audit"]["counts"] == {
        "new": 1,
        "unchanged": 5,  # page_view leak; unowned shop, gclid, fbclid; coupon
        "worse": 1,
        "better": 1,
        "hidden": 0,  # k = 1
        "resolved": 1,
        "superseded": 0,
    }
    assert "1 new, 1 resolved, 1 worse" in output
    assert code == 1  # the new view_item leak is high


def test_reports_are_in_dated_folders_and_the_history_has_both_runs(two_nights):
    folder, _, (_, _, first), (_, _, second) = two_nights
    reports = {p.name.rsplit("-", 1)[1]: p for p in (folder / "privdiag-reports").iterdir()}
    ids = [first["audit"]["run_id"], second["audit"]["run_id"]]
    assert set(reports) == set(ids)
    assert all(len(p.name) == len("2026-10-01T100000Z-") + 8 for p in reports.values())
    assert str(reports[ids[1]]) == second["audit"]["report_dir"]
    stored = json.loads((reports[ids[1]] / "audit.json").read_text())
    assert stored["audit"] == second["audit"]

    with open_history(folder / "privdiag-history.duckdb", read_only=True) as history:
        runs = history.runs()
        assert [r.run_id for r in runs] == ids
        assert runs[1].previous_run == ids[0]
        assert runs[1].exit_code == 1
        assert {i["role"] for i in runs[1].inputs} == {"events", "consent"}
        assert all(len(i["sha256"]) == 64 for i in runs[1].inputs)
        kept = {f["id"]: f["change"] for f in history.findings(ids[1])}
        assert kept == {f["id"]: f["change"] for f in second["findings"]}


def test_trends_series_covers_both_runs(two_nights):
    _, _, (_, _, first), (_, _, doc) = two_nights
    trends = doc["evidence"]["trends"]
    assert trends["x"] == [first["started_at"], doc["started_at"]]
    assert trends["series"]["violations"] == [13.0, 7.0]  # 2 + 1 + 10, then 2 + 1 + 4
    # decided events: night 1 u1 13 denied, u2 2 granted; night 2 u1 7 denied, u2 2 granted:
    # one user of two grants ads both nights (weighing events, 2/15 then 2/9)
    assert trends["series"]["consent_rate.ads"] == pytest.approx([0.5, 0.5], abs=1e-6)


def test_fail_when_and_baseline(two_nights):
    folder, config, (_, _, first), (_, _, second) = two_nights
    code, _, doc = audit(config, "--fail-when", "regressed")
    assert code == 0  # nothing new or worse since night 2
    assert {f["change"] for f in doc["findings"]} == {"unchanged"}
    code, _, _ = audit(config, "--fail-when", "all")
    assert code == 1  # the page_view leak is still there
    code, _, _ = audit(config, "--fail-when", "all", "--fail-on", "critical")
    assert code == 0

    base = first["audit"]["run_id"]
    code, _, doc = audit(config, "--baseline", base[:5])
    assert doc["audit"]["baseline"] == base
    assert doc["audit"]["counts"] == second["audit"]["counts"]
    assert doc["evidence"]["trends"]["marks"] == [{"x": first["started_at"], "label": "baseline"}]
    assert code == 1


def test_unknown_baseline_is_a_usage_error_and_writes_nothing(tmp_path):
    config = setup(tmp_path, NIGHT_1)
    audit(config)
    code, output, _ = audit(config, "--baseline", "nosuchrun")
    assert code == 2
    assert "nosuchrun" in output and "--list" in output
    assert len(list((tmp_path / "privdiag-reports").iterdir())) == 1


@pytest.mark.parametrize("baseline", ["first", "3f9c0a1e"])
def test_baseline_before_any_history_is_a_usage_error_and_writes_nothing(tmp_path, baseline):
    """Found by the eighteenth hostile session: the run made the history file and its lock
    (and the reports folder) before it found that no run could match the baseline."""
    config = setup(tmp_path, NIGHT_1)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, output, _ = audit(config, "--baseline", baseline)
    assert code == 2
    assert "does not exist yet" in output and "without --baseline" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_keep_prunes_old_report_folders_but_keeps_the_history(tmp_path):
    config = setup(tmp_path, NIGHT_1)
    for _ in range(3):
        audit(config, "--keep", "2")
    assert len(list((tmp_path / "privdiag-reports").iterdir())) == 2
    listing = runner.invoke(app, ["audit", "--config", str(config), "--list"])
    assert listing.exit_code == 0
    lines = listing.output.strip().splitlines()
    assert len(lines) == 4 and "(pruned)" in lines[1] and "(pruned)" not in lines[3]


def test_keep_leaves_the_report_folders_of_another_history_sharing_the_folder(tmp_path):
    """Found by the twenty-second hostile session: two configs of one folder (two histories,
    one reports folder); three runs of one with --keep 1 removed the other's only report."""
    other = setup(tmp_path, NIGHT_1, '[audit]\nhistory = "other.duckdb"\n')
    other = other.rename(tmp_path / "other.toml")
    config = setup(tmp_path, NIGHT_1)
    assert audit(other)[0] == 1
    [theirs] = [p.name for p in (tmp_path / "privdiag-reports").iterdir()]
    for _ in range(3):
        audit(config, "--keep", "1")
    names = sorted(p.name for p in (tmp_path / "privdiag-reports").iterdir())
    assert len(names) == 2 and theirs in names
    # a history moved aside leaves folders naming a file that is gone: pruned as before
    (tmp_path / "other.duckdb").rename(tmp_path / "aside.duckdb")
    audit(config, "--keep", "1")
    assert theirs not in [p.name for p in (tmp_path / "privdiag-reports").iterdir()]


def test_audit_table_in_the_config_sets_history_reports_and_fail_when(tmp_path):
    extra = '[audit]\nhistory = "h.duckdb"\nreports_dir = "out"\nfail_when = "new"\nkeep = 1\n'
    config = setup(tmp_path, NIGHT_1, extra)
    assert audit(config)[0] == 1
    assert audit(config)[0] == 0  # nothing new
    assert (tmp_path / "h.duckdb").exists()
    assert len(list((tmp_path / "out").iterdir())) == 1


def test_bad_audit_table_and_flags_are_exit_2(tmp_path):
    config = setup(tmp_path, NIGHT_1, '[audit]\nfail_wehn = "new"\n')
    code, output, _ = audit(config)
    assert code == 2 and "fail_wehn" in output
    config = setup(tmp_path, NIGHT_1)
    assert audit(config, "--fail-when", "sometimes")[0] == 2
    assert audit(config, "--keep", "0")[0] == 2


def test_show_prints_one_runs_findings(two_nights):
    folder, config, _, (_, _, second) = two_nights
    run = second["audit"]["run_id"]
    result = runner.invoke(app, ["audit", "--config", str(config), "--show", run])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"run {run} ")
    assert len(lines) == 1 + len(second["findings"]) + len(second["resolved"])
    assert any("new" in line and "step=view_item" in line for line in lines)


def test_show_lists_the_resolved_findings_with_their_titles(two_nights):
    # --show counted "1 resolved" on its first line and listed none: the add_to_cart fbclid
    # leak of night 1 (1 event) is gone on night 2.
    _, config, (_, _, first), (_, _, second) = two_nights
    run = second["audit"]["run_id"]
    result = runner.invoke(app, ["audit", "--config", str(config), "--show", run])
    assert result.exit_code == 0, result.output
    (resolved,) = [line for line in result.output.splitlines() if "resolved  " in line]
    assert resolved.split()[:6] == [
        "high", "resolved", "consent.violation", "source=shop", "step=add_to_cart",
        "feature=fbclid",
    ]  # fmt: skip
    assert "events=1" in resolved
    (title,) = [f["title"] for f in second["resolved"]]
    assert resolved.endswith(f"was in {first['audit']['run_id']}: {title}")
    assert result.output.rstrip().endswith(resolved)  # after the run's own findings
    first_shown = runner.invoke(app, ["audit", "--config", str(config), "--show", "first"])
    assert "resolved  " not in first_shown.output  # nothing to compare the first run with


def test_show_leaves_out_resolved_findings_whose_users_k_hides(tmp_path):
    # The add_to_cart leak resolved on night 2 had 1 user: read back with min_group_size = 2
    # its few persons must not be told to have left it, as the audit's `resolved` leaves it
    # out; the run's header still counts it (recorded at k = 1).
    config = setup(tmp_path, NIGHT_1)
    audit(config)
    setup(tmp_path, NIGHT_2)
    audit(config)
    shown = runner.invoke(app, ["audit", "--config", str(config), "--show", "last"])
    assert "step=add_to_cart" in shown.output
    config.write_text(
        config.read_text().replace("min_group_size = 1", "min_group_size = 2"), encoding="utf-8"
    )
    shown = runner.invoke(app, ["audit", "--config", str(config), "--show", "last"])
    assert shown.exit_code == 0, shown.output
    assert "step=add_to_cart" not in shown.output and "resolved  " not in shown.output


def test_list_without_history_is_exit_3(tmp_path):
    result = runner.invoke(app, ["audit", "--history", str(tmp_path / "h.duckdb"), "--list"])
    assert result.exit_code == 3
    assert "h.duckdb" in result.output and "Traceback" not in result.output


def test_log_file_gets_the_summary_and_errors(tmp_path):
    config = setup(tmp_path, NIGHT_1)
    log = tmp_path / "audit.log"
    code, _, doc = audit(config, "--log", str(log))
    text = log.read_text()
    assert f"audit {doc['audit']['run_id']} started" in text
    assert "1 new" not in text or "findings" in text
    (tmp_path / "data" / "shop.csv").write_text("ts,event_name\nyesterday,a\n")
    code, _, _ = audit(config, "--log", str(log))
    assert code == 3
    assert "ERROR audit failed" in log.read_text()


def test_quiet_prints_nothing(tmp_path):
    config = setup(tmp_path, NIGHT_1)
    result = runner.invoke(app, ["audit", "--config", str(config), "--quiet"])
    assert result.exit_code == 1 and result.output == ""


def test_config_without_sources_is_a_usage_error(tmp_path):
    config = tmp_path / "privdiag.toml"
    config.write_text('[consent]\npaths = ["x.csv"]\n')
    result = runner.invoke(app, ["audit", "--config", str(config)])
    assert result.exit_code == 2 and "[sources.shop]" in result.output


def test_models_without_blind_set_or_model_checks_are_skipped_with_a_reason(tmp_path):
    config = setup(tmp_path, NIGHT_1, '[models.churn]\npath = "m.onnx"\n')
    _, _, doc = audit(config)
    (check,) = [c for c in doc["checks"] if c["name"] == "model-check churn"]
    assert check["status"] == "skipped" and "blind_set" in check["reason"]


def test_log_in_a_folder_not_made_yet_is_made(tmp_path):
    """The README's cron line logs to log/audit.log; a fresh folder has no log/ yet."""
    config = setup(tmp_path, NIGHT_1)
    log = tmp_path / "log" / "audit.log"
    code, _, doc = audit(config, "--log", str(log))
    assert code in (0, 1)
    assert f"audit {doc['audit']['run_id']} started" in log.read_text()
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(app, ["audit", "--config", str(config), "--log", str(blocker / "a.log")])
    assert result.exit_code == 2 and "cannot write the log" in result.output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_log_on_a_full_disk_is_a_warning_not_a_traceback_or_an_internal_error(tmp_path):
    """--log /dev/full printed logging's traceback for every line and ended in an internal
    error (exit 5) after the run was recorded; the run's own exit code now stands."""
    config = setup(tmp_path, NIGHT_1)
    code, output, doc = audit(config, "--log", "/dev/full")
    assert code == 1 and doc["audit"]["run_id"], output
    assert "Traceback" not in output and "Logging error" not in output
    assert output.count("could not write the log /dev/full: No space left on device") == 1


def test_missing_model_path_names_the_config_key_and_resolved_path(tmp_path):
    extra = '[models.churn]\npath = "models/churn.onnx"\nblind_set = "data/shop.csv"\n'
    config = setup(tmp_path, NIGHT_1, extra)
    code, output, _ = audit(config)
    assert code == 2, output
    assert str(config) in output
    assert "[models.churn] path = 'models/churn.onnx'" in output
    assert f"{tmp_path / 'models' / 'churn.onnx'} does not exist" in output
    assert not (tmp_path / "privdiag-reports").exists()  # stopped before anything ran


def test_list_shows_the_report_folder_absolute_from_any_folder(tmp_path, monkeypatch):
    """A run given a relative --config records its report folder absolute, so --list run
    from another folder finds it (recorded relative, it said "(pruned)" there)."""
    (tmp_path / "proj").mkdir()
    config = setup(tmp_path / "proj", NIGHT_1)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["audit", "--config", "proj/privdiag.toml", "--quiet"])
    assert result.exit_code == 1, result.output
    (folder,) = (tmp_path / "proj" / "privdiag-reports").iterdir()
    with open_history(config.parent / "privdiag-history.duckdb", read_only=True) as history:
        assert [r.report_dir for r in history.runs()] == [str(folder)]

    monkeypatch.chdir(config.parent / "data")
    listing = runner.invoke(app, ["audit", "--config", str(config), "--list"])
    assert listing.exit_code == 0
    assert listing.output.splitlines()[1].endswith(f"  {folder}")


def test_list_finds_a_folder_an_older_run_recorded_relative(tmp_path, monkeypatch):
    """Older runs recorded the folder relative to where they started: it is looked for from
    the config's folder and those above it, and said as recorded when not found."""
    from privdiag.audit.history import RunRecord

    found = tmp_path / "proj" / "conf" / "privdiag-reports" / "2026-10-01T100000Z-0000aaaa"
    found.mkdir(parents=True)
    history_file = tmp_path / "h.duckdb"
    with open_history(history_file) as history:
        for run_id in ("0000aaaa", "0000bbbb"):
            run = RunRecord(
                run_id=run_id,
                started_at="2026-10-01T10:00:00+00:00",
                config_path=str(tmp_path / "proj" / "conf" / "privdiag.toml"),
                report_dir=f"conf/privdiag-reports/2026-10-01T100000Z-{run_id}",
            )
            history.record(run, [], {})
    monkeypatch.chdir(tmp_path)  # neither where the runs started (proj) nor the config's folder
    listing = runner.invoke(app, ["audit", "--history", str(history_file), "--list"])
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[1].endswith(f"  {found}")
    assert lines[2].endswith("  (not found) conf/privdiag-reports/2026-10-01T100000Z-0000bbbb")


def test_list_shows_a_record_it_cannot_look_up_as_not_found(tmp_path, monkeypatch):
    """A hand-edited history with a report folder name too long to look up (Path.is_dir
    raises there): --list says "(pruned)" / "(not found)", not an internal error."""
    from privdiag.audit.history import RunRecord

    history_file = tmp_path / "h.duckdb"
    with open_history(history_file) as history:
        for run_id, report in (("0000aaaa", "/r/" + "x" * 5000), ("0000bbbb", "r/" + "y" * 5000)):
            run = RunRecord(
                run_id=run_id,
                started_at="2026-10-01T10:00:00+00:00",
                config_path=str(tmp_path / "privdiag.toml"),
                report_dir=report,
            )
            history.record(run, [], {})
    monkeypatch.chdir(tmp_path)
    listing = runner.invoke(app, ["audit", "--history", str(history_file), "--list"])
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[1].endswith("  (pruned)")
    assert lines[2].endswith("  (not found) r/" + "y" * 5000)


@pytest.mark.parametrize("read_back", [["--list"], ["--show", "last"]])
@pytest.mark.parametrize("option", ["--json", "--html", "--markdown", "--junit"])
def test_list_and_show_refuse_an_output_they_would_not_write(two_nights, read_back, option):
    # They printed to the terminal and exited 0 without writing the file: a CI job asking
    # for --show last --json FILE found nothing and was not told.
    folder, config, _, _ = two_nights
    target = folder / f"wanted{option.replace('-', '_')}"
    result = runner.invoke(app, ["audit", "--config", str(config), *read_back, option, str(target)])
    assert result.exit_code == 2, result.output
    assert f"{read_back[0]} only prints to the terminal; it writes no {option} output" in (
        result.output
    )
    assert "privdiag report FOLDER/audit.json" in result.output
    assert not target.exists()


def _articles(html: str) -> dict[str, str]:
    """Each finding's <article> of an HTML report, by its element id."""
    parts = html.split('<article class="finding ')[1:]
    return {p.split('id="', 1)[1].split('"', 1)[0]: p.split("</article>", 1)[0] for p in parts}


def test_the_audit_reports_say_what_changed_since_the_previous_run(two_nights):
    # The run folder's report.html and summary.md said nothing of new, worse, better or
    # resolved findings: only the JSON and the terminal line did.
    from privdiag.report.context import anchor

    _, _, (_, _, first), (_, _, doc) = two_nights
    folder = Path(doc["audit"]["report_dir"])
    said = (
        f"Against the previous run {first['audit']['run_id']}: 1 new, 1 worse, 1 better, "
        "5 unchanged; 1 resolved (gone since)."
    )
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert said in html
    resolved = html.split('id="changes"', 1)[1].split("</ul>", 1)[0]
    assert doc["resolved"][0]["title"] in resolved
    articles = _articles(html)

    def tags(kind: str, **location: str) -> list[str]:
        (f,) = [
            f
            for f in doc["findings"]
            if f["kind"] == kind and all(f["location"].get(k) == v for k, v in location.items())
        ]
        article = articles[anchor(f["id"])]
        return [c for c in ("new", "worse", "better") if f'class="tag change-{c}"' in article]

    v = "consent.violation"
    assert tags(v, step="view_item", feature="gclid") == ["new"]
    assert tags(v, step="purchase", feature="gclid") == ["better"]
    assert tags("consent.missing_record", source="shop") == ["worse"]
    assert tags(v, step="page_view", feature="gclid") == []  # unchanged: no tag
    markdown = (folder / "summary.md").read_text(encoding="utf-8")
    assert said in markdown
    first_html = (Path(first["audit"]["report_dir"]) / "report.html").read_text("utf-8")
    assert "First audit run of this history" in first_html


def test_list_and_show_count_the_better_findings_too(two_nights):
    # The run's line counts new, resolved, worse and better; --list and --show left better out.
    _, config, (_, _, first), (_, _, second) = two_nights
    listing = runner.invoke(app, ["audit", "--config", str(config), "--list"])
    assert listing.exit_code == 0, listing.output
    header, *rows = listing.output.splitlines()
    assert header.split() == [
        "run", "started", "findings", "new", "resolved", "worse", "better", "hidden", "exit",
        "report",
    ]  # fmt: skip
    (row,) = [r for r in rows if r.startswith(second["audit"]["run_id"])]
    # findings 8 (1 new, 5 unchanged, 1 worse, 1 better), then new, resolved, worse, better,
    # hidden (not compared), exit
    assert row.split()[2:9] == ["8", "1", "1", "1", "1", "0", "1"]
    run = second["audit"]["run_id"]
    shown = runner.invoke(app, ["audit", "--config", str(config), "--show", run])
    assert shown.output.splitlines()[0].endswith(
        "exit 1: 8 findings, 1 new, 1 resolved, 1 worse, 1 better, 0 hidden"
    )


def test_history_in_a_missing_folder_is_made_on_the_first_run(tmp_path):
    # A cron job's first run with [audit] history = "state/audit/history.duckdb": the folder
    # was not made, and the run stopped with "folder ... does not exist" (exit 2).
    config = setup(tmp_path, NIGHT_1, extra='[audit]\nhistory = "state/audit/history.duckdb"\n')
    code, output, doc = audit(config)
    assert code == 1, output  # the first run: every finding new, high ones fail
    history = tmp_path / "state" / "audit" / "history.duckdb"
    with open_history(history, read_only=True) as opened:
        assert [r.run_id for r in opened.runs()] == [doc["audit"]["run_id"]]


def test_history_folder_that_cannot_be_made_is_still_a_usage_error(tmp_path, monkeypatch):
    # The nearest folder that exists is not writable: the run stops before anything is
    # written, naming it (os.access is stubbed: the tests may run as root).
    import os

    import privdiag.output

    config = setup(tmp_path, NIGHT_1)
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(
        privdiag.output.os, "access", lambda p, m: False if Path(p) == locked else real(p, m)
    )
    history = locked / "audit" / "history.duckdb"
    code, output, _ = audit(config, "--history", str(history))
    assert code == 2, output
    assert f"folder {locked} is not writable" in " ".join(output.split())
    assert not (locked / "audit").exists() and not (tmp_path / "privdiag-reports").exists()


@pytest.mark.parametrize("option", ["--show", "--baseline"])
def test_an_empty_run_id_is_a_usage_error(tmp_path, option):
    """`--show ""` ran a whole audit (reports, a new run in the history) instead of showing
    one; `--baseline ""` compared with the previous run, unsaid."""
    config = setup(tmp_path, NIGHT_1)
    result = runner.invoke(app, ["audit", "--config", str(config), option, ""])
    assert result.exit_code == 2, result.output
    assert f"{option} was given an empty run id" in result.output
    assert f"hint: give {option} a run id (a unique prefix of one" in result.output
    assert not (tmp_path / "privdiag-reports").exists()


def _with_a_column_named_for_a_person(folder: Path) -> None:
    """Add a column ``bob@example.com`` to the shop's events: an unclassified feature whose
    finding's location reads ``[redacted]`` and whose id is a keyed hash of the name."""
    path = folder / "data" / "shop.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    lines = [header + ",bob@example.com", *(row + ",x" for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _named_for_a_person(doc: dict) -> list[dict]:
    return [f for f in doc["findings"] if f["location"].get("feature") == "[redacted]"]


def test_a_finding_naming_an_address_keeps_its_id_from_one_audit_to_the_next(tmp_path, monkeypatch):
    """Without ``[privacy] hash_key`` each run keyed such ids with a key of its own, so the
    finding was ``new`` in every audit; the history keeps one key for its audits."""
    from privdiag import privacy

    config = setup(tmp_path, NIGHT_1)
    _with_a_column_named_for_a_person(tmp_path)
    first = audit(config)[2]
    monkeypatch.setattr(privacy, "_ID_KEY", secrets.token_bytes(16))  # as another process
    second = audit(config)[2]
    assert len(_named_for_a_person(first)) == 1
    assert [f["id"] for f in _named_for_a_person(second)] == [
        f["id"] for f in _named_for_a_person(first)
    ]
    assert [f["change"] for f in _named_for_a_person(second)] == ["unchanged"]
    with open_history(tmp_path / "privdiag-history.duckdb", read_only=True) as history:
        keys = history.con.execute("SELECT count(*) FROM meta WHERE key = 'id_key'").fetchone()
    assert keys == (1,)
    assert "id_key" not in json.dumps(second)


def test_a_configured_hash_key_is_used_and_the_history_makes_none(tmp_path):
    config = setup(tmp_path, NIGHT_1, extra='[privacy]\nhash_key = "k1"')
    _with_a_column_named_for_a_person(tmp_path)
    audit(config)
    with open_history(tmp_path / "privdiag-history.duckdb", read_only=True) as history:
        keys = history.con.execute("SELECT count(*) FROM meta WHERE key = 'id_key'").fetchone()
    assert keys == (0,)
