"""[consent] columns maps a consent file's own column names onto the roles privdiag reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from privdiag.config import load_config
from privdiag.engine import connect
from privdiag.errors import ConfigError, InputError
from privdiag.ingest import load
from tests.helpers import write

EVENTS = """
    user_id,event_name,ts,gclid
    u1,page_view,2024-05-01T10:00:00Z,g1
    u2,page_view,2024-05-01T11:00:00Z,g2
"""
# the names of a trial user's CMP export: none of them is read without a mapping
CMP = """
    customer,Category,Opted In,when
    u1,Marketing,yes,2024-05-01T09:00:00Z
    u2,Marketing,no,2024-05-01T09:30:00Z
"""


def _config(folder: Path, columns: str) -> Path:
    path = folder / "privdiag.toml"
    path.write_text(f"[consent]\ncolumns = {columns}\n", encoding="utf-8")
    return path


def test_mapped_consent_columns_are_read(tmp_path):
    config = load_config(
        _config(tmp_path, '{ user_id = "customer", status = "Opted In", ts = "when" }')
    )
    con = connect()
    load(con, [write(tmp_path / "e.csv", EVENTS)], [write(tmp_path / "cmp.csv", CMP)], config)

    rows = con.execute(
        "SELECT user_key, purpose, granted, strftime(ts, '%H:%M') FROM consent ORDER BY 1"
    ).fetchall()
    assert rows == [("u1", "ads", True, "09:00"), ("u2", "ads", False, "09:30")]


def test_without_the_mapping_the_hint_names_it(tmp_path):
    con = connect()
    with pytest.raises(InputError) as caught:
        load(
            con,
            [write(tmp_path / "e.csv", EVENTS)],
            [write(tmp_path / "cmp.csv", CMP)],
            load_config(None),
        )
    assert '[consent] columns = { user_id = "<column>" }' in caught.value.hint


def test_a_mapped_column_the_file_lacks_is_named(tmp_path):
    config = load_config(_config(tmp_path, '{ user_id = "client" }'))
    with pytest.raises(InputError) as caught:
        load(
            connect(),
            [write(tmp_path / "e.csv", EVENTS)],
            [write(tmp_path / "cmp.csv", CMP)],
            config,
        )
    assert str(caught.value.message).endswith(
        "cmp.csv, field 'client': column 'client' (mapped to user_id) is not in the file"
    )


def test_an_event_role_under_consent_columns_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, '{ event_name = "what" }'))
    assert "consent.columns" in str(caught.value)
    assert "user_id" in str(caught.value)  # the roles a consent file has
