"""The manifest of the hostile-input corpus: per file, what ``privdiag scan`` must answer.

Each case names a file under ``files/`` (events, or consent when ``consent=True``: it is then
passed with ``--consent`` next to ``csv/good.csv``), the exit code, a substring of the message
(for errors: it names the file, the row or line, the field), and for exit 0/1 a property of
the findings: kinds that must (``kinds``) or must not (``no_kinds``) appear, the number of
events read (``rows``), or a substring of a note (``note``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    path: str
    exit: int
    message: str = ""
    consent: bool = False
    kinds: tuple[str, ...] = ()
    no_kinds: tuple[str, ...] = ()
    rows: int | None = None
    note: str = ""
    args: tuple[str, ...] = ()


BAD_TIME = "is before 2000-01-01 or in the future"
NO_FIT = "its header does not fit its rows"

CASES: tuple[Case, ...] = (
    # --- generic CSV -------------------------------------------------------------------------
    Case("csv/good.csv", 1, rows=6),
    Case("csv/empty.csv", 3, "empty.csv: is empty"),
    Case("csv/whitespace_only.csv", 3, "whitespace_only.csv: is empty"),
    Case("csv/header_only.csv", 3, "holds no events"),
    Case("csv/bom.csv", 1, rows=6, no_kinds=("people.unclassified_feature",)),
    Case("csv/utf16_bom.csv", 3, "is text in UTF-16LE, not UTF-8"),
    Case("csv/invalid_utf8.csv", 3, "invalid_utf8.csv: line 5 is not UTF-8 text"),
    Case("csv/binary_garbage.csv", 3, "is binary, not CSV, JSON or Parquet"),
    Case("csv/null_bytes_inside.csv", 3, "holds a NUL byte on line 4, byte 251"),
    Case("csv/mixed_delimiters.csv", 3, NO_FIT),
    Case("csv/single_column.csv", 3, "reads as a single column"),
    Case("csv/duplicate_columns.csv", 3, "field 'ts': names column 'ts' twice"),
    Case("csv/duplicate_columns_case.csv", 3, "names column 'Gclid/gclid' twice"),
    Case("csv/ragged_rows.csv", 3, "different numbers of fields"),
    Case("csv/extra_fields.csv", 3, NO_FIT),
    Case("csv/no_time_column.csv", 3, "no column for the event time"),
    Case("csv/no_name_column.csv", 3, "no column for the event name"),
    Case(
        "csv/bad_timestamp.csv",
        3,
        "row 3, field 'ts': timestamp (a 9-character value of letters) cannot be read",
    ),
    Case("csv/empty_timestamp.csv", 3, "row 3, field 'ts': timestamp is empty"),
    Case("csv/mixed_ts_formats.csv", 0, rows=7),
    Case("csv/epoch_seconds.csv", 1, rows=6),
    Case("csv/epoch_ms.csv", 1, rows=6),
    Case("csv/epoch_us.csv", 1, rows=6),
    Case("csv/epoch_ns.csv", 1, rows=6),
    Case("csv/epoch_fractional.csv", 1, rows=6),
    Case("csv/ts_1970.csv", 3, f"row 3, field 'ts': an event time in year 1970 {BAD_TIME}"),
    Case("csv/ts_1999.csv", 3, BAD_TIME),
    Case("csv/ts_future.csv", 3, f"in year 2099 {BAD_TIME}"),
    Case("csv/ts_year_9999.csv", 3, BAD_TIME),
    Case("csv/ts_negative_epoch.csv", 3, BAD_TIME),
    Case("csv/duplicate_events.csv", 1, rows=6, note="3 duplicate events"),
    Case("csv/same_id_different_rows.csv", 1, rows=4, note="2 events share an event_id"),
    Case("csv/html_payloads.csv", 0, rows=6),
    Case("csv/formula_payloads.csv", 0, rows=6),
    Case("csv/pii_in_names.csv", 0, rows=6),
    Case("csv/quoted_newlines.csv", 0, rows=4),
    Case("csv/semicolons.csv", 1, rows=6),
    Case("csv/tabs.tsv", 1, rows=6),
    Case("csv/crlf.csv", 1, rows=6),
    Case("csv/unknown_consent_vocab.csv", 0, rows=6, no_kinds=("consent.violation",)),
    Case("csv/only_user_ids_missing.csv", 0, rows=5),
    Case("csv/unicode_names.csv", 0, rows=6),
    Case("csv/reserved_names.csv", 1, rows=6, kinds=("consent.violation",)),
    Case("csv/control_chars.csv", 0, rows=6),
    # --- gzip --------------------------------------------------------------------------------
    Case("gz/good.csv.gz", 1, rows=6),
    Case("gz/truncated.ndjson.gz", 3, "truncated.ndjson.gz: is truncated or corrupt"),
    Case("gz/magic_only.csv.gz", 3, "magic_only.csv.gz: is truncated or corrupt"),
    Case("gz/garbage_after_magic.csv.gz", 3, "is not a valid gzip file"),
    Case("gz/empty_member.csv.gz", 3, "is empty"),
    # --- NDJSON / JSON -----------------------------------------------------------------------
    Case("ndjson/good.ndjson", 0, rows=6),
    Case("ndjson/empty_object.ndjson", 3, "records cannot be read as columns: they are empty"),
    Case("ndjson/nan.ndjson", 0, rows=4),
    Case("ndjson/infinity.ndjson", 0, rows=4),
    Case("ndjson/truncated.ndjson", 3, "truncated.ndjson: cannot be read: Malformed JSON"),
    Case("ndjson/epoch_as_string.ndjson", 0, rows=6),
    Case("ndjson/epoch_as_number.ndjson", 0, rows=6),
    Case("ndjson/epoch_string_and_number.ndjson", 0, rows=6),
    Case("ndjson/iso_and_number.ndjson", 0, rows=6),
    Case("ndjson/epoch_ms_number.ndjson", 0, rows=6),
    Case("ndjson/epoch_ns_number.ndjson", 0, rows=6),
    Case("ndjson/numbers_as_strings.ndjson", 0, rows=6),
    Case("ndjson/mixed_types.ndjson", 0, rows=6),
    Case("ndjson/nested_feature.ndjson", 0, rows=6),
    Case("ndjson/nested_user.ndjson", 3, "field 'user_id': holds records (a struct)"),
    Case("ndjson/empty_key.ndjson", 3, "some field has an empty name"),
    Case("ndjson/empty_object_feature.ndjson", 0, rows=4),
    Case("ndjson/ts_object.ndjson", 3, "row 1, field 'ts': timestamp"),
    Case("ndjson/null_ts.ndjson", 3, "row 4, field 'ts': timestamp is empty"),
    Case("ndjson/blank_lines.ndjson", 0, rows=3),
    Case("ndjson/array_lines.ndjson", 3, "expected records"),
    Case("ndjson/scalars.json", 3, "reads as a single column"),
    Case("ndjson/array_of_scalars.json", 3, "expected records"),
    Case("ndjson/array_good.json", 0, rows=6),
    Case("ndjson/duplicate_keys.ndjson", 3, "(record not shown)"),
    Case("ndjson/deep_nesting.ndjson", 3, "maximum recursion depth"),
    Case("ndjson/invalid_utf8.ndjson", 3, "invalid_utf8.ndjson: line 3 is not UTF-8 text"),
    Case("ndjson/html_payloads.ndjson", 0, rows=6),
    Case("ndjson/pii_values.ndjson", 0, rows=6),
    Case("ndjson/duplicate_events.ndjson", 0, rows=4, note="2 duplicate events"),
    # --- Parquet -----------------------------------------------------------------------------
    Case("parquet/good.parquet", 0, rows=6),
    Case("parquet/truncated.parquet", 3, "No magic bytes found"),
    Case("parquet/magic_only.parquet", 3, "too small to be a Parquet file"),
    Case("parquet/zero_rows.parquet", 3, "holds no events"),
    Case("parquet/epoch_ms_int.parquet", 0, rows=6),
    Case("parquet/nested_struct.parquet", 0, rows=6),
    Case("parquet/ts_1970.parquet", 3, BAD_TIME),
    # --- GA4 ---------------------------------------------------------------------------------
    Case("ga4/good.ndjson", 0, rows=6),
    Case("ga4/params_not_list.ndjson", 0, rows=3),
    Case("ga4/bad_timestamp.ndjson", 3, "row 2, field 'event_timestamp'"),
    Case("ga4/timestamp_in_seconds.ndjson", 0, rows=3),
    Case("ga4/html_params.ndjson", 0, rows=6),
    Case("ga4/nan_param.ndjson", 0, rows=3),
    Case("ga4/privacy_vocab.ndjson", 0, rows=4),
    Case("ga4/duplicate_events.ndjson", 0, rows=4, note="2 duplicate events"),
    Case("ga4/good.ndjson", 3, "is not a segment export", args=("--format", "segment")),
    Case("csv/good.csv", 3, "is not a snowplow export", args=("--format", "snowplow")),
    # --- Segment -----------------------------------------------------------------------------
    Case("segment/good.ndjson", 0, rows=6),
    Case("segment/array.json", 0, rows=6),
    Case("segment/no_timestamp.ndjson", 3, "row 1, field 'timestamp': message has no timestamp"),
    Case("segment/bad_timestamp.ndjson", 3, "row 2, field 'timestamp'"),
    Case("segment/unknown_categories.ndjson", 0, kinds=("consent.unmapped_category",)),
    Case("segment/html_payloads.ndjson", 0, rows=6),
    # --- Snowplow ----------------------------------------------------------------------------
    Case("snowplow/good.csv", 0, rows=6),
    Case("snowplow/bad_tstamp.csv", 3, "row 3, field 'collector_tstamp': time"),
    Case("snowplow/duplicate_event_ids.csv", 0, rows=6),
    Case("snowplow/formula_payloads.csv", 3, NO_FIT),
    Case("snowplow/html_payloads.csv", 0, rows=6),
    # --- consent CSV -------------------------------------------------------------------------
    Case("consent/doubled_quotes.csv", 1, consent=True, kinds=("consent.unmapped_category",)),
    Case("consent/fully_quoted_formula.csv", 1, consent=True, kinds=("consent.violation",)),
    Case("consent/unknown_vocab.csv", 1, consent=True, kinds=("consent.unmapped_category",)),
    Case(
        "consent/bad_status.csv",
        3,
        "row 3, field 'status': consent status (a 5-character value of letters)",
        True,
    ),
    Case(
        "consent/bad_ts.csv",
        3,
        "row 3, field 'ts': decision time (a 9-character value of letters and spaces)",
        True,
    ),
    Case("consent/missing_columns.csv", 3, "lacks columns for status, ts", True),
    Case("consent/empty.csv", 3, "consent/empty.csv: is empty", True),
    Case("consent/header_only.csv", 3, "header_only.csv: holds no consent records", True),
    Case("consent/contradictory.csv", 1, consent=True, kinds=("consent.conflict",)),
    Case("consent/control_chars.csv", 1, consent=True, kinds=("consent.unmapped_category",)),
    Case("consent/rich_markup.csv", 1, consent=True, kinds=("consent.unmapped_category",)),
    Case("consent/html_payloads.csv", 1, consent=True, kinds=("consent.unmapped_category",)),
    Case("consent/ts_1970.csv", 3, f"consent decision time in year 1970 {BAD_TIME}", True),
    # --- TC strings --------------------------------------------------------------------------
    Case("tcf/malformed_strings.csv", 1, consent=True, note="could not be decoded"),
    Case(
        "tcf/all_malformed.csv",
        3,
        "row 1, field 'tc_string': none of the 4 consent strings could be decoded",
        True,
    ),
    Case("tcf/events_with_bad_tc.csv", 0, rows=6, note="could not be decoded"),
    # --- odd file names ----------------------------------------------------------------------
    Case("names/with space/events 2026.csv", 1, rows=6),
    Case("names/événements-ü/日本語.csv", 1, rows=6),
    Case("names/<img src=x onerror=alert(1)>.csv", 1, rows=6),
    Case("names/carol@example.org 203.0.113.77.csv", 1, rows=6),
    Case("names/with space", 1, rows=6),
)
