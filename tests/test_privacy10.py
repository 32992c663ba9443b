"""Small groups and differencing, tenth privacy session: events without a user id beside a
few identified users, and what the outputs let a reader subtract.

Hand-checked inputs are built in each test; the numbers are written beside them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from privdiag.config import load_config
from privdiag.report.text import key_figure
from privdiag.scan import run_scan
from tests.helpers import by_kind, write


def _mixed(folder: Path, identified: int, pings: int, k: int) -> dict:
    """``identified`` users who denied ads send gclid on 3 purchases each, and ``pings``
    cookieless purchases with gclid and ads denied; 30 users granted with gclid and 30 of
    their purchases denied without it. Violation: 3 * identified + pings events."""
    rows = ["ts,event_name,user_id,gclid,consent_ads"]
    for u in range(identified):
        rows += [f"2026-10-01T10:0{n}:00Z,purchase,id{u},g{u}x{n},denied" for n in range(3)]
    rows += [f"2026-10-01T11:{n % 60:02d}:00Z,purchase,,p{n},denied" for n in range(pings)]
    for u in range(30):
        rows += [
            f"2026-10-01T12:00:00Z,purchase,user{u},q{u},granted",
            f"2026-10-01T12:01:00Z,purchase,user{u},,denied",
        ]
    events = write(folder / "events.csv", "\n".join(rows) + "\n")
    cfg = write(
        folder / "privdiag.toml",
        f"""
        [features.gclid]
        purposes = ["ads"]
        [thresholds]
        min_group_size = {k}
        """,
    )
    doc = run_scan([events], config=load_config(Path(cfg))).to_dict()
    [violation] = by_kind(doc, "consent.violation")
    return violation["metrics"]


def test_a_few_identified_users_among_cookieless_pings_hide_only_their_own_figures(tmp_path):
    """2 identified users (6 events) and 50 pings, k = 5: the 2 users, the 56 events and the
    share 56 / 86 denied purchases stay hidden (56 less 50 would give the users' 6); the 50
    events without a user id are shown, as a finding of pings alone shows its events."""
    m = _mixed(tmp_path, identified=2, pings=50, k=5)
    assert m == {
        "events": None,
        "users": None,
        "share": None,
        "denied_events": 86,  # 6 + 50 + 30
        "events_without_user_id": 50,
        "suppressed": ["users", "events", "share"],
        "min_group_size": 5,
    }
    assert key_figure(m, 5) == "<5 users and 50 events without a user id"


def test_enough_identified_users_show_everything(tmp_path):
    """6 identified users (18 events) and 10 pings, k = 5: nothing hidden, 28 events."""
    m = _mixed(tmp_path, identified=6, pings=10, k=5)
    assert (m["events"], m["users"], m["events_without_user_id"]) == (28, 6, 10)
    assert m["share"] == pytest.approx(28 / 58, abs=1e-6)  # 18 + 10 + 30 denied
    assert "suppressed" not in m


def test_pings_alone_are_unchanged(tmp_path):
    """No identified user: the 50 events are shown, the users unknown (no_user_ids), and
    there is no separate count of events without a user id."""
    m = _mixed(tmp_path, identified=0, pings=50, k=5)
    assert (m["events"], m["users"], m["no_user_ids"]) == (50, None, ["users"])
    assert "events_without_user_id" not in m


def test_few_identified_users_without_pings_stay_hidden(tmp_path):
    m = _mixed(tmp_path, identified=2, pings=0, k=5)
    assert (m["events"], m["users"], m["share"]) == (None, None, None)
    assert "events_without_user_id" not in m
    assert re.fullmatch("<5 users", key_figure(m, 5))
