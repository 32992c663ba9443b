"""An event time that is a date without a time of day is judged against its user's consent
only where the log's state held all that day, in any time zone (UTC-12 to UTC+14: from 14
hours before the date's midnight UTC to 36 hours after it).

Hostile 22's (1): 60 events of a Parquet DATE column, read as midnight UTC, were all
collected before their users' decisions at 09:00 that day (``consent.pre_consent`` on 20 of
20 events at each step), where they may as well have been after. Such an event now takes no
state from the log, a note counts them, and an event dated on a day without a change is
judged as before.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from privdiag.config import load_config
from privdiag.engine import connect
from privdiag.generate import generate_scenario
from privdiag.ingest import load
from privdiag.scan import run_scan
from privdiag.state import MAX_JOINED_SPANS, active_purposes, resolve
from tests.helpers import by_kind, config, write

# (user, date) of each event, every one carrying a gclid (ads); the ads decisions below.
EVENTS = [
    ("u1", "2026-10-01"),  # denied 09:00 that day: undetermined
    ("u1", "2026-10-01"),
    ("u1", "2026-10-02"),  # denied since the day before: a violation
    ("u2", "2026-10-01"),  # granted 09:00 that day: undetermined
    ("u2", "2026-10-01"),
    ("u2", "2026-10-02"),  # granted: compliant
    ("u3", "2026-10-01"),  # denied 09-28, nothing since: a violation, twice
    ("u3", "2026-10-01"),
    ("u4", "2026-10-01"),  # granted 09-28, denied 15:00 that day: undetermined
    ("u4", "2026-10-01"),
    ("u4", "2026-10-03"),  # after the withdrawal
    ("u5", "2026-10-01"),  # first decides 10-03 08:00: before the banner, twice
    ("u5", "2026-10-01"),
    ("u6", "2026-10-01"),  # withdrew 09-30 23:30 UTC: 10-01 already in Berlin: undetermined
]
LOG = """
user_id,purpose,status,ts
u1,ads,denied,2026-10-01T09:00:00Z
u2,ads,granted,2026-10-01T09:00:00Z
u3,ads,denied,2026-09-28T10:00:00Z
u4,ads,granted,2026-09-28T10:00:00Z
u4,ads,denied,2026-10-01T15:00:00Z
u5,ads,denied,2026-10-03T08:00:00Z
u6,ads,granted,2026-09-28T10:00:00Z
u6,ads,denied,2026-09-30T23:30:00Z
"""


def _events_csv(tmp_path, rows: list[tuple[str, str]], flag: bool = False) -> str:
    head = "event_id,ts,event_name,user_id,gclid" + (",consent_ads" if flag else "")
    lines = [
        f"e{i},{','.join(r[1:2])},page_view,{r[0]},g{i}" + "".join("," + x for x in r[2:])
        for i, r in enumerate(rows)
    ]
    return write(tmp_path / "ev.csv", "\n".join([head, *lines]) + "\n")


def _states(events: str, consent: str) -> list[tuple]:
    """Each event's (id, state, log, whether it has a first decision) of ads, by event id:
    an event its log cannot give a state has none of the three from it."""
    con = connect(config().engine)
    load(con, [events], [consent], config())
    resolve(con, active_purposes(con))
    return con.execute(
        "SELECT event_id, CAST(state_ads AS VARCHAR), log_ads, first_ads IS NOT NULL "
        "FROM scan_events ORDER BY length(event_id), event_id"
    ).fetchall()


def _consent_findings(doc: dict) -> dict[str, tuple[int, int]]:
    return {
        kind: (f[0]["metrics"]["events"], f[0]["metrics"]["users"])
        for kind in ("consent.violation", "consent.pre_consent", "consent.after_withdrawal")
        if (f := by_kind(doc, kind))
    }


def test_events_dated_on_a_day_their_consent_changed_are_judged_neither_way(tmp_path):
    events = _events_csv(tmp_path, EVENTS)
    consent = write(tmp_path / "cmp.csv", LOG)
    doc = run_scan([events], consent=[consent], config=config()).to_dict()
    # before: violation 3 events of 2 users (u1 10-02, u3 twice), pre-consent 6 of 3 (u1,
    # u2, u5 twice each), after withdrawal 2 of 2 (u4 10-03, u6)
    assert _consent_findings(doc) == {
        "consent.violation": (3, 2),
        "consent.pre_consent": (2, 1),
        "consent.after_withdrawal": (1, 1),
    }
    notes = doc["evidence"]["notes"]
    assert (
        "7 event(s) dated without a time of day fall on a day (in some time zone) on which "
        "their user's consent changed (ads: 7): they may be before the change or after it"
    ) in "\n".join(notes)
    assert f"{events}: 14 time(s) in column 'ts' are dates without a time of day: an event " in (
        "\n".join(notes)
    )
    assert [s[1:] for s in _states(events, consent)] == [
        ("unknown", None, False),
        ("unknown", None, False),
        ("denied", False, True),
        ("unknown", None, False),
        ("unknown", None, False),
        ("granted", True, True),
        ("denied", False, True),
        ("denied", False, True),
        ("unknown", None, False),
        ("unknown", None, False),
        ("denied", False, True),
        ("unknown", None, True),  # before the first decision: pre-consent
        ("unknown", None, True),
        ("unknown", None, False),
    ]


def hostile22_input(tmp_path) -> tuple[str, str]:
    """Hostile 22's input: 60 events of a Parquet DATE column, all of 2026-10-01, of 20 users
    (each with a gclid, which ads needs), and its consent log: each user denies ads at 09:00
    that day. Returns the events' path and the log's."""
    path = tmp_path / "ev.parquet"
    duckdb.sql(
        "COPY (SELECT 'e' || i AS event_id, DATE '2026-10-01' AS ts, "
        "['page_view', 'view_item', 'add_to_cart'][i % 3 + 1] AS event_name, "
        f"'u' || (i % 20) AS user_id, 'g' || i AS gclid FROM range(60) t(i)) TO '{path}'"
    )
    log = "user_id,purpose,status,ts\n" + "".join(
        f"u{i},ads,denied,2026-10-01T09:00:00Z\n" for i in range(20)
    )
    return str(path), write(tmp_path / "cmp.csv", log)


def test_a_parquet_date_column_of_a_day_of_decisions_makes_no_finding(tmp_path):
    """Hostile 22's input: each of 20 users denies ads at 09:00 on the day all 60 of their
    events are dated: 20 of 20 events at each step were pre-consent; now none is judged."""
    path, consent = hostile22_input(tmp_path)
    doc = run_scan([path], consent=[consent], config=config()).to_dict()
    assert _consent_findings(doc) == {}
    assert any(n.startswith("60 event(s) dated without a time") for n in doc["evidence"]["notes"])
    # dated the day after, from 10:00 UTC the day before (UTC+14) the denial had been made:
    # 60 violations of 20 users
    duckdb.sql(
        f"COPY (SELECT * REPLACE (DATE '2026-10-02' AS ts) FROM '{path}') "
        f"TO '{tmp_path / 'later.parquet'}'"
    )
    later = run_scan([str(tmp_path / "later.parquet")], consent=[consent], config=config())
    doc = later.to_dict()
    assert sum(f["metrics"]["events"] for f in by_kind(doc, "consent.violation")) == 60
    assert not any("event(s) dated" in n for n in doc["evidence"].get("notes", []))


def test_a_column_mixing_dates_and_times_judges_the_timed_events(tmp_path):
    # u1 denies at 09:00: at 10:00 a violation, at 08:00 before the banner, the date alone
    # neither; the column is text (the sniffer types no mixed column DATE)
    rows = [("u1", "2026-10-01T10:00:00Z"), ("u1", "2026-10-01"), ("u1", "2026-10-01T08:00:00Z")]
    events = _events_csv(tmp_path, rows)
    consent = write(
        tmp_path / "cmp.csv", "user_id,purpose,status,ts\nu1,ads,denied,2026-10-01T09:00:00Z\n"
    )
    assert [s[1:] for s in _states(events, consent)] == [
        ("denied", False, True),
        ("unknown", None, False),
        ("unknown", None, True),
    ]
    doc = run_scan([events], consent=[consent], config=config()).to_dict()
    assert _consent_findings(doc) == {
        "consent.violation": (1, 1),
        "consent.pre_consent": (1, 1),
    }
    notes = "\n".join(doc["evidence"]["notes"])
    assert "1 time(s) in column 'ts' are dates without a time of day" in notes
    assert "1 event(s) dated without a time of day" in notes


def test_an_event_s_own_flag_still_gives_its_state_but_no_conflict_with_the_log(tmp_path):
    # u1 grants at 09:00 on 10-01; both events say ads denied themselves: on 10-01 the log
    # cannot be compared (no conflict), on 10-03 the log's grant conflicts with the flag
    rows = [("u1", "2026-10-01", "no"), ("u1", "2026-10-03", "no")]
    events = _events_csv(tmp_path, rows, flag=True)
    consent = write(
        tmp_path / "cmp.csv", "user_id,purpose,status,ts\nu1,ads,granted,2026-10-01T09:00:00Z\n"
    )
    assert [s[1:] for s in _states(events, consent)] == [
        ("denied", None, False),
        ("denied", True, True),
    ]


def test_a_user_of_many_spans_is_judged_alike(tmp_path):
    """A user with more than MAX_JOINED_SPANS spans finds them by the sorted window: the same
    rule holds. A decision at 09:00 every third day from 2025-09-01, alternately denied and
    granted; an event dated on the 4th decision's day (2025-09-10, granted) and one the day
    after it (granted since 09:00 the day before, until 09-13)."""
    first = dt.date(2025, 9, 1)
    days = [first + dt.timedelta(days=3 * n) for n in range(MAX_JOINED_SPANS + 2)]
    log = "user_id,purpose,status,ts\n" + "".join(
        f"u1,ads,{'granted' if n % 2 else 'denied'},{day}T09:00:00Z\n" for n, day in enumerate(days)
    )
    consent = write(tmp_path / "cmp.csv", log)
    events = _events_csv(tmp_path, [("u1", "2025-09-10"), ("u1", "2025-09-11")])
    assert [s[1:] for s in _states(events, consent)] == [
        ("unknown", None, False),
        ("granted", True, True),
    ]


def _app_states(folder, app: str) -> dict[str, tuple]:
    """Per event id of the shop's app export ``app``, per purpose (state, withdrawn,
    whether it is before the user's first decision)."""
    cfg = load_config(folder / "privdiag.toml")
    con = connect(cfg.engine)
    load(con, [app], [str(folder / "consent.csv")], cfg)
    purposes = active_purposes(con)
    resolve(con, purposes)
    cols = ", ".join(
        f"CAST(state_{p} AS VARCHAR), withdrawn_{p}, coalesce(first_{p} > ts, FALSE)"
        for p in purposes
    )
    rows = con.execute(f"SELECT event_id, {cols} FROM scan_events").fetchall()
    return {r[0]: tuple(zip(r[1::3], r[2::3], r[3::3], strict=True)) for r in rows}


def test_a_dated_copy_of_the_shop_judges_no_event_otherwise_than_its_times(tmp_path):
    """The generated shop's app export with its times cut to dates: each event's state per
    purpose is the one its time gives, or none (dated within a change of its user's
    consent: 2,151 of the 5,288, which their times give as 873 granted, 654 denied and 624
    before the first decision). Read as midnight UTC, 1,166 differed: 1,106 read as before
    the first decision that were after it, 42 read granted that were denied, 18 denied that
    were granted."""
    shop = generate_scenario(tmp_path, seed=7, users=600)
    dated = tmp_path / "app_dated.csv"
    duckdb.sql(
        f"COPY (SELECT * REPLACE (substr(ts, 1, 10) AS ts) FROM read_csv('{shop.paths['app']}', "
        f"all_varchar = true)) TO '{dated}' (HEADER)"
    )
    timed = _app_states(tmp_path, str(shop.paths["app"]))
    by_date = _app_states(tmp_path, str(dated))
    assert by_date.keys() == timed.keys()
    pairs = [(d, t) for e in timed for d, t in zip(by_date[e], timed[e], strict=True)]
    undetermined = [t for d, t in pairs if d == ("unknown", False, False) and d != t]
    assert len(pairs) == 2644 * 2
    assert [(d, t) for d, t in pairs if d != t and d != ("unknown", False, False)] == []
    assert len(undetermined) == 2151
