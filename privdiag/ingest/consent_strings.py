"""Consent strings carried by events or consent files: IAB TCF TC strings, Consent Mode gcs/gcd.

Only the distinct strings are decoded (in Python, once each); the decoded table is then
joined back in DuckDB, so the cost does not grow with the number of events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from privdiag.engine import quote
from privdiag.purposes import PURPOSES

# Column names that hold a consent string, and the kind of string.
STRING_COLUMNS: dict[str, str] = {
    "tc_string": "tcf",
    "tcstring": "tcf",
    "gdpr_consent": "tcf",
    "euconsent": "tcf",
    "euconsent_v2": "tcf",
    "tcf_string": "tcf",
    "gcd": "gcd",
    "gcs": "gcs",
}
# Later kinds fill only what earlier ones left NULL.
PRECEDENCE = ("gcd", "gcs", "tcf")


def _decoder(kind: str) -> tuple[Callable[[list[str | None]], Any], str]:
    """Return the decode-many function of a kind and the name of its value column."""
    if kind == "tcf":
        from privdiag.decode.tcf import decode_many

        return decode_many, "tc_string"
    from privdiag.decode import consent_mode

    if kind == "gcd":
        return consent_mode.decode_many_gcd, "gcd"
    return consent_mode.decode_many_gcs, "gcs"


def unread(kind: str, alias: str = "d") -> str:
    """SQL: why the string of decoded row ``alias`` was read only in part (its purposes, not
    what follows them), NULL when read whole; only TC strings are decoded in part."""
    return f"{alias}.unread" if kind == "tcf" else "CAST(NULL AS VARCHAR)"


def string_columns(columns: list[str]) -> list[tuple[str, str]]:
    """Return (column, kind) for the consent-string columns among ``columns``, by precedence."""
    found = [(c, STRING_COLUMNS[c.lower()]) for c in columns if c.lower() in STRING_COLUMNS]
    return sorted(found, key=lambda ck: PRECEDENCE.index(ck[1]))


def decoded_table(con: Any, sql: str, column: str, kind: str, name: str) -> str:
    """Decode the distinct values of ``column`` in ``sql`` and register them as ``name``.

    Returns the value column of the registered table (joined against ``column``).
    """
    values = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT CAST({quote(column)} AS VARCHAR) FROM {sql} "
            f"WHERE {quote(column)} IS NOT NULL"
        ).fetchall()
    ]
    decode, value_column = _decoder(kind)
    con.register(name, decode(values))
    return value_column


@dataclass
class Decoded:
    """What the events' consent-string columns gave, by column: the events whose string could
    not be decoded, those whose TC string was read only in part (with the first reason), and
    those whose string disagreed with a state the event already had (from its own consent
    columns or a string of higher precedence), with the purposes it disagreed on."""

    undecodable: dict[str, int] = field(default_factory=dict)
    partly_read: dict[str, tuple[int, str]] = field(default_factory=dict)
    disagreeing: dict[str, list[tuple[int, list[str], list[str]]]] = field(default_factory=dict)


def apply_to_events(con: Any) -> Decoded:
    """Fill events' consent flags from consent-string columns; return what could not be read
    and where a string disagreed with the state the event already carried (which is kept).

    Every column is counted before any is applied, while the flags still hold the event's
    own consent columns: a string disagreeing with them is told apart from one disagreeing
    with a string of higher precedence (gcd before gcs), which only decides where the
    event's own columns say nothing.
    """
    columns = [r[0] for r in con.execute("DESCRIBE events").fetchall()]
    found = Decoded()
    decoded: list[tuple[str, str, str, str]] = []
    for i, (column, kind) in enumerate(string_columns(columns)):
        name = f"decoded_{i}"
        decoded.append((column, kind, name, decoded_table(con, "events", column, kind, name)))
    for j, (column, *_) in enumerate(decoded):
        row = con.execute(_counts_sql(decoded, j)).fetchall()[0]
        bad, partial, reason = row[:3]
        if bad:
            found.undecodable[column] = int(bad)
        if partial:
            found.partly_read[column] = (int(partial), str(reason))
        seen = []
        for against, counts in (
            (["consent columns"], row[3 : 4 + len(PURPOSES)]),
            ([c for c, *_ in decoded[:j]], row[4 + len(PURPOSES) :]),
        ):
            if counts[0]:
                on = [p for p, n in zip(PURPOSES, counts[1:], strict=True) if n]
                seen.append((int(counts[0]), on, against))
        if seen:
            found.disagreeing[column] = seen
    for column, _, name, value in decoded:
        sets = ", ".join(
            f"consent_{p} = coalesce(events.consent_{p}, d.consent_{p})" for p in PURPOSES
        )
        con.execute(
            f"UPDATE events SET {sets} FROM {name} d "
            f"WHERE CAST(events.{quote(column)} AS VARCHAR) = d.{value} "
            "AND d.error IS NULL"
        )
        con.unregister(name)
    return found


def _counts_sql(decoded: list[tuple[str, str, str, str]], j: int) -> str:
    """SQL counting, of the events carrying the ``j``-th string column of ``decoded``, those
    it could not decode or read only in part, then those whose string disagrees with their
    own consent columns (in all, then per purpose) and those whose own columns say nothing
    where a string of higher precedence (an earlier column) disagrees (likewise)."""
    column, kind, name, value = decoded[j]
    joins = "".join(
        f" LEFT JOIN {n} d{k} ON CAST(events.{quote(c)} AS VARCHAR) = d{k}.{v} "
        f"AND d{k}.error IS NULL"
        for k, (c, _, n, v) in enumerate(decoded[:j])
    )

    def earlier(p: str) -> str:
        return f"coalesce({', '.join(f'd{k}.consent_{p}' for k in range(j))}, NULL)"

    own = [
        f"events.consent_{p} IS NOT NULL AND d.consent_{p} IS NOT NULL "
        f"AND events.consent_{p} <> d.consent_{p}"
        for p in PURPOSES
    ]
    strings = [
        f"events.consent_{p} IS NULL AND d.consent_{p} IS NOT NULL "
        f"AND {earlier(p)} IS NOT NULL AND {earlier(p)} <> d.consent_{p}"
        if j
        else "FALSE"
        for p in PURPOSES
    ]

    def counted(differs: list[str]) -> list[str]:
        return [
            f"count_if(({' OR '.join(f'({d})' for d in differs)}) AND d.error IS NULL)",
            *(f"count_if({d} AND d.error IS NULL)" for d in differs),
        ]

    return (
        f"SELECT count_if(d.error IS NOT NULL), count({unread(kind)}), min({unread(kind)}), "
        f"{', '.join(counted(own) + counted(strings))} "
        f"FROM events JOIN {name} d ON CAST(events.{quote(column)} AS VARCHAR) = d.{value}"
        f"{joins}"
    )


def consent_rows_sql(
    decoded: str,
    value_column: str,
    source_sql: str,
    string_col: str,
    user: str,
    ts: str,
    extra: str,
) -> str:
    """SQL turning rows that carry a consent string into one consent record per purpose."""
    unions = " UNION ALL ".join(
        f"SELECT {user} AS user_key, '{p}' AS purpose, d.consent_{p} AS granted, {ts} AS ts, "
        f"{extra} FROM {source_sql} AS src JOIN {decoded} d "
        f"ON CAST(src.{quote(string_col)} AS VARCHAR) = d.{value_column} "
        f"WHERE d.error IS NULL AND d.consent_{p} IS NOT NULL"
        for p in PURPOSES
    )
    return unions
