"""Hostile round 25: inputs that gave wrong results."""

from __future__ import annotations

from tests.helpers import scan_csv


def test_an_anonymous_id_that_is_another_users_id_keys_no_device(tmp_path):
    """Ids of two kinds numbered alike: customer 7 on device 42, customer 42 on device 99.
    Customer 7 granted ads at 09:00, customer 42 denied at 09:30. Customer 42's denial was
    read as device 42's own record: customer 7's gclid read as collected after a withdrawal
    (consent.after_withdrawal of 1 user), customer 42's was no finding. By hand: customer 7
    granted; customer 42 denied and sent gclid, a violation of 1 user."""
    events = [
        "event_id,ts,event_name,user_id,device_id,gclid",
        "e1,2026-10-01T10:00:00Z,page_view,7,42,g1",
        "e2,2026-10-01T10:00:00Z,page_view,42,99,g2",
    ]
    log = [
        "user_id,purpose,status,ts",
        "7,ads,granted,2026-10-01T09:00:00Z",
        "42,ads,denied,2026-10-01T09:30:00Z",
    ]
    toml = '[thresholds]\nmin_group_size = 1\n[features.gclid]\npurposes = ["ads"]\n'
    doc = scan_csv(tmp_path, events, log, toml)
    found = {f["kind"]: f["metrics"] for f in doc["findings"] if f["kind"].startswith("consent")}
    assert set(found) == {"consent.violation"}
    assert (found["consent.violation"]["users"], found["consent.violation"]["events"]) == (1, 1)
    assert not any("of its own" in n for n in doc["evidence"].get("notes", []))
