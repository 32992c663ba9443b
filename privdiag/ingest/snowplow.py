"""Snowplow events: warehouse-loaded tables (CSV / Parquet / JSON) and enriched TSV.

Warehouse loaders shred self-describing events into columns such as
``unstruct_event_com_snowplowanalytics_snowplow_consent_preferences_1_0_0`` (BigQuery style,
snake_case keys, often a one-element array) or ``..._consent_preferences_1`` (Snowflake style,
camelCase keys); enriched TSV has 131 columns without a header and self-describing JSON in
``unstruct_event`` / ``contexts``. Both shapes are read into one raw table.

Events are deduplicated by ``event_id``: the row with the earliest ``collector_tstamp`` is kept
(ties broken by ``derived_tstamp`` then by a hash of the whole row, so the result does not depend
on row order). The consent records come from Enhanced Consent ``consent_preferences`` events and
from the older ``consent_granted`` / ``consent_withdrawn`` events; see :func:`stage` for how each
event type becomes per-purpose decisions.
"""

from __future__ import annotations

import re

from privdiag.consent_keys import BROWSER_CONSENT
from privdiag.engine import literal, one, quote
from privdiag.errors import InputError
from privdiag.ingest.base import StageContext, Staged
from privdiag.ingest.consent_file import alias_values
from privdiag.ingest.files import path_literal
from privdiag.ingest.placeholders import without_placeholder
from privdiag.ingest.snowplow_consent import (
    consent_view,
    document_decisions,
    event_type_notes,
    json_list,
    json_text,
    preference_decisions,
    unmapped_sql,
)
from privdiag.ingest.sqlparts import (
    CANONICAL_COLUMNS,
    FeatureNames,
    any_ts,
    day_only,
    id_text,
    offsetless_note,
    out_of_range,
    time_problem,
    typed_ts,
)
from privdiag.ingest.validation import out_of_range_error
from privdiag.state import DAY_ONLY

NAME = "snowplow"

VENDOR = "com_snowplowanalytics_snowplow"
IGLU = "iglu:com.snowplowanalytics.snowplow/"
ID_COLUMNS = ("event_id", "domain_userid", "network_userid", "app_id", "domain_sessionid")

# The 131 columns of an enriched event, in order (Snowplow canonical event model).
ENRICHED_COLUMNS = (
    "app_id platform etl_tstamp collector_tstamp dvce_created_tstamp event event_id txn_id "
    "name_tracker v_tracker v_collector v_etl user_id user_ipaddress user_fingerprint "
    "domain_userid domain_sessionidx network_userid geo_country geo_region geo_city geo_zipcode "
    "geo_latitude geo_longitude geo_region_name ip_isp ip_organization ip_domain ip_netspeed "
    "page_url page_title page_referrer page_urlscheme page_urlhost page_urlport page_urlpath "
    "page_urlquery page_urlfragment refr_urlscheme refr_urlhost refr_urlport refr_urlpath "
    "refr_urlquery refr_urlfragment refr_medium refr_source refr_term mkt_medium mkt_source "
    "mkt_term mkt_content mkt_campaign contexts se_category se_action se_label se_property "
    "se_value unstruct_event tr_orderid tr_affiliation tr_total tr_tax tr_shipping tr_city "
    "tr_state tr_country ti_orderid ti_sku ti_name ti_category ti_price ti_quantity "
    "pp_xoffset_min pp_xoffset_max pp_yoffset_min pp_yoffset_max useragent br_name br_family "
    "br_version br_type br_renderengine br_lang br_features_pdf br_features_flash "
    "br_features_java br_features_director br_features_quicktime br_features_realplayer "
    "br_features_windowsmedia br_features_gears br_features_silverlight br_cookies "
    "br_colordepth br_viewwidth br_viewheight os_name os_family os_manufacturer os_timezone "
    "dvce_type dvce_ismobile dvce_screenwidth dvce_screenheight doc_charset doc_width "
    "doc_height tr_currency tr_total_base tr_tax_base tr_shipping_base ti_currency "
    "ti_price_base base_currency geo_timezone mkt_clickid mkt_network etl_tags "
    "dvce_sent_tstamp refr_domain_userid refr_dvce_tstamp derived_contexts domain_sessionid "
    "derived_tstamp event_vendor event_name event_format event_version event_fingerprint "
    "true_tstamp"
).split()
PLATFORMS = ("web", "mob", "pc", "srv", "app", "tv", "cnsl", "iot")

# Features kept from each event, with their SQL type. Identifiers and the IP address are not
# features: the IP only as its presence (``has_ip``).
FEATURES: dict[str, str] = {
    **{c: "VARCHAR" for c in ("page_url", "page_urlhost", "page_urlpath", "page_title")},
    **{c: "VARCHAR" for c in ("page_referrer", "refr_urlhost", "refr_medium", "refr_source")},
    **{c: "VARCHAR" for c in ("refr_term", "mkt_medium", "mkt_source", "mkt_term")},
    **{c: "VARCHAR" for c in ("mkt_content", "mkt_campaign", "mkt_clickid", "mkt_network")},
    **{c: "VARCHAR" for c in ("geo_region", "geo_city", "geo_zipcode", "geo_timezone")},
    "geo_latitude": "DOUBLE",
    "geo_longitude": "DOUBLE",
    **{c: "VARCHAR" for c in ("se_category", "se_action", "se_label", "se_property")},
    "se_value": "DOUBLE",
    "useragent": "VARCHAR",
    **{c: "VARCHAR" for c in ("br_name", "br_family", "br_version", "br_type", "br_lang")},
    "br_renderengine": "VARCHAR",
    "br_cookies": "BOOLEAN",
    **{c: "BIGINT" for c in ("br_colordepth", "br_viewwidth", "br_viewheight")},
    **{c: "VARCHAR" for c in ("os_name", "os_family", "os_timezone", "dvce_type")},
    "dvce_ismobile": "BOOLEAN",
    **{c: "BIGINT" for c in ("dvce_screenwidth", "dvce_screenheight")},
}


def _is_enriched(columns: dict[str, str]) -> bool:
    """A headerless enriched TSV read with a header: 131 columns named after its first row."""
    names = list(columns)
    return (
        len(names) == len(ENRICHED_COLUMNS)
        and names[1] in PLATFORMS
        and re.match(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d", names[3]) is not None
    )


def detect(columns: dict[str, str]) -> bool:
    """Snowplow events have collector_tstamp with event_id or a Snowplow user id or app_id;
    a headerless enriched TSV is recognised by its 131 columns."""
    if "collector_tstamp" in columns and any(c in columns for c in ID_COLUMNS):
        return True
    return _is_enriched(columns)


def _source_sql(ctx: StageContext) -> tuple[str, dict[str, str]]:
    """Return the table expression to read and its columns (enriched TSV gets its names)."""
    if not _is_enriched(ctx.columns):
        return ctx.read_sql, ctx.columns
    files = "[" + ", ".join(path_literal(f) for f in ctx.files) + "]"
    spec = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in ENRICHED_COLUMNS) + "}"
    read = (
        f"read_csv({files}, delim='\\t', header=false, quote='', escape='', "
        f"columns={spec}, strict_mode=false, null_padding=true)"
    )
    return read, {c: "VARCHAR" for c in ENRICHED_COLUMNS}


def _col(columns: dict[str, str], name: str, sql_type: str = "VARCHAR") -> str:
    if name not in columns:
        return f"CAST(NULL AS {sql_type})"
    if sql_type == "VARCHAR":
        return f"nullif(CAST({quote(name)} AS VARCHAR), '')"
    return f"TRY_CAST(nullif(CAST({quote(name)} AS VARCHAR), '') AS {sql_type})"


def _id(columns: dict[str, str], name: str) -> str:
    """SQL of the id column ``name`` (see :func:`id_text`), NULL when there is none."""
    return id_text(quote(name)) if name in columns else "CAST(NULL AS VARCHAR)"


def _shredded(columns: dict[str, str], kind: str, stem: str) -> str | None:
    """Return the column holding shredded ``kind`` (unstruct_event / contexts) of ``stem``."""
    pattern = re.compile(rf"{kind}_{VENDOR}_{stem}_1(_\d+_\d+)?$", re.IGNORECASE)
    return next((c for c in columns if pattern.match(c)), None)


#: The self-describing events and contexts privdiag reads consent from, in schema version 1.
CONSENT_SCHEMAS = (
    "consent_preferences",
    "cmp_visible",
    "consent_granted",
    "consent_withdrawn",
    "consent_document",
)


def unread_versions(columns: dict[str, str]) -> list[str]:
    """Return a note for each shredded column of a consent schema in a version other than 1
    (``unstruct_event_com_snowplowanalytics_snowplow_consent_preferences_2_0_0``), which
    :func:`_shredded` does not read: its decisions would be missing without a word."""
    pattern = re.compile(
        rf"(?:unstruct_event|contexts)_{VENDOR}_({'|'.join(CONSENT_SCHEMAS)})_(\d+)_(\d+)_(\d+)$",
        re.IGNORECASE,
    )
    notes = []
    for column in columns:
        match = pattern.match(column)
        if match and match[2] != "1":
            notes.append(
                f"column {column} holds {match[1]} of schema version "
                f"{match[2]}-{match[3]}-{match[4]}, which privdiag does not read (it reads "
                f"version 1-x-x): no consent decision or consent event is taken from it"
            )
    return notes


def _as_json(columns: dict[str, str], name: str) -> str:
    """SQL reading column ``name`` as JSON; empty text and invalid JSON give NULL.

    A JSON or Parquet reader types an object or array of the files (a Snowflake-style
    ``unstruct_event_..._1`` of an analytics SDK's JSON, a Parquet ``contexts`` list) as a
    STRUCT, MAP or list, whose text is no JSON: such a column is written out as JSON."""
    sql_type = columns.get(name, "VARCHAR").upper()
    if sql_type.startswith(("STRUCT", "MAP", "UNION")) or sql_type.endswith("]"):
        return f"to_json({quote(name)})"
    return f"TRY_CAST(nullif(CAST({quote(name)} AS VARCHAR), '') AS JSON)"


def _unstruct(columns: dict[str, str], stem: str) -> str:
    """SQL JSON object of the self-describing event ``stem`` (NULL when the row is another)."""
    parts = []
    column = _shredded(columns, "unstruct_event", stem)
    if column:
        j = _as_json(columns, column)
        parts.append(f"(CASE WHEN json_type({j}) = 'ARRAY' THEN {j} -> 0 ELSE {j} END)")
    if "unstruct_event" in columns:
        j = _as_json(columns, "unstruct_event")
        parts.append(
            f"(CASE WHEN ({j} ->> '$.data.schema') LIKE '{IGLU}{stem}/%' "
            f"THEN {j} -> '$.data.data' END)"
        )
    return f"coalesce({', '.join(parts)})" if parts else "CAST(NULL AS JSON)"


def _contexts(columns: dict[str, str], stem: str) -> str:
    """SQL JSON[] of the ``stem`` contexts attached to the event (empty when none)."""
    parts = []
    column = _shredded(columns, "contexts", stem)
    if column:
        j = _as_json(columns, column)
        parts.append(f"(CASE WHEN json_type({j}) = 'ARRAY' THEN CAST({j} AS JSON[]) END)")
    if "contexts" in columns:
        j = f"TRY_CAST({_as_json(columns, 'contexts')} -> '$.data' AS JSON[])"
        parts.append(
            f"list_transform(list_filter({j}, lambda c: (c ->> 'schema') LIKE '{IGLU}{stem}/%'), "
            "lambda c: c -> 'data')"
        )
    return f"coalesce({', '.join(parts)}, [])" if parts else "CAST([] AS JSON[])"


def _device(columns: dict[str, str]) -> str:
    yauaa = next((c for c in columns if c.lower().startswith("contexts_nl_basjes_yauaa")), None)
    parts = [_col(columns, "dvce_type")]
    if yauaa:
        parts.append(f"{_as_json(columns, yauaa)} ->> '$[0].deviceClass'")
    mobile = _col(columns, "dvce_ismobile", "BOOLEAN")
    parts.append(f"CASE WHEN {mobile} THEN 'mobile' WHEN NOT {mobile} THEN 'desktop' END")
    return f"lower(coalesce({', '.join(parts)}))"


def _ts(columns: dict[str, str], name: str) -> str:
    """SQL of the time in column ``name`` as every format's times are read (:func:`typed_ts`):
    ISO text with its offset checked (``+99:00``, which no zone has, is no time), a
    lower-case ``t`` or ``z``, epoch numbers, a typed timestamp."""
    if name not in columns:
        return "CAST(NULL AS TIMESTAMPTZ)"
    sql_type = columns[name]
    if sql_type.upper() == "VARCHAR":
        return any_ts(f"nullif(trim({quote(name)}), '')")
    return typed_ts(quote(name), sql_type)


# The event times, the first that has a value being the event's (:func:`_stage_dedup`).
EVENT_TIMES = ("derived_tstamp", "collector_tstamp")


def _day(columns: dict[str, str], name: str) -> str:
    """SQL true for a time in column ``name`` that is a date without a time of day
    (:func:`day_only`), which :func:`_ts` reads as midnight UTC."""
    return day_only(quote(name), columns[name]) if name in columns else "FALSE"


def _stage_raw(ctx: StageContext) -> tuple[str, list[str]]:
    """Materialise the columns the reader needs, reading the files once; return its features."""
    read, cols = _source_sql(ctx)
    page = _contexts(cols, "web_page")
    selects = [
        f"{_col(cols, 'event_id')} AS event_id",
        *(f"{_col(cols, c)} AS {c}" for c in ("app_id", "platform", "event", "event_name")),
        *(f"{_ts(cols, c)} AS {c}" for c in ("collector_tstamp", "derived_tstamp")),
        *(f"{_ts(cols, c)} AS {c}" for c in ("dvce_created_tstamp", "dvce_sent_tstamp")),
        f"{_ts(cols, 'load_tstamp')} AS load_tstamp",
        f"{without_placeholder(_id(cols, 'user_id'))} AS user_id",
        *(f"{_id(cols, c)} AS {c}" for c in ("domain_userid", "network_userid")),
        f"{_col(cols, 'domain_sessionid')} AS domain_sessionid",
        f"{_col(cols, 'user_ipaddress')} IS NOT NULL AS has_ip",
        f"{_col(cols, 'geo_country')} AS geo_country",
        f"{_device(cols)} AS device",
        f"({page})[1] ->> '$.id' AS page_view_id",
        f"{_unstruct(cols, 'consent_preferences')} AS cp",
        f"{_unstruct(cols, 'cmp_visible')} AS cmp",
        f"{_unstruct(cols, 'consent_granted')} AS cg",
        f"{_unstruct(cols, 'consent_withdrawn')} AS cw",
        f"{_contexts(cols, 'consent_document')} AS docs",
    ]
    features = [c for c in FEATURES if c in cols]
    selects += [f"{_col(cols, c, FEATURES[c])} AS f_{c}" for c in features]
    raw = f"{ctx.prefix}_raw"
    # ``_fp``, the fingerprint that keys a row without an event_id and breaks the ties of the
    # deduplication, is of the values as read here, not of the row as the files give it: a
    # folder of CSV files reads columns as text that one file types (a time, a number), and
    # the same row must keep the same fingerprint whatever the layout. Whether a time is a
    # date alone (``_derived_tstamp_day``, ``_collector_tstamp_day``) is no value of it.
    values = ", ".join(f"{n} := s.{n}" for n in (item.rsplit(" AS ", 1)[1] for item in selects))
    days = [f"{_day(cols, c)} AS _{c}_day" for c in EVENT_TIMES]
    ctx.create(
        f"CREATE TEMP TABLE {raw} AS SELECT *, md5(CAST(struct_pack({values}) AS VARCHAR)) "
        f"AS _fp FROM (SELECT {', '.join(selects + days)} FROM {read} AS t) AS s"
    )
    return raw, features


def _check_timeless_files(ctx: StageContext, raw: str) -> None:
    """Name the file of a folder that has no event time in any row (such as a consent table
    of dbt-snowplow-web beside the events), instead of counting its rows among the folder's
    events without a time."""
    names = [c for c in ("derived_tstamp", "collector_tstamp") if c in ctx.columns]
    if not names or not one(
        ctx.con,
        f"SELECT 1 FROM {raw} WHERE derived_tstamp IS NULL AND collector_tstamp IS NULL LIMIT 1",
    ):
        return
    either = ", ".join(f"CAST({quote(c)} AS VARCHAR)" for c in names)
    located = ctx.first_bad(f"coalesce({either})", "nullif(trim(v), '') IS NULL")
    if located is None:
        _refuse_unread_time(ctx, names)
    if located is not None and not located.file_has_values:
        raise InputError(
            "no collector_tstamp or derived_tstamp in any row, though other files of the "
            "input have one",
            path=located.path,
            field="collector_tstamp",
            hint="move that file out of the folder and scan the Snowplow events alone",
        )


def _refuse_unread_time(ctx: StageContext, names: list[str]) -> None:
    """Name the first row whose event time has a text but none of it reads as a time (an
    offset no zone has, ``+99:00``, or words), where the loader's check names no row."""
    for name in names:
        read = _ts(ctx.columns, name)
        located = ctx.first_bad(
            f"CAST({quote(name)} AS VARCHAR)",
            f"nullif(trim(v), '') IS NOT NULL AND ({read.replace(quote(name), 'v')}) IS NULL",
        )
        if located is not None:
            raise InputError(
                time_problem(located.value, "time"),
                path=located.path,
                row=located.row,
                field=name,
                hint="Snowplow times are ISO-8601 (2026-10-01 12:00:00.000, in UTC); fix or "
                "drop that row",
            )


def _check_time_range(ctx: StageContext, raw: str) -> None:
    """Refuse the first row whose event time (its derived_tstamp, else its collector_tstamp)
    is before 2000 or more than two days ahead, naming its file, row and field; the loader's
    own check of every input (:func:`privdiag.ingest.validation.check_time_range`) names no
    row. An enriched TSV, whose columns have no names to look them up by, is left to it."""
    ts = "coalesce(derived_tstamp, collector_tstamp)"
    if not one(ctx.con, f"SELECT 1 FROM {raw} WHERE {out_of_range(ts)} LIMIT 1"):
        return
    if _is_enriched(ctx.columns):
        return
    # derived_tstamp's rows first; then those read from collector_tstamp, derived being empty
    names = [c for c in ("derived_tstamp", "collector_tstamp") if c in ctx.columns]
    for field, used in ((names[0], names[:1]), (names[-1], names)):
        read = [_ts(ctx.columns, c) for c in used]
        located = ctx.first_bad(
            f"coalesce({', '.join(read)})", out_of_range("v"), detail="CAST(year(v) AS VARCHAR)"
        )
        if located is not None:
            raise out_of_range_error(located, field)


def _stage_dedup(ctx: StageContext, raw: str) -> str:
    """One row per event_id: the earliest collector_tstamp wins, ties broken row-order-free.

    ``user_key`` is the user id, else the browser (``domain_userid``); ``consent_key``, the
    key its consent records are kept under, is the browser, else the user id: a CMP decides
    per browser, as dbt-snowplow-web's consent models count (:mod:`privdiag.consent_keys`).
    A placeholder browser id is none (the loader clears it from ``anon_key`` too).
    :data:`DAY_ONLY` tells that the event's time is a date without a time of day.
    """
    view = f"{ctx.prefix}_sp_events"
    ctx.create(f"""
        CREATE TEMP VIEW {view} AS
        SELECT *,
               coalesce(derived_tstamp, collector_tstamp) AS ts,
               coalesce(CASE WHEN derived_tstamp IS NOT NULL THEN _derived_tstamp_day
                             ELSE _collector_tstamp_day END, FALSE) AS {DAY_ONLY},
               coalesce(user_id, domain_userid) AS user_key,
               coalesce({without_placeholder("domain_userid")},
                        {without_placeholder("network_userid")}, user_id) AS consent_key
        FROM {raw}
        QUALIFY row_number() OVER (
            PARTITION BY coalesce(event_id, _fp)
            ORDER BY collector_tstamp NULLS LAST, derived_tstamp NULLS LAST, _fp) = 1
    """)
    return view


def _stage_events(ctx: StageContext, events: str, features: list[str], dated: bool) -> str:
    """The canonical events' view; with ``dated`` (some times are dates alone) it marks them
    (:data:`DAY_ONLY`), so that their state is resolved over their day (privdiag.state)."""
    names = FeatureNames(CANONICAL_COLUMNS)
    out = []
    for column in [*features, "has_ip"]:
        name = names.give(column)
        source = "has_ip" if column == "has_ip" else f"f_{column}"
        out.append(f"{source} AS {quote(name)}")
    view = f"{ctx.prefix}_events"
    ctx.create(f"""
        CREATE TEMP VIEW {view} AS
        SELECT coalesce(event_id, _fp) AS event_id,
               {literal(ctx.source)} AS source,
               ts,
               coalesce(event_name, event) AS event_name,
               user_key,
               coalesce(domain_userid, network_userid) AS anon_key,
               domain_sessionid AS session_key,
               user_key IS NULL AND network_userid IS NULL AS cookieless,
               device,
               geo_country AS country,
               platform AS channel,
               {ctx.index} AS _input,
               TRUE AS {BROWSER_CONSENT},{f" {DAY_ONLY}," if dated else ""}
               {", ".join(out)}
        FROM {events}
    """)
    return view


def stage(ctx: StageContext) -> Staged:
    """Stage Snowplow events as canonical events, and their consent events as consent records.

    Consent decisions are per (user, purpose, time); when two scopes of one event map to the
    same purpose the purpose counts as granted if either is granted. Raw identifiers stay in
    DuckDB; only the scan's own aggregation decides what is shown.
    """
    raw, features = _stage_raw(ctx)
    _check_timeless_files(ctx, raw)
    _check_time_range(ctx, raw)
    events = _stage_dedup(ctx, raw)
    dates = _dates_alone(ctx, raw, events)
    staged = Staged(
        format=NAME,
        events_view=_stage_events(ctx, events, features, any(dates)),
        time_field="derived_tstamp",  # or collector_tstamp where that is empty
    )
    aliases = alias_values(ctx.config.alias_map())
    parsed = _stage_all_consent(ctx, events)
    decided = _dates_alone(ctx, raw, parsed) if any(dates) else (0, 0)
    staged.day_only = any(decided)
    staged.consent_view = consent_view(
        ctx,
        preference_decisions(parsed, aliases),
        document_decisions(aliases, parsed),
        dated=staged.day_only,
    )
    staged.unmapped_sql = unmapped_sql(parsed, aliases)
    staged.notes += _notes(ctx, raw, parsed) + unread_versions(ctx.columns)
    for column, n, m in zip(EVENT_TIMES, dates, decided, strict=True):
        staged.notes += offsetless_note(column, n, dates=n)
        staged.notes += offsetless_note(column, m, "decision time", dates=m)
    return staged


def _dates_alone(ctx: StageContext, raw: str, rows: str) -> tuple[int, int]:
    """How many of ``rows`` (the events, or the consent events) are dated without a time of
    day by their derived_tstamp, and how many by their collector_tstamp (derived_tstamp
    empty): read as midnight UTC. None when no time of ``raw`` is a date alone."""
    dated = "_derived_tstamp_day OR _collector_tstamp_day"
    if not one(ctx.con, f"SELECT 1 FROM {raw} WHERE {dated} LIMIT 1"):
        return 0, 0
    found = one(
        ctx.con,
        f"SELECT count_if({DAY_ONLY} AND derived_tstamp IS NOT NULL), "
        f"count_if({DAY_ONLY} AND derived_tstamp IS NULL) FROM {rows}",
    )
    return (int(found[0] or 0), int(found[1] or 0)) if found else (0, 0)


def _stage_all_consent(ctx: StageContext, events: str) -> str:
    """Parse every consent-related event (preferences, CMP, granted, withdrawn), its
    ``user_key`` the key its records are kept under: its browser, else its user id."""
    view = f"{ctx.prefix}_sp_consent_all"
    ctx.create(f"""
        CREATE TEMP VIEW {view} AS
        SELECT * REPLACE (consent_key AS user_key),
               coalesce(event_id, _fp) AS row_key,  -- the key of the deduplication
               lower({json_text("cp", "eventType", "event_type")}) AS event_type,
               {json_text("cp", "consentVersion", "consent_version")} AS consent_version,
               coalesce({json_list("cp", "consentScopes", "consent_scopes")}, [])
                   AS consent_scopes
        FROM {events}
        WHERE cp IS NOT NULL OR cg IS NOT NULL OR cw IS NOT NULL
    """)
    return view


def _notes(ctx: StageContext, raw: str, parsed: str) -> list[str]:
    dupes = ctx.con.execute(f"""
        SELECT (SELECT count(*) FROM {raw}) - (SELECT count(*) FROM {ctx.prefix}_sp_events)
    """).fetchone()[0]
    notes = []
    if dupes:
        notes.append(f"{dupes} duplicate Snowplow event(s) dropped (same event_id)")
    return notes + event_type_notes(ctx.con, parsed, "event(s)")
