"""Repeated consent records count once: a log given twice, or copied beside itself in a folder.

The log below, worked out by hand: u1 grants and denies ads at 09:00 (one conflicting pair:
2 records, 1 user); u2 grants ads at 09:00 and u3 denies it at 10:00 (no conflict). Given
twice, the conflict is still 2 records of 1 user, and the 4 repeated records are said.
"""

from __future__ import annotations

import json
import shutil

import duckdb

from privdiag.ingest.duplicates import drop_duplicate_consent, drop_duplicate_unmapped
from privdiag.ingest.tables import NO_UNMAPPED, UNMAPPED
from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write

EVENTS = """
ts,event_name,user_id,gclid
2026-10-01T11:00:00Z,page_view,u1,G1
2026-10-01T11:00:00Z,page_view,u2,G2
2026-10-01T11:00:00Z,page_view,u3,G3
"""

LOG = """
user_id,purpose,status,ts,version
u1,ads,granted,2026-10-01T09:00:00Z,v1
u1,ads,denied,2026-10-01T09:00:00Z,v1
u2,ads,granted,2026-10-01T09:00:00Z,v1
u3,ads,denied,2026-10-01T10:00:00Z,v1
"""


def _conflicts(doc: dict) -> list[tuple[str, str, dict]]:
    return [
        (f["location"]["source"], f["location"]["purpose"], f["metrics"])
        for f in by_kind(doc, "consent.conflict")
    ]


def _notes(doc: dict) -> list[str]:
    return [n for n in doc["evidence"].get("notes", []) if "consent records repeated" in n]


def test_a_log_given_twice_counts_its_conflict_once(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    log = write(tmp_path / "a.csv", LOG)
    copy = tmp_path / "copy-of-a.csv"
    shutil.copy(log, copy)

    once = run_scan([events], consent=[log], config=config()).to_dict()
    twice = run_scan([events], consent=[log, str(copy)], config=config()).to_dict()

    assert _conflicts(once) == [("a", "ads", {"records": 2, "users": 1})]
    assert _conflicts(twice) == _conflicts(once)  # was 4 records
    assert _notes(once) == []
    assert _notes(twice) == [
        "4 consent records repeated another record (the same user, purpose, decision, time, "
        "notice version, region and device, as when a log is given twice or copied) and "
        "were counted once; the repeats dropped were read from copy-of-a"
    ]
    # the inputs keep the records they were read with
    assert [i["records"] for i in twice["inputs"] if i["role"] == "consent"] == [4, 4]
    strip = {"notes", "inputs"}
    assert {k: v for k, v in twice["evidence"].items() if k not in strip} == {
        k: v for k, v in once["evidence"].items() if k not in strip
    }
    assert json.dumps(twice["findings"]) == json.dumps(once["findings"])


def test_a_copy_in_the_consent_folder_counts_once_and_a_record_that_differs_is_kept(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    folder = tmp_path / "cmp"
    folder.mkdir()
    write(folder / "a.csv", LOG)
    # the copy adds u1's grant again under notice v2: another record, kept
    write(folder / "b.csv", LOG + "u1,ads,granted,2026-10-01T09:00:00Z,v2\n")

    doc = run_scan([events], consent=[str(folder)], config=config()).to_dict()

    assert _conflicts(doc) == [("cmp", "ads", {"records": 3, "users": 1})]
    assert _notes(doc) == [
        "4 consent records repeated another record (the same user, purpose, decision, time, "
        "notice version, region and device, as when a log is given twice or copied) and "
        "were counted once; the repeats dropped were read from cmp"
    ]


def test_only_records_equal_but_for_their_source_are_dropped():
    con = duckdb.connect()
    con.execute("""CREATE TABLE consent AS SELECT * FROM (VALUES
        ('u1', 'ads', TRUE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'b', 'v1', 'DE', 'web', 1),
        ('u1', 'ads', TRUE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'a', 'v1', 'DE', 'web', 1),
        ('u1', 'ads', TRUE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'a', 'v1', 'DE', 'web', 1),
        ('u1', 'ads', TRUE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'a', 'v1', 'DE', NULL, 1),
        ('u1', 'ads', TRUE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'a', 'v1', NULL, 'web', 1),
        ('u1', 'ads', TRUE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'a', NULL, 'DE', 'web', 1),
        ('u1', 'ads', TRUE, TIMESTAMPTZ '2026-10-01 09:00:01+00', 'a', 'v1', 'DE', 'web', 1),
        ('u1', 'ads', FALSE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'a', 'v1', 'DE', 'web', 1),
        ('u1', 'analytics', TRUE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'a', 'v1', 'DE', 'web', 1),
        ('u2', 'ads', TRUE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'a', 'v1', 'DE', 'web', 1),
        (NULL, 'ads', TRUE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'a', 'v1', 'DE', 'web', 1),
        (NULL, 'ads', TRUE, TIMESTAMPTZ '2026-10-01 09:00:00+00', 'a', 'v1', 'DE', 'web', 1))
        AS t(user_key, purpose, granted, ts, source, version, region, device, _input)""")
    con.execute(f"CREATE TEMP TABLE {UNMAPPED} AS {NO_UNMAPPED}")

    notes = drop_duplicate_consent(con)

    # two repeats of the first record (one from a, one from b: a is kept) and one of the last
    assert con.execute("SELECT count(*) FROM consent").fetchone() == (9,)
    assert notes == [
        "3 consent records repeated another record (the same user, purpose, decision, time, "
        "notice version, region and device, as when a log is given twice or copied) and "
        "were counted once; the repeats dropped were read from a, b"
    ]
    kept = "SELECT source FROM consent WHERE device = 'web' AND region = 'DE' AND user_key = 'u1'"
    assert con.execute(
        f"{kept} AND purpose = 'ads' AND granted AND version = 'v1' AND second(ts) = 0"
    ).fetchall() == [("a",)]
    assert drop_duplicate_consent(con) == []


def test_realdata_snowplow_consent_log_given_twice(realdata, tmp_path):
    """The dbt-snowplow-web consent log (128 records) given with a copy of itself beside the
    events it came from: the copy's 128 records are dropped; the events' own 128 records
    are kept, as they carry the device, which the log does not (they differ)."""
    sp = realdata / "snowplow"
    events = str(sp / "source" / "snowplow_web_events.csv")
    log = sp / "expected" / "snowplow_web_consent_log_expected.csv"
    copy = tmp_path / "log_copy.csv"
    shutil.copy(log, copy)

    once = run_scan([events], consent=[str(log)], config=config()).to_dict()
    twice = run_scan([events], consent=[str(log), str(copy)], config=config()).to_dict()

    assert _notes(once) == []
    # the copy, given second, is the one dropped (log_copy sorts first: it was kept before)
    assert _notes(twice) == [
        "128 consent records repeated another record (the same user, purpose, decision, time, "
        "notice version, region and device, as when a log is given twice or copied) and "
        "were counted once; the repeats dropped were read from log_copy"
    ]
    # each log: 65 file rows (cmp_visible rows too) giving 128 records
    assert [(i["rows"], i.get("records")) for i in twice["inputs"]] == [
        (157, None),
        (65, 128),
        (65, 128),
    ]
    assert json.dumps(twice["findings"]) == json.dumps(once["findings"])


def test_realdata_tc_strings_conflict_given_twice(realdata, tmp_path):
    """u1 stores consent_c and consent_b at the same instant: consent_c denies ads (TCF 3
    and 4 missing), consent_b grants all: one conflicting pair (2 records, 1 user);
    analytics, personalization and functional agree."""
    strings = [
        json.loads((realdata / "tcf" / "v2" / f"consent_{x}.json").read_text())["consent"]
        for x in "cb"
    ]
    events = write(tmp_path / "web.csv", "ts,event_name,user_id\n2026-10-01T10:00:00Z,a,u1\n")
    log = tmp_path / "tc.csv"
    log.write_text(
        "user_id,tc_string,ts\n" + "".join(f"u1,{s},2026-10-01T09:00:00Z\n" for s in strings),
        encoding="utf-8",
    )
    copy = tmp_path / "tc_again.csv"
    shutil.copy(log, copy)

    doc = run_scan([events], consent=[str(log), str(copy)], config=config()).to_dict()

    pair = {"records": 2, "users": 1}
    assert sorted(_conflicts(doc), key=str) == [("tc", "ads", pair)]
    # each string gives 4 records (analytics, ads, personalization, functional): 8 a file, of
    # which all but ads granted twice, so 5 distinct; 16 read, 11 dropped (3 from tc, 8 from
    # the copy)
    assert _notes(doc) == [
        "11 consent records repeated another record (the same user, purpose, decision, time, "
        "notice version, region and device, as when a log is given twice or copied) and were "
        "counted once; the repeats dropped were read from tc, tc_again"
    ]


def test_a_copied_log_counts_its_unmapped_decisions_once(tmp_path):
    """Decisions in a category that maps to no purpose are kept apart from the records; a log
    copied beside itself counted them twice (4 decisions of 2 users below, where the log holds
    2), and a copy under another name made a second finding for the copy's source."""
    events = write(tmp_path / "web.csv", EVENTS)
    log = LOG + "u2,Weird Cookies,granted,2026-10-01T09:00:00Z,v1\n"
    log += "u3,Weird Cookies,denied,2026-10-01T10:00:00Z,v1\n"
    folder = tmp_path / "cmp"
    folder.mkdir()
    write(folder / "a.csv", log)
    # the copy adds u3's denial again an hour later: another decision, kept
    write(folder / "b.csv", log + "u3,Weird Cookies,denied,2026-10-01T11:00:00Z,v1\n")
    write(tmp_path / "copy.csv", log)

    doc = run_scan(
        [events], consent=[str(folder), str(tmp_path / "copy.csv")], config=config()
    ).to_dict()

    unmapped = [(f["location"], f["metrics"]) for f in by_kind(doc, "consent.unmapped_category")]
    assert unmapped == [
        ({"source": "cmp", "purpose": "Weird Cookies"}, {"decisions": 3, "users": 2})
    ]
    assert _conflicts(doc) == [("cmp", "ads", {"records": 2, "users": 1})]


def test_unmapped_decisions_without_a_user_are_all_kept():
    con = duckdb.connect()
    con.execute("""CREATE TEMP TABLE unmapped_consent AS SELECT * FROM (VALUES
        ('b', 'x', 'u1', 'd1', 0), ('a', 'x', 'u1', 'd1', 1), ('a', 'x', 'u1', 'd2', 1),
        ('a', 'y', 'u1', 'd1', 1), ('a', 'x', NULL, 'd1', 1), ('b', 'x', NULL, 'd1', 0))
        AS t(source, category, user_key, decision, _input)""")

    # b was given first: its decision is kept, a's repeat of it dropped
    assert drop_duplicate_unmapped(con) == {"a": 1}

    rows = con.execute("SELECT * EXCLUDE (_input) FROM unmapped_consent ORDER BY ALL").fetchall()
    assert rows == [
        ("a", "x", "u1", "d2"),
        ("a", "x", None, "d1"),
        ("a", "y", "u1", "d1"),
        ("b", "x", "u1", "d1"),
        ("b", "x", None, "d1"),
    ]


def test_a_renamed_copy_given_second_leaves_the_finding_and_owner_to_the_log(tmp_path):
    """cmp_log.csv given first, backup_of_cmp_log.csv (the same rows) second: the repeats are
    the backup's, so the conflict (u1's grant and denial at 09:00: 2 records, 1 user) stays
    with cmp_log and its owner. The backup's name sorts first, and took both before."""
    from privdiag.config import SourceConfig

    events = write(tmp_path / "web.csv", EVENTS)
    log = write(tmp_path / "cmp_log.csv", LOG)
    backup = tmp_path / "backup_of_cmp_log.csv"
    shutil.copy(log, backup)
    cfg = config()
    cfg.sources["cmp_log"] = SourceConfig(owner="privacy-team")

    doc = run_scan([events], consent=[log, str(backup)], config=cfg).to_dict()

    conflicts = by_kind(doc, "consent.conflict")
    assert [(f["location"]["source"], f["owner"]) for f in conflicts] == [
        ("cmp_log", "privacy-team")
    ]
    assert conflicts[0]["metrics"] == {"records": 2, "users": 1}
    assert _notes(doc)[0].endswith("the repeats dropped were read from backup_of_cmp_log")

    # given the other way round, the backup is the first input and keeps them
    doc = run_scan([events], consent=[str(backup), log], config=cfg).to_dict()
    assert [f["location"]["source"] for f in by_kind(doc, "consent.conflict")] == [
        "backup_of_cmp_log"
    ]


def test_the_same_log_as_csv_and_ndjson_counts_once_with_empty_fields(tmp_path):
    """The log as CSV (an empty field read as NULL) and as NDJSON ("" kept as text): its 4
    records and its 2 unmapped decisions (u2's and u3's "Weird Cookies", without a version)
    are the same decisions, dropped from the NDJSON copy: 6 repeats, 2 of them unmapped."""
    rows = [
        ("u1", "ads", "granted", "2026-10-01T09:00:00Z", "v1"),
        ("u1", "ads", "denied", "2026-10-01T09:00:00Z", "v1"),
        ("u2", "ads", "granted", "2026-10-01T09:00:00Z", ""),
        ("u3", "ads", "denied", "2026-10-01T10:00:00Z", ""),
        ("u2", "Weird Cookies", "granted", "2026-10-01T09:00:00Z", ""),
        ("u3", "Weird Cookies", "denied", "2026-10-01T10:00:00Z", ""),
    ]
    names = ("user_id", "purpose", "status", "ts", "version")
    events = write(tmp_path / "web.csv", EVENTS)
    csv_log = write(tmp_path / "log.csv", "\n".join(",".join(r) for r in [names, *rows]) + "\n")
    ndjson = tmp_path / "log_export.ndjson"
    ndjson.write_text(
        "".join(json.dumps(dict(zip(names, r, strict=True))) + "\n" for r in rows), "utf-8"
    )

    doc = run_scan([events], consent=[csv_log, str(ndjson)], config=config()).to_dict()

    assert _notes(doc) == [
        "6 consent records repeated another record (the same user, purpose, decision, time, "
        "notice version, region and device, as when a log is given twice or copied) and were "
        "counted once (2 of them in categories that map to no purpose); the repeats dropped "
        "were read from log_export"
    ]
    assert _conflicts(doc) == [("log", "ads", {"records": 2, "users": 1})]
    unmapped = [(f["location"], f["metrics"]) for f in by_kind(doc, "consent.unmapped_category")]
    assert unmapped == [
        ({"source": "log", "purpose": "Weird Cookies"}, {"decisions": 2, "users": 2})
    ]


def test_repeated_unmapped_decisions_alone_are_said():
    """Only decisions in unmapped categories repeat: the note counts them (it said nothing)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE consent (user_key VARCHAR, purpose VARCHAR, granted BOOLEAN, "
                "ts TIMESTAMPTZ, source VARCHAR, version VARCHAR, region VARCHAR, "
                "device VARCHAR, _input INTEGER)")  # fmt: skip
    con.execute(f"""CREATE TEMP TABLE {UNMAPPED} AS SELECT * FROM (VALUES
        ('a', 'x', 'u1', 'd1', 0), ('copy', 'x', 'u1', 'd1', 1))
        AS t(source, category, user_key, decision, _input)""")

    assert drop_duplicate_consent(con) == [
        "1 consent record repeated another record (the same user, purpose, decision, time, "
        "notice version, region and device, as when a log is given twice or copied) and was "
        "counted once (in categories that map to no purpose); the repeats dropped were read "
        "from copy"
    ]
