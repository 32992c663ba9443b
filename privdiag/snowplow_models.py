"""Snowplow consent models in DuckDB: the consent log and the per-user consent state.

They follow the consent models of dbt-snowplow-web, so their output can be compared with that
package's test fixtures. Input is the deduplicated view ``<prefix>_sp_events`` that
:mod:`privdiag.ingest.snowplow` stages (one row per ``event_id``, earliest ``collector_tstamp``).
Like the dbt base model, events without ``domain_sessionid`` and events sent more than
``days_late_allowed`` days after they were created are left out.
"""

from __future__ import annotations

from typing import Any

from privdiag.ingest.snowplow_consent import json_list, json_text

LOG_COLUMNS = (
    "event_id",
    "domain_userid",
    "user_id",
    "geo_country",
    "page_view_id",
    "domain_sessionid",
    "derived_tstamp",
    "load_tstamp",
    "event_name",
    "event_type",
    "basis_for_processing",
    "consent_url",
    "consent_version",
    "consent_scopes",
    "domains_applied",
    "gdpr_applies",
    "cmp_load_time",
)


def consent_log(con: Any, prefix: str = "in0", *, days_late_allowed: int = 3) -> str:
    """Create the view ``<prefix>_consent_log`` and return its name.

    One row per cmp_visible or consent_preferences event; scopes and domains are joined with
    ', ' (as the dbt model's array-to-string does); gdpr_applies is false when absent.
    """
    view = f"{prefix}_consent_log"
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW {view} AS
        SELECT event_id, domain_userid, user_id, geo_country, page_view_id, domain_sessionid,
               derived_tstamp, load_tstamp, event_name,
               lower({json_text("cp", "eventType", "event_type")}) AS event_type,
               {json_text("cp", "basisForProcessing", "basis_for_processing")}
                   AS basis_for_processing,
               {json_text("cp", "consentUrl", "consent_url")} AS consent_url,
               {json_text("cp", "consentVersion", "consent_version")} AS consent_version,
               array_to_string({json_list("cp", "consentScopes", "consent_scopes")}, ', ')
                   AS consent_scopes,
               array_to_string({json_list("cp", "domainsApplied", "domains_applied")}, ', ')
                   AS domains_applied,
               coalesce(TRY_CAST({json_text("cp", "gdprApplies", "gdpr_applies")} AS BOOLEAN),
                        FALSE) AS gdpr_applies,
               TRY_CAST({json_text("cmp", "elapsedTime", "elapsed_time")} AS DOUBLE)
                   AS cmp_load_time
        FROM {prefix}_sp_events
        WHERE event_name IN ('cmp_visible', 'consent_preferences')
          AND domain_sessionid IS NOT NULL
          AND (dvce_sent_tstamp IS NULL OR dvce_created_tstamp IS NULL
               OR dvce_sent_tstamp <= dvce_created_tstamp + INTERVAL {int(days_late_allowed)} DAY)
    """)
    return view


def consent_versions(con: Any, prefix: str = "in0") -> str:
    """Create ``<prefix>_consent_versions``: each consent version, when it was first seen, and
    whether it is the latest (the one first seen last). Returns the view name."""
    view = f"{prefix}_consent_versions"
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW {view} AS
        SELECT consent_version, min(derived_tstamp) AS version_start_tstamp,
               min(derived_tstamp) = max(min(derived_tstamp)) OVER () AS is_latest_version
        FROM {consent_log(con, prefix)}
        WHERE event_name = 'consent_preferences' AND consent_version IS NOT NULL
        GROUP BY consent_version
    """)
    return view


def consent_users(con: Any, prefix: str = "in0") -> str:
    """Create ``<prefix>_consent_users``: per domain_userid, CMP and consent counts, the last
    consent decision and whether its version is the latest. Returns the view name.

    user_id and geo_country are those of the user's latest event (the fixture cannot tell this
    from grouping by them, as dbt does).
    """
    log = consent_log(con, prefix)
    versions = consent_versions(con, prefix)
    view = f"{prefix}_consent_users"
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW {view} AS
        WITH base AS (
            SELECT domain_userid,
                   arg_max(user_id, derived_tstamp) AS user_id,
                   arg_max(geo_country, derived_tstamp) AS geo_country,
                   count(*) FILTER (event_name = 'cmp_visible') AS cmp_events,
                   count(*) FILTER (event_name = 'consent_preferences') AS consent_events,
                   max(derived_tstamp) FILTER (event_name = 'cmp_visible')
                       AS last_cmp_event_tstamp,
                   max(derived_tstamp) FILTER (event_name = 'consent_preferences')
                       AS last_consent_event_tstamp,
                   max(load_tstamp) AS last_processed_event
            FROM {log} GROUP BY domain_userid
        ),
        latest AS (
            SELECT domain_userid, event_type, consent_scopes, consent_version, consent_url,
                   domains_applied
            FROM {log} WHERE event_name = 'consent_preferences'
            QUALIFY row_number() OVER (
                PARTITION BY domain_userid ORDER BY derived_tstamp DESC, event_id) = 1
        )
        SELECT b.domain_userid, b.user_id, b.geo_country, b.cmp_events, b.consent_events,
               b.last_cmp_event_tstamp, b.last_consent_event_tstamp,
               l.event_type AS last_consent_event_type,
               l.consent_scopes AS last_consent_scopes,
               l.consent_version AS last_consent_version,
               l.consent_url AS last_consent_url,
               l.domains_applied AS last_domains_applied,
               b.last_processed_event,
               coalesce(v.is_latest_version, FALSE) AS is_latest_version
        FROM base b
        LEFT JOIN latest l USING (domain_userid)
        LEFT JOIN {versions} v ON v.consent_version = l.consent_version
    """)
    return view
