"""Problems a new user's trial found: each test fails without its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import Config, EngineConfig
from privdiag.engine import connect
from privdiag.errors import UsageError
from privdiag.ingest import load
from tests.helpers import write

runner = CliRunner()
# A TC string that decodes (TCF v2, purposes 1-10 consented); rows 2 and 3 below do not.
GOOD_TC = "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"


def _events(tmp_path: Path) -> str:
    return write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,gclid
        2026-10-01T10:00:00Z,page_view,u1,G1
        """,
    )


# 1. A consent file of TC strings none of which decodes is an input error, not "0 rows".


def test_consent_file_whose_strings_all_fail_is_an_input_error_naming_the_first_row(tmp_path):
    consent = write(
        tmp_path / "tc.csv",
        """
        user_id,tc_string,ts
        u1,,2026-10-01T09:00:00Z
        u2,BOzzzzzzzzzzzzzz,2026-10-01T09:00:00Z
        u3,not-a-tc-string,2026-10-01T09:00:00Z
        """,
    )
    result = runner.invoke(app, ["scan", _events(tmp_path), "--consent", consent])

    assert result.exit_code == 3, result.output
    assert f"{consent}, row 2, field 'tc_string'" in result.output
    assert "none of the 2 consent strings could be decoded" in result.output
    assert "BOzzzzzz" not in result.output  # no part of the string, only its row and length
    assert "-character string" in result.output
    assert "BOzzzzzzz" not in result.output
    assert "TC string is a TCF v1 consent string" in result.output  # the decoder's reason


def test_consent_file_with_some_bad_strings_scans_on_and_notes_them(tmp_path):
    consent = write(
        tmp_path / "tc.csv",
        f"""
        user_id,tc_string,ts
        u1,{GOOD_TC},2026-10-01T09:00:00Z
        u2,not-a-tc-string,2026-10-01T09:00:00Z
        u3,COzzzz!!xxxxx,2026-10-01T09:00:00Z
        u4,not-a-tc-string,2026-10-01T09:00:00Z
        """,
    )
    out = tmp_path / "out.json"
    result = runner.invoke(
        app, ["scan", _events(tmp_path), "--consent", consent, "--json", str(out)]
    )

    assert result.exit_code in (0, 1), result.output
    notes = json.loads(out.read_text())["evidence"]["notes"]
    note = next(n for n in notes if "could not be decoded" in n)
    assert note.startswith(f"{consent}: 3 of 4 rows could not be decoded")
    assert "row 2, field 'tc_string', a 15-character string: TC string is version" in note
    assert "not-a-tc-string" not in json.dumps(notes)


# 2. Segment / Snowplow input on the Spark engine is refused before Spark starts.


def _segment(tmp_path: Path) -> str:
    record = {
        "type": "track",
        "event": "Order Completed",
        "messageId": "m1",
        "userId": "u1",
        "timestamp": "2026-03-01T10:00:00Z",
        "properties": {"plan": "pro"},
    }
    path = tmp_path / "seg.ndjson"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return str(path)


def _snowplow(tmp_path: Path) -> str:
    return write(
        tmp_path / "sp.csv",
        """
        event_id,collector_tstamp,derived_tstamp,event_name,domain_userid,app_id
        e1,2026-03-01 10:00:00,2026-03-01 10:00:00,page_view,d1,web
        """,
    )


@pytest.fixture
def no_spark(monkeypatch):
    """Fail the test if anything tries to start the Spark engine."""
    import privdiag.engines

    def refuse(_engine):
        raise AssertionError("the Spark engine was started")

    monkeypatch.setattr(privdiag.engines, "connect_engine", refuse)


@pytest.mark.parametrize(("make", "fmt"), [(_segment, "segment"), (_snowplow, "snowplow")])
@pytest.mark.parametrize("forced", [False, True])
def test_spark_on_a_duckdb_only_format_is_a_usage_error_before_spark(
    tmp_path, no_spark, make, fmt, forced
):
    data = make(tmp_path)
    args = ["scan", data, "--engine", "spark"] + (["--format", fmt] if forced else [])
    result = runner.invoke(app, args)

    assert result.exit_code == 2, result.output
    assert f"{data} is a {fmt} export: only the DuckDB engine can read" in result.output
    assert "--engine duckdb" in result.output


class _SparkLike:
    """A DuckDB connection that says it is the Spark engine, as SparkConnection does."""

    engine_name = "spark"

    def __init__(self) -> None:
        self._con = connect()

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def test_loader_refuses_a_duckdb_only_format_detected_on_the_spark_engine(tmp_path):
    # Remote inputs are only detected once Spark reads them: the loader refuses them then.
    with pytest.raises(UsageError, match="is a segment export: only the DuckDB engine"):
        load(_SparkLike(), [_segment(tmp_path)], [], Config(engine=EngineConfig(name="spark")))


def test_spark_engine_still_reaches_spark_for_generic_input(tmp_path, no_spark):
    from privdiag.scan import run_scan

    with pytest.raises(AssertionError, match="was started"):
        run_scan([_events(tmp_path)], config=Config(engine=EngineConfig(name="spark")))


# 3. A closed stdout (`privdiag ... | head`) ends every command quietly with exit 141.

REPO = Path(__file__).resolve().parents[1]


def _with_closed_stdout(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run privdiag with stdout a pipe whose reader is already gone, as after `| head -0`."""
    read, write_end = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "privdiag", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=300,
        )
    finally:
        os.close(write_end)


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """A folder with one audit run in its history and the data it scanned."""
    from tests.audit_data import NIGHT_1, setup

    folder = tmp_path_factory.mktemp("pipe")
    config = setup(folder, NIGHT_1)
    assert runner.invoke(app, ["audit", "--config", str(config), "-q"]).exit_code == 1
    shop = str(folder / "data" / "shop.csv")
    result = runner.invoke(app, ["scan", shop, "-q", "--json", str(folder / "r.json")])
    assert result.exit_code in (0, 1), result.output
    return folder


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "--config", "privdiag.toml", "--show", "last"],
        ["audit", "--config", "privdiag.toml", "--list"],
        ["scan", "data/shop.csv", "--fail-on", "critical"],
        ["scan", "data/shop.csv", "--json", "-"],
        ["report", "r.json"],
        ["init", "data/shop.csv", "--output", "-"],
        ["generate", "--out", "gen", "--users", "10", "--days", "4", "--force"],
        ["--help"],
        ["scan", "--help"],
        ["--version"],
    ],
)
def test_a_closed_stdout_ends_the_run_quietly_with_141(audited, args):
    done = _with_closed_stdout(args, audited)

    assert done.stderr == b""
    assert done.returncode == 141


def test_a_broken_pipe_that_is_not_the_output_is_still_a_bug(tmp_path, monkeypatch):
    import privdiag.scan

    def broken(*_args, **_kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(privdiag.scan, "run_scan", broken)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # where its crash log goes
    result = runner.invoke(app, ["scan", _events(tmp_path)])

    assert result.exit_code == 5
    assert "Internal error: BrokenPipeError" in result.output


# 4. An output path that cannot be written is a usage error naming it, before any work.


@pytest.fixture
def blocker(tmp_path) -> Path:
    """A regular file where an output folder would have to be."""
    path = tmp_path / "afile"
    path.write_text("x", encoding="utf-8")
    return path


@pytest.mark.parametrize("option", ["--json", "--html", "--markdown", "--junit"])
def test_scan_output_under_a_file_is_a_usage_error_before_the_scan(tmp_path, blocker, option):
    target = blocker / "out" / "r.txt"
    # the events file does not exist: the output is checked first, before any reading
    result = runner.invoke(app, ["scan", str(tmp_path / "missing.csv"), option, str(target)])

    assert result.exit_code == 2, result.output
    assert f"cannot write {option} {target}: {blocker} is a file, not a folder" in result.output


def test_output_that_is_a_folder_or_in_a_missing_folder_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["report", "x.json", "--html", str(tmp_path)])
    assert result.exit_code == 2 and f"--html {tmp_path}: it is a folder" in result.output

    missing = tmp_path / "nope" / "r.md"
    result = runner.invoke(app, ["report", "x.json", "--markdown", str(missing)])
    assert result.exit_code == 2
    assert f"--markdown {missing}: folder {missing.parent} does not exist" in result.output


def test_generate_out_under_a_file_or_on_a_file_is_a_usage_error(blocker):
    result = runner.invoke(app, ["generate", "--out", str(blocker / "Y")])
    assert result.exit_code == 2, result.output
    assert f"--out {blocker / 'Y'}: {blocker} is a file, not a folder" in result.output

    result = runner.invoke(app, ["generate", "--out", str(blocker)])
    assert result.exit_code == 2 and "not a folder" in result.output


def test_init_output_under_a_file_or_on_a_folder_is_a_usage_error(tmp_path, blocker):
    data = _events(tmp_path)
    result = runner.invoke(app, ["init", data, "--output", str(blocker / "p.toml")])
    assert result.exit_code == 2 and f"{blocker} is a file, not a folder" in result.output

    result = runner.invoke(app, ["init", data, "--output", str(tmp_path), "--force"])
    assert result.exit_code == 2 and f"--output {tmp_path}: it is a folder" in result.output


def test_audit_and_model_check_output_paths_under_a_file_are_usage_errors(tmp_path, blocker):
    from tests.audit_data import NIGHT_1, setup

    config = str(setup(tmp_path, NIGHT_1))
    for args in (
        ["audit", "--config", config, "--history", str(blocker / "h.duckdb")],
        ["audit", "--config", config, "--log", str(blocker / "audit.log")],
        ["model-check", "m.onnx", "--blind-set", "b.csv", "--export-blind-sets", str(blocker)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert f"{blocker}" in result.output and "is a file, not a folder" in result.output


def test_a_write_that_fails_midway_is_a_usage_error_naming_the_path(tmp_path, monkeypatch):
    import errno

    from privdiag.output import write_json

    def full(*_args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    target = tmp_path / "r.json"
    with pytest.raises(UsageError, match=f"cannot write {target}: No space left on device"):
        write_json({"a": 1}, target)
    assert list(tmp_path.iterdir()) == []  # no temp file left behind


# 7. Two outputs to stdout would be written back to back: a usage error.


@pytest.mark.parametrize(
    "options", [["--json", "-", "--markdown", "-"], ["--html", "-", "--junit", "-"]]
)
def test_two_outputs_to_stdout_are_a_usage_error(tmp_path, options):
    result = runner.invoke(app, ["scan", _events(tmp_path), *options])

    assert result.exit_code == 2, result.output
    assert "only one output can go to stdout" in result.output
    assert f"{options[0]} and {options[2]} are both '-'" in result.output


# 5. Each crash gets its own log file, readable by the user only, without the data's values.


def test_each_crash_writes_its_own_private_log_without_data_values(tmp_path, monkeypatch):
    import re
    import stat
    import tempfile

    import privdiag.scan

    def crash(*_args, **_kwargs):
        raise ValueError(
            "bug near alice@example.com: Could not convert string 'secret-id-42' to INT32\n"
            'Original Line: {"user": "secret-id-42"}'
        )

    logs = tmp_path / "tmp"
    logs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(logs))
    monkeypatch.setattr(privdiag.scan, "run_scan", crash)
    outputs = [runner.invoke(app, ["scan", _events(tmp_path)]).output for _ in range(2)]

    named = [re.search(r"the details are in (\S+) \(readable by you only\)", o) for o in outputs]
    paths = [Path(m.group(1)) for m in named if m]
    assert len(paths) == 2 and paths[0] != paths[1], outputs
    assert sorted(logs.iterdir()) == sorted(paths)
    for path in paths:
        assert path.name.startswith("privdiag-error-") and path.suffix == ".log"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = path.read_text(encoding="utf-8")
        assert "Traceback" in text and "ValueError" in text
        assert "in crash" in text  # the frames are kept
        assert "alice@example.com" not in text and "secret-id-42" not in text
    assert all("secret-id-42" not in o and "alice@" not in o for o in outputs)


# 6. A typo in a config table or key is a config error naming the closest known one.


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        (
            '[thresholdz]\nfail_on = "low"\n',
            "unknown table [thresholdz]; did you mean [thresholds]?",
        ),
        ('[sorces.web]\nowner = "x"\n', "unknown table [sorces]; did you mean [sources]?"),
        ('fail_on = "low"\n', "unknown key 'fail_on'"),
        ("[engine]\nthreds = 2\n", "[engine]: unknown key 'threds'; did you mean 'threads'?"),
        ('[consent]\npath = ["a.csv"]\n', "[consent]: unknown key 'path'; did you mean 'paths'?"),
        ("[thresholds]\nmin_group = 3\n", "did you mean 'min_group_size'?"),
    ],
)
def test_unknown_config_table_or_key_is_a_config_error(tmp_path, toml, said):
    config = tmp_path / "privdiag.toml"
    config.write_text(toml, encoding="utf-8")
    result = runner.invoke(app, ["scan", _events(tmp_path), "--config", str(config)])

    assert result.exit_code == 2, result.output
    assert f"Error: {config}: " in result.output and said in result.output


def test_top_level_key_of_a_table_says_where_it_belongs(tmp_path):
    from privdiag.config import parse_config
    from privdiag.errors import ConfigError

    with pytest.raises(ConfigError, match=r"fail_on belongs under \[thresholds\]"):
        parse_config({"fail_on": "low"}, tmp_path / "p.toml")


def _toml_blocks(text: str) -> list[str]:
    blocks, inside = [], None
    for line in text.splitlines():
        if line.strip() == "```toml":
            inside = []
        elif line.strip() == "```" and inside is not None:
            blocks.append("\n".join(inside))
            inside = None
        elif inside is not None:
            inside.append(line)
    return blocks


def test_every_config_the_docs_show_still_loads():
    import tomllib

    from privdiag.config import parse_config

    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    blocks = [b for d in docs for b in _toml_blocks(d.read_text(encoding="utf-8"))]
    assert len(blocks) >= 4
    for block in blocks:
        parse_config(tomllib.loads(block), Path("privdiag.toml"))


def test_configs_that_init_and_generate_write_still_load(tmp_path):
    from privdiag.config import load_config

    gen = tmp_path / "gen"
    result = runner.invoke(app, ["generate", "--out", str(gen), "--users", "10", "--days", "4"])
    assert result.exit_code == 0, result.output
    load_config(gen / "privdiag.toml")

    written = tmp_path / "init.toml"
    data = [str(gen / "web.ndjson.gz"), str(gen / "app.csv"), "--consent", str(gen / "consent.csv")]
    result = runner.invoke(app, ["init", *data, "--output", str(written)])
    assert result.exit_code == 0, result.output
    load_config(written)


def test_a_reader_leaving_in_the_middle_of_a_large_document_ends_the_run_with_141(tmp_path):
    """`privdiag report big.json --json - | head -1`: the reader leaves after one line of a
    document larger than the pipe holds; the rest must not be dropped unsaid (exit 1 before)."""
    from privdiag.config import load_config
    from privdiag.generate import generate_scenario
    from privdiag.scan import run_scan

    # its own scenario: a fresh clone has no fixtures/demo until `make demo` has run
    shop = generate_scenario(tmp_path / "shop", seed=7, users=600)
    doc = run_scan(
        [str(shop.paths["web"]), str(shop.paths["app"])],
        config=load_config(tmp_path / "shop" / "privdiag.toml"),
    ).to_dict()
    big = tmp_path / "big.json"
    big.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    assert big.stat().st_size > 2 * 65536  # more than a pipe holds
    child = subprocess.Popen(
        [sys.executable, "-m", "privdiag", "report", str(big), "--json", "-", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout.readline() == b"{\n"
    child.stdout.close()  # as head does after its line
    _, err = child.communicate(timeout=300)
    assert (child.returncode, err) == (141, b"")
