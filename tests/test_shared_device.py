"""A device (browser) two users share: each user's logged-in events meet the device's own
consent records and their own user's, never the other user's (review 21's (1)).

A consent log keyed by the device (a CMP storing its decision in the browser) and one keyed
by the account: a1 denied ads on the banner at 09:59; u1 granted ads in its account at 10:04
and logged in on a1; u2 logged in on a1 later and sent a gclid. u1's grant is u1's, not the
device's: it must not reach u2's events, nor the device's anonymous events, which cannot be
told to be u1's once two users share the device.
"""

from __future__ import annotations

from privdiag.config import Config, FeatureConfig
from privdiag.engine import connect
from privdiag.ingest import load
from privdiag.scan import run_scan
from privdiag.state import active_purposes, resolve
from tests.helpers import config, write

EVENTS = """
event_id,ts,event_name,user_id,anonymous_id,gclid
e1,2026-10-01T10:00:00Z,page_view,,a1,g
e2,2026-10-01T10:05:00Z,page_view,u1,a1,g
e3,2026-10-01T10:10:00Z,page_view,u2,a1,g
e4,2026-10-01T10:11:00Z,purchase,u2,a1,g
e5,2026-10-01T10:12:00Z,page_view,,a1,g
e6,2026-10-01T10:13:00Z,page_view,,b1,g
e7,2026-10-01T10:14:00Z,page_view,u3,b1,g
"""
LOG = """user_id,purpose,status,ts
a1,ads,denied,2026-10-01T09:59:00Z
u1,ads,granted,2026-10-01T10:04:00Z
b1,ads,denied,2026-10-01T10:01:00Z
u3,ads,granted,2026-10-01T10:02:00Z
"""
# (event, ads) by hand. e2: u1's grant (10:04) is later than a1's denial (09:59), the
# latest in force. e3, e4: u2 decided nothing; the device's denial holds. e5: anonymous on
# a device two users share: the device's own denial only. e6: b1 is u3's alone (one user
# seen on it), so u3's grant (10:02, after b1's denial at 10:01) reaches b1's anonymous
# event too, as before. e7: u3's grant.
STATES = [
    ("e1", "denied"),
    ("e2", "granted"),
    ("e3", "denied"),
    ("e4", "denied"),
    ("e5", "denied"),
    ("e6", "granted"),
    ("e7", "granted"),
]


def _ads_states(tmp_path, events: str, log: str) -> list[tuple]:
    con = connect(Config().engine)
    load(con, [write(tmp_path / "web.csv", events)], [write(tmp_path / "cmp.csv", log)], Config())
    resolve(con, active_purposes(con))
    return con.execute(
        "SELECT event_id, CAST(state_ads AS VARCHAR) FROM scan_events ORDER BY event_id"
    ).fetchall()


def test_each_user_of_a_shared_device_meets_the_device_and_their_own_decisions(tmp_path):
    assert _ads_states(tmp_path, EVENTS, LOG) == STATES


def test_the_gclid_of_the_second_user_of_a_shared_device_is_a_violation(tmp_path):
    """Before, u1's grant was copied under a1 for every event keyed by a1: e3, e4 and e5
    read as granted, and the violation held e1 alone (1 page view)."""
    cfg = config()
    cfg.features["gclid"] = FeatureConfig(purposes=["ads"])
    events, log = write(tmp_path / "web.csv", EVENTS), write(tmp_path / "cmp.csv", LOG)
    doc = run_scan([events], consent=[log], config=cfg).to_dict()
    found = {
        f["location"]["step"]: (f["metrics"]["events"], f["metrics"]["users"])
        for f in doc["findings"]
        if f["kind"] == "consent.violation"
    }
    # page_view: e1, e3, e5; purchase: e4
    assert {step: n for step, (n, _) in found.items()} == {"page_view": 3, "purchase": 1}
    assert any(
        "1 browser or device was seen with several user ids" in n for n in doc["evidence"]["notes"]
    )


def test_a_decision_on_a_shared_browser_names_the_user_of_its_event(tmp_path):
    """Snowplow: bob, then alice, on browser b1; alice denies all there. The opt-in decision
    (keyed by b1) names alice as its event's user, as survey respondents are matched, though
    alice's events on b1 meet consent on the pair's key, not b1's."""
    from privdiag.checks.optin import build_decisions
    from tests.test_ingest_snowplow import _prefs, _row, _write

    rows = [
        _row(1, "b1", user_id="bob"),
        _row(2, "b1", "consent_preferences", _prefs("deny_all", ["necessary"]), user_id="alice"),
        _row(3, "b1", user_id="alice"),
    ]
    con = connect(Config().engine)
    load(con, [_write(tmp_path / "sp.csv", rows)], [], Config())
    build_decisions(con)
    found = con.execute("SELECT DISTINCT user_key, event_user FROM optin_decisions").fetchall()
    assert found == [("b1", "alice")]


def test_an_id_holding_the_pair_separator_meets_no_pair_of_a_shared_device(tmp_path):
    """Hostile round 24: u1 and u2 share a1; a user id written as a1, the unit separator
    (chr(31)) and u2 was the key of u2's events on a1, so its grant reached them. By hand:
    e1, u1 on a1: u1's grant (09:30) after a1's denial (09:00); e2, u2 on a1: u2 decided
    nothing, the device's denial holds; e3, the id's own grant (the separator read as
    nothing, as other characters that show as nothing are)."""
    sep = chr(31)
    events = f"""
    event_id,ts,event_name,user_id,anonymous_id
    e1,2026-10-01T10:00:00Z,page_view,u1,a1
    e2,2026-10-01T10:01:00Z,page_view,u2,a1
    e3,2026-10-01T10:02:00Z,page_view,a1{sep}u2,
    """
    log = f"""user_id,purpose,status,ts
    a1,ads,denied,2026-10-01T09:00:00Z
    u1,ads,granted,2026-10-01T09:30:00Z
    a1{sep}u2,ads,granted,2026-10-01T09:50:00Z
    """
    states = [("e1", "granted"), ("e2", "denied"), ("e3", "granted")]
    assert _ads_states(tmp_path, events, log) == states
