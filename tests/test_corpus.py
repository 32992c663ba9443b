"""Every hostile input of tests/corpus through ``privdiag scan`` with all four outputs.

For each case: the exit code and message of the manifest; never a traceback nor exit 5; no
output file at all on exit 2/3; HTML with nothing executable; and no identifier, e-mail or IP
of the input in any output (terminal, JSON, HTML, Markdown, JUnit).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from tests.corpus.cases import CASES, Case

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202e]")
FILES = Path(__file__).parent / "corpus" / "files"
GOOD = FILES / "csv" / "good.csv"
OUTPUTS = {"--json": "o.json", "--html": "o.html", "--markdown": "o.md", "--junit": "o.xml"}
# Every identifier the corpus plants has one of these shapes (see tests/corpus/build.py).
SECRET = re.compile(
    r"(?:uid|anon|duid)-[\w.-]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|203\.0\.113\.\d+|2001:db8::\d+"
)


def run(args: list[str], tmp: Path) -> tuple[Any, dict[str, Path]]:
    """Run a scan with every output into ``tmp``; return the result and the output paths."""
    outs = {flag: tmp / name for flag, name in OUTPUTS.items()}
    flags = [str(x) for pair in outs.items() for x in pair]
    result = CliRunner().invoke(app, ["scan", *args, *flags])
    return result, outs


def secrets_of(paths: list[Path]) -> set[str]:
    """Every planted identifier, e-mail and IP in the inputs' bytes and names."""
    found: set[str] = set()
    for path in paths:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for f in files:
            found |= set(SECRET.findall(f.read_bytes().decode("utf-8", errors="ignore")))
            found |= set(SECRET.findall(str(f)))
    return found


class _Markup(HTMLParser):
    """Collects what could run: script tags, on* attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "img", "foreignobject", "base", "form"):
            self.bad.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.bad.append(f"{tag} {name}=")
            if value and value.strip().lower().startswith(("javascript:", "data:text/html")):
                self.bad.append(f"{tag} {name}={value}")


def executable_parts(html: str) -> list[str]:
    parser = _Markup()
    parser.feed(html)
    return parser.bad


def check_outputs(result: Any, outs: dict[str, Path], inputs: list[Path], code: int) -> None:
    """The invariants every case shares."""
    text = result.output
    assert "Traceback" not in text and result.exit_code != 5, text
    assert result.exception is None or isinstance(result.exception, SystemExit), text
    written = {flag: p for flag, p in outs.items() if p.exists()}
    if code in (2, 3):
        assert not written, f"partial output on error: {sorted(written)}"
        assert text.startswith("Error: ") and len(text.splitlines()) <= 3, text
        return
    assert set(written) == set(OUTPUTS), sorted(written)
    assert not executable_parts(outs["--html"].read_text(encoding="utf-8"))
    every = [text] + [p.read_text(encoding="utf-8") for p in written.values()]
    assert not [o for o in every if CONTROL.search(o)], "control characters in an output"
    json.loads(outs["--json"].read_text(encoding="utf-8"))
    ElementTree.parse(outs["--junit"])  # well-formed XML whatever the names
    for secret in sorted(secrets_of(inputs)):
        for output in every:
            assert secret not in output, f"{secret!r} leaked"


def case_args(case: Case) -> tuple[list[str], list[Path]]:
    path = FILES / case.path
    if case.consent:
        return [str(GOOD), "--consent", str(path), *case.args], [GOOD, path]
    return [str(path), *case.args], [path]


def test_the_corpus_is_large_and_small():
    files = [p for p in FILES.rglob("*") if p.is_file()]
    assert len({c.path for c in CASES}) >= 60 and len(files) >= 60
    assert sum(p.stat().st_size for p in files) < 400_000
    listed = {c.path for c in CASES}
    assert not [p for p in files if str(p.relative_to(FILES)) not in listed]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.path}{'+' if c.args else ''}")
def test_case(case: Case, tmp_path: Path):
    args, inputs = case_args(case)
    result, outs = run(args, tmp_path)
    assert result.exit_code == case.exit, result.output
    assert case.message in result.output, result.output
    check_outputs(result, outs, inputs, case.exit)
    if case.exit in (2, 3):
        return
    doc = json.loads(outs["--json"].read_text())
    kinds = {f["kind"] for f in doc["findings"]}
    assert set(case.kinds) <= kinds, kinds
    assert not set(case.no_kinds) & kinds, kinds
    if case.rows is not None:
        assert sum(i["rows"] for i in doc["inputs"] if i["role"] == "events") == case.rows
    if case.note:
        assert any(case.note in n for n in doc["evidence"].get("notes", [])), doc["evidence"]


def test_contradictory_records_name_the_log_and_purpose(tmp_path):
    result, outs = run([str(GOOD), "--consent", str(FILES / "consent/contradictory.csv")], tmp_path)
    doc = json.loads(outs["--json"].read_text())
    conflict = [
        f
        for f in doc["findings"]
        if f["location"] == {"source": "cmp", "purpose": "ads", "scenario": "consent log"}
    ]
    assert conflict and conflict[0]["kind"] == "consent.conflict"
    assert conflict[0]["metrics"]["records"] == 12 and conflict[0]["metrics"]["users"] == 6


def test_doubled_quotes_are_read_as_one_quote(tmp_path):
    result, outs = run(
        [str(GOOD), "--consent", str(FILES / "consent/doubled_quotes.csv")], tmp_path
    )
    doc = json.loads(outs["--json"].read_text())
    unmapped = [f for f in doc["findings"] if f["kind"] == "consent.unmapped_category"]
    assert [f["location"]["purpose"] for f in unmapped] == ['"><img src=x onerror=alert(1)>']


def test_mixed_timestamp_formats_are_one_instant(tmp_path):
    """Seven spellings of 2026-10-01T10:00:00Z (zones, epoch s/ms/µs) land on one time."""
    import duckdb

    from privdiag.config import Config
    from privdiag.ingest import load

    con = duckdb.connect()
    load(con, [str(FILES / "csv/mixed_ts_formats.csv")], [], Config())
    times = con.execute("SELECT DISTINCT date_trunc('second', ts) FROM events").fetchall()
    assert len(times) == 1 and times[0][0].isoformat().startswith("2026-10-01T10:00:00")


def test_ten_megabyte_single_line(tmp_path):
    big = "x" * (10 << 20)
    path = tmp_path / "long.csv"
    path.write_text(
        "event_id,ts,event_name,user_id,blob\n"
        f"e1,2026-10-01T10:00:00Z,page_view,uid-10mb01,{big}\n"
        "e2,2026-10-01T10:01:00Z,page_view,uid-10mb02,y\n"
    )
    result, outs = run([str(path)], tmp_path)
    assert result.exit_code == 0, result.output
    check_outputs(result, outs, [], 0)
    assert big[:1000] not in outs["--json"].read_text()


def test_ten_megabyte_line_without_a_newline_anywhere(tmp_path):
    path = tmp_path / "oneline.csv"
    path.write_bytes(b"ts,event_name," + b"a" * (10 << 20))
    result, outs = run([str(path)], tmp_path)
    assert result.exit_code == 3, result.output
    check_outputs(result, outs, [], 3)


@pytest.mark.parametrize(
    "n", [200_000, pytest.param(1_000_000, marks=pytest.mark.slow)], ids=["200k", "1M"]
)
def test_one_user_with_many_events(tmp_path, n):
    """One partition of the consent window holds every event (a bot, a shared kiosk id)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = 1_790_000_000_000
    pq.write_table(
        pa.table(
            {
                "ts": pa.array(range(base, base + n), pa.int64()),
                "event_name": pa.array(["page_view", "add_to_cart"] * (n // 2)),
                "user_id": pa.array(["uid-million"] * n),
                "consent_ads": pa.array(["granted", "denied"] * (n // 2)),
                "gclid": pa.array(["g"] * n),
            }
        ),
        tmp_path / "million.parquet",
    )
    result, outs = run([str(tmp_path / "million.parquet")], tmp_path)
    assert result.exit_code in (0, 1), result.output
    check_outputs(result, outs, [], result.exit_code)
    doc = json.loads(outs["--json"].read_text())
    assert doc["inputs"][0]["rows"] == n
    assert "uid-million" not in outs["--html"].read_text()


def test_markup_in_a_folder_name_and_a_glob(tmp_path):
    folder = tmp_path / "<script>alert(1)<" / "é x"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_bytes((FILES / "csv/good.csv").read_bytes())
    result, outs = run([str(tmp_path / "<script>alert(1)<" / "*" / "*.csv")], tmp_path)
    assert result.exit_code == 1, result.output
    check_outputs(result, outs, [GOOD], 1)


def test_missing_file_writes_nothing(tmp_path):
    result, outs = run([str(tmp_path / "nope 🙃.csv")], tmp_path)
    assert result.exit_code == 3 and "no such file" in result.output
    check_outputs(result, outs, [], 3)


def test_unknown_format_is_a_usage_error(tmp_path):
    result, outs = run([str(GOOD), "--format", "<b>x</b>"], tmp_path)
    assert result.exit_code == 2 and "unknown --format" in result.output
    check_outputs(result, outs, [], 2)


def test_hostile_chart_labels_are_escaped(tmp_path):
    """Charts draw names from the data (steps, features, days): all escaped in the SVG."""
    result, outs = run([str(FILES / "csv/html_payloads.csv")], tmp_path)
    doc = json.loads(outs["--json"].read_text())
    payloads = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:x"]
    finding = doc["findings"][0]
    finding["title"] = payloads[0]
    finding["evidence"] = {
        "bars": {
            "title": payloads[1],
            "labels": payloads,
            "values": [1, 2, 3],
            "unit": payloads[0],
        },
        "series": {
            "title": payloads[0],
            "x": payloads,
            "series": {payloads[1]: [1.0, None, 2.0]},
            "marks": [{"x": payloads[0], "label": payloads[1]}],
        },
        "histogram": {
            "title": payloads[1],
            "edges": [0.0, 1.0, 2.0],
            "counts": [1, 2],
            "unit": payloads[1],
        },
    }
    source = tmp_path / "hostile.json"
    source.write_text(json.dumps(doc))
    html = tmp_path / "r.html"
    out = CliRunner().invoke(app, ["report", str(source), "--html", str(html), "--quiet"])
    assert out.exit_code in (0, 1), out.output
    text = html.read_text(encoding="utf-8")
    assert "<svg" in text and not executable_parts(text)
    assert "<script>alert" not in text and "<img" not in text
