"""Hostile round 29: TC strings of long vendor range lists; hostile inputs of every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privdiag.decode import tcf
from privdiag.errors import InputError
from tests.test_decode_tcf import _int, _to_text, encode, make

# Every other vendor id of 1-8,189: 4,095 single-id entries, the most a list holds.
_ODD = frozenset(range(1, 8_190, 2))


def _long_lists() -> str:
    return encode(
        make(
            max_vendor_id=8_189,
            vendor_consents=_ODD,
            max_vendor_li_id=8_189,
            vendor_legitimate_interests=_ODD,
        ),
        as_ranges=(True, True),
    )


def _bits(text: str) -> str:
    return "".join(tcf._SIXBITS[c] for c in text)


# 213 bits of fixed fields, MaxVendorId (16) and IsRangeEncoding (1), then NumEntries (12).
_ENTRIES_AT = 213 + 17 + 12


def test_long_range_lists_are_not_read_a_field_at_a_time(monkeypatch):
    """A TC string of 4,095 range entries in each vendor section cost 2.6-9 ms to decode, each
    entry's two fields read through ``_Bits.take`` (16,000 calls a string): a consent log of
    100,000 distinct such strings took minutes. The entries are now cut in one pass."""
    calls = []
    take = tcf._Bits.take

    def counted(self, n, name):
        calls.append(name)
        return take(self, n, name)

    monkeypatch.setattr(tcf._Bits, "take", counted)
    decoded = tcf.decode(_long_lists())
    assert decoded.vendor_consents == _ODD
    assert decoded.vendor_legitimate_interests == _ODD
    assert len(calls) < 100, f"{len(calls)} fields read one by one"
    row = tcf.decode_many([_long_lists()]).to_pylist()[0]
    assert (row["error"], row["unread"], row["consent_ads"]) == (None, None, True)


def test_an_inverted_range_deep_in_a_long_list_is_named_by_its_entry():
    raw = _bits(_long_lists())
    entry = _ENTRIES_AT + 99 * 17  # entry 100 of 4,095, a single id, made a range 9-3
    broken = raw[:entry] + "1" + _int(9, 16) + _int(3, 16) + raw[entry + 17 :]
    with pytest.raises(InputError) as caught:
        tcf.decode(_to_text(broken))
    assert caught.value.message == (
        "TC string has an invalid VendorConsents range: 9-3 (entry 100 of 4095 ends below "
        "its start)"
    )


@pytest.mark.parametrize(
    ("keep", "field"),
    [(0, "IsARange"), (5, "StartVendorId"), (1 + 16 + 3, "EndVendorId")],
)
def test_a_long_list_cut_within_an_entry_names_the_field(keep, field):
    """A segment ending inside entry 2,203 of a list of 4,095 (2 single ids, then ranges) is
    refused naming that field, as when the entries were read one field at a time."""
    fixed = _bits(encode(make()))[:213]
    entries = "0" + _int(1, 16) + "0" + _int(3, 16)
    entries += "".join("1" + _int(i, 16) + _int(i + 1, 16) for i in range(5, 4_405, 2))
    at = 213 + 17 + 12 + len(entries)  # entry 2,203's first bit, also a letter's
    assert at % 6 == 0
    whole = fixed + _int(9_000, 16) + "1" + _int(4_095, 12) + entries
    cut = whole + ("1" + _int(9_000, 16) + _int(9_001, 16))[:keep]
    cut += "0" * (-len(cut) % 6)  # a whole number of letters: bits past the cut are 0
    with pytest.raises(InputError) as caught:
        tcf.decode(_to_text(cut))
    assert f"ends before field VendorConsents {field}" in caught.value.message
    partly = tcf.decode(_to_text(cut), partial=True)
    assert partly.purposes_consent == frozenset(range(1, 12)) and partly.unread


def test_overlapping_ranges_of_a_long_list_count_each_id_once():
    """The ids a long list names (held against MAX_RANGED_IDS) count overlaps once: 64
    entries of 1-65,535 and 4,031 of single ids inside it name 65,535 ids; both sections and
    one restriction of such lists are the most read, a second restriction is too many."""
    every = "1" + _int(1, 16) + _int(65_535, 16)
    ranges = _int(4_095, 12) + every * 64 + "".join("0" + _int(i, 16) for i in range(1, 4_032))
    fixed = _bits(encode(make()))[:213]
    sections = (_int(65_535, 16) + "1" + ranges) * 2
    restriction = _int(2, 6) + _int(1, 2) + ranges
    decoded = tcf.decode(_to_text(fixed + sections + _int(1, 12) + restriction))
    assert len(decoded.vendor_consents) == len(decoded.vendor_legitimate_interests) == 65_535
    assert len(decoded.publisher_restrictions[0].vendors) == 65_535
    with pytest.raises(InputError, match="vendor ranges name 262,140 vendor ids"):
        tcf.decode(_to_text(fixed + sections + _int(2, 12) + restriction * 2))


def _cli(*args: str):
    from typer.testing import CliRunner

    from privdiag.cli import app

    return CliRunner().invoke(app, list(args))


EVENTS = (
    "event_id,ts,event_name,user_id,gclid\n"
    "e1,2026-10-01T10:00:00Z,page_view,u1,abc\n"
    "e2,2026-10-01T10:05:00Z,purchase,u1,abc\n"
)


def _no_rows(path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.suffix == ".csv":
        path.write_text("user_id,purpose,status,ts\n")
    else:
        names = ["user_id", "purpose", "status", "ts"]
        pq.write_table(pa.table({n: pa.array([], pa.string()) for n in names}), path)


@pytest.mark.parametrize("name", ["consent.csv", "consent.parquet"])
def test_a_consent_log_of_no_rows_is_refused_as_an_events_export_is(tmp_path, name):
    """A consent export cut to its header was read as a log of no decisions: exit 0 or 1 with
    every user a `consent.missing_record` and no note, where the same events file cut to its
    header is refused (exit 3). It is now refused naming the file, and no report is written."""
    events = tmp_path / "events.csv"
    events.write_text(EVENTS)
    consent = tmp_path / name
    _no_rows(consent)
    out = tmp_path / "out.json"
    result = _cli("scan", str(events), "--consent", str(consent), "--json", str(out), "-q")
    assert result.exit_code == 3, result.output
    assert f"{consent}: holds no consent records" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("2026-10-01T10:00:00 BST", None),  # British +01:00, or Bangladesh +06:00 (read so)
        ("2026-10-01 10:00:00 bst", None),
        ("2026-10-01T10:00:00 CST", None),  # US -06:00 (read as Chicago's -05:00), China +08:00
        ("2026-10-01T10:00:00 IST", None),  # India, Ireland or Israel
        ("2026-10-01T10:00:00 EST", None),
        ("2026-10-01T10:00:00 UTC", "2026-10-01 10:00:00+00"),
        ("2026-10-01T10:00:00 gmt", "2026-10-01 10:00:00+00"),
        ("2026-10-01T10:00:00Z", "2026-10-01 10:00:00+00"),
        ("2026-10-01T10:00:00 Europe/London", "2026-10-01 09:00:00+00"),
        ("2026-10-01T10:00:00+01:00", "2026-10-01 09:00:00+00"),
    ],
)
def test_a_time_zone_abbreviation_is_not_read_as_one_of_its_zones(text, read):
    """DuckDB reads a zone abbreviation as one zone it may name: ``10:00 BST`` (British
    Summer Time, 09:00Z) as Bangladesh's, 04:00Z, five hours off, in silence; ``CST`` as
    Chicago's time with its summer hour. Such a time is now unread (an input error naming
    its row); UTC, GMT, Z, an offset and a zone's full name are read as before."""
    import duckdb

    from privdiag.ingest.sqlparts import any_ts

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    got = con.execute(f"SELECT CAST({any_ts('t')} AS VARCHAR) FROM (SELECT ? AS t)", [text])
    assert got.fetchone()[0] == read


def test_an_events_time_in_a_zone_abbreviation_is_refused_naming_its_row(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text(EVENTS.replace("2026-10-01T10:05:00Z", "2026-10-01 10:05:00 BST"))
    out = tmp_path / "out.json"
    result = _cli("scan", str(events), "--json", str(out), "-q")
    assert result.exit_code == 3, result.output
    assert f"{events}, row 2, field 'ts'" in result.output
    assert "zone abbreviation" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"severity": "HIGH"}, "finding 2 has severity 'HIGH', not one of critical, high"),
        ({"severity": None}, "finding 2 has severity None, not one of critical, high"),
        ({"id": ""}, "finding 2 has no id"),
        ({"kind": None}, "finding 2 has no kind"),
    ],
)
def test_a_result_finding_of_a_bad_severity_id_or_kind_is_named(tmp_path, change, said):
    """A result edited by hand whose second finding's severity reads `HIGH` was refused as
    "has a finding without a valid id, kind or severity", naming neither the finding, the
    field nor the severities taken, with no hint."""
    import json

    from privdiag.report.merge import check_document
    from privdiag.result import SCHEMA_VERSION

    good = {"id": "a1", "kind": "consent.violation", "severity": "high"}
    doc = {"tool": "privdiag", "schema_version": SCHEMA_VERSION, "findings": [good, good]}
    doc["findings"] = [good, {**good, **change}]
    with pytest.raises(InputError) as caught:
        check_document(json.loads(json.dumps(doc)), where="r.json")
    assert said in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize("column", ["Label", " label", "LABEL "])
def test_a_blind_set_label_column_in_another_case_is_not_skipped_in_silence(tmp_path, column):
    """A blind set whose outcome column reads `Label` (no --label, no config) was scored
    without it: quality and importance "skipped: no label column", exit 0, so a CI job
    passed with nothing measured. It is now refused naming the column to pass."""
    from privdiag.model.synthetic import make_blind_set

    blind = tmp_path / "blind.csv"
    make_blind_set(n=200, seed=0).rename({"label": column}).write_csv(blind)
    model = str(Path(__file__).resolve().parent.parent / "fixtures/models/propensity_imputed.onnx")
    out = tmp_path / "out.json"
    result = _cli("model-check", model, "--blind-set", str(blind), "--json", str(out), "-q")
    assert result.exit_code == 3, result.output
    assert f"{blind}, field 'label': has no column 'label'" in result.output
    assert f"--label '{column}'" in result.output
    assert not out.exists()


@pytest.mark.parametrize(("bad", "said"), [(float("nan"), "NaN"), (float("inf"), "an infinite")])
def test_a_predictions_file_of_a_nan_score_is_named_not_the_model(tmp_path, bad, said):
    """Scores read from --predictions with NaN on row_id 7 were refused as "elsewhere.onnx:
    the model gives NaN to 1 of the blind set's 200 rows ... (the first: row 8)", naming the
    model file, which did not run, and a row, not the row_id. It now names the file of the
    unmasked scores and the row_id."""
    import polars as pl

    from privdiag.model.synthetic import make_blind_set

    blind = tmp_path / "blind.csv"
    make_blind_set(n=200, seed=0).write_csv(blind)
    scores = [0.5] * 200
    scores[7] = bad
    unmasked = tmp_path / "unmasked.csv"
    pl.DataFrame({"row_id": range(200), "score": scores}).write_csv(unmasked)
    result = _cli(
        "model-check", "elsewhere.onnx", "--blind-set", str(blind), "--predictions",
        str(unmasked), "-q",
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    said_of = f"{unmasked}: the model gives {said}"
    assert said_of in result.output and "(the first: row_id 7)" in result.output
    assert "elsewhere.onnx" not in result.output


CONSENT = "user_id,purpose,status,ts\nu1,ads,granted,2026-10-01T09:00:00Z\n"


def _scan_with_survey(tmp_path, name: str, text: str):
    events, consent, survey = tmp_path / "e.csv", tmp_path / "c.csv", tmp_path / name
    events.write_text(EVENTS)
    consent.write_text(CONSENT)
    survey.write_text(text)
    out = tmp_path / "out.json"
    args = [str(events), "--consent", str(consent), "--survey", str(survey)]
    return survey, out, _cli("scan", *args, "--json", str(out), "-q")


@pytest.mark.parametrize(
    ("name", "text", "column"),
    [
        ("s.csv", "segment,Trust,trust \nweb,4,3\n", "trust"),
        ("s.csv", "segment,trust,trust\nweb,4,3\n", "trust"),
        ("s.json", '[{"segment": "web", "Trust": 4, "trust": 3}]', "trust"),
    ],
)
def test_a_survey_naming_a_column_twice_is_refused_not_an_internal_error(
    tmp_path, name, text, column
):
    """A survey whose header holds `Trust` and `trust ` was an internal error (exit 5,
    "DuplicateError: column 'trust' is duplicate": names are read in any case and spacing);
    `trust,trust` read the first, the second unsaid. Both are refused naming the column."""
    survey, out, result = _scan_with_survey(tmp_path, name, text)
    assert result.exit_code == 3, result.output
    assert f"{survey}, field '{column}': names column" in result.output
    assert "twice in its header" in result.output and "Internal error" not in result.output
    assert not out.exists()


def test_a_survey_trust_that_is_no_number_is_refused_naming_its_row(tmp_path):
    """Trust scores written `4/5` or `80%` were dropped as rows without a score: "the survey
    has no row with a trust score", the rows' values unsaid. A score that is written but is
    no number is refused naming its row; an empty one is still no answer."""
    text = "segment,trust\nweb,4\nemail,\napp,4/5\nshop,80%\n"
    survey, out, result = _scan_with_survey(tmp_path, "s.csv", text)
    assert result.exit_code == 3, result.output
    assert f"{survey}, row 3, field 'trust': a 3-character value" in result.output
    assert "is no trust score (2 rows in all)" in result.output
    assert not out.exists()


@pytest.mark.parametrize("target", ["config", "history", "consent"])
def test_an_audit_log_that_is_a_file_the_audit_reads_is_refused(tmp_path, target):
    """`audit --log privdiag.toml` appended its log lines to its own config, which the next
    night's run could not read ("invalid TOML"); `--log` the history appended them to the
    DuckDB file, and `--log` a consent file to the consent log. Such a log is refused before
    the run, the file left as it was."""
    from tests.audit_data import NIGHT_1, setup

    config = setup(tmp_path, NIGHT_1)
    history = tmp_path / "history.duckdb"
    assert _cli("audit", "--config", str(config), "--history", str(history), "-q").exit_code == 1
    log = {"config": config, "history": history, "consent": tmp_path / "data" / "cmp.csv"}[target]
    before = log.read_bytes()
    result = _cli("audit", "--config", str(config), "--history", str(history), "--log", str(log))
    assert result.exit_code == 2, result.output
    assert f"cannot write --log {log}: it is also an input of this run" in result.output
    assert log.read_bytes() == before


@pytest.mark.parametrize("option", ["--markdown", "--json", "--html"])
def test_an_output_path_ending_in_a_slash_is_refused_not_written_as_a_file(tmp_path, option):
    """`--markdown reports/` (a folder not made yet) wrote a file named `reports`: the path
    lost its slash on the way. It is refused, naming the folder meant, and nothing is made."""
    events = tmp_path / "events.csv"
    events.write_text(EVENTS)
    meant = f"{tmp_path / 'reports'}/"
    result = _cli("scan", str(events), option, meant, "-q")
    assert result.exit_code == 2, result.output
    assert f"cannot write {option} {meant}: it names a folder" in result.output
    assert not (tmp_path / "reports").exists()


def test_a_survey_trust_of_a_no_answer_word_is_no_answer_not_refused(tmp_path):
    """A survey tool writes a missing score as `n/a`, `N/A`, `none` or `-`: the refusal of
    scores that are no number (above) refused those too, where they are no answer, as an
    empty cell is (the Spark survey test's `n/a` rows). Found at the merge of hostile29."""
    text = "segment,trust\nweb,4\nemail,n/a\napp,N/A\nshop, - \nstore,none\n"
    survey, out, result = _scan_with_survey(tmp_path, "s.csv", text)
    assert result.exit_code in (0, 1), result.output
    survey = json.loads(out.read_text())["evidence"]["survey"]
    assert (survey["rows"], survey["rows_without_trust"]) == (1, 4)
