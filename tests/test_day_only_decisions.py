"""A consent decision whose time is a date without a time of day was made at some instant
of that day in the log's time zone (UTC-12 to UTC+14: from 14 hours before the date's
midnight UTC to 36 hours after it). An event within that while may be before the decision
or after it: where the decision changed the user's consent, the log gives it no state.

It was read as made at midnight UTC: a denial dated 2026-10-01 made every event of that day,
08:00 as 20:00, a violation (CHANGELOG Known limitations, "Dates without a time of day", (1)).
"""

from __future__ import annotations

import duckdb
import pytest

from privdiag.config import load_config
from privdiag.engine import connect
from privdiag.generate import generate_scenario
from privdiag.ingest import load
from privdiag.scan import run_scan
from privdiag.state import MAX_JOINED_SPANS, active_purposes, resolve
from tests.helpers import config, write
from tests.test_day_only_times import _consent_findings, _events_csv, _states

# (user, time) of each event, every one carrying a gclid (ads); the log's ads decisions below.
EVENTS = [
    ("u1", "2026-09-30T08:00:00Z"),  # granted 09-28; 10-01 starts 09-30 10:00 UTC at +14
    ("u1", "2026-10-01T08:00:00Z"),  # on the day of the denial: undetermined
    ("u1", "2026-10-01T20:00:00Z"),  # undetermined
    ("u1", "2026-10-03T08:00:00Z"),  # 10-01 ended 10-02 12:00 UTC at -12: after withdrawal
    ("u2", "2026-10-01T08:00:00Z"),  # its first decision's day: undetermined
    ("u2", "2026-09-29T08:00:00Z"),  # before the first decision: pre-consent
    ("u2", "2026-10-03T08:00:00Z"),  # denied: a violation
    ("u3", "2026-10-01T08:00:00Z"),  # granted 09-28 and again 10-01: granted either way
    ("u3", "2026-10-02T08:00:00Z"),
]
LOG = """
user_id,purpose,status,ts
u1,ads,granted,2026-09-28
u1,ads,denied,2026-10-01
u2,ads,denied,2026-10-01
u3,ads,granted,2026-09-28
u3,ads,granted,2026-10-01
"""
# an event's (state, log state, whether it has a first decision) of ads: undetermined,
# granted, denied by the log, and before the first decision
NONE, GRANTED, DENIED, BEFORE = (
    ("unknown", None, False),
    ("granted", True, True),
    ("denied", False, True),
    ("unknown", None, True),
)
# each event's, in EVENTS' order
STATES = [
    GRANTED,
    NONE,
    NONE,
    DENIED,
    NONE,
    BEFORE,
    DENIED,
    GRANTED,
    GRANTED,
]
NOTE = (
    "3 event(s) fall on the day (in some time zone) of a consent decision dated without a "
    "time of day, or after it but before a later decision surely follows it, where their "
    "user's consent changed (ads: 3): they may be before the "
    "change or after it"
)


def _log(tmp_path, kind: str) -> str:
    """The log as a CSV of dates, a Parquet file of a DATE column, or a CSV whose u1 grant
    has a time (a text column mixing dates and times)."""
    if kind == "mixed":
        return write(
            tmp_path / "cmp.csv",
            LOG.replace("granted,2026-09-28\n", "granted,2026-09-28T10:00:00Z\n", 1),
        )
    csv = write(tmp_path / "cmp.csv", LOG)
    if kind == "csv":
        return csv
    path = tmp_path / "cmp.parquet"
    duckdb.sql(
        "COPY (SELECT user_id, purpose, status, CAST(ts AS DATE) AS ts "
        f"FROM read_csv('{csv}', all_varchar = true)) TO '{path}'"
    )
    return str(path)


@pytest.mark.parametrize("kind", ["csv", "parquet", "mixed"])
def test_events_on_the_day_of_a_dated_decision_are_judged_neither_way(tmp_path, kind):
    """Read as midnight UTC: a violation of 2 events (u2 on 10-01 at 08:00 and 10-03),
    pre-consent 1 (u2 09-29), after withdrawal 3 (u1 10-01 08:00 and 20:00, 10-03). By hand,
    the three on 10-01 may be before their user's decision: only 10-03's are judged."""
    events, consent = _events_csv(tmp_path, EVENTS), _log(tmp_path, kind)
    assert [s[1:] for s in _states(events, consent)] == STATES
    doc = run_scan([events], consent=[consent], config=config()).to_dict()
    assert _consent_findings(doc) == {
        "consent.violation": (1, 1),
        "consent.pre_consent": (1, 1),
        "consent.after_withdrawal": (1, 1),
    }
    notes = "\n".join(doc["evidence"]["notes"])
    assert NOTE in notes
    dates = 4 if kind == "mixed" else 5
    assert f"{dates} decision time(s) in column 'ts' are dates without a time of day" in notes
    assert "read as UTC" not in notes


def test_decisions_of_a_day_that_overlap_are_ordered_by_what_is_sure(tmp_path):
    """Decisions whose whiles overlap cannot be ordered against each other either: the
    state after them both is the last one's, which may be either."""
    log = """
    user_id,purpose,status,ts
    a,ads,granted,2026-10-01T10:00:00Z
    a,ads,denied,2026-10-01
    b,ads,denied,2026-09-30T20:00:00Z
    b,ads,granted,2026-10-01
    c,ads,granted,2026-10-01
    c,ads,denied,2026-10-05T10:00:00Z
    d,ads,granted,2026-10-01
    d,ads,denied,2026-10-01
    d,ads,granted,2026-10-08T10:00:00Z
    e,ads,granted,2026-10-01T09:00:00Z
    e,ads,denied,2026-10-01T09:00:00Z
    f,ads,granted,2026-09-28
    f,ads,denied,2026-10-01
    g,ads,granted,2026-09-20
    g,ads,denied,2026-10-01
    """
    events = [
        # the denial may be before 10:00 or after it, whatever follows
        ("a", "2026-10-05T12:00:00Z"),
        # at +14, 10-01 starts at 09-30 10:00 UTC: the grant may be before the denial
        ("b", "2026-10-05T12:00:00Z"),
        ("c", "2026-10-04T12:00:00Z"),  # granted on 10-01, surely
        ("c", "2026-10-05T12:00:00Z"),  # withdrawn at 10:00
        ("d", "2026-10-05T12:00:00Z"),  # granted and denied on one date: either last
        ("d", "2026-10-09T12:00:00Z"),  # granted again with a time
        ("e", "2026-10-01T10:00:00Z"),  # a grant and a denial at one time: the denial wins
        ("f", "2026-10-03T00:00:00Z"),  # 36 h after 10-01's midnight: denied, surely
        ("f", "2026-10-02T11:00:00Z"),  # before 12:00: 10-01 at -12 still
        ("g", "2026-10-03"),  # a date too: 10-03 at +14 starts 10-02 10:00, 10-01 at -12 not over
        ("g", "2026-10-04"),
    ]
    events_csv, consent = _events_csv(tmp_path, events), write(tmp_path / "cmp.csv", log)
    states = _states(events_csv, consent)
    assert [s[1:] for s in states] == [
        NONE,
        NONE,
        GRANTED,
        DENIED,
        NONE,
        GRANTED,
        DENIED,
        DENIED,
        NONE,
        NONE,
        DENIED,
    ]
    notes = run_scan([events_csv], consent=[consent], config=config()).to_dict()["evidence"]
    assert (
        "5 event(s) dated without a time of day, or on the day (in some time zone) of a "
        "consent decision dated so, fall where their user's consent changed (ads: 5)"
    ) in "\n".join(notes["notes"])


def test_a_file_of_tc_strings_dated_without_a_time_of_day(tmp_path):
    """A file of TC strings with dates: u1's string denies every purpose on 10-01 (its first
    decision), an event at 08:00 that day undetermined, one on 10-03 a violation."""
    from tests.test_decode_tcf import encode, make

    denied = encode(make(purposes_consent=frozenset()))
    consent = write(tmp_path / "cmp.csv", f"user_id,tc_string,ts\nu1,{denied},2026-10-01\n")
    events = _events_csv(tmp_path, [("u1", "2026-10-01T08:00:00Z"), ("u1", "2026-10-03T08:00:00Z")])
    assert [s[1:] for s in _states(events, consent)] == [
        NONE,
        DENIED,
    ]


def test_a_user_of_many_dated_spans_is_judged_alike(tmp_path):
    """A user with more than MAX_JOINED_SPANS spans finds them by the sorted window: the same
    rule holds. A dated decision every third day from 2025-09-01, alternately denied and
    granted (the 4th, 2025-09-10, grants; the 5th, 09-13, denies): 09-11 13:00 UTC is 36 h
    after 09-10's midnight, granted surely; 09-12 11:00 is within 09-13 at +14."""
    import datetime as dt

    first = dt.date(2025, 9, 1)
    days = [first + dt.timedelta(days=3 * n) for n in range(MAX_JOINED_SPANS + 2)]
    log = "user_id,purpose,status,ts\n" + "".join(
        f"u1,ads,{'granted' if n % 2 else 'denied'},{day}\n" for n, day in enumerate(days)
    )
    consent = write(tmp_path / "cmp.csv", log)
    rows = [
        ("u1", t) for t in ("2025-09-10T12:00:00Z", "2025-09-11T13:00:00Z", "2025-09-12T11:00:00Z")
    ]
    assert [s[1:] for s in _states(_events_csv(tmp_path, rows), consent)] == [
        NONE,
        GRANTED,
        NONE,
    ]


def _log_states(events: str, consent: str, cfg=None) -> dict[str, tuple]:
    """Per event id, per purpose (the log's state, withdrawn, whether it is before the
    user's first decision), read with ``cfg`` (the tests' config by default)."""
    cfg = cfg or config()
    con = connect(cfg.engine)
    load(con, [events], [consent], cfg)
    purposes = active_purposes(con)
    resolve(con, purposes)
    cols = ", ".join(f"log_{p}, withdrawn_{p}, coalesce(first_{p} > ts, FALSE)" for p in purposes)
    rows = con.execute(f"SELECT event_id, {cols} FROM scan_events").fetchall()
    return {r[0]: tuple(zip(r[1::3], r[2::3], r[3::3], strict=True)) for r in rows}


def test_the_shop_s_log_cut_to_dates_judges_no_event_otherwise_than_its_times(tmp_path):
    """The generated shop's consent log with its times cut to dates: each app event's log
    state per purpose is the one the times give, or none (2,064 of the 5,288: 809 granted,
    631 denied, 624 before the first decision by the times). Read as midnight UTC, 657
    differed (334 granted and 290 denied read that were before the first decision, 22 read
    denied that were granted, 6 granted that were denied, 5 denied not withdrawn that were)."""
    shop = generate_scenario(tmp_path, seed=7, users=600)
    dated = tmp_path / "consent_dated.csv"
    duckdb.sql(
        f"COPY (SELECT * REPLACE (substr(ts, 1, 10) AS ts) FROM read_csv("
        f"'{shop.paths['consent']}', all_varchar = true)) TO '{dated}' (HEADER)"
    )
    app, cfg = str(shop.paths["app"]), load_config(tmp_path / "privdiag.toml")
    timed = _log_states(app, str(shop.paths["consent"]), cfg)
    by_date = _log_states(app, str(dated), cfg)
    assert by_date.keys() == timed.keys()
    pairs = [(d, t) for e in timed for d, t in zip(by_date[e], timed[e], strict=True)]
    none = (None, False, False)
    assert len(pairs) == 2644 * 2
    assert [(d, t) for d, t in pairs if d != t and d != none] == []
    undetermined = [t for d, t in pairs if d == none and d != t]
    assert len(undetermined) == 2064


def test_a_grant_and_a_denial_of_one_date_are_no_conflict_of_the_log(tmp_path):
    """u1 granted and denied ads on 2026-10-01, without times: two instants of that day, in
    either order. They were read as one instant, a conflict of the log (records 2, users 1)
    beside u2's grant and denial both at 09:00, which stays the only one."""
    log = """
    user_id,purpose,status,ts
    u1,ads,granted,2026-10-01
    u1,ads,denied,2026-10-01
    u2,ads,granted,2026-10-01T09:00:00Z
    u2,ads,denied,2026-10-01T09:00:00Z
    """
    events = _events_csv(tmp_path, [("u1", "2026-10-05T08:00:00Z"), ("u2", "2026-10-05T08:00:00Z")])
    doc = run_scan([events], consent=[write(tmp_path / "cmp.csv", log)], config=config()).to_dict()
    clashes = [f for f in doc["findings"] if f["location"].get("scenario") == "consent log"]
    assert [(f["metrics"]["records"], f["metrics"]["users"]) for f in clashes] == [(2, 1)]


def test_a_later_denial_after_a_grant_and_a_denial_of_one_date_withdraws(tmp_path):
    """u1 granted and denied ads on 2026-10-01 (no times: in either order), then denied on
    10-05 (a date) and u2 likewise but 10-05 at 10:00 (a time). Whatever that day's order, a
    grant came before the later denial: it withdraws it. By hand: 10-03 12:00 undetermined
    (10-01's grant may be the last); u1's 10-05 12:00 within 10-05's day, undetermined; 10-07
    12:00 past 10-05's end (10-06 12:00 UTC at -12), denied and withdrawn; u2's 10-05 12:00
    after the timed denial, denied and withdrawn. They were read denied, not withdrawn: no
    consent.after_withdrawal. u3, a grant and a denial both at 09:00 (two categories answered
    at once) and a denial on 10-05, withdraws nothing, as before: its event is the one
    violation (denied, never granted)."""
    log = """
    user_id,purpose,status,ts
    u1,ads,granted,2026-10-01
    u1,ads,denied,2026-10-01
    u1,ads,denied,2026-10-05
    u2,ads,denied,2026-10-01
    u2,ads,granted,2026-10-01
    u2,ads,denied,2026-10-05T10:00:00Z
    u3,ads,granted,2026-10-01T09:00:00Z
    u3,ads,denied,2026-10-01T09:00:00Z
    u3,ads,denied,2026-10-05T10:00:00Z
    """
    rows = [
        ("u1", "2026-10-03T12:00:00Z"),
        ("u1", "2026-10-05T12:00:00Z"),
        ("u1", "2026-10-07T12:00:00Z"),
        ("u2", "2026-10-05T12:00:00Z"),
        ("u3", "2026-10-07T12:00:00Z"),
    ]
    events, consent = _events_csv(tmp_path, rows), write(tmp_path / "cmp.csv", log)
    # per event, ads: (the log's state, withdrawn, before the first decision)
    assert _log_states(events, consent) == {
        "e0": ((None, False, False),),
        "e1": ((None, False, False),),
        "e2": ((False, True, False),),
        "e3": ((False, True, False),),
        "e4": ((False, False, False),),
    }
    doc = run_scan([events], consent=[consent], config=config()).to_dict()
    assert _consent_findings(doc) == {
        "consent.violation": (1, 1),
        "consent.after_withdrawal": (2, 2),
    }


def test_a_dated_decision_s_lead_and_lag_are_measured_from_what_is_sure(tmp_path):
    """A dated decision was made at some instant from 14 h before its midnight UTC to 36 h
    after it: an event is judged beyond the grace window only when it surely is. Grace 6 h.
    u1 granted 09-28 at 10:00 and withdrew on 10-01 (made by 10-02 12:00 UTC at the latest):
    its event of 10-02 15:00 is 3 h after that, within grace (39 h after 10-01's midnight,
    beyond it, before); 10-03 12:00 is 24 h after it, beyond. u2's first decision is dated
    10-05 (made at 10-04 10:00 UTC at the earliest): its event of 10-04 08:00 leads it by
    2 h, within grace (16 h to 10-05's midnight before), and 10-03 08:00 by 26 h, beyond;
    the median lead 14 h (28 h before)."""
    log = """user_id,purpose,status,ts
u1,ads,granted,2026-09-28T10:00:00Z
u1,ads,denied,2026-10-01
u2,ads,granted,2026-10-05
"""
    rows = [
        ("u1", "2026-10-02T15:00:00Z"),
        ("u1", "2026-10-03T12:00:00Z"),
        ("u2", "2026-10-04T08:00:00Z"),
        ("u2", "2026-10-03T08:00:00Z"),
    ]
    events, consent = _events_csv(tmp_path, rows), write(tmp_path / "cmp.csv", log)
    doc = run_scan([events], consent=[consent], config=config(grace_seconds=6 * 3600.0))
    found = doc.to_dict()
    [withdrawal] = [f for f in found["findings"] if f["kind"] == "consent.after_withdrawal"]
    assert (withdrawal["metrics"]["events"], withdrawal["metrics"]["events_within_grace"]) == (
        1,
        1,
    )
    [early] = [f for f in found["findings"] if f["kind"] == "consent.pre_consent"]
    got = {k: early["metrics"][k] for k in ("events_beyond_grace", "events_within_grace")}
    assert got == {"events_beyond_grace": 1, "events_within_grace": 1}
    assert early["metrics"]["median_lead_seconds"] == 14 * 3600.0
