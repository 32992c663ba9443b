"""Folders partitioned hive-style (``user_id=007/date=2026-10-01/part-0.csv``): every container
reads the folder names' values as columns, as text written there, and an input whose files
are in folders of different keys is refused naming two of them."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import load_config
from privdiag.engine import connect
from privdiag.ingest import load

TS = "2026-10-01T10:00:00Z"


def _write(path: Path, container: str, event_id: str) -> None:
    """One page_view event of no user id column in ``path`` (a file of ``container``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {"event_id": event_id, "ts": TS, "event_name": "page_view"}
    if container == "csv":
        path.write_text("event_id,ts,event_name\n" + ",".join(row.values()) + "\n")
    elif container == "ndjson":
        path.write_text(json.dumps(row) + "\n")
    elif container == "json":
        path.write_text(json.dumps([row]))
    else:
        duckdb.sql(
            f"COPY (SELECT '{event_id}' AS event_id, TIMESTAMPTZ '{TS}' AS ts, "
            f"'page_view' AS event_name) TO '{path}' (FORMAT parquet)"
        )


# Users whose ids a cast to numbers would change or merge: -0 is 0, 0x10 is 16 (DuckDB casts
# the values of a key when every one of them is a number), 007 is 7 and 012 is 12.
USERS = [("-0", "0x10", "16"), ("007", "012", "7")]


@pytest.mark.parametrize("users", USERS)
@pytest.mark.parametrize("container", ["csv", "ndjson", "json", "parquet"])
def test_partition_values_are_read_as_the_folder_names_write_them(tmp_path, container, users):
    """The users come from the folders only; date= is a partition, not a feature."""
    folder = tmp_path / "events"
    for n, user in enumerate(users):
        _write(
            folder / f"user_id={user}" / "date=2026-10-01" / f"part-0.{container}",
            container,
            f"e{n}",
        )
    con = connect()

    load(con, [str(folder)], [], load_config(None))

    rows = con.execute("SELECT event_id, user_key FROM events ORDER BY 1").fetchall()
    assert rows == [(f"e{n}", user) for n, user in enumerate(users)]
    columns = [r[0] for r in con.execute("DESCRIBE events").fetchall()]
    assert "date" not in columns and "user_id" not in columns


def test_a_consent_file_partitioned_by_user_meets_the_events_of_its_users(tmp_path):
    """The consent records of user 0x10 are not those of user 16."""
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,ts,event_name,user_id,consent_ads\n"
        f"e1,{TS},page_view,0x10,\ne2,{TS},page_view,16,\n"
    )
    for user, status in (("0x10", "granted"), ("16", "denied")):
        part = tmp_path / "consent" / f"user_id={user}"
        part.mkdir(parents=True)
        (part / "part-0.csv").write_text(f"purpose,status,ts\nads,{status},2026-10-01T09:00:00Z\n")
    con = connect()

    load(con, [str(events)], [str(tmp_path / "consent")], load_config(None))

    rows = con.execute("SELECT user_key, purpose, granted FROM consent ORDER BY 1").fetchall()
    assert rows == [("0x10", "ads", True), ("16", "ads", False)]


@pytest.mark.parametrize("container", ["csv", "ndjson"])
def test_files_in_folders_of_different_keys_are_refused_naming_two(tmp_path, container):
    """A CSV or JSON reader left to detect the layout read such a folder without any
    partition value (the user ids lost, no note); Parquet's was a DuckDB binder error."""
    folder = tmp_path / "events"
    _write(folder / f"a.{container}", container, "e0")
    _write(folder / "user_id=u2" / f"part-0.{container}", container, "e1")

    result = CliRunner().invoke(app, ["scan", str(folder), "-q"])

    assert result.exit_code == 3, result.output
    first, other = folder / f"a.{container}", folder / "user_id=u2" / f"part-0.{container}"
    assert (
        f"{folder}: holds files in folders of different partition keys: {first} (in no "
        f"key=value folder) and {other} (keys user_id)"
    ) in result.output.replace("\n", " ")
