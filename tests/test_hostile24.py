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


def test_users_of_a_device_id_too_shared_to_pair_meet_their_own_decisions(tmp_path, monkeypatch):
    """A zeroed device id (an iOS advertising id under limited ad tracking) on the events of
    more users than pairs are made for, with one record of its own: each user's own grant
    was dropped, their events keyed by the device, and all read denied. By hand (cap of 2
    user ids, 3 users): u0-u2 granted at 09:00, after the device's denial at 08:00, and
    their events are theirs: granted; the event without a user id the device's: denied."""
    from privdiag.config import Config
    from privdiag.engine import connect
    from privdiag.ingest import load
    from privdiag.state import active_purposes, resolve

    monkeypatch.setattr(consent_keys, "MAX_LINKED_BROWSERS", 2)
    zero = "00000000-0000-0000-0000-000000000000"
    events = ["event_id,ts,event_name,user_id,anonymous_id"]
    log = ["user_id,purpose,status,ts", f"{zero},ads,denied,2026-10-01T08:00:00Z"]
    for i in range(3):
        events.append(f"e{i},2026-10-01T10:00:00Z,page_view,u{i},{zero}")
        log.append(f"u{i},ads,granted,2026-10-01T09:00:00Z")
    events.append(f"z,2026-10-01T10:00:00Z,page_view,,{zero}")
    con = connect(Config().engine)
    files = [
        write(tmp_path / name, "\n".join(rows) + "\n")
        for name, rows in (("web.csv", events), ("cmp.csv", log))
    ]
    notes = load(con, files[:1], files[1:], Config()).notes
    resolve(con, active_purposes(con))
    states = con.execute(
        "SELECT event_id, CAST(state_ads AS VARCHAR) FROM scan_events ORDER BY event_id"
    ).fetchall()
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
