"""Segment / RudderStack reader: canonical events, consent flags and records, errors, privacy."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privdiag.config import Config, Thresholds
from privdiag.engine import connect
from privdiag.errors import InputError
from privdiag.ingest import load
from privdiag.ingest.segment import detect, key_path
from privdiag.scan import run_scan

TRACK = {
    "type": "track",
    "event": "Order Completed",
    "messageId": "m-1",
    "userId": "user-1",
    "anonymousId": "anon-1",
    "timestamp": "2026-03-01T10:00:00.000Z",
    "properties": {"plan": "pro", "price": 9.5, "qty": 2, "gift": True},
    "context": {
        "ip": "198.51.100.7",
        "campaign": {"source": "news", "medium": "email"},
        "page": {"url": "https://shop.example/?gclid=abc&y=1"},
        "device": {"type": "mobile"},
        "location": {"country": "DE"},
        "consent": {
            "categoryPreferences": {"Advertising": True, "Analytics": False, "C0004": False}
        },
    },
}
PAGE = {
    "type": "page",
    "name": "Pricing",
    "anonymousId": "anon-2",
    "originalTimestamp": "2026-03-01T11:00:00Z",
    "properties": {"plan": "free"},
}
IDENTIFY = {
    "type": "identify",
    "userId": "user-3",
    "receivedAt": "2026-03-01T12:00:00Z",
    "traits": {"qty": 7},
}
PREFERENCE = {
    "type": "track",
    "event": "Segment Consent Preference Updated",
    "userId": "user-1",
    "messageId": "m-4",
    "timestamp": "2026-03-01T09:00:00Z",
    "context": {
        "location": {"country": "FR"},
        "consent": {
            "categoryPreferences": {
                "Advertising": False,
                "Marketing": True,
                "Analytics": True,
                "DataSharing": True,
            }
        },
    },
}
RUDDER = {
    "type": "track",
    "event": "Button Clicked",
    "anonymousId": "anon-5",
    "messageId": "m-5",
    "sentAt": "2026-03-01T13:00:00Z",
    "channel": "web",
    "context": {
        "sessionId": 17,
        "consentManagement": {
            "provider": "oneTrust",
            "allowedConsentIds": ["C0002"],
            "deniedConsentIds": ["C0004", "C0005"],
        },
    },
}
PAYLOADS = [TRACK, PAGE, IDENTIFY, PREFERENCE, RUDDER]
EVENT_COLUMNS = (
    "event_id, ts, event_name, user_key, anon_key, session_key, cookieless, device, country, "
    "channel, consent_analytics, consent_ads, consent_functional, consent_necessary"
)


def write_ndjson(path: Path, payloads: list[dict[str, Any]], *, gz: bool = False) -> str:
    text = "\n".join(json.dumps(p) for p in payloads) + "\n"
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def write_array(path: Path, payloads: list[Any], *, gz: bool = False) -> str:
    text = json.dumps(payloads, indent=1)
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def loaded(path: str, config: Config | None = None) -> tuple[Any, Any]:
    con = connect()
    return con, load(con, [path], [], config or Config())


def rows(con: Any, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def by_id(con: Any) -> dict[str, dict[str, Any]]:
    cur = con.execute("SELECT * FROM events")
    names = [d[0] for d in cur.description]
    return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


# --- detection ---------------------------------------------------------------------------


def test_detect_bare_and_wrapped_messages():
    assert detect({"type": "VARCHAR", "anonymousId": "VARCHAR", "event": "VARCHAR"})
    assert detect({"type": "VARCHAR", "messageId": "VARCHAR"})
    assert detect({"_id": "VARCHAR", "event": "STRUCT(anonymousId VARCHAR, type VARCHAR)"})
    assert detect({"event": "JSON"})
    # a flat table whose event column is the name is not Segment
    assert not detect({"event": "VARCHAR", "ts": "VARCHAR", "user_id": "VARCHAR"})
    assert not detect({"type": "VARCHAR", "ts": "VARCHAR"})


def test_key_path_quotes_any_member_name():
    assert key_path('a."b') == '$."a.\\"b"'
    assert key_path("$x", "$.properties") == '$.properties."$x"'


# --- canonical events --------------------------------------------------------------------


def test_track_message_becomes_one_canonical_event(tmp_path):
    con, info = loaded(write_ndjson(tmp_path / "seg.ndjson", PAYLOADS))
    assert info.inputs[0].format == "segment"
    assert info.inputs[0].rows == 5
    row = by_id(con)["m-1"]
    assert row["event_name"] == "Order Completed"
    assert row["ts"].isoformat() == "2026-03-01T10:00:00+00:00"
    assert (row["user_key"], row["anon_key"], row["cookieless"]) == ("user-1", "anon-1", False)
    assert (row["device"], row["country"], row["session_key"]) == ("mobile", "DE", None)
    # Advertising granted but C0004 (also ads) denied: ads is granted only if all are
    assert (row["consent_ads"], row["consent_analytics"]) == (False, False)
    assert row["consent_functional"] is None and row["consent_necessary"] is None
    assert (row["plan"], row["price"], row["qty"], row["gift"]) == ("pro", 9.5, 2, True)
    assert (row["utm_source"], row["utm_medium"], row["gclid"]) == ("news", "email", "abc")
    assert row["context_ip"] is True


def test_feature_types_and_ip_value_never_stored(tmp_path):
    con, _ = loaded(write_ndjson(tmp_path / "seg.ndjson", PAYLOADS))
    types = dict(
        rows(
            con,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'events'",
        )
    )
    assert types["price"] == "DOUBLE"
    assert types["qty"] == "BIGINT"
    assert types["gift"] == "BOOLEAN"
    assert types["context_ip"] == "BOOLEAN"
    assert "ip" not in types
    every_value = rows(con, "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM events")
    assert not any("198.51.100.7" in str(v) for r in every_value for v in r)


def test_page_identify_and_rudderstack_messages(tmp_path):
    con, _ = loaded(write_ndjson(tmp_path / "seg.ndjson", PAYLOADS))
    events = by_id(con)
    page = next(r for r in events.values() if r["event_name"] == "page_view")
    assert len(page["event_id"]) == 32  # no messageId: md5 of the payload
    assert (page["user_key"], page["anon_key"], page["page_name"]) == (
        "anon-2",
        "anon-2",
        "Pricing",
    )
    assert page["ts"].isoformat() == "2026-03-01T11:00:00+00:00"
    assert page["plan"] == "free"
    assert page["consent_ads"] is None

    identify = next(r for r in events.values() if r["event_name"] == "identify")
    assert (identify["user_key"], identify["anon_key"], identify["qty"]) == ("user-3", None, 7)
    assert identify["ts"].isoformat() == "2026-03-01T12:00:00+00:00"

    rudder = events["m-5"]
    assert (rudder["consent_analytics"], rudder["consent_ads"]) == (True, False)
    assert rudder["consent_necessary"] is None
    assert (rudder["session_key"], rudder["channel"]) == ("anon-5:17", "web")
    assert rudder["ts"].isoformat() == "2026-03-01T13:00:00+00:00"


# --- consent records ---------------------------------------------------------------------


def test_preference_event_becomes_consent_records(tmp_path):
    con, info = loaded(write_ndjson(tmp_path / "seg.ndjson", PAYLOADS))
    got = rows(
        con,
        "SELECT user_key, purpose, granted, strftime(ts, '%Y-%m-%dT%H:%M'), source, version, "
        "region FROM consent ORDER BY purpose",
    )
    assert got == [
        ("user-1", "ads", False, "2026-03-01T09:00", "seg", None, "FR"),
        ("user-1", "analytics", True, "2026-03-01T09:00", "seg", None, "FR"),
    ]
    assert info.unmapped == {"seg": ["DataSharing"]}  # keyed by source name


def test_config_alias_maps_a_custom_category(tmp_path):
    config = Config(aliases={"DataSharing": "ad_user_data"})
    con, info = loaded(write_ndjson(tmp_path / "seg.ndjson", PAYLOADS), config)
    assert info.unmapped == {}
    assert rows(con, "SELECT granted FROM consent WHERE purpose = 'ad_user_data'") == [(True,)]


def test_empty_or_missing_consent_object_gives_no_flags(tmp_path):
    empty = dict(TRACK, messageId="e", context={"consent": {"categoryPreferences": {}}})
    bare = dict(TRACK, messageId="b", context={})
    con, info = loaded(write_ndjson(tmp_path / "seg.ndjson", [empty, bare]))
    flags = rows(con, "SELECT count(COLUMNS('^consent_')) FROM events")[0]
    assert set(flags) == {0}
    assert info.unmapped == {}


def test_a_category_missing_from_the_object_is_denied_as_segment_reads_it(tmp_path):
    """Segment reads a consent category missing from categoryPreferences, and every category
    of an empty object, as not consented. They were no flag at all (unknown), so gclid sent
    with {"C0002": true} or {} was no violation though Segment held ads denied."""

    def track(n: str, prefs: dict[str, bool] | None) -> dict[str, Any]:
        ctx = {} if prefs is None else {"consent": {"categoryPreferences": prefs}}
        return dict(TRACK, messageId=n, userId=f"u-{n}", context=ctx)

    pref = dict(PREFERENCE, userId="u-p", context={"consent": {"categoryPreferences": {}}})
    legacy = track("v5", None)  # consent-manager v5: categories are destinations
    legacy["context"] = {
        "consent": {
            "categoryPreferences": {"C0002": True},
            "destinationPreferences": {"Amplitude": True},
        }
    }
    payloads = [
        track("both", {"C0002": True, "C0004": False}),
        track("analytics_only", {"C0002": True}),
        track("empty", {}),
        track("none", None),
        track("necessary_only", {"C0001": True}),
        track("unmapped", {"Amplitude": True}),  # reported as unmapped, not read as denials
        legacy,
        pref,
    ]
    # each payload a user of its own: at min_group_size 1 the note counts their payloads
    one = Config(thresholds=Thresholds(min_group_size=1))
    con, info = loaded(write_ndjson(tmp_path / "seg.ndjson", payloads), one)
    flags = rows(
        con,
        "SELECT event_id, consent_analytics, consent_ads, consent_necessary FROM events "
        "WHERE event_name = 'Order Completed' ORDER BY event_id",
    )
    assert flags == [
        ("analytics_only", True, False, None),
        ("both", True, False, None),
        ("empty", False, False, None),
        ("necessary_only", False, False, True),  # necessary is never filled in
        ("none", None, None, None),
        ("unmapped", None, None, None),
        ("v5", True, None, None),
    ]
    records = rows(con, "SELECT user_key, purpose, granted FROM consent ORDER BY purpose")
    assert records == [("u-p", "ads", False), ("u-p", "analytics", False)]
    text = " ".join(n for _, staged in info.staged for n in staged.notes)
    absent = "payload(s) carry context.consent.categoryPreferences without a category of"
    assert f"4 {absent} ads, which other payloads name" in text
    assert f"3 {absent} analytics, which" in text


def test_an_anonymous_event_is_the_user_its_anonymous_id_is_identified_as(tmp_path):
    """Segment joins a visitor's events before and after login into one profile, whose consent
    applies to both. The pre-login page view (anonymousId only) was a user of its own, with no
    decision: trial 22's shop counted 62 of 320 users without a decision where 8 of its 160
    shoppers had none, and the page views after a logged denial met no consent."""

    def msg(n: str, anon: str | None, user: str | None, **extra: Any) -> dict[str, Any]:
        out = dict(TRACK, messageId=n, anonymousId=anon, userId=user, context={})
        return {**out, **extra}

    payloads = [
        msg("before-login", "a1", None),
        msg("logged-in", "a1", "u1"),
        msg("shared-1", "a2", "u2"),
        msg("shared-2", "a2", "u3"),
        msg("shared-anon", "a2", None),  # a2 is two users' device: it keeps its own key
        msg("never-known", "a3", None),
        msg("placeholder-1", "undefined", "u4"),
        msg("placeholder-2", "undefined", None),
        dict(PREFERENCE, messageId="pref", anonymousId="a1", userId=None),
    ]
    con, info = loaded(write_ndjson(tmp_path / "seg.ndjson", payloads))
    keys = dict(rows(con, "SELECT event_id, user_key FROM events"))
    assert keys["before-login"] == "u1" and keys["logged-in"] == "u1"
    assert keys["shared-anon"] == "a2" and keys["never-known"] == "a3"
    assert keys["placeholder-2"] is None  # a placeholder is no id (README), never stitched
    assert rows(con, "SELECT DISTINCT user_key FROM consent") == [("u1",)]
    text = " ".join(n for _, staged in info.staged for n in staged.notes)
    assert "2 payload(s) without a user id, of 1 anonymous id(s) that other payloads carry" in text


def _days_apart() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Day 1: visitors a1 and a2 before login (a1's page view names ads in its consent
    object, a2 records a decision); day 2: their logins as u1 and u2, and u1's order whose
    consent object names analytics only."""

    def msg(n: str, kind: str, anon: str, user: str | None, prefs: Any = None, **extra: Any):
        ctx = {} if prefs is None else {"consent": {"categoryPreferences": prefs}}
        out = {"type": kind, "messageId": n, "anonymousId": anon, "userId": user, "context": ctx}
        return {**out, **extra}

    day = "2026-03-01T10:00:00Z"
    login = "2026-03-02T10:00:00Z"
    first = [
        msg("p1", "page", "a1", None, {"C0002": True, "C0004": False}, timestamp=day),
        dict(
            PREFERENCE,
            messageId="c2",
            anonymousId="a2",
            userId=None,
            timestamp=day,
            context={"consent": {"categoryPreferences": {"C0002": False, "C0004": True}}},
        ),
        msg("p2", "page", "a2", None, timestamp=day),
    ]
    second = [
        msg("i1", "identify", "a1", "u1", timestamp=login),
        msg("t1", "track", "a1", "u1", {"C0002": True}, event="Order Completed", timestamp=login),
        msg("i2", "identify", "a2", "u2", timestamp=login),
    ]
    return first, second


#: What the two days give, read as one input or as several (hand-checked): every event of a1
#: is u1's, every event of a2 u2's; t1 names no ads category, which p1 names: ads denied.
DAYS_EVENTS = [
    ("c2", "u2", False, True),
    ("i1", "u1", None, None),
    ("i2", "u2", None, None),
    ("p1", "u1", True, False),
    ("p2", "u2", None, None),
    ("t1", "u1", True, False),
]
DAYS_CONSENT = [("u2", "ads", True), ("u2", "analytics", False)]


@pytest.mark.parametrize("split", ["glob", "two", "two reversed"])
def test_identities_and_left_out_categories_span_the_inputs(tmp_path, split):
    """Trial 22's (1): a day's file of pre-login page views and the next day's logins, given
    as two arguments, stayed apart: p1 and p2 stayed a1's and a2's (no decision met them,
    c2's decision was a2's, not u2's), and t1's object, without an ads category, gave no ads
    flag. Given as one glob they were stitched. Now both read the same."""
    first, second = _days_apart()
    day1 = write_ndjson(tmp_path / "day1.ndjson", first)
    day2 = write_ndjson(tmp_path / "day2.ndjson", second)
    data = {"glob": [str(tmp_path / "day*.ndjson")], "two": [day1, day2]}
    data["two reversed"] = [day2, day1]
    con = connect()
    # at min_group_size 1 the note counts the one user's payload
    info = load(con, data[split], [], Config(thresholds=Thresholds(min_group_size=1)))
    flags = "SELECT event_id, user_key, consent_analytics, consent_ads FROM events ORDER BY 1"
    assert rows(con, flags) == DAYS_EVENTS
    assert rows(con, "SELECT user_key, purpose, granted FROM consent ORDER BY 2") == DAYS_CONSENT
    text = " ".join(n for _, staged in info.staged for n in staged.notes)
    assert "3 payload(s) without a user id, of 2 anonymous id(s) that other payloads" in text
    absent = "payload(s) carry context.consent.categoryPreferences without a category of ads"
    assert f"1 {absent}, which other payloads name" in text
    assert "a1" not in text and "u1" not in text


def test_other_formats_keep_their_ids_beside_segment_inputs(tmp_path):
    """Only Segment and RudderStack payloads are joined: a flat file's event of anonymous id
    a1 without a user id stays a1's, though a Segment input knows a1 as u1."""
    first, second = _days_apart()
    flat = tmp_path / "flat.csv"
    flat.write_text("event_id,event_name,anonymous_id,ts\nf1,page_view,a1,2026-03-01T11:00:00Z\n")
    con = connect()
    load(con, [write_ndjson(tmp_path / "day2.ndjson", second), str(flat)], [], Config())
    assert rows(con, "SELECT user_key, anon_key FROM events WHERE event_id = 'f1'") == [
        ("a1", "a1")
    ]


@pytest.mark.parametrize("split", ["glob", "two"])
def test_a_scan_of_pre_login_views_and_logins_finds_the_same_violation(tmp_path, split):
    """The trial's shape end to end: 20 visitors' pre-login page views with a gclid (day 1)
    and their logins (day 2), a log denying the 20 users ads. As two arguments the scan found
    `consent.missing_record` (no decision for 100% of day1's users, medium); as one glob, as
    now both, a `consent.violation` on the 20 page views (high)."""
    day1, day2, log = [], [], "user_id,purpose,status,ts\n"
    for i in range(1, 21):
        url = {"page": {"url": f"https://shop.example/?gclid=g{i}"}}
        day1.append(dict(PAGE, anonymousId=f"a{i}", messageId=f"p{i}", context=url))
        day2.append(dict(IDENTIFY, userId=f"u{i}", anonymousId=f"a{i}", messageId=f"i{i}"))
        log += f"u{i},ads,denied,2026-02-28T09:00:00Z\n"
    first = write_ndjson(tmp_path / "day1.ndjson", day1)
    second = write_ndjson(tmp_path / "day2.ndjson", day2)
    (tmp_path / "log.csv").write_text(log)
    data = [str(tmp_path / "day*.ndjson")] if split == "glob" else [first, second]
    doc = run_scan(data, consent=[str(tmp_path / "log.csv")]).to_dict()
    found = {(f["kind"], f["severity"]) for f in doc["findings"] if f["kind"].startswith("consent")}
    assert found == {("consent.violation", "high")}
    violation = next(f for f in doc["findings"] if f["kind"] == "consent.violation")
    assert "gclid is collected on page_view events where ads consent was denied" in str(violation)
    assert not re.search(r"\b[au]\d+\b", json.dumps(doc["findings"]))  # no raw id


# --- containers --------------------------------------------------------------------------


def canonical(con: Any) -> tuple[list[Any], list[Any]]:
    events = rows(con, f"SELECT {EVENT_COLUMNS}, plan, qty FROM events ORDER BY ALL")
    consent = rows(con, "SELECT * FROM consent ORDER BY ALL")
    return events, consent


@pytest.mark.parametrize("gz", [False, True])
def test_array_gzip_and_wrapped_payloads_match_ndjson(tmp_path, gz):
    reference = canonical(loaded(write_ndjson(tmp_path / "seg.ndjson", PAYLOADS))[0])
    suffix = ".json.gz" if gz else ".json"
    array = write_array(tmp_path / f"seg{suffix}", PAYLOADS, gz=gz)
    assert canonical(loaded(array)[0]) == reference
    wrapped = [{"_id": str(i), "event": p} for i, p in enumerate(PAYLOADS)]
    assert canonical(loaded(write_array(tmp_path / f"seg{suffix}", wrapped, gz=gz))[0]) == (
        reference
    )
    ndjson_gz = write_ndjson(tmp_path / "seg.ndjson.gz", PAYLOADS, gz=True)
    assert canonical(loaded(ndjson_gz)[0]) == reference


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(range(len(PAYLOADS))))
def test_payload_order_never_changes_the_canonical_tables(tmp_path, order):
    for folder in ("ref", "shuffled"):
        (tmp_path / folder).mkdir(exist_ok=True)
    reference = canonical(loaded(write_ndjson(tmp_path / "ref" / "seg.ndjson", PAYLOADS))[0])
    shuffled = [PAYLOADS[i] for i in order]
    got = canonical(loaded(write_ndjson(tmp_path / "shuffled" / "seg.ndjson", shuffled))[0])
    assert got == reference


# --- bad input ---------------------------------------------------------------------------


def test_message_without_any_time_names_file_and_row(tmp_path):
    timeless = {k: v for k, v in TRACK.items() if k != "timestamp"}
    path = write_ndjson(tmp_path / "seg.ndjson", [PAGE, timeless])
    with pytest.raises(InputError) as err:
        loaded(path)
    assert err.value.row == 2
    assert err.value.field == "timestamp"
    assert "seg.ndjson" in str(err.value.path)
    assert "no timestamp" in err.value.message


def test_unreadable_time_describes_the_value(tmp_path):
    bad = dict(PAGE, originalTimestamp="yesterday")
    with pytest.raises(InputError) as err:
        loaded(write_array(tmp_path / "seg.json", [IDENTIFY, IDENTIFY, bad]))
    assert (err.value.row, err.value.field) == (3, "timestamp")
    assert "yesterday" not in err.value.message
    assert "(a 9-character value of letters)" in err.value.message


# --- the documentation examples, end to end ----------------------------------------------

RAW_IDENTIFIERS = (
    "97980cfea0067",
    "507f191e810c19729de860ea",
    "23adfd82-aa0f-45a7-a756-24f2a7a4c895",
    "u123",
    "203.0.113.8",
)


def doc_examples(realdata: Path) -> str:
    return str(realdata / "segment" / "doc_example_events.json")


def test_doc_examples_load_with_records_flags_and_unmapped(realdata):
    con, info = loaded(doc_examples(realdata))
    assert info.inputs[0].format == "segment"
    assert info.inputs[0].rows == 7
    updated = rows(
        con,
        "SELECT purpose, granted FROM consent WHERE user_key = 'u123' "
        "AND purpose IN ('ads', 'functional') ORDER BY purpose, granted",
    )
    # the legacy example (OneTrust ids C0001, C0002) names no ads or functional category, which
    # the other examples do: Segment reads a category missing from the object as denied
    assert updated == [("ads", False), ("ads", True), ("functional", False), ("functional", True)]
    assert rows(con, "SELECT DISTINCT granted FROM consent WHERE purpose = 'analytics'") == [
        (False,)
    ]
    # the legacy event name with OneTrust ids: C0001 necessary granted, C0002 analytics denied
    assert rows(con, "SELECT granted FROM consent WHERE purpose = 'necessary'") == [(True,)]
    assert "DataSharing" in info.unmapped["doc_example_events"]
    assert "Google Analytics" in info.unmapped["doc_example_events"]  # consent-manager v5

    rudder = rows(
        con,
        "SELECT event_name, consent_necessary, consent_analytics, consent_functional, "
        "consent_ads, session_key FROM events "
        "WHERE event_name IN ('Product Purchased', 'Button Clicked') ORDER BY 1",
    )
    assert rudder == [
        ("Button Clicked", True, True, True, False, ":1785375103787"),
        ("Product Purchased", True, True, False, False, None),
    ]
    page = rows(
        con, "SELECT event_name, page_name, channel, context_ip FROM events WHERE title IS NOT NULL"
    )
    assert page == [("page_view", "Home", "browser", True)]


def test_doc_examples_scan_reports_unmapped_and_leaks_no_identifier(realdata):
    # the examples are a few users each: at min_group_size 1 their categories are named
    result = run_scan(
        [doc_examples(realdata)], config=Config(thresholds=Thresholds(min_group_size=1))
    )
    doc = result.to_dict()
    assert [i["format"] for i in doc["inputs"]] == ["segment"]
    unmapped = {
        f["location"]["purpose"]
        for f in doc["findings"]
        if f["kind"] == "consent.unmapped_category"
    }
    assert "DataSharing" in unmapped
    text = json.dumps(doc)
    for raw in RAW_IDENTIFIERS:
        assert raw not in text


def test_parquet_with_nested_context_is_read_as_segment(tmp_path):
    path = tmp_path / "seg.parquet"
    connect().execute(
        "COPY (SELECT 'track' AS type, 'a1' AS anonymousId, '2026-01-01T00:00:00Z' AS timestamp, "
        "'Clicked' AS event, {'consent': {'categoryPreferences': {'Analytics': false}}} "
        f"AS context, {{'plan': 'x'}} AS properties) TO '{path}'"
    )
    con, info = loaded(str(path))
    assert info.inputs[0].format == "segment"
    assert rows(con, "SELECT event_name, user_key, consent_analytics, plan FROM events") == [
        ("Clicked", "a1", False, "x")
    ]


def test_a_placeholder_user_id_keys_consent_and_events_by_the_anonymous_id(tmp_path):
    """userId "undefined" with a real anonymousId: the preference and the later event both
    fall back to the anonymous id (the consent used to stay keyed "undefined", then be
    dropped, while the event moved to the anonymous id and lost its consent)."""
    pref = dict(PREFERENCE, userId="undefined", anonymousId="anon-9")
    track = dict(RUDDER, anonymousId="anon-9", userId="Undefined", messageId="m-9", context={})
    con, _info = loaded(write_ndjson(tmp_path / "seg.ndjson", [pref, track]))
    assert rows(con, "SELECT DISTINCT user_key FROM consent") == [("anon-9",)]
    assert rows(con, "SELECT DISTINCT user_key FROM events") == [("anon-9",)]
