"""SQL fragments shared by the format modules: flags, timestamps, identifiers."""

from __future__ import annotations

from privdiag.engine import literal, quote
from privdiag.purposes import PURPOSES
from privdiag.state import STATE_COLUMNS

GRANTED_WORDS = (
    "yes",
    "true",
    "1",
    "granted",
    "grant",
    "accept",
    "accepted",
    "allow",
    "allowed",
    "opt_in",
    "opt-in",
    "optin",
    "y",
    "t",
    "on",
)
DENIED_WORDS = (
    "no",
    "false",
    "0",
    "denied",
    "deny",
    "reject",
    "rejected",
    "disallow",
    "disallowed",
    "opt_out",
    "opt-out",
    "optout",
    "n",
    "f",
    "off",
    "withdrawn",
    "revoked",
)

# Values that say no decision was recorded: no flag on the event, and nothing to report.
NO_FLAG_WORDS = (
    "",
    "unset",
    "not set",
    "not_set",
    "(not set)",
    "unknown",
    "none",
    "null",
    "n/a",
    "na",
    "pending",
    "undefined",
)

# Columns of the canonical events table that are not features.
CANONICAL_COLUMNS = (
    "event_id",
    "source",
    "ts",
    "event_name",
    "user_key",
    "anon_key",
    "session_key",
    "cookieless",
    "device",
    "country",
    "channel",
) + tuple(f"consent_{p}" for p in PURPOSES)


# Columns privdiag adds to the events for its own use, never features: the input's position
# (``_input``), the placeholder of a view without features (``_no_feature``) and the mark of
# events that meet consent by their browser (``_browser_consent``, privdiag.consent_keys).
# Listed by name: data columns may start with an underscore too (the cookies ``_ga``, ``_gid``,
# ``_fbc``).
INTERNAL_COLUMNS = frozenset({"_input", "_no_feature", "_browser_consent"})

# Names a feature may not take: the canonical columns, the consent-state columns the scan
# adds (privdiag.state), privdiag's internal columns, and DuckDB's row-number pseudo-column
# (a data column named rowid would silently replace it in every join on rowid).
RESERVED = frozenset(
    {c.lower() for c in CANONICAL_COLUMNS + STATE_COLUMNS} | INTERNAL_COLUMNS | {"rowid"}
)


def flag(expr: str) -> str:
    """SQL that turns a consent value (Yes/No, true/false, 1/0, granted/denied) into BOOLEAN.

    Anything else, 'Unset' and NULL included, becomes NULL (no flag on the event).
    """
    text = f"lower(trim(CAST({expr} AS VARCHAR)))"
    granted = ", ".join(literal(w) for w in GRANTED_WORDS)
    denied = ", ".join(literal(w) for w in DENIED_WORDS)
    return f"(CASE WHEN {text} IN ({granted}) THEN TRUE WHEN {text} IN ({denied}) THEN FALSE END)"


def unread_flag(expr: str) -> str:
    """SQL true for a consent value that :func:`flag` does not read and that does not say
    "no decision" either (``maybe``, ``yes_all``): such events count as unknown, unsaid."""
    text = f"lower(trim(CAST({expr} AS VARCHAR)))"
    known = ", ".join(literal(w) for w in GRANTED_WORDS + DENIED_WORDS + NO_FLAG_WORDS)
    return f"({text} NOT IN ({known}))"


def epoch_to_ts(expr: str) -> str:
    """SQL turning an epoch number in seconds, milliseconds or microseconds into TIMESTAMPTZ.

    The unit is told by magnitude: nanoseconds above 1e17, microseconds above 1e14,
    milliseconds above 1e11.
    """
    num = f"TRY_CAST({expr} AS DOUBLE)"
    return (
        f"(CASE WHEN {num} IS NULL THEN NULL "
        f"WHEN abs({num}) >= 1e17 THEN make_timestamp(CAST({num} / 1000 AS BIGINT)) "
        f"WHEN abs({num}) >= 1e14 THEN make_timestamp(CAST({num} AS BIGINT)) "
        f"WHEN abs({num}) >= 1e11 THEN make_timestamp(CAST({num} * 1000 AS BIGINT)) "
        f"ELSE make_timestamp(CAST({num} * 1000000 AS BIGINT)) END)::TIMESTAMPTZ"
    )


# Times before this, or more than two days ahead, are refused: a default or a wrong unit.
EARLIEST = "2000-01-01"


def out_of_range(ts: str) -> str:
    """SQL true for a TIMESTAMPTZ ``ts`` before :data:`EARLIEST` or more than two days ahead."""
    return f"({ts} < TIMESTAMPTZ '{EARLIEST}' OR {ts} > now() + INTERVAL 2 DAY)"


def any_ts(expr: str) -> str:
    """SQL turning a timestamp given as epoch number or ISO-8601 text into TIMESTAMPTZ (or NULL)."""
    # trim quotes too: a JSON column of mixed numbers and strings casts "1704103200" quoted
    text = f"trim(CAST({expr} AS VARCHAR), ' \"')"
    return (
        f"(CASE WHEN regexp_full_match({text}, '-?[0-9]+(\\.[0-9]+)?') THEN {epoch_to_ts(text)} "
        f"ELSE TRY_CAST({text} AS TIMESTAMPTZ) END)"
    )


TIMESTAMP_TYPES = ("TIMESTAMP", "DATE")
INTEGER_TYPES = ("BIGINT", "INTEGER", "SMALLINT", "HUGEINT", "UBIGINT", "UINTEGER")


def typed_ts(expr: str, sql_type: str) -> str:
    """SQL like :func:`any_ts` for a column whose DuckDB type is known: no text round trip.

    A TIMESTAMP or DATE column is cast directly (as UTC, like its text form would be), an
    integer column is read as epoch; any other type goes through :func:`any_ts`.
    """
    upper = sql_type.upper()
    if upper.startswith(TIMESTAMP_TYPES):
        return f"CAST({expr} AS TIMESTAMPTZ)"
    if upper in INTEGER_TYPES:
        return epoch_to_ts(expr)
    return any_ts(expr)


def id_text(expr: str) -> str:
    """SQL of an id as text, trimmed, an empty one as NULL: how every stager keys users, so
    that an event and a consent record of one id meet whatever spaces either file kept."""
    return f"nullif(trim(CAST({expr} AS VARCHAR)), '')"


def stable_id(*exprs: str) -> str:
    """SQL for a stable event id: the md5 of the given expressions joined with '|'."""
    parts = ", ".join(f"coalesce(CAST({e} AS VARCHAR), '')" for e in exprs)
    return f"md5(concat_ws('|', {parts}))"


def feature_name(key: str, taken: set[str]) -> str:
    """Return a column name for a feature key that clashes with no canonical or taken name."""
    name = key if key.lower() not in RESERVED else f"param_{key}"
    folded = {t.lower() for t in taken}
    while name.lower() in folded:  # SQL names are case-insensitive
        name = f"{name}_"
    return name


__all__ = [
    "CANONICAL_COLUMNS",
    "INTERNAL_COLUMNS",
    "any_ts",
    "epoch_to_ts",
    "feature_name",
    "flag",
    "quote",
    "stable_id",
    "typed_ts",
]


def decision_sql(*fields: str) -> str:
    """SQL of the ``decision`` text of an unmapped decision: its ``fields`` (SQL expressions)
    each written as its length, a colon and its text, or "-" when NULL or empty (a CSV reads
    an empty field as NULL, NDJSON as ''), joined by commas, so that two decisions have the
    same text only when every field is equal."""
    texts = [f"nullif(CAST({f} AS VARCHAR), '')" for f in fields]
    parts = [f"coalesce(CAST(length({t}) AS VARCHAR) || ':' || {t}, '-')" for t in texts]
    return " || ',' || ".join(parts)
