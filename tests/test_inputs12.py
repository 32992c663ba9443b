"""Input handling mended by the twelfth inputs session: folders of plain and gzipped files,
consent rows without a status or purpose, a purpose given twice in --consent-rates, consent
times out of range; each test fails without its fix."""

from __future__ import annotations

import gzip
import json

from typer.testing import CliRunner

from privdiag.cli import app
from tests.helpers import write

runner = CliRunner()
HEAD = "event_time,event,user_id\n"


def _scan(*args: object) -> tuple[int, str, dict]:
    result = runner.invoke(app, ["scan", *map(str, args), "--json", "-", "-q"])
    try:
        doc = json.loads(result.stdout)
    except ValueError:
        doc = {}
    return result.exit_code, result.output, doc


def _scan_consent(tmp_path, time_column: str, rows: list[str]) -> tuple[int, str, dict]:
    """Scan one event of u1 with a consent file: u1's analytics grant, then ``rows``."""
    events = write(tmp_path / "e.csv", HEAD + "2026-10-01T10:00:00Z,pv,u1\n")
    lines = [f"user_id,purpose,status,{time_column}", "u1,analytics,granted,2026-10-01T09:00:00Z"]
    consent = write(tmp_path / "c.csv", "\n".join([*lines, *rows]) + "\n")
    return _scan(events, "--consent", consent)


def test_folder_of_plain_and_gzipped_csv_reads_every_file(tmp_path):
    # a.csv plain (2 rows), b.csv.gz gzipped (3 rows): every file was read with
    # compression='gzip', so a.csv was "truncated or corrupt". Now 2 + 3 = 5 rows.
    folder = tmp_path / "daily"
    folder.mkdir()
    write(folder / "a.csv", HEAD + "2026-10-02T10:00:00Z,pv,u1\n2026-10-02T10:01:00Z,pv,u2\n")
    rows = "".join(f"2026-10-01T10:0{i}:00Z,pv,u{i + 3}\n" for i in range(3))
    (folder / "b.csv.gz").write_bytes(gzip.compress((HEAD + rows).encode()))
    code, output, doc = _scan(folder)
    assert code in (0, 1), output
    assert [i["rows"] for i in doc["inputs"]] == [5]


def test_mixed_folder_names_the_row_of_the_file_it_is_in(tmp_path):
    # The bad time is on data row 2 of the gzipped file (row 4 of the input).
    folder = tmp_path / "daily"
    folder.mkdir()
    write(folder / "a.csv", HEAD + "2026-10-02T10:00:00Z,pv,u1\n2026-10-02T10:01:00Z,pv,u2\n")
    text = HEAD + "2026-10-01T10:00:00Z,pv,u3\n1970-01-01T00:00:00Z,pv,u4\n"
    (folder / "b.csv.gz").write_bytes(gzip.compress(text.encode()))
    code, output, _ = _scan(folder)
    assert code == 3
    assert f"{folder / 'b.csv.gz'}, row 2, field 'event_time'" in output


def test_mixed_folder_with_a_gzipped_file_not_named_gz_is_refused_by_name(tmp_path):
    folder = tmp_path / "daily"
    folder.mkdir()
    write(folder / "a.csv", HEAD + "2026-10-02T10:00:00Z,pv,u1\n")
    (folder / "b.csv").write_bytes(gzip.compress((HEAD + "2026-10-01T10:00:00Z,pv,u2\n").encode()))
    code, output, _ = _scan(folder)
    assert code == 3
    assert f"{folder / 'b.csv'}: is gzip-compressed but its name does not end in .gz" in output


def test_consent_rows_with_an_empty_status_or_purpose_are_counted_in_a_note(tmp_path):
    # 5 rows: one complete, two without a status, one without a purpose, one without both:
    # 4 rows left out, 2 of them without a purpose and 3 without a status. No note before.
    rows = ["u2,ads,,", "u3,ads,,", "u4,,granted,", "u5,,,"]
    code, output, doc = _scan_consent(tmp_path, "ts", [f"{r}2026-10-01T09:00:00Z" for r in rows])
    assert code in (0, 1), output
    note = (
        "4 consent row(s) with an empty purpose (2) or status (3) left out, as they say no "
        "decision (columns 'purpose', 'status')"
    )
    assert note in json.dumps(doc)
    assert "u2" not in json.dumps(doc["inputs"])
    assert [i.get("records") for i in doc["inputs"] if i["role"] == "consent"] == [1]


def test_a_purpose_given_twice_in_consent_rates_is_a_usage_error(tmp_path):
    # ads=0.5,ads=0.6 took 0.6 without a word; marketing is an alias of ads.
    model = write(tmp_path / "m.pkl", "x")
    blind = write(tmp_path / "b.csv", "a,label\n1,0\n")
    for rates, items in (
        ("ads=0.5,ads=0.6", "'ads=0.5' and 'ads=0.6'"),
        ("ads=0.5, analytics=0.4, Marketing=60%", "'ads=0.5' and 'Marketing=60%'"),
    ):
        result = runner.invoke(
            app, ["model-check", model, "--blind-set", blind, "--consent-rates", rates]
        )
        assert result.exit_code == 2, result.output
        assert f"--consent-rates: purpose 'ads' is given twice ({items})" in result.output


def test_consent_time_out_of_range_names_the_column_and_the_row(tmp_path):
    # The error named the field 'time' and no row; the file's column is decided_at and the
    # first bad data row is the second.
    code, output, _ = _scan_consent(tmp_path, "decided_at", ["u2,ads,denied,1970-01-01T00:00:00Z"])
    consent = tmp_path / "c.csv"
    assert code == 3
    assert (
        f"{consent}, row 2, field 'decided_at': a consent decision time in year 1970 is "
        "before 2000-01-01 or in the future"
    ) in output


def test_mixed_folders_of_segment_ndjson_and_consent_csv_read_every_file(tmp_path):
    # Segment re-reads its files as JSON objects (with the input's compression), and a
    # consent folder is read the same way: both refused a.* as "truncated or corrupt".
    seg = tmp_path / "seg"
    seg.mkdir()
    line = '{{"type":"track","event":"pv","anonymousId":"a{0}","messageId":"m{0}",'
    line += '"timestamp":"2026-10-01T10:00:00Z"}}\n'
    write(seg / "a.ndjson", line.format(1))
    (seg / "b.ndjson.gz").write_bytes(gzip.compress((line.format(2) + line.format(3)).encode()))
    cons = tmp_path / "cons"
    cons.mkdir()
    head = "user_id,purpose,status,ts\n"
    write(cons / "a.csv", head + "a1,analytics,granted,2026-10-01T09:00:00Z\n")
    text = head + "a2,analytics,denied,2026-10-01T09:00:00Z\n"
    (cons / "b.csv.gz").write_bytes(gzip.compress(text.encode()))
    code, output, doc = _scan(seg, "--consent", cons)
    assert code in (0, 1), output
    assert [(i["format"], i["rows"], i.get("records")) for i in doc["inputs"]] == [
        ("segment", 3, None),
        ("consent", 2, 2),
    ]
