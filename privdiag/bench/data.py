"""Seeded flat dumps for the benchmark, written by DuckDB straight from ``range()``.

The scenario generator (``privdiag.generate``) draws a realistic shop but needs about
11 s per million events; the benchmark needs 10M to 100M events, so this module writes a
simpler dump at disk speed. Every value comes from ``hash(row, seed)``, so the same seed
and size give the same rows. Layout (generic flat format):

- ``events.parquet`` / ``events.csv``: event_id, ts, event_name, user_id (NULL for
  anonymous shoppers), anonymous_id, session_id, consent_analytics / consent_ads
  (granted/denied on some events, else empty), and five features. Each user's events fall
  into :data:`SESSIONS_PER_USER` sessions of up to half an hour, each starting at its own
  time in the span (about five events per session, as in a shop's analytics).
- ``consent.csv``: user_id, purpose, status, ts, version, source; one or two decisions per
  user and purpose (some withdraw later), none at all for 5% of users.
- ``privdiag.toml``: maps the features to purposes so that every compliance check runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS_PER_USER = 20
SESSIONS_PER_USER = 4
SESSION_US = 30 * 60 * 1_000_000
# The dump layout's version, stamped in each dump folder: a dump of an older layout (before
# sessions, every event had its own) is written again rather than reused.
LAYOUT = "2"
DAYS = 28
BASE = "TIMESTAMPTZ '2026-10-01 00:00:00+00'"
SPAN_US = DAYS * 86400 * 1_000_000
STEPS = ["page_view"] * 4 + ["view_item"] * 2 + ["add_to_cart", "begin_checkout", "purchase"]

# The dump's features and the purpose each needs (also what the bare SQL baseline checks).
FEATURE_PURPOSES = {
    "gclid": "ads",
    "ad_click_id": "ads",
    "page_location": "analytics",
    "campaign": "analytics",
}
PURPOSES = ("analytics", "ads")


def config_text() -> str:
    """The privdiag.toml written next to a dump: every feature mapped to its purpose."""
    lines = ["# Written by privdiag.bench: the dump's features and the purposes they need."]
    for feature, purpose in FEATURE_PURPOSES.items():
        lines += ["", f"[features.{feature}]", f'purposes = ["{purpose}"]']
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Dump:
    """Paths of one generated dump and its size."""

    folder: Path
    events: int
    users: int
    fmt: str

    @property
    def events_file(self) -> Path:
        return self.folder / f"events.{self.fmt}"

    @property
    def consent_file(self) -> Path:
        return self.folder / "consent.csv"

    @property
    def config_file(self) -> Path:
        return self.folder / "privdiag.toml"


def _h(expr: str, salt: int, seed: int) -> str:
    """SQL for a pseudo-random UBIGINT of ``expr`` under ``seed`` and a per-use salt."""
    return f"hash({expr}, {seed * 1000 + salt})"


def events_sql(events: int, users: int, seed: int) -> str:
    """SQL selecting ``events`` rows of the bench dump (ts as TIMESTAMPTZ)."""
    steps = "[" + ", ".join(f"'{s}'" for s in STEPS) + "]"
    u = f"({_h('i', 1, seed)} % {users})"
    # hash(i, salt) % 4 follows i % 4, as the user does when their number is a multiple of
    # 4: the hash's high bits keep the session independent of the user
    k = f"(({_h('i', 15, seed)} >> 32) % {SESSIONS_PER_USER})"
    start = f"({_h('u * 16 + k', 16, seed)} % {SPAN_US - SESSION_US})"
    return f"""
        SELECT 'e' || i AS event_id,
               {BASE} + to_microseconds((start + {_h("i", 2, seed)} % {SESSION_US})::BIGINT)
                   AS ts,
               {steps}[1 + ({_h("i", 3, seed)} % {len(STEPS)})::INT] AS event_name,
               CASE WHEN {_h("u", 4, seed)} % 10 >= 3 THEN 'u' || u END AS user_id,
               'a' || u AS anonymous_id,
               's' || u || '-' || k AS session_id,
               CASE WHEN {_h("i", 5, seed)} % 5 = 0 THEN
                    CASE WHEN {_h("u", 6, seed)} % 3 = 0 THEN 'denied' ELSE 'granted' END
               END AS consent_analytics,
               CASE WHEN {_h("i", 5, seed)} % 5 = 1 THEN
                    CASE WHEN {_h("u", 7, seed)} % 2 = 0 THEN 'denied' ELSE 'granted' END
               END AS consent_ads,
               'https://shop.example/p/' || ({_h("i", 8, seed)} % 5000) AS page_location,
               CASE WHEN {_h("i", 9, seed)} % 7 = 0
                    THEN 'Cj0' || ({_h("i", 10, seed)} % 1000000000) END AS gclid,
               CASE WHEN {_h("i", 11, seed)} % 4 = 0
                    THEN 'cc_' || ({_h("u", 12, seed)} % 100000) END AS ad_click_id,
               CASE WHEN {_h("u", 13, seed)} % 3 = 0 THEN 'spring_sale' END AS campaign,
               ({_h("i", 14, seed)} % 20000) / 100.0 AS value
        FROM (SELECT i, u, k, {start} AS start FROM (
            SELECT range AS i, {u} AS u, {k} AS k FROM range({events})))
    """


def consent_sql(users: int, seed: int) -> str:
    """SQL selecting the consent log: per user and purpose a decision, some later withdrawn."""
    key = f"CASE WHEN {_h('u', 4, seed)} % 10 >= 3 THEN 'u' || u ELSE 'a' || u END"
    first = f"({_h('u || p', 20, seed)} % {SPAN_US})::BIGINT"
    return f"""
        WITH d AS (
            SELECT u, p, {key} AS user_id, {first} AS first_us,
                   {_h("u || p", 21, seed)} % 100 AS roll
            FROM range({users}) AS r(u), (VALUES ('analytics'), ('ads')) AS v(p)
            WHERE {_h("u", 22, seed)} % 20 <> 0
        )
        SELECT user_id, p AS purpose, CASE WHEN roll < 65 THEN 'granted' ELSE 'denied' END
               AS status, strftime({BASE} + to_microseconds(first_us), '%Y-%m-%dT%H:%M:%SZ')
               AS ts, 'v1' AS version, 'cmp' AS source
        FROM d
        UNION ALL
        SELECT user_id, p, 'denied', strftime({BASE} + to_microseconds(first_us + (
               {SPAN_US} - first_us) // 2), '%Y-%m-%dT%H:%M:%SZ'), 'v2', 'cmp'
        FROM d WHERE roll < 10
    """


def _csv_select(events: int, users: int, seed: int) -> str:
    return (
        "SELECT * REPLACE (strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts) "
        f"FROM ({events_sql(events, users, seed)})"
    )


def write_dump(folder: Path, events: int, fmt: str, seed: int = 7, con: Any = None) -> Dump:
    """Write a dump of ``events`` events as ``fmt`` (parquet or csv) into ``folder``.

    Reuses files already there (same size, seed and :data:`LAYOUT` are the same rows).
    Returns the paths.
    """
    import duckdb

    users = max(10, events // EVENTS_PER_USER)
    dump = Dump(folder, events, users, fmt)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "layout.txt"
    if not stamp.exists() or stamp.read_text(encoding="utf-8").strip() != LAYOUT:
        for old in (dump.events_file, dump.consent_file):
            old.unlink(missing_ok=True)
    own = con is None
    con = con or duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if not dump.events_file.exists():
        tmp = dump.events_file.with_suffix(".tmp")
        if fmt == "parquet":
            sql, opts = events_sql(events, users, seed), "FORMAT parquet, ROW_GROUP_SIZE 122880"
        else:
            sql, opts = _csv_select(events, users, seed), "FORMAT csv, HEADER true"
        con.execute(f"COPY ({sql}) TO '{tmp}' ({opts})")
        tmp.rename(dump.events_file)
    if not dump.consent_file.exists():
        tmp = dump.consent_file.with_suffix(".tmp")
        con.execute(f"COPY ({consent_sql(users, seed)}) TO '{tmp}' (FORMAT csv, HEADER true)")
        tmp.rename(dump.consent_file)
    dump.config_file.write_text(config_text(), encoding="utf-8")
    stamp.write_text(LAYOUT + "\n", encoding="utf-8")
    if own:
        con.close()
    return dump
