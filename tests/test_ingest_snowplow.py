"""Snowplow reader: canonical events, consent records, and the dbt-snowplow-web consent oracle."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privdiag.config import Config
from privdiag.engine import connect
from privdiag.ingest import load
from privdiag.ingest.snowplow import ENRICHED_COLUMNS, detect
from privdiag.scan import run_scan
from privdiag.snowplow_models import consent_log, consent_users
from tests.helpers import config

PREFS = "unstruct_event_com_snowplowanalytics_snowplow_consent_preferences_1_0_0"
CMP = "unstruct_event_com_snowplowanalytics_snowplow_cmp_visible_1_0_0"
HEADER = [
    "app_id",
    "platform",
    "collector_tstamp",
    "derived_tstamp",
    "event_id",
    "event_name",
    "user_id",
    "domain_userid",
    "network_userid",
    "domain_sessionid",
    "user_ipaddress",
    "geo_country",
    "page_url",
    "br_lang",
    PREFS,
]


def _prefs(event_type: str, scopes: list[str], version: str = "1.0") -> str:
    return json.dumps(
        [{"event_type": event_type, "consent_scopes": scopes, "consent_version": version}]
    )


def _row(n: int, user: str, name: str = "page_view", prefs: str = "", **kw: str) -> list[str]:
    ts = f"2024-05-01 10:00:{n:02d}.000"
    values = {
        "app_id": "site",
        "platform": "web",
        "collector_tstamp": ts,
        "derived_tstamp": kw.get("derived", ts),
        "event_id": kw.get("event_id", f"e{n}"),
        "event_name": name,
        "user_id": kw.get("user_id", ""),
        "domain_userid": user,
        "network_userid": f"n-{user}",
        "domain_sessionid": f"s-{user}",
        "user_ipaddress": "203.0.113.9",
        "geo_country": "FR",
        "page_url": "https://example.org/a",
        "br_lang": "fr",
        PREFS: prefs,
    }
    return [values[c] for c in HEADER]


def _write(path: Path, rows: list[list[str]]) -> str:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return str(path)


def _consent(con) -> list[tuple]:
    return con.execute(
        "SELECT user_key, purpose, granted, strftime(ts, '%S'), version FROM consent ORDER BY ALL"
    ).fetchall()


SMALL = [
    _row(1, "u1"),
    _row(2, "u1", "consent_preferences", _prefs("allow_selected", ["necessary", "statistics"])),
    _row(3, "u2", "consent_preferences", _prefs("allow_all", ["necessary", "marketing"])),
    _row(4, "u3", "consent_preferences", _prefs("deny_all", ["necessary"], "2.0")),
    _row(5, "u3", "consent_preferences", _prefs("pending", ["necessary"])),
    _row(6, "u4", "consent_preferences", _prefs("withdrawn", [])),
    _row(7, "u5", "consent_preferences", _prefs("allow_selected", ["cookies_x"])),
    _row(8, "u1", event_id="e1"),  # duplicate of e1, collected later: dropped
    _row(9, "u6", user_id="alice"),
]

# The records SMALL gives; scopes seen: necessary, statistics (analytics), marketing (ads).
SMALL_RECORDS = [
    ("u1", "ads", False, "02", "1.0"),  # allow_selected: unlisted -> denied
    ("u1", "analytics", True, "02", "1.0"),
    ("u1", "necessary", True, "02", "1.0"),
    ("u2", "ads", True, "03", "1.0"),  # allow_all grants every purpose seen
    ("u2", "analytics", True, "03", "1.0"),
    ("u2", "necessary", True, "03", "1.0"),
    ("u3", "ads", False, "04", "2.0"),  # deny_all keeps the listed 'necessary'
    ("u3", "analytics", False, "04", "2.0"),
    ("u3", "necessary", True, "04", "2.0"),
    ("u4", "ads", False, "06", "1.0"),  # withdrawn: all denied, necessary untouched
    ("u4", "analytics", False, "06", "1.0"),
    ("u5", "ads", False, "07", "1.0"),  # only an unmapped scope selected
    ("u5", "analytics", False, "07", "1.0"),
]


def test_detects_warehouse_columns_and_not_generic_tables():
    assert detect({"collector_tstamp": "TIMESTAMP", "event_id": "VARCHAR"})
    assert not detect({"ts": "VARCHAR", "event_id": "VARCHAR"})
    assert not detect({"collector_tstamp": "TIMESTAMP"})


def test_small_input_canonical_events(tmp_path):
    con = connect()
    loaded = load(con, [_write(tmp_path / "sp.csv", SMALL)], [], Config())
    assert loaded.inputs[0].format == "snowplow"
    assert loaded.inputs[0].rows == 8  # 9 rows, one duplicate event_id
    assert loaded.staged[0][1].notes == ["1 duplicate Snowplow event(s) dropped (same event_id)"]
    rows = con.execute("""
        SELECT event_id, strftime(ts, '%S'), event_name, user_key, anon_key, session_key,
               cookieless, country, channel, has_ip, page_url, consent_analytics
        FROM events WHERE event_id IN ('e1', 'e9') ORDER BY 1
    """).fetchall()
    assert rows == [
        ("e1", "01", "page_view", "u1", "u1", "s-u1", False, "FR", "web", True,
         "https://example.org/a", None),
        ("e9", "09", "page_view", "alice", "u6", "s-u6", False, "FR", "web", True,
         "https://example.org/a", None),
    ]  # fmt: skip
    columns = {r[0] for r in con.execute("DESCRIBE events").fetchall()}
    assert "user_ipaddress" not in columns and "network_userid" not in columns


def test_small_input_consent_decisions(tmp_path):
    con = connect()
    loaded = load(con, [_write(tmp_path / "sp.csv", SMALL)], [], Config())
    # scopes seen in this input: necessary, statistics (analytics), marketing (ads)
    assert _consent(con) == SMALL_RECORDS
    assert loaded.unmapped == {"sp": ["cookies_x"]}  # keyed by source name


def test_config_alias_maps_a_custom_scope(tmp_path):
    con = connect()
    cfg = Config(aliases={"cookies_x": "functional"})
    load(con, [_write(tmp_path / "sp.csv", SMALL)], [], cfg)
    granted = con.execute(
        "SELECT granted FROM consent WHERE user_key = 'u5' AND purpose = 'functional'"
    ).fetchall()
    assert granted == [(True,)]


def _enriched_line(**values: str) -> str:
    return "\t".join(values.get(c, "") for c in ENRICHED_COLUMNS)


def test_enriched_tsv_with_self_describing_json(tmp_path):
    event = {
        "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
        "data": {
            "schema": "iglu:com.snowplowanalytics.snowplow/consent_preferences/jsonschema/1-0-0",
            "data": {"eventType": "allow_selected", "consentScopes": ["analytics"],
                     "consentVersion": "3", "basisForProcessing": "consent"},
        },
    }  # fmt: skip
    common = {"app_id": "a", "platform": "web", "etl_tstamp": "2024-05-01 10:00:00.000",
              "domain_userid": "d1", "domain_sessionid": "s1"}  # fmt: skip
    lines = [
        _enriched_line(**common, collector_tstamp="2024-05-01 10:00:01.000", event_id="x1",
                       event="unstruct", event_name="consent_preferences",
                       unstruct_event=json.dumps(event)),
        _enriched_line(**common, collector_tstamp="2024-05-01 10:00:02.000", event_id="x2",
                       event="page_view", event_name="page_view", page_url="https://e.org/"),
    ]  # fmt: skip
    path = tmp_path / "enriched.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    con = connect()
    loaded = load(con, [str(path)], [], Config())
    assert loaded.inputs[0].format == "snowplow"
    assert loaded.inputs[0].rows == 2
    assert _consent(con) == [("d1", "analytics", True, "01", "3")]
    assert con.execute("SELECT page_url FROM events WHERE event_id = 'x2'").fetchall() == [
        ("https://e.org/",)
    ]


def _sdk_rows() -> list[dict]:
    """SMALL as the Snowplow analytics SDK writes it to JSON: a shredded event is an object
    under ``unstruct_event_..._consent_preferences_1`` with camelCase keys."""
    rows = []
    for row in SMALL:
        values = {c: v for c, v in zip(HEADER, row, strict=True) if v and c != PREFS}
        prefs = dict(zip(HEADER, row, strict=True))[PREFS]
        if prefs:
            data = json.loads(prefs)[0]
            values[PREFS.removesuffix("_0_0")] = {
                "eventType": data["event_type"],
                "consentScopes": data["consent_scopes"],
                "consentVersion": data["consent_version"],
            }
        rows.append(values)
    return rows


def test_sdk_json_objects_give_the_records_of_their_text(tmp_path):
    # A JSON or Parquet reader types such an object as a STRUCT, whose text is no JSON: its
    # decisions were lost and every user read as having none.
    ndjson = tmp_path / "sp.ndjson"
    ndjson.write_text("\n".join(json.dumps(r) for r in _sdk_rows()) + "\n", encoding="utf-8")
    con = connect()
    load(con, [str(ndjson)], [], Config())
    assert _consent(con) == SMALL_RECORDS
    parquet = tmp_path / "sp.parquet"
    connect().execute(
        f"COPY (SELECT * FROM read_json_auto('{ndjson}')) TO '{parquet}' (FORMAT parquet)"
    )
    con = connect()
    load(con, [str(parquet)], [], Config())
    assert _consent(con) == SMALL_RECORDS


# --- the dbt-snowplow-web oracle -----------------------------------------------------------


def _formatted(con, view: str) -> tuple[list[str], list[tuple]]:
    """Rows of ``view`` as text: timestamps 'YYYY-MM-DD HH:MM:SS.mmm', others CAST to VARCHAR
    (booleans 'true'/'false', doubles '7.0'), NULL kept; sorted."""
    types = con.execute(f"DESCRIBE {view}").fetchall()
    exprs = [
        f"strftime({c}, '%Y-%m-%d %H:%M:%S.%g')" if "TIMESTAMP" in t else f"CAST({c} AS VARCHAR)"
        for c, t, *_ in types
    ]
    rows = con.execute(f"SELECT {', '.join(exprs)} FROM {view} ORDER BY ALL").fetchall()
    return [t[0] for t in types], rows


def _expected(con, path: Path) -> tuple[list[str], list[tuple]]:
    rel = f"read_csv('{path}', header=true, all_varchar=true)"
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
    return columns, con.execute(f"SELECT * FROM {rel} ORDER BY ALL").fetchall()


def _load_realdata(realdata: Path, events: str | None = None):
    con = connect()
    path = events or str(realdata / "snowplow" / "source" / "snowplow_web_events.csv")
    load(con, [path], [], Config(), keep_staging=True)  # the models read in0_sp_events
    return con


def test_consent_log_equals_dbt_fixture(realdata):
    con = _load_realdata(realdata)
    mine = _formatted(con, consent_log(con, "in0"))
    expected = _expected(con, realdata / "snowplow/expected/snowplow_web_consent_log_expected.csv")
    assert mine[0] == expected[0]
    assert len(mine[1]) == len(expected[1]) == 65
    for index, column in enumerate(mine[0]):
        assert [r[index] for r in mine[1]] == [r[index] for r in expected[1]], column


def test_consent_users_equals_dbt_fixture(realdata):
    con = _load_realdata(realdata)
    mine = _formatted(con, consent_users(con, "in0"))
    expected = _expected(
        con, realdata / "snowplow/expected/snowplow_web_consent_users_expected.csv"
    )
    assert mine == expected
    assert len(mine[1]) == 26


def test_realdata_dedup_and_consent_records(realdata):
    con = _load_realdata(realdata)
    assert con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchall() == [
        (157, 157)
    ]  # 160 rows, three event_ids twice
    counts = con.execute(
        "SELECT purpose, count(*) FILTER (granted), count(*) FILTER (NOT granted) FROM consent "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    # 32 consent_preferences events: 10 allow_all, 13 allow_selected, 9 deny_all
    assert counts == [
        ("ads", 15, 17),
        ("analytics", 20, 12),
        ("necessary", 32, 0),
        ("personalization", 14, 18),
    ]


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_shuffled_rows_give_the_same_consent_log(realdata, tmp_path_factory, seed):
    source = realdata / "snowplow" / "source" / "snowplow_web_events.csv"
    with source.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    body = rows[1:]
    random.Random(seed).shuffle(body)
    shuffled = tmp_path_factory.mktemp("shuffle") / "events.csv"
    with shuffled.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([rows[0], *body])
    base, other = _load_realdata(realdata), _load_realdata(realdata, str(shuffled))
    assert _formatted(other, consent_log(other, "in0")) == _formatted(
        base, consent_log(base, "in0")
    )
    assert _consent(other) == _consent(base)
    events = "SELECT * EXCLUDE (source) FROM events ORDER BY ALL"
    assert other.execute(events).fetchall() == base.execute(events).fetchall()


def test_scan_end_to_end_hides_identifiers(realdata):
    path = realdata / "snowplow" / "source" / "snowplow_web_events.csv"
    doc = run_scan([str(path)], config=config()).to_dict()
    assert doc["inputs"][0]["format"] == "snowplow"
    assert doc["findings"]
    text = json.dumps(doc)
    with path.open(newline="", encoding="utf-8") as fh:
        secrets = {
            v
            for r in csv.DictReader(fh)
            for v in (r["domain_userid"], r["network_userid"], r["user_ipaddress"], r["user_id"])
            if v
        }
    assert secrets and not [s for s in secrets if s in text]


# dbt-snowplow-web's consent log given as --consent: the records its events would give.

LOG_HEADER = (
    "event_id,domain_userid,user_id,derived_tstamp,event_name,event_type,consent_version,"
    "consent_scopes"
)


def _log(path: Path, rows: list[str]) -> str:
    path.write_text("\n".join([LOG_HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


def _one_event(folder: Path) -> str:
    """An events file of one event: a scan needs events beside its consent log."""
    path = folder / "events.csv"
    path.write_text("user_id,ts,event_name\nu1,2024-05-01 10:00:09,page_view\n", "utf-8")
    return str(path)


def test_a_snowplow_consent_log_gives_the_records_of_its_events(tmp_path):
    rows = [
        'l2,u1,,2024-05-01 10:00:02,consent_preferences,allow_selected,1.0,"necessary, statistics"',
        'l3,u2,,2024-05-01 10:00:03,consent_preferences,allow_all,1.0,"necessary, marketing"',
        "l4,u3,,2024-05-01 10:00:04,consent_preferences,deny_all,2.0,necessary",
        "l5,u3,,2024-05-01 10:00:05,consent_preferences,pending,1.0,necessary",
        "l6,u4,,2024-05-01 10:00:06,consent_preferences,withdrawn,1.0,",
        "l7,u5,,2024-05-01 10:00:07,consent_preferences,allow_selected,1.0,cookies_x",
        "l8,u6,,2024-05-01 10:00:08,cmp_visible,,,",  # the banner shown: no decision
    ]
    con = connect()
    loaded = load(con, [_one_event(tmp_path)], [_log(tmp_path / "consent_log.csv", rows)], Config())

    assert _consent(con) == SMALL_RECORDS  # what the same events give
    assert loaded.unmapped == {"consent_log": ["cookies_x"]}


def test_a_snowplow_consent_log_with_an_unreadable_time_names_the_row(tmp_path):
    import pytest

    from privdiag.errors import InputError

    rows = [
        "l1,u1,,2024-05-01 10:00:02,consent_preferences,allow_all,1.0,necessary",
        "l2,u2,,yesterday,consent_preferences,allow_all,1.0,necessary",
    ]
    with pytest.raises(InputError) as caught:
        load(connect(), [_one_event(tmp_path)], [_log(tmp_path / "log.csv", rows)], Config())
    assert caught.value.row == 2
    assert caught.value.field == "derived_tstamp"


def test_realdata_consent_log_as_consent_equals_the_records_of_its_events(realdata, tmp_path):
    sp = realdata / "snowplow"
    records = "SELECT user_key, purpose, granted, ts, version FROM consent ORDER BY ALL"
    from_events = connect()
    load(from_events, [str(sp / "source" / "snowplow_web_events.csv")], [], Config())
    from_log = connect()
    log = sp / "expected" / "snowplow_web_consent_log_expected.csv"
    load(from_log, [_one_event(tmp_path)], [str(log)], Config())

    mine = from_log.execute(records).fetchall()
    assert len(mine) == 128
    assert mine == from_events.execute(records).fetchall()


def test_a_tie_of_one_event_id_keeps_the_same_row_in_one_file_or_a_folder(tmp_path):
    # e1 twice at one collector time, once with se_label g1 and once without: the tie is
    # broken by the row's fingerprint. It was of the row as the files give it, and a folder
    # of CSV files reads collector_tstamp as text where one file types it, so one file kept
    # the row without the label and the folder the row with it (1 event with se_label against
    # 2, found by the layout property test). The fingerprint is now of the values as read.
    header = ["app_id", "collector_tstamp", "event_id", "event", "event_name", "domain_userid"]
    rows = [
        ["shop", "2026-10-01 10:01:00.000", "e1", "struct", "page_view", "b1", "g1"],
        ["shop", "2026-10-01 10:01:00.000", "e1", "struct", "page_view", "b1", ""],
        ["shop", "2026-10-01 10:02:00.000", "e2", "struct", "page_view", "b2", "g1"],
    ]

    def labelled(paths: list[Path], where: str) -> list[tuple]:
        parts = ([rows[0]], rows[1:]) if len(paths) == 2 else (rows,)
        for path, part in zip(paths, parts, strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerows([[*header, "se_label"], *part])
        con = connect()
        load(con, [where], [], Config())
        return con.execute("SELECT event_id, se_label FROM events ORDER BY 1").fetchall()

    one = labelled([tmp_path / "one" / "events.csv"], str(tmp_path / "one" / "events.csv"))
    folder = tmp_path / "folder" / "events"
    split = labelled([folder / "part0.csv", folder / "part1.csv"], str(folder))
    assert one == split
    assert len(one) == 2 and one[1] == ("e2", "g1")
