"""Opt-in from the events' consent flags alone: what a returning user's change of flags is.

Hostile round 24 (2): 30 users each send one page_view a day with a gclid and their ads
flag, granted on days 1-10 and denied on days 11-20. Opt-in counts each person's first
decision, as for a consent log (the Snowplow consent models do so): all 30 first flags
grant, 30 of 30, so there is no opt-in drop. Each user changed their mind on day 11; that is
no new person's answer but the ads consent rate of returning users falling, which
``sparsity.shift`` reports: 100% (300 of 300 events, days 1-10) to 0% on 2026-10-11. The
flags note says which of the two checks tells it.
"""

from __future__ import annotations

from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write


def _events(tmp_path) -> str:
    rows = ["event_id,ts,event_name,user_id,gclid,consent_ads"]
    for u in range(30):
        for day in range(1, 21):
            flag = "granted" if day <= 10 else "denied"
            rows.append(f"e{u}_{day},2026-10-{day:02d}T10:00:00Z,page_view,u{u},g{u},{flag}")
    return write(tmp_path / "ev.csv", "\n".join(rows) + "\n")


def test_returning_users_who_change_their_flags_are_a_consent_rate_shift(tmp_path):
    doc = run_scan([_events(tmp_path)], config=config()).to_dict()
    rates = doc["evidence"]["optin_rates"]["source"]
    assert [(r["purpose"], r["decisions"], r["granted"]) for r in rates] == [("ads", 30, 30)]
    assert not by_kind(doc, "people.optin_drop")
    [shift] = by_kind(doc, "sparsity.shift")
    assert shift["title"] == "The ads consent rate fell from 100% to 0% on 2026-10-11"
    notes = "\n".join(doc["evidence"]["notes"])
    assert (
        "a later flag of a user already counted is no new decision: a fall in returning "
        "users' flags is their purpose's consent-rate shift (sparsity.shift), not an opt-in drop"
    ) in notes
