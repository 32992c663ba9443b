"""Hostile round 26: inputs that gave wrong results, each written by hand."""

from __future__ import annotations

import json

from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write


def _segment_pages(tmp_path, date: str) -> str:
    """Three users' page views dated without a time of day, each carrying a gclid (ads)."""
    lines = [
        json.dumps(
            {
                "type": "page",
                "userId": f"u{n}",
                "anonymousId": f"a{n}",
                "messageId": f"m{n}",
                "timestamp": date,
                "context": {"page": {"url": f"https://shop.test/?gclid=g{n}"}},
            }
        )
        for n in range(3)
    ]
    return write(tmp_path / "seg.ndjson", "\n".join(lines) + "\n")


DENIED_AT_NINE = """
user_id,purpose,status,ts
u0,ads,denied,2026-10-01T09:00:00Z
u1,ads,denied,2026-10-01T09:00:00Z
u2,ads,denied,2026-10-01T09:00:00Z
"""


def test_segment_payloads_dated_without_a_time_of_day_are_judged_over_their_day(tmp_path):
    """Segment payloads whose timestamp is a date alone were read as midnight UTC, before
    their users' denial at 09:00 that day: 3 events of 3 users `consent.pre_consent` (high),
    with no note, where a flat file of the same dates is judged neither way."""
    consent = write(tmp_path / "cmp.csv", DENIED_AT_NINE)
    doc = run_scan([_segment_pages(tmp_path, "2026-10-01")], consent=[consent], config=config())
    doc = doc.to_dict()
    assert not by_kind(doc, "consent.pre_consent")
    assert not by_kind(doc, "consent.violation")
    notes = "\n".join(doc["evidence"]["notes"])
    assert "3 time(s) in column 'timestamp' are dates without a time of day" in notes
    assert "3 event(s) dated without a time of day fall on a day" in notes
    # dated the day after the denial, every payload is a violation
    later = run_scan([_segment_pages(tmp_path, "2026-10-03")], consent=[consent], config=config())
    (violation,) = by_kind(later.to_dict(), "consent.violation")
    assert (violation["metrics"]["events"], violation["metrics"]["users"]) == (3, 3)


SNOWPLOW_HEAD = (
    "event_id,collector_tstamp,event,event_name,app_id,domain_userid,user_id,mkt_clickid"
)


def test_snowplow_times_are_read_as_every_formats_are(tmp_path):
    """Snowplow's times were cast by DuckDB alone: a time with an offset no zone has
    (+99:00) was read 99 hours off in silence, and one written with a lower-case t and z
    (RFC 3339) or as epoch seconds was "no readable time" (exit 3, no row named)."""
    from privdiag.engine import connect
    from privdiag.errors import InputError
    from privdiag.ingest import load

    events = write(
        tmp_path / "sp.csv",
        f"""
        {SNOWPLOW_HEAD}
        e1,2026-10-01t10:00:00z,page_view,page_view,web,d1,u1,c1
        e2,1790000000,page_view,page_view,web,d2,u2,c2
        e3,2026-10-01 12:00:00.000,page_view,page_view,web,d3,u3,c3
        """,
    )
    con = connect(config().engine)
    load(con, [events], [], config())
    times = con.execute("SELECT event_id, ts FROM events ORDER BY event_id").fetchall()
    assert [(e, t.isoformat()) for e, t in times] == [
        ("e1", "2026-10-01T10:00:00+00:00"),
        ("e2", "2026-09-21T14:13:20+00:00"),
        ("e3", "2026-10-01T12:00:00+00:00"),
    ]
    bad = write(
        tmp_path / "bad.csv",
        f"""
        {SNOWPLOW_HEAD}
        e1,2026-10-01 10:00:00,page_view,page_view,web,d1,u1,c1
        e2,2026-10-01T10:00:00+99:00,page_view,page_view,web,d2,u2,c2
        """,
    )
    try:
        load(connect(config().engine), [bad], [], config())
    except InputError as exc:
        assert (exc.row, exc.field) == (2, "collector_tstamp")
        assert "+99:00, which no time zone has" in exc.message
    else:
        raise AssertionError("a time 99 hours off was read")


def test_a_category_tables_shares_shown_do_not_tell_a_hidden_one_by_their_sum():
    """A drift category table hid the share of 2 blind-set rows without a country (of 200),
    but showed de 0.5 and fr 0.49 beside it: a column sums to 1, so 1 - 0.99 told the 2
    rows. The smallest share shown is now hidden too while those hidden hold so few rows."""
    import polars as pl

    from privdiag.model.drift import series_drift

    current = pl.Series("country", ["de"] * 100 + ["fr"] * 100)
    missing_two = pl.Series("country", ["de"] * 100 + ["fr"] * 98 + [None] * 2)
    row = series_drift(missing_two, current, alpha=0.05, min_gap=0.05, min_n=5)
    assert row.shares["rows"] == [
        ["de", 0.5, 0.5],
        ["fr", None, 0.5],
        ["(missing)", None, 0.0],
    ]
    # hidden beside a rare category: 8 rows of it and 2 missing make 10, told as a pair
    four = pl.Series("country", ["de"] * 100 + ["fr"] * 90 + ["it"] * 8 + [None] * 2)
    row = series_drift(four, current, alpha=0.05, min_gap=0.05, min_n=5)
    assert row.shares["rows"] == [
        ["de", 0.5, 0.5],
        ["fr", 0.45, 0.5],
        ["it", None, 0.0],
        ["(missing)", None, 0.0],
    ]


def test_a_string_disagreeing_with_the_events_own_column_is_not_told_as_one_with_the_gcd(tmp_path):
    """Two events whose gcs disagreed with their gcd and two whose gcs disagreed with their
    own consent_ads column (no gcd) read "4 events carry a gcs value that disagrees with
    their own gcd ... the gcd state is used", though two of them took their column's."""
    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,gcd,gcs,consent_ads
        2026-10-01T10:00:00Z,page_view,u1,11t1t1t1t5,G100,
        2026-10-01T10:00:00Z,page_view,u2,11p1p1p1p5,G111,
        2026-10-01T10:00:00Z,page_view,u3,,G111,denied
        2026-10-01T10:00:00Z,page_view,u4,,G100,granted
        2026-10-01T10:00:00Z,page_view,u5,11t1t1t1t5,G100,granted
    """,
    )
    doc = run_scan([events], config=config()).to_dict()
    notes = [n.split(":")[0] for n in doc["evidence"]["notes"] if "disagrees" in n]
    # u5's gcs disagrees with its own column on ads and with its gcd on analytics
    assert notes == [
        "3 events carry a gcs value that disagrees with their own consent columns on ads",
        "3 events carry a gcs value that disagrees with their own gcd on analytics, ads",
    ]


def test_dates_of_slashes_or_one_digit_are_dates_alone_too(tmp_path):
    """DuckDB reads 2026/10/01 and 2026-10-5 as dates, but only 2026-10-01 was marked a date
    alone: two users' gclid dated 2026/10/01 and one dated 2026-10-5, each user denying ads
    at 09:00 that day, were `consent.pre_consent` (3 events of 3 users, high) with no note,
    and 2026/10/02 10:00:00 was read as UTC without the note on times of no offset."""
    events = write(
        tmp_path / "ev.csv",
        """
        event_id,ts,event_name,user_id,gclid
        e1,2026/10/01,page_view,u1,g1
        e2,2026/10/01,page_view,u2,g2
        e3,2026-10-5,page_view,u3,g3
        e4,2026/10/02 10:00:00,page_view,u1,
        """,
    )
    consent = write(
        tmp_path / "cmp.csv",
        """
        user_id,purpose,status,ts
        u1,ads,denied,2026-10-01T09:00:00Z
        u2,ads,denied,2026-10-01T09:00:00Z
        u3,ads,denied,2026-10-05T09:00:00Z
        """,
    )
    doc = run_scan([events], consent=[consent], config=config()).to_dict()
    assert not by_kind(doc, "consent.pre_consent")
    notes = "\n".join(doc["evidence"]["notes"])
    assert "3 time(s) in column 'ts' are dates without a time of day" in notes
    assert "1 time(s) in column 'ts' read as UTC, as they carry no Z or UTC offset" in notes


def test_a_hidden_missing_share_hides_the_p_value_that_gives_it_back():
    """A drift row hid the missing share of 2 rows of 200 but kept `missing_p`, the z-test of
    the two shares: beside 200 rows each and a current share of 0, 0.1563 is 2 rows and no
    other count (1 row 0.3167, 3 rows 0.0821)."""
    import polars as pl

    from privdiag.model.drift import series_drift
    from privdiag.model.verdicts import drift_feature

    reference = pl.Series("tenure_days", [1.0] * 198 + [None] * 2)
    current = pl.Series("tenure_days", [9.0] * 200)
    row = series_drift(reference, current, alpha=0.05, min_gap=0.05, min_n=5)
    assert row.drifted and row.to_dict()["missing_p"] is None
    assert row.to_dict()["missing_reference"] is None
    finding = drift_feature("m", "observed", row, [], None)
    assert "missing_p" not in finding.metrics
    # a share of many rows keeps its test
    many = pl.Series("tenure_days", [1.0] * 150 + [None] * 50)
    row = series_drift(many, current, alpha=0.05, min_gap=0.05, min_n=5)
    assert row.to_dict()["missing_p"] is not None


def test_a_rate_missing_for_want_of_decided_events_is_not_said_hidden(tmp_path):
    """Where no event had a decision on ads (both users' page views came before their
    denials), the note read "consent rate of ads not given: fewer than 1 users decided it,
    or granted or denied it, so its rate would tell their choices": no rate was hidden."""
    events = write(
        tmp_path / "ev.csv",
        """
        event_id,ts,event_name,user_id,gclid
        e1,2026-09-20T10:00:00Z,page_view,u1,g1
        e2,2026-09-20T10:00:00Z,page_view,u2,g2
        """,
    )
    consent = write(tmp_path / "cmp.csv", DENIED_AT_NINE)
    doc = run_scan([events], consent=[consent], config=config()).to_dict()
    notes = [n for n in doc["evidence"]["notes"] if n.startswith("consent rate of")]
    assert notes == [
        "consent rate of ads not given: no event has a decision on it (its users' events all "
        "come before their first decision, fall where a decision dated without a time of day "
        "leaves their state open, or their decisions meet none of the events); "
        "model-check takes it as granted"
    ]
