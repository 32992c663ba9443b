"""Building the canonical ``events`` and ``consent`` tables from the inputs' staging, and
dropping the staging once its records are in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privdiag.engine import literal, one
from privdiag.ingest.base import Staged
from privdiag.ingest.placeholders import placeholder_sql
from privdiag.ingest.sqlparts import CANONICAL_COLUMNS, composed, out_of_range
from privdiag.result import InputInfo
from privdiag.state import DAY_ONLY

CONSENT_COLUMNS = ("user_key", "purpose", "granted", "ts", "source", "version", "region", "device")
# The fields of a consent record that may be missing: an empty one is NULL in the table (a
# CSV reads an empty field as NULL, NDJSON as '': the same log in both gives equal records).
OPTIONAL_FIELDS = ("version", "region", "device")
# The event columns compared with other inputs' text (user ids with the consent log's, event
# names with the config's steps): kept in composed form (:func:`composed`).
COMPOSED_EVENT_COLUMNS = ("user_key", "anon_key", "event_name")
# The decisions whose category maps to no purpose: (source, category, user_key, decision,
# _input), ``decision`` the rest of what tells one decision from another (its time, choice,
# notice version, region, device) as text, so that a repeated record counts once here as
# well; ``_input`` the position of the input it was read from, as in ``consent``.
UNMAPPED = "unmapped_consent"
NO_UNMAPPED = (
    "SELECT CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS category, "
    "CAST(NULL AS VARCHAR) AS user_key, CAST(NULL AS VARCHAR) AS decision, "
    "CAST(NULL AS INTEGER) AS _input WHERE FALSE"
)


@dataclass
class Loaded:
    """What ingestion produced besides the tables: inputs, notes, unmapped vocabulary."""

    inputs: list[InputInfo] = field(default_factory=list)
    staged: list[tuple[str, Staged]] = field(default_factory=list)
    unmapped: dict[str, list[str]] = field(default_factory=dict)  # source -> categories
    formats: dict[str, str] = field(default_factory=dict)  # source -> format
    undecodable: dict[str, int] = field(default_factory=dict)  # column -> events
    # column -> (events, why) whose TC strings were read only in part (their purposes used)
    partly_read: dict[str, tuple[int, str]] = field(default_factory=dict)
    # column -> (events, purposes, earlier string columns) whose string disagreed with the
    # state the event already had, which was kept
    disagreeing: dict[str, list[tuple[int, list[str], list[str]]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # about the combined inputs


def build_events(con: Any, views: list[str]) -> None:
    """Create ``events`` as the union by name of the inputs' event ``views``, with every
    canonical column (NULL where no input has it), its ids and event names composed."""
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM {v}" for v in views)
    if getattr(con, "engine_name", "duckdb") == "duckdb":  # Spark has no nfc_normalize
        present = {r[0] for r in con.execute(f"DESCRIBE {union}").fetchall()}
        texts = [f"{composed(c)} AS {c}" for c in COMPOSED_EVENT_COLUMNS if c in present]
        if texts:
            union = f"SELECT * REPLACE ({', '.join(texts)}) FROM ({union})"
    con.execute(f"CREATE TABLE events AS {union}")
    have = {r[0] for r in con.execute("DESCRIBE events").fetchall()}
    for column in CANONICAL_COLUMNS:
        if column not in have:
            sql_type = (
                "BOOLEAN"
                if column.startswith("consent_") or column == "cookieless"
                else ("TIMESTAMPTZ" if column == "ts" else "VARCHAR")
            )
            con.execute(f"ALTER TABLE events ADD COLUMN {column} {sql_type}")


@dataclass
class ConsentInput:
    """What the loader keeps of one input's consent records once their staging is dropped."""

    records: int  # the consent records inserted (a file row may give several)
    bad_time: str | None  # the year of the first decision time before EARLIEST or ahead
    # of those inserted, the records keyed by a placeholder id, left out of ``records``
    placeholders: int = 0


def build_consent(con: Any, loaded: Loaded, *, drop: bool) -> dict[int, ConsentInput]:
    """Insert each input's consent records into ``consent``; return, by input position, their
    count and first out-of-range time, read while the input's staging still exists. With
    ``drop``, each input's staging is dropped once its records are in.

    The count leaves out the records keyed by a placeholder id (``undefined``), which are
    no one's and which :func:`privdiag.ingest.placeholders.clear_placeholder_ids` drops with
    its note: a row without a user id gives no record (README).

    Each record keeps the position of its input in ``_input`` (the order the user gave the
    inputs: events first, then consent), so that of a log given twice the first given is kept
    (:func:`privdiag.ingest.duplicates.drop_duplicate_consent`); an empty optional field
    (:data:`OPTIONAL_FIELDS`) is stored as NULL.
    """
    # decision times that are dates alone are marked (privdiag.state.dated_decisions) in a
    # column only a log with them has
    dated = any(s.day_only for _, s in loaded.staged if s.consent_view)
    con.execute(f"""CREATE TABLE consent (user_key VARCHAR, purpose VARCHAR, granted BOOLEAN,
                   ts TIMESTAMPTZ, source VARCHAR, version VARCHAR, region VARCHAR,
                   device VARCHAR, _input INTEGER{f", {DAY_ONLY} BOOLEAN" if dated else ""})""")
    optional = {c: f"nullif(CAST({c} AS VARCHAR), '')" for c in OPTIONAL_FIELDS}
    cols = ", ".join(
        {**optional, "user_key": composed("user_key")}.get(c, c) for c in CONSENT_COLUMNS
    )
    found = {}
    for index, (_, staged) in enumerate(loaded.staged):
        if not staged.consent_view:
            continue
        day = (f", {DAY_ONLY}" if staged.day_only else ", FALSE") if dated else ""
        insert = f"INSERT INTO consent SELECT {cols}, {index}{day} FROM"
        records = inserted(con, insert, staged.consent_view)
        bad = one(
            con,
            f"""SELECT CAST(year(ts) AS VARCHAR) FROM {staged.consent_view}
                WHERE {out_of_range("ts")} LIMIT 1""",
        )
        found[index] = ConsentInput(records=records, bad_time=str(bad[0]) if bad else None)
        if drop:  # not before: Segment's consent view reads the input's event staging
            drop_scratch(con, [staged])
    no_one = con.execute(
        f"SELECT _input, count(*) FROM consent WHERE {placeholder_sql('user_key')} GROUP BY 1"
    ).fetchall()
    for index, count in no_one:
        found[index].records -= int(count)
        found[index].placeholders = int(count)
    return found


def inserted(con: Any, insert: str, source: str) -> int:
    """Run ``insert`` followed by ``source`` (an INSERT ... SELECT ... FROM without its table)
    and return how many rows it added.

    DuckDB's INSERT returns that count as its one row; an engine whose INSERT returns no row
    (Spark's) counts ``source`` instead: once, not the whole target table before and after.
    """
    row = con.execute(f"{insert} {source}").fetchone()
    if row is not None:
        return int(row[0])
    counted = one(con, f"SELECT count(*) FROM {source}")
    return int(counted[0]) if counted else 0


def drop_scratch(con: Any, staged: list[Staged]) -> None:
    """Drop the temp tables and views the inputs were staged in, the last made first."""
    for one_input in staged:
        for kind, name in reversed(one_input.scratch):
            con.execute(f"DROP {kind} IF EXISTS {name}")
        one_input.scratch = []


def keep_unmapped(con: Any, source: str, sql: str | None, index: int) -> None:
    """Add the decisions in unmapped categories of the input at position ``index`` to
    ``unmapped_consent``, before its staging is dropped; a stager without the SQL adds none."""
    if sql:
        con.execute(
            f"INSERT INTO {UNMAPPED} SELECT {literal(source)}, CAST(category AS VARCHAR), "
            f"{composed('CAST(user_key AS VARCHAR)')}, CAST(decision AS VARCHAR), {index} "
            f"FROM ({sql})"
        )


def unmapped_categories(con: Any) -> dict[str, list[str]]:
    """Per source, its consent categories that map to no purpose, sorted: read from
    ``unmapped_consent``, the one place the readers' unmapped decisions are kept."""
    found: dict[str, list[str]] = {}
    for source, category in con.execute(
        f"SELECT DISTINCT source, category FROM {UNMAPPED} WHERE category IS NOT NULL "
        "ORDER BY source, category"
    ).fetchall():
        found.setdefault(source, []).append(category)
    return found
