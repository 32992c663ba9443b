"""Generic flat tables (CSV, NDJSON, Parquet): one row per event, one column per feature.

Roles (time, event name, user, anonymous id, session) are found by common column names or
mapped in the config under ``[sources.NAME.columns]``. Columns named ``consent_<word>`` are
the event's own consent flags, ``<word>`` being a purpose or an alias of one.
"""

from __future__ import annotations

from privdiag.engine import literal, one, quote
from privdiag.errors import InputError
from privdiag.ingest.base import BadRow, StageContext, Staged
from privdiag.ingest.roles import CONSENT_ROLES, EVENT_ROLES, find_roles
from privdiag.ingest.sqlparts import (
    CANONICAL_COLUMNS,
    feature_name,
    flag,
    out_of_range,
    stable_id,
    typed_ts,
    unread_flag,
)
from privdiag.ingest.validation import OUT_OF_RANGE_HINT, out_of_range_message
from privdiag.privacy import describe_value

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


def _check_ts(ctx: StageContext, column: str, flags: dict[str, str]) -> list[str]:
    """Raise InputError naming the first row whose time is empty, unreadable, before 2000 or
    more than two days ahead; return a note per consent flag column (``flags``: purpose ->
    column) holding values it cannot read.

    One cheap pass finds both; the row is only looked for when there is one to find.
    """
    converted = typed_ts("v", ctx.columns.get(column, "VARCHAR"))
    bad_when = f"v IS NULL OR {converted} IS NULL OR {out_of_range(converted)}"
    # any_value of a CASE, not with FILTER: Spark's SQL has no FILTER on any_value
    unread = [
        f"count_if({unread_flag(quote(c))}), "
        f"any_value(CASE WHEN {unread_flag(quote(c))} THEN {quote(c)} END)"
        for c in flags.values()
    ]
    found = one(
        ctx.con,
        f"SELECT bool_or({bad_when}){''.join(', ' + u for u in unread)} "
        f"FROM (SELECT {quote(column)} AS v, * FROM {ctx.read_sql})",
    )
    if not found or not found[0]:
        return _unread_notes(flags, found[1:] if found else (None, None) * len(flags))
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
        _raise_bad_ts(column, bad)
    return []


def _raise_bad_ts(column: str, bad: BadRow) -> None:
    """Raise the InputError for ``bad``, whose detail is the year it was read as (or NULL)."""
    if bad.detail is not None:
        raise InputError(
            out_of_range_message(bad.detail),
            path=bad.path,
            row=bad.row,
            field=column,
            hint=OUT_OF_RANGE_HINT,
        )
    raise InputError(
        f"timestamp ({describe_value(bad.value)}) cannot be read"
        if bad.value is not None
        else "timestamp is empty",
        path=bad.path,
        row=bad.row,
        field=column,
        hint="use ISO-8601 (2026-10-01T12:00:00Z) or epoch seconds / ms / µs",
    )


def _unread_notes(flags: dict[str, str], counts: tuple) -> list[str]:
    """Notes for the flag columns with values neither granted, denied nor "no decision"."""
    notes = []
    for (purpose, column), n, example in zip(flags.items(), counts[::2], counts[1::2], strict=True):
        if n:
            notes.append(
                f"{column}: {n:,} event{'' if n == 1 else 's'} with a value read as neither "
                "granted nor denied "
                f"(e.g. {describe_value(example, SAFE_FLAG_WORDS)}); their {purpose} state is "
                "unknown unless the consent log decides it: write them as granted/denied "
                "(or yes/no, true/false, 1/0)"
            )
    return notes


def _consent_columns(ctx: StageContext, used: set[str]) -> dict[str, str]:
    """Return purpose -> column for columns named consent_<purpose or alias>."""
    aliases = ctx.config.alias_map()
    out: dict[str, str] = {}
    for column in ctx.columns:
        low = column.lower()
        if column in used or not low.startswith("consent_"):
            continue
        purpose = aliases.get(low.removeprefix("consent_"))
        if purpose and purpose not in out:
            out[purpose] = column
    return out


def _partition_keys(ctx: StageContext) -> set[str]:
    """Columns that come from hive-style folder names (``dt=2026-10-01``), not from the rows."""
    keys = {part.split("=", 1)[0] for f in ctx.files for part in f.parent.parts if "=" in part}
    return {k for k in keys if k in ctx.columns}


def _consent_file_hint(ctx: StageContext) -> str:
    """A hint for a consent file given as events (its columns read as user, purpose, status
    and time), else ""."""
    consent = find_roles(list(ctx.columns), CONSENT_ROLES)
    if {"user_id", "purpose", "status", "ts"} <= set(consent):
        return "it looks like a consent file (user, purpose, status, time): pass it with --consent"
    return ""


def stage(ctx: StageContext) -> Staged:
    """Stage a flat table as canonical events with every other column a feature."""
    source_cfg = ctx.config.sources.get(ctx.source)
    roles = find_roles(
        list(ctx.columns), EVENT_ROLES, source_cfg.columns if source_cfg else None, path=ctx.where()
    )
    for needed in ("ts", "event_name"):
        if needed not in roles:
            raise InputError(
                f"no column for the event {'time' if needed == 'ts' else 'name'}",
                path=ctx.missing(),
                hint=_consent_file_hint(ctx)
                or f"name it {EVENT_ROLES[needed][0]!r} or map it under "
                f'[sources.{ctx.source}.columns] {needed} = "<column>"',
            )
    used = set(roles.values()) | _partition_keys(ctx)
    consent_cols = _consent_columns(ctx, used)
    used |= set(consent_cols.values())
    flag_notes = _check_ts(ctx, roles["ts"], consent_cols)

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
    selects += [f"{flag(quote(col))} AS consent_{p}" for p, col in consent_cols.items()]
    taken: set[str] = set(CANONICAL_COLUMNS)
    for column in ctx.columns:
        if column in used:
            continue
        name = feature_name(column, taken)
        taken.add(name)
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
