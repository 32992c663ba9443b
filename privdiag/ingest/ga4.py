"""GA4 / Firebase BigQuery export: nested event_params flattened into typed feature columns.

Accepts NDJSON or JSON arrays (as exported or dumped) and Parquet with the nested columns.
``privacy_info`` flags may be Yes/No, true/false, 1/0 or NULL; ``event_timestamp`` is
microseconds as a number or a string. Cookieless rows (no ``user_pseudo_id``) are kept and
marked.
"""

from __future__ import annotations

from privdiag.engine import literal, one, quote
from privdiag.errors import InputError
from privdiag.ingest.base import StageContext, Staged
from privdiag.ingest.generic import unread_flag_note
from privdiag.ingest.placeholders import without_placeholder
from privdiag.ingest.sqlparts import (
    FeatureNames,
    epoch_to_ts,
    flag,
    id_text,
    out_of_range,
    stable_id,
    unread_flag,
)
from privdiag.ingest.validation import OUT_OF_RANGE_HINT, out_of_range_message
from privdiag.privacy import describe_value

NAME = "ga4"

REQUIRED = ("event_timestamp", "event_name", "event_params")
PARAMS_TYPE = (
    '[{"key":"VARCHAR","value":{"string_value":"VARCHAR","int_value":"BIGINT",'
    '"float_value":"DOUBLE","double_value":"DOUBLE"}}]'
)
JSON_COLUMNS = {
    "event_timestamp": "VARCHAR",
    "event_name": "VARCHAR",
    "event_params": "JSON",
    "event_bundle_sequence_id": "VARCHAR",
    "user_id": "VARCHAR",
    "user_pseudo_id": "VARCHAR",
    "privacy_info": "JSON",
    "device": "JSON",
    "geo": "JSON",
    "platform": "VARCHAR",
    "stream_id": "VARCHAR",
}


def detect(columns: dict[str, str]) -> bool:
    """A GA4 export has event_timestamp, event_name and event_params."""
    return all(c in columns for c in REQUIRED)


def _json_read(ctx: StageContext) -> str:
    """Re-read JSON input with fixed types, so real exports' type differences do not matter."""
    present = {k: v for k, v in JSON_COLUMNS.items() if k in ctx.columns}
    spec = "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in present.items()) + "}"
    return ctx.read_sql.replace("format='auto'", f"format='auto', columns={spec}", 1)


def _col(ctx: StageContext, name: str, expr: str | None = None) -> str:
    return (expr or quote(name)) if name in ctx.columns else "NULL"


def _stage_raw(ctx: StageContext) -> str:
    """Materialise the columns the checks need, reading the files once."""
    raw = f"{ctx.prefix}_raw"
    is_json = ctx.container != "parquet"
    source_sql = _json_read(ctx) if is_json else ctx.read_sql

    def js(name: str, path: str) -> str:
        if name not in ctx.columns:
            return "NULL"
        if is_json:
            return f"({quote(name)} ->> {literal(path)})"
        return f"CAST(to_json({quote(name)}) ->> {literal(path)} AS VARCHAR)"

    params = f"from_json({'event_params' if is_json else 'to_json(event_params)'}, '{PARAMS_TYPE}')"
    user_id = without_placeholder(id_text(_col(ctx, "user_id")))
    ctx.create(f"""
        CREATE TEMP TABLE {raw} AS
        SELECT CAST(event_timestamp AS VARCHAR) AS event_timestamp,
               CAST(event_name AS VARCHAR) AS event_name,
               {params} AS params,
               {user_id} AS user_id,
               {id_text(_col(ctx, "user_pseudo_id"))} AS user_pseudo_id,
               CAST({_col(ctx, "event_bundle_sequence_id")} AS VARCHAR) AS bundle,
               {js("privacy_info", "$.analytics_storage")} AS pi_analytics,
               {js("privacy_info", "$.ads_storage")} AS pi_ads,
               {js("device", "$.category")} AS device,
               {js("geo", "$.country")} AS country,
               CAST({_col(ctx, "platform")} AS VARCHAR) AS channel
        FROM {source_sql}
    """)
    return raw


def _check_timestamps(ctx: StageContext, raw: str) -> None:
    """Raise InputError naming the first row whose event_timestamp is not microseconds, or
    is before 2000 or more than two days ahead."""
    ts = epoch_to_ts("event_timestamp")
    bad = one(
        ctx.con,
        f"""
        SELECT n, event_timestamp, CASE WHEN readable THEN year({ts}) END FROM (
            SELECT row_number() OVER () AS n, event_timestamp,
                   TRY_CAST(event_timestamp AS BIGINT) IS NOT NULL AS readable FROM {raw})
        WHERE NOT readable OR {out_of_range(ts)}
        LIMIT 1
    """,
    )
    if not bad:
        return
    # Found in the rows of all files together: the files are read again, once, to name the
    # file it is in and its row there.
    micros = epoch_to_ts("TRY_CAST(v AS BIGINT)")
    located = ctx.first_bad(
        "CAST(event_timestamp AS VARCHAR)",
        f"TRY_CAST(v AS BIGINT) IS NULL OR {out_of_range(micros)}",
        detail=f"year({micros})",
    )
    if located is not None and not located.file_has_values:
        raise InputError(
            "no event_timestamp in any row, though other files of the input have one",
            path=located.path,
            field="event_timestamp",
            hint="give each GA4 export its event_timestamp, or scan that file on its own",
        )
    path, row, value, year = (
        (located.path, located.row, located.value, located.detail)
        if located
        else (ctx.where(), int(bad[0]), bad[1], bad[2])
    )
    if year is not None:  # read, but out of range
        raise InputError(
            out_of_range_message(year),
            path=path,
            row=row,
            field="event_timestamp",
            hint=OUT_OF_RANGE_HINT,
        )
    raise InputError(
        f"event_timestamp ({describe_value(value)}) is not microseconds since the epoch",
        path=path,
        row=row,
        field="event_timestamp",
        hint="GA4 exports give microseconds as a number; fix or drop that row",
    )


def _param_types(ctx: StageContext, raw: str) -> list[tuple[str, str]]:
    """Return each event_params key with the SQL type its values take."""
    rows = ctx.con.execute(f"""
        SELECT p.key,
               count(p.value.string_value) AS s,
               count(p.value.int_value) AS i,
               count(coalesce(p.value.double_value, p.value.float_value)) AS d
        FROM (SELECT unnest(params) AS p FROM {raw})
        WHERE p.key IS NOT NULL AND p.key <> ''  -- no column can be named "" (see stage)
        GROUP BY 1 ORDER BY 1
    """).fetchall()
    out = []
    for key, s, _ints, d in rows:
        if s == 0 and d == 0:
            out.append((key, "BIGINT"))
        elif s == 0:
            out.append((key, "DOUBLE"))
        else:
            out.append((key, "VARCHAR"))
    return out


def _param_expr(key: str, sql_type: str) -> str:
    value = f"list_filter(params, lambda x: x.key = {literal(key)})[1].value"
    if sql_type == "BIGINT":
        return f"{value}.int_value"
    if sql_type == "DOUBLE":
        return f"coalesce({value}.double_value, {value}.float_value, {value}.int_value)"
    return (
        f"coalesce({value}.string_value, CAST({value}.int_value AS VARCHAR), "
        f"CAST(coalesce({value}.double_value, {value}.float_value) AS VARCHAR))"
    )


def stage(ctx: StageContext) -> Staged:
    """Stage a GA4 export as canonical events; GA4 carries no consent log of its own."""
    missing = [c for c in REQUIRED if c not in ctx.columns]
    if missing:
        raise InputError(
            f"is not a GA4 export: no {', '.join(missing)} column",
            path=ctx.files[0],
            hint="leave --format auto, or export the GA4 event tables",
        )
    raw = _stage_raw(ctx)
    _check_timestamps(ctx, raw)

    features = []
    names = FeatureNames()
    for key, sql_type in _param_types(ctx, raw):
        name = names.give(key)
        features.append(f"{_param_expr(key, sql_type)} AS {quote(name)}")
    session = _param_expr("ga_session_id", "VARCHAR")
    feature_sql = ",\n".join(features) or "NULL AS _no_feature"

    view = f"{ctx.prefix}_events"
    ctx.create(f"""
        CREATE TEMP VIEW {view} AS
        SELECT {stable_id("user_pseudo_id", "event_timestamp", "event_name", "bundle")} AS event_id,
               {literal(ctx.source)} AS source,
               {epoch_to_ts("event_timestamp")} AS ts,
               event_name,
               coalesce(user_id, user_pseudo_id) AS user_key,
               user_pseudo_id AS anon_key,
               CASE WHEN {session} IS NOT NULL
                    THEN coalesce(user_pseudo_id, '') || ':' || {session} END AS session_key,
               user_pseudo_id IS NULL AND user_id IS NULL AS cookieless,
               device, country, channel,
               {flag("pi_analytics", ctx.config.status_words)} AS consent_analytics,
               {flag("pi_ads", ctx.config.status_words)} AS consent_ads,
               {ctx.index} AS _input,
               {feature_sql}
        FROM {raw}
    """)
    staged = Staged(format=NAME, events_view=view, time_field="event_timestamp")
    if not features:
        staged.notes.append("no event_params found: no features to check")
    unnamed = ctx.con.execute(
        f"SELECT count(*) FROM {raw} "
        "WHERE list_contains(list_transform(params, lambda p: p.key), '')"
    ).fetchone()
    staged.notes += _unread_privacy_notes(ctx, raw)
    if unnamed and unnamed[0]:
        staged.notes.append(
            f'{unnamed[0]:,} event(s) carry an event_params entry whose key is empty (""): '
            "left out, as no feature can be named so"
        )
    return staged


def _unread_privacy_notes(ctx: StageContext, raw: str) -> list[str]:
    """Notes on the events whose ``privacy_info`` storage value is neither granted, denied nor
    "no decision" (``Maybe``, an object): their state was unknown without a word, where a flat
    file's flag column of such values has its note."""
    words = ctx.config.status_words
    parts = [
        f"count_if({column} IS NOT NULL AND {unread_flag(column, words)}), "
        f"min({column}) FILTER (WHERE {column} IS NOT NULL AND {unread_flag(column, words)})"
        for column in ("pi_analytics", "pi_ads")
    ]
    counts = one(ctx.con, f"SELECT {', '.join(parts)} FROM {raw}")
    where = {"analytics": "privacy_info.analytics_storage", "ads": "privacy_info.ads_storage"}
    return [
        unread_flag_note(field, int(n), example, purpose)
        for (purpose, field), n, example in zip(
            where.items(), counts[::2], counts[1::2], strict=True
        )
        if n
    ]
