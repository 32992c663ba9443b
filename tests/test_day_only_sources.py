"""Times that are dates without a time of day in Snowplow events, in the consent records
Segment and Snowplow events give, and in a Snowplow consent log: judged over their day, as a
flat file's and a consent file's dates are, with a note. A Segment payload whose
``timestamp`` cannot be read is read at its next time field, with a note.

Each was read as midnight UTC in silence (CHANGELOG Known limitations, "Dates without a time
of day"; hostile round 26's (3) and (4)).
"""

from __future__ import annotations

import csv
import json

from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write
from tests.test_ingest_snowplow import HEADER, PREFS, _prefs, _row

# u0 to u2 deny ads at 09:00 on 2026-10-01: an event of theirs dated 10-01 may be before
DENIED_AT_NINE = """
user_id,purpose,status,ts
u0,ads,denied,2026-10-01T09:00:00Z
u1,ads,denied,2026-10-01T09:00:00Z
u2,ads,denied,2026-10-01T09:00:00Z
"""


def _snowplow(tmp_path, rows: list[dict[str, str]], name: str = "sp.csv") -> str:
    """A Snowplow events CSV of ``rows``, each a row of :func:`_row` with its fields
    replaced, and a column ``mkt_clickid`` (ads)."""
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow([*HEADER, "mkt_clickid"])
        for n, fields in enumerate(rows):
            row = dict(zip(HEADER, _row(n, fields.get("domain_userid", f"b{n}")), strict=True))
            row.update(fields)
            out.writerow([*(row[c] for c in HEADER), fields.get("mkt_clickid", "")])
    return str(path)


def _notes(doc: dict) -> str:
    return "\n".join(doc["evidence"]["notes"])


def test_snowplow_events_dated_without_a_time_of_day_are_judged_over_their_day(tmp_path):
    """Three users' clicks dated 2026-10-01 alone (two by derived_tstamp, one whose
    derived_tstamp is empty by collector_tstamp), each user denying ads at 09:00 that day:
    read as midnight UTC, 3 events of 3 users were `consent.pre_consent` with no note. By
    hand, each may be after 09:00 as well: judged neither way, with a note per column."""
    rows = [
        {"user_id": "u0", "collector_tstamp": "2026-10-01", "derived_tstamp": "2026-10-01"},
        {"user_id": "u1", "collector_tstamp": "2026-10-01", "derived_tstamp": "2026-10-01"},
        {"user_id": "u2", "collector_tstamp": "2026-10-01", "derived_tstamp": ""},
    ]
    events = _snowplow(tmp_path, [{**r, "mkt_clickid": f"c{n}"} for n, r in enumerate(rows)])
    consent = write(tmp_path / "cmp.csv", DENIED_AT_NINE)
    doc = run_scan([events], consent=[consent], config=config()).to_dict()
    assert not by_kind(doc, "consent.pre_consent")
    assert not by_kind(doc, "consent.violation")
    notes = _notes(doc)
    assert "2 time(s) in column 'derived_tstamp' are dates without a time of day" in notes
    assert "1 time(s) in column 'collector_tstamp' are dates without a time of day" in notes
    assert "3 event(s) dated without a time of day fall on a day" in notes


def test_snowplow_events_with_times_get_no_note_on_dates(tmp_path):
    """Snowplow's own times (UTC without an offset, as its trackers write) are no dates and
    are not noted as times without an offset either."""
    events = _snowplow(tmp_path, [{"user_id": "u0", "mkt_clickid": "c0"}])
    consent = write(tmp_path / "cmp.csv", DENIED_AT_NINE)
    notes = _notes(run_scan([events], consent=[consent], config=config()).to_dict())
    assert "dates without a time of day" not in notes
    assert "read as UTC" not in notes


def _denial_and_clicks(consent_time: str) -> list[dict[str, str]]:
    """Browser b0 denies marketing (ads) at ``consent_time``, its first decision, and clicks
    at 08:00 that day and on 10-03."""
    deny = _prefs("deny_all", ["marketing"])
    return [
        {"domain_userid": "b0", "derived_tstamp": consent_time, "collector_tstamp": consent_time}
        | {"event_name": "consent_preferences", PREFS: deny},
        {"domain_userid": "b0", "event_id": "e8"}
        | dict.fromkeys(("derived_tstamp", "collector_tstamp"), "2026-10-01 08:00:00.000")
        | {"mkt_clickid": "c1"},
        {"domain_userid": "b0", "event_id": "e9"}
        | dict.fromkeys(("derived_tstamp", "collector_tstamp"), "2026-10-03 08:00:00.000")
        | {"mkt_clickid": "c2"},
    ]


def test_a_snowplow_consent_event_dated_without_a_time_of_day_is_a_dated_decision(tmp_path):
    """b0's deny_all dated 2026-10-01 was a decision at midnight UTC: its click at 08:00 that
    day a violation beside the one of 10-03 (2 events). By hand the denial may be later that
    day: the 08:00 click is judged neither way, the 10-03 one is a violation (1 event)."""
    events = _snowplow(tmp_path, _denial_and_clicks("2026-10-01"))
    doc = run_scan([events], config=config()).to_dict()
    violations = by_kind(doc, "consent.violation")
    assert [f["metrics"]["events"] for f in violations] == [1]
    assert not by_kind(doc, "consent.pre_consent")
    notes = _notes(doc)
    assert "1 decision time(s) in column 'derived_tstamp' are dates without a time of day" in notes


def test_a_snowplow_consent_event_with_a_time_is_as_before(tmp_path):
    """The same denial at 00:00 with its time: both clicks are violations, no note."""
    events = _snowplow(tmp_path, _denial_and_clicks("2026-10-01 00:00:00.000"))
    doc = run_scan([events], config=config()).to_dict()
    assert [f["metrics"]["events"] for f in by_kind(doc, "consent.violation")] == [2]
    assert "dates without a time of day" not in _notes(doc)


def test_a_snowplow_consent_log_dated_without_a_time_of_day(tmp_path):
    """dbt-snowplow-web's consent log with a derived_tstamp of a date alone: b0's denial of
    10-01 was read at midnight UTC, its events' 08:00 click that day a violation in silence.
    By hand, judged neither way; 10-03's is a violation, and a note says the log's times are
    dates."""
    log = write(
        tmp_path / "log.csv",
        """
        event_id,domain_userid,user_id,event_name,event_type,consent_scopes,derived_tstamp
        c1,b0,,consent_preferences,deny_all,marketing,2026-10-01
        """,
    )
    events = _snowplow(tmp_path, _denial_and_clicks("2026-10-01 00:00:00.000")[1:])
    doc = run_scan([events], consent=[log], config=config()).to_dict()
    assert [f["metrics"]["events"] for f in by_kind(doc, "consent.violation")] == [1]
    assert (
        "1 decision time(s) in column 'derived_tstamp' are dates without a time of day"
        in _notes(doc)
    )


def _segment(tmp_path, payloads: list[dict], name: str = "seg.ndjson") -> str:
    return write(tmp_path / name, "\n".join(json.dumps(p) for p in payloads) + "\n")


def _page(n: int, user: str, **times: str) -> dict:
    return {
        "type": "page",
        "userId": user,
        "messageId": f"m{n}",
        **times,
        "context": {"page": {"url": f"https://shop.test/?gclid=g{n}"}},
    }


def test_a_segment_consent_payload_dated_without_a_time_of_day_is_a_dated_decision(tmp_path):
    """u0's consent preference payload dated 2026-10-01 denies advertising (ads): read as a
    decision at midnight UTC, its page at 08:00 that day was a violation beside 10-03's (2
    events). By hand the denial may be later that day: 1 violation, and a note."""
    deny = {
        "type": "track",
        "event": "Segment Consent Preference Updated",
        "userId": "u0",
        "messageId": "c0",
        "timestamp": "2026-10-01",
        "context": {"consent": {"categoryPreferences": {"advertising": False}}},
    }
    pages = [
        _page(1, "u0", timestamp="2026-10-01T08:00:00Z"),
        _page(2, "u0", timestamp="2026-10-03T08:00:00Z"),
    ]
    doc = run_scan([_segment(tmp_path, [deny, *pages])], config=config()).to_dict()
    assert [f["metrics"]["events"] for f in by_kind(doc, "consent.violation")] == [1]
    notes = _notes(doc)
    assert "1 decision time(s) in column 'timestamp' are dates without a time of day" in notes


def test_a_segment_payload_whose_timestamp_cannot_be_read_takes_the_next_with_a_note(tmp_path):
    """Two files: a.ndjson's u0 and u1 pages have a timestamp of words and an
    originalTimestamp (u0's 10:00, u1's a date alone); b.ndjson's u2 page a timestamp
    that cannot be read and a receivedAt of 2026-10-01. Each user denies ads at 09:00 that
    day. Read in silence: u0 after the denial (a violation), u1 and u2 at midnight before it
    (pre-consent, 2 events). By hand: u0's violation; u1's and u2's dates judged over their
    day, neither way; a note counts the 3 payloads per file."""
    folder = tmp_path / "seg"
    folder.mkdir()
    _segment(
        folder,
        [
            _page(0, "u0", timestamp="soon", originalTimestamp="2026-10-01T10:00:00Z"),
            _page(1, "u1", timestamp="soon", originalTimestamp="2026-10-01"),
        ],
        "a.ndjson",
    )
    _segment(folder, [_page(2, "u2", timestamp="2026-13-45", receivedAt="2026-10-01")], "b.ndjson")
    consent = write(tmp_path / "cmp.csv", DENIED_AT_NINE)
    doc = run_scan([str(folder)], consent=[consent], config=config()).to_dict()
    assert [f["metrics"]["events"] for f in by_kind(doc, "consent.violation")] == [1]
    assert not by_kind(doc, "consent.pre_consent")
    notes = _notes(doc)
    assert (
        "3 payload(s) have a timestamp that cannot be read (a.ndjson: 2, b.ndjson: 1): each "
        "is read at its originalTimestamp, else receivedAt or sentAt"
    ) in notes
    # the dates note names the field each date was read at (it said 'timestamp' of both)
    assert "1 time(s) in column 'originalTimestamp' are dates without a time of day" in notes
    assert "1 time(s) in column 'receivedAt' are dates without a time of day" in notes
    assert "in column 'timestamp'" not in notes


def test_a_segment_decision_dated_at_a_later_field_is_noted_by_that_field(tmp_path):
    """u0's consent preference payload has no timestamp and an originalTimestamp of
    2026-10-01, which its decision is read at: the note named 'timestamp'."""
    deny = {
        "type": "track",
        "event": "Segment Consent Preference Updated",
        "userId": "u0",
        "messageId": "c0",
        "originalTimestamp": "2026-10-01",
        "context": {"consent": {"categoryPreferences": {"advertising": False}}},
    }
    page = _page(1, "u0", timestamp="2026-10-03T08:00:00Z")
    doc = run_scan([_segment(tmp_path, [deny, page])], config=config()).to_dict()
    assert [f["metrics"]["events"] for f in by_kind(doc, "consent.violation")] == [1]
    notes = _notes(doc)
    said = "1 decision time(s) in column 'originalTimestamp' are dates without a time of day"
    assert said in notes
    assert "in column 'timestamp'" not in notes
