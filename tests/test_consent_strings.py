"""TC strings in a consent file and Consent Mode gcd on events, decoded and joined back.

consent_a grants TCF purposes 2,4,5,7,8,9,10: analytics (8,9,10) granted; ads (2,3,4,7),
personalization (5,6) and functional (1) denied. consent_b grants 1-10: all granted.
gcd '11p1p1p1p5' = every type denied by default, no update.
"""

from __future__ import annotations

import json

from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write


def test_tc_strings_and_gcd_resolve_to_states(realdata, tmp_path):
    a = json.loads((realdata / "tcf" / "v2" / "consent_a.json").read_text())["consent"]
    b = json.loads((realdata / "tcf" / "v2" / "consent_b.json").read_text())["consent"]
    consent = write(
        tmp_path / "tc.csv",
        f"""
        user_id,tc_string,ts
        u1,{a},2026-10-01T09:00:00Z
        u2,{b},2026-10-01T09:00:00Z
        u3,not-a-tc-string,2026-10-01T09:00:00Z
    """,
    )
    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,gcd,gclid
        2026-10-01T10:00:00Z,page_view,u1,11p1p1p1p5,G1
        2026-10-01T10:00:00Z,page_view,u2,,G2
    """,
    )
    doc = run_scan([events], consent=[consent], config=config()).to_dict()

    violations = by_kind(doc, "consent.violation")
    assert [(f["location"]["feature"], f["metrics"]["events"]) for f in violations] == [
        ("gclid", 1)
    ]
    # consent_a lacks purpose 1, so it denies analytics as u1's gcd does: no conflict
    assert by_kind(doc, "consent.conflict") == []
    rates = doc["evidence"]["consent_rates"]
    assert rates["analytics"] == 0.5 and rates["ads"] == 0.5
    assert not by_kind(doc, "people.unclassified_feature")  # gcd is a consent string, not a feature
    assert any("could not be decoded" in n for n in doc["evidence"]["notes"])


def test_a_gcs_disagreeing_with_the_gcd_beside_it_is_noted(tmp_path):
    # gcd '11t1t1t1t5': every type granted by default (t = 29: default 3, update 1 not set);
    # gcs 'G100': ads and analytics denied. gcd goes first, so both events read granted; the
    # third event's gcs G111 agrees, the fourth has no gcd.
    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,gcd,gcs
        2026-10-01T10:00:00Z,page_view,u1,11t1t1t1t5,G100
        2026-10-01T10:01:00Z,page_view,u2,11t1t1t1t5,G100
        2026-10-01T10:02:00Z,page_view,u3,11t1t1t1t5,G111
        2026-10-01T10:03:00Z,page_view,u4,,G100
    """,
    )
    doc = run_scan([events], config=config()).to_dict()
    notes = [n for n in doc["evidence"]["notes"] if "disagrees" in n]
    assert notes == [
        "2 events carry a gcs value that disagrees with their own gcd on analytics, ads: the "
        "gcd state is used (a tag sending both should send the same state; check which one "
        "the site's consent banner updates)"
    ]


def test_a_consent_string_disagreeing_with_the_events_own_flag_is_noted(tmp_path):
    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,consent_ads,gcs
        2026-10-01T10:00:00Z,page_view,u1,true,G100
        2026-10-01T10:01:00Z,page_view,u2,false,G100
    """,
    )
    doc = run_scan([events], config=config()).to_dict()
    notes = [n for n in doc["evidence"]["notes"] if "disagrees" in n]
    assert notes == [
        "1 event carries a gcs value that disagrees with its own consent columns on ads: the "
        "consent columns state is used (a tag sending both should send the same state; check "
        "which one the site's consent banner updates)"
    ]


def test_ga4_privacy_info_wins_over_the_gcd_of_its_event(tmp_path):
    """README: an event's own flags win over its strings. Three GA4 events whose
    privacy_info denies ads while their gcd event parameter grants ad_storage (``13t1t1t1t5``
    reads ``t``: granted): ads stays denied (the three gclids are a violation), a note counts
    the three; a fourth event without privacy_info takes the gcd's grant."""
    rows = []
    for n in range(4):
        row = {
            "event_date": "20261001",
            "event_timestamp": 1790000000000000 + n,
            "event_name": "page_view",
            "event_params": [
                {"key": "gclid", "value": {"string_value": f"g{n}"}},
                {"key": "gcd", "value": {"string_value": "13t1t1t1t5"}},
            ],
            "user_pseudo_id": f"p{n}",
        }
        if n < 3:
            row["privacy_info"] = {"analytics_storage": "Yes", "ads_storage": "No"}
        rows.append(row)
    data = tmp_path / "ga4.ndjson"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    doc = run_scan([str(data)], config=config(min_group_size=1)).to_dict()
    (violation,) = [f for f in doc["findings"] if f["kind"] == "consent.violation"]
    assert violation["metrics"]["events"] == 3
    (note,) = [n for n in doc["evidence"]["notes"] if "disagrees" in n]
    assert note.startswith("3 events carry a gcd value that disagrees with their own consent")
