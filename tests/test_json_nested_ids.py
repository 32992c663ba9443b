"""One record of an NDJSON or JSON file whose id is an object or a list among text ids: the
reader types such a column JSON, and its text was the object's JSON (``{"id":"u2"}``), read
as a user of its own that met no consent record. It is refused, naming the file, the record
and the field, as a column of structs or lists already was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.cli import app

runner = CliRunner()


def _event(n: int, user: object) -> dict:
    return {"ts": f"2026-10-01T00:00:{n:02d}Z", "event_name": "page_view", "user_id": user}


def _ndjson(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.parametrize(
    ("odd", "said"),
    [({"id": "u3"}, "holds a record (an object) among text values"), (["u3"], "holds a list")],
)
def test_an_events_record_whose_user_id_nests_is_an_input_error_naming_it(tmp_path, odd, said):
    records = [_event(1, "u1"), _event(2, "u2"), _event(3, odd), _event(4, 7)]
    for path in (tmp_path / "ev.ndjson", tmp_path / "ev.json"):
        if path.suffix == ".json":
            path.write_text(json.dumps(records))
        else:
            _ndjson(path, records)
        result = runner.invoke(app, ["scan", str(path), "-q"])
        assert result.exit_code == 3, result.output
        # by hand: the third record; a number among text ids (7) is an id like the others
        assert f"{path.name}, row 3, field 'user_id': {said}" in result.output


def test_a_consent_record_whose_user_id_is_an_object_is_an_input_error(tmp_path):
    events = _ndjson(tmp_path / "ev.ndjson", [_event(1, "u1")])
    decision = {"purpose": "ads", "status": "denied", "ts": "2026-10-01T00:00:00Z"}
    users = ["u1", "u2", {"id": "u3"}]
    consent = _ndjson(tmp_path / "cmp.ndjson", [{"user_id": u, **decision} for u in users])
    result = runner.invoke(app, ["scan", str(events), "--consent", str(consent), "-q"])
    assert result.exit_code == 3, result.output
    assert "cmp.ndjson, row 3, field 'user_id': holds a record (an object)" in result.output


def test_a_folder_names_the_file_and_its_record(tmp_path):
    folder = tmp_path / "events"
    folder.mkdir()
    _ndjson(folder / "a.ndjson", [_event(1, "u1"), _event(2, "u2")])
    _ndjson(folder / "b.ndjson", [_event(3, "u3"), _event(4, {"id": "u4"})])
    result = runner.invoke(app, ["scan", str(folder), "-q"])
    assert result.exit_code == 3, result.output
    assert "b.ndjson, row 2, field 'user_id': holds a record" in result.output.replace("\n", "")
