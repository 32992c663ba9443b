"""Consent records of Snowplow's consent events: Enhanced Consent ``consent_preferences``
(by event type and scopes) and the older ``consent_granted`` / ``consent_withdrawn`` with
their documents. Shared by the events' staging (:mod:`privdiag.ingest.snowplow`) and
dbt-snowplow-web's consent log (:mod:`privdiag.ingest.consent_file`), so that a log and the
events it came from give the same records.
"""

from __future__ import annotations

from typing import Any

from privdiag.engine import literal
from privdiag.ingest.base import StageContext
from privdiag.ingest.consent_file import fold_sql
from privdiag.ingest.sqlparts import decision_sql
from privdiag.privacy import describe_value
from privdiag.state import DAY_ONLY

DENYING_TYPES = ("deny_all", "withdrawn", "expired")
# The eventType values of the consent_preferences schema (1-0-0): any other is no decision.
EVENT_TYPES = ("allow_all", "allow_selected", *DENYING_TYPES, "pending", "implicit_consent")


def json_text(obj: str, camel: str, snake: str) -> str:
    """SQL text of a JSON field spelled camelCase (iglu) or snake_case (BigQuery)."""
    return f"coalesce({obj} ->> '$.{camel}', {obj} ->> '$.{snake}')"


def json_list(obj: str, camel: str, snake: str) -> str:
    """SQL VARCHAR[] of a JSON array field (a comma-separated string is split)."""
    j = f"coalesce({obj} -> '$.{camel}', {obj} -> '$.{snake}')"
    return (
        f"(CASE WHEN json_type({j}) = 'ARRAY' THEN CAST({j} AS VARCHAR[]) "
        f"WHEN {j} IS NOT NULL THEN list_transform(string_split({j} ->> '$', ','), "
        "lambda s: trim(s)) END)"
    )


def preference_decisions(parsed: str, aliases: str) -> str:
    """SQL of (event row, scope, purpose, granted) for every consent_preferences event.

    ``parsed`` has one row per consent event, told apart by its ``row_key`` (an event's
    scopes are matched to it by that key: an event id may be missing or, in a consent log,
    repeated).

    allow_all grants every purpose seen in this input's consent events; allow_selected grants
    the listed scopes and denies the other purposes seen (never 'necessary'); deny_all,
    withdrawn and expired deny every purpose seen, except that a 'necessary' scope listed on a
    deny_all stays granted; pending and implicit_consent record nothing.
    """
    return f"""
        WITH prefs AS (SELECT * FROM {parsed} WHERE cp IS NOT NULL AND user_key IS NOT NULL),
        listed AS (
            SELECT p.row_key, s.scope, aliases.alias_purpose AS purpose
            FROM prefs p CROSS JOIN unnest(p.consent_scopes) AS s(scope)
            LEFT JOIN {aliases} ON aliases.alias_word = {fold_sql("s.scope")}
        ),
        universe AS (SELECT DISTINCT purpose FROM listed WHERE purpose IS NOT NULL),
        -- a join, not a subquery per event and purpose: that one reads every event's scopes
        -- again for each event (minutes for a few dozen events of thousands of scopes)
        listed_purposes AS (
            SELECT DISTINCT row_key, purpose FROM listed WHERE purpose IS NOT NULL
        ),
        per_event AS (
            SELECT p.*, u.purpose, l.purpose IS NOT NULL AS is_listed
            FROM prefs p CROSS JOIN universe u
            LEFT JOIN listed_purposes l ON l.row_key = p.row_key AND l.purpose = u.purpose
        )
        SELECT *,
               CASE WHEN event_type = 'allow_all' THEN TRUE
                    WHEN event_type = 'allow_selected' AND is_listed THEN TRUE
                    WHEN event_type = 'allow_selected' AND purpose <> 'necessary' THEN FALSE
                    WHEN event_type = 'deny_all' AND purpose = 'necessary' AND is_listed THEN TRUE
                    WHEN event_type IN {DENYING_TYPES} AND purpose <> 'necessary' THEN FALSE
               END AS granted
        FROM per_event
    """


def document_decisions(aliases: str, parsed_events: str) -> str:
    """SQL of decisions from consent_granted / consent_withdrawn events and their documents.

    Each attached consent_document (its name, else its id) is a category; consent_granted
    grants it, consent_withdrawn denies it; ``all: true`` on a withdrawal denies every purpose
    the input's documents name, except 'necessary'.
    """
    return f"""
        WITH doc_events AS (
            SELECT * FROM {parsed_events}
            WHERE (cg IS NOT NULL OR cw IS NOT NULL) AND user_key IS NOT NULL
        ),
        docs AS (
            SELECT e.row_key, coalesce(d.doc ->> '$.name', d.doc ->> '$.id') AS scope,
                   d.doc ->> '$.version' AS doc_version
            FROM doc_events e CROSS JOIN unnest(e.docs) AS d(doc)
        ),
        mapped AS (
            SELECT docs.*, aliases.alias_purpose AS purpose FROM docs
            LEFT JOIN {aliases} ON aliases.alias_word = {fold_sql("docs.scope")}
        ),
        universe AS (SELECT DISTINCT purpose FROM mapped WHERE purpose IS NOT NULL),
        own AS (
            SELECT e.*, m.scope, m.purpose, m.doc_version, e.cg IS NOT NULL AS granted
            FROM doc_events e JOIN mapped m USING (row_key)
        ),
        withdraw_all AS (
            SELECT e.*, NULL AS scope, u.purpose, NULL AS doc_version, FALSE AS granted
            FROM doc_events e CROSS JOIN universe u
            WHERE TRY_CAST(e.cw ->> '$.all' AS BOOLEAN) AND u.purpose <> 'necessary'
        )
        SELECT * FROM own UNION ALL BY NAME SELECT * FROM withdraw_all
    """


def consent_view(
    ctx: StageContext, prefs_sql: str, docs_sql: str | None = None, dated: bool = False
) -> str:
    """Create the view ``<prefix>_consent`` of canonical records from the decisions of
    :func:`preference_decisions` (and of :func:`document_decisions`); return its name. With
    ``dated`` (some decision times are dates alone) the records mark those (:data:`DAY_ONLY`):
    a record of several decisions at one time is dated when they all are."""
    view = f"{ctx.prefix}_consent"
    day = f", {DAY_ONLY}" if dated else ""
    documents = (
        f"""UNION ALL
            SELECT user_key, purpose, granted, ts, doc_version AS version,
                   geo_country, device{day} FROM ({docs_sql})"""
        if docs_sql
        else ""
    )
    ctx.create(f"""
        CREATE TEMP VIEW {view} AS
        WITH decisions AS (
            SELECT user_key, purpose, granted, ts, consent_version AS version,
                   geo_country, device{day} FROM ({prefs_sql})
            {documents}
        )
        SELECT user_key, purpose, bool_or(granted) AS granted, ts,
               {literal(ctx.source)} AS source, any_value(version) AS version,
               any_value(geo_country) AS region, any_value(device) AS device
               {f", bool_and({DAY_ONLY}) AS {DAY_ONLY}" if dated else ""}
        FROM decisions
        WHERE purpose IS NOT NULL AND granted IS NOT NULL
        GROUP BY user_key, purpose, ts
    """)
    return view


def unmapped_sql(parsed: str, aliases: str) -> str:
    """SQL of (category, user_key, decision): one row per scope or document named by a
    consent event that maps to no purpose."""
    fields = ("p.event_type", "p.ts", "p.consent_version", "p.geo_country", "p.device")
    decision = decision_sql(*fields)
    return f"""
        WITH words AS (
            SELECT s.scope, p.user_key, {decision} AS decision
            FROM {parsed} p CROSS JOIN unnest(p.consent_scopes) AS s(scope)
            UNION ALL
            SELECT coalesce(d.doc ->> '$.name', d.doc ->> '$.id'), p.user_key, {decision}
            FROM {parsed} p CROSS JOIN unnest(p.docs) AS d(doc)
        )
        SELECT scope AS category, user_key, decision
        FROM words LEFT JOIN {aliases} ON aliases.alias_word = {fold_sql("scope")}
        WHERE aliases.alias_purpose IS NULL AND scope IS NOT NULL
    """


def event_type_notes(con: Any, parsed: str, rows: str) -> list[str]:
    """Return notes on the consent_preferences ``rows`` of ``parsed`` that record no decision
    by their event type: implicit_consent, and a type the schema does not have (or none),
    told by what its first value looks like, never the value itself."""
    known = ", ".join(literal(t) for t in EVENT_TYPES)
    implicit, unknown, first, missing = con.execute(f"""
        SELECT count(*) FILTER (WHERE event_type = 'implicit_consent'),
               count(*) FILTER (WHERE event_type NOT IN ({known})),
               min(event_type) FILTER (WHERE event_type NOT IN ({known})),
               count(*) FILTER (WHERE event_type IS NULL)
        FROM {parsed} WHERE cp IS NOT NULL
    """).fetchone()
    notes = []
    if implicit:
        notes.append(f"{implicit} implicit_consent {rows} not counted as consent")
    if unknown:
        notes.append(
            f"{unknown} consent_preferences {rows} with an event type that is none of "
            f"{', '.join(EVENT_TYPES)} (e.g. {describe_value(first)}) not counted as consent"
        )
    if missing:  # left out, as by a warehouse's snake_case fields pasted into a TSV
        notes.append(
            f"{missing} consent_preferences {rows} with no event type (the event's eventType, "
            "or the log's event_type, missing or empty) not counted as consent: the schema "
            f"requires one of {', '.join(EVENT_TYPES)}; check that the data keeps the "
            "tracker's field names"
        )
    return notes
