"""Checks of the loaded tables: event and consent times in range, every events input
non-empty; they fill in each input's row count and raise InputError naming the file."""

from __future__ import annotations

from typing import Any

from privdiag.engine import one
from privdiag.errors import InputError
from privdiag.ingest.base import TIME_HINT, ZONE_ABBREVIATION_HINT, BadRow
from privdiag.ingest.sqlparts import EARLIEST, out_of_range
from privdiag.ingest.tables import ConsentInput, Loaded

TIMELESS_KEPT = ("segment",)  # formats that keep events without a time, with a note
OUT_OF_RANGE_HINT = (
    "a placeholder date (1970, 9999) or an epoch in the wrong unit; fix or drop those rows"
)


def check_time_range(con: Any, loaded: Loaded) -> None:
    """Refuse event times before 2000 or more than two days ahead: a default or a wrong unit.

    Generic, GA4 and Segment inputs are checked row by row while staged (the error names the
    row); this check catches the others (Snowplow), naming the input's time field.
    """
    bad = one(
        con,
        f"""
        SELECT _input, CAST(year(ts) AS VARCHAR) FROM events
        WHERE {out_of_range("ts")}
        LIMIT 1""",
    )
    if bad:
        index = int(bad[0])
        raise InputError(
            out_of_range_message(bad[1]),
            path=loaded.inputs[index].path,
            field=loaded.staged[index][1].time_field,
            hint=OUT_OF_RANGE_HINT,
        )


def out_of_range_message(year: object) -> str:
    """The error for an event time in ``year``, before EARLIEST or ahead."""
    return f"an event time in year {year} is before {EARLIEST} or in the future"


def out_of_range_error(bad: BadRow, field: str) -> InputError:
    """The error for the row ``bad`` of an input, whose detail is the year its time (read
    from ``field``) was read as."""
    return InputError(
        out_of_range_message(bad.detail),
        path=bad.path,
        row=bad.row,
        field=field,
        hint=OUT_OF_RANGE_HINT,
    )


def check_missing_times(con: Any, loaded: Loaded) -> None:
    """Refuse events whose time could not be read (a reader that casts leniently leaves NULL).

    Segment keeps documentation-style fragments without a time on purpose, and says so.
    """
    kept = [i for i, info in enumerate(loaded.inputs) if info.format in TIMELESS_KEPT]
    skip = f"AND _input NOT IN ({', '.join(map(str, kept))})" if kept else ""
    bad = one(
        con, f"SELECT _input, count(*) FROM events WHERE ts IS NULL {skip} GROUP BY 1 LIMIT 1"
    )
    if bad:
        raise InputError(
            f"{bad[1]} events have no readable time",
            path=loaded.inputs[int(bad[0])].path,
            field="time",
            hint=f"{TIME_HINT}; {ZONE_ABBREVIATION_HINT}; fix or drop those rows",
        )


def check_consent_time_range(loaded: Loaded, consent: dict[int, ConsentInput]) -> None:
    """Refuse consent decisions dated before 2000 or more than two days ahead, as for events."""
    for index, info in enumerate(loaded.inputs):
        bad = consent[index].bad_time if index in consent else None
        if bad:
            raise InputError(
                f"a consent decision time in year {bad} is before {EARLIEST} or in the future",
                path=info.path,
                field=loaded.staged[index][1].time_field,
                hint=OUT_OF_RANGE_HINT,
            )


def count_input_rows(con: Any, loaded: Loaded, consent: dict[int, ConsentInput]) -> None:
    """Fill in each events input's row count (its events in ``events``) and its events by
    source, and each consent input's record count (its rows were counted when it was read);
    InputError for an events input that holds no events."""
    by_source: dict[int, dict[str, int]] = {}
    for index, source, n in con.execute(
        "SELECT _input, source, count(*) FROM events GROUP BY ALL ORDER BY 1, 2"
    ).fetchall():
        by_source.setdefault(int(index), {})[str(source)] = int(n)
    for index, info in enumerate(loaded.inputs):
        if info.role == "events":
            info.sources = by_source.get(index, {})
            info.rows = sum(info.sources.values())
            if info.rows == 0:
                raise InputError(
                    "holds no events (only a header, or an empty list)",
                    path=info.path,
                    hint="export the data again or leave it out",
                )
            loaded.formats.setdefault(_source_of(con, index), info.format)
        else:
            info.records = consent[index].records if index in consent else 0


def _source_of(con: Any, index: int) -> str:
    row = one(con, "SELECT any_value(source) FROM events WHERE _input = ?", [index])
    return str(row[0]) if row else ""
