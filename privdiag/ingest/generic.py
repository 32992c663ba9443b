"""Generic flat tables (CSV, NDJSON, Parquet): one row per event, one column per feature.

Roles (time, event name, user, anonymous id, session) are found by common column names or
mapped in the config under ``[sources.NAME.columns]``. Columns named ``consent_<word>`` are
the event's own consent flags, ``<word>`` being a purpose or an alias of one.
"""

from __future__ import annotations

from privdiag.engine import literal, one, quote
from privdiag.errors import InputError
from privdiag.ingest.base import BadRow, StageContext, Staged, json_as_text
from privdiag.ingest.files import partition_columns
from privdiag.ingest.roles import (
    EVENT_ROLES,
    ID_ROLES,
    find_roles,
    reads_as_consent,
    refuse_nested,
    taken_by_mapping,
)
from privdiag.ingest.sqlparts import (
    CANONICAL_COLUMNS,
    FeatureNames,
    day_only,
    flag,
    offsetless,
    offsetless_note,
    stable_id,
    time_problem,
    typed_ts,
    unread_flag,
    unread_or_out_of_range,
)
from privdiag.ingest.validation import out_of_range_error
from privdiag.privacy import describe_value
from privdiag.state import DAY_ONLY

NAME = "generic"
# Consent words a note may quote as they are: a vocabulary, never a person's data.
SAFE_FLAG_WORDS = frozenset(
    {
        "maybe",
        "partial",
        "custom",
        "essential",
        "all",
        "yes_all",
        "no_all",
        "opted_out",
        "opted_in",
        "opted-out",
        "opted-in",
        "optedout",
        "optedin",
    }
)


def detect(columns: dict[str, str]) -> bool:
    """Any table can be read as generic; it is the fallback."""
    return True


# Consent flag columns whose distinct values (their combinations, across the input's flag
# columns) are at most this many are read by value: each value is read once, and the events
# then compare their raw value with the few read as granted or denied instead of lower-casing
# and trimming every event's value (about 2 CPU-s per column and 10M events, twice: once to
# count unread values, once to stage). Beyond it, every event's value is read.
MAX_FLAG_VALUES = 1000
# Types whose values Python gets back exactly, so that they can be written as SQL literals.
_INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)


def _check_ts(
    ctx: StageContext, column: str, flags: dict[str, str]
) -> tuple[list[str], dict[str, str], bool]:
    """Raise InputError naming the first row whose time is empty, unreadable, before 2000 or
    more than two days ahead; return a note per consent flag column (``flags``: column ->
    purpose) holding values it cannot read, per column the SQL reading it as a flag, and
    whether a time is a date without a time of day (:func:`day_only`).

    One cheap pass finds them all; the row is only looked for when there is one to find.
    """
    sql_type = ctx.columns.get(column, "VARCHAR")
    converted = typed_ts("v", sql_type)
    bad_when = unread_or_out_of_range(converted)
    words = ctx.config.status_words
    # count_if over only NULL conditions (a group of empty times) gives NULL in DuckDB, not 0
    no_offset = (
        f"coalesce(count_if({offsetless('v', sql_type)}), 0), "
        f"coalesce(count_if({day_only('v', sql_type)}), 0)"
    )
    by_value = _flags_by_value(ctx, column, bad_when, flags, no_offset) if flags else None
    if by_value:
        bad_ts, (offsetless_times, dates), notes, reads = by_value
    else:
        # any_value of a CASE, not with FILTER: Spark's SQL has no FILTER on any_value
        unread = [
            f"count_if({unread_flag(quote(c), words)}), "
            f"any_value(CASE WHEN {unread_flag(quote(c), words)} THEN {quote(c)} END)"
            for c in flags
        ]
        found = one(
            ctx.con,
            f"SELECT bool_or({bad_when}), {no_offset}{''.join(', ' + u for u in unread)} "
            f"FROM (SELECT {quote(column)} AS v, * FROM {ctx.read_sql})",
        )
        bad_ts = bool(found and found[0])
        offsetless_times, dates = (int(found[1]), int(found[2])) if found else (0, 0)
        notes = _unread_notes(flags, found[3:] if found else (None, None) * len(flags))
        reads = {c: flag(quote(c), words) for c in flags}
    if not bad_ts:
        said = offsetless_note(column, offsetless_times, sql_type=sql_type, dates=dates)
        return said + notes, reads, dates > 0
    bad = ctx.first_bad(quote(column), bad_when, detail=f"year({converted})")
    if bad and not bad.file_has_values:
        raise InputError(
            f"no event time in any row: the file has no {column!r} column, or it is empty, "
            "though other files of the input have one",
            path=bad.path,
            hint="give the file a time column like the others, or scan it on its own with "
            'its time column mapped ([sources.<name>.columns] ts = "<column>")',
        )
    if bad:
        _raise_bad_ts(column, bad, ctx.time_hint(column))
    return [], reads, False


def _flags_by_value(
    ctx: StageContext, column: str, bad_when: str, flags: dict[str, str], no_offset: str
) -> tuple[bool, tuple[int, int], list[str], dict[str, str]] | None:
    """The time check and the flag columns' values in one grouping by those values: whether
    a time is bad, how many times say no offset and how many are dates alone (``no_offset``,
    SQL counting both), the notes on unread values, and per purpose the SQL reading its
    column by comparing raw values.
    None when the columns hold more than :data:`MAX_FLAG_VALUES` combinations of values."""
    keys = [f"c{j}" for j in range(len(flags))]
    inner = ", ".join(f"{quote(c)} AS {k}" for c, k in zip(flags, keys, strict=True))
    words = ctx.config.status_words
    per_value = ", ".join(f"{k}, {flag(k, words)}, {unread_flag(k, words)}" for k in keys)
    rows = ctx.con.execute(
        f"SELECT bool_or({bad_when}), count(*), {per_value}, {no_offset} "
        f"FROM (SELECT {quote(column)} AS v, {inner} FROM {ctx.read_sql}) "
        f"GROUP BY {', '.join(keys)} LIMIT {MAX_FLAG_VALUES + 1}"
    ).fetchall()
    if len(rows) > MAX_FLAG_VALUES:
        return None
    counts: list = []
    reads = {}
    for j, name in enumerate(flags):
        value, read, unread = 2 + 3 * j, 3 + 3 * j, 4 + 3 * j
        unread_values = sorted(str(r[value]) for r in rows if r[unread])
        counts.append(sum(r[1] for r in rows if r[unread]))
        counts.append(unread_values[0] if unread_values else None)
        said = {
            verdict: sorted({r[value] for r in rows if r[read] is verdict}, key=str)
            for verdict in (True, False)
        }
        reads[name] = _read_by_value(quote(name), ctx.columns.get(name, ""), said, words)
    times = (sum(int(r[-2]) for r in rows), sum(int(r[-1]) for r in rows))
    return any(r[0] for r in rows), times, _unread_notes(flags, tuple(counts)), reads


def _sql_literal(value: object, sql_type: str) -> str | None:
    """``value`` of a column of ``sql_type`` as an exact SQL literal; None for a type whose
    values Python does not get back exactly (a DOUBLE, a timestamp)."""
    if sql_type == "VARCHAR":
        return literal(str(value))
    if sql_type == "BOOLEAN":
        return "TRUE" if value else "FALSE"
    if sql_type in _INTEGER_TYPES:
        return str(int(value))  # type: ignore[call-overload]
    return None


def _read_by_value(
    column: str, sql_type: str, said: dict[bool, list], words: dict[str, str] | None = None
) -> str:
    """SQL reading a flag ``column`` as TRUE or FALSE by its raw values (``said``: the values
    read as granted, and as denied); :func:`flag` itself (reading ``words``, the config's
    status words) when they cannot be written back."""
    cases = []
    for verdict, values in said.items():
        written = [_sql_literal(v, sql_type) for v in values]
        if None in written:
            return flag(column, words)
        if written:
            cases.append(f"WHEN {column} IN ({', '.join(written)}) THEN {str(verdict).upper()}")
    return f"(CASE {' '.join(cases)} END)" if cases else "CAST(NULL AS BOOLEAN)"


def _raise_bad_ts(column: str, bad: BadRow, hint: str) -> None:
    """Raise the InputError for ``bad``, whose detail is the year it was read as (or NULL)."""
    if bad.detail is not None:
        raise out_of_range_error(bad, column)
    raise InputError(
        time_problem(bad.value, "timestamp"),
        path=bad.path,
        row=bad.row,
        field=column,
        hint=hint,
    )


def _unread_notes(flags: dict[str, str], counts: tuple) -> list[str]:
    """Notes for the flag columns with values neither granted, denied nor "no decision"."""
    notes = []
    for (column, purpose), n, example in zip(flags.items(), counts[::2], counts[1::2], strict=True):
        if n:
            notes.append(unread_flag_note(column, n, example, purpose))
    return notes


def unread_flag_note(where: str, n: int, example: object, purpose: str) -> str:
    """The note on ``n`` events whose consent value at ``where`` (a flag column, a Segment
    category) is neither granted, denied nor "no decision" (``example``: the first such
    value, quoted only when it is a word of :data:`SAFE_FLAG_WORDS`)."""
    return (
        f"{where}: {n:,} event{'' if n == 1 else 's'} with a value read as neither granted nor "
        f"denied (e.g. {describe_value(example, SAFE_FLAG_WORDS)}); their {purpose} state is "
        "unknown unless the consent log decides it: write them as granted/denied "
        "(or yes/no, true/false, 1/0), or map your words in the config's [consent.status_words]"
    )


def _consent_columns(ctx: StageContext, used: set[str]) -> dict[str, str]:
    """Return column -> purpose for columns named consent_<purpose or alias>; several may
    name one purpose (OneTrust's consent_C0004 and consent_C0005 both ads)."""
    aliases = ctx.config.alias_map()
    out: dict[str, str] = {}
    for column in ctx.columns:
        low = column.lower()
        if column in used or not low.startswith("consent_"):
            continue
        if purpose := aliases.get(low.removeprefix("consent_")):
            out[column] = purpose
    return out


def _purpose_flags(columns: dict[str, str], reads: dict[str, str]) -> dict[str, str]:
    """Per purpose, SQL of its flag from its columns (``columns``: column -> purpose, each
    read by ``reads``): denied when any column denies it, granted when one grants it and
    none denies, as the consent log reads a grant and a denial of one instant. The first
    column alone was read before, the others taken for features: an event granting
    OneTrust's C0004 and denying C0005 read as ads granted."""
    by_purpose: dict[str, list[str]] = {}
    for column, purpose in columns.items():
        by_purpose.setdefault(purpose, []).append(reads[column])
    out = {}
    for purpose, read in by_purpose.items():
        if len(read) == 1:
            out[purpose] = read[0]
        else:
            denies = " OR ".join(f"{r} = FALSE" for r in read)
            out[purpose] = f"(CASE WHEN {denies} THEN FALSE WHEN {' OR '.join(read)} THEN TRUE END)"
    return out


def _consent_file_hint(ctx: StageContext) -> str:
    """A hint for a consent file given as events (its columns read as user, purpose, status
    and time), else ""."""
    if reads_as_consent(list(ctx.columns)):
        return "it looks like a consent file (user, purpose, status, time): pass it with --consent"
    return ""


def stage(ctx: StageContext) -> Staged:
    """Stage a flat table as canonical events with every other column a feature."""
    json_as_text(ctx)
    source_cfg = ctx.config.sources.get(ctx.source)
    roles = find_roles(
        list(ctx.columns), EVENT_ROLES, source_cfg.columns if source_cfg else None, path=ctx.where()
    )
    for needed in ("ts", "event_name"):
        if needed not in roles:
            mapping = source_cfg.columns if source_cfg else None
            taken = taken_by_mapping(list(ctx.columns), EVENT_ROLES, mapping, [needed])
            if taken:
                column, _, mapped = taken[0]
                raise InputError(
                    f"no column for the event {'time' if needed == 'ts' else 'name'}: the "
                    f"config maps column {column!r}, which {needed} is read from, to {mapped}",
                    path=ctx.missing(),
                    hint=f"map {mapped} to the column that holds it: "
                    f'[sources.{ctx.source}.columns] {mapped} = "<column>"',
                )
            raise InputError(
                f"no column for the event {'time' if needed == 'ts' else 'name'}",
                path=ctx.missing(),
                hint=_consent_file_hint(ctx)
                or f"name it {EVENT_ROLES[needed][0]!r} or map it under "
                f'[sources.{ctx.source}.columns] {needed} = "<column>"',
            )
    refuse_nested(ctx, roles, (*ID_ROLES, "event_name"))
    used = set(roles.values()) | (partition_columns(ctx.files) & set(ctx.columns))
    consent_cols = _consent_columns(ctx, used)
    used |= set(consent_cols)
    flag_notes, flag_reads, dates = _check_ts(ctx, roles["ts"], consent_cols)

    def role(name: str) -> str:
        return f"CAST({quote(roles[name])} AS VARCHAR)" if name in roles else "NULL"

    def ident(name: str) -> str:  # an id of only spaces is no id, as an empty one is not
        return f"nullif(trim({role(name)}), '')" if name in roles else "NULL"

    user = ident("user_id")
    anon = ident("anonymous_id")
    event_id = (
        role("event_id") if "event_id" in roles else stable_id(*(quote(c) for c in ctx.columns))
    )
    selects = [
        f"{event_id} AS event_id",
        f"{literal(ctx.source)} AS source",
        f"{typed_ts(quote(roles['ts']), ctx.columns[roles['ts']])} AS ts",
        f"CAST({quote(roles['event_name'])} AS VARCHAR) AS event_name",
        f"coalesce({user}, {anon}) AS user_key",
        f"{anon} AS anon_key",
        f"{ident('session_id')} AS session_key",
        f"{user} IS NULL AND {anon} IS NULL AS cookieless",
        f"{role('device')} AS device",
        f"{role('country')} AS country",
        f"{role('channel')} AS channel",
        f"{ctx.index} AS _input",
    ]
    if dates:  # the state of these events is resolved over their day (privdiag.state)
        selects.append(f"{day_only(quote(roles['ts']), ctx.columns[roles['ts']])} AS {DAY_ONLY}")
    selects += [f"{r} AS consent_{p}" for p, r in _purpose_flags(consent_cols, flag_reads).items()]
    names = FeatureNames(CANONICAL_COLUMNS)
    for column in ctx.columns:
        if column in used:
            continue
        name = names.give(column)
        selects.append(f"{quote(column)} AS {quote(name)}")

    view = f"{ctx.prefix}_events"
    ctx.create(f"CREATE TEMP VIEW {view} AS SELECT {', '.join(selects)} FROM {ctx.read_sql}")
    return Staged(format=NAME, events_view=view, notes=_identity_notes(ctx, roles) + flag_notes)


def _identity_notes(ctx: StageContext, roles: dict[str, str]) -> list[str]:
    """A note when no column gives a user or anonymous id: every event is then a visitor of
    its own, and the journey and identity checks see no users (a mapping problem, most
    often, e.g. an id column named ``customer``)."""
    if "user_id" in roles or "anonymous_id" in roles:
        return []
    looked = ", ".join(EVENT_ROLES["user_id"] + EVENT_ROLES["anonymous_id"])
    return [
        "no user or anonymous id column, so every event counts as a visitor of its own "
        f"(columns looked for: {looked}); if one column holds the id, map it: "
        f'[sources.{ctx.source}.columns] user_id = "<column>"'
    ]
