"""User ids with spaces around them: every stager trims them (an empty one is no id), so an
event and a consent record of one id meet whatever spaces either file kept. Consent files
and generic and Segment events trimmed; GA4 and Snowplow events and TC-string consent files
did not, and their users lost their consent state."""

from __future__ import annotations

import csv
import json

from tests.helpers import consent_states, write


def test_ga4_user_ids_with_spaces_meet_their_consent_records(realdata, tmp_path):
    rows = (realdata / "ga4" / "ga4_sample_rows_92days.ndjson").read_text().splitlines()[:4]
    events = []
    for i, (row, user) in enumerate(zip(rows, ["u1 ", "u1", " u2", ""], strict=True)):
        event = json.loads(row)
        event.update(user_id=user, user_pseudo_id=f" p{i} ", event_date="20260921")
        event["event_timestamp"] = 1790000000000000 + i * 1_000_000  # 2026-09-21, in order
        events.append(json.dumps(event))
    (tmp_path / "ga4.ndjson").write_text("\n".join(events) + "\n")
    consent = write(
        tmp_path / "cmp.csv",
        """
        user_id,purpose,status,ts
        "u1 ",analytics,denied,2026-09-01T00:00:00Z
        u2,analytics,granted,2026-09-01T00:00:00Z
        p3,analytics,granted,2026-09-01T00:00:00Z
        """,
    )
    # by hand: "u1 " and "u1" are u1 (denied), " u2" is u2 (granted); an empty user id is no
    # id, so the last event is its pseudo id p3's (granted), not a user "" without records
    assert consent_states([str(tmp_path / "ga4.ndjson")], [consent], "analytics") == [
        ("u1", "denied"),
        ("u1", "denied"),
        ("u2", "granted"),
        ("p3", "granted"),
    ]


def test_tc_string_consent_user_ids_with_spaces_meet_their_events(realdata, tmp_path):
    # consent_c grants analytics (TCF purposes 1 and 8-10) and denies ads (3 and 4 missing)
    a = json.loads((realdata / "tcf" / "v2" / "consent_c.json").read_text())["consent"]
    consent = write(tmp_path / "tc.csv", f'user_id,tc_string,ts\n" u1 ",{a},2026-10-01T09:00:00Z\n')
    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,gclid
        2026-10-01T10:00:00Z,page_view,u1,G1
        """,
    )
    assert consent_states([events], [consent], "ads") == [("u1", "denied")]
    assert consent_states([events], [consent], "analytics") == [("u1", "granted")]


def test_snowplow_user_ids_with_spaces_keep_their_dbt_consent_log(realdata, tmp_path):
    """The user consent_accel's id padded in the events and in the dbt consent log built
    from them: its events get the states they get unpadded."""
    source = realdata / "snowplow"
    paths = []
    for name in (
        "source/snowplow_web_events.csv",
        "expected/snowplow_web_consent_log_expected.csv",
    ):
        with open(source / name, newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            if row["user_id"] == "consent_accel":
                row["user_id"] = " consent_accel "
        paths.append(tmp_path / name.split("/")[1])
        with open(paths[-1], "w", newline="") as f:
            out = csv.DictWriter(f, fieldnames=list(rows[0]))
            out.writeheader()
            out.writerows(rows)
    events, log = [str(source / "source/snowplow_web_events.csv")], [str(paths[1])]
    plain = [
        s
        for s in consent_states(
            events, [str(source / "expected/snowplow_web_consent_log_expected.csv")], "analytics"
        )
        if s[0] == "consent_accel"
    ]
    padded = [
        s for s in consent_states([str(paths[0])], log, "analytics") if s[0] == "consent_accel"
    ]
    assert padded == plain
    assert {s for _u, s in plain} >= {"granted", "denied"}
