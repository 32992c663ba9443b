"""Tenth hostile review: what the commands did with inputs and settings made to break them.

Each test names the input and what privdiag did before its fix.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import parse_config
from privdiag.errors import ConfigError, UsageError

CORPUS = Path(__file__).parent / "corpus" / "files"
EVENTS = CORPUS / "csv" / "good.csv"
CONSENT = "user_id,purpose,status,ts\nuid-7f3a00,ads,granted,2026-10-01T09:00:00Z\n"


def _run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.csv"
    shutil.copy(EVENTS, path)
    return path


@pytest.mark.parametrize("option", ["--json", "--html", "--markdown", "--junit"])
def test_an_output_naming_the_events_input_is_refused_and_the_input_kept(events, option):
    """``privdiag scan events.csv --json events.csv`` replaced the events with the JSON result
    (exit 1, the data gone); now a usage error naming the option and the input."""
    before = events.read_bytes()

    result = _run("scan", events, option, events, "-q")

    assert result.exit_code == 2, result.output
    assert f"cannot write {option} {events}: it is also an input" in result.output
    assert events.read_bytes() == before


def test_an_output_reaching_an_input_through_a_link_folder_or_glob_is_refused(events, tmp_path):
    """The same input reached another way: a symlink to it, a file inside a folder given
    as input, a file a glob matches, and the consent file."""
    link = tmp_path / "link.csv"
    link.symlink_to(events)
    consent = tmp_path / "cmp.csv"
    consent.write_text(CONSENT)
    before = {p: p.read_bytes() for p in (events, consent)}

    cases = [
        ("scan", events, "--json", link),
        ("scan", tmp_path, "--html", events),
        ("scan", str(tmp_path / "*.csv"), "--markdown", events),
        ("scan", events, "--consent", consent, "--junit", consent),
    ]
    for args in cases:
        result = _run(*args, "-q")
        assert result.exit_code == 2, (args, result.output)
        assert "it is also an input of this run" in result.output, args

    assert {p: p.read_bytes() for p in before} == before


def test_a_new_output_beside_the_inputs_is_written(events, tmp_path):
    """An output that does not exist yet is no input, in the inputs' folder too."""
    result = _run("scan", tmp_path, "--json", tmp_path / "result.json", "-q")

    assert result.exit_code == 1, result.output
    assert (tmp_path / "result.json").is_file()


def test_two_outputs_naming_one_file_are_refused(events, tmp_path):
    """``--json out --html ./out`` wrote the JSON, then the HTML over it (exit 1, the JSON
    lost without a word)."""
    target = tmp_path / "out"

    result = _run("scan", events, "--json", target, "--html", f"{tmp_path}/./out", "-q")

    assert result.exit_code == 2, result.output
    assert "--json and --html both name" in result.output
    assert not target.exists()


def test_report_model_check_and_init_refuse_an_output_naming_their_input(events, tmp_path):
    """``report r.json --json r.json`` replaced the result it read, ``model-check ...
    --json holdout.parquet`` the blind set, and ``init events.csv --output events.csv
    --force`` the events with a config."""
    result_file = tmp_path / "r.json"
    assert _run("scan", events, "--json", result_file, "-q").exit_code == 1
    kept = result_file.read_bytes()
    models = Path(__file__).parents[1] / "fixtures" / "models"
    blind = tmp_path / "holdout.csv"
    blind.write_text("sessions_30d,label\n1,0\n")

    report = _run("report", result_file, "--json", result_file, "-q")
    model = _run(
        "model-check", models / "propensity_imputed.onnx", "--blind-set", blind,
        "--json", blind, "-q",
    )  # fmt: skip
    init = _run("init", events, "--output", events, "--force")

    for result in (report, model, init):
        assert result.exit_code == 2, result.output
        assert "it is also an input of this run" in result.output
    assert result_file.read_bytes() == kept
    assert blind.read_text() == "sessions_30d,label\n1,0\n"
    assert events.read_bytes() == EVENTS.read_bytes()


def test_audit_refuses_an_output_naming_a_file_of_its_config(events, tmp_path):
    """``audit --config privdiag.toml --json cmp.csv`` replaced the consent file the config
    names (and ``--html privdiag.toml`` the config itself)."""
    consent = tmp_path / "cmp.csv"
    consent.write_text(CONSENT)
    config = tmp_path / "privdiag.toml"
    config.write_text(f'[sources.web]\npaths = ["{events.name}"]\n[consent]\npaths = ["cmp.csv"]\n')

    for option, target in (("--json", consent), ("--html", config), ("--markdown", events)):
        result = _run("audit", "--config", config, option, target, "-q")
        assert result.exit_code == 2, result.output
        assert "it is also an input of this run" in result.output

    assert consent.read_text() == CONSENT
    assert config.read_text().startswith("[sources.web]")
    assert not (tmp_path / "privdiag-history.duckdb").exists()


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("grace_seconds = nan", "grace_seconds = nan is out of range"),
        ("grace_seconds = inf", "grace_seconds = inf is out of range"),
        ("grace_seconds = -5", "grace_seconds = -5.0 is out of range"),
        ("min_group_size = -3", "min_group_size = -3 is out of range"),
        ("min_group_size = 0", "min_group_size = 0 is out of range"),
        ("alpha = 2", "alpha = 2.0 is out of range"),
        ("alpha = 0", "alpha = 0.0 is out of range"),
        ("min_gap = nan", "min_gap = nan is out of range"),
        ("min_gap = 1.5", "min_gap = 1.5 is out of range"),
    ],
)
def test_a_threshold_out_of_its_range_is_a_config_error(events, tmp_path, line, said):
    """``grace_seconds = nan`` (or ``inf``) reached DuckDB's SQL as a column name: an internal
    error (exit 5, "Referenced column "nan" not found"); ``min_group_size = -3`` or ``0``
    suppressed no group at all, so every count of one user was shown; ``alpha = 2``,
    ``min_gap = nan`` ran with tests that mean nothing."""
    config = tmp_path / "privdiag.toml"
    config.write_text(f"[thresholds]\n{line}\n")

    result = _run("scan", events, "--config", config, "-q")

    assert result.exit_code == 2, result.output
    assert f"[thresholds.{line.split()[0]}]: {said}" in result.output


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ("[sources.app]\npaths = 5", "[sources.app.paths]: paths must be a path or a list"),
        ("[sources.app]\npaths = [5]", "[sources.app.paths]: paths must be a path or a list"),
        ("[consent]\npaths = [5]", "[consent.paths]: paths must be a path or a list"),
        ('[sources.app]\nowner = ["a", "b"]', "[sources.app.owner]: owner must be a string"),
        ('[owners]\n"feature:*" = {a = 1}', "[owners.feature:*]: an owner must be a string"),
        ("[models.m]\npath = 5", "[models.m.path]: path must be a string"),
        ('[models.m]\npath = "m.onnx"\nlabel = 7', "[models.m.label]: label must be a string"),
        ("[privacy]\nhash_key = 5", "[privacy.hash_key]: hash_key must be a string"),
    ],
)
def test_a_config_value_of_the_wrong_type_is_a_config_error(events, tmp_path, toml, said):
    """``paths = 5`` or ``[5]`` (sources, consent) was an internal error (exit 5, "'int'
    object is not iterable"); an owner written as a list or a table became its Python form
    (``['a', 'b']``) in every report; a model's path, label or blind set as a number was
    taken as it was."""
    config = tmp_path / "privdiag.toml"
    config.write_text(toml + "\n")

    result = _run("scan", events, "--config", config, "-q")

    assert result.exit_code == 2, result.output
    assert said in result.output


@given(
    key=st.sampled_from(["grace_seconds", "min_group_size", "alpha", "min_gap"]),
    value=st.one_of(st.floats(), st.integers(min_value=-(2**70), max_value=2**70)),
)
def test_any_threshold_is_either_taken_in_its_range_or_a_config_error(key, value):
    """Property: a [thresholds] number is taken only when finite and in its range; any other
    is a ConfigError naming the key, never another exception."""
    try:
        thresholds = parse_config({"thresholds": {key: value}}, Path("p.toml")).thresholds
    except ConfigError as exc:
        assert f"[thresholds.{key}]" in str(exc)
        return
    taken = getattr(thresholds, key)
    assert math.isfinite(taken)
    assert {"grace_seconds": 0 <= taken, "min_group_size": taken >= 1}.get(key, 0 <= taken <= 1)
    assert key != "alpha" or 0 < taken < 1


@pytest.mark.parametrize("stop", [KeyboardInterrupt, UsageError("cannot write out.md: no room")])
def test_an_interrupt_while_the_outputs_are_written_leaves_none_of_this_run(
    events, tmp_path, monkeypatch, stop
):
    """Ctrl-C (or a full disk) after the JSON was written but before the Markdown left this
    run's JSON and HTML beside the last run's Markdown, with exit 130: a set of outputs
    from two runs. Now the outputs are renamed into place together at the end, so that none
    of this run's is left and the earlier files stay as they were."""
    import privdiag.report

    def stopped(*_args, **_kwargs):
        raise stop

    monkeypatch.setattr(privdiag.report, "write_markdown", stopped)
    out = {k: tmp_path / f"out.{k}" for k in ("json", "html", "md")}
    for path in out.values():
        path.write_text("earlier run\n")

    result = _run(
        "scan", events, "--json", out["json"], "--html", out["html"], "--markdown", out["md"]
    )

    assert result.exit_code == (130 if stop is KeyboardInterrupt else 2), result.output
    assert {k: p.read_text() for k, p in out.items()} == dict.fromkeys(out, "earlier run\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "events.csv",
        "out.html",
        "out.json",
        "out.md",
    ]


MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "propensity_imputed.onnx"


@pytest.fixture
def blind_frame():
    from privdiag.model.synthetic import make_blind_set

    return make_blind_set(400, seed=3)


def test_a_blind_set_of_no_rows_is_an_input_error(tmp_path, blind_frame):
    """A blind set holding only its header (CSV) or no row group (Parquet) was an internal
    error (exit 5, "index 0 out-of-bounds in add.reduceat")."""
    for name, write in (("b.parquet", "write_parquet"), ("b.csv", "write_csv")):
        path = tmp_path / name
        getattr(blind_frame.head(0), write)(path)

        result = _run("model-check", MODEL, "--blind-set", path, "--label", "label", "-q")

        assert result.exit_code == 3, result.output
        assert f"{path}: holds no rows (only a header)" in result.output


def test_a_label_of_text_is_an_input_error_that_quotes_none_of_it(tmp_path, blind_frame):
    """A label of words was an internal error (exit 5) whose message quoted the labels
    ("conversion from `str` to `f64` failed ... ["no", "no", … "yes"]"). Words that say
    yes or no (``yes`` / ``no``, ``true`` / ``false``) are read as 1 / 0; others are an input
    error naming the row and describing the value, quoting none."""
    import polars as pl

    words = pl.when(pl.col("label") == 1).then(pl.lit("high")).otherwise(pl.lit("lower"))
    worded = tmp_path / "words.csv"
    blind_frame.with_columns(words.alias("label")).write_csv(worded)
    taken = []
    for name, yes, no in (("truth", "True", " false"), ("answers", "yes", "No")):
        told = tmp_path / f"{name}.csv"
        truth = pl.when(pl.col("label") == 1).then(pl.lit(yes)).otherwise(pl.lit(no))
        blind_frame.with_columns(truth.alias("label")).write_csv(told)
        taken.append(_run("model-check", MODEL, "--blind-set", told, "--label", "label", "-q"))

    result = _run("model-check", MODEL, "--blind-set", worded, "--label", "label", "-q")

    assert result.exit_code == 3, result.output
    assert "field 'label'" in result.output and "is not a label (400 rows in all)" in result.output
    assert "high" not in result.output and "lower" not in result.output
    assert [t.exit_code in (0, 1) for t in taken] == [True, True], [t.output for t in taken]


def test_a_cell_of_the_blind_set_that_does_not_fit_its_column_is_named_not_quoted(
    tmp_path, blind_frame
):
    """A text cell below the rows the column's type is read from was an error quoting the
    cell (``could not parse `SecretName42` as dtype `f64```) with advice on polars' Python
    arguments; it is now named by row and field and described."""
    lines = blind_frame.write_csv().splitlines()
    rows = [lines[0]] + lines[1:] * 30  # 12,000 rows: the type is read from the first 10,000
    cells = rows[11_000].split(",")
    cells[0] = "SecretName42"
    rows[11_000] = ",".join(cells)
    path = tmp_path / "blind.csv"
    path.write_text("\n".join(rows) + "\n")
    column = lines[0].split(",")[0]

    result = _run("model-check", MODEL, "--blind-set", path, "--label", "label", "-q")

    assert result.exit_code == 3, result.output
    assert f"row 11000, field '{column}': a 12-character value of letters and digits" in (
        result.output
    )
    assert "SecretName42" not in result.output
    assert "infer_schema_length" not in result.output


@pytest.mark.parametrize("second", ["user_id", "USER_ID"])
def test_a_parquet_file_naming_a_column_twice_is_an_input_error(tmp_path, second):
    """A Parquet file with two ``user_id`` columns was read with the second renamed
    ``user_id_1`` and taken as a feature (``people.unclassified_feature`` on it, exit 0),
    where a CSV header naming a column twice is an input error; now it is one too."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = [
        ["e0", "e1"],
        ["2026-10-01T10:00:00Z", "2026-10-01T10:01:00Z"],
        ["page_view", "page_view"],
        ["u0", "u1"],
        ["u2", "u3"],
    ]
    names = ["event_id", "ts", "event_name", "user_id", second]
    table = pa.table([pa.array(a) for a in arrays], names=names)
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    twice = "user_id" if second == "user_id" else "user_id/USER_ID"
    assert f"field '{second}': names column '{twice}' twice in its schema" in result.output


@pytest.fixture
def result_doc(events, tmp_path):
    import json

    path = tmp_path / "r.json"
    assert _run("scan", events, "--json", path, "-q").exit_code == 1
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda text: text.replace('"schema_version": 1', '"schema_version": 1' + "0" * 5000),
         "a number of thousands of digits"),
        (lambda text: text[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
         "nests arrays or objects thousands deep"),
        (lambda text: text.replace('"findings": [', '"x": ' + '{"a": ' * 900 + "1" + "}" * 900
                                   + ', "findings": ['),
         "nests arrays or objects more than 64 deep"),
    ],
)  # fmt: skip
def test_report_of_a_result_nested_too_deep_or_with_a_huge_number_is_an_input_error(
    tmp_path, result_doc, edit, said
):
    """A result with a number of 5,001 digits ("Exceeds the limit (4300 digits)"), arrays
    nested 100,000 deep (RecursionError while decoding) or objects nested 900 deep (decoded,
    then RecursionError while scrubbing) was an internal error (exit 5)."""
    import json

    path = tmp_path / "edited.json"
    path.write_text(edit(json.dumps(result_doc, indent=2)))

    result = _run("report", path, "--html", tmp_path / "out.html", "-q")

    assert result.exit_code == 3, result.output
    assert f"{path}: is not a privdiag result: it " in result.output
    assert said in result.output
    assert not (tmp_path / "out.html").exists()


def test_report_of_a_folder_is_an_input_error_and_a_bom_is_read(tmp_path, result_doc):
    """``privdiag report FOLDER`` was an internal error (exit 5, IsADirectoryError); a result
    saved again by an editor that put a BOM before it was "not JSON"."""
    import json

    bom = tmp_path / "bom.json"
    bom.write_text("\ufeff" + json.dumps(result_doc), encoding="utf-8")

    folder = _run("report", tmp_path, "-q")
    with_bom = _run("report", bom, "-q")

    assert folder.exit_code == 3, folder.output
    assert f"{tmp_path}: is a folder" in folder.output
    assert with_bom.exit_code == 1, with_bom.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--seed", "-5"], "--seed -5 is negative"),
        (["--users", "100000000"], "--users must be from 10 to 1,000,000"),
        (["--days", "100000"], "--days 100000: the scenario starts on 2026-10-01 and would run"),
    ],
)
def test_generate_refuses_what_it_cannot_make_a_readable_scenario_of(tmp_path, args, said):
    """``--seed -5`` was an internal error (exit 5, numpy's "expected non-negative integer");
    ``--users 100000000`` filled the memory (1.1 GB after 20 s, growing); ``--days 100000``
    (or 120 in December 2026) wrote events past today, which every scan of the scenario then
    refused (exit 3, "in the future"). Each is now a usage error before any folder is made."""
    out = tmp_path / "shop"

    result = _run("generate", "--out", out, *args)

    assert result.exit_code == 2, result.output
    assert said in result.output
    assert not out.exists()


@pytest.mark.parametrize("table", ["sales", "runs"])
def test_audit_leaves_a_duckdb_database_of_other_data_alone(events, tmp_path, table):
    """``audit --history warehouse.duckdb`` on a database of other data created privdiag's
    tables in it beside the user's (exit 1), or, when one of them was named ``runs``, was an
    internal error (exit 5, "Table with name "runs" already exists"). Both are now an input
    error that leaves the database as it was; ``--list`` says the same."""
    import duckdb

    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute(f"CREATE TABLE {table} (x INTEGER)")
    config = tmp_path / "privdiag.toml"
    config.write_text(f'[sources.web]\npaths = ["{events.name}"]\n')

    written = _run("audit", "--config", config, "--history", database, "-q")
    listed = _run("audit", "--config", config, "--history", database, "--list")

    for result in (written, listed):
        assert result.exit_code == 3, result.output
        assert "is a DuckDB database of other data (1 table privdiag did not write)" in (
            result.output
        )
    with duckdb.connect(str(database)) as con:
        assert con.execute("SELECT table_name FROM duckdb_tables()").fetchall() == [(table,)]


def test_an_event_time_too_large_for_any_unit_is_not_quoted(tmp_path):
    """An NDJSON event time of 29 digits was refused with the number quoted ("Type DOUBLE
    with value 9.999999999999999e+25 can't be cast"): a cell of the data in the message."""
    rows = [
        f'{{"event_id": "e{i}", "ts": "2026-10-01T10:0{i}:00Z", "event_name": "page_view", '
        f'"user_id": "u{i}"}}'
        for i in range(6)
    ]
    rows.append('{"event_id": "e9", "ts": 99999999999999999999999999999, "event_name": "x"}')
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(rows) + "\n")

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert "with a value can't be cast" in result.output
    assert "e+25" not in result.output and "9999" not in result.output


def test_a_quote_left_open_mid_file_names_its_line(tmp_path):
    """A quoted field opened on line 5 and never closed (its rows run on to the end) was
    "cannot be read: Error when sniffing file" without a line: DuckDB's sniffer gave up
    before the check that names the line ran."""
    lines = EVENTS.read_text().splitlines()
    broken = lines[:4] + ['"e7,2026-10-01T10:07:00Z,page_view,u7,a,s,denied,g'] + lines[4:]
    path = tmp_path / "events.csv"
    path.write_text("\n".join(broken) + "\n")

    result = _run("scan", path, "-q")

    assert result.exit_code == 3, result.output
    assert f"{path}: line 5 opens a quoted field that is never closed" in result.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--seed", "-1"], "--seed -1 is negative"),
        (["--threshold", "5"], "--threshold 5.0 is not a probability above 0 and below 1"),
        (["--threshold", "nan"], "--threshold nan is not a probability"),
        (["--threshold", "0"], "--threshold 0.0 is not a probability"),
    ],
)
def test_model_check_refuses_a_negative_seed_and_a_threshold_outside_0_1(
    tmp_path, blind_frame, args, said
):
    """``--seed -1`` was an internal error (exit 5, numpy's "expected non-negative
    integer"); ``--threshold 5``, ``-1`` or ``nan`` ran, every row scored one way."""
    path = tmp_path / "blind.parquet"
    blind_frame.write_parquet(path)

    result = _run("model-check", MODEL, "--blind-set", path, *args, "-q")

    assert result.exit_code == 2, result.output
    assert said in result.output


def test_a_survey_that_is_a_folder_binary_or_nested_too_deep_is_an_input_error(events, tmp_path):
    """``--survey`` given a folder read the files in it as one CSV, and a binary file (a
    model) as CSV fields: both ended in polars' "found more fields than defined in 'Schema'"
    and its advice on a Python argument (``truncate_ragged_lines=True``). A JSON survey nested
    100,000 deep was an internal error (exit 5, RecursionError)."""
    folder = tmp_path / "surveys"
    folder.mkdir()
    (folder / "a.csv").write_text("respondent,trust\nu1,3\n")
    (folder / "b.csv").write_text("respondent,trust,extra,more\nu1,3,4,5\n")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    cases = {
        folder: "is a folder",
        MODEL: "is binary, not a CSV or JSON survey export",
        deep: "cannot be read as a survey export: maximum recursion depth exceeded",
    }

    for path, said in cases.items():
        result = _run("scan", events, "--survey", path, "-q")
        assert result.exit_code == 3, result.output
        assert f"{path}: {said}" in result.output
        assert "truncate_ragged_lines" not in result.output
