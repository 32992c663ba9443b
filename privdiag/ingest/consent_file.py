"""Consent records from separate files: one row per decision (user, purpose, status, time).

CMP vocabularies are mapped onto canonical purposes by the aliases; a category that maps to
nothing is reported, never silently dropped.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from privdiag.engine import literal, one, quote
from privdiag.errors import InputError
from privdiag.ingest.base import StageContext, Staged, json_as_text
from privdiag.ingest.consent_strings import (
    STRING_COLUMNS,
    consent_rows_sql,
    decoded_table,
    unread,
)
from privdiag.ingest.placeholders import without_placeholder
from privdiag.ingest.roles import CONSENT_ROLES, find_roles, refuse_nested, taken_by_mapping
from privdiag.ingest.sqlparts import (
    EARLIEST,
    day_only,
    decision_sql,
    flag,
    fold_words,
    id_text,
    is_one_of,
    offsetless,
    offsetless_note,
    status_words,
    status_words_hint,
    time_problem,
    typed_ts,
    unread_flag,
    unread_or_out_of_range,
)
from privdiag.ingest.validation import OUT_OF_RANGE_HINT
from privdiag.privacy import describe_value
from privdiag.state import DAY_ONLY

NAME = "consent"


def fold_sql(expr: str) -> str:
    """SQL form of :func:`privdiag.purposes.fold`."""
    return f"regexp_replace(lower(trim(CAST({expr} AS VARCHAR))), '[ ./-]', '_', 'g')"


def alias_values(aliases: dict[str, str]) -> str:
    """SQL VALUES list of (word, purpose) for joining source vocabularies."""
    rows = ", ".join(f"({literal(w)}, {literal(p)})" for w, p in sorted(aliases.items()))
    return f"(VALUES {rows}) AS aliases(alias_word, alias_purpose)"


def _where(ctx: StageContext) -> str:
    return str(ctx.files[0]) if len(ctx.files) == 1 else f"{ctx.files[0].parent}/"


def _time(ctx: StageContext, column: str, expr: str | None = None) -> str:
    """SQL of a decision time read from ``column`` (as ``expr``, by default the column): a
    column DuckDB typed as a time or an integer is cast as it is, not through its text, which
    every row would be turned into and matched against a pattern (:func:`typed_ts`)."""
    return typed_ts(expr or quote(column), ctx.columns.get(column, "VARCHAR"))


def _keyed(roles: dict[str, str]) -> dict[str, str]:
    """``roles`` with ``user_id`` standing for the anonymous id when the file has no user id
    column: either keys a decision."""
    if "user_id" in roles or "anonymous_id" not in roles:
        return roles
    return roles | {"user_id": roles["anonymous_id"]}


def _user_sql(roles: dict[str, str], of: str = "") -> str:
    """SQL of the key a decision row meets the events on, as events are keyed: its user id,
    else (none, or a placeholder such as ``undefined``) its anonymous id. A CMP's log of a
    visitor not logged in holds only the anonymous id; such a row was left out as having no
    user, though its events, keyed by that id, were there. A placeholder user id without an
    anonymous id stays, for the loader to drop with its note."""
    ids = [id_text(f"{of}{quote(roles[r])}") for r in ("user_id", "anonymous_id") if r in roles]
    if len(ids) == 1:
        return ids[0]
    return f"coalesce({without_placeholder(ids[0])}, {ids[1]}, {ids[0]})"


def _validate_times(ctx: StageContext, roles: dict[str, str]) -> None:
    """Refuse the first row whose decision time is empty, unreadable, or (as for events)
    before EARLIEST or more than two days ahead, naming its row and the file's column."""
    read = _time(ctx, roles["ts"], "v")
    bad = ctx.first_bad_row(
        quote(roles["ts"]),
        unread_or_out_of_range(read),
        detail=f"CAST(year({read}) AS VARCHAR)",
    )
    if bad and bad[2] is not None:
        raise InputError(
            f"a consent decision time in year {bad[2]} is before {EARLIEST} or in the future",
            path=_where(ctx),
            row=int(bad[0]),
            field=roles["ts"],
            hint=OUT_OF_RANGE_HINT,
        )
    if bad:
        raise InputError(
            time_problem(bad[1], "decision time"),
            path=_where(ctx),
            row=int(bad[0]),
            field=roles["ts"],
            hint=ctx.time_hint(roles["ts"]),
        )


def _time_notes(ctx: StageContext, column: str) -> tuple[list[str], bool]:
    """The note on the decision times of ``column`` read as UTC though they say no offset,
    and whether any is a date without a time of day (:func:`day_only`), which the records
    then mark (:func:`_dated`)."""
    sql_type = ctx.columns.get(column, "VARCHAR")
    found = one(
        ctx.con,
        f"SELECT count_if({offsetless(quote(column), sql_type)}), "
        f"count_if({day_only(quote(column), sql_type)}) FROM {ctx.read_sql}",
    )
    count, dates = (int(n or 0) for n in found) if found else (0, 0)
    return offsetless_note(column, count, "decision time", sql_type, dates), dates > 0


def _dated(ctx: StageContext, column: str, dated: bool, of: str = "") -> str:
    """The select item marking a decision time of ``column`` (of the table ``of``) that is
    a date without a time of day, as :data:`DAY_ONLY` (privdiag.state.dated_decisions): ""
    when the file has none (``dated``)."""
    if not dated:
        return ""
    return f", {day_only(of + quote(column), ctx.columns.get(column, 'VARCHAR'))} AS {DAY_ONLY}"


def _validate(ctx: StageContext, roles: dict[str, str]) -> None:
    status = quote(roles["status"])
    # a word saying no decision ('pending', 'unset') leaves its row out, as an empty status
    words = ctx.config.status_words
    bad = ctx.first_bad_row(status, f"v IS NOT NULL AND {unread_flag('v', words)}")
    if bad:
        raise InputError(
            f"consent status ({describe_value(bad[1])}) is neither granted nor denied",
            path=_where(ctx),
            row=int(bad[0]),
            field=roles["status"],
            hint=status_words_hint(words),
        )
    _validate_times(ctx, roles)


def stage(ctx: StageContext) -> Staged:
    """Stage a consent file as canonical consent records."""
    if is_snowplow_log(ctx.columns):
        _check_all_logs(ctx)
        return _stage_snowplow_log(ctx)
    json_as_text(ctx)
    roles = find_roles(
        list(ctx.columns), CONSENT_ROLES, ctx.config.consent_columns or None, path=_where(ctx)
    )
    refuse_nested(
        ctx, roles, ("user_id", "anonymous_id", "purpose", "status", "tc_string"), _where(ctx)
    )
    if "tc_string" in roles and ("purpose" not in roles or "status" not in roles):
        return _stage_strings(ctx, roles)
    missing = [r for r in ("user_id", "purpose", "status", "ts") if r not in _keyed(roles)]
    if missing:
        raise _lacks_columns(ctx, missing)
    _validate(ctx, roles)
    time_notes, dated = _time_notes(ctx, roles["ts"])

    def opt(role: str) -> str:
        return f"CAST({quote(roles[role])} AS VARCHAR)" if role in roles else "NULL"

    aliases = alias_values(ctx.config.alias_map())
    # A table, not a view: the times and aliases are parsed once, not in each of the four
    # queries that read the records (validation, unmapped categories, counts, the insert).
    base = f"{ctx.prefix}_consent_base"
    ctx.create(f"""
        CREATE TEMP TABLE {base} AS
        SELECT {_user_sql(roles)} AS user_key,
               CAST({quote(roles["purpose"])} AS VARCHAR) AS category,
               aliases.alias_purpose AS purpose,
               {flag(quote(roles["status"]), ctx.config.status_words)} AS granted,
               {_time(ctx, roles["ts"])} AS ts,
               coalesce({opt("source")}, {literal(ctx.source)}) AS source,
               {opt("version")} AS version,
               {opt("region")} AS region,
               {opt("device")} AS device{_dated(ctx, roles["ts"], dated)},
               {_string_only(roles, ctx.config.status_words)} AS string_row
        FROM {ctx.read_sql}
        LEFT JOIN {aliases} ON aliases.alias_word = {fold_sql(quote(roles["purpose"]))}
    """)
    view = f"{ctx.prefix}_consent"
    ctx.create(f"""
        CREATE TEMP VIEW {view} AS
        SELECT user_key, purpose, granted, ts, source, version, region, device
               {f", {DAY_ONLY}" if dated else ""}
        FROM {base} WHERE purpose IS NOT NULL AND user_key IS NOT NULL AND granted IS NOT NULL
    """)
    staged = Staged(
        format=NAME,
        consent_view=view,
        day_only=dated,
        unmapped_sql=f"SELECT category, user_key, "
        f"{decision_sql('granted', 'ts', 'version', 'region', 'device')} AS decision "
        f"FROM {base} WHERE purpose IS NULL AND category IS NOT NULL",
    )
    strings = _string_rows(ctx, roles)
    staged.notes += _without_user(ctx, base, "category IS NOT NULL")
    staged.notes += _without_decision(ctx, base, roles)
    staged.notes += time_notes
    if strings:
        _with_string_rows(ctx, roles, staged)
    return staged


def _string_only(roles: dict[str, str], words: dict[str, str] | None) -> str:
    """SQL true for a row of a file of purposes, statuses and TC strings whose decision is its
    string's: it holds a string, and no purpose or a status saying no decision (empty, or
    a word such as 'pending' in ``words``, :func:`flag`), so that its purpose says nothing.
    FALSE for a file without a string column."""
    if "tc_string" not in roles:
        return "FALSE"

    def empty(role: str) -> str:
        return f"nullif(trim(CAST({quote(roles[role])} AS VARCHAR)), '') IS NULL"

    undecided = f"{flag(quote(roles['status']), words)} IS NULL"
    return f"({empty('purpose')} OR {undecided}) AND NOT {empty('tc_string')}"


def _string_rows(ctx: StageContext, roles: dict[str, str]) -> int:
    """The rows of a file of purposes and statuses whose TC string decides
    (:func:`_string_only`; none without a string column)."""
    if "tc_string" not in roles:
        return 0
    alone = _string_only(roles, ctx.config.status_words)
    row = one(ctx.con, f"SELECT count(*) FROM {ctx.read_sql} WHERE {alone}")
    return int(row[0]) if row else 0


def _with_string_rows(ctx: StageContext, roles: dict[str, str], staged: Staged) -> None:
    """Add to ``staged`` the records of the rows whose TC string decides (:func:`_string_only`),
    read as a file of strings is: a log that writes some decisions as a purpose and a status
    and others as the CMP's string lost the latter, "left out, as they say no decision"."""
    column = quote(roles["tc_string"])
    # the other rows' strings read as none, so that an error or note names the file's rows
    alone = (
        f"CASE WHEN {_string_only(roles, ctx.config.status_words)} THEN {column} END AS {column}"
    )
    rows = replace(
        ctx,
        read_sql=f"(SELECT * REPLACE ({alone}) FROM {ctx.read_sql})",
        prefix=f"{ctx.prefix}_strings",
    )
    strings = _stage_strings(rows, roles)
    both = f"{ctx.prefix}_consent_all"
    ctx.create(
        f"CREATE TEMP VIEW {both} AS SELECT * FROM {staged.consent_view} "
        f"UNION ALL SELECT * FROM {strings.consent_view}"
    )
    staged.consent_view = both
    staged.notes += [n for n in strings.notes if n not in staged.notes]  # times said once


def _without_decision(ctx: StageContext, table: str, roles: dict[str, str]) -> list[str]:
    """The note on the rows of ``table`` left out for an empty purpose or status (none when
    there are none): they say no decision. Counts only, never the rows' values. The rows
    whose TC string decides (``string_row``, :func:`_with_string_rows`) are not counted."""
    found = one(
        ctx.con,
        f"""
        SELECT count(*) FILTER (WHERE nullif(trim(category), '') IS NULL OR granted IS NULL),
               count(*) FILTER (WHERE nullif(trim(category), '') IS NULL),
               count(*) FILTER (WHERE granted IS NULL)
        FROM {table} WHERE NOT string_row
        """,
    )
    rows, purpose, status = found or (0, 0, 0)
    if not rows:
        return []
    said = quote(roles["status"])
    undecided = tuple(w for w in status_words(ctx.config.status_words)["undecided"] if w)
    words = f"{is_one_of(fold_words(said), undecided)}"
    alone = _string_only(roles, ctx.config.status_words)
    worded = (
        one(ctx.con, f"SELECT count(*) FROM {ctx.read_sql} WHERE {words} AND NOT ({alone})") or (0,)
    )[0]
    status_text = (
        f"no decision in their status ({status:,}: empty, or a word such as 'pending' or 'unset')"
        if worded
        else f"status ({status:,})"
    )
    return [
        f"{rows:,} consent row(s) with an empty purpose ({purpose:,}) or {status_text} "
        f"left out, as they say no decision (columns '{roles['purpose']}', "
        f"'{roles['status']}')"
    ]


def _without_user(ctx: StageContext, table: str, rows: str) -> list[str]:
    """The note on the decision ``rows`` of ``table`` left out for having no user id (none when
    there are none): a decision applies to no event without one."""
    count = (
        one(ctx.con, f"SELECT count(*) FROM {table} WHERE user_key IS NULL AND {rows}") or (0,)
    )[0]
    if not count:
        return []
    return [
        f"{count:,} consent decision row(s) without a user id left out, as they belong to no user"
    ]


def _events_export_hint(ctx: StageContext) -> str:
    """A hint for an events export given with --consent (its columns are a GA4, Segment or
    Snowplow export's) or for a warehouse's shredded Snowplow consent_preferences table, else
    ""."""
    from privdiag.ingest.staging import detected_export

    if {"root_id", "event_type", "consent_scopes"} <= {c.lower() for c in ctx.columns}:
        return (
            "it looks like Snowplow's shredded consent_preferences table (rows keyed by "
            "root_id, with no user column): pass dbt-snowplow-web's consent log "
            "(snowplow_web_consent_log) with --consent instead, or the events with this "
            "table joined on as their consent_preferences column"
        )
    fmt = detected_export(ctx.columns)
    if not fmt:
        return ""
    return (
        f"it looks like a {fmt} events export, not a consent file: pass it as data "
        "(privdiag scan FILE); privdiag reads the consent its events carry"
    )


def _lacks_columns(ctx: StageContext, missing: list[str], hint: str = "") -> InputError:
    """The error for a consent file without columns for the roles ``missing``: when the
    config's mapping took the column one of them is read from, it says so first."""
    mapping = ctx.config.consent_columns or None
    taken = taken_by_mapping(list(ctx.columns), CONSENT_ROLES, mapping, missing)
    if taken:
        said = "; ".join(
            f"the config maps column {column!r}, which {role} is read from, to {mapped}"
            for column, role, mapped in taken
        )
        mapped = taken[0][2]
        return InputError(
            f"consent file lacks columns for {', '.join(missing)}: {said}",
            path=_where(ctx),
            hint=f"map {mapped} to the column that holds it: [consent] columns = {{ {mapped} = "
            f'"<column>" }} (it has: {", ".join(list(ctx.columns)[:12])})',
        )
    return InputError(
        f"consent file lacks columns for {', '.join(missing)}",
        path=_where(ctx),
        hint=hint
        or _events_export_hint(ctx)
        or f"{_accepted_names(missing)}; rename the columns to match, or map them in "
        f'privdiag.toml, [consent] columns = {{ {missing[0]} = "<column>" }} '
        f"(it has: {', '.join(list(ctx.columns)[:12])})",
    )


def _accepted_names(roles: list[str]) -> str:
    """The column names read for each of ``roles`` ("ts from ts, timestamp, ..."), so a file
    whose user column is ``customer`` is told which names would be read, not only the roles."""
    names = "; ".join(f"{role} from {', '.join(CONSENT_ROLES[role])}" for role in roles)
    return f"privdiag reads {names}"


def _stage_strings(ctx: StageContext, roles: dict[str, str]) -> Staged:
    """Stage a consent file whose rows carry a TC string (or gcd / gcs) instead of a purpose."""
    missing = [r for r in ("user_id", "ts") if r not in _keyed(roles)]
    if missing:
        raise _lacks_columns(ctx, missing, "a file of consent strings needs user_id and ts columns")
    _validate_times(ctx, roles)
    column = roles["tc_string"]
    kind = STRING_COLUMNS.get(column.lower(), "tcf")
    decoded = f"{ctx.prefix}_decoded"
    value = decoded_table(ctx.con, ctx.read_sql, column, kind, decoded)
    time_notes, dated = _time_notes(ctx, roles["ts"])
    notes = _undecoded_rows(ctx, column, kind, decoded, value) + time_notes
    version = f"CAST(src.{quote(roles['version'])} AS VARCHAR)" if "version" in roles else "NULL"
    extra = (
        f"{literal(ctx.source)} AS source, {version} AS version, NULL AS region, NULL AS device"
        f"{_dated(ctx, roles['ts'], dated, 'src.')}"
    )
    user = _user_sql(roles, "src.")
    ts = _time(ctx, roles["ts"], f"src.{quote(roles['ts'])}")
    sql = consent_rows_sql(decoded, value, ctx.read_sql, column, user, ts, extra)
    view = f"{ctx.prefix}_consent"
    ctx.create(f"CREATE TEMP TABLE {view} AS {sql}")
    ctx.con.unregister(decoded)  # read by that statement only
    return Staged(format=NAME, consent_view=view, notes=notes, day_only=dated)


# What a column of each kind of consent string should hold, for the hint of an error.
_STRING_HINTS = {
    "tcf": "the column should hold IAB TCF v2 TC strings (the euconsent-v2 value the CMP "
    "stores), not URL-encoded and not cut off",
    "gcd": "the column should hold Consent Mode gcd values, e.g. 11p1t1p1t5",
    "gcs": "the column should hold Consent Mode gcs values, e.g. G110",
}


def preview(value: str) -> str:
    """Return what a consent string looks like, for messages: its length, never its text.

    The first characters of a TC string hold its creation time to a tenth of a second, which
    can help single out a device; the row number tells the user where it is.
    """
    return f"a {len(value)}-character string"


def _undecoded_rows(
    ctx: StageContext, column: str, kind: str, decoded: str, value: str
) -> list[str]:
    """Return the notes on the rows whose consent string could not be decoded, and on those
    whose TC string was read only in part (their purposes used); none when there are none.

    Raises InputError, naming the first such row and why, when no row's string decodes:
    the file then gives no consent record at all. Rows without a string are not counted.
    """
    counts = one(
        ctx.con,
        f"""
        WITH src AS (
            SELECT row_number() OVER () AS n, CAST({quote(column)} AS VARCHAR) AS v
            FROM {ctx.read_sql}
        )
        SELECT count(*) FILTER (WHERE d.error IS NULL),
               count(*) FILTER (WHERE d.error IS NOT NULL),
               arg_min(src.n, src.n) FILTER (WHERE d.error IS NOT NULL),
               arg_min(src.v, src.n) FILTER (WHERE d.error IS NOT NULL),
               arg_min(d.error, src.n) FILTER (WHERE d.error IS NOT NULL),
               count({unread(kind)}),
               arg_min(src.n, src.n) FILTER (WHERE {unread(kind)} IS NOT NULL),
               arg_min(src.v, src.n) FILTER (WHERE {unread(kind)} IS NOT NULL),
               arg_min({unread(kind)}, src.n)
        FROM src JOIN {decoded} d ON src.v = d.{value}
    """,
    )
    good, bad, row, string, reason, *partly = counts or (0, 0, None, None, None, 0, 0, 0, 0)
    notes = [_partly_read(column, good + bad, *partly)] if partly[0] else []
    if not bad:
        return notes
    if not good:
        raise InputError(
            f"none of the {bad:,} consent strings could be decoded; the first, "
            f"{preview(string)}: {reason}",
            path=_where(ctx),
            row=int(row),
            field=column,
            hint=_STRING_HINTS[kind],
        )
    verb = "was" if bad == 1 else "were"
    return [
        f"{bad:,} of {good + bad:,} rows could not be decoded and {verb} left out "
        f"(first: row {row}, field '{column}', {preview(string)}: {reason})",
        *notes,
    ]


def _partly_read(column: str, rows: int, count: int, row: int, string: str, why: str) -> str:
    """The note on ``count`` of ``rows`` rows whose TC string was read only in part."""
    verb = "was" if count == 1 else "were"
    return (
        f"{count:,} of {rows:,} rows hold a TC string that {verb} read only in part: their "
        "purpose consents are used, what follows them (vendors, publisher restrictions) "
        f"could not be read (first: row {row}, field '{column}', {preview(string)}: {why})"
    )


# The columns that make a file the consent log of dbt-snowplow-web (snowplow_web_consent_log).
SNOWPLOW_LOG_COLUMNS = ("event_name", "event_type", "consent_scopes", "derived_tstamp")


def is_snowplow_log(columns: dict[str, str]) -> bool:
    """True for an export of dbt-snowplow-web's consent log: one row per consent event."""
    names = {c.lower() for c in columns}
    return set(SNOWPLOW_LOG_COLUMNS) <= names and bool({"domain_userid", "user_id"} & names)


def _file_columns(ctx: StageContext, path: Path) -> dict[str, str]:
    """The columns of one file of a consent input (a CSV's from its header line)."""
    from privdiag.ingest.file_checks import header_names
    from privdiag.ingest.files import sniff
    from privdiag.ingest.reading import describe, reader_sql

    kind = sniff(path)
    if kind.container == "csv" and not kind.compressed:
        return dict.fromkeys(header_names(path) or [], "VARCHAR")
    return describe(ctx.con, reader_sql([path], kind, sample=1000), str(path), [path])


def _check_all_logs(ctx: StageContext) -> None:
    """Refuse a folder or glob of consent files in which only some are a Snowplow consent log:
    read as one table, the other files' rows would be taken for log rows without a time."""
    if len(ctx.files) < 2:
        return
    shapes = [(path, is_snowplow_log(_file_columns(ctx, path))) for path in ctx.files]
    logs = [p for p, log in shapes if log]
    others = [p for p, log in shapes if not log]
    if others:
        raise InputError(
            f"mixes a Snowplow consent log ({logs[0].name}) with consent files of another "
            f"shape ({', '.join(p.name for p in others[:3])}"
            f"{f' and {len(others) - 3} more' if len(others) > 3 else ''})",
            path=_where(ctx),
            hint="give the log and the other consent files as separate --consent arguments",
        )


# What an array written as text puts around its items: brackets, braces, quotes (and spaces).
_ARRAY_MARKS = literal(" []{}\"'")


def _scopes_sql(names: dict[str, str], columns: dict[str, str]) -> str:
    """SQL VARCHAR[] of a log row's consent scopes, trimmed, empty ones dropped ([] when none).

    The column is text in a CSV ("necessary, statistics", or a JSON array '["necessary"]' as
    some warehouses write an array to text; other array texts, "{necessary,statistics}" of
    Postgres or "['necessary']", lose their brackets and quotes), and a list in Parquet or
    NDJSON.
    """
    if "consent_scopes" not in names:
        return "CAST([] AS VARCHAR[])"
    column = quote(names["consent_scopes"])
    kind = columns[names["consent_scopes"]].upper()
    if kind == "JSON[]":
        items = f"list_transform({column}, lambda j: j ->> '$')"
    elif kind.endswith("[]"):
        items = f"CAST({column} AS VARCHAR[])"
    else:
        text = f"CAST({column} AS VARCHAR)" if kind != "JSON" else f"({column} ->> '$')"
        j = f"TRY_CAST({text} AS JSON)"
        items = (
            f"CASE WHEN json_type({j}) = 'ARRAY' THEN CAST({j} AS VARCHAR[]) "
            f"ELSE list_transform(string_split({text}, ','), lambda s: trim(s, {_ARRAY_MARKS})) END"
        )
    return (
        f"coalesce(list_filter(list_transform({items}, lambda s: trim(s)), lambda s: s <> ''), [])"
    )


def _stage_snowplow_log(ctx: StageContext) -> Staged:
    """Stage dbt-snowplow-web's consent log: its consent_preferences rows become records as
    the same events would in a Snowplow events export (:mod:`privdiag.ingest.snowplow`), so a
    log and the events it came from give the same records under the same keys: the browser
    (``domain_userid``), else the user id, as dbt-snowplow-web keeps consent per browser."""
    from privdiag.ingest.snowplow_consent import (
        consent_view,
        event_type_notes,
        preference_decisions,
        unmapped_sql,
    )

    names = {c.lower(): c for c in ctx.columns}
    _validate_times(ctx, {"ts": names["derived_tstamp"]})
    when = names["derived_tstamp"]

    def col(name: str) -> str:
        if name not in names:
            return "CAST(NULL AS VARCHAR)"
        return f"nullif(trim(CAST({quote(names[name])} AS VARCHAR)), '')"

    parsed = f"{ctx.prefix}_sp_log"
    # One table: read by the decisions, the unmapped categories and the note below.
    ctx.create(f"""
        CREATE TEMP TABLE {parsed} AS
        SELECT row_number() OVER () AS row_key,  -- each row its own decision, whatever its id
               coalesce({without_placeholder(col("domain_userid"))},  -- the browser's
                        {without_placeholder(col("network_userid"))},
                        {without_placeholder(col("user_id"))}) AS user_key,
               {_time(ctx, when)} AS ts,
               coalesce({day_only(quote(when), ctx.columns[when])}, FALSE) AS {DAY_ONLY},
               CASE WHEN lower({col("event_name")}) = 'consent_preferences' THEN TRUE END AS cp,
               lower({col("event_type")}) AS event_type,
               {col("consent_version")} AS consent_version,
               {_scopes_sql(names, ctx.columns)} AS consent_scopes,
               {col("geo_country")} AS geo_country,
               CAST(NULL AS VARCHAR) AS device,
               CAST(NULL AS JSON[]) AS docs
        FROM {ctx.read_sql}
    """)
    aliases = alias_values(ctx.config.alias_map())
    # decision times that are dates alone: the records mark them, as a consent file's
    found = one(ctx.con, f"SELECT count_if(cp AND {DAY_ONLY}) FROM {parsed}")
    dates = int(found[0] or 0) if found else 0
    staged = Staged(
        format=NAME,
        consent_view=consent_view(ctx, preference_decisions(parsed, aliases), dated=dates > 0),
        unmapped_sql=unmapped_sql(parsed, aliases),
        day_only=dates > 0,
    )
    staged.notes += _without_user(ctx, parsed, "cp")
    staged.notes += event_type_notes(ctx.con, parsed, "row(s) of the Snowplow consent log")
    staged.notes += offsetless_note(when, dates, "decision time", dates=dates)
    return staged
