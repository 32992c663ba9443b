"""The consent rates and mix weigh each person once (``evidence.consent_weighting``).

Hand-written events, each carrying its own consent flags (analytics, ads):

u1 e1 e2 granted, granted; e3 e4 denied, denied  (changed their mind: half in each)
u2 e5    denied, denied                          u3 e6 e7 granted, -  (ads unknown)
u4 e8    -, - (no decision: not counted); e9 granted, denied
pings p1 granted, granted; p2 denied, denied     (no user id)

Weights: u1's four events with a decision 1/4 each, u2's 1, u3's 1/2 each, u4's e9 1. Four
users hold 8 events with a decision, 2 each on average, so each ping weighs 1/2. In all
4 + 1/2 + 1/2 = 5 persons. Combinations: denied+denied u1 1/2 + u2 1 + p2 1/2 = 2 -> 0.4;
granted+granted u1 1/2 + p1 1/2 = 1 -> 0.2; granted+denied u4 1 -> 0.2; analytics granted,
ads unknown u3 1 -> 0.2. Analytics granted 1 + 1 + 1 of 5 -> 0.6; ads decided on 5 - 1
(u3), granted 1 -> 0.25. (Weighing events: analytics 6/11 = 0.545455, ads 3/9.)
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from privdiag.config import load_config
from privdiag.scan import run_scan
from tests.helpers import config, write
from tests.test_consent_mix import DD, GG, _check, _scan_json

IDENTIFIED = """
event_id,ts,event_name,user_id,consent_analytics,consent_ads
e1,2026-10-01T10:00:00Z,page_view,u1,granted,granted
e2,2026-10-01T10:01:00Z,page_view,u1,granted,granted
e3,2026-10-02T10:00:00Z,page_view,u1,denied,denied
e4,2026-10-02T10:01:00Z,page_view,u1,denied,denied
e5,2026-10-01T10:00:00Z,page_view,u2,denied,denied
e6,2026-10-01T10:00:00Z,page_view,u3,granted,
e7,2026-10-01T10:01:00Z,page_view,u3,granted,
e8,2026-10-01T10:00:00Z,page_view,u4,,
e9,2026-10-01T10:01:00Z,page_view,u4,granted,denied
"""
PINGS = """p1,2026-10-01T10:00:00Z,page_view,,granted,granted
p2,2026-10-01T10:00:00Z,page_view,,denied,denied
"""
EVENTS = IDENTIFIED + PINGS
U2_AGAIN = "e5b,2026-10-01T10:02:00Z,page_view,u2,denied,denied\n"
GD = {"granted": ["analytics"], "denied": ["ads"]}
G_ = {"granted": ["analytics"], "denied": []}


def _evidence(tmp_path: Path, text: str, name: str = "e.csv") -> dict:
    return run_scan([write(tmp_path / name, text)], config=config()).to_dict()["evidence"]


def test_each_person_weighs_once_in_the_rates_and_the_mix(tmp_path):
    evidence = _evidence(tmp_path, EVENTS)
    assert evidence["consent_weighting"] == "person"
    assert evidence["consent_rates"] == {"analytics": 0.6, "ads": 0.25}
    assert evidence["consent_mix"] == [
        {**DD, "share": 0.4},
        # ties in share: in order of the states' text
        {**GG, "share": 0.2},
        {**GD, "share": 0.2},
        {**G_, "share": 0.2},
    ]


def test_more_events_of_one_user_move_only_the_weight_of_the_pings(tmp_path):
    # u2's event twice: u2 still weighs 1, but the four users now hold 9 events with a
    # decision, so a ping weighs 4/9: in all 4 + 8/9 = 44/9. Analytics granted 1/2 (u1)
    # + 4/9 (p1) + 1 + 1 = 53/18 -> 53/88; ads decided on 44/9 - 1 = 35/9, granted
    # 1/2 + 4/9 = 17/18 -> 17/70. Without the pings the rates would not move at all.
    assert _evidence(tmp_path, EVENTS + U2_AGAIN)["consent_rates"] == {
        "analytics": round(53 / 88, 6),
        "ads": round(17 / 70, 6),
    }
    # without the pings: analytics 1/2 + 1 + 1 of 4, ads 1/2 of 3, u2's event once or twice
    before = _evidence(tmp_path, IDENTIFIED, "a.csv")["consent_rates"]
    after = _evidence(tmp_path, IDENTIFIED + U2_AGAIN, "b.csv")["consent_rates"]
    assert before == after == {"analytics": 0.625, "ads": 0.166667}


def test_events_without_a_user_id_weigh_one_each_when_no_event_has_one(tmp_path):
    text = """
    event_id,ts,event_name,user_id,consent_analytics,consent_ads
    p1,2026-10-01T10:00:00Z,page_view,,granted,granted
    p2,2026-10-01T10:00:00Z,page_view,,denied,denied
    p3,2026-10-01T10:00:00Z,page_view,,granted,denied
    """
    evidence = _evidence(tmp_path, text)
    assert evidence["consent_rates"] == {"analytics": 0.666667, "ads": 0.333333}
    assert [e["share"] for e in evidence["consent_mix"]] == [0.333333] * 3


def test_duplicating_a_users_page_views_leaves_the_rates(tmp_path):
    # Trial 14: duplicating page views moved the rates with no consent changing. Here the
    # generated shop's app events (every one with a user id) and its consent log; the user
    # with the most page views among those whose events with a decision are all of one
    # combination of states has their page views twice, under new event ids.
    from privdiag.generate import generate_scenario

    shop = tmp_path / "shop"
    generate_scenario(shop, seed=7, users=600)
    cfg = load_config(shop / "privdiag.toml")
    app = shop / "app.csv"
    doc = run_scan([str(app)], config=cfg).to_dict()
    who = _user_of_one_combination(shop)

    copy = tmp_path / "app2.csv"
    duckdb.sql(f"""
        COPY (SELECT * FROM read_csv('{app}', all_varchar = true)
              UNION ALL
              SELECT event_id || '-again' AS event_id, * EXCLUDE (event_id)
              FROM read_csv('{app}', all_varchar = true)
              WHERE user_id = '{who}' AND event_name = 'page_view')
        TO '{copy}' (HEADER)""")
    again = run_scan([str(copy)], config=cfg).to_dict()
    assert again["evidence"]["consent_rates"] == doc["evidence"]["consent_rates"]
    assert again["evidence"]["consent_mix"] == doc["evidence"]["consent_mix"]


def _user_of_one_combination(shop: Path) -> str:
    """The user of the shop's app events with the most page views (then the first id) whose
    events with a decision all hold one combination of states; raises when there is none."""
    from privdiag.engine import connect
    from privdiag.ingest import load
    from privdiag.state import active_purposes, resolve

    cfg = load_config(shop / "privdiag.toml")
    con = connect(cfg.engine)
    load(con, [str(shop / "app.csv")], [cfg.data_path(p) for p in cfg.consent_files], cfg)
    purposes = active_purposes(con)
    resolve(con, purposes)
    states = ", ".join(f"state_{p}" for p in purposes)
    decided = " OR ".join(f"state_{p} <> 'unknown'" for p in purposes)
    (who,) = con.execute(f"""
        SELECT user_key FROM scan_events WHERE {decided} GROUP BY user_key
        HAVING count(DISTINCT ({states})) = 1 AND count_if(event_name = 'page_view') > 0
        ORDER BY count_if(event_name = 'page_view') DESC, user_key LIMIT 1""").fetchone()
    return str(who)


def test_an_older_scan_result_weighing_events_is_drawn_from_with_a_note(tmp_path):
    rates = {"analytics": 0.5, "ads": 0.333333}
    old = _check(tmp_path, scan_result=_scan_json(tmp_path, {"consent_rates": rates}))
    assert old["evidence"]["scenarios"]["consent_rates"] == rates
    (note,) = [n for n in old["evidence"]["notes"] if "shares of events" in n]
    assert "a scan by an older privdiag" in note and "weigh each person once" in note

    new = {"consent_rates": rates, "consent_weighting": "person"}
    doc = _check(tmp_path, scan_result=_scan_json(tmp_path, new))
    assert not [n for n in doc["evidence"]["notes"] if "shares of events" in n]
    assert doc["evidence"]["scenarios"]["consent_rates"] == rates
    # rates given on the command line say nothing of a scan's unit
    given = _check(tmp_path, consent_rates=rates)
    assert not [n for n in given["evidence"]["notes"] if "shares of events" in n]


def test_realdata_snowplow_and_segment_weigh_each_user_once(realdata):
    """Checked by hand in DuckDB on scan_events: the Snowplow fixture's 38 events with a
    decision all carry the user id consent_accel (granted analytics on 24, ads on 18,
    personalization on 17, all 38 deciding those three); the Segment example's u123 holds 2
    (analytics denied on both; ads and functional granted on one and denied on the other, the
    legacy event of OneTrust ids that names no such category, which Segment reads as not
    consented), and 3 events without a user id decide
    analytics (2 granted), ads (1 granted) and functional (2 granted). Two users hold 40
    events, 20 on average, so a ping weighs 1/20: in all 1 + 1 + 3/20 = 43/20 persons."""
    snowplow = realdata / "snowplow" / "source" / "snowplow_web_events.csv"
    segment = realdata / "segment" / "doc_example_events.json"
    doc = run_scan([str(snowplow), str(segment)], config=config()).to_dict()
    rates = doc["evidence"]["consent_rates"]
    persons = 43 / 20
    assert rates["analytics"] == round((24 / 38 + 2 / 20) / persons, 6)  # 0.340269
    assert rates["ads"] == round((18 / 38 + 1 / 2 + 1 / 20) / persons, 6)  # 0.476132
    assert rates["personalization"] == round(17 / 38, 6)
    assert rates["functional"] == round((1 / 2 + 2 / 20) / (1 + 3 / 20), 6)  # 0.521739
    # weighing events, u123 counted 2 of 43: analytics 26/43 = 0.604651
    mix = doc["evidence"]["consent_mix"]
    (u123,) = [e for e in mix if e["granted"] == ["ads", "functional", "necessary"]]
    assert u123["share"] == round(1 / 2 / persons, 6)  # 0.232558, half a person of 43/20
    (legacy,) = [e for e in mix if e["denied"] == ["analytics", "ads", "functional"]]
    assert legacy["share"] == u123["share"]
    everyone = [e for e in mix if len(e["granted"] or []) == 4]
    assert [e["share"] for e in everyone] == [round(14 / 38 / persons, 6)]
