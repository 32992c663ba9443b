"""Privacy review 27: what this release's new outputs publish, at ``min_group_size`` 5."""

from __future__ import annotations

from privdiag.scan import run_scan
from tests.helpers import config, write


def _dated_log(tmp_path, deniers: int) -> tuple[str, str]:
    """Ten users granted ads on 09-28 and had a page view with a gclid at 08:00 and 20:00 on
    10-01 and on 10-04; the first ``deniers`` of them denied ads on 10-01, dated without a
    time of day, so their two events of that day are undetermined."""
    events = "event_id,ts,event_name,user_id,gclid\n"
    log = "user_id,purpose,status,ts\n"
    for u in range(10):
        log += f"u{u},ads,granted,2026-09-28\n"
        for n, ts in enumerate(
            ("2026-10-01T08:00:00Z", "2026-10-01T20:00:00Z", "2026-10-04T08:00:00Z")
        ):
            events += f"e{u}_{n},{ts},page_view,u{u},g{u}_{n}\n"
    log += "".join(f"u{u},ads,denied,2026-10-01\n" for u in range(deniers))
    return write(tmp_path / "ev.csv", events), write(tmp_path / "cmp.csv", log)


def _undetermined_note(tmp_path, deniers: int) -> str:
    events, log = _dated_log(tmp_path, deniers)
    doc = run_scan([events], consent=[log], config=config(min_group_size=5)).to_dict()
    (note,) = [n for n in doc["evidence"]["notes"] if "their user's consent changed" in n]
    return note


def test_the_undetermined_events_of_fewer_than_k_users_are_not_counted(tmp_path):
    """One user's denial dated 10-01: "2 event(s) ... (ads: 2)" was one user's two events of
    that day, telling that one person changed their ads consent on the day they were seen,
    where every finding and rate of so few users is hidden. Five users' are counted."""
    note = _undetermined_note(tmp_path, 1)
    assert note.startswith("Some events fall on the day")
    assert "(ads: events of fewer than 5 users)" in note
    assert "2 event" not in note and "ads: 2" not in note
    note = _undetermined_note(tmp_path, 5)
    assert note.startswith("10 event(s) fall on the day")
    assert "(ads: 10)" in note
