"""Segment and RudderStack messages (NDJSON, JSON arrays, gzip), bare or wrapped.

Every payload is read as one JSON value with ``read_json_objects``; a payload whose ``event``
member is an object (log archives, webhook captures: ``{"event": {...}}``) is unwrapped.

Decisions, so the canonical tables stay predictable:

- Event names: track → ``event``; page → ``page_view`` and screen → ``screen_view`` (the
  journey step), the page or screen name kept in the feature ``page_name``; identify, group and
  alias → their type. A payload without ``type`` but with an ``event`` name counts as track.
- Time: ``timestamp``, else ``originalTimestamp``, else ``receivedAt``, else ``sentAt``: the
  first that can be read, with a note counting the payloads whose first cannot. A
  payload that names somebody (userId, anonymousId or messageId) or records a consent decision
  must have one, else InputError naming the file and row; a bare fragment (no id, no time, as in
  documentation examples) is kept with no time and no user, and counted in a note.
- Features: the keys of ``properties`` and of ``traits`` share one typed column per key; the
  campaign (``utm_*``), click ids from the page URL, ``page_name`` / ``page_category`` and
  ``context_ip`` (BOOLEAN: an IP was collected; its value is never read out).
- Consent flags on events: ``context.consent.categoryPreferences`` {category: bool} and
  RudderStack ``context.consentManagement`` (allowed ids → granted, denied ids → denied), both
  mapped by the purpose aliases. Several categories mapping to one purpose: granted only if all
  of them are granted. A purpose that some payload's categoryPreferences names, in any Segment
  input of the scan (``necessary`` aside), is denied in a categoryPreferences object that names
  no category of it, an empty object too, as Segment reads a category missing from the object
  (not consented), with a note; not in an object of unmapped categories alone (reported as
  such) or of the legacy consent-manager (``destinationPreferences`` beside it). A purpose no
  payload names stays NULL (no flag), and a payload without a consent object gets no flags.
- Users: a payload without a user id is the user its anonymous id is seen with in other
  payloads of any Segment input of the scan (identity resolution, :func:`join`), else its
  anonymous id's. How the files are split into arguments changes neither reading.
- Consent records: each "Segment Consent Preference Updated" (or legacy "Segment Consent
  Preference") event gives one record per mapped purpose, at the event's time.
- Legacy consent-manager v5 payloads key categoryPreferences by destination name ("Google
  Analytics"): those names are reported as unmapped categories unless the config maps them;
  ``destinationPreferences`` and ``integrations`` route delivery and are not read as consent.
"""

from __future__ import annotations

from pathlib import Path

from privdiag.engine import literal, one, quote
from privdiag.errors import InputError
from privdiag.ingest.base import StageContext, Staged
from privdiag.ingest.consent_file import alias_values, fold_sql
from privdiag.ingest.files import MAX_LINE, path_literal
from privdiag.ingest.generic import unread_flag_note
from privdiag.ingest.placeholders import without_placeholder
from privdiag.ingest.segment_join import USER_KEY
from privdiag.ingest.segment_join import join as join  # staging runs each format's join
from privdiag.ingest.sqlparts import (
    CANONICAL_COLUMNS,
    FeatureNames,
    any_ts,
    day_only,
    decision_sql,
    flag,
    offsetless_note,
    out_of_range,
    stable_id,
    time_problem,
    unread_flag,
)
from privdiag.ingest.validation import OUT_OF_RANGE_HINT, out_of_range_message
from privdiag.privacy import scrub
from privdiag.purposes import PURPOSES
from privdiag.state import DAY_ONLY

NAME = "segment"

ID_FIELDS = ("anonymousId", "userId", "messageId")
WRAPPED_MARKERS = ("anonymousId", "userId", "messageId", "type VARCHAR", "context ")
TIME_FIELDS = ("timestamp", "originalTimestamp", "receivedAt", "sentAt")
PREFERENCE_EVENTS = ("Segment Consent Preference Updated", "Segment Consent Preference")
CAMPAIGN = {
    "utm_source": "source",
    "utm_medium": "medium",
    "utm_campaign": "name",
    "utm_term": "term",
    "utm_content": "content",
}
CLICK_IDS = ("gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "ttclid", "li_fat_id")
SESSION_PATHS = (
    "$.context.sessionId",
    "$.properties.session_id",
    "$.properties.sessionId",
    "$.integrations.Amplitude.session_id",
)


def detect(columns: dict[str, str]) -> bool:
    """A Segment message has ``type`` and an id field, or is wrapped under an ``event`` object."""
    if "type" in columns and any(c in columns for c in ID_FIELDS):
        return True
    wrapped = columns.get("event", "")
    return wrapped == "JSON" or (
        wrapped.startswith("STRUCT(") and any(m in wrapped for m in WRAPPED_MARKERS)
    )


def key_path(key: str, prefix: str = "$") -> str:
    """Return a JSONPath that selects member ``key`` whatever characters it holds."""
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{prefix}."{escaped}"'


def _key_path_sql(expr: str) -> str:
    """SQL form of :func:`key_path` for a key computed by the query."""
    escaped = f"replace(replace({expr}, '\\', '\\\\'), '\"', '\\\"')"
    return f"('$.\"' || {escaped} || '\"')"


def _text(path: str) -> str:
    """SQL for the text at ``path`` of the message, empty strings as NULL."""
    return f"nullif(trim(m ->> {literal(path)}), '')"


def _objects_sql(ctx: StageContext) -> str:
    """A query giving each payload as (json, filename), whatever the container."""
    if ctx.container not in ("json", "ndjson"):
        return f"(SELECT to_json(r) AS json, NULL AS filename FROM {ctx.read_sql} r)"
    names = "[" + ", ".join(path_literal(f) for f in ctx.files) + "]"
    fmt = "array" if ctx.container == "json" else "newline_delimited"
    gz = ", compression='gzip'" if "compression='gzip'" in ctx.read_sql else ""
    return (
        f"read_json_objects({names}, format='{fmt}', filename=true, "
        f"maximum_object_size={MAX_LINE}{gz})"
    )


def _stage_messages(ctx: StageContext) -> str:
    """Materialise one row per payload: its place in the file and the fields every part needs."""
    table = f"{ctx.prefix}_seg_msg"
    # each time field's text, t_0 (timestamp) to t_3: the payload's time is the first that
    # reads, ``ts_text`` the text it read (else the first, for the error on it), ``ts_field``
    # the number of its field in TIME_FIELDS (NULL when none reads), and ``ts_later`` that
    # the first text did not read yet a later one did. Only a payload whose timestamp does
    # not read (r_0 NULL, few) has its other texts read more than once.
    numbers = range(len(TIME_FIELDS))
    texts = ", ".join(f"{_text(f'$.{f}')} AS t_{n}" for n, f in enumerate(TIME_FIELDS))
    times = ", ".join(["r_0", *(any_ts(f"t_{n}") for n in numbers[1:])])
    read_text = " ".join(f"WHEN {any_ts(f't_{n}')} IS NOT NULL THEN t_{n}" for n in numbers[1:])
    read_field = " ".join(f"WHEN {any_ts(f't_{n}')} IS NOT NULL THEN {n}" for n in numbers[1:])
    time_texts = ", ".join(f"t_{n}" for n in numbers)
    first_unread = " ".join(
        f"WHEN t_{n} IS NOT NULL THEN {any_ts(f't_{n}')} IS NULL" for n in numbers[1:]
    )
    sessions = ", ".join(_text(p) for p in SESSION_PATHS)
    names = ", ".join(literal(e) for e in PREFERENCE_EVENTS)
    ctx.create(f"""
        CREATE TEMP TABLE {table} AS
        WITH src AS (
            SELECT row_number() OVER () AS _n, filename AS _file,
                   CASE WHEN json_type(json, '$.event') = 'OBJECT' THEN json -> '$.event'
                        ELSE json END AS m
            FROM {_objects_sql(ctx)}
        ), typed AS (
            SELECT *,
                   coalesce(lower({_text("$.type")}),
                            CASE WHEN json_type(m, '$.event') = 'VARCHAR' THEN 'track'
                                 WHEN json_type(m, '$.traits') = 'OBJECT' THEN 'identify' END)
                       AS kind,
                   {without_placeholder(_text("$.userId"))} AS user_id,
                   {_text("$.anonymousId")} AS anonymous_id,
                   {_text("$.messageId")} AS message_id
            FROM src
        ), texts AS (
            SELECT *, {any_ts("t_0")} AS r_0 FROM (SELECT *, {texts} FROM typed)
        ), timed AS (
            SELECT *, coalesce({times}) AS ts FROM texts
        )
        SELECT _n, _file, _n - min(_n) OVER (PARTITION BY _file) + 1 AS _row, m, kind,
               user_id, anonymous_id, message_id,
               ts,
               CASE WHEN r_0 IS NOT NULL THEN t_0
                    ELSE coalesce(CASE {read_text} END, {time_texts}) END AS ts_text,
               CAST(CASE WHEN r_0 IS NOT NULL THEN 0 {read_field} END AS TINYINT) AS ts_field,
               CASE WHEN r_0 IS NOT NULL OR ts IS NULL THEN FALSE WHEN t_0 IS NOT NULL THEN TRUE
                    {first_unread} ELSE FALSE END AS ts_later,
               CASE kind WHEN 'track' THEN {_text("$.event")}
                         WHEN 'page' THEN 'page_view'
                         WHEN 'screen' THEN 'screen_view'
                         ELSE kind END AS event_name,
               kind = 'track' AND {_text("$.event")} IN ({names}) AS is_preference,
               coalesce({sessions}) AS session,
               {_text("$.context.device.type")} AS device,
               {_text("$.context.location.country")} AS country,
               coalesce({_text("$.channel")}, {_text("$.context.channel")}) AS channel
        FROM timed
    """)
    return table


def _where(ctx: StageContext, filename: str | None) -> str:
    if filename:
        return filename
    return str(ctx.files[0]) if len(ctx.files) == 1 else f"{ctx.files[0].parent}/"


def _check_times(ctx: StageContext, msg: str) -> None:
    """Raise InputError for the first payload whose time is unreadable or missing when needed,
    or before 2000 or more than two days ahead."""
    bad = one(
        ctx.con,
        f"""
        SELECT _file, _row, ts_text, year(ts) FROM {msg}
        WHERE ts IS NULL AND (ts_text IS NOT NULL OR is_preference
              OR coalesce(user_id, anonymous_id, message_id) IS NOT NULL)
              OR {out_of_range("ts")}
        ORDER BY _n LIMIT 1
    """,
    )
    if not bad:
        return
    if bad[3] is not None:
        raise InputError(
            out_of_range_message(bad[3]),
            path=_where(ctx, bad[0]),
            row=int(bad[1]),
            field="timestamp",
            hint=OUT_OF_RANGE_HINT,
        )
    message = (
        time_problem(bad[2], "timestamp")
        if bad[2] is not None
        else "message has no timestamp, originalTimestamp, receivedAt or sentAt"
    )
    raise InputError(
        message,
        path=_where(ctx, bad[0]),
        row=int(bad[1]),
        field="timestamp",
        hint="Segment and RudderStack messages carry ISO-8601 times "
        "(2026-10-01T12:00:00.000Z); fix or drop that payload",
    )


def _stage_categories(ctx: StageContext, msg: str) -> tuple[str, str]:
    """Materialise (payload, category, granted, purpose) for every consent category a payload
    carries: Segment categoryPreferences and RudderStack allowed / denied consent ids; and the
    payloads whose categoryPreferences is a Consent Management object (empty, or naming a
    known category), which :func:`join` gives a denial of each purpose they leave out."""
    table, objects = f"{ctx.prefix}_seg_cat", f"{ctx.prefix}_seg_obj"
    prefs = "m -> '$.context.consent.categoryPreferences'"
    managed = "m -> '$.context.consentManagement'"
    ctx.create(f"""
        CREATE TEMP TABLE {table} AS
        WITH segment AS (
            SELECT _n, category, {flag("raw", ctx.config.status_words)} AS granted, raw
            FROM (SELECT _n, category,
                         json_extract_string(prefs, {_key_path_sql("category")}) AS raw
                  FROM (SELECT _n, prefs, unnest(json_keys(prefs)) AS category
                        FROM (SELECT _n, {prefs} AS prefs FROM {msg})
                        WHERE json_type(prefs) = 'OBJECT')
                  WHERE category <> '')  -- no JSONPath names it (see _add_notes)
        ), rudder AS (
            SELECT _n, unnest(from_json(managed -> '$.allowedConsentIds', '["VARCHAR"]'))
                       AS category, TRUE AS granted, NULL AS raw
            FROM (SELECT _n, {managed} AS managed FROM {msg})
            WHERE json_type(managed, '$.allowedConsentIds') = 'ARRAY'
            UNION ALL
            SELECT _n, unnest(from_json(managed -> '$.deniedConsentIds', '["VARCHAR"]')),
                   FALSE, NULL
            FROM (SELECT _n, {managed} AS managed FROM {msg})
            WHERE json_type(managed, '$.deniedConsentIds') = 'ARRAY'
        )
        SELECT c._n, c.category, c.granted, c.raw, aliases.alias_purpose AS purpose
        FROM (SELECT * FROM segment UNION ALL SELECT * FROM rudder) c
        LEFT JOIN {alias_values(ctx.config.alias_map())}
               ON aliases.alias_word = {fold_sql("c.category")}
        WHERE c.category IS NOT NULL
    """)
    ctx.create(f"""
        CREATE TEMP TABLE {objects} AS
        SELECT _n FROM {msg}
        WHERE json_type({prefs}) = 'OBJECT'
          AND (m -> '$.context.consent.destinationPreferences') IS NULL  -- consent-manager v5
          AND (json_keys({prefs}) = []
               OR _n IN (SELECT _n FROM {table} WHERE purpose IS NOT NULL))
    """)
    return table, objects


def _stage_flags(ctx: StageContext, cats: str) -> str:
    """Create the view of one row per flagged payload with consent_<purpose>: all mapped
    categories granted → TRUE, any denied → FALSE, none mapped to the purpose → NULL. A view,
    read when the events are built: :func:`join` adds the denials of left-out categories."""
    view = f"{ctx.prefix}_seg_flags"
    columns = ", ".join(
        f"bool_and(granted) FILTER (WHERE purpose = {literal(p)}) AS consent_{p}" for p in PURPOSES
    )
    ctx.create(f"""
        CREATE TEMP VIEW {view} AS
        SELECT _n, {columns} FROM {cats}
        WHERE purpose IS NOT NULL AND granted IS NOT NULL
        GROUP BY _n
    """)
    return view


def _stage_identities(ctx: StageContext) -> str:
    """Create the input's (anonymous_id, identified_as), empty: :func:`join` fills it."""
    table = f"{ctx.prefix}_seg_ids"
    ctx.create(f"""
        CREATE TEMP TABLE {table} AS
        SELECT NULL::VARCHAR AS anonymous_id, NULL::VARCHAR AS identified_as WHERE FALSE
    """)
    return table


def _stage_consent(ctx: StageContext, msg: str, cats: str, ids: str, dated: bool) -> str:
    """Create the view of consent records from the consent preference events; with ``dated``
    (some are dated without a time of day) the records mark those (:data:`DAY_ONLY`)."""
    view = f"{ctx.prefix}_consent"
    day = f", {day_only('ts_text', 'VARCHAR')} AS {DAY_ONLY}" if dated else ""
    ctx.create(f"""
        CREATE TEMP VIEW {view} AS
        SELECT m.user_key, c.purpose, bool_and(c.granted) AS granted, m.ts,
               {literal(ctx.source)} AS source, NULL::VARCHAR AS version,
               m.country AS region, m.device{f", m.{DAY_ONLY}" if dated else ""}
        FROM {cats} c
        JOIN (SELECT _n, {USER_KEY} AS user_key, ts, country, device{day}
              FROM {msg} LEFT JOIN {ids} known USING (anonymous_id)
              WHERE is_preference) m USING (_n)
        WHERE c.purpose IS NOT NULL AND c.granted IS NOT NULL AND m.user_key IS NOT NULL
        GROUP BY m._n, m.user_key, c.purpose, m.ts, m.country, m.device{day and f", m.{DAY_ONLY}"}
    """)
    return view


def _member_types(ctx: StageContext, msg: str) -> list[tuple[str, str]]:
    """Return each key of ``properties`` and ``traits`` with the SQL type its values take."""
    rows = ctx.con.execute(f"""
        WITH members AS (
            SELECT key, json_type(json_extract(obj, {_key_path_sql("key")})) AS t
            FROM (SELECT obj, unnest(json_keys(obj)) AS key
                  FROM (SELECT m -> '$.properties' AS obj FROM {msg}
                        UNION ALL SELECT m -> '$.traits' FROM {msg})
                  WHERE json_type(obj) = 'OBJECT')
            WHERE key <> ''  -- no JSONPath names it, nor a feature (see _add_notes)
        )
        SELECT key,
               count(*) FILTER (WHERE t IN ('BIGINT', 'UBIGINT')) AS ints,
               count(*) FILTER (WHERE t = 'DOUBLE') AS doubles,
               count(*) FILTER (WHERE t = 'BOOLEAN') AS bools,
               count(*) FILTER (WHERE t NOT IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN', 'NULL'))
                   AS others
        FROM members GROUP BY key ORDER BY key
    """).fetchall()
    out = []
    for key, ints, doubles, bools, others in rows:
        if others or (bools and ints + doubles):
            out.append((key, "VARCHAR"))
        elif bools:
            out.append((key, "BOOLEAN"))
        elif doubles:
            out.append((key, "DOUBLE"))
        else:
            out.append((key, "BIGINT"))
    return out


def _member_expr(key: str, sql_type: str) -> str:
    """SQL for a properties / traits member as a typed value (properties first)."""
    text = (
        f"coalesce(json_extract_string(m, {literal(key_path(key, '$.properties'))}), "
        f"json_extract_string(m, {literal(key_path(key, '$.traits'))}))"
    )
    return text if sql_type == "VARCHAR" else f"TRY_CAST({text} AS {sql_type})"


def _known_features() -> dict[str, str]:
    """Return feature name -> SQL for the well-known context fields (campaign, click ids, ...)."""
    out = {name: _text(f"$.context.campaign.{field}") for name, field in CAMPAIGN.items()}
    url = (
        f"coalesce({_text('$.context.page.search')}, {_text('$.context.page.url')}, "
        f"{_text('$.properties.search')}, {_text('$.properties.url')})"
    )
    for click_id in CLICK_IDS:
        out[click_id] = f"nullif(regexp_extract({url}, '[?&]{click_id}=([^&#]*)', 1), '')"
    out["page_name"] = f"CASE WHEN kind IN ('page', 'screen') THEN {_text('$.name')} END"
    out["page_category"] = f"CASE WHEN kind IN ('page', 'screen') THEN {_text('$.category')} END"
    # only whether an IP was collected: the address itself is personal data
    out["context_ip"] = f"CASE WHEN {_text('$.context.ip')} IS NOT NULL THEN TRUE END"
    return out


def _features(ctx: StageContext, msg: str) -> list[str]:
    """Return the SELECT items of every feature column the payloads actually carry."""
    known = _known_features()
    counts_sql = ", ".join(f"count(*) FILTER (WHERE {expr} IS NOT NULL)" for expr in known.values())
    counts = one(ctx.con, f"SELECT {counts_sql} FROM {msg}") or ()
    present = {name: expr for (name, expr), n in zip(known.items(), counts, strict=True) if n}

    items: list[str] = []
    names = FeatureNames(CANONICAL_COLUMNS)
    for key, sql_type in _member_types(ctx, msg):
        expr = _member_expr(key, sql_type)
        if key in present and key != "context_ip" and sql_type == "VARCHAR":
            expr = f"coalesce({expr}, {present.pop(key)})"
        name = names.give(key, avoid=present)
        items.append(f"{expr} AS {quote(name)}")
    for name, expr in present.items():
        name = names.give(name)
        items.append(f"{expr} AS {quote(name)}")
    return items


def stage(ctx: StageContext) -> Staged:
    """Stage Segment / RudderStack payloads as canonical events and consent records.

    Its identities and the denials of categories its consent objects leave out are filled
    in by :func:`join` once every input is staged. Raises InputError naming the file and row
    of a payload whose time is missing or unreadable.
    """
    msg = _stage_messages(ctx)
    _check_times(ctx, msg)
    dated_by_field = _dates_alone(ctx, msg)
    dates, decided = (sum(n[i] for n in dated_by_field.values()) for i in (0, 1))
    # the state of payloads dated without a time of day is resolved over their day
    dated = f"\n               {day_only('ts_text', 'VARCHAR')} AS {DAY_ONLY}," if dates else ""
    cats, objects = _stage_categories(ctx, msg)
    flags = _stage_flags(ctx, cats)
    ids = _stage_identities(ctx)
    features = _features(ctx, msg)
    consent_cols = ", ".join(f"f.consent_{p}" for p in PURPOSES)
    feature_sql = ",\n".join(features) or "NULL AS _no_feature"

    view = f"{ctx.prefix}_events"
    ctx.create(f"""
        CREATE TEMP VIEW {view} AS
        SELECT coalesce(message_id, {stable_id("json(m)")}) AS event_id,
               {literal(ctx.source)} AS source,
               ts, event_name,
               {USER_KEY} AS user_key,
               anonymous_id AS anon_key,
               CASE WHEN session IS NOT NULL
                    THEN coalesce(anonymous_id, user_id, '') || ':' || session END AS session_key,
               user_id IS NULL AND anonymous_id IS NULL AS cookieless,
               device, country, channel,
               {consent_cols},
               {ctx.index} AS _input,{dated}
               {feature_sql}
        FROM {msg} LEFT JOIN {flags} f USING (_n) LEFT JOIN {ids} known USING (anonymous_id)
    """)

    staged = Staged(
        format=NAME,
        events_view=view,
        consent_view=_stage_consent(ctx, msg, cats, ids, decided > 0),
        time_field="timestamp",
        joint=(msg, cats, objects, ids),
        day_only=decided > 0,
    )
    staged.unmapped_sql = (
        f"SELECT c.category, {USER_KEY} AS user_key, "
        f"{decision_sql('c.granted', 'm.ts', 'm.country', 'm.device')} AS decision "
        f"FROM {cats} c JOIN {msg} m USING (_n) LEFT JOIN {ids} known USING (anonymous_id) "
        "WHERE c.purpose IS NULL"
    )
    _add_notes(ctx, msg, staged, bool(features))
    staged.notes += _unread_category_notes(ctx, cats)
    staged.notes += _later_time_notes(ctx, msg)
    for field, (count, _) in dated_by_field.items():  # named by the field read
        staged.notes += offsetless_note(field, count, dates=count)
    for field, (_, decisions) in dated_by_field.items():
        staged.notes += offsetless_note(field, decisions, "decision time", dates=decisions)
    return staged


def _dates_alone(ctx: StageContext, msg: str) -> dict[str, tuple[int, int]]:
    """By the time field they are read at (``timestamp``, else ``originalTimestamp``, ...),
    in that order: how many payloads are dated without a time of day (``"timestamp":
    "2026-10-01"``), read as midnight UTC, as the text of that field is a date alone; and
    how many of them are consent preference payloads, whose records then mark it
    (:data:`DAY_ONLY`). Fields of no such payload are left out."""
    dated = day_only("ts_text", "VARCHAR")
    rows = ctx.con.execute(
        f"SELECT ts_field, count(*), count_if(is_preference) FROM {msg} "
        f"WHERE {dated} GROUP BY ts_field ORDER BY ts_field"
    ).fetchall()
    return {TIME_FIELDS[int(n)]: (int(c), int(d)) for n, c, d in rows if n is not None}


def _later_time_notes(ctx: StageContext, msg: str) -> list[str]:
    """The note on the payloads whose first time field with a value (``timestamp``, else
    ``originalTimestamp``, ...) cannot be read, read at a later one that can: per file when
    the input has several (at most five named, their names' addresses redacted)."""
    rows = ctx.con.execute(
        f"SELECT _file, count(*) FROM {msg} WHERE ts_later GROUP BY _file ORDER BY min(_n)"
    ).fetchall()
    if not rows:
        return []
    total = sum(int(n) for _, n in rows)
    files = ""
    if len(ctx.files) > 1:
        named = [f"{scrub(Path(f).name) if f else '?'}: {int(n):,}" for f, n in rows[:5]]
        more = f", {len(rows) - 5:,} more file(s)" if len(rows) > 5 else ""
        files = f" ({', '.join(named)}{more})"
    return [
        f"{total:,} payload(s) have a timestamp that cannot be read{files}: each is read at "
        "its originalTimestamp, else receivedAt or sentAt (when the device made it, or when "
        "Segment got it or the device sent it), which may be hours from when it happened; "
        "fix the timestamp at the source"
    ]


def _unread_category_notes(ctx: StageContext, cats: str) -> list[str]:
    """A note per purpose whose categories hold values neither granted, denied nor "no
    decision" (``maybe``), as a flat ``consent_<purpose>`` column's are noted: such a category
    gives the payload no flag and no consent record. The category is not named, the value
    only when it is a word of a vocabulary."""
    rows = ctx.con.execute(f"""
        SELECT purpose, count(DISTINCT _n), min(raw) FROM {cats}
        WHERE purpose IS NOT NULL AND granted IS NULL
              AND {unread_flag("raw", ctx.config.status_words)}
        GROUP BY purpose ORDER BY purpose
    """).fetchall()
    where = "context.consent.categoryPreferences"
    return [unread_flag_note(f"{where} ({p})", n, example, p) for p, n, example in rows]


def _add_notes(ctx: StageContext, msg: str, staged: Staged, has_features: bool) -> None:
    timeless = one(ctx.con, f"SELECT count(*) FROM {msg} WHERE ts IS NULL")
    if timeless and timeless[0]:
        staged.notes.append(
            f"{timeless[0]} payload(s) have neither a time nor an id (documentation-style "
            "fragments): kept as events without a time or user"
        )
    if not has_features:
        staged.notes.append("no properties, traits or campaign fields found: no features to check")
    unnamed = one(ctx.con, _unnamed_sql(msg))
    if unnamed and unnamed[0]:
        staged.notes.append(
            f"{unnamed[0]} payload(s) hold a property, trait or consent category whose name is "
            'empty (""): left out, as no feature or category can be named so'
        )


def _unnamed_sql(msg: str) -> str:
    """SQL counting the payloads with a member named "" in properties, traits or consent
    categoryPreferences (DuckDB's JSONPath cannot name one: ``$.""`` is an error)."""
    objects = ("$.properties", "$.traits", "$.context.consent.categoryPreferences")
    empty = " OR ".join(
        f"(json_type(m, '{path}') = 'OBJECT' AND list_contains(json_keys(m, '{path}'), ''))"
        for path in objects
    )
    return f"SELECT count(*) FILTER (WHERE {empty}) FROM {msg}"
