"""SQL fragments shared by the format modules: flags, timestamps, identifiers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from privdiag.engine import literal, quote
from privdiag.purposes import PURPOSES
from privdiag.state import DAY_ONLY, STATE_COLUMNS, UNDETERMINED

GRANTED_WORDS = (
    "yes",
    "true",
    "1",
    "1.0",  # a 0/1 column with gaps, as pandas writes it (float) to Parquet or CSV
    "granted",
    "grant",
    "accept",
    "accepted",
    "allow",
    "allowed",
    "opt_in",
    "opt-in",
    "optin",
    "opted_in",
    "opted-in",
    "y",
    "t",
    "on",
    # OneTrust's purpose statuses (ACTIVE, WITHDRAWN, EXPIRED, NO_CONSENT, HARD_OPT_OUT),
    # and other consent platforms' words
    "active",
    "consented",
    "enabled",
)
DENIED_WORDS = (
    "no",
    "false",
    "0",
    "0.0",
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
    "opted_out",
    "opted-out",
    "expired",
    "no_consent",
    "hard_opt_out",
    "refused",
    "declined",
    "disabled",
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

# The meanings ``[consent.status_words]`` maps a status word to, each with its built-in words.
STATUS_MEANINGS = ("granted", "denied", "undecided")


def fold_word(word: str) -> str:
    """A status word as :func:`fold_words` reads a value: without edge spaces, in lower case
    (as Python lowers it: DuckDB lowers a dotted capital I to a plain i, which the SQL of
    :func:`is_one_of` follows)."""
    return word.strip(" ").lower()


def status_words(mapped: Mapping[str, str] | None = None) -> dict[str, tuple[str, ...]]:
    """The words read as each of :data:`STATUS_MEANINGS`: the built-in ones, with the words
    ``mapped`` (word without edge spaces -> meaning, the config's ``[consent.status_words]``)
    moved to the meaning they are mapped to, so a config can read ``expired`` as no decision.
    The mapped words are as written; :func:`is_one_of` lowers them."""
    builtin = dict(zip(STATUS_MEANINGS, (GRANTED_WORDS, DENIED_WORDS, NO_FLAG_WORDS), strict=True))
    mapped = mapped or {}
    remapped = {fold_word(w) for w in mapped}
    return {
        meaning: tuple(w for w in words if w not in remapped)
        + tuple(w for w, to in mapped.items() if to == meaning)
        for meaning, words in builtin.items()
    }


def status_words_hint(mapped: Mapping[str, str] | None = None) -> str:
    """The words a consent status or flag may be, for the hint of a value none of them is."""
    words = status_words(mapped)
    return (
        f"privdiag reads as granted: {', '.join(words['granted'])}; as denied: "
        f"{', '.join(words['denied'])} (in any case); rewrite other values to one of these, "
        "or map your words in the config's [consent.status_words] "
        '(granted = ["..."], denied = ["..."], undecided = ["..."])'
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
# (``_input``), the placeholder of a view without features (``_no_feature``), the mark of
# events that meet consent by their browser (``_browser_consent``, privdiag.consent_keys) and
# the key they meet it on (``_consent_key``), the mark of times that are dates alone
# (``_day_only``) and of the events the log gives no state to for it (``_undetermined``,
# privdiag.state).
# Listed by name: data columns may start with an underscore too (the cookies ``_ga``, ``_gid``,
# ``_fbc``).
INTERNAL_COLUMNS = frozenset(
    {"_input", "_no_feature", "_browser_consent", "_consent_key", DAY_ONLY, UNDETERMINED}
)

# Names a feature may not take: the canonical columns, the consent-state columns the scan
# adds (privdiag.state), privdiag's internal columns, and DuckDB's row-number pseudo-column
# (a data column named rowid would silently replace it in every join on rowid).
RESERVED = frozenset(
    {c.lower() for c in CANONICAL_COLUMNS + STATE_COLUMNS} | INTERNAL_COLUMNS | {"rowid"}
)


def fold_words(expr: str) -> str:
    """SQL of a consent value as the word lists hold it: text, trimmed, in lower case."""
    return f"lower(trim(CAST({expr} AS VARCHAR)))"


def is_one_of(text: str, words: tuple[str, ...]) -> str:
    """SQL true when ``text`` (a value as :func:`fold_words` reads it) is one of ``words``, in
    any case (false when there are none). A word that is not ASCII is lowered by the engine,
    as the value is: Python and DuckDB lower a few letters apart (a dotted capital I)."""
    if not words:
        return "FALSE"
    folded = (literal(w.lower()) if w.isascii() else f"lower({literal(w)})" for w in words)
    return f"{text} IN ({', '.join(folded)})"


def flag(expr: str, mapped: Mapping[str, str] | None = None) -> str:
    """SQL that turns a consent value (Yes/No, true/false, 1/0, granted/denied, and the words
    ``mapped`` by the config's ``[consent.status_words]``) into BOOLEAN.

    Anything else, 'Unset' and NULL included, becomes NULL (no flag on the event).
    """
    text, words = fold_words(expr), status_words(mapped)
    return (
        f"(CASE WHEN {is_one_of(text, words['granted'])} THEN TRUE "
        f"WHEN {is_one_of(text, words['denied'])} THEN FALSE END)"
    )


def unread_flag(expr: str, mapped: Mapping[str, str] | None = None) -> str:
    """SQL true for a consent value that :func:`flag` does not read and that does not say
    "no decision" either (``maybe``, ``yes_all``): such events count as unknown, unsaid."""
    words = status_words(mapped)
    known = words["granted"] + words["denied"] + words["undecided"]
    return f"(NOT {is_one_of(fold_words(expr), known)})"


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


# A UTC offset written after the time of day (+05:30, -0300, +14), and the offsets some zone
# has: -12:00 to +14:00, with minutes under 60. DuckDB reads +99:00 as well, shifting the
# time by 99 hours; such a time is not read (None), and :func:`time_problem` says why.
_OFFSET = r"[0-9]:[0-9]{2}(:[0-9]{2}([.,][0-9]*)?)? ?[+-][0-9]{2}(:?[0-9]{2})?$"
_ZONE_OFFSET = (
    r"([+](0[0-9]|1[0-3])(:?[0-5][0-9])?|[+]14(:?00)?|-(0[0-9]|1[01])(:?[0-5][0-9])?|-12(:?00)?)$"
)
# A zone abbreviation after the time (10:00:00 BST): DuckDB reads each as one of the zones it
# may name (BST as Bangladesh's, not British Summer Time; CST as Chicago's with its summer
# hour), so a time in one is left unread, as UTC, GMT and UT are not.
_ZONE_ABBREVIATION = r"[0-9] ?[A-Za-z]{2,5}$"
_UTC_NAMED = r"[0-9] ?(?i:utc|gmt|uct|ut)$"
# A leap second (23:59:60, or 00:59:60+01:00 in a zone an hour ahead) is read as the last
# microsecond of the second before it: the event stays in its minute and its day, and keeps
# its order before the next second.
_LEAP_SECOND = r"[Tt ][0-9]{1,2}:59:60([.,][0-9]*)?"
LEAP_SECOND_READ_AS = ":59.999999"


def iso_ts(text: str) -> str:
    """SQL turning ISO-8601 ``text`` into TIMESTAMPTZ: NULL when unreadable, when its UTC
    offset is one no zone has or its zone an abbreviation (BST), a leap second read as the
    microsecond before it."""
    # The regular expressions run only on the texts that can need them: a time in UTC (Z,
    # +00, +00:00, +0000) has no offset to check, and a leap second holds ':60'.
    has_offset = f"regexp_matches({text}, '{_OFFSET}')"
    zone_offset = f"regexp_matches({text}, '{_ZONE_OFFSET}')"
    utc = " OR ".join(f"{text} LIKE '%{end}'" for end in ("Z", "+00", "+00:00", "+0000"))
    no_zone = f"(NOT ({utc}) AND {has_offset} AND NOT {zone_offset})"
    # no back reference in the replacement (Spark writes it $1, DuckDB \1): the first ':60'
    # of a time whose minute is 59 is its second, an offset being read above
    leap = f"regexp_replace({text}, ':60([.,][0-9]*)?', '{LEAP_SECOND_READ_AS}')"
    is_leap = f"regexp_matches({text}, '{_LEAP_SECOND}')"
    read = f"(CASE WHEN contains({text}, ':60') AND {is_leap} THEN {leap} ELSE {text} END)"
    # RFC 3339 allows a lower-case t and z (2026-10-01t10:00:00z), which DuckDB does not
    # read: such a text is read again upper-cased, only where the first reading failed
    cast = f"coalesce(TRY_CAST({read} AS TIMESTAMPTZ), TRY_CAST(upper({read}) AS TIMESTAMPTZ))"
    # the regular expressions only where the text ends in a letter other than Z
    abbreviated = (
        f"(upper(right({text}, 1)) BETWEEN 'A' AND 'Y' AND regexp_matches({text}, "
        f"'{_ZONE_ABBREVIATION}') AND NOT regexp_matches({text}, '{_UTC_NAMED}'))"
    )
    return f"(CASE WHEN {no_zone} OR {abbreviated} THEN NULL ELSE {cast} END)"


def unread_or_out_of_range(ts: str) -> str:
    """SQL true when the TIMESTAMPTZ ``ts`` is NULL (unread) or :func:`out_of_range`, naming
    ``ts`` once: a time read from text is a long expression, and each naming evaluates it
    again (a CSV of 10M events: 30 CPU-s for the check against 6 naming it once)."""
    return f"NOT coalesce({ts} BETWEEN TIMESTAMPTZ '{EARLIEST}' AND now() + INTERVAL 2 DAY, FALSE)"


def any_ts(expr: str) -> str:
    """SQL turning a timestamp given as epoch number or ISO-8601 text into TIMESTAMPTZ (or NULL)."""
    # trim quotes too: a JSON column of mixed numbers and strings casts "1704103200" quoted
    text = f"trim(CAST({expr} AS VARCHAR), ' \"')"
    # An ISO time has a ':' or a '-' past its first character; a number has neither: the
    # pattern runs only on the texts that can be numbers.
    number = (
        f"(NOT contains({text}, ':') AND strpos(substr({text}, 2), '-') = 0 "
        f"AND regexp_full_match({text}, '-?[0-9]+(\\.[0-9]+)?'))"
    )
    return f"(CASE WHEN {number} THEN {epoch_to_ts(text)} ELSE {iso_ts(text)} END)"


# Words DuckDB reads as an endless time; an error may quote them: they are no one's data.
INFINITE_WORDS = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})


def time_problem(value: object, what: str) -> str:
    """The error for a time ``value`` that was not read (``what``: "timestamp", "decision
    time"): an offset no zone has, an endless time, else the value described, never quoted.
    ``value`` is the cell's text, or the endless time a typed column holds."""
    import datetime as dt
    import re

    from privdiag.privacy import describe_value

    if value is None or value == "":
        return f"{what} is empty"
    if isinstance(value, dt.date):  # a typed column's value not read: an endless time
        return f"{what} is endless ({'-' if value.year < 2000 else ''}infinity), not a time"
    text = str(value).strip(' "')
    if text.lower() in INFINITE_WORDS:
        return f"{what} ({text!r}) is endless, not a time"
    offset = re.search(_OFFSET, text)
    if offset and not re.search(_ZONE_OFFSET, text):
        written = re.search(r"[+-][0-9:]+$", offset.group(0))
        return (
            f"{what} has the UTC offset {written.group(0) if written else '?'}, which no time "
            "zone has (offsets run from -12:00 to +14:00)"
        )
    return f"{what} ({describe_value(value)}) cannot be read"


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


# A date, or a date and time of day, with nothing after it: no Z, no UTC offset, no zone.
# DuckDB also reads a date of slashes and of one-digit months and days (2026/10/01,
# 2026-10-1), as an export from a spreadsheet writes them.
_DATE = r"[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}"
_NO_OFFSET = _DATE + r"([Tt ][0-9]{1,2}(:[0-9]{2}){0,2}([.,][0-9]*)?)?"


def offsetless(expr: str, sql_type: str) -> str:
    """SQL true for a time in ``expr`` (a column of DuckDB type ``sql_type``) that says no UTC
    offset and is read as UTC (:func:`typed_ts`): ISO text without ``Z`` or an offset
    (``2026-10-01 10:00:00``, ``2026-10-01``), or a value of a TIMESTAMP or DATE column, which
    a CSV's sniffer gives such text and a Parquet file a time without a zone."""
    upper = sql_type.upper()
    if upper in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ") or upper in INTEGER_TYPES:
        return "FALSE"
    if upper.startswith(TIMESTAMP_TYPES):
        return f"({expr} IS NOT NULL)"
    text = f"trim(CAST({expr} AS VARCHAR), ' \"')"
    # the pattern runs only on texts that do not end in Z, as most ISO times do
    return (
        f"({text} NOT LIKE '%Z' AND {text} NOT LIKE '%z' "
        f"AND regexp_full_match({text}, '{_NO_OFFSET}'))"
    )


def day_only(expr: str, sql_type: str) -> str:
    """SQL true for a time in ``expr`` (a column of DuckDB type ``sql_type``) that is a date
    without a time of day: a value of a DATE column, or ISO text of a date alone
    (``2026-10-01``), which :func:`typed_ts` reads as midnight UTC."""
    upper = sql_type.upper()
    if upper == "DATE":
        return f"({expr} IS NOT NULL)"
    if upper.startswith("TIMESTAMP") or upper in INTEGER_TYPES:
        return "FALSE"
    raw = f"CAST({expr} AS VARCHAR)"
    text = f"trim({raw}, ' \"')"
    # a time of day makes a text 19 characters or more: those are not trimmed nor matched
    # (a CSV of 10M times: 0.8 CPU-s of its check's 4.0 where every text was)
    short = f"length({raw}) < 19 AND length({text}) BETWEEN 8 AND 10"
    return f"({short} AND regexp_full_match({text}, '{_DATE}'))"


def offsetless_note(
    column: str, count: int, what: str = "time", sql_type: str = "", dates: int = 0
) -> list[str]:
    """The note on ``count`` times of ``column`` read as UTC though they say no offset (none
    when there are none): a CMP log or export kept in local time is then hours off. Of them,
    ``dates`` are dates without a time of day (:func:`day_only`): the scan judges an event
    dated so only where its user's consent held all that day, and an event on the day of a
    decision dated so (``what`` "decision time") only where the decision changed nothing it
    is judged by (:func:`privdiag.state.resolve`)."""
    notes = []
    if dates and what == "decision time":
        notes.append(
            f"{dates:,} decision time(s) in column '{column}' are dates without a time of day: "
            "an event on such a date (in any time zone) on which the decision changed its "
            "user's consent cannot be ordered against it and is judged neither way (not a "
            "violation, pre-consent event or conflict); give the times of day to judge them"
        )
    elif dates:
        notes.append(
            f"{dates:,} {what}(s) in column '{column}' are dates without a time of day: an "
            "event dated on a day (in any time zone) on which its user's consent changed "
            "cannot be ordered against the change and is judged neither way (not a "
            "violation, pre-consent event or conflict); give the times of day to judge them"
        )
    if count > dates and sql_type.upper() != "DATE":
        notes.append(
            f"{count - dates:,} {what}(s) in column '{column}' read as UTC, as they carry no Z "
            "or UTC offset: if they are local times, write their offset (+02:00) or convert "
            "them to UTC"
        )
    return notes


def id_text(expr: str) -> str:
    """SQL of an id as text, trimmed, an empty one as NULL: how every stager keys users, so
    that an event and a consent record of one id meet whatever spaces either file kept."""
    return f"nullif(trim(CAST({expr} AS VARCHAR)), '')"


# Characters that show as nothing: the zero-width space, non-joiner and joiner, the word
# joiner and the byte order mark (a zero-width no-break space), as a copy and paste or a file's
# first field may carry them; and the unit separator (chr(31)), which joins the two ids of a
# shared browser's pair key (``consent_keys.pair_key``), so that no id is one.
INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff\x1f]"
EDGE_SPACES = r"^\p{Zs}+|\p{Zs}+$"


def composed(expr: str) -> str:
    """SQL of the text ``expr`` in Unicode's composed form (NFC) and without the characters
    that show as nothing (:data:`INVISIBLE`): ``josé`` written with an ``e`` and a combining
    accent (as macOS and some exports write it) is the same id or event name as with ``é``,
    and ``u1`` with a zero-width space after it the same as ``u1``, so a user whose consent
    log and events differ so is one user (blank once cleaned: NULL). A text of as many bytes
    as characters (ASCII) is both already and is passed as it is: cleaning every id cost
    0.9 CPU-s at 10M events, this 0.1 more than composing alone."""
    # the spaces an invisible character kept from the ids' trim ("u1 \u200b") go too: as
    # DuckDB's trim() does (Unicode spaces), by a pattern, which Spark's SQL translates as it is
    bare = f"regexp_replace(nfc_normalize({expr}), '{INVISIBLE}', '', 'g')"
    cleaned = f"nullif(regexp_replace({bare}, '{EDGE_SPACES}', '', 'g'), '')"
    plain = f"strlen({expr}) = length({expr}) AND NOT contains({expr}, chr(31))"
    return f"(CASE WHEN {plain} THEN {expr} ELSE {cleaned} END)"


def stable_id(*exprs: str) -> str:
    """SQL for a stable event id: the md5 of the given expressions joined with '|'."""
    parts = ", ".join(f"coalesce(CAST({e} AS VARCHAR), '')" for e in exprs)
    return f"md5(concat_ws('|', {parts}))"


class FeatureNames:
    """The column names an input's features are given: each clashes with no name ``taken``
    (the canonical columns) nor one given before, compared without case as SQL names are.
    The names are kept folded: folding every name taken again for each feature made naming
    the bench's wide export of 3,000 columns take 9 million lowerings (0.95 s)."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._folded = {t.lower() for t in taken}

    def give(self, key: str, avoid: Iterable[str] = ()) -> str:
        """Return the name of feature ``key``, clashing with none given, taken or ``avoid``."""
        also = {a.lower() for a in avoid}
        name = key if key.lower() not in RESERVED else f"param_{key}"
        while name.lower() in self._folded or name.lower() in also:
            name = f"{name}_"
        self._folded.add(name.lower())
        return name


__all__ = [
    "CANONICAL_COLUMNS",
    "FeatureNames",
    "INTERNAL_COLUMNS",
    "any_ts",
    "composed",
    "epoch_to_ts",
    "flag",
    "quote",
    "stable_id",
    "typed_ts",
    "unread_or_out_of_range",
]


def decision_sql(*fields: str) -> str:
    """SQL of the ``decision`` text of an unmapped decision: its ``fields`` (SQL expressions)
    each written as its length, a colon and its text, or "-" when NULL or empty (a CSV reads
    an empty field as NULL, NDJSON as ''), joined by commas, so that two decisions have the
    same text only when every field is equal."""
    texts = [f"nullif(CAST({f} AS VARCHAR), '')" for f in fields]
    parts = [f"coalesce(CAST(length({t}) AS VARCHAR) || ':' || {t}, '-')" for t in texts]
    return " || ',' || ".join(parts)
