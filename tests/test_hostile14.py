"""The fourteenth hostile session's findings: configs nested past Python's recursion limit,
globs and folders with symlinks, id columns of nested types, e-mail and IP addresses in the
names a finding's id is made of."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.audit.history import RunRecord, open_history
from privdiag.audit.lock import hold, lock_path
from privdiag.checks import sparsity
from privdiag.cli import app
from privdiag.config import Config, FeatureConfig
from privdiag.errors import UsageError
from privdiag.ingest.files import _glob, expand
from privdiag.mapping import unmatched_features
from privdiag.privacy import use_hash_key

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _events_csv(path: Path, n: int = 12) -> Path:
    lines = ["event_id,ts,event_name,user_id,gclid"]
    lines += [f"e{i},2026-10-01T01:00:{i:02d}Z,page_view,u{i},g{i}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "toml",
    [
        "x = " + "[" * 3000 + "]" * 3000 + "\n",  # the TOML reader recursed
        "[" + ".".join(f"a{i}" for i in range(3000)) + "]\n",  # privdiag's NUL check did
    ],
    ids=["arrays", "tables"],
)
def test_a_config_nested_thousands_deep_is_a_config_error(tmp_path, toml):
    """A config of arrays or tables nested 3,000 deep was an internal error (exit 5,
    RecursionError) instead of a config error."""
    config = tmp_path / "privdiag.toml"
    config.write_text(toml)
    events = _events_csv(tmp_path / "ev.csv")
    code, output = _run("scan", str(events), "--config", str(config), "-q")
    assert code == 2, output
    assert "more than 32 levels deep" in output


def test_a_glob_through_a_link_to_a_folder_above_reaches_each_file_once(tmp_path):
    """``d/**/*.csv`` followed ``d/loop -> .`` again at every level: one such link gave the
    file forty times over (``d/loop/loop/.../a.csv``), and two (``loop -> .``, ``up -> ../d``)
    2^40 paths, a scan that never ended."""
    folder = tmp_path / "d"
    folder.mkdir()
    _events_csv(folder / "a.csv")
    (folder / "loop").symlink_to(".")
    assert expand(f"{folder}/**/*.csv") == [folder / "a.csv"]
    (folder / "up").symlink_to(folder)
    assert expand(f"{folder}/**/*.csv") == [folder / "a.csv"]


def test_a_folder_linked_into_an_input_folder_is_read(tmp_path):
    """A folder linked into the input folder (a month's exports on another disk) was left out
    of the scan, unsaid: half the events were not read."""
    elsewhere = tmp_path / "mounted" / "2026-10"
    elsewhere.mkdir(parents=True)
    _events_csv(elsewhere / "b.csv")
    exports = tmp_path / "exports"
    exports.mkdir()
    _events_csv(exports / "a.csv")
    (exports / "2026-10").symlink_to(elsewhere)
    (exports / "again").symlink_to(exports)  # and a loop, entered once
    assert expand(str(exports)) == [exports / "2026-10" / "b.csv", exports / "a.csv"]
    assert expand(f"{exports}/**/*.csv") == [exports / "2026-10" / "b.csv", exports / "a.csv"]


@pytest.mark.parametrize(
    "pattern",
    ["**/*.csv", "**", "a/**/*.csv", "a/**/c/*", "**/b/**/*.csv", "a/**/.hid/*.csv", "**/.*"],
)
def test_a_recursive_glob_finds_what_pythons_glob_finds_without_links(tmp_path, pattern):
    """Without links, ``**`` matches the files :func:`glob.glob` matches, hidden names
    matching only parts that start with a dot."""
    for name in ["a/1.csv", "a/b/2.csv", "a/b/c/3.csv", ".h/x/4.csv", "a/.hid/5.csv", "a/.6.csv"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    full = f"{tmp_path}/{pattern}"
    expected = sorted(Path(p) for p in glob.glob(full, recursive=True) if Path(p).is_file())
    assert sorted(Path(p) for p in _glob(full) if Path(p).is_file()) == expected


def _parquet(path: Path, user_id: object = None, event_name: object = None) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 12
    table = {
        "event_id": [f"e{i}" for i in range(n)],
        "ts": [f"2026-10-01T01:00:{i:02d}Z" for i in range(n)],
        "event_name": event_name if event_name is not None else ["page_view"] * n,
        "user_id": user_id if user_id is not None else [f"u{i}" for i in range(n)],
        "gclid": [f"g{i}" for i in range(n)],
    }
    pq.write_table(pa.table(table), path)
    return path


def _consent_csv(path: Path, n: int = 12) -> Path:
    rows = [f"u{i},ads,denied,2026-10-01T00:00:00Z" for i in range(n)]
    path.write_text("user_id,purpose,status,ts\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("column", "values", "said"),
    [
        ("user_id", [{"id": f"u{i}"} for i in range(12)], "holds records (a struct)"),
        ("user_id", [[f"u{i}"] for i in range(12)], "holds lists"),
        ("event_name", [{"name": "page_view"}] * 12, "holds records (a struct)"),
    ],
)
def test_an_id_column_of_nested_values_is_an_input_error(tmp_path, column, values, said):
    """A Parquet user_id of structs (``{id: "u1"}``) or lists was read as its text
    (``{'id': u1}``): no event met its user's consent, the twelve users who denied ads were
    "without a consent decision" and their violation went unseen (exit 0)."""
    events = _parquet(tmp_path / "ev.parquet", **{column: values})
    consent = _consent_csv(tmp_path / "consent.csv")
    config = tmp_path / "privdiag.toml"
    config.write_text('[features.gclid]\npurposes = ["ads"]\n')
    code, output = _run("scan", str(events), "--consent", str(consent), "--config", str(config))
    assert code == 3, output
    assert f"ev.parquet, field {column!r}: {said}" in output


def test_a_consent_user_id_of_structs_is_an_input_error(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    events = _parquet(tmp_path / "ev.parquet")
    consent = tmp_path / "consent.parquet"
    rows = {
        "user_id": [{"id": f"u{i}"} for i in range(12)],
        "purpose": ["ads"] * 12,
        "status": ["denied"] * 12,
        "ts": ["2026-10-01T00:00:00Z"] * 12,
    }
    pq.write_table(pa.table(rows), consent)
    code, output = _run("scan", str(events), "--consent", str(consent), "-q")
    assert code == 3, output
    assert "consent.parquet, field 'user_id': holds records (a struct)" in output


def _unkeyed_id(kind: str, location: dict[str, str]) -> str:
    key = json.dumps({"kind": kind, "location": location}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _scan_named(tmp_path: Path, name: str, hash_key: str | None = None) -> dict:
    """Scan a CSV whose columns include an e-mail and an IP address (a pivot by person)."""
    events = tmp_path / name
    lines = ["event_id,ts,event_name,user_id,bob@example.com,10.1.2.3"]
    lines += [f"e{i},2026-10-01T01:00:{i:02d}Z,page_view,u{i},x,{i % 2 or ''}" for i in range(12)]
    events.write_text("\n".join(lines) + "\n")
    config = tmp_path / "privdiag.toml"
    config.write_text(f'[privacy]\nhash_key = "{hash_key}"\n' if hash_key else "")
    out = tmp_path / "scan.json"
    code, output = _run("scan", str(events), "--config", str(config), "--json", str(out), "-q")
    assert code == 0, output
    return json.loads(out.read_text())


def test_a_finding_id_does_not_give_back_the_address_in_its_location(tmp_path):
    """A finding's id was a plain hash of its kind and location: where the location named a
    column ``10.1.2.3`` (shown as ``[redacted]``), hashing each of the 2^32 IPv4 addresses
    in the same way found it in minutes, and an e-mail address by a guess."""
    doc = _scan_named(tmp_path, "ev.csv")
    unclassified = [f for f in doc["findings"] if f["kind"] == "people.unclassified_feature"]
    assert [f["location"]["feature"] for f in unclassified] == ["[redacted]", "[redacted]"]
    plain = {
        _unkeyed_id("people.unclassified_feature", {"source": "ev", "feature": name})
        for name in ("bob@example.com", "10.1.2.3")
    }
    assert plain.isdisjoint(f["id"] for f in unclassified)
    assert len({f["id"] for f in unclassified}) == 2  # still two findings


def test_hash_key_keeps_the_ids_of_findings_naming_an_address_stable(tmp_path):
    """With ``[privacy] hash_key`` such ids are the same in every run (an audit can diff
    them) and differ under another key; the ids of other findings do not depend on it."""
    first = _scan_named(tmp_path, "ev.csv", hash_key="k1")
    use_hash_key(None)  # as another process would start
    again = _scan_named(tmp_path, "ev.csv", hash_key="k1")
    other = _scan_named(tmp_path, "ev.csv", hash_key="k2")
    assert [f["id"] for f in first["findings"]] == [f["id"] for f in again["findings"]]
    changed = {f["id"] for f in first["findings"]} ^ {f["id"] for f in other["findings"]}
    assert len(changed) == 4  # the two findings naming an address, under each key
    source = [f for f in first["findings"] if f["location"] == {"source": "ev"}]
    assert {f["id"] for f in source} <= {f["id"] for f in other["findings"]}


def test_a_file_named_for_a_person_names_no_source_after_them(tmp_path):
    """The source of ``alice@example.com.csv`` was its name cut at the first dot,
    ``alice@example``, which no redaction caught: it is ``[redacted]`` now."""
    doc = _scan_named(tmp_path, "alice@example.com.csv")
    assert {f["location"]["source"] for f in doc["findings"]} == {"[redacted]"}
    assert "alice" not in json.dumps(doc)


def _damage(path: Path, how: str) -> None:
    size = path.stat().st_size
    if how == "cut short":
        os.truncate(path, size // 2)
        return
    with path.open("r+b") as fh:  # every eighth block from the fourth: some hold the tables
        for offset in range(4096 * 3, size, 4096 * 8):
            fh.seek(offset)
            fh.write(b"\xa5" * 64)


@pytest.mark.parametrize("how", ["cut short", "overwritten"])
def test_a_damaged_history_is_an_input_error_naming_it(tmp_path, how):
    """A history cut short (a copy, a full disk) or with blocks overwritten ended ``--list``
    and the audit in an internal error (exit 5, "Corrupt database file", "Could not read
    enough bytes"), as if privdiag had a bug; it is an input error (exit 3) naming the file
    and saying to restore or move it aside."""
    history = tmp_path / "history.duckdb"
    with open_history(history) as opened:
        finding = {"id": "a", "kind": "consent.violation", "severity": "high", "title": "t"}
        opened.record(
            RunRecord(run_id="r1", started_at="2026-10-01T00:00:00+00:00"),
            [dict(finding, owner=None, location={}, metrics={})],
            {"m": 1.0},
        )
    _damage(history, how)
    code, output = _run("audit", "--history", str(history), "--list")
    assert code == 3, output
    assert "history.duckdb: is damaged: DuckDB cannot read it" in output
    assert "move it aside" in output


@pytest.mark.parametrize(
    ("steps", "said"),
    [
        (
            '["page_view", "add_to_cart", "page_view"]',
            "step 'page_view' is given twice (steps 1 and 3)",
        ),
        ('["page_view", " "]', "step 2 is blank"),
    ],
)
def test_a_journey_step_given_twice_or_blank_is_a_config_error(tmp_path, steps, said):
    """A step given twice was taken: an event takes the first step of its name, so the second
    was a step no event reached (the funnel and the heat maps showed it empty)."""
    config = tmp_path / "privdiag.toml"
    config.write_text(f"[journey]\nsteps = {steps}\n")
    events = _events_csv(tmp_path / "ev.csv")
    code, output = _run("scan", str(events), "--config", str(config), "-q")
    assert code == 2, output
    assert said in output


def test_a_feature_named_in_another_unicode_form_is_classified(tmp_path):
    """``[features."café_id"]`` written with ``é`` did not classify a column ``café_id``
    written with ``e`` and a combining accent (NFD, as macOS names files): its collection
    without consent was checked nowhere, and the note asked "did you mean café_id?"."""
    decomposed = unicodedata.normalize("NFD", "café_id")
    events = tmp_path / "ev.csv"
    lines = [f"event_id,ts,event_name,user_id,{decomposed}"]
    lines += [f"e{i},2026-10-01T01:00:{i:02d}Z,page_view,u{i},x{i}" for i in range(12)]
    events.write_text("\n".join(lines) + "\n")
    consent = _consent_csv(tmp_path / "consent.csv")
    config = tmp_path / "privdiag.toml"
    composed = unicodedata.normalize("NFC", "café_id")
    config.write_text(f'[features."{composed}"]\npurposes = ["ads"]\nowner = "web"\n')
    doc = _scan_doc(tmp_path, events, "--consent", consent, "--config", config)
    violations = [f for f in doc["findings"] if f["kind"] == "consent.violation"]
    assert [(f["metrics"]["users"], f["owner"]) for f in violations] == [(12, "web")]
    assert not doc["evidence"].get("notes")


def _scan_doc(tmp_path: Path, *args: object) -> dict:
    """The JSON result of ``privdiag scan ARGS`` (which finds something: exit 1)."""
    out = tmp_path / "scan.json"
    code, output = _run("scan", *map(str, args), "--json", str(out), "-q")
    assert code == 1, output
    return json.loads(out.read_text())


def test_a_near_miss_that_reads_the_same_names_the_characters_that_differ():
    """``[features.gсlid]`` with a Cyrillic ``с`` got "did you mean gclid?" of a name that
    reads ``gclid``: the note names the character. ``gclid`` with a zero-width space is
    gclid since characters that show as nothing are dropped from names and ids alike."""
    cfg = Config()
    cfg.features = {
        "g\u0441lid": FeatureConfig(purposes=["ads"]),
        "gclid\u200b": FeatureConfig(purposes=["ads"]),
    }
    notes = unmatched_features(["gclid"], cfg)
    assert len(notes) == 1
    assert "holds U+0441 CYRILLIC SMALL LETTER ES, which gclid does not" in notes[0]


def test_a_step_summary_that_cannot_be_written_is_a_warning(tmp_path):
    """Under GitHub Actions, ``$GITHUB_STEP_SUMMARY`` naming a missing folder's file, a
    folder or a full disk ended the run in an internal error (exit 5) after its outputs were
    written, failing a CI step whose scan had passed. It is a warning; the exit code stands."""
    events = _events_csv(tmp_path / "ev.csv")
    out = tmp_path / "scan.json"
    for where in (tmp_path / "missing" / "summary.md", tmp_path):
        env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(where)}
        result = runner.invoke(app, ["scan", str(events), "--json", str(out), "-q"], env=env)
        assert result.exit_code == 0, result.output
        assert f"Warning: could not append the step summary to {where}" in result.output
        assert json.loads(out.read_text())["findings"]


def test_the_consent_gap_counted_in_batches_finds_what_one_query_finds(tmp_path, monkeypatch):
    """The consent gap's counts were one query over every (feature, purpose) pair: 1,000
    feature columns took 88 s in DuckDB's planner alone, 3,000 did not end in 25 minutes.
    Counted :data:`GAP_BATCH` pairs a query, the findings are the same (here 1 pair a query,
    6 features: 6 queries)."""
    events = tmp_path / "ev.csv"
    features = [f"f{j}" for j in range(6)]
    lines = ["event_id,ts,event_name,user_id," + ",".join(features)]
    for i in range(120):  # users who deny ads (odd) lack f0-f2; the others have all
        cells = ["" if i % 2 and j < 3 else "x" for j in range(6)]
        step = ("page_view", "add_to_cart")[i % 4 // 2]
        lines.append(f"e{i},2026-10-0{1 + i % 3}T01:00:00Z,{step},u{i % 40}," + ",".join(cells))
    events.write_text("\n".join(lines) + "\n")
    rows = [f"u{u},ads,{'denied' if u % 2 else 'granted'},2026-09-01T00:00:00Z" for u in range(40)]
    (tmp_path / "c.csv").write_text("user_id,purpose,status,ts\n" + "\n".join(rows) + "\n")
    (tmp_path / "privdiag.toml").write_text('[features."f*"]\npurposes = ["ads"]\n')
    args = (events, "--consent", tmp_path / "c.csv", "--config", tmp_path / "privdiag.toml")

    whole = _scan_doc(tmp_path, *args)["findings"]
    queries = []
    counted = sparsity._gap_sql
    monkeypatch.setattr(sparsity, "GAP_BATCH", 1)
    monkeypatch.setattr(sparsity, "_gap_sql", lambda *a: queries.append(a) or counted(*a))
    batched = _scan_doc(tmp_path, *args)["findings"]
    assert len(queries) == 6
    gaps = [f for f in whole if f["kind"] == "sparsity.consent_gap"]
    assert sorted(f["location"]["feature"] for f in gaps) == ["f0", "f0", "f1", "f1", "f2", "f2"]
    assert batched == whole


@pytest.mark.parametrize("where", ["properties", "categoryPreferences"])
def test_a_segment_member_named_empty_is_left_out_with_a_note(tmp_path, where):
    """A Segment payload with a property or consent category named "" refused the whole
    file ("cannot be read as segment: JSON path error near '.\\"\\"'"): DuckDB's JSONPath
    cannot name such a member. It is left out with a note; the rest is read."""
    path = tmp_path / "segment.ndjson"
    lines = []
    for i in range(12):
        categories = {"Advertising": False}
        properties = {"gclid": f"g{i}"}
        (properties if where == "properties" else categories)[""] = "x"
        payload = {
            "type": "track",
            "event": "Order Completed",
            "userId": f"u{i}",
            "messageId": f"m{i}",
            "timestamp": f"2026-10-01T00:00:{i:02d}Z",
            "properties": properties,
            "context": {"consent": {"categoryPreferences": categories}},
        }
        lines.append(json.dumps(payload) + "\n")
    path.write_text("".join(lines))
    doc = _scan_doc(tmp_path, path)
    (violation,) = [f for f in doc["findings"] if f["kind"] == "consent.violation"]
    assert violation["metrics"]["users"] == 12
    assert "segment.ndjson: 12 payload(s) hold a property, trait or consent category whose " in (
        " ".join(doc["evidence"]["notes"])
    )


def test_a_ga4_event_param_with_an_empty_key_is_left_out_with_a_note(tmp_path):
    """A GA4 event whose event_params held an entry keyed "" refused the whole export
    ("cannot be read as ga4: zero-length delimited identifier"): no column can be named so.
    The entry is left out with a note; the rest is read."""
    path = tmp_path / "ga4.ndjson"
    lines = []
    for i in range(12):
        params = [
            {"key": key, "value": {"string_value": value, "int_value": None}}
            for key, value in (("gclid", f"g{i}"), ("", "x"))
        ]
        row = {
            "event_date": "20261001",
            "event_timestamp": 1790000000000000 + i,
            "event_name": "page_view",
            "event_params": params,
            "user_pseudo_id": f"p{i}",
            "privacy_info": {"ads_storage": "No", "analytics_storage": "Yes"},
        }
        lines.append(json.dumps(row) + "\n")
    path.write_text("".join(lines))
    doc = _scan_doc(tmp_path, path)
    assert doc["inputs"][0]["format"] == "ga4"
    (violation,) = [f for f in doc["findings"] if f["kind"] == "consent.violation"]
    assert violation["location"]["feature"] == "gclid"
    assert "12 event(s) carry an event_params entry whose key is empty" in " ".join(
        doc["evidence"]["notes"]
    )


@pytest.mark.parametrize(
    ("column", "nest", "said"),
    [
        ("label", lambda v: [int(v)], "field 'label': holds lists, where the model check reads"),
        ("label", lambda v: {"y": int(v)}, "field 'label': holds records (a struct)"),
        ("sessions_30d", lambda v: {"v": v}, "field 'sessions_30d': holds records (a struct)"),
    ],
)
def test_a_blind_set_column_of_nested_values_is_an_input_error(tmp_path, column, nest, said):
    """A Parquet blind set whose label held lists or structs ended in an internal error
    (exit 5: "cannot cast List type", "only 0-dimensional arrays ..."); a feature of structs
    in numpy's "setting an array element with a sequence"."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from privdiag.model.synthetic import make_blind_set

    table = make_blind_set(n=200, seed=0).to_arrow()
    values = pa.array([nest(v) for v in table.column(column).to_pylist()])
    path = tmp_path / "blind.parquet"
    pq.write_table(table.set_column(table.column_names.index(column), column, values), path)
    model = Path(__file__).resolve().parent.parent / "fixtures/models/propensity_imputed.onnx"
    code, output = _run("model-check", str(model), "--blind-set", str(path), "--label", "label")
    assert code == 3, output
    assert f"blind.parquet, {said}" in output


@pytest.mark.parametrize("link", ["symbolic", "hard"])
def test_the_lock_file_is_never_written_through_a_link(tmp_path, link):
    """``<history>.lock`` planted as a link to another file (``ln -s /etc/shadow ...`` in a
    shared folder) had the audit truncate that file and write its process id into it, as
    whoever ran the audit (a cron job, often root). Such a lock file is a usage error, and
    the file it names is left as it was."""
    precious = tmp_path / "precious.txt"
    precious.write_text("precious\n")
    history = tmp_path / "history.duckdb"
    lock = lock_path(history)
    if link == "symbolic":
        lock.symlink_to(precious)
    else:
        lock.hardlink_to(precious)
    with pytest.raises(UsageError, match=f"is a {link} link|is a hard link of another file"):
        with hold(history):
            pass
    assert precious.read_text() == "precious\n"
    lock.unlink()
    with hold(history) as made:  # once removed, the audit makes its own
        assert made.read_text() == f"{os.getpid()}\n"


def test_names_from_the_data_are_no_workflow_commands_under_github_actions(tmp_path):
    """Under GitHub Actions the runner takes any output line starting with ``::`` as a
    command: a column named ``::error title=FORGED::x``, which the summary's table puts at
    the start of a line, forged an error annotation (and ``::stop-commands::`` could have
    hidden privdiag's own). The summary is printed between ``::stop-commands::TOKEN`` and
    ``::TOKEN::``, so the runner reads it as text; privdiag's annotations come before."""
    events = tmp_path / "ev.csv"
    lines = ["event_id,ts,event_name,user_id,::error title=FORGED::x"]
    lines += [f"e{i},2026-10-01T01:00:{i:02d}Z,page_view,u{i},v" for i in range(12)]
    events.write_text("\n".join(lines) + "\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": ""}
    result = runner.invoke(app, ["scan", str(events), "--json", str(tmp_path / "o.json")], env=env)
    assert result.exit_code == 0, result.output
    out = result.output.splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith("::stop-commands::"))
    token = out[start].removeprefix("::stop-commands::")
    assert len(token) == 32 and out.count(f"::{token}::") == 1
    end = out.index(f"::{token}::")
    forged = [i for i, line in enumerate(out) if "FORGED" in line and "::warning" not in line]
    assert forged and all(start < i < end for i in forged)
    assert any(line.startswith("::warning title=privdiag") for line in out[:start])


def test_an_error_naming_a_file_is_no_workflow_command_under_github_actions(tmp_path):
    """An error naming a file called ``b\\n::error title=FORGED::x.csv`` put
    ``::error title=FORGED::...`` at the start of a line of stderr, which the runner reads
    for commands too: the error is printed between ``::stop-commands::TOKEN`` and
    ``::TOKEN::`` under GitHub Actions, and as it was elsewhere."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "b\n::error title=FORGED::x.csv").write_text("")
    for env, guarded in (({"GITHUB_ACTIONS": "true"}, True), ({"GITHUB_ACTIONS": ""}, False)):
        result = runner.invoke(app, ["scan", str(folder), "-q"], env=env)
        assert result.exit_code == 3, result.output
        out = result.output.splitlines()
        assert out[0].startswith("::stop-commands::") == guarded
        # since hostile round 23 the name's line break is a space: no line starts with the
        # forged command at all, guarded or not
        (forged,) = [n for n, line in enumerate(out) if "::error title=FORGED::x.csv" in line]
        assert out[forged].startswith("Error: ") and out[forged].endswith(
            "b ::error title=FORGED::x.csv: is empty"
        )
        if guarded:
            token = out[0].removeprefix("::stop-commands::")
            assert forged < out.index(f"::{token}::") == len(out) - 1


@pytest.mark.parametrize("removed", ["b.csv", "a.csv"])
def test_a_file_that_goes_away_after_the_listing_is_named_so(tmp_path, monkeypatch, removed):
    """Found by the fourteenth hostile session: a file of a folder deleted between the
    listing and the read (a rotation) was an input error in DuckDB's words ("No files found
    that match the pattern") with a hint to check the file is complete."""
    import privdiag.ingest.reading as reading

    folder = tmp_path / "events"
    folder.mkdir()
    for name, user in (("a.csv", "u1"), ("b.csv", "u2")):
        (folder / name).write_text(
            f"ts,event_name,user_id\n2026-10-01T10:00:00Z,page_view,{user}\n"
        )
    listed = reading.check_partitions

    def rotate(files, argument):  # runs after the listing, before any read
        listed(files, argument)
        (folder / removed).unlink()

    monkeypatch.setattr(reading, "check_partitions", rotate)
    run = CliRunner().invoke(app, ["scan", str(folder), "--quiet"])
    assert run.exit_code == 3, run.output
    assert f"{folder / removed}: went away after privdiag listed it" in run.output
    assert "run again when the folder's files stay put" in run.output
