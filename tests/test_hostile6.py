"""Hostile and odd inputs for the Snowplow consent log, the HTML report's evidence budget and
findings whose users are unknown."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from privdiag.config import Config
from privdiag.engine import connect
from privdiag.ingest import load

LOG_HEADER = (
    "event_id,domain_userid,user_id,derived_tstamp,event_name,event_type,consent_version,"
    "consent_scopes"
)


def _events(folder: Path) -> str:
    """An events file of one event: a scan needs events beside its consent log."""
    path = folder / "events.csv"
    path.write_text("user_id,ts,event_name\nd1,2024-05-01 10:00:09,page_view\n", "utf-8")
    return str(path)


def _log(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([LOG_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _records(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, bool]]:
    return con.execute("SELECT user_key, purpose, granted FROM consent ORDER BY ALL").fetchall()


# d1 selected necessary and statistics; d2 denied all but the listed necessary. The scopes
# seen are necessary (necessary), statistics (analytics) and marketing (ads).
D1_SELECTED = [("d1", "ads", False), ("d1", "analytics", True), ("d1", "necessary", True)]
TWO_USERS = [
    *D1_SELECTED,
    ("d2", "ads", False),
    ("d2", "analytics", False),
    ("d2", "necessary", True),
]


@pytest.mark.parametrize("form", ["json_text", "parquet_list", "ndjson_list"])
def test_snowplow_log_scopes_as_a_list_or_json_array_give_the_records(tmp_path, form):
    rows = [
        "l1,d1,,2024-05-01 10:00:02,consent_preferences,allow_selected,1.0,"
        '"[""necessary"", ""statistics""]"',
        "l2,d2,,2024-05-01 10:00:03,consent_preferences,deny_all,1.0,"
        '"[""necessary"",""marketing""]"',
    ]
    log = _log(tmp_path / "log.csv", rows)
    if form != "json_text":
        suffix = "parquet" if form == "parquet_list" else "ndjson"
        out = tmp_path / f"log.{suffix}"
        fmt = "(FORMAT PARQUET)" if suffix == "parquet" else "(FORMAT JSON)"
        duckdb.sql(
            f"COPY (SELECT * REPLACE (CAST(consent_scopes AS JSON)::VARCHAR[] AS consent_scopes)"
            f" FROM read_csv('{log}')) TO '{out}' {fmt}"
        )
        log.unlink()
        log = out
    con = connect()
    loaded = load(con, [_events(tmp_path)], [str(log)], Config())

    assert _records(con) == TWO_USERS
    assert loaded.unmapped == {}


def test_snowplow_log_rows_of_an_unknown_event_type_are_no_decision_and_are_noted(tmp_path):
    rows = [
        "l1,d1,,2024-05-01 10:00:02,consent_preferences,allow_everything,1.0,necessary",
        "l2,d2,,2024-05-01 10:00:03,consent_preferences,,1.0,necessary",
        "l3,d3,,2024-05-01 10:00:04,consent_preferences,implicit_consent,1.0,necessary",
        "l4,d1,,2024-05-01 10:00:05,Consent_Preferences,Allow_All,1.0,necessary",
        "l5,d4,,2024-05-01 10:00:06,cmp_visible,bogus,,",  # no consent_preferences: no note
    ]
    con = connect()
    loaded = load(con, [_events(tmp_path)], [str(_log(tmp_path / "log.csv", rows))], Config())

    assert _records(con) == [("d1", "necessary", True)]
    notes = loaded.staged[1][1].notes
    log_rows = "row(s) of the Snowplow consent log"
    assert notes[0] == f"1 implicit_consent {log_rows} not counted as consent"
    assert notes[1].startswith(f"1 consent_preferences {log_rows} with an event type ")
    # what the value looks like, not the value itself
    assert "(e.g. a 16-character value of letters and '_')" in notes[1]
    assert "allow_everything" not in notes[1]
    # an empty event type is said to be missing, not described as a value (trial 25's (5))
    assert notes[2].startswith(
        f"1 consent_preferences {log_rows} with no event type (the event's eventType, or the "
        "log's event_type, missing or empty) not counted as consent"
    )


@pytest.mark.parametrize("container", ["csv", "ndjson"])
def test_a_folder_mixing_a_snowplow_log_with_other_consent_files_is_refused(tmp_path, container):
    from privdiag.errors import InputError

    folder = tmp_path / "consent"
    folder.mkdir()
    row = "l1,d1,,2024-05-01 10:00:02,consent_preferences,allow_all,1,"
    log = _log(tmp_path / "log.csv", [row])
    generic = tmp_path / "cmp.csv"
    generic.write_text("user_id,purpose,status,ts\nd1,ads,granted,2024-05-01 10:00:03\n", "utf-8")
    for path in (log, generic):
        target = folder / f"{path.stem}.{container}"
        fmt = "(FORMAT JSON)" if container == "ndjson" else "(HEADER)"
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{path}')) TO '{target}' {fmt}")

    with pytest.raises(InputError) as caught:
        load(connect(), [_events(tmp_path)], [str(folder)], Config())
    assert f"Snowplow consent log (log.{container})" in str(caught.value)
    assert f"(cmp.{container})" in str(caught.value)
    assert "separate --consent" in (caught.value.hint or "")


def _pings(folder: Path, flag: bool) -> str:
    """Ten events of a source without any user id; with ``flag``, each carries consent_ads."""
    path = folder / "pings.csv"
    rows = [f"e{n},2024-05-01 10:00:{n:02d},page_view,g{n}" for n in range(10)]
    header = "event_id,ts,event_name,gclid"
    if flag:
        header += ",consent_ads"
        rows = [f"{r},{'yes' if n < 4 else ''}" for n, r in enumerate(rows)]  # 4 flagged
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("flag", [False, True])
def test_a_source_without_user_ids_or_consent_flags_is_a_missing_record(tmp_path, flag):
    from privdiag.scan import run_scan
    from tests.helpers import by_kind, config

    doc = run_scan([_pings(tmp_path, flag)], config=config()).to_dict()

    [found] = by_kind(doc, "consent.missing_record")
    events = 6 if flag else 10  # the events without a flag of their own
    assert found["location"] == {"source": "pings"}
    assert found["metrics"] == {
        "events": events,
        "users": None,
        "share": events / 10,
        "no_user_ids": ["users"],
    }
    assert ("no consent signal at all" in found["title"]) is not flag
    from privdiag.report.text import key_figure

    assert key_figure(found["metrics"], 5, found["kind"], found["location"]) == (
        f"{events * 10:.1f}% of the source's events carry neither a user id nor a consent flag"
    )


def test_snowplow_log_of_thousands_of_scopes_per_row_gives_each_row_its_purposes(tmp_path):
    """Each row's listed purposes are joined once, not looked up again per row and purpose
    (that grew with rows x scopes: about 17 s for these 40 rows of 10,000 scopes, 1 s
    now). How fast is for the bench to tell; this checks what the join gives."""
    scopes = ", ".join([*(f"s{n}" for n in range(10_000)), "necessary", "statistics"])
    rows = [
        f'l{n},d{n},,2024-05-01 10:00:{n:02d},consent_preferences,allow_selected,1,"{scopes}"'
        for n in range(40)
    ]
    log = _log(tmp_path / "log.csv", rows)
    con = connect()
    loaded = load(con, [_events(tmp_path)], [str(log)], Config())

    assert con.execute("SELECT count(*), bool_and(granted) FROM consent").fetchone() == (80, True)
    assert len(loaded.unmapped["log"]) == 10_000


def test_consent_rows_without_any_user_id_are_noted_not_dropped_unsaid(tmp_path):
    rows = [
        "l1,d1,null,2024-05-01 10:00:02,consent_preferences,allow_all,1,necessary",  # d1's
        "l2,,,2024-05-01 10:00:03,consent_preferences,allow_all,1,necessary",
        'l3,"  ",,2024-05-01 10:00:04,consent_preferences,deny_all,1,necessary',
        "l4,,,2024-05-01 10:00:05,cmp_visible,,,",  # no decision: not counted
    ]
    generic = tmp_path / "cmp.csv"
    generic.write_text(
        "user_id,purpose,status,ts\n,ads,granted,2024-05-01 10:00:00\n"
        "d1,ads,granted,2024-05-01 10:00:00\n",
        "utf-8",
    )
    con = connect()
    loaded = load(
        con, [_events(tmp_path)], [str(_log(tmp_path / "log.csv", rows)), str(generic)], Config()
    )

    assert _records(con) == [("d1", "ads", True), ("d1", "necessary", True)]
    note = "consent decision row(s) without a user id left out, as they belong to no user"
    assert loaded.staged[1][1].notes == [f"2 {note}"]
    assert loaded.staged[2][1].notes[0] == f"1 {note}"
    # and its times without an offset (trial 20's Known limitation (4))
    assert loaded.staged[2][1].notes[1].startswith("2 decision time(s) in column 'ts' read as UTC")


# d1 selected necessary and statistics, d2 necessary and marketing.
SELECTED = [
    *D1_SELECTED,
    ("d2", "ads", True),
    ("d2", "analytics", False),
    ("d2", "necessary", True),
]


@pytest.mark.parametrize("event_ids", ["none", "empty", "repeated"])
def test_snowplow_log_rows_are_told_apart_without_unique_event_ids(tmp_path, event_ids):
    """A row's scopes are its own: matched by event id, a log without ids denied every
    listed scope, and one repeating an id gave each row the other's scopes."""
    rows = [
        ',d1,,2024-05-01 10:00:02,consent_preferences,allow_selected,1,"necessary, statistics"',
        ',d2,,2024-05-01 10:00:03,consent_preferences,allow_selected,1,"necessary, marketing"',
    ]
    if event_ids == "repeated":
        rows = [f"x{row}" for row in rows]
    log = _log(tmp_path / "log.csv", rows)
    if event_ids == "none":
        text = log.read_text("utf-8").replace("event_id,", "", 1).replace("\n,", "\n")
        log.write_text(text, "utf-8")
    con = connect()
    load(con, [_events(tmp_path)], [str(log)], Config())

    assert _records(con) == SELECTED


def test_snowplow_events_without_an_event_id_keep_their_own_scopes(tmp_path):
    from tests.test_ingest_snowplow import _prefs, _row, _write

    rows = [
        _row(2, "d1", "consent_preferences", _prefs("allow_selected", ["necessary", "statistics"])),
        _row(3, "d2", "consent_preferences", _prefs("allow_selected", ["necessary", "marketing"])),
    ]
    for row in rows:
        row[4] = ""  # event_id
    con = connect()
    load(con, [_write(tmp_path / "sp.csv", rows)], [], Config())

    assert _records(con) == SELECTED


@pytest.mark.parametrize(
    "texts",
    [("['necessary', 'statistics']", "['necessary', 'marketing']"),  # a Python list's text
     ("{necessary,statistics}", "{necessary,marketing}")],  # a Postgres array's text
)  # fmt: skip
def test_snowplow_log_scopes_as_other_array_texts_give_the_records(tmp_path, texts):
    rows = [
        f'l1,d1,,2024-05-01 10:00:02,consent_preferences,allow_selected,1,"{texts[0]}"',
        f'l2,d2,,2024-05-01 10:00:03,consent_preferences,allow_selected,1,"{texts[1]}"',
    ]
    con = connect()
    loaded = load(con, [_events(tmp_path)], [str(_log(tmp_path / "log.csv", rows))], Config())

    assert _records(con) == SELECTED
    assert loaded.unmapped == {}


def test_findings_whose_ids_differ_only_in_unsafe_characters_get_their_own_anchor():
    """A merged JSON may hold ids privdiag did not write: "x.y" and "x_y" both became the
    HTML id f-x_y, so the page held it twice and links to the second reached the first."""
    from html.parser import HTMLParser

    from browser.samples import sample_doc

    from privdiag.report.context import anchor
    from privdiag.report.html import render_html
    from privdiag.report.merge import merge

    doc = sample_doc()
    doc["findings"][0]["id"], doc["findings"][1]["id"] = "x.y", "x_y"
    ids: list[str] = []
    hrefs: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found = dict(attrs)
            ids.extend([found["id"]] if found.get("id") else [])
            hrefs.extend([found["href"][1:]] if (found.get("href") or "").startswith("#") else [])

    Collect().feed(render_html(merge([doc])))

    assert len(ids) == len(set(ids))
    assert set(hrefs) <= set(ids)
    assert anchor("x_y") == "f-x_y" and anchor("x.y").startswith("f-x_y-")
    assert {anchor("x.y"), anchor("x_y")} <= set(ids)


def test_a_snowplow_consent_log_given_as_events_is_refused_with_the_way_to_give_it(tmp_path):
    """Read as generic events, the log failed on its time column ('no column for the event
    time'), saying nothing of --consent."""
    from privdiag.errors import InputError

    row = "l1,d1,,2024-05-01 10:00:02,consent_preferences,allow_all,1,necessary"
    log = _log(tmp_path / "log.csv", [row])
    with pytest.raises(InputError) as caught:
        load(connect(), [_events(tmp_path), str(log)], [], Config())
    assert caught.value.path == str(log)
    assert "is a Snowplow consent log (snowplow_web_consent_log), not events" in str(caught.value)
    assert "give the log with --consent" in (caught.value.hint or "")
