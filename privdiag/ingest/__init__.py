"""Ingestion: detect each input's format, stage it, and build the canonical tables.

``load`` is the one entry point. Each format lives in its own module with ``NAME``,
``detect(columns)`` and ``stage(ctx)``; adding a format is adding a module to ``FORMATS``.
The loader's jobs have a module each: ``reading`` (files into DuckDB readers), ``staging``
(one input's format chosen and staged), ``tables`` (``events`` and ``consent`` built),
``duplicates`` (repeated events and consent records) and ``validation`` (times in range, no
empty input).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from privdiag.config import Config
from privdiag.consent_keys import mark_device_consent, unlinked_notes
from privdiag.errors import InputError, UsageError
from privdiag.ingest.consent_strings import apply_to_events
from privdiag.ingest.duplicates import drop_duplicate_consent, drop_duplicate_events
from privdiag.ingest.file_checks import explain_read_error
from privdiag.ingest.files import first_reached, named_files
from privdiag.ingest.placeholders import clear_placeholder_ids
from privdiag.ingest.reading import CSV_RFC4180, duck_message, reader_sql
from privdiag.ingest.split_files import consent_parts, join_parts
from privdiag.ingest.sqlparts import EARLIEST
from privdiag.ingest.staging import (
    CHECKED_WHEN_FORCED,
    DUCKDB_ONLY,
    FORMATS,
    PEEK_SAMPLE,
    check_engine_formats,
    configured_source,
    format_module,
    join_inputs,
    stage_one,
)
from privdiag.ingest.tables import (
    CONSENT_COLUMNS,
    NO_UNMAPPED,
    UNMAPPED,
    ConsentInput,
    Loaded,
    build_consent,
    build_events,
    drop_scratch,
    inserted,
    keep_unmapped,
    unmapped_categories,
)
from privdiag.ingest.validation import (
    TIMELESS_KEPT,
    check_consent_time_range,
    check_missing_times,
    check_time_range,
    count_input_rows,
)
from privdiag.result import InputInfo, sha256_file

__all__ = [
    "CHECKED_WHEN_FORCED",
    "CONSENT_COLUMNS",
    "CSV_RFC4180",
    "DUCKDB_ONLY",
    "EARLIEST",
    "FORMATS",
    "PEEK_SAMPLE",
    "TIMELESS_KEPT",
    "UNMAPPED",
    "ConsentInput",
    "Loaded",
    "check_engine_formats",
    "drop_duplicate_events",
    "duck_message",
    "format_module",
    "inserted",
    "load",
    "reader_sql",
    "sha256_file",
]


def load(
    con: Any,
    data: list[str],
    consent: list[str],
    config: Config,
    *,
    fmt: str = "auto",
    progress: Callable[[str], None] | None = None,
    keep_staging: bool = False,
    consent_origins: list[str] | None = None,
) -> Loaded:
    """Read every input into the ``events`` and ``consent`` tables of ``con``.

    ``consent_origins`` says where each of ``consent`` was given (``--consent``, the config's
    ``[consent] paths``), for the notes on a file given twice.

    The temp tables and views each input was staged in are dropped once its records are in
    those tables, unless ``keep_staging`` (:mod:`privdiag.snowplow_models` reads Snowplow's).
    Raises InputError naming the file (and row or field) for anything unreadable; nothing is
    written anywhere but the connection.
    """
    if fmt != "auto" and fmt not in FORMATS:
        raise UsageError(
            f"unknown --format {fmt!r}", hint=f"use auto or one of {', '.join(FORMATS)}"
        )
    loaded = Loaded()
    con.execute(f"CREATE OR REPLACE TEMP TABLE {UNMAPPED} AS {NO_UNMAPPED}")
    jobs = _jobs(con, data, (consent, consent_origins), loaded, config)
    # Fingerprints are read on a thread while DuckDB stages and builds the tables: hashing
    # releases the GIL, and a 4 GB export takes seconds to hash.
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="privdiag-sha256")
    try:
        digests = _stage_inputs(con, jobs, loaded, hashing, fmt, config, progress)
        consent_inputs = _build_tables(con, loaded, keep_staging=keep_staging)
        for info, digest in zip(loaded.inputs, digests, strict=True):
            info.sha256 = _digest(info, digest)
    finally:  # on an error, files not yet hashed are not hashed
        hashing.shutdown(wait=True, cancel_futures=True)

    count_input_rows(con, loaded, consent_inputs)
    check_missing_times(con, loaded)
    check_time_range(con, loaded)
    check_consent_time_range(loaded, consent_inputs)
    return loaded


def _stage_inputs(
    con: Any,
    jobs: list[Job],
    loaded: Loaded,
    hashing: ThreadPoolExecutor,
    fmt: str,
    config: Config,
    progress: Callable[[str], None] | None,
) -> list[Future[str]]:
    """Stage each (argument, files, role, source) of ``jobs`` in turn into ``loaded``, then complete
    the staging that spans inputs (:func:`join_inputs`) and keep each input's decisions in
    unmapped categories (listed per source in ``loaded.unmapped``); return the fingerprints
    of their files, hashed on ``hashing``."""
    digests = []
    for index, (argument, files, role, source) in enumerate(jobs):
        if progress:
            progress(f"reading {argument}")
        staged, info, read = stage_one(
            con, argument, index, files=files, role=role, fmt=fmt, config=config, source=source
        )
        digests.append(hashing.submit(_fingerprint, read))
        loaded.inputs.append(info)
        loaded.staged.append((argument, staged))
    loaded.notes += _shared_source_notes(jobs, loaded, config)
    if progress:  # what follows reads every input at once: no one input's phase
        progress("building the events and consent tables")
    join_inputs(con, [staged for _, staged in loaded.staged], config.thresholds.min_group_size)
    for index, (argument, staged) in enumerate(loaded.staged):  # keyed as joined
        keep_unmapped(con, staged.source or argument, staged.unmapped_sql, index)
    loaded.unmapped = unmapped_categories(con)
    return digests


def _shared_source_notes(jobs: list[Job], loaded: Loaded, config: Config) -> list[str]:
    """A note per source name that several event inputs were read as without the config
    naming it (``a/x.csv b/x.csv``, both ``x``): their events are one source's, summed in
    every finding, which the reader should know."""
    named: dict[str, list[str]] = {}
    for (argument, _, role, _), (_, staged) in zip(jobs, loaded.staged, strict=True):
        if role == "events" and staged.source and not configured_source(argument, config)[0]:
            named.setdefault(staged.source, []).append(argument)
    return [
        f"{len(given)} event inputs ({', '.join(given)}) are each read as source {source}, "
        "so their events are counted as one source's in every finding; to keep them apart, "
        "name each under [sources.X] paths in the config"
        for source, given in named.items()
        if len(given) > 1
    ]


# An input to stage: its argument, its files (None: a URL the engine lists), its role and
# the source name it is read as (None: its own, :func:`stage_one`'s).
Job = tuple[str, list[Path] | None, str, str | None]


def _jobs(
    con: Any,
    data: list[str],
    consent: tuple[list[str], list[str] | None],
    loaded: Loaded,
    config: Config,
) -> list[Job]:
    """Each input to stage: a file reached twice (a hard link, a folder that also holds a
    file given by itself) is read once, where first reached, and said in ``loaded.notes``;
    an argument whose files were all read before is left out. A file that one role names by
    itself is left out of the other role's folders and globs (a consent log inside the events
    folder is consent only). Event files given one by one and named alike but for their
    digits are one input (:func:`join_parts`). ``consent`` is the consent arguments and where
    each was given (None: unsaid)."""
    urls = getattr(con, "list_files", None) is not None
    jobs: list[Job] = []
    configured = {a for a in data if configured_source(a, config)[0]}
    data, given, origins, notes = consent_parts(data, consent[0], consent[1], configured)
    consent, loaded.notes = (given, origins), loaded.notes + notes
    roles = ((data, None, consent[0], "events"), (consent[0], consent[1], data, "consent"))
    for arguments, origins, other, role in roles:
        reaching = first_reached(
            arguments, urls_listed=urls, other_role=named_files(other), origins=origins
        )
        sources: dict[str, str] = {}
        if role == "events":
            reaching, sources, notes = join_parts(reaching, configured)
            loaded.notes += notes
        for reached in reaching:
            note = reached.note()
            if note:
                loaded.notes.append(note)
            if reached.files is None or reached.files:
                source = sources.get(reached.argument)
                jobs.append((reached.argument, reached.files, role, source))
    return jobs


def _build_tables(con: Any, loaded: Loaded, *, keep_staging: bool) -> dict[int, ConsentInput]:
    """Build ``events`` and ``consent`` from the staged inputs, decode consent strings, drop
    duplicate events, clear placeholder ids and drop repeated consent records; return what
    each consent input held (its records as read, repeats included).

    Raises UsageError when no input holds events, InputError when the inputs cannot be
    combined (the same feature with different types).
    """
    import duckdb

    event_views = [s.events_view for _, s in loaded.staged if s.events_view]
    if not event_views:
        raise UsageError("no event data given", hint="pass at least one events file or folder")
    events_only = [] if keep_staging else [s for _, s in loaded.staged if not s.consent_view]
    try:
        build_events(con, event_views)
        drop_scratch(con, events_only)
        consent_inputs = build_consent(con, loaded, drop=not keep_staging)
        decoded = apply_to_events(con)
        loaded.undecodable, loaded.partly_read = decoded.undecodable, decoded.partly_read
        loaded.disagreeing = decoded.disagreeing
        loaded.notes += drop_duplicate_events(con)
        placeholders = sum(c.placeholders for c in consent_inputs.values())
        loaded.notes += clear_placeholder_ids(con, placeholders)
        loaded.notes += drop_duplicate_consent(con)  # and the unmapped decisions'
        loaded.notes += mark_device_consent(con)
        loaded.notes += unlinked_notes(con)
        loaded.unmapped = unmapped_categories(con)  # a repeated log's own source may be gone
    except duckdb.Error as exc:
        clash = explain_read_error([], str(exc))
        if clash:
            raise clash from exc
        raise InputError(
            f"inputs cannot be combined: {duck_message(exc)}",
            hint="check that the same feature has the same type in every input",
        ) from exc
    return consent_inputs


def _digest(info: InputInfo, digest: Future[str]) -> str:
    """The fingerprint hashed on the thread; InputError when the file went away meanwhile."""
    try:
        return digest.result()
    except OSError as exc:
        raise InputError(
            f"cannot be fingerprinted ({exc.strerror or exc}): it was moved or changed while "
            "being scanned",
            path=info.path,
            hint="scan a copy of the export that nothing rotates or rewrites",
        ) from exc


def _fingerprint(files: list[Path]) -> str:
    if hasattr(files[0], "fingerprint"):  # a remote file: its listing, not its bytes
        from hashlib import sha256

        return sha256(
            "\n".join(getattr(f, "fingerprint", str(f)) for f in files).encode()
        ).hexdigest()
    if len(files) == 1:
        return sha256_file(files[0])
    from hashlib import sha256

    combined = sha256()
    for f in files:
        combined.update(sha256_file(f).encode())
    return combined.hexdigest()
