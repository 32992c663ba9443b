"""Snowplow consent is resolved per browser, as dbt-snowplow-web keeps it.

dbt-snowplow-web's consent models keep one consent state per ``domain_userid``
(``snowplow_web_consent_users``: unique and not null on it), the user id only an attribute of
the browser; its user mapping links a browser to the user id seen with it. So a Snowplow
consent record is keyed by the browser that made it, an event meets the records of its own
browser, and a record keyed by a user id (a consent file keyed by user) reaches the events of
each browser that user id was seen with.
"""

from __future__ import annotations

from pathlib import Path

from privdiag.config import Config
from privdiag.engine import connect
from privdiag.ingest import load
from privdiag.state import active_purposes, resolve
from tests.helpers import write
from tests.test_ingest_snowplow import HEADER, _prefs, _row, _write

# alice decides on browser b1 (allow_all), then uses browser b2, where she has decided
# nothing yet at 10:00:06, and denies all there at 10:00:07. carol's decision is in a consent
# file keyed by her user id; her browser b4 is seen with that user id at 10:00:09, so the
# record reaches b4's events, also the one before she logged in (10:00:04, no user id). b3
# never decides.
EVENTS = [
    _row(1, "b1", user_id="alice"),
    _row(
        2,
        "b1",
        "consent_preferences",
        _prefs("allow_all", ["necessary", "statistics", "marketing"]),
        user_id="alice",
    ),  # fmt: skip
    _row(3, "b3"),
    _row(4, "b4"),
    _row(5, "b1", user_id="alice"),
    _row(6, "b2", user_id="alice"),
    _row(7, "b2", "consent_preferences", _prefs("deny_all", ["necessary"]), user_id="alice"),
    _row(8, "b2", user_id="alice"),
    _row(9, "b4", user_id="carol"),
]
CAROL = """
user_id,purpose,status,ts
carol,analytics,granted,2024-05-01T10:00:00Z
"""

# (event, analytics, ads) by hand: e6 was granted both (b1's decision, keyed by alice)
STATES = [
    ("e1", "unknown", "unknown"),  # before any decision of b1
    ("e2", "granted", "granted"),  # the decision's own event counts
    ("e3", "unknown", "unknown"),  # b3 never decides
    ("e4", "granted", "unknown"),  # carol's record, through b4 seen with her user id
    ("e5", "granted", "granted"),
    ("e6", "unknown", "unknown"),  # b2 has decided nothing yet
    ("e7", "denied", "denied"),
    ("e8", "denied", "denied"),
    ("e9", "granted", "unknown"),
]


def _states(con) -> list[tuple]:
    resolve(con, active_purposes(con))
    return con.execute(
        "SELECT event_id, state_analytics, state_ads FROM scan_events ORDER BY event_id"
    ).fetchall()


def test_each_browser_meets_its_own_decisions_and_a_user_id_links_its_browsers(tmp_path):
    con = connect()
    events = _write(tmp_path / "sp.csv", EVENTS)
    load(con, [events], [write(tmp_path / "carol.csv", CAROL)], Config())

    # the Snowplow records are keyed by the browser, the file's by the user id
    assert con.execute("SELECT DISTINCT user_key FROM consent ORDER BY 1").fetchall() == [
        ("b1",),
        ("b2",),
        ("carol",),
    ]
    assert _states(con) == STATES


def test_other_formats_still_meet_consent_by_user(tmp_path):
    """A flat events file keyed by user id: u1's record at 10:00 applies to both of u1's
    events, whatever their device id (anon_id), as before."""
    events = write(
        tmp_path / "web.csv",
        """
        event_id,ts,event_name,user_id,anon_id
        x1,2024-05-01T10:01:00Z,page_view,u1,d1
        x2,2024-05-01T10:02:00Z,page_view,u1,d2
        x3,2024-05-01T10:03:00Z,page_view,u2,d3
        """,
    )
    log = write(
        tmp_path / "log.csv", "user_id,purpose,status,ts\nu1,ads,granted,2024-05-01T10:00:00Z\n"
    )
    con = connect()
    load(con, [events], [log], Config())
    resolve(con, active_purposes(con))
    assert con.execute("SELECT event_id, state_ads FROM scan_events ORDER BY 1").fetchall() == [
        ("x1", "granted"),
        ("x2", "granted"),
        ("x3", "unknown"),
    ]


def _sample(realdata: Path):
    con = connect()
    load(con, [str(realdata / "snowplow" / "source" / "snowplow_web_events.csv")], [], Config())
    resolve(con, active_purposes(con))
    return con


def test_realdata_each_browser_ends_in_its_dbt_consent_state(realdata):
    """Per browser, the state of its last event with a decision is that of its last consent
    event in dbt-snowplow-web's snowplow_web_consent_users: ads granted exactly when the
    scopes hold marketing, analytics when they hold statistics (allow_all holds both). Keyed
    by the user id, the fixture's 26 consent browsers were one user ('consent_accel'), and
    each browser ended in whichever browser decided last."""
    con = _sample(realdata)
    expected = realdata / "snowplow" / "expected" / "snowplow_web_consent_users_expected.csv"
    rows = con.execute(f"""
        WITH last AS (
            SELECT anon_key, arg_max(state_ads, ts) AS ads, arg_max(state_analytics, ts) AS an
            FROM scan_events WHERE state_necessary <> 'unknown' GROUP BY 1
        )
        SELECT x.last_consent_event_type, x.last_consent_scopes, l.ads, l.an, count(*)
        FROM read_csv('{expected}', all_varchar=true) x
        LEFT JOIN last l ON l.anon_key = x.domain_userid
        GROUP BY ALL ORDER BY ALL
    """).fetchall()
    assert rows == [
        ("allow_all", "necessary, preferences, statistics, marketing", "granted", "granted", 7),
        ("allow_selected", "necessary, marketing", "granted", "denied", 2),
        ("allow_selected", "necessary, preferences, marketing", "granted", "denied", 1),
        ("allow_selected", "necessary, preferences, statistics", "denied", "granted", 2),
        ("allow_selected", "necessary, statistics", "denied", "granted", 5),
        ("allow_selected", "necessary, statistics, marketing", "granted", "granted", 1),
        ("deny_all", "necessary", "denied", "denied", 7),
        (None, None, None, None, 1),  # a browser that saw the banner and decided nothing
    ]


def test_realdata_share_of_users_browsers_and_events_with_a_decision(realdata):
    """The dbt sample's user ids are the fixture's test-case labels. Only one case,
    'consent_accel', holds consent events: 26 browsers, 25 of which decide (32
    consent_preferences events). The other 24 labels (17 browsers, counting one known only
    by its network_userid) test sessions and deduplication and never decide. So 1 of 25 users
    (4%; 96% without a decision, as before: the sample holds no decision for them) and 25 of
    43 browsers (58%) have a decision. Of the 157 events, 38 (24%) have one at their time:
    each browser's events from its own decision on. Keyed by the user id, 63 had one: 25
    events of 'consent_accel' took a decision made in another of its browsers."""
    con = _sample(realdata)
    decided = "state_analytics <> 'unknown'"  # every decision names analytics here
    row = con.execute(f"""
        SELECT count(DISTINCT user_key) FILTER ({decided}), count(DISTINCT user_key),
               count(DISTINCT anon_key) FILTER ({decided}), count(DISTINCT anon_key),
               count(*) FILTER ({decided}), count(*)
        FROM scan_events
    """).fetchone()
    assert row == (1, 25, 25, 43, 38, 157)
    assert con.execute("SELECT count(DISTINCT user_key) FROM consent").fetchone() == (25,)


def test_a_browser_decision_keeps_the_user_id_of_its_event_for_survey_respondents(tmp_path):
    """The opt-in decisions of a browser-keyed record name the user id seen at the decision
    (``event_user``), so survey respondents keyed by user id still match them."""
    from privdiag.checks.optin import build_decisions

    con = connect()
    load(con, [_write(tmp_path / "sp.csv", EVENTS)], [write(tmp_path / "c.csv", CAROL)], Config())
    build_decisions(con)
    rows = con.execute(
        "SELECT DISTINCT user_key, person, event_user FROM optin_decisions ORDER BY 1"
    ).fetchall()
    assert rows == [("b1", "b1", "alice"), ("b2", "b2", "alice"), ("carol", "carol", "carol")]


def test_a_placeholder_browser_id_leaves_the_decision_to_the_user_id(tmp_path):
    """dave's tracker sends 'undefined' as its domain_userid and network_userid: that is no
    browser (the loader reads it as no id), so his allow_all is kept under his user id, not
    dropped as a record of a placeholder user, and his later page view meets it (analytics
    and ads granted)."""
    choice = _prefs("allow_all", ["statistics", "marketing"])
    rows = [
        _row(1, "undefined", "consent_preferences", choice, user_id="dave"),
        _row(2, "undefined", user_id="dave"),
    ]
    for row in rows:
        row[HEADER.index("network_userid")] = "undefined"
    con = connect()
    load(con, [_write(tmp_path / "sp.csv", rows)], [], Config())
    assert con.execute("SELECT DISTINCT user_key FROM consent").fetchall() == [("dave",)]
    assert _states(con) == [("e1", "granted", "granted"), ("e2", "granted", "granted")]
