"""``PRIVDIAG_HASH_KEY``: a key for finding ids kept out of a config committed to a
repository (the sixteenth hostile session: a key read from the config only was given to
everyone who reads it, and with it an id made of an IPv4 address is reversed by hashing the
2^32 addresses)."""

from __future__ import annotations

import secrets

from typer.testing import CliRunner

from privdiag import privacy
from privdiag.cli import app
from tests.test_hostile14 import _scan_named


def _ids(doc: dict) -> list[str]:
    return [f["id"] for f in doc["findings"]]


def test_the_environment_keys_ids_where_the_config_has_no_key(tmp_path, monkeypatch):
    in_config = _ids(_scan_named(tmp_path, "ev.csv", hash_key="k1"))
    monkeypatch.setenv("PRIVDIAG_HASH_KEY", "k1")
    monkeypatch.setattr(privacy, "_ID_KEY", secrets.token_bytes(16))  # as another process
    from_env = _ids(_scan_named(tmp_path, "ev.csv"))
    monkeypatch.setattr(privacy, "_ID_KEY", secrets.token_bytes(16))
    again = _ids(_scan_named(tmp_path, "ev.csv"))
    assert from_env == in_config == again


def test_a_key_in_the_config_wins_over_the_environment(tmp_path, monkeypatch):
    in_config = _ids(_scan_named(tmp_path, "ev.csv", hash_key="k1"))
    monkeypatch.setenv("PRIVDIAG_HASH_KEY", "k2")
    assert _ids(_scan_named(tmp_path, "ev.csv", hash_key="k1")) == in_config
    assert _ids(_scan_named(tmp_path, "ev.csv")) != in_config  # k2 when the config has none


def test_an_empty_key_in_the_environment_is_a_usage_error(tmp_path, monkeypatch):
    events = tmp_path / "ev.csv"
    events.write_text("event_id,ts,event_name,user_id\ne1,2026-10-01T01:00:00Z,page_view,u1\n")
    monkeypatch.setenv("PRIVDIAG_HASH_KEY", " ")
    result = CliRunner().invoke(app, ["scan", str(events), "-q"])
    assert result.exit_code == 2, result.output
    assert "PRIVDIAG_HASH_KEY is set but empty" in result.output
