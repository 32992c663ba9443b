"""Privacy review 24: figures beside the opt-in rates that told a small group's choice."""

from __future__ import annotations

from privdiag.scan import run_scan
from tests.helpers import config


def _six_users(path, denying: int) -> list[str]:
    """Six users, each sending a page_view on three days with their analytics flag: the
    last ``denying`` of them deny, the others grant."""
    rows = ["event_id,ts,event_name,user_id,country,consent_analytics"]
    for u in range(1, 7):
        state = "denied" if u > 6 - denying else "granted"
        rows += [
            f"e{u}{d},2026-10-0{d}T0{u}:00:00Z,page_view,user{u},DE,{state}" for d in (1, 2, 3)
        ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return [str(path)]


def test_a_consent_rate_telling_one_user_of_six_is_withheld(tmp_path):
    # Was: evidence.consent_rates {"analytics": 0.833333} (5 of 6 users granted: the one
    # who denied told), beside opt-in rates that hide the same split (1 denied, under 5).
    doc = run_scan(_six_users(tmp_path / "e.csv", 1), config=config(min_group_size=5)).to_dict()
    evidence = doc["evidence"]
    assert [r["optin"] for r in evidence["optin_rates"]["region"]] == [None]
    assert evidence["consent_rates"] == {} and evidence["consent_rates_users_at_least"] == {}
    assert any(n.startswith("consent rate of analytics not given") for n in evidence["notes"])


def test_a_consent_rate_of_two_large_sides_is_shown(tmp_path):
    # 3 of 6 deny: at min_group_size 3 each side holds 3 users, the rate 0.5 is shown
    doc = run_scan(_six_users(tmp_path / "e.csv", 3), config=config(min_group_size=3)).to_dict()
    assert doc["evidence"]["consent_rates"] == {"analytics": 0.5}
