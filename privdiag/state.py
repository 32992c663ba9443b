"""Each event's consent state per purpose at the event's time: granted, denied or unknown.

The state comes from the event's own flag when it carries one, else from the consent log as
of the event's time: the last decision at or before the event wins, and a decision at the
same instant as the event counts. See :func:`resolve` for how.
"""

from __future__ import annotations

import re
from typing import Any

from privdiag.checks.context import present_sql
from privdiag.consent_keys import CONSENT_KEY, by_browser, linked_consent, meeting_key
from privdiag.engine import STATE_TYPE, one, planned_wide, quote
from privdiag.purposes import PURPOSES

# What resolve() adds per purpose P, as columns named KIND_P.
STATE_KINDS = ("state", "log", "withdrawn", "first", "last_decision")
STATE_COLUMNS = tuple(f"{k}_{p}" for p in PURPOSES for k in STATE_KINDS)


def active_purposes(con: Any) -> list[str]:
    """Return the purposes with any signal: a consent record or an event flag."""
    logged = {r[0] for r in con.execute("SELECT DISTINCT purpose FROM consent").fetchall()}
    flags = ", ".join(f"count(consent_{p}) AS {p}" for p in PURPOSES)
    counts = one(con, f"SELECT {flags} FROM events")
    flagged = {p for p, n in zip(PURPOSES, counts or (), strict=True) if n}
    return [p for p in PURPOSES if p in logged or p in flagged]


# A consent record's kind, packed with its time into one BIGINT so that a single
# last_value() per purpose carries the log's state, whether it is a withdrawal, and when it
# was decided: epoch microseconds * 4 + kind. At one instant a denial packs larger than a
# grant, so that the denial wins, whether or not it withdraws an earlier grant.
GRANTED, DENIED, WITHDRAWN = 0, 1, 2

# Bounds of the consent spans: before and after every time a scan accepts (2000 to two
# days ahead), written as literals every engine reads.
EARLIEST_SPAN = "TIMESTAMPTZ '1970-01-01 00:00:00+00'"
LATEST_SPAN = "TIMESTAMPTZ '2999-12-31 00:00:00+00'"
# A user with more consent spans than this finds them by a sorted window, not the hash join
# (whose work grows with the user's events times their spans).
MAX_JOINED_SPANS = 32

# The event column marking a time that is a date without a time of day (TRUE), read as
# midnight UTC: an input without such times has no such column. The date's day, in whatever
# time zone the export kept it (UTC-12 to UTC+14), runs from 14 hours before that midnight
# to 36 hours after it; an event dated on it is judged against its user's consent only where
# the log's state (granted, denied, none yet) held that whole while.
DAY_ONLY = "_day_only"
DAY_STARTS = "INTERVAL 14 HOUR"  # before the date's midnight UTC
DAY_ENDS = "INTERVAL 36 HOUR"  # after it
# The column of scan_events giving, per purpose (a bit each, in the order resolve() got
# them), that the event's date fell on such a change: the log gives it no state.
UNDETERMINED = "_undetermined"
# The same column name in ``consent`` marks a decision time that is a date without a time of
# day, read as midnight UTC (a log without such times has no such column): the decision was
# made at some instant of that day in the log's time zone, from 14 hours before that midnight
# to 36 hours after it, in microseconds.
DAY_STARTS_US = 14 * 3600 * 1_000_000
DAY_ENDS_US = 36 * 3600 * 1_000_000


def _records_sql(browser: bool = False, dated_log: bool = False) -> str:
    """Consent records with their kind: a denial after an earlier instant whose records all
    grant (the purpose was granted then) is a withdrawal. A grant and a denial at one instant
    (two categories of one purpose answered at once, such as OneTrust's C0004 and C0005 for
    ads) grant nothing, as the denial wins: neither they nor a later denial withdraw
    anything, however often the same split answer is saved again. The windows run over the
    consent log only, which is small beside the events. With ``browser`` the "user" is the
    key the records meet the events on, a record of a user id also under each browser the
    user id was seen with (:func:`privdiag.consent_keys.linked_consent`).

    With ``dated_log`` (the log has decisions dated without a time of day), a grant dated so
    was the purpose granted at some instant of its day, whatever else that date holds: a
    denial of the same date may have come before it or after it, and a denial of a later
    instant withdraws it either way.
    """
    dated = f" OR (granted AND coalesce({DAY_ONLY}, FALSE))" if dated_log else ""
    return f"""
        SELECT *, epoch_us(ts) * 4 + CASE
            WHEN granted THEN {GRANTED}
            WHEN min(CASE WHEN held THEN ts END) OVER (PARTITION BY user_key, purpose) < ts
            THEN {WITHDRAWN}
            ELSE {DENIED} END AS packed
        FROM (
            SELECT *, min(CASE WHEN granted THEN 1 ELSE 0 END)
                      OVER (PARTITION BY user_key, purpose, ts) = 1{dated} AS held
            FROM {linked_consent(browser)}
        )
    """


def _decided_sql(browser: bool = False) -> str:
    """SQL of the consent records (:func:`_records_sql`) of a log with decisions dated without
    a time of day (:data:`DAY_ONLY`), each with, in epoch microseconds, ``lo`` and ``hi``: the
    first and last instant it may have been made at (its time; a dated one's date runs, in
    some time zone, from :data:`DAY_STARTS_US` before its midnight UTC to :data:`DAY_ENDS_US`
    after it), and ``beaten``: from when another record of its user and purpose was surely
    made after it (the least ``hi`` of those whose ``lo`` is past its ``hi``), so that it is
    no longer the last (:data:`LATEST_SPAN` when none is). From its ``lo`` until then it may be
    the purpose's last decision. A grant at the instant of a denial, both with a time, is
    never the last, the denial winning the instant: its three are NULL. The windows run over
    the consent log only, small beside the events."""

    def first(kind: str, past: int) -> str:  # the first record of a kind ``past`` after
        return (
            f"min(CASE WHEN kept AND {kind} THEN us END) OVER (PARTITION BY user_key, purpose "
            f"ORDER BY us RANGE BETWEEN {past + 1} FOLLOWING AND UNBOUNDED FOLLOWING)"
        )

    return f"""
        SELECT *,
            CASE WHEN kept THEN us - CASE WHEN dated THEN {DAY_STARTS_US} ELSE 0 END END AS lo,
            CASE WHEN kept THEN us + CASE WHEN dated THEN {DAY_ENDS_US} ELSE 0 END END AS hi,
            CASE WHEN kept THEN coalesce(CASE
                WHEN dated THEN least(timed_after_day, dated_after_day + {DAY_ENDS_US})
                ELSE least(timed_after, dated_after + {DAY_ENDS_US}) END,
                epoch_us({LATEST_SPAN})) END AS beaten
        FROM (
            SELECT *, {first("NOT dated", 0)} AS timed_after,
                   {first("NOT dated", DAY_ENDS_US)} AS timed_after_day,
                   {first("dated", DAY_STARTS_US)} AS dated_after,
                   {first("dated", DAY_STARTS_US + DAY_ENDS_US)} AS dated_after_day
            FROM (
                SELECT *, dated OR NOT granted OR NOT coalesce(max(
                    CASE WHEN NOT granted AND NOT dated THEN 1 END
                ) OVER (PARTITION BY user_key, purpose, ts) = 1, FALSE) AS kept
                FROM (SELECT *, epoch_us(ts) AS us, coalesce({DAY_ONLY}, FALSE) AS dated
                      FROM ({_records_sql(browser, dated_log=True)}))
            )
        )
    """


def _dated_spans(purposes: list[str]) -> tuple[str, str, str, str]:
    """What :func:`_spans_sql` adds for a log with dated decisions (:func:`_decided_sql`):
    the records' columns per purpose P, the spans' windows over them, the spans' names of
    those, and the first span's. Per span: ``beaten_g_P`` and ``beaten_d_P``, until when a
    grant or denial of P made at or before the span's start may be the last decision;
    ``next_g_P`` and ``next_d_P``, the first instant a grant or denial made after it may have
    been made at; ``decided_P``, from when P has surely been decided; ``split_P``, that a
    grant of P at the span's start is beaten only by its denial at the same midnight;
    ``dated_at_P``, the midnight of the last dated decision of P at or before its start (the
    decision in force is dated when it is of that instant, :func:`_said_sql`)."""
    records = ", ".join(
        f"CASE WHEN purpose = '{p}' AND granted THEN beaten END AS bg_{p}, "
        f"CASE WHEN purpose = '{p}' AND NOT granted THEN beaten END AS bd_{p}, "
        f"CASE WHEN purpose = '{p}' AND granted THEN lo END AS lg_{p}, "
        f"CASE WHEN purpose = '{p}' AND NOT granted THEN lo END AS ld_{p}, "
        f"CASE WHEN purpose = '{p}' THEN hi END AS hi_{p}, "
        f"CASE WHEN purpose = '{p}' AND dated THEN us END AS du_{p}"
        for p in purposes
    )
    carried = ", ".join(
        f"max(bg_{p}) OVER upto AS beaten_g_{p}, max(bd_{p}) OVER upto AS beaten_d_{p}, "
        f"min(lg_{p}) OVER later AS next_g_{p}, min(ld_{p}) OVER later AS next_d_{p}, "
        f"min(hi_{p}) OVER whole AS decided_{p}, "
        f"count(lg_{p}) OVER (PARTITION BY user_key, ts) > 0 AS split_{p}, "
        f"max(du_{p}) OVER upto AS dated_at_{p}"
        for p in purposes
    )
    kept = ", ".join(
        f"beaten_g_{p}, beaten_d_{p}, next_g_{p}, next_d_{p}, decided_{p}, split_{p}, dated_at_{p}"
        for p in purposes
    )
    before = ", ".join(
        f"NULL::BIGINT AS beaten_g_{p}, NULL::BIGINT AS beaten_d_{p}, min(lg_{p}) AS next_g_{p}, "
        f"min(ld_{p}) AS next_d_{p}, min(hi_{p}) AS decided_{p}, FALSE AS split_{p}, "
        f"NULL::BIGINT AS dated_at_{p}"
        for p in purposes
    )
    return records, carried, kept, before


def _spans_sql(purposes: list[str], browser: bool = False, dated_log: bool = False) -> str:
    """SQL of each user's consent spans: from each instant the user's consent log changes to
    the next, the log's packed last record and first decision time per purpose.

    With ``dated_log`` (the log has decisions dated without a time of day), the spans carry
    besides how long each decision may be the last (:func:`_dated_spans`), and a first
    decision dated so is the first instant of its day (its ``lo``): an event surely before it
    leads it by at least that much, as :func:`_said_sql` measures the time since one from
    its last instant.

    A span starts at the instant of one or more records and holds once they all count (a
    grant sorts before a denial at one instant, so the denial wins). Each user also has a
    span from :data:`EARLIEST_SPAN` to the first record, with no record yet but the first
    decision times, so that every event of a user with records lies in exactly one span.
    ``span_no`` numbers the user's spans from 1 in time order; ``spans`` counts them.
    """
    at = "CAST(make_timestamp(lo) AS TIMESTAMPTZ)" if dated_log else "ts"
    records = ", ".join(
        f"CASE WHEN purpose = '{p}' THEN packed END AS rec_{p}, "
        f"CASE WHEN purpose = '{p}' THEN {at} END AS at_{p}"
        for p in purposes
    )
    # RANGE, not ROWS: the frame of a row holds every record at its instant that sorts with
    # it, so the row kept per instant (a denial when there is one) sees them all.
    # The last record is the largest packed one: a later instant packs larger whatever the
    # kinds (they differ by less than 4), and at one instant a denial (1) or withdrawal (2)
    # packs larger than the grant (0). max() runs in one pass, where
    # last_value(... IGNORE NULLS) scans back from each row to the purpose's last record
    # (one user with 800k records of one purpose after one of another: 2.6 s against 0.5 s).
    carried = ", ".join(
        f"max(rec_{p}) OVER upto AS last_{p}, min(at_{p}) OVER whole AS first_{p}" for p in purposes
    )
    kept = ", ".join(f"last_{p}, first_{p}" for p in purposes)
    before = ", ".join(f"NULL::BIGINT AS last_{p}, min(at_{p}) AS first_{p}" for p in purposes)
    source, later = _records_sql(browser), ""
    if dated_log:
        extra = _dated_spans(purposes)
        records, carried, kept, before = (
            f"{a}, {b}" for a, b in zip((records, carried, kept, before), extra, strict=True)
        )
        source = _decided_sql(browser)
        records += ", us"
        later = (
            ",\n                       later AS (PARTITION BY user_key ORDER BY us "
            "RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"
        )
    return f"""
        WITH records AS (
            SELECT user_key, ts, NOT granted AS tie, {records}
            FROM ({source}) WHERE user_key IS NOT NULL AND ts IS NOT NULL
        ), changes AS (
            SELECT user_key, ts AS start, {kept} FROM (
                SELECT user_key, ts, {carried},
                       row_number() OVER (PARTITION BY user_key, ts ORDER BY tie DESC) AS nth
                FROM records
                WINDOW upto AS (PARTITION BY user_key ORDER BY ts, tie
                                RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
                       whole AS (PARTITION BY user_key){later}
            ) WHERE nth = 1
            UNION ALL
            SELECT user_key, {EARLIEST_SPAN} AS start, {before} FROM records GROUP BY user_key
        )
        SELECT *, coalesce(lead(start) OVER per_user, {LATEST_SPAN}) AS stop,
               row_number() OVER per_user AS span_no,
               count(*) OVER (PARTITION BY user_key) AS spans
        FROM changes WINDOW per_user AS (PARTITION BY user_key ORDER BY start)
    """


def _held_sql(purposes: list[str], spans: str, dated_log: bool = False) -> str:
    """SQL of the consent ``spans`` (:func:`_spans_sql`) with, per purpose P, ``since_P``
    and ``until_P``: from when to when the log's state of P (granted, denied, or no decision
    yet) holds unchanged around each span, the bounds of the run of spans it holds in. A
    denial after a denial, or a decision of another purpose, changes nothing there. The
    spans are the consent log's, small beside the events.

    With ``dated_log`` (spans of :func:`_spans_sql` with dated decisions), a grant beaten
    only by a denial at its own midnight starts a run of its own, and the spans carry
    ``sure_since_P`` and ``sure_until_P`` besides (:func:`_sure_sql`)."""
    state = {
        p: f"CASE WHEN last_{p} IS NULL THEN 0 WHEN (((last_{p} % 4) + 4) % 4) = {GRANTED} "
        "THEN 1 ELSE 2 END"
        for p in purposes
    }
    split = {p: f" OR (split_{p} AND {state[p]} = 2)" if dated_log else "" for p in purposes}
    changed = ", ".join(
        f"CASE WHEN {state[p]} IS DISTINCT FROM lag({state[p]}) OVER per_user{split[p]} "
        f"THEN 1 ELSE 0 END AS changed_{p}"
        for p in purposes
    )
    runs = ", ".join(
        f"sum(changed_{p}) OVER (PARTITION BY user_key ORDER BY start "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_{p}"
        for p in purposes
    )
    bounds = ", ".join(
        f"min(start) OVER (PARTITION BY user_key, run_{p}) AS since_{p}, "
        f"max(stop) OVER (PARTITION BY user_key, run_{p}) AS until_{p}"
        for p in purposes
    )
    held = f"""
        SELECT *, {bounds} FROM (
            SELECT *, {runs} FROM (
                SELECT *, {changed} FROM ({spans})
                WINDOW per_user AS (PARTITION BY user_key ORDER BY start)))
    """
    return _sure_sql(purposes, held, state) if dated_log else held


def _sure_sql(purposes: list[str], held: str, state: dict[str, str]) -> str:
    """SQL of the spans ``held`` (:func:`_held_sql` of a log with dated decisions) with, per
    purpose P, ``sure_since_P`` and ``sure_until_P``: within the run of the span's state
    (``since_P`` to ``until_P``, the state SQL ``state[P]``: 0 none, 1 granted, 2 denied), the
    while in which no decision of another state may be the last one. Before it, a decision
    of another state made earlier (or no decision yet) may still be the last, as a dated
    decision may have been made late on its day; from its end, one made later may already
    have been made. (Every decision of another state is outside the run: a grant beside a
    denial at its midnight starts a run of its own.)"""

    def at(us: str) -> str:
        return f"CAST(make_timestamp({us}) AS TIMESTAMPTZ)"

    items = []
    for p in purposes:
        # granted (1): a denial, or no decision yet, may still be the last; denied (2): a grant
        earlier = (
            f"CASE {state[p]} WHEN 1 THEN greatest(beaten_d_{p}, decided_{p}) "
            f"WHEN 2 THEN greatest(beaten_g_{p}, decided_{p}) END"
        )
        later = (
            f"CASE {state[p]} WHEN 0 THEN least(next_g_{p}, next_d_{p}) "
            f"WHEN 1 THEN next_d_{p} ELSE next_g_{p} END"
        )
        items.append(f"greatest(since_{p}, {at(earlier)}) AS sure_since_{p}")
        items.append(f"least(until_{p}, {at(later)}) AS sure_until_{p}")
    sure = ", ".join(items)
    return f"SELECT *, {sure} FROM ({held})"


def _heavy_sql(key: str = "e.user_key") -> str:
    """SQL numbering the span of each event of a user with more than
    :data:`MAX_JOINED_SPANS` spans: one window over the time-sorted union of those users'
    spans and events counts the spans that start at or before each event (a span at the
    event's instant counts, as spans sort first). Gives the event's rowid as ``_row``, its
    ``user_key`` (its meeting ``key``, SQL of ``e``) and the ``span_no`` to join its span by.

    A running count, not ``last_value(... IGNORE NULLS)`` of the span's columns: on one user
    with 2M events and 400 spans the count took 0.4 s, the last values 14 s.
    """
    heavy = f"spans > {MAX_JOINED_SPANS}"
    return f"""
        SELECT _row, user_key, span_no FROM (
            SELECT _row, user_key, ord, sum(1 - ord) OVER (
                PARTITION BY user_key ORDER BY ts, ord
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS span_no
            FROM (
                SELECT user_key, start AS ts, 0 AS ord, NULL::BIGINT AS _row
                FROM consent_spans WHERE {heavy}
                UNION ALL
                SELECT {key} AS user_key, e.ts, 1 AS ord, e.rowid AS _row
                FROM events e JOIN (SELECT DISTINCT user_key FROM consent_spans
                                    WHERE {heavy}) h ON h.user_key = {key}
            )
        ) WHERE ord = 1
    """


def _state(name: str) -> str:
    """A consent state as a constant of its enum type, which DuckDB casts once per
    statement; a CASE of text cast as a whole casts it again for each of 10M events."""
    return f"CAST('{name}' AS {STATE_TYPE})"


def _said_sql(purposes: list[str], spans: str, dated_log: bool = False) -> str:
    """SQL of the consent ``spans`` with, per purpose P, what the log says there: ``log_P``
    (granted TRUE, denied FALSE, none yet NULL), ``withdrawn_P``, ``said_at_P`` (the time of
    the record in force) and ``from_log_P`` (the log's state, NULL where none). Worked out
    once per span, not for each of the many events that meet it (10M bench events: 1.6 of
    11 CPU-s of the join).

    With ``dated_log``, a record in force dated without a time of day (``dated_at_P``,
    :func:`_dated_spans`) was said at the last instant of its day (:data:`DAY_ENDS_US` after
    its midnight UTC), so that an event after a withdrawal dated so is beyond the grace window
    only when it surely is, as events on that day are judged neither way."""
    parts = []
    for p in purposes:
        last = f"last_{p}"
        kind = f"((({last} % 4) + 4) % 4)"
        said = f"(({last} - {kind}) // 4)"
        if dated_log:
            said = f"(CASE WHEN {said} = dated_at_{p} THEN {said} + {DAY_ENDS_US} ELSE {said} END)"
        parts.append(
            f"({kind} = {GRANTED}) AS log_{p}, coalesce({kind} = {WITHDRAWN}, FALSE) AS "
            f"withdrawn_{p}, CAST(make_timestamp({said}) AS TIMESTAMPTZ) "
            f"AS said_at_{p}, CASE WHEN {kind} = {GRANTED} THEN {_state('granted')} "
            f"WHEN {kind} IS NOT NULL THEN {_state('denied')} END AS from_log_{p}"
        )
    return f"SELECT *, {', '.join(parts)} FROM ({spans})"


def _state_sql(p: str, flag: str, log: str) -> str:
    """``state_P``: the event's own ``flag`` where it has one, else ``log``, the log's
    state (:func:`_said_sql`'s ``from_log_P``), else unknown."""
    return f"""CASE WHEN {flag} THEN {_state("granted")} WHEN NOT {flag} THEN {_state("denied")}
                    ELSE coalesce({log}, {_state("unknown")}) END AS state_{p}"""


def _undetermined_sql(p: str, span: str, dated: bool = True, dated_log: bool = False) -> str:
    """SQL true for an event ``e`` dated without a time of day (:data:`DAY_ONLY`, with
    ``dated``) whose user's log of purpose ``p`` changes state within the date's day in some
    time zone: the event may be before the change or after it. Its span ``span`` carries the
    bounds of the state around it (:func:`_held_sql`). With ``dated_log`` (the log has
    decisions dated without a time of day) the bounds are those of the while the state is
    sure (:func:`_sure_sql`), and an event with a time is one too when it falls outside
    them: on the day of such a decision, which it may be before or after."""
    since, until = (f"{span}.{k}_{p}" for k in ("since", "until"))
    if dated_log:
        since, until = (f"{span}.sure_{k}_{p}" for k in ("since", "until"))
    day = f"{since} <= e.ts - {DAY_STARTS} AND {until} >= e.ts + {DAY_ENDS}"
    if not dated_log:
        return f"coalesce(e.{DAY_ONLY} AND NOT ({day}), FALSE)"
    now = f"{since} <= e.ts AND e.ts < {until}"
    held = f"CASE WHEN e.{DAY_ONLY} THEN {day} ELSE {now} END" if dated else now
    return f"coalesce(NOT ({held}), FALSE)"


def _states_sql(
    purposes: list[str], span: str, dated: bool = False, dated_log: bool = False
) -> str:
    """The state columns of an event ``e`` whose consent span is ``span``. With ``dated``
    (the events have :data:`DAY_ONLY`), an event whose date its user's log cannot be ordered
    against (:func:`_undetermined_sql`) takes no state from the log, no first decision (so it
    is no pre-consent event) and no withdrawal, and is marked in :data:`UNDETERMINED`; its
    own flag still gives its state (denied: a violation, whether or not the log had been
    withdrawn by then). With ``dated_log`` (decisions dated without a time of day) so is an
    event that falls on such a decision's day (:func:`_undetermined_sql`)."""
    unsure = dated or dated_log
    parts = []
    for p in purposes:
        log, state = f"{span}.log_{p}", f"{span}.from_log_{p}"
        first, withdrawn = f"{span}.first_{p}", f"{span}.withdrawn_{p}"
        if unsure:
            undetermined = _undetermined_sql(p, span, dated, dated_log)
            log, state, first = (
                f"(CASE WHEN {undetermined} THEN NULL ELSE {c} END)" for c in (log, state, first)
            )
            withdrawn = f"(NOT {undetermined} AND {withdrawn})"
        parts.append(f"""{_state_sql(p, f"e.consent_{p}", state)},
            {log} AS log_{p}, coalesce({withdrawn}, FALSE) AS withdrawn_{p},
            {first} AS first_{p}, {span}.said_at_{p} AS last_decision_{p}""")
    if unsure:
        bits = " + ".join(
            f"CASE WHEN {_undetermined_sql(p, span, dated, dated_log)} THEN {1 << n} ELSE 0 END"
            for n, p in enumerate(purposes)
        )
        parts.append(f"{bits} AS {UNDETERMINED}")
    return ",\n".join(parts)


def _event_columns(con: Any) -> list[str]:
    """The select items that carry the columns of ``events e`` into ``scan_events``: each
    as it is, but a feature as its presence, TRUE or NULL (:func:`present_sql` of the
    feature's type before, ``IS NOT NULL`` after).

    The checks only ask whether a feature is present. Its text (page URLs, click ids) would
    be written a second time and then read and tested by every check; a 10M-event scan
    peaks about 0.5 GB lower without it.
    """
    from privdiag.mapping import feature_columns  # it imports ingest, which imports this

    features = feature_columns(con)
    columns = [r[0] for r in con.execute("DESCRIBE events").fetchall()]
    return [
        f"CASE WHEN {present_sql(c, features[c], of='e')} THEN TRUE END AS {quote(c)}"
        if c in features
        else f"e.{quote(c)}"
        for c in columns
    ]


def resolve(con: Any, purposes: list[str]) -> None:
    """Create table ``scan_events``: every event with, per purpose, its state and history.

    Columns per purpose P (:data:`STATE_COLUMNS`): ``state_P`` (granted/denied/unknown),
    ``log_P`` (the log's state or NULL), ``withdrawn_P`` (denied after an earlier grant),
    ``first_P`` (the user's first decision time for P, also when it comes after the event)
    and ``last_decision_P``.

    The user of an event is here the key it meets the consent log on
    (:mod:`privdiag.consent_keys`): its ``user_key``, or a Snowplow event's browser.

    The consent log, small beside the events, is first cut into spans per user (between two
    instants its state does not change); each event then finds its span by a hash join on
    the user and a range on the time, which streams the events with all their columns and
    needs no sort of them. A user with many spans would make that join quadratic (every
    event of the user meets every span), so the few users with more than
    :data:`MAX_JOINED_SPANS` find theirs by one sorted window over their own events and
    spans instead. ``events`` becomes a view of the event columns, and the copy it was is
    dropped to free its memory; from then on its features hold their presence only
    (:func:`_event_columns`).

    Where an input's times are dates without a time of day (:data:`DAY_ONLY`), the spans
    also carry how long their state holds (:func:`_held_sql`), and an event dated on a day
    its user's state changed takes none from the log (:func:`_states_sql`); the SQL of an
    input with times is as it was.
    """
    if not purposes:  # no state to add: the checks read the events as they are
        con.execute("CREATE VIEW scan_events AS SELECT * FROM events")
        return
    browser = by_browser(con)
    key = meeting_key("e", browser)
    items = _event_columns(con)
    dated = f"e.{quote(DAY_ONLY)}" in items
    dated_log = dated_decisions(con)
    spans = _said_sql(purposes, _spans_sql(purposes, browser, dated_log), dated_log)
    if dated or dated_log:
        spans = _held_sql(purposes, spans, dated_log)
    con.execute(f"CREATE TEMP TABLE consent_spans AS {spans}")
    heavy = one(con, f"SELECT count(*) FROM consent_spans WHERE spans > {MAX_JOINED_SPANS}")
    columns = ", ".join(items)
    joined = f"""
        SELECT {columns}, {_states_sql(purposes, "s", dated, dated_log)} FROM events e
        LEFT JOIN consent_spans s ON s.user_key = {key} AND e.ts >= s.start
                                  AND e.ts < s.stop AND s.spans <= {MAX_JOINED_SPANS}"""
    if heavy and heavy[0]:
        joined += f"""
        WHERE NOT coalesce({key} IN (SELECT user_key FROM consent_spans
                                          WHERE spans > {MAX_JOINED_SPANS}), FALSE)
        UNION ALL
        SELECT {columns}, {_states_sql(purposes, "s", dated, dated_log)} FROM events e
        JOIN ({_heavy_sql(key)}) h ON h._row = e.rowid
        JOIN consent_spans s ON s.user_key = h.user_key AND s.span_no = h.span_no"""
    with planned_wide(con, len(items)):
        con.execute(f"CREATE TABLE scan_events AS {joined}")
    con.execute("DROP TABLE consent_spans")
    state_columns = ", ".join(
        [f"{k}_{p}" for p in purposes for k in STATE_KINDS]
        + ([UNDETERMINED] if dated or dated_log else [])
    )
    con.execute("DROP TABLE events")
    con.execute(f"CREATE VIEW events AS SELECT * EXCLUDE ({state_columns}) FROM scan_events")


def dated_decisions(con: Any) -> bool:
    """Whether the consent log has decisions dated without a time of day: its table then has
    the column :data:`DAY_ONLY` (privdiag.ingest.tables.build_consent)."""
    return DAY_ONLY in {r[0] for r in con.execute("DESCRIBE consent").fetchall()}


def undetermined_notes(con: Any, purposes: list[str], k: int = 1) -> list[str]:
    """The note on the events dated without a time of day, or on the day of a decision dated
    so, that :func:`resolve` gave no state from the log (:data:`UNDETERMINED`), per purpose;
    none when there are none. A count of events of 1 to ``k`` - 1 users is not given: it
    tells that so few persons changed their consent on the days of their events (one user's
    events of that day are counted); nor is the total while a purpose's count is hidden, as
    the total less the purposes shown would bound it."""
    columns = {r[0] for r in con.execute("DESCRIBE scan_events").fetchall()}
    if not purposes or UNDETERMINED not in columns:
        return []
    user = f"coalesce({CONSENT_KEY}, user_key)" if CONSENT_KEY in columns else "user_key"
    bits = [f"{UNDETERMINED} // {1 << n} % 2 = 1" for n in range(len(purposes))]
    counts = ", ".join(
        f"count_if({b}), count(DISTINCT CASE WHEN {b} THEN {user} END)" for b in bits
    )
    row = one(
        con,
        f"SELECT count_if({UNDETERMINED} > 0), "
        f"count(DISTINCT CASE WHEN {UNDETERMINED} > 0 THEN {user} END), {counts} "
        "FROM scan_events",
    )
    if not row or not row[0]:
        return []
    pairs = list(zip(row[2::2], row[3::2], strict=True))
    few = f"events of fewer than {k} users"
    each = ", ".join(
        f"{p}: {int(n):,}" if users >= k else f"{p}: {few}"
        for p, (n, users) in zip(purposes, pairs, strict=True)
        if n
    )
    shown = row[1] >= k and all(users >= k for n, users in pairs if n)
    total = f"{int(row[0]):,} event(s)" if shown else "Some events"
    # what the events are: dated themselves, on the day of a dated decision, or either
    which = "dated without a time of day fall on a day (in some time zone) on which"
    if dated_decisions(con):
        which = (
            "dated without a time of day, or on the day (in some time zone) of a consent "
            "decision dated so, fall where"
            if DAY_ONLY in columns
            else "fall on the day (in some time zone) of a consent decision dated without a "
            "time of day, or after it but before a later decision surely follows it, where"
        )
    return [
        f"{total} {which} their user's consent changed ({each}): they may "
        "be before the change or after it, so the consent log gives them no state and they "
        "are left out of consent.violation, consent.pre_consent, consent.after_withdrawal and "
        "consent.conflict (an event's own consent flag still gives its state); give the times "
        "of day to judge them"
    ]


#: The note of :func:`undetermined_notes`: its count of events and those per purpose.
_UNDETERMINED_NOTE = re.compile(
    r"^(?:[\d,]+ event\(s\)|Some events)( .*? their user's consent changed )\(([^)]*)\)"
)


def uncounted_undetermined(note: str) -> str:
    """The note of :func:`undetermined_notes` without its counts ("Some events ... (ads)"),
    any other note as it is: a result made with a smaller ``min_group_size`` counted the
    events of fewer users than a report's, which the note does not say."""
    found = _UNDETERMINED_NOTE.match(note)
    if not found:
        return note
    purposes = ", ".join(part.split(":")[0] for part in found[2].split(", "))
    return f"Some events{found[1]}({purposes}){note[found.end() :]}"
