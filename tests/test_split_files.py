"""Event files given one by one that are one export cut by day: read as one input, as the
folder or a quoted glob of them is (what a shell makes of ``privdiag scan days/app_*.csv``)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.ingest.files import first_reached
from privdiag.ingest.split_files import join_parts

HEADER = "event_id,ts,event_name,user_id,gclid"
LOG = "user_id,purpose,status,ts\nu1,ads,denied,2026-10-01T08:00:00Z\n"
# another user's decision: a log of no rows is refused (hostile29)
OTHER = "user_id,purpose,status,ts\nu9,ads,granted,2026-10-01T07:00:00Z\n"
TOML = '[thresholds]\nmin_group_size = 1\n[features.gclid]\npurposes = ["ads"]\n'


def _day(folder: Path, name: str, day: int, repeat: bool = False) -> Path:
    """A day's export: u1 (who denied ads) sends a gclid on a page view; with ``repeat`` the
    file also holds the first day's event again, as an overlapping export does."""
    rows = [HEADER, f"e{day},2026-10-0{day}T10:00:00Z,page_view,u1,g{day}"]
    if repeat:
        rows.append("e1,2026-10-01T10:00:00Z,page_view,u1,g1")
    path = folder / name
    path.write_text("\n".join(rows) + "\n")
    return path


def _scan(tmp_path: Path, inputs: list[str]) -> dict:
    (tmp_path / "cmp.csv").write_text(LOG)
    (tmp_path / "privdiag.toml").write_text(TOML)
    out = tmp_path / "scan.json"
    args = ["scan", *inputs, "--consent", str(tmp_path / "cmp.csv")]
    args += ["--config", str(tmp_path / "privdiag.toml"), "--json", str(out), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    return json.loads(out.read_text())


def _violations(doc: dict) -> list[tuple[str, int]]:
    return sorted(
        (f["location"]["source"], f["metrics"]["events"])
        for f in doc["findings"]
        if f["kind"] == "consent.violation"
    )


def test_daily_files_given_one_by_one_are_one_source_as_their_glob(tmp_path):
    """Three days of one export, the third repeating the first day's event. Given as the
    quoted glob: one violation of source `days`, 3 events (the repeat dropped). Given one
    by one (what the shell passes for the unquoted glob) they were three sources, three
    violations of 1, 1 and 2 events (the repeat counted twice)."""
    days = tmp_path / "days"
    days.mkdir()
    files = [_day(days, f"app_2026100{d}.csv", d, repeat=d == 3) for d in (1, 2, 3)]
    glob = _scan(tmp_path, [str(days / "app_*.csv")])
    apart = _scan(tmp_path, [str(f) for f in files])
    assert _violations(glob) == [("days", 3)]
    assert _violations(apart) == [("days", 3)]
    assert [i["path"] for i in apart["inputs"] if i["role"] == "events"] == [
        str(days / "app_*.csv")
    ]
    (note,) = [n for n in apart["evidence"]["notes"] if "one by one" in n]
    assert note.startswith("3 event files given one by one are named alike but for their digits")


def _reached(paths: list[Path]) -> list:
    return first_reached([str(p) for p in paths])


def test_only_files_named_alike_but_for_digits_are_joined(tmp_path):
    """app_1 and app_2 are parts of one export; web.csv and shop.csv are other streams;
    a lone file with digits (orders_7.csv) has no part to join."""
    paths = [
        tmp_path / n for n in ("app_1.csv", "web.csv", "app_2.csv", "shop.csv", "orders_7.csv")
    ]
    for path in paths:
        path.write_text(HEADER + "\n")
    out, sources, notes = join_parts(_reached(paths), set())
    assert [r.argument for r in out] == [
        str(tmp_path / "app_*.csv"),
        str(tmp_path / "web.csv"),
        str(tmp_path / "shop.csv"),
        str(tmp_path / "orders_7.csv"),
    ]
    assert out[0].files == [tmp_path / "app_1.csv", tmp_path / "app_2.csv"]
    assert sources == {} and len(notes) == 1


def test_two_exports_cut_by_day_in_one_folder_keep_their_own_names(tmp_path):
    """app and web daily files side by side: each glob alone would be named for the folder,
    so each is named for its files instead (app, web), not one source of both."""
    paths = [tmp_path / f"{s}_{d}.csv" for s in ("app", "web") for d in (1, 2)]
    for path in paths:
        path.write_text(HEADER + "\n")
    out, sources, _ = join_parts(_reached(paths), set())
    assert [r.argument for r in out] == [str(tmp_path / "app_*.csv"), str(tmp_path / "web_*.csv")]
    assert sources == {str(tmp_path / "app_*.csv"): "app", str(tmp_path / "web_*.csv"): "web"}


def test_files_the_config_names_a_source_for_are_read_as_given(tmp_path):
    paths = [tmp_path / "app_1.csv", tmp_path / "app_2.csv"]
    for path in paths:
        path.write_text(HEADER + "\n")
    out, _, notes = join_parts(_reached(paths), {str(paths[0])})
    assert [r.argument for r in out] == [str(p) for p in paths] and notes == []


def test_partition_folders_given_file_by_file_are_one_input(tmp_path):
    """`exports/dt=2026-10-01/part-0.csv exports/dt=2026-10-02/part-0.csv`: one input."""
    paths = []
    for d in (1, 2):
        folder = tmp_path / f"dt=2026-10-0{d}"
        folder.mkdir()
        paths.append(folder / "part-0.csv")
        paths[-1].write_text(HEADER + "\n")
    out, _, _ = join_parts(_reached(paths), set())
    # only the digits the files differ in are a wildcard (the day), not those of the folders
    # above them (pytest's numbered temp folder) nor the part's number they share
    assert [r.argument for r in out] == [str(tmp_path / "dt=2026-10-*" / "part-0.csv")]


def test_files_named_alike_of_other_columns_are_not_joined(tmp_path):
    """site1.csv (time in `ts`) and site2.csv (time in `timestamp`, another export) differ
    only in their digits. Joined, the scan refused the pair (exit 3: site2.csv "no event
    time in any row"), though each scans on its own; they are now two inputs, and site1's
    violation of 1 event stands."""
    (tmp_path / "site1.csv").write_text(HEADER + "\ne1,2026-10-01T10:00:00Z,page_view,u1,g1\n")
    (tmp_path / "site2.csv").write_text(
        "event_id,timestamp,event,anonymous_id,fbclid\nx1,2026-10-02T10:00:00Z,page_view,u2,f1\n"
    )
    doc = _scan(tmp_path, [str(tmp_path / "site1.csv"), str(tmp_path / "site2.csv")])
    assert _violations(doc) == [("site1", 1)]
    assert sorted(i["path"] for i in doc["inputs"] if i["role"] == "events") == [
        str(tmp_path / "site1.csv"),
        str(tmp_path / "site2.csv"),
    ]
    assert not [n for n in doc["evidence"].get("notes", []) if "one by one" in n]


def test_a_shape_of_two_kinds_of_file_joins_none(tmp_path):
    """site1/site2 (time in `ts`) and site3/site4 (time in `timestamp`): joined by kind they
    were two inputs both named `site*.csv`, one source `site`; each is now read as given."""
    ts = HEADER + "\ne1,2026-10-01T10:00:00Z,page_view,u1,g1\n"
    other = "event_id,timestamp,event,anonymous_id\nx1,2026-10-02T10:00:00Z,page_view,u2\n"
    paths = [tmp_path / f"site{k}.csv" for k in (1, 2, 3, 4)]
    for path, text in zip(paths, (ts, ts, other, other), strict=True):
        path.write_text(text)
    out, sources, notes = join_parts(_reached(paths), set())
    assert [one.argument for one in out] == [str(p) for p in paths]
    assert (sources, notes) == ({}, [])


def test_consent_logs_after_the_first_of_an_unquoted_consent_glob_are_read_as_consent(tmp_path):
    """`--consent logs/cmp_*.csv` unquoted gives the shell's first file to --consent and the
    second to the events, which refused it (exit 3, "cmp_2.csv: no column for the event name
    ... pass it with --consent"). cmp_2.csv, u1's denial of ads, is now read as consent,
    with a note: u1's page view with a gclid is a violation of 1 event."""
    (tmp_path / "cmp_1.csv").write_text(OTHER)
    (tmp_path / "cmp_2.csv").write_text(LOG)
    (tmp_path / "privdiag.toml").write_text(TOML)
    _day(tmp_path, "app.csv", 1)
    out = tmp_path / "scan.json"
    args = ["scan", str(tmp_path / "app.csv"), "--consent", str(tmp_path / "cmp_1.csv")]
    args += [str(tmp_path / "cmp_2.csv"), "--config", str(tmp_path / "privdiag.toml")]
    result = CliRunner().invoke(app, [*args, "--json", str(out), "-q"])
    assert result.exit_code == 1, result.output
    doc = json.loads(out.read_text())
    assert _violations(doc) == [("app", 1)]
    assert [i["role"] for i in doc["inputs"]] == ["events", "consent", "consent"]
    assert any("given among the event files" in n for n in doc["evidence"]["notes"])


def test_two_inputs_read_as_one_source_name_are_noted(tmp_path):
    """`a/x.csv b/x.csv`: both are source x, their events summed in one violation of 2
    events; the scan said nothing of it (hostile round 27's (1)). A note now names both."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        _day(tmp_path / folder, "x.csv", 1 if folder == "a" else 2)
    doc = _scan(tmp_path, [str(tmp_path / "a" / "x.csv"), str(tmp_path / "b" / "x.csv")])
    assert _violations(doc) == [("x", 2)]
    (note,) = [n for n in doc["evidence"]["notes"] if "read as source" in n]
    assert note.startswith(
        f"2 event inputs ({tmp_path / 'a' / 'x.csv'}, {tmp_path / 'b' / 'x.csv'}) are each "
        "read as source x"
    )


def test_inputs_of_their_own_source_names_get_no_such_note(tmp_path):
    _day(tmp_path, "web.csv", 1)
    _day(tmp_path, "app.csv", 2)
    doc = _scan(tmp_path, [str(tmp_path / "web.csv"), str(tmp_path / "app.csv")])
    assert _violations(doc) == [("app", 1), ("web", 1)]
    assert not [n for n in doc["evidence"].get("notes", []) if "read as source" in n]


def _logs_after_consent(tmp_path: Path, *args: str) -> tuple[int, dict | None, str]:
    """Scan app.csv (u1's page view with a gclid) with ``args``, in tmp_path."""
    (tmp_path / "mon.csv").write_text(OTHER)
    (tmp_path / "tue.csv").write_text(LOG)
    (tmp_path / "privdiag.toml").write_text(TOML)
    _day(tmp_path, "app.csv", 1)
    out = tmp_path / "scan.json"
    paths = [a if a.startswith("-") else str(tmp_path / a) for a in args]
    argv = ["scan", str(tmp_path / "app.csv"), *paths]
    argv += ["--config", str(tmp_path / "privdiag.toml"), "--json", str(out), "-q"]
    result = CliRunner().invoke(app, argv)
    doc = json.loads(out.read_text()) if out.exists() else None
    return result.exit_code, doc, result.output


def test_a_consent_log_after_a_consent_file_named_otherwise_is_read_as_consent(tmp_path):
    """`--consent mon.csv tue.csv` gives tue.csv to the events, which refused it (exit 3,
    "tue.csv: no column for the event name ... pass it with --consent"): hostile round
    27's (2). tue.csv, u1's denial of ads and no events, is now read as consent with a
    note naming it: u1's page view with a gclid is a violation of 1 event."""
    code, doc, output = _logs_after_consent(tmp_path, "--consent", "mon.csv", "tue.csv")
    assert code == 1, output
    assert _violations(doc) == [("app", 1)]
    assert [i["role"] for i in doc["inputs"]] == ["events", "consent", "consent"]
    (note,) = [n for n in doc["evidence"]["notes"] if "given among the event files" in n]
    assert note.startswith(f"{tmp_path / 'tue.csv'}, given among the event files, holds a")
    assert f"give this one as --consent {tmp_path / 'tue.csv'}" in note


def test_a_consent_log_among_the_events_without_consent_files_is_still_refused(tmp_path):
    """With no consent file given at all, a consent log among the events is refused as
    before (exit 3, the hint to pass it with --consent): nothing says consent was meant."""
    code, doc, output = _logs_after_consent(tmp_path, "tue.csv")
    assert code == 3 and doc is None
    assert "pass it with --consent" in output


def test_a_file_of_events_and_consent_columns_after_consent_stays_events(tmp_path):
    """A file that reads as a consent log and as events (it has an event name and time) is
    read as the events it was given as, whatever follows --consent."""
    both = "event_id,ts,event_name,user_id,purpose,status,gclid\n"
    both += "e9,2026-10-01T11:00:00Z,page_view,u1,ads,denied,g9\n"
    (tmp_path / "both.csv").write_text(both)
    code, doc, output = _logs_after_consent(tmp_path, "--consent", "tue.csv", "both.csv")
    assert code == 1, output
    assert [i["role"] for i in doc["inputs"]] == ["events", "events", "consent"]
    notes = doc["evidence"].get("notes", [])
    assert not any("given among the event files" in n for n in notes)


def test_consent_logs_alone_after_consent_say_no_events_were_given(tmp_path):
    """`privdiag scan --consent mon.csv tue.csv`, no events: tue.csv is read as consent, and
    the error names it rather than a bare "no event data given" of a file the user gave."""
    (tmp_path / "mon.csv").write_text(LOG)
    (tmp_path / "tue.csv").write_text(LOG)
    argv = ["scan", "--consent", str(tmp_path / "mon.csv"), str(tmp_path / "tue.csv"), "-q"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2
    assert f"no event data given: {tmp_path / 'tue.csv'} is a consent log" in result.output
    assert "pass the events file or folder as well" in result.output
