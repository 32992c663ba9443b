"""The thirteenth hostile session's findings: paths that name no regular file (a folder, a
pipe, a device) where model-check and the survey read one."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.model.synthetic import make_blind_set

MODEL = Path(__file__).resolve().parent.parent / "fixtures" / "models" / "propensity_imputed.onnx"
runner = CliRunner()


@pytest.fixture(scope="module")
def blind(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("blind") / "blind.parquet"
    make_blind_set(n=300, seed=0).write_parquet(path)
    return path


@pytest.fixture
def pipe(tmp_path):
    """A named pipe. A thread plays the writer that opens it and closes it at once, so a
    reader that opens it (the behaviour fixed here) gets an empty file instead of waiting for
    ever; the test fails rather than hangs without the fix."""
    path = tmp_path / "pipe"
    os.mkfifo(path)
    done = threading.Event()

    def writer() -> None:
        while not done.is_set():
            with open(path, "wb"):  # blocks until a reader opens the pipe
                pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    yield path
    done.set()
    while thread.is_alive():  # release the writer's open, then let it see ``done``
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        thread.join(0.05)


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _named(pipe: Path, name: str) -> Path:
    """``pipe`` under a name with the suffix a reader goes by."""
    path = pipe.with_name(name)
    path.symlink_to(pipe)
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("option", ["model", "--blind-set", "--reference", "--predictions"])
def test_model_check_refuses_a_pipe_it_would_wait_on(blind, pipe, option):
    """A pipe as the model, blind set or reference waited for a writer for ever, and Ctrl-C did
    not stop it (the read is inside onnxruntime or polars): only SIGKILL did."""
    model, args = str(MODEL), ["--blind-set", str(blind)]
    if option == "model":
        model = str(_named(pipe, "model.onnx"))
    elif option == "--blind-set":
        args = ["--blind-set", str(_named(pipe, "blind.csv"))]
    else:
        args += [option, str(_named(pipe, "unmasked.csv"))]
    code, output = _run("model-check", model, *args, "--label", "label", "-q")
    assert code == 3, output
    assert "is not a regular file (a pipe or a device)" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("option", ["model", "--blind-set", "--predictions", "--scan-result"])
def test_model_check_says_a_folder_is_a_folder(blind, tmp_path, option):
    """A folder named x.parquet as the blind set gave polars' own message ("path expansion
    input: 'paths: [PlRefPath ...'"), a folder of --predictions "file not found", a folder as
    the model "not a readable ONNX model"."""
    folder = tmp_path / ("m.onnx" if option == "model" else "unmasked.parquet")
    folder.mkdir()
    model, args = str(MODEL), ["--blind-set", str(blind)]
    if option == "model":
        model = str(folder)
    elif option == "--blind-set":
        args = ["--blind-set", str(folder)]
    else:
        args += [option, str(folder)]
    code, output = _run("model-check", model, *args, "--label", "label", "-q")
    assert code == 3, output
    assert f"{folder}: is a folder, not a file" in output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_scan_result_and_survey_refuse_a_pipe(blind, pipe, tmp_path):
    """--scan-result of a pipe was "is a folder, not a scan result"; --survey of a pipe read
    it twice (its head, then the rest) and waited for ever past Ctrl-C."""
    code, output = _run(
        "model-check", str(MODEL), "--blind-set", str(blind), "--scan-result", str(pipe), "-q"
    )
    assert code == 3 and "is not a regular file (a pipe or a device)" in output, output
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,ts,event_name,user_id\n"
        + "".join(f"e{i},2026-10-01T00:00:{i:02d}Z,page_view,u{i}\n" for i in range(20))
    )
    code, output = _run("scan", str(events), "--survey", str(pipe), "-q")
    assert code == 3 and "is not a regular file (a pipe or a device)" in output, output


@pytest.mark.parametrize("option", ["--json", "--html", "--markdown", "--junit"])
def test_an_output_given_an_empty_name_is_a_usage_error(tmp_path, option):
    """`--json ""` was taken as no --json: the run ended 0 or 1 and wrote no file, unsaid."""
    scan = tmp_path / "scan.json"
    scan.write_text('{"schema_version": 1, "tool": "privdiag", "command": "scan", "findings": []}')
    code, output = _run("report", str(scan), option, "")
    assert code == 2, output
    assert f"{option} was given an empty file name" in output
    assert f"hint: give {option} a file name" in output


def _ndjson_scan(tmp_path: Path, records: list[dict]) -> dict:
    """Scan NDJSON events with a consent file in which users u0..u11 deny ads and u12
    grants it; gclid needs ads. Returns the JSON result."""
    events = tmp_path / "events.ndjson"
    events.write_text("".join(json.dumps(r) + "\n" for r in records))
    consent = tmp_path / "consent.csv"
    consent.write_text(
        "user_id,purpose,status,ts\n"
        + "".join(
            f"u{i},ads,{'granted' if i == 12 else 'denied'},2026-10-01T00:00:00Z\n"
            for i in range(13)
        )
    )
    config = tmp_path / "privdiag.toml"
    config.write_text('[features.gclid]\npurposes = ["ads"]\n')
    out = tmp_path / "scan.json"
    code, output = _run(
        "scan", str(events), "--consent", str(consent), "--config", str(config), "--json", str(out)
    )
    assert code in (0, 1), output
    return json.loads(out.read_text())


def _event(i: int, user: object, gclid: object) -> dict:
    return {
        "event_id": f"e{i}",
        "ts": f"2026-10-01T01:00:{i:02d}Z",
        "event_name": "page_view",
        "user_id": user,
        "gclid": gclid,
    }


def test_one_user_id_of_another_json_kind_leaves_the_others_ids_as_they_are(tmp_path):
    """One record whose user_id is of another kind (a number no number type holds; an object
    did it too, and is now refused: tests/test_json_nested_ids.py) gave the column DuckDB's
    JSON type, and every id was read with its quotes ("u1"): no event met its user's consent,
    so the violation of the twelve users who denied ads went unseen and all were "without a
    consent decision"."""
    records = [_event(i, f"u{i}", f"gcl-{i}") for i in range(12)]
    records.append(_event(12, 10**40, None))
    doc = _ndjson_scan(tmp_path, records)
    (violation,) = [f for f in doc["findings"] if f["kind"] == "consent.violation"]
    assert violation["metrics"]["users"] == 12
    missing = [f for f in doc["findings"] if f["kind"] == "consent.missing_record"]
    assert [f["metrics"]["users"] for f in missing] == [None]  # the one odd id: under 5


def test_one_huge_number_does_not_make_empty_features_present(tmp_path):
    """One gclid of 41 digits (no number type holds it) among empty strings gave gclid the
    JSON type, and its empty strings were read as the text '""', present: twelve users who
    denied ads and sent no gclid were "collected without consent"."""
    records = [_event(i, f"u{i}", "") for i in range(12)]
    records.append(_event(12, "u12", 10**40))
    doc = _ndjson_scan(tmp_path, records)
    assert [f for f in doc["findings"] if f["kind"].startswith("consent.")] == []


def test_one_consent_user_id_of_another_json_kind_leaves_the_others_ids_as_they_are(tmp_path):
    """The same in an NDJSON consent file: one user_id of another kind (an object then, now
    refused; a 41-digit number here) made every consent record's user "u1" with its quotes,
    and every user of the events was without a decision."""
    records = [_event(i, f"u{i}", f"gcl-{i}") for i in range(12)]
    consent = tmp_path / "consent.ndjson"
    decisions = [
        {"user_id": f"u{i}", "purpose": "ads", "status": "denied", "ts": "2026-10-01T00:00:00Z"}
        for i in range(12)
    ]
    decisions.append(dict(decisions[0], user_id=10**40))
    consent.write_text("".join(json.dumps(d) + "\n" for d in decisions))
    events = tmp_path / "events.ndjson"
    events.write_text("".join(json.dumps(r) + "\n" for r in records))
    config = tmp_path / "privdiag.toml"
    config.write_text('[features.gclid]\npurposes = ["ads"]\n')
    out = tmp_path / "scan.json"
    code, output = _run(
        "scan", str(events), "--consent", str(consent), "--config", str(config), "--json", str(out)
    )
    assert code == 1, output
    doc = json.loads(out.read_text())
    (violation,) = [f for f in doc["findings"] if f["kind"] == "consent.violation"]
    assert violation["metrics"]["users"] == 12
    assert not [f for f in doc["findings"] if f["kind"] == "consent.missing_record"]


@pytest.mark.parametrize("odd", ["[1, 2, 3]", "42", '"text"'])
@pytest.mark.parametrize("role", ["events", "consent"])
@pytest.mark.parametrize("line", [6, 1])
def test_an_ndjson_line_that_is_no_object_is_named(tmp_path, odd, role, line):
    """One line of an NDJSON file that is an array, a number or a text made the reader take
    every record as one JSON value: the file was said to have "no column for the event time"
    (a consent file "lacks columns for purpose, status"), of a file that has them. On the
    first line (the fourteenth hostile session), the file was taken for CSV by its first
    character, or for a JSON array ("json_read expected records")."""
    good = (
        _event(0, "u0", "g")
        if role == "events"
        else {"user_id": "u0", "purpose": "ads", "status": "denied", "ts": "2026-10-01T00:00:00Z"}
    )
    path = tmp_path / "in.ndjson"
    records = [json.dumps(good) + "\n"] * 5
    records.insert(line - 1, odd + "\n")
    path.write_text("".join(records))
    events = tmp_path / "events.csv"
    events.write_text("event_id,ts,event_name,user_id\ne1,2026-10-01T00:00:01Z,page_view,u0\n")
    args = [str(path)] if role == "events" else [str(events), "--consent", str(path)]
    code, output = _run("scan", *args, "-q")
    assert code == 3, output
    assert f"line {line} is a JSON value that is not an object" in output


def test_a_csv_line_longer_than_64_mb_is_named_not_read_as_one_column(tmp_path):
    """A gzipped CSV whose second line runs 70 MB without a newline (a corrupt file; a gzip
    bomb of one letter) was "reads as a single column: its delimiter could not
    be told", of a file whose header has three columns."""
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    parts = [packer.compress(b"ts,event_name,user_id\n")]
    parts += [packer.compress(b"a" * (1 << 20)) for _ in range(70)]
    path = tmp_path / "events.csv.gz"
    path.write_bytes(b"".join(parts) + packer.flush())
    code, output = _run("scan", str(path), "-q")
    assert code == 3, output
    assert "line 2 is longer than 64 MB" in output


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_export_blind_sets_stopped_midway_leaves_no_partial_set(blind, tmp_path, monkeypatch, stop):
    """Ctrl-C (or a full disk) during --export-blind-sets left the scenarios written so far,
    a set short of the others (and the file being written cut short), to be scored as if
    whole. The files are now written aside and moved in once all are written."""
    from privdiag.model import blindset

    calls = []
    write = blindset.export

    def export(frame, features, name, folder):
        calls.append(name)
        if len(calls) == 3:
            raise stop
        return write(frame, features, name, folder)

    monkeypatch.setattr(blindset, "export", export)
    out = tmp_path / "sets"
    out.mkdir()
    (out / "earlier.txt").write_text("a file of the user's")
    from privdiag.config import Config
    from privdiag.model import run_model_check

    args = {"config": Config(), "label": "label", "export_blind_sets": out}
    with pytest.raises((KeyboardInterrupt, OSError)):
        run_model_check(MODEL, blind, **args)
    assert sorted(p.name for p in out.iterdir()) == ["earlier.txt"]
    monkeypatch.setattr(blindset, "export", write)
    run_model_check(MODEL, blind, **args)
    assert "unmasked.parquet" in {p.name for p in out.iterdir()}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("command", ["generate", "model-check"])
def test_a_folder_option_given_an_empty_name_is_a_usage_error(
    blind, tmp_path, monkeypatch, command
):
    """`generate --out ""` and `model-check --export-blind-sets ""` wrote into the current
    folder: a path option reads "" as ".". Now exit 2, and nothing is written."""
    monkeypatch.chdir(tmp_path)
    if command == "generate":
        option = "--out"
        code, output = _run("generate", "--out", "", "--users", "40", "--days", "4")
    else:
        option = "--export-blind-sets"
        args = [str(MODEL), "--blind-set", str(blind), "--export-blind-sets", "", "-q"]
        code, output = _run("model-check", *args)
    assert code == 2, output
    # worded as an empty --json or --show is (it was "--out is given an empty name")
    assert f"{option} was given an empty folder name" in output
    assert f"hint: give {option} a folder name" in output
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_mapping_that_takes_the_purpose_column_for_the_user_says_so(tmp_path):
    """`[consent] columns = { user_id = "purpose" }` was "consent file lacks columns for
    purpose", with the names purpose is read from, 'purpose' among them."""
    events = tmp_path / "events.csv"
    events.write_text("event_id,ts,event_name,user_id\ne1,2026-10-01T10:00:00Z,v,u1\n")
    consent = tmp_path / "consent.csv"
    consent.write_text("user_id,purpose,status,ts\nu1,ads,granted,2026-10-01T09:00:00Z\n")
    config = tmp_path / "privdiag.toml"
    config.write_text('[consent]\ncolumns = { user_id = "purpose" }\n')

    code, output = _run(
        "scan", str(events), "--consent", str(consent), "--config", str(config), "-q"
    )

    assert code == 3, output
    said = " ".join(output.split())
    assert (
        "consent file lacks columns for purpose: the config maps column 'purpose', which "
        "purpose is read from, to user_id" in said
    )
    assert (
        'map user_id to the column that holds it: [consent] columns = { user_id = "<column>" }'
        in said
    )


def test_a_mapping_that_takes_the_time_column_for_the_user_says_so(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("event_id,ts,event_name,user_id\ne1,2026-10-01T10:00:00Z,v,u1\n")
    config = tmp_path / "privdiag.toml"
    config.write_text(f'[sources.web]\npaths = ["{events}"]\ncolumns = {{ user_id = "ts" }}\n')

    code, output = _run("scan", str(events), "--config", str(config), "-q")

    assert code == 3, output
    said = " ".join(output.split())
    assert "no column for the event time: the config maps column 'ts', which ts is read " in said
    assert "from, to user_id" in said


def test_segment_categories_of_values_neither_granted_nor_denied_are_noted(tmp_path):
    """A category valued `maybe` gave its payload no flag and no consent record, unsaid, where
    a flat consent_<purpose> column's such values are counted in a note. Four payloads (two
    users, a preference event and an order each): Advertising `maybe` for u0 and an object
    for u1 (4 events, e.g. 'maybe'); Analytics `partial` for u0 (2), `unset` for u1 (no
    decision, not counted)."""
    path = tmp_path / "segment.ndjson"
    payloads = []
    for i, (ads, analytics) in enumerate([("maybe", "partial"), ({"x": 1}, "unset")]):
        prefs = {"categoryPreferences": {"Advertising": ads, "Analytics": analytics}}
        for event in ("Segment Consent Preference Updated", "Order Completed"):
            payloads.append({
                "type": "track", "event": event, "userId": f"u{i}",
                "messageId": f"{event[:5]}{i}", "timestamp": "2026-10-01T09:00:00Z",
                "properties": {"plan": "pro"}, "context": {"consent": prefs},
            })  # fmt: skip
    path.write_text("".join(json.dumps(p) + "\n" for p in payloads))
    out = tmp_path / "scan.json"

    code, output = _run("scan", str(path), "--json", str(out), "-q")

    assert code in (0, 1), output
    notes = json.loads(out.read_text())["evidence"]["notes"]
    said = [n.split(": ", 1)[1] for n in notes if "read as neither" in n]
    assert said == [
        "context.consent.categoryPreferences (ads): 4 events with a value read as neither "
        "granted nor denied (e.g. 'maybe'); their ads state is unknown unless the consent log "
        "decides it: write them as granted/denied (or yes/no, true/false, 1/0), or map your "
        "words in the config's [consent.status_words]",
        "context.consent.categoryPreferences (analytics): 2 events with a value read as "
        "neither granted nor denied (e.g. 'partial'); their analytics state is unknown unless "
        "the consent log decides it: write them as granted/denied (or yes/no, true/false, 1/0), "
        "or map your words in the config's [consent.status_words]",
    ]


def test_an_ndjson_record_nested_deeper_than_pythons_parser_is_no_internal_error(tmp_path):
    """Two records holding a list nested 2,000 deep (the fuzz test's mutation of
    deep_nesting.ndjson, seed 463934225): the reader refused the file, and the search for
    the line that is no object then parsed each line with Python's JSON parser, whose
    RecursionError ended the run as an internal error (exit 5). A line too deep for that
    parser is passed over, as a line that is not JSON is, and the reader's error stands."""
    record = (
        '{"event_id":"e1","ts":"2026-10-01T10:00:00Z","event_name":"a","user_id":"u1","x":'
        + "[" * 2000
        + "]" * 2000
        + "}\n"
    )
    path = tmp_path / "deep.ndjson"
    path.write_text(record * 2)
    code, output = _run("scan", str(path), "-q")
    assert code in (0, 1, 2, 3), output
    assert "Internal error" not in output and "Traceback" not in output, output
