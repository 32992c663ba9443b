"""The SQL that reads event and decision times from text (``any_ts``) and the check that
refuses them (``unread_or_out_of_range``), on cells whose reading is written down by hand.

``any_ts`` looks for an epoch number only in texts with no ':' and no '-' past the first
character, and checks an offset only on texts not in UTC; these cases pin that both
shortcuts read every form as the full patterns do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from privdiag.ingest.sqlparts import any_ts, unread_or_out_of_range

T = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)  # 1772357400 seconds


def _read(cell: str | None) -> tuple:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(
        f"SELECT {any_ts('v')}, {unread_or_out_of_range(any_ts('v'))} "
        "FROM (SELECT ?::VARCHAR AS v)",
        [cell],
    ).fetchone()


@pytest.mark.parametrize(
    ("cell", "read"),
    [
        ("1772357400", T),  # epoch seconds
        ("1772357400.5", T + timedelta(microseconds=500000)),
        ("1772357400000", T),  # milliseconds
        ("1772357400000000", T),  # microseconds
        ('"1772357400"', T),  # quoted in a JSON column of mixed kinds
        ("2026-03-01T09:30:00Z", T),
        ("2026-03-01 09:30:00+00", T),
        ("2026-03-01T09:30:00+00:00", T),
        ("2026-03-01T09:30:00+0000", T),
        ("2026-03-01T15:00:00+05:30", T),
        ("2026-03-01T04:30:00-05:00", T),
        ("2026-03-01T23:30:00+14:00", T),
        ("2026-03-01T09:30:00", T),  # no zone: UTC
        ("2026-03-01t09:30:00z", T),  # lower case, as RFC 3339 allows
        ("2026-03-01t15:00:00+05:30", T),
        ("2026-03-01 09:30:00z", T),
        ("2026-03-01t23:59:60z", T + timedelta(hours=14, minutes=29, seconds=59.999999)),
    ],
)
def test_times_read_and_kept(cell: str, read: datetime) -> None:
    got, refused = _read(cell)
    assert got == read and refused is False


@pytest.mark.parametrize(
    "cell",
    [
        None,
        "",
        "not a time",
        "2026-03-01T09:30:00+99:00",  # an offset no zone has
        "2026-03-01T09:30:00-13:00",
        "2026-03-01t09:30:00+99:00",  # lower case does not mend an offset no zone has
        "86400",  # 1970-01-02: before 2000
        "-86400",
        "2999-01-01T00:00:00Z",  # far ahead
    ],
)
def test_times_refused(cell: str | None) -> None:
    assert _read(cell)[1] is True
