"""The ``scan`` command, and ``report``, which merges the JSON results of earlier runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from privdiag.cli_emit import emit, merge_docs
from privdiag.cli_options import (
    ConfigOpt,
    FailOnOpt,
    HtmlOpt,
    JsonOpt,
    JunitOpt,
    MarkdownOpt,
    MemoryLimitOpt,
    Outputs,
    QuietOpt,
    TempDirOpt,
    ThreadsOpt,
    engine_choice,
    engine_limits,
    fail_on_level,
    load_config,
    progress_sink,
)

SCAN_EPILOG = "Example: privdiag scan exports/ga4/ --consent cmp_log.csv --html report.html"
REPORT_EPILOG = "Example: privdiag report monday.json tuesday.json --html week.html"

DataArg = Annotated[
    list[str],
    typer.Argument(
        help="Event exports: files, globs or folders (CSV, NDJSON, JSON, Parquet; gzip or not)."
    ),
]
ConsentOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--consent",
        metavar="FILE",
        help="Consent records file (user, purpose, status, time, version); repeatable.",
    ),
]
FormatOpt = Annotated[
    str, typer.Option("--format", help="auto, ga4, segment, snowplow or generic.")
]
SurveyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--survey",
        metavar="FILE",
        help="Survey export (CSV or JSON: respondent or segment, trust score, stated "
        "preferences); repeatable.",
    ),
]
EngineOpt = Annotated[
    str | None, typer.Option("--engine", help="duckdb (default) or spark (privdiag[spark]).")
]
SparkMasterOpt = Annotated[
    str | None, typer.Option("--spark-master", help="Spark master URL, e.g. local[4].")
]
SparkRemoteOpt = Annotated[
    str | None, typer.Option("--spark-remote", help="Spark Connect URL, sc://host:15002.")
]
ResultsArg = Annotated[
    list[Path], typer.Argument(metavar="results", help="JSON results written with --json.")
]


def scan(
    data: DataArg,
    consent: ConsentOpt = None,
    fmt: FormatOpt = "auto",
    survey: SurveyOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
    junit: JunitOpt = None,
    fail_on: FailOnOpt = None,
    quiet: QuietOpt = False,
    threads: ThreadsOpt = None,
    memory_limit: MemoryLimitOpt = None,
    temp_dir: TempDirOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
    spark_remote: SparkRemoteOpt = None,
) -> None:
    """Ingest event exports, resolve each event's consent, and find data collected without it."""
    from privdiag.scan import run_scan

    outputs = Outputs(json_out, html, markdown, junit, fail_on, quiet)
    outputs.check()
    cfg = load_config(config)
    configured = [cfg.data_path(p) for p in cfg.consent_files]
    outputs.check_apart([*data, *(consent or []), *configured, *(survey or []), cfg.path])
    engine_choice(cfg, engine, spark_master, spark_remote)
    if quiet:  # Spark then logs errors only, and a driver JVM it starts writes nothing
        cfg.engine.spark_conf.setdefault("spark.log.level", "ERROR")
    fail_on_level(outputs, cfg)
    engine_limits(cfg, threads, memory_limit, temp_dir)

    progress = progress_sink(outputs)
    try:
        result = run_scan(
            data, consent=consent, config=cfg, fmt=fmt, progress=progress, survey=survey
        )
    except BaseException:
        if progress:
            progress.close()
        raise
    if progress:
        progress.close(
            sum(i.rows or 0 for i in result.inputs if i.role == "events"),
            {
                f"reading {i.path}": (i.rows, "events" if i.role == "events" else "rows")
                for i in result.inputs
            },
        )
    raise typer.Exit(emit([result.to_dict()], outputs, cfg))


def report(
    results: ResultsArg,
    config: ConfigOpt = None,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
    junit: JunitOpt = None,
    fail_on: FailOnOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Merge earlier JSON results into one report."""
    from privdiag.output import read_json
    from privdiag.report.group_size import (
        check_group_sizes,
        drop_small_group_evidence,
        hide_consent_rates,
        pool_consent_mix,
    )

    outputs = Outputs(json_out, html, markdown, junit, fail_on, quiet)
    outputs.check()
    cfg = load_config(config)
    outputs.check_apart([*results, cfg.path])
    docs = [read_json(p) for p in results]
    dropped = drop_small_group_evidence(docs, cfg.thresholds.min_group_size)
    # Even one document is merged: every output then shows the same ranked, deduplicated
    # findings and a summary privdiag computed, not the file's own.
    merged = merge_docs(docs)
    kept = check_group_sizes(docs, results, cfg.thresholds.min_group_size)
    _at_group_size(merged, cfg.thresholds.min_group_size)
    pool_consent_mix(merged, docs, cfg.thresholds.min_group_size)
    if notes := dropped + hide_consent_rates(merged, docs, cfg.thresholds.min_group_size):
        said = merged["evidence"].get("notes")
        merged["evidence"]["notes"] = [*(said if isinstance(said, list) else []), *notes]
    if kept is not None:
        merged["min_group_size"] = kept
    # the page's jq line counts on the JSON's order: the files given are in it only when one
    # file holds the findings as ranked here (not edited, reordered or merged)
    ids = [f["id"] for f in merged["findings"]]
    # a result may say "findings": null for none, as for any list of a result
    in_order = len(docs) == 1 and [f["id"] for f in docs[0]["findings"] or []] == ids
    raise typer.Exit(emit([merged], outputs, cfg, json_in_order=in_order))


def _at_group_size(doc: dict[str, Any], k: int) -> None:
    """Hide, in place, what a result made with a smaller ``min_group_size`` shows of fewer
    than ``k`` users: their counts, with the events and share that describe them, and the
    evidence of a finding that this hides (a lead-time histogram is those users' own). The
    reports would read "<k users" beside those users' events otherwise."""
    from privdiag.audit.diff import hides_users, shown_metrics

    for finding in [*(doc.get("findings") or []), *(doc.get("resolved") or [])]:
        metrics = finding.get("metrics")
        if not isinstance(metrics, dict) or not hides_users(metrics, k):
            continue
        if "users" not in (metrics.get("suppressed") or []):  # shown when it was made
            finding["evidence"] = {}
            if isinstance(finding.get("title"), str):  # "(33% of users)", as the scan words it
                finding["title"] = _SHARE_OF_USERS.sub(f"fewer than {k} users", finding["title"])
        finding["metrics"] = shown_metrics(metrics, k)


# A share of users in a title (consent.missing_record's), which with the users in all gives
# the count of those users.
_SHARE_OF_USERS = re.compile(r"\d+(?:\.\d+)?% of users")
