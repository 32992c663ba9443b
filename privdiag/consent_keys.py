"""The key on which an event meets the consent log: its user's, or its browser's.

Most formats record consent per user, keyed like their events (``user_key``). A CMP on a web
page stores its decision in the browser, and Snowplow records it so: dbt-snowplow-web's
consent models keep one state per ``domain_userid`` (``snowplow_web_consent_users``), the
user id only an attribute of the browser. Snowplow events therefore carry
``_browser_consent`` (TRUE): they meet the consent records keyed by their browser (their
``anon_key``: ``domain_userid``, else ``network_userid``), and only one without a browser
meets those of its ``user_key``.

A user id seen with a browser still links them, as dbt-snowplow-web's user mapping links a
``domain_userid`` to the user id its events carry: a record keyed by that user id (a consent
file keyed by user, a Snowplow consent event without a browser) reaches the events of each
browser the user id was seen with, beside the events keyed by the user id itself.

A browser seen with several user ids (a shared device) is no one user's: there the events of
each user id meet the browser's own records and that user's, under a key of the pair
(browser and user id, :func:`pair_key`), never another user's records; its events without a
user id meet the browser's own records only; one of too many user ids to pair is a shared
or placeholder id, its users' events meeting their own records only. A browser of one user
id keeps the browser as its key, that user's records copied under it, so that its events
before login meet them too. Each event's key is computed once, at load, into :data:`CONSENT_KEY`.

A user id seen with more than :data:`MAX_LINKED_BROWSERS` browsers links none of them: it
is a shared or placeholder id ("0", "guest"), not one person's, and each of its records
copied to each of its browsers made the consent log quadratic (20,000 browsers of one id
and its 2,000 records: 40M rows, 90 CPU-s and 9 GB for a 300k-event scan). Nor does one
whose records, copied to each of its browsers, would exceed :data:`MAX_LINKED_RECORDS`
(1,000 browsers and 2,000 records: 2M rows, 7 CPU-s and 750 MB for 300k events). Its
records then meet its events without a browser only; the loader says so
(:func:`unlinked_notes`).

Without an event of ``_browser_consent`` (every format but Snowplow) the key is
``user_key`` and the SQL is what it was before.
"""

from __future__ import annotations

from typing import Any

BROWSER_CONSENT = "_browser_consent"
# The key an event meeting consent by its browser meets the records on (:func:`meeting_key`).
CONSENT_KEY = "_consent_key"
# The browsers seen with several user ids: browser, users, and whether pairs are keyed there.
SHARED = "consent_shared_browsers"
# A user id seen with more browsers than this is no one person's: it links none of them. A
# person who clears cookies daily for two years has fewer.
MAX_LINKED_BROWSERS = 1000
# Nor one whose consent records, once under each of its browsers, would be more than this:
# 1,000 browsers and 100 records each, or 100 browsers and 1,000 records.
MAX_LINKED_RECORDS = 100_000


# Each (user id, browser) seen on an event that meets consent by its browser.
_SEEN = f"""
    SELECT DISTINCT user_key, anon_key AS browser FROM events
    WHERE {BROWSER_CONSENT} AND anon_key IS NOT NULL AND user_key <> anon_key"""


def pair_key(browser: str, user: str) -> str:
    """SQL of the key of a user id on a browser it shares with other user ids: the two ids
    joined by a control character no id holds (ids are trimmed text)."""
    return f"{browser} || chr(31) || {user}"


# Per user id with consent records and seen with a browser: its browsers and its records.
_LINK_SIZES = f"""
    SELECT user_key, count(*) AS browsers, any_value(records) AS records
    FROM ({_SEEN}) JOIN (SELECT user_key, count(*) AS records FROM consent GROUP BY ALL)
         USING (user_key)
    GROUP BY user_key"""


def _too_many(sizes: str) -> str:
    """SQL true for a row of :data:`_LINK_SIZES` (as ``sizes``) that links no browser."""
    return (
        f"({sizes}.browsers > {MAX_LINKED_BROWSERS} "
        f"OR {sizes}.browsers * {sizes}.records > {MAX_LINKED_RECORDS})"
    )


def _links_sql() -> str:
    """SQL of (user_key, key): each user id with consent records seen with a browser on an
    event that meets consent by its browser, and the key its records are copied under: the
    browser, or on a browser it shares the pair's key (none where the browser is shared by
    too many user ids to pair); unless the user id was seen with more than
    :data:`MAX_LINKED_BROWSERS` or its records under each would be more than
    :data:`MAX_LINKED_RECORDS`."""
    return f"""
        SELECT seen.user_key, CASE WHEN shared.browser IS NULL THEN seen.browser
                                   ELSE {pair_key("seen.browser", "seen.user_key")} END AS key
        FROM ({_SEEN}) seen
        JOIN ({_LINK_SIZES}) sizes ON sizes.user_key = seen.user_key
        LEFT JOIN {SHARED} shared ON shared.browser = seen.browser
        WHERE NOT {_too_many("sizes")} AND coalesce(shared.paired, TRUE)"""


def _pairs_sql() -> str:
    """SQL of (browser, key): each user id seen on a browser it shares, and the pair's key
    the browser's own records are copied under."""
    return f"""
        SELECT seen.browser, {pair_key("seen.browser", "seen.user_key")} AS key
        FROM ({_SEEN}) seen JOIN {SHARED} shared ON shared.browser = seen.browser
        WHERE shared.paired"""


def unlinked_notes(con: Any) -> list[str]:
    """Notes when user ids with consent records link none of their browsers: seen with more
    than :data:`MAX_LINKED_BROWSERS` browsers each, or with records that under each browser
    would be more than :data:`MAX_LINKED_RECORDS`; they count them, never name them."""
    if not by_browser(con):
        return []
    row = con.execute(f"""
        SELECT count(*) FILTER (browsers > {MAX_LINKED_BROWSERS}),
               max(browsers) FILTER (browsers > {MAX_LINKED_BROWSERS}),
               count(*) FILTER (browsers <= {MAX_LINKED_BROWSERS}),
               max(browsers * records) FILTER (browsers <= {MAX_LINKED_BROWSERS})
        FROM ({_LINK_SIZES}) sizes WHERE {_too_many("sizes")}
    """).fetchone()
    if not row:
        return []
    after = (
        "a shared or placeholder id, so its consent records apply to its events without a "
        "browser only, not to every browser it was seen with; if it is a placeholder, send no "
        "user id instead"
    )
    notes = []
    if row[0]:
        ids = "1 user id was" if row[0] == 1 else f"{row[0]:,} user ids were"
        notes.append(
            f"{ids} seen with more than {MAX_LINKED_BROWSERS:,} browsers each (up to "
            f"{row[1]:,}): {after}"
        )
    if row[2]:
        ids = "1 user id has" if row[2] == 1 else f"{row[2]:,} user ids have"
        notes.append(
            f"{ids} so many consent records and browsers that its records under each browser "
            f"would be more than {MAX_LINKED_RECORDS:,} (up to {row[3]:,}): {after}"
        )
    return notes


# The anonymous ids with consent records that are also user ids of events (a device 42
# beside a customer 42): made only where an event's anonymous id has records.
USER_IDS_TOO = "consent_anon_user_ids"


def _device_decided(marked: str, apart: bool = False) -> str:
    """SQL true for an event ``e`` of a logged-in user on a device whose own consent records
    are in the log (a CMP keyed by the cookie or device), not ``marked`` already. With
    ``apart``, an anonymous id of :data:`USER_IDS_TOO` keys no device: a record keyed by an
    id that is also another event's user id (ids of two kinds numbered alike) is that
    user's, as a consent file keys a row by its user id first."""
    also = f" AND e.anon_key NOT IN (SELECT key FROM {USER_IDS_TOO})" if apart else ""
    return f"""e.user_key IS NOT NULL AND e.anon_key IS NOT NULL
        AND e.user_key <> e.anon_key AND NOT {marked}
        AND e.anon_key IN (SELECT user_key FROM consent WHERE user_key IS NOT NULL){also}"""


def _devices(con: Any, marked: str) -> tuple[int, str]:
    """The events of a logged-in user on a device with consent records of its own, and the
    SQL telling them (:func:`_device_decided`). The check of ids that are user ids too runs
    only where there are any (it reads the events twice more)."""
    decided = _device_decided(marked)
    row = con.execute(f"SELECT count(*) FROM events e WHERE {decided}").fetchone()
    if not row or not row[0]:
        return 0, decided
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {USER_IDS_TOO} AS
        SELECT DISTINCT user_key AS key FROM events
        WHERE user_key IS DISTINCT FROM anon_key AND user_key IN (
            SELECT DISTINCT e.anon_key FROM events e WHERE {decided})""")
    decided = _device_decided(marked, apart=True)
    row = con.execute(f"SELECT count(*) FROM events e WHERE {decided}").fetchone()
    return (int(row[0]) if row else 0), decided


def mark_device_consent(con: Any) -> list[str]:
    """Let the events of a logged-in user meet the consent records of their anonymous id (a
    CMP keyed by the browser or device), as a Snowplow event meets its browser's: such an
    event is marked :data:`BROWSER_CONSENT`, so it meets the records of its anonymous id and,
    linked, those of its user id (:func:`linked_consent`). Where any event meets consent by
    its browser, each event's key is written into :data:`CONSENT_KEY` (:func:`_key_events`).
    Return notes counting the marked events and the shared browsers (none when there are
    none, and then ``events`` is not rewritten).

    Keyed by the user id alone, a visitor who denied ads on the banner and then logged in
    had every later event "without a consent decision", its gclid no violation. On DuckDB
    only: the Spark engine reads no input that meets consent by its browser.
    """
    if getattr(con, "engine_name", "duckdb") != "duckdb":
        return []
    has_mark = by_browser(con)
    marked = f"coalesce(e.{BROWSER_CONSENT}, FALSE)" if has_mark else "FALSE"
    devices, decided = _devices(con, marked)
    if not has_mark and not devices:
        return []
    notes = []
    if devices:
        notes.append(
            f"{devices:,} events carry a user id and an anonymous id that has consent records "
            "of its own (a consent log keyed by the browser or device): each meets the "
            "decisions of both ids, the latest one in force"
        )
    return notes + _key_events(con, f"({marked} OR ({decided}))" if devices else marked, marked)


def _key_events(con: Any, mark: str, snowplow: str) -> list[str]:
    """Rewrite ``events`` with :data:`BROWSER_CONSENT` (``mark``, SQL of an event ``e``) and
    :data:`CONSENT_KEY`, after finding the browsers seen with several user ids (table
    :data:`SHARED`); return a note counting them. A browser with more user ids than
    :data:`MAX_LINKED_BROWSERS`, or whose records under each would be more than
    :data:`MAX_LINKED_RECORDS`, is not paired: it is a shared or placeholder id (a zeroed
    advertising id), so there each user's events meet that user's own records only, as
    where no event meets consent by its browser, and its events without a user id its own.
    Snowplow's events (``snowplow``, SQL true for one) meet the browser's records still, as
    dbt-snowplow-web keeps one state per browser, whoever's events."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {SHARED} AS
        WITH seen AS (
            SELECT DISTINCT user_key, anon_key AS browser FROM events e
            WHERE {mark} AND anon_key IS NOT NULL AND user_key <> anon_key
        ), records AS (SELECT user_key AS browser, count(*) AS n FROM consent GROUP BY ALL)
        SELECT browser, count(*) AS users,
               count(*) <= {MAX_LINKED_BROWSERS}
               AND count(*) * coalesce(any_value(records.n), 0) <= {MAX_LINKED_RECORDS} AS paired
        FROM seen LEFT JOIN records USING (browser)
        GROUP BY browser HAVING count(*) > 1""")
    logged_in = "e.user_key IS NOT NULL AND e.user_key <> e.anon_key"
    key = f"""CASE WHEN NOT {mark} THEN e.user_key
        WHEN {SHARED}.paired AND {logged_in} THEN {pair_key("e.anon_key", "e.user_key")}
        WHEN NOT {SHARED}.paired AND {logged_in} AND NOT {snowplow} THEN e.user_key
        ELSE coalesce(e.anon_key, e.user_key) END"""
    columns = {r[0] for r in con.execute("DESCRIBE events").fetchall()}
    items = f"{mark} AS {BROWSER_CONSENT}, {key} AS {CONSENT_KEY}"
    replaced = [c for c in (BROWSER_CONSENT, CONSENT_KEY) if c in columns]
    select = f"e.* EXCLUDE ({', '.join(replaced)})" if replaced else "e.*"
    con.execute(f"""
        CREATE OR REPLACE TABLE events AS SELECT {select}, {items}
        FROM events e LEFT JOIN {SHARED} ON {SHARED}.browser = e.anon_key""")
    row = con.execute(f"SELECT count(*), count_if(NOT paired) FROM {SHARED}").fetchone()
    shared, unpaired = (int(v or 0) for v in row or (0, 0))
    if not shared:
        return []
    browsers = "1 browser or device was" if shared == 1 else f"{shared:,} browsers or devices were"
    note = (
        f"{browsers} seen with several user ids (shared): there each user's events meet the "
        "device's decisions and that user's own, and the events without a user id the "
        "device's only"
    )
    if unpaired:
        note += (
            f"; {unpaired:,} of them had so many user ids or records that there each user's "
            "events meet that user's own decisions only (the device's, a shared or "
            "placeholder id's, not)"
        )
    return [note]


def by_browser(con: Any) -> bool:
    """True when some events of ``events`` meet consent by their browser (a Snowplow input)."""
    return any(r[0] == BROWSER_CONSENT for r in con.execute("DESCRIBE events").fetchall())


def meeting_key(alias: str, browser: bool) -> str:
    """SQL of the key by which the event ``alias`` meets the consent records (see
    :func:`linked_consent`); ``browser`` is :func:`by_browser` of the scan."""
    if not browser:
        return f"{alias}.user_key"
    return f"{alias}.{CONSENT_KEY}"


def linked_consent(browser: bool) -> str:
    """The table expression (to follow FROM) of the consent records each under every key that
    meets it: its own ``user_key``; when that is a user id seen with a browser on an event
    that meets consent by its browser, that browser's, or on a shared browser the pair's;
    and when it is a shared browser, each of its pairs' (the record again, ``user_key``
    replaced). ``consent`` itself without ``browser``."""
    if not browser:
        return "consent"
    return f"""(
        SELECT * FROM consent
        UNION ALL
        SELECT c.* REPLACE (links.key AS user_key)
        FROM consent c JOIN ({_links_sql()}) links ON links.user_key = c.user_key
        UNION ALL
        SELECT c.* REPLACE (pairs.key AS user_key)
        FROM consent c JOIN ({_pairs_sql()}) pairs ON pairs.browser = c.user_key
    ) AS linked_consent"""


def unmet_log_notes(con: Any, min_group: int) -> list[str]:
    """A note when consent records are keyed by users, yet none is the user (or, for
    Snowplow, the browser) of any event: the log and the events name users by different
    ids, and every check then reads every event's consent as unknown. It counts the log's
    keys only when at least ``min_group``; records from the events themselves always meet,
    so the note tells a consent file that meets nothing."""
    browser = by_browser(con)
    row = con.execute(f"""
        SELECT (SELECT count(DISTINCT user_key) FROM consent),
               (SELECT count(*) FROM {linked_consent(browser)}
                WHERE user_key IN (SELECT {meeting_key("e", browser)} FROM events e))
    """).fetchone()
    keys, met = (int(v or 0) for v in row or (0, 0))
    if not keys or met:
        return []
    counted = f"the {keys:,} users" if keys >= min_group else "the users"
    return [
        f"no consent record meets an event: none of {counted} in the consent records is the "
        "user of any event (the "
        "user id, else the anonymous id; for Snowplow the browser), so every event's consent "
        "is unknown; check that the consent log and the events name users by the same id "
        "(map the log's columns with [consent] columns)"
    ]
