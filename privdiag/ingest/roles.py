"""Find the columns that play each canonical role in a flat table, by name or by config."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from privdiag.errors import InputError

if TYPE_CHECKING:
    from privdiag.config import Config
    from privdiag.ingest.base import StageContext

EVENT_ROLES: dict[str, tuple[str, ...]] = {
    "ts": (
        "ts",
        "timestamp",
        "event_time",
        "event_timestamp",
        "time",
        "datetime",
        "original_timestamp",
        "originaltimestamp",
        "received_at",
        "created_at",
    ),
    "event_name": ("event_name", "event", "event_type", "action", "step", "type"),
    "user_id": ("user_id", "userid", "customer_id", "member_id", "user_key"),
    "anonymous_id": (
        "anonymous_id",
        "anonymousid",
        "device_id",
        "cookie_id",
        "client_id",
        "user_pseudo_id",
        "domain_userid",
        "anon_key",
    ),
    "session_id": ("session_id", "sessionid", "session_key", "ga_session_id", "domain_sessionid"),
    "event_id": ("event_id", "message_id", "messageid", "uuid", "insert_id", "id"),
    "device": ("device", "device_category", "device_type"),
    "country": ("country", "geo_country", "country_code"),
    "channel": ("channel", "platform"),
}

CONSENT_ROLES: dict[str, tuple[str, ...]] = {
    "user_id": ("user_id", "userid", "user", "user_key", "subject", "customer_id"),
    # A CMP keys a visitor by its cookie or device: the decision of a row without a user id
    # is keyed by this one, as an event without a user id is (privdiag.ingest.consent_file).
    "anonymous_id": (
        "anonymous_id",
        "anonymousid",
        "visitor_id",
        "domain_userid",
        "device_id",
        "cookie_id",
        "client_id",
        "user_pseudo_id",
    ),
    "purpose": ("purpose", "category", "scope", "consent_type", "purpose_id"),
    "status": ("status", "granted", "consent", "decision", "value", "state", "choice"),
    "ts": ("ts", "timestamp", "time", "decided_at", "created_at", "event_time", "date"),
    "version": ("version", "notice_version", "consent_version", "banner_version", "policy_version"),
    "source": ("source", "cmp", "channel"),
    "tc_string": (
        "tc_string",
        "tcstring",
        "euconsent",
        "euconsent_v2",
        "tcf_string",
        "gdpr_consent",
    ),
    "region": ("region", "country", "geo"),
    "device": ("device", "device_category"),
}


# The roles whose columns identify a user, session or event: text, never numbers.
ID_ROLES = ("user_id", "anonymous_id", "session_id", "event_id")

# DuckDB's names of the types that hold several values: a struct, a map, a union, a list
# (``VARCHAR[]``) or an array (``VARCHAR[2]``).
_NESTED = re.compile(r"^(STRUCT|MAP|UNION)\(|\[\d*\]$")
_NESTED_WORDS = {"STRUCT": "records (a struct)", "MAP": "maps", "UNION": "unions"}


def refuse_nested(
    ctx: StageContext, roles: dict[str, str], names: tuple[str, ...], where: str | None = None
) -> None:
    """Raise InputError for the first of the roles ``names`` whose column holds nested values:
    of a nested type (Parquet's structs and lists, JSON's where every record nests), or, in a
    JSON column of values of different kinds (:func:`privdiag.ingest.base.json_as_text`), one
    record's object or array among text ids, that record named. ``where`` names the input
    (by default :meth:`~privdiag.ingest.base.StageContext.where`).

    Read as text, a struct's id is ``{'id': u1}``, which matches no other input's ``u1``: its
    events met no consent, unsaid (every user "without a consent decision"); one record's
    object was a user of its own.
    """
    from dataclasses import replace

    from privdiag.engine import quote

    for role in names:
        column = roles.get(role)
        match = _NESTED.search(ctx.columns.get(column, "")) if column else None
        if match:
            what = _NESTED_WORDS.get(match[1] or "", "lists")
            raise _nested(role, what, where or ctx.where(), column)
        if column in ctx.json_columns:  # read from the JSON as it was, before it became text
            raw = replace(ctx, read_sql=ctx.json_read_sql)
            bad = raw.first_bad(f"json_type({quote(column)})", "v IN ('OBJECT', 'ARRAY')")
            if bad:
                what = "a record (an object)" if bad.value == "OBJECT" else "a list"
                raise _nested(role, f"{what} among text values", bad.path, column, bad.row)


def _nested(role: str, what: str, path: str, column: str, row: int | None = None) -> InputError:
    words = role.replace("_", " ")
    return InputError(
        f"holds {what}, where privdiag reads one {words} a row",
        path=path,
        row=row,
        field=column,
        hint=f"write the {words} as text in a column of its own (flatten the nested "
        "field), or map another column to it in privdiag.toml",
    )


def id_column_names(config: Config) -> set[str]:
    """The lower-case names of the columns that can hold an identifier in any input: the
    known names of the id roles of events and consent files, and the columns the config maps
    to those roles."""
    names = {n for r in ID_ROLES for n in EVENT_ROLES[r]}
    names |= set(CONSENT_ROLES["user_id"]) | set(CONSENT_ROLES["anonymous_id"])
    mappings = [config.consent_columns, *(s.columns for s in config.sources.values())]
    names |= {c.lower() for m in mappings for r, c in m.items() if r in ID_ROLES}
    return names


def time_column_names(config: Config) -> set[str]:
    """The lower-case names of the columns that can hold an event's or a consent decision's
    time: the known names of the time roles and the columns the config maps to them."""
    snowplow = {"derived_tstamp", "collector_tstamp"}
    names = set(EVENT_ROLES["ts"]) | set(CONSENT_ROLES["ts"]) | snowplow
    mappings = [config.consent_columns, *(s.columns for s in config.sources.values())]
    names |= {c.lower() for m in mappings for r, c in m.items() if r == "ts"}
    return names


def find_roles(
    columns: list[str],
    roles: dict[str, tuple[str, ...]],
    overrides: dict[str, str] | None = None,
    *,
    path: str | None = None,
) -> dict[str, str]:
    """Return role -> column name: the config's mapping first, then the first known name.

    A mapped column that does not exist is an error naming the file and the column.
    """
    lower = {c.lower(): c for c in columns}
    found: dict[str, str] = {}
    for role, column in (overrides or {}).items():
        if role not in roles:
            raise InputError(
                f"unknown column role {role!r} in the config",
                path=path,
                hint=f"roles are {', '.join(roles)}",
            )
        if column not in columns and column.lower() not in lower:
            raise InputError(
                f"column {column!r} (mapped to {role}) is not in the file",
                path=path,
                field=column,
                hint=f"the file has: {', '.join(columns[:20])}",
            )
        found[role] = column if column in columns else lower[column.lower()]
    used = set(found.values())
    for role, names in roles.items():
        if role in found:
            continue
        for name in names:
            if name in lower and lower[name] not in used:
                found[role] = lower[name]
                used.add(lower[name])
                break
    return found


def reads_as_consent(columns: list[str]) -> bool:
    """Whether ``columns`` read as a consent log's: a user, a purpose, a status and a time."""
    roles = set(find_roles(columns, CONSENT_ROLES))
    return {"purpose", "status", "ts"} <= roles and bool({"user_id", "anonymous_id"} & roles)


def taken_by_mapping(
    columns: list[str],
    roles: dict[str, tuple[str, ...]],
    overrides: dict[str, str] | None,
    missing: list[str],
) -> list[tuple[str, str, str]]:
    """The roles of ``missing`` that found no column because the config's mapping
    ``overrides`` gave another role the column they are read from (``[consent] columns = {
    user_id = "purpose" }``): (column, missing role, role mapped to it) each."""
    lower = {c.lower(): c for c in columns}
    mapped = {lower.get(c.lower(), c): role for role, c in (overrides or {}).items()}
    out = []
    for role in missing:
        taken = next((lower[n] for n in roles[role] if lower.get(n) in mapped), None)
        if taken is not None:
            out.append((taken, role, mapped[taken]))
    return out
