"""Consent decision times read from a typed column (a Parquet timestamp, CSV epoch numbers)
are the same instants as from their text, and a bad time is still found with its row.

The consent reader casts a column DuckDB typed as a time or an integer directly instead of
turning every row into text and matching it against a pattern; these tests pin what each
form reads as, written down by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from privdiag.config import Config
from privdiag.engine import connect
from privdiag.errors import InputError
from privdiag.ingest import load
from tests.helpers import write

EVENTS = """\
    event_id,ts,event_name,user_id
    e1,2026-03-02T10:00:00Z,page_view,u1
    """
# Two decisions: 2026-03-01 09:30:00 UTC and 2026-03-01 11:00:00.5 UTC.
FIRST = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SECOND = datetime(2026, 3, 1, 11, 0, 0, 500000, tzinfo=UTC)


def _times(tmp_path: Path, consent: str) -> list[datetime]:
    events = write(tmp_path / "events.csv", EVENTS)
    con = connect(Config().engine)
    load(con, [events], [consent], Config())
    return [r[0] for r in con.execute("SELECT ts FROM consent ORDER BY ts").fetchall()]


def test_iso_text_times(tmp_path: Path) -> None:
    consent = write(
        tmp_path / "consent.csv",
        """\
        user_id,purpose,status,ts
        u1,analytics,granted,2026-03-01T09:30:00Z
        u1,ads,denied,2026-03-01T13:00:00.5+02:00
        """,
    )
    assert _times(tmp_path, consent) == [FIRST, SECOND]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("1772357400", "1772362800.5"),  # seconds (the second a DOUBLE column)
        ("1772357400000", "1772362800500"),  # milliseconds: a BIGINT column
    ],
)
def test_epoch_number_times(tmp_path: Path, first: str, second: str) -> None:
    consent = write(
        tmp_path / "consent.csv",
        f"""\
        user_id,purpose,status,ts
        u1,analytics,granted,{first}
        u1,ads,denied,{second}
        """,
    )
    assert _times(tmp_path, consent) == [FIRST, SECOND]


def test_parquet_timestamp_column(tmp_path: Path) -> None:
    target = tmp_path / "consent.parquet"
    duckdb.execute(
        f"""COPY (SELECT * FROM (VALUES
                ('u1', 'analytics', 'granted', TIMESTAMP '2026-03-01 09:30:00'),
                ('u1', 'ads', 'denied', TIMESTAMP '2026-03-01 11:00:00.5'))
              AS t(user_id, purpose, status, ts)) TO '{target}' (FORMAT parquet)"""
    )
    assert _times(tmp_path, str(target)) == [FIRST, SECOND]


def test_out_of_range_epoch_named_with_its_row(tmp_path: Path) -> None:
    consent = write(
        tmp_path / "consent.csv",
        """\
        user_id,purpose,status,ts
        u1,analytics,granted,1772357400
        u1,ads,denied,86400
        """,
    )
    with pytest.raises(InputError) as caught:
        _times(tmp_path, consent)
    message = str(caught.value)
    assert "year 1970" in message and "row 2" in message and "ts" in message
