"""Hostile round 24: today's features (shared browsers, steps of several names, opt-in from
event flags) given hostile but realistic inputs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from privdiag import consent_keys
from privdiag.cli import app
from privdiag.config import load_config
from tests.helpers import write


def test_init_writes_no_blank_step_its_scan_refuses(tmp_path):
    """An event name of spaces (a tag's empty name, padded) in every session was inferred
    as a journey step: init wrote steps = ["home", " ", "pay"] and the scan of that config
    stopped on "step 2 is blank" (exit 2). By hand: home then pay, the blank name no step."""
    rows = ["event_id,ts,event_name,user_id,session_id"]
    for u in range(3):
        for i, name in enumerate(["home", " ", "pay"]):
            rows.append(f'e{u}{i},2026-10-01T10:0{i}:00Z,"{name}",u{u},s{u}')
    events = write(tmp_path / "web.csv", "\n".join(rows) + "\n")
    out = tmp_path / "privdiag.toml"
    result = CliRunner().invoke(app, ["init", events, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert load_config(out).steps == ["home", "pay"]
    scan = CliRunner().invoke(app, ["scan", events, "--config", str(out), "--quiet"])
    assert scan.exit_code == 0, scan.output


def test_a_step_holding_the_unit_separator_is_read_as_the_events_are(tmp_path):
    """The events' names are read without the unit separator (chr(31)); a configured step
    was kept with it, so it named no event, and the same name without it was another step."""
    cfg = write(tmp_path / "p.toml", '[journey]\nsteps = ["home", "a\\u001fb"]\n')
    assert load_config(Path(cfg)).steps == ["home", "ab"]


def _three_users_on(tmp_path, device: str, denied_at: str, seen_at: str, anonymous: bool):
    """Load u0-u2's events at ``seen_at`` on ``device`` (and one without a user id when
    ``anonymous``), their own ads grants at 09:00 and the device's denial at ``denied_at``;
    return each event's ads state and the load's notes."""
    from privdiag.config import Config
    from privdiag.engine import connect
    from privdiag.ingest import load
    from privdiag.state import active_purposes, resolve

    events = ["event_id,ts,event_name,user_id,anonymous_id"]
    log = ["user_id,purpose,status,ts", f"{device},ads,denied,2026-10-01T{denied_at}:00Z"]
    for i in range(3):
        events.append(f"e{i},2026-10-01T{seen_at}:00Z,page_view,u{i},{device}")
        log.append(f"u{i},ads,granted,2026-10-01T09:00:00Z")
    if anonymous:
        events.append(f"z,2026-10-01T{seen_at}:00Z,page_view,,{device}")
    con = connect(Config().engine)
    web = write(tmp_path / "web.csv", "\n".join(events) + "\n")
    notes = load(con, [web], [write(tmp_path / "cmp.csv", "\n".join(log) + "\n")], Config()).notes
    resolve(con, active_purposes(con))
    states = con.execute(
        "SELECT event_id, CAST(state_ads AS VARCHAR) FROM scan_events ORDER BY event_id"
    ).fetchall()
    return states, notes


def test_users_of_a_device_id_too_shared_to_pair_meet_their_own_decisions(tmp_path, monkeypatch):
    """A device id (a shop's kiosk, or an id a tracker sends to everyone) on the events of
    more users than pairs are made for, with one record of its own: each user's own grant
    was dropped, their events keyed by the device, and all read denied. By hand (cap of 2
    user ids, 3 users): u0-u2 granted at 09:00, after the device's denial at 08:00, and
    their events are theirs: granted; the event without a user id the device's: denied."""
    monkeypatch.setattr(consent_keys, "MAX_LINKED_BROWSERS", 2)
    states, notes = _three_users_on(tmp_path, "kiosk-7", "08:00", "10:00", anonymous=True)
    assert states == [("e0", "granted"), ("e1", "granted"), ("e2", "granted"), ("z", "denied")]
    assert any("each user's events meet that user's own decisions only" in n for n in notes)


def test_a_snowplow_browser_of_too_many_user_ids_keeps_its_decisions(tmp_path, monkeypatch):
    """Snowplow records consent per browser (dbt-snowplow-web's one state per
    domain_userid): a browser of more user ids than pairs are made for still meets its own
    decisions, whoever's events. By hand (cap of 2 user ids, 3 users on b1): bob at :01
    before any decision: unknown; alice decides at :02 (deny_all, necessary kept); alice
    :03, carol :04 and bob :05 on b1 meet it: necessary granted."""
    from privdiag.config import Config
    from privdiag.engine import connect
    from privdiag.ingest import load
    from privdiag.state import active_purposes, resolve
    from tests.test_ingest_snowplow import _prefs, _row, _write

    monkeypatch.setattr(consent_keys, "MAX_LINKED_BROWSERS", 2)
    deny = _prefs("deny_all", ["necessary"])
    rows = [
        _row(1, "b1", user_id="bob"),
        _row(2, "b1", "consent_preferences", deny, user_id="alice"),
        _row(3, "b1", user_id="alice"),
        _row(4, "b1", user_id="carol"),
        _row(5, "b1", user_id="bob"),
    ]
    con = connect(Config().engine)
    load(con, [_write(tmp_path / "sp.csv", rows)], [], Config())
    resolve(con, active_purposes(con))
    states = con.execute(
        "SELECT event_id, state_necessary FROM scan_events WHERE event_name = 'page_view' "
        "ORDER BY event_id"
    ).fetchall()
    assert states == [("e1", "unknown"), ("e3", "granted"), ("e4", "granted"), ("e5", "granted")]


def test_a_zeroed_advertising_id_is_no_device(tmp_path):
    """iOS and Android send 00000000-0000-0000-0000-000000000000 as the advertising id when
    the user limits ad tracking: read as a device, one record of it (a denial at 11:00)
    reached every user's events beside their own grants (09:00), and all read as denied.
    By hand: the id is a placeholder, its record dropped: u0-u2's events at 12:00 granted."""
    zero = "00000000-0000-0000-0000-000000000000"
    states, notes = _three_users_on(tmp_path, zero, "11:00", "12:00", anonymous=False)
    assert states == [("e0", "granted"), ("e1", "granted"), ("e2", "granted")]
    assert any(zero in n and "placeholder ids" in n for n in notes)
