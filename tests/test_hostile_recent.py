"""Hostile inputs aimed at the recent changes (fast presence test, compliance aggregation,
shift units, one ranking, owners in reports, generate / init / consent paths); each test
fails without its fix."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import Config, FeatureConfig, load_config
from privdiag.report.context import build_context
from privdiag.report.links import MAX_CAUSES
from privdiag.report.markdown import MAX_OWNERS, render_markdown
from privdiag.report.merge import merge, rank_dicts
from privdiag.report.text import isolated
from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write

runner = CliRunner()


def _shift_events(ids: list[str]) -> str:
    """14 days of 30 user-less page views each; feature f is present the first 7 days only."""
    rows = ["event_id,ts,event_name,user_id,anonymous_id,session_id,f"]
    for day in range(1, 15):
        for k in range(30):
            value = "v" if day <= 7 else ""
            rows.append(f"{ids[(day - 1) * 30 + k]},2026-10-{day:02d}T10:{k:02d}:00Z,pv,,,,{value}")
    return "\n".join(rows) + "\n"


def test_shift_counts_user_less_events_without_an_id_or_with_a_shared_one(tmp_path):
    # Each event without a user is its own unit, whatever its id: a NULL id or an id shared
    # by several distinct events must not shrink the day's weight (it made it 0 or 1/30).
    for name, ids in (("none", [""] * 420), ("shared", [f"d{n // 30}" for n in range(420)])):
        events = write(tmp_path / f"{name}.csv", _shift_events(ids))
        doc = run_scan([events], config=config()).to_dict()
        shifts = by_kind(doc, "sparsity.shift")
        assert [f["location"] for f in shifts] == [{"source": name, "feature": "f"}], name


def _doc(findings: list, **extra) -> dict:
    doc = {
        "schema_version": 1,
        "tool": "privdiag",
        "version": "0.1",
        "command": "scan",
        "started_at": "2026-10-01T00:00:00Z",
        "inputs": [],
        "checks": [],
        "summary": {},
        "evidence": {},
        "findings": findings,
    }
    return doc | extra


def _f(fid: str, severity: str = "high", **extra) -> dict:
    finding = {
        "id": fid,
        "kind": "consent.violation",
        "area": "data",
        "severity": severity,
        "title": f"finding {fid}",
        "location": {"source": "web"},
        "metrics": {"events": 1},
        "owner": None,
        "caused_by": [],
        "recommendation": "r",
        "evidence": {},
    }
    return finding | extra


def test_report_of_one_invalid_document_names_it_and_writes_nothing(tmp_path):
    # With a single document the JSON was written before the HTML writer validated it.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_doc([_f("a", severity="HIGH")])), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    args = ["report", str(bad), "--json", str(out / "r.json"), "--html", str(out / "r.html")]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert "bad.json" in result.output and "severity" in result.output
    assert "Traceback" not in result.output
    assert list(out.iterdir()) == []


def test_report_of_one_document_uses_the_one_ranking_and_its_own_summary(tmp_path):
    # A single document went to --json and the terminal as read: a foreign summary ({})
    # crashed the terminal summary (exit 5, KeyError), and the JSON kept the file's order
    # and duplicate ids while the HTML and Markdown ranked and deduplicated.
    findings = [
        _f("b", severity="medium"),
        _f("a"),
        _f("c", severity="critical"),
        _f("c", severity="low", owner="web"),
    ]
    src = tmp_path / "one.json"
    src.write_text(json.dumps(_doc(findings)), encoding="utf-8")
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["report", str(src), "--json", str(out)])
    assert result.exit_code == 1, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    # c is deduplicated (the later copy wins: low, owned by web), then ranked by severity
    assert [f["id"] for f in doc["findings"]] == ["a", "b", "c"]
    assert doc["summary"]["by_severity"] == {"high": 1, "medium": 1, "low": 1}
    assert doc["summary"]["by_owner"] == {"unowned": 2, "web": 1}


def test_a_cycle_of_causes_ranks_by_severity_not_after_every_free_finding():
    # a and b name each other as cause (an edited or merged document); c is low. The cycle
    # waited until nothing else was left, so c (low) came before the two high findings.
    findings = [_f("c", severity="low"), _f("b", caused_by=["a"]), _f("a", caused_by=["b"])]
    findings.append(_f("d", severity="medium", caused_by=["a"]))
    assert [f["id"] for f in rank_dicts(findings)] == ["a", "b", "d", "c"]


def test_report_scrubs_e_mail_ip_and_control_characters_from_the_documents_it_reads(tmp_path):
    # README: no e-mail or IP reaches any output. A document from elsewhere (hand-edited, an
    # older privdiag) reached --json and the Markdown owner lines and table unscrubbed.
    findings = [
        _f("a", owner="jane.doe@example.com"),
        _f("b", owner="ops\x1b[2J\u202e", title="seen from 10.0.0.1"),
    ]
    src = tmp_path / "in.json"
    src.write_text(json.dumps(_doc(findings)), encoding="utf-8")
    outs = {ext: tmp_path / f"r.{ext}" for ext in ("json", "md", "html", "xml")}
    flags = ["--json", "--markdown", "--html", "--junit"]
    args = ["report", str(src)] + [
        x for flag, p in zip(flags, outs.values(), strict=True) for x in (flag, p)
    ]
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    for path in [*outs.values(), None]:
        text = path.read_text(encoding="utf-8") if path else result.output
        for raw in ("jane.doe@example.com", "10.0.0.1", "\x1b", "\u202e"):
            assert raw not in text, (path, raw)
    assert "\\[redacted\\]" in outs["md"].read_text(encoding="utf-8")  # Markdown-escaped


def test_html_context_of_a_long_cause_chain_is_linear_and_lists_the_nearest_causes():
    # 3000 findings, each caused by the next: every finding listed its whole chain (4.5M
    # links) and the context took minutes (a list search per cause, a scan per effect).
    n = 3000
    findings = [
        _f(f"c{i:04d}", caused_by=[f"c{i + 1:04d}"] if i + 1 < n else [], metrics={"events": i})
        for i in range(n)
    ]
    findings[0]["severity"] = "critical"
    started = time.monotonic()
    ctx = build_context(merge([_doc(findings)]))
    assert time.monotonic() - started < 20
    views = {f.id: f for area in ctx.areas for f in area.findings}
    first = views["c0000"]
    assert [c.anchor for c in first.causes[:MAX_CAUSES]] == [
        f"f-c{i:04d}" for i in range(1, MAX_CAUSES + 1)
    ]
    assert len(first.causes) == MAX_CAUSES + 1 and first.causes[-1].anchor is None
    assert [e.anchor for e in views["c0001"].effects] == ["f-c0000"]
    # only the start of the chain is a root cause
    assert views["c2999"].is_root_cause and not views["c0001"].is_root_cause
    assert f"Root cause: {isolated('finding c2999')} (no owner)" in ctx.summary.headline


def test_markdown_lists_a_bounded_number_of_owners(tmp_path):
    # 3000 owners gave 6000 owner lines (about 200 kB): far over a GitHub comment's 65,536
    # characters. The comment lists the worst owners, then says how many more there are.
    findings = [_f(f"x{i:04d}", owner=f"team-{i:04d}") for i in range(3000)]
    findings[2999]["severity"] = "critical"
    text = render_markdown(merge([_doc(findings)]))
    assert len(text) < 65_536
    owners = [line for line in text.splitlines() if line.startswith("- ")]
    assert owners[0] == "- team-2999: 1 (worst: critical)"
    assert len(owners) == MAX_OWNERS
    assert f"_{3000 - MAX_OWNERS} more owners in the full report._" in text


def test_init_writes_valid_toml_for_hostile_file_event_and_column_names(tmp_path):
    # A DEL or a newline in a file name, an event name or a column header went into the
    # TOML raw (in a comment, a quoted key or a string): audit then refused the config. A
    # NULL event name crashed init; an e-mail as an event name was copied into a comment.
    data = tmp_path / "da ta"
    data.mkdir()
    header = "ts,event_name,user_id,d\x7fl\n"
    rows = ["2026-10-01T10:00:00Z,,u1,2", '2026-10-01T10:00:01Z,"pv\nnext",u1,2']
    rows += ["2026-10-01T10:00:02Z,jane.doe@example.com,u1,2"]
    files = []
    for name in ("del\x7fx.csv", "nl\nx.csv", 'quo"te é.csv'):
        (data / name).write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
        files.append(str(data / name))
    out = tmp_path / "cfg" / "privdiag.toml"
    out.parent.mkdir()
    result = runner.invoke(app, ["init", *files, "--output", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "jane.doe@example.com" not in text
    parsed = tomllib.loads(text)
    listed = {p for s in parsed["sources"].values() for p in s["paths"]}
    assert {str((out.parent / p).resolve()) for p in listed} == {str(Path(f)) for f in files}
    assert "d\x7fl" in parsed["features"]


def _predictions_case(tmp_path: Path, names: list[str]) -> list[str]:
    """A 60-row blind set with features ``page.cat`` and ``x``; one scores file per name."""
    blind = tmp_path / "blind.csv"
    rows = [f"{i % 2},{i / 60:.3f},{(i * 7 % 60) / 60:.3f}" for i in range(60)]
    blind.write_text("label,page.cat,x\n" + "\n".join(rows) + "\n", encoding="utf-8")
    scores = "row_id,score\n" + "\n".join(f"{i},{(i % 10) / 10}" for i in range(60)) + "\n"
    command = ["model-check", "m.onnx", "--blind-set", str(blind), "--label", "label"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(scores, encoding="utf-8")
        command += ["--predictions", str(tmp_path / name)]
    return command


def test_predictions_file_of_a_scenario_with_a_dot_matches_it(tmp_path):
    # --export-blind-sets writes mask_page.cat.parquet for feature page.cat; the scenario
    # was taken as the name up to its first dot ("mask_page"), so no name could match it.
    command = _predictions_case(tmp_path, ["unmasked.csv", "mask_page.cat.csv"])
    result = runner.invoke(app, [*command, "--quiet"])
    assert result.exit_code in (0, 1), result.output


def test_two_predictions_files_for_one_scenario_are_a_usage_error(tmp_path):
    # The later file silently replaced the earlier one.
    command = _predictions_case(tmp_path, ["unmasked.csv", "other/unmasked.csv"])
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "unmasked.csv" in result.output and "other/unmasked.csv" in result.output
    assert "scenario 'unmasked'" in result.output


GENERATE = ["generate", "--users", "10", "--days", "4"]


def test_generate_into_a_file_is_a_usage_error(tmp_path):
    # --out naming an existing file crashed in mkdir (exit 5, FileExistsError).
    target = tmp_path / "notes.txt"
    target.write_text("mine", encoding="utf-8")
    result = runner.invoke(app, [*GENERATE, "--out", str(target)])
    assert result.exit_code == 2, result.output
    assert "notes.txt" in result.output and "not a folder" in result.output
    assert target.read_text(encoding="utf-8") == "mine"


def test_generate_force_refuses_a_folder_or_symlink_in_place_of_a_file(tmp_path):
    # With --force, a folder or a (dangling) symlink where generate writes a file failed in
    # DuckDB's COPY (exit 5) after the files before it were overwritten; a dangling symlink
    # was not seen by the 'exists' test at all. Both are refused before anything is written.
    out = tmp_path / "scenario"
    assert runner.invoke(app, [*GENERATE, "--out", str(out)]).exit_code == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    (out / "app.csv").unlink()
    (out / "app.csv").symlink_to(tmp_path / "elsewhere.csv")
    for flags in (["--force"], ["--if-missing"], []):
        result = runner.invoke(app, [*GENERATE, "--out", str(out), *flags])
        assert result.exit_code == 2, (flags, result.output)
        assert "app.csv" in result.output and "Traceback" not in result.output
    (out / "app.csv").unlink()
    (out / "app.csv").mkdir()
    result = runner.invoke(app, [*GENERATE, "--out", str(out), "--force"])
    assert result.exit_code == 2 and "app.csv" in result.output, result.output
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()}
    assert after == {k: v for k, v in before.items() if k != "app.csv"}
    assert not (tmp_path / "elsewhere.csv").exists()


def _many_features(tmp_path: Path, features: int) -> tuple[str, Path]:
    """60 events with three consent flags and ``features`` features each needing all three."""
    names = [f"f{i}" for i in range(features)]
    head = "event_id,ts,event_name,user_id,consent_ads,consent_analytics,consent_personalization"
    states = ("granted", "denied", "")
    rows = [
        f"e{k},2026-10-{1 + k % 20:02d}T10:00:00Z,pv,u{k % 9},{states[k % 3]},"
        f"{states[k // 3 % 3]},{states[k // 9 % 3]},"
        + ",".join("x" if (k + i) % 4 else "" for i in range(features))
        for k in range(60)
    ]
    events = write(tmp_path / "ev.csv", ",".join([head, *names]) + "\n" + "\n".join(rows) + "\n")
    cfg = tmp_path / "privdiag.toml"
    table = '[features.{}]\npurposes = ["ads", "analytics", "personalization"]\n'
    cfg.write_text("".join(table.format(n) for n in names), encoding="utf-8")
    return events, cfg


@pytest.mark.slow
def test_compliance_over_1200_feature_purpose_pairs_does_not_crash(tmp_path):
    # One query over every pair: DuckDB 2.0.1 died of SIGFPE (exit 136, no message, no
    # output) at 400 features x 3 purposes. A subprocess, as the crash kills the process.
    events, cfg = _many_features(tmp_path, 400)
    out = tmp_path / "out.json"
    command = [sys.executable, "-m", "privdiag", "scan", events, "--config", str(cfg)]
    done = subprocess.run([*command, "--json", str(out), "--quiet"], capture_output=True)
    assert done.returncode == 1, done.stderr[-500:]
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["findings"] > 0


def test_compliance_in_batches_finds_what_one_query_finds(tmp_path, monkeypatch):
    from privdiag.checks import compliance

    events, cfg = _many_features(tmp_path, 5)
    one = run_scan([events], config=load_config(cfg)).to_dict()["findings"]
    monkeypatch.setattr(compliance, "PAIRS_PER_QUERY", 2)
    batched = run_scan([events], config=load_config(cfg)).to_dict()["findings"]
    assert batched == one and by_kind({"findings": one}, "consent.violation")


def test_a_blank_owner_in_the_config_is_no_owner(tmp_path):
    # owner = "  " was an owner named "  ": a blank line in the Markdown owners, a blank
    # heading in the HTML, a "  " key in summary.by_owner, and the source was not reported
    # as unowned. It now counts as no owner, as owner = "" does.
    events = write(
        tmp_path / "ev.csv",
        "event_id,ts,event_name,user_id,f\ne1,2026-10-01T10:00:00Z,pv,u2,x\n",
    )
    consent = write(
        tmp_path / "c.csv",
        "user_id,purpose,status,ts\nu2,ads,denied,2026-10-01T09:00:00Z\n",
    )
    cfg = tmp_path / "privdiag.toml"
    cfg.write_text(
        '[sources.ev]\nowner = "  "\n[features.f]\npurposes = ["ads"]\nowner = "\\t"\n',
        encoding="utf-8",
    )
    doc = run_scan([events], consent=[consent], config=load_config(cfg)).to_dict()
    assert [f["owner"] for f in by_kind(doc, "consent.violation")] == [None]
    assert set(doc["summary"]["by_owner"]) == {"unowned"}
    unowned = {tuple(f["location"].items()) for f in by_kind(doc, "people.unowned")}
    assert (("source", "ev"),) in unowned and (("feature", "f"),) in unowned


@pytest.mark.slow
def test_ranking_a_long_cause_chain_stays_small():
    # Each finding's chain was a Python set of every symptom it leads to: a 6000-long chain
    # took 7 s and 1 GB to rank, so a large edited document exhausted memory.
    n = 12_000
    findings = [
        _f(f"c{i:05d}", caused_by=[f"c{i + 1:05d}"] if i + 1 < n else [], metrics={"events": 1})
        for i in range(n)
    ]
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ranked = rank_dicts(findings)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert [f["id"] for f in ranked] == [f"c{i:05d}" for i in reversed(range(n))]
    assert time.monotonic() - started < 20 and grown_mb < 300


def test_chain_sizes_count_shared_symptoms_once_through_cycles():
    from privdiag.findings import Ranked, chain_sizes

    # a -> b -> c -> b (a cycle) and a -> d -> c: c is reached twice and counted once
    findings = [
        Ranked("a", "low", 1.0, ()),
        Ranked("b", "medium", 2.0, ("a", "c")),
        Ranked("c", "high", 4.0, ("b", "d")),
        Ranked("d", "info", 8.0, ("a",)),
    ]
    worst, impact, _ = chain_sizes(findings)
    assert impact == [15.0, 6.0, 6.0, 14.0]
    assert worst == [1, 1, 1, 1]  # every chain holds c (high)


def test_scipy_warm_up_thread_is_waited_for_at_exit(monkeypatch):
    # A consent file that is not UTF-8 ends the scan at once (exit 3); the scipy import was
    # still running on a daemon thread, killed at exit inside C++: 8 runs in 30 aborted
    # ("terminate called ... exception not rethrown", exit 134).
    import sys
    import threading

    from privdiag import stats

    release = threading.Event()
    monkeypatch.setattr(stats, "_stats", release.wait)  # an import still running
    monkeypatch.delitem(sys.modules, "scipy.stats", raising=False)
    with stats.warmed_up():
        threads = [t for t in threading.enumerate() if t.name == "privdiag-import-scipy"]
        assert threads and not any(t.daemon for t in threads)
        release.set()
    assert not any(t.is_alive() for t in threads)  # the scan waits for it before returning


def test_init_paths_from_a_symlinked_config_folder_resolve_to_the_data(tmp_path):
    # init wrote "../data/ev.csv" (relative to the folder as named); the config joined it
    # to the symlinked folder and the OS took ".." from the link's target: audit read
    # "cfglink/../data/ev.csv", which does not exist (exit 3). Config paths are now joined
    # by name, as init computed them.
    (tmp_path / "data").mkdir()
    (tmp_path / "real" / "deep").mkdir(parents=True)
    (tmp_path / "cfglink").symlink_to(tmp_path / "real" / "deep")
    events = write(
        tmp_path / "data" / "ev.csv", "ts,event_name,user_id\n2026-10-01T10:00:00Z,a,u1\n"
    )
    out = tmp_path / "cfglink" / "privdiag.toml"
    assert runner.invoke(app, ["init", events, "--output", str(out)]).exit_code == 0
    cfg = load_config(out)
    (written,) = cfg.sources["ev"].paths
    assert written == "../data/ev.csv"
    assert cfg.resolve(written).is_file()


def test_compliance_titles_name_events_without_a_name_in_words(tmp_path):
    # Events with an empty event_name form their own (source, NULL) group; its titles read
    # "f is collected on None events where ads consent was denied".
    events = write(
        tmp_path / "ev.csv",
        "event_id,ts,event_name,user_id,f\n"
        "e1,2026-10-01T10:00:00Z,,u2,x\ne2,2026-10-01T08:00:00Z,,u3,x\n",
    )
    consent = write(
        tmp_path / "c.csv",
        "user_id,purpose,status,ts\nu2,ads,denied,2026-10-01T09:00:00Z\n"
        "u3,ads,granted,2026-10-01T09:00:00Z\n",
    )
    cfg = Config(thresholds=config().thresholds)
    cfg.features["f"] = FeatureConfig(purposes=["ads"])
    doc = run_scan([events], consent=[consent], config=cfg).to_dict()
    titles = sorted(f["title"] for f in doc["findings"] if f["kind"].startswith("consent."))
    assert titles == [
        "f is collected on events without a name before the user decides on ads "
        "(tags fire before the banner)",
        "f is collected on events without a name where ads consent was denied",
    ]


def test_blind_sets_of_features_with_slashes_stay_in_their_folder(tmp_path):
    # A feature named "page/cat" (or "../x") made --export-blind-sets write mask_page/cat.parquet,
    # a folder that does not exist (or a file outside the export folder). Files are named
    # by file_stem, and --predictions matches them back to their scenario.
    from privdiag.model.blindset import file_stem

    assert file_stem("mask_page/cat") == "mask_page_cat"
    assert file_stem("mask_../../x") == "mask_.._.._x"
    assert file_stem("../x") == "_._x"
    rows = [f"{i % 2},{i % 7},{i}" for i in range(60)]
    blind = tmp_path / "blind.csv"
    blind.write_text("label,page/cat,x\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "sets"
    export = ["model-check", "m.onnx", "--blind-set", str(blind), "--label", "label"]
    scores = "row_id,score\n" + "\n".join(f"{i},{(i % 10) / 10}" for i in range(60)) + "\n"
    for name in ("unmasked.csv", "mask_page_cat.csv"):
        (tmp_path / name).write_text(scores, encoding="utf-8")
    command = export + ["--predictions", str(tmp_path / "unmasked.csv")]
    command += ["--predictions", str(tmp_path / "mask_page_cat.csv")]
    result = runner.invoke(app, [*command, "--export-blind-sets", str(out), "--quiet"])
    assert result.exit_code in (0, 1), result.output
    assert (out / "mask_page_cat.parquet").is_file()
    assert sorted(p.name for p in out.rglob("*") if p.is_dir()) == []
