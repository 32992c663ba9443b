"""Consent state by spans: the hash join and the sorted window for users with many spans
give every event the state a plain reading of the consent log gives, written out below.

The reference reads the log the documented way: per user and purpose, the records at or
before the event's time, in time order with a grant before a denial at one instant; the
last one is the log's state; a denial after a grant at an earlier instant is a withdrawal
(a grant at its own instant withdraws nothing, `tests/test_hostile18.py`); the event's
own flag wins over the log; the first decision is the earliest record, even after the event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import privdiag.state as state
from privdiag.engine import STATE_TYPE
from privdiag.purposes import STATES

PURPOSES = ["ads", "analytics"]
T0 = datetime(2026, 9, 1, tzinfo=UTC)

event = st.tuples(  # user (None: no id), minute, ads flag
    st.one_of(st.none(), st.integers(0, 3)),
    st.integers(0, 12),
    st.sampled_from([True, False, None]),
)
record = st.tuples(  # user, minute, purpose, granted
    st.integers(0, 4), st.integers(0, 12), st.sampled_from(PURPOSES), st.booleans()
)


def _tables(events: list, records: list) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    states = ", ".join(f"'{s}'" for s in STATES)
    con.execute(f"CREATE TYPE {STATE_TYPE} AS ENUM ({states})")
    con.execute(
        "CREATE TABLE events (event_id INTEGER, user_key VARCHAR, ts TIMESTAMPTZ, "
        "consent_ads BOOLEAN, consent_analytics BOOLEAN)"
    )
    con.execute(
        "CREATE TABLE consent (user_key VARCHAR, purpose VARCHAR, granted BOOLEAN, ts TIMESTAMPTZ)"
    )
    if events:
        con.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, NULL)",
            [
                (i, None if u is None else f"u{u}", T0 + timedelta(minutes=m), flag)
                for i, (u, m, flag) in enumerate(events)
            ],
        )
    if records:
        con.executemany(
            "INSERT INTO consent VALUES (?, ?, ?, ?)",
            [(f"u{u}", p, g, T0 + timedelta(minutes=m)) for u, m, p, g in records],
        )
    return con


def _expected(events: list, records: list) -> set[tuple]:
    """Per event and purpose: (id, purpose, state, withdrawn, first, last decision)."""
    rows = set()
    for i, (user, minute, flag) in enumerate(events):
        for purpose in PURPOSES:
            mine = sorted(
                (m, not g) for u, m, p, g in records if u == user and p == purpose
            )  # (minute, is denial): a grant sorts before a denial at one instant
            seen = [(m, denial) for m, denial in mine if m <= minute]
            last = seen[-1] if seen else None
            # a withdrawal follows an instant whose records all grant (granted in force)
            granted_at = {m for m, _ in seen} - {m for m, d in seen if d}
            withdrawn = bool(last and last[1] and any(m < last[0] for m in granted_at))
            own = flag if purpose == "ads" else None
            log = None if last is None else not last[1]
            decided = own if own is not None else log
            rows.add(
                (
                    i,
                    purpose,
                    "unknown" if decided is None else ("granted" if decided else "denied"),
                    withdrawn,
                    T0 + timedelta(minutes=mine[0][0]) if mine else None,
                    T0 + timedelta(minutes=last[0]) if last else None,
                )
            )
    return rows


def _resolved(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    state.resolve(con, PURPOSES)
    rows = set()
    for purpose in PURPOSES:
        rows |= set(
            con.execute(
                f"SELECT event_id, '{purpose}', CAST(state_{purpose} AS VARCHAR), "
                f"withdrawn_{purpose}, first_{purpose}, last_decision_{purpose} "
                "FROM scan_events"
            ).fetchall()
        )
    return rows


@pytest.mark.parametrize("joined_spans", [32, 0], ids=["hash join", "sorted window"])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(events=st.lists(event, min_size=1, max_size=20), records=st.lists(record, max_size=14))
def test_every_event_gets_the_state_the_log_gives(joined_spans, events, records):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(state, "MAX_JOINED_SPANS", joined_spans)
        con = _tables(events, records)
        got = _resolved(con)
    assert got == _expected(events, records)
    assert con.execute("SELECT count(*) FROM scan_events").fetchone() == (len(events),)


def test_users_past_the_span_limit_and_under_it_mix_in_one_scan(monkeypatch):
    """u0 changes its mind five times (6 spans with the one before its first record), u1 once
    (2 spans): with the limit at 3, u0 goes by the window and u1 by the join."""
    monkeypatch.setattr(state, "MAX_JOINED_SPANS", 3)
    records = [(0, m, "ads", m % 4 == 0) for m in range(0, 10, 2)] + [(1, 5, "ads", True)]
    events = [(0, m, None) for m in range(12)] + [(1, m, None) for m in (4, 5, 6)]
    events += [(None, 3, True), (2, 3, None)]
    con = _tables(events, records)
    assert _resolved(con) == _expected(events, records)
    # by hand: u0's event at minute 7 comes after its records at 0 (grant), 2 (denial),
    # 4 (grant), 6 (denial): denied, a withdrawal, decided at 6, first decided at 0
    assert con.execute(
        "SELECT state_ads, withdrawn_ads, minute(last_decision_ads), minute(first_ads) "
        "FROM scan_events WHERE event_id = 7"
    ).fetchone() == ("denied", True, 6, 0)


@pytest.mark.parametrize("joined_spans", [32, 0], ids=["hash join", "sorted window"])
def test_spans_take_the_last_record_by_max_not_a_scan_back(monkeypatch, joined_spans):
    """u0 grants ads once, then decides analytics 20 times. Each span's last ads record is
    taken with max() of the packed records, not last_value(... IGNORE NULLS), which scans
    back over every analytics record to it (800k such records took 2.6 s, growing with their
    square); max() needs a grant and a denial at one instant to pack the denial larger."""
    assert "IGNORE NULLS" not in state._spans_sql(PURPOSES)
    monkeypatch.setattr(state, "MAX_JOINED_SPANS", joined_spans)
    records = [(0, 0, "ads", True)] + [(0, m // 2, "analytics", m % 2 == 0) for m in range(2, 22)]
    records += [(0, 11, "analytics", True), (0, 11, "analytics", False)]
    events = [(0, m, None) for m in range(13)]
    con = _tables(events, records)
    assert _resolved(con) == _expected(events, records)
    # by hand: at minute 12, ads as granted at 0; analytics was granted and denied at each
    # minute 1-10 (the denial wins, so analytics was never granted in force), then granted,
    # denied, granted and denied at 11: denied, no withdrawal, decided at 11, first decided
    # at 1
    assert con.execute(
        "SELECT state_ads, minute(last_decision_ads), state_analytics, withdrawn_analytics, "
        "minute(last_decision_analytics), minute(first_analytics) FROM scan_events "
        "WHERE event_id = 12"
    ).fetchone() == ("granted", 0, "denied", False, 11, 1)


def test_events_long_after_the_last_record_get_it_without_a_scan_back(monkeypatch):
    """u0 decides at minutes 0-4, then has 3,000 events after its last record. The sorted
    window counts the spans started so far instead of carrying the last span's record with
    last_value(... IGNORE NULLS), which scans back over every event before it (2M such
    events on one user took 119 s)."""
    assert "IGNORE NULLS" not in state._heavy_sql()
    monkeypatch.setattr(state, "MAX_JOINED_SPANS", 3)  # u0's 6 spans go by the window
    records = [(0, m, "ads", m % 2 == 0) for m in range(4)]
    records += [(0, 4, "ads", True), (0, 4, "ads", False), (0, 4, "ads", True)]
    events = [(0, 5 + m // 300, None) for m in range(3000)] + [(1, 4, None)]
    con = _tables(events, records)
    assert _resolved(con) == _expected(events, records)
    # by hand: at minute 4 a grant and a denial of ads (the grant twice): the denial wins and
    # withdraws; every later event is denied, a withdrawal, decided at 4, first decided at 0
    assert con.execute(
        "SELECT DISTINCT state_ads, withdrawn_ads, minute(last_decision_ads), minute(first_ads) "
        "FROM scan_events WHERE user_key = 'u0'"
    ).fetchall() == [("denied", True, 4, 0)]


@pytest.mark.parametrize("joined_spans", [32, 0], ids=["hash join", "sorted window"])
def test_features_reach_scan_events_as_their_presence(monkeypatch, joined_spans):
    """The checks only ask whether a feature is present, so scan_events carries TRUE or NULL
    instead of its value; features named like the spans' own columns (start, spans) are
    read from the event, and blanks, an empty list and FALSE keep their meaning: absent,
    absent, present."""
    monkeypatch.setattr(state, "MAX_JOINED_SPANS", joined_spans)
    con = _tables([(0, m, None) for m in range(4)], [(0, 1, "ads", True), (0, 2, "ads", False)])
    con.execute("ALTER TABLE events ADD COLUMN start VARCHAR")
    con.execute("ALTER TABLE events ADD COLUMN spans BOOLEAN")
    con.execute("ALTER TABLE events ADD COLUMN tags VARCHAR[]")
    con.execute(
        "UPDATE events SET start = ['https://x.example/a', ' \u3000', NULL, 'b'][event_id + 1], "
        "spans = [FALSE, NULL, TRUE, NULL][event_id + 1], "
        "tags = [['t'], [], NULL, ['u', 'v']][event_id + 1]"
    )
    state.resolve(con, PURPOSES)
    assert con.execute(
        "SELECT event_id, start, spans, tags, CAST(state_ads AS VARCHAR) FROM scan_events "
        "ORDER BY event_id"
    ).fetchall() == [
        (0, True, True, True, "unknown"),
        (1, None, None, None, "granted"),
        (2, None, True, None, "denied"),
        (3, True, None, True, "denied"),
    ]
