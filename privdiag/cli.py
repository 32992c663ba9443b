"""The typer app: parse arguments, call the core once, write the outputs; nothing else."""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from privdiag import __version__
from privdiag.config import MAX_THREADS
from privdiag.errors import PrivdiagError, UsageError


def _crash_log(text: str) -> Path | None:
    """Write a crash's traceback to a new file in the temp dir that only the user can read
    (mode 0600), one file per crash; return its path, or None when it cannot be written."""
    try:
        fd, name = tempfile.mkstemp(prefix="privdiag-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError:
        return None
    return Path(name)


def _without_data(text: str) -> str:
    """Return an error text or traceback without e-mail or IP addresses and without the
    values and records a reader quoted from the data."""
    from privdiag.privacy import scrub, without_quoted_data

    return without_quoted_data(scrub(text))


# DuckDB turns a signal that arrives while a query runs into RuntimeError("Query interrupted");
# the signal that stopped the run (SIGINT unless SIGTERM came) gives the exit code 128 + n.
_INTERRUPTED = "Query interrupted"
_stopped_by: list[int] = []


def _on_sigterm(signum: int, _frame: Any) -> None:
    """Stop like Ctrl-C, so that atexit removes the scratch folder of --memory-limit."""
    _stopped_by.append(signum)
    raise KeyboardInterrupt


def _interrupted() -> typer.Exit:
    """Return the exit of a run stopped by a signal, after saying so on stderr."""
    signum = _stopped_by[-1] if _stopped_by else signal.SIGINT
    typer.echo("Interrupted.", err=True)
    return typer.Exit(128 + int(signum))


def _scrubbed(exc: BaseException | None) -> str:
    """An error's text with e-mail and IP addresses (from file names or data) redacted."""
    from privdiag.privacy import scrub

    return scrub(str(exc))


# The exit code when stdout or stderr is closed before privdiag has written to it (`| head`):
# 128 + SIGPIPE, what a shell shows for a tool that SIGPIPE stopped.
CLOSED_OUTPUT_EXIT = 128 + 13


def _output_closed() -> bool:
    """Whether stdout or stderr is a pipe whose reader has gone (poll reports an error on it).

    Tells a closed output from a BrokenPipeError of another pipe, which is a bug.
    """
    import select

    if not hasattr(select, "poll"):  # Windows: no poll; a broken pipe is then the output's
        return True
    for stream in (sys.stdout, sys.stderr):
        try:
            poller = select.poll()
            poller.register(stream.fileno(), select.POLLOUT)
        except (AttributeError, OSError, ValueError):  # not a real file (a test runner's)
            continue
        if any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)):
            return True
    return False


def _closed_output() -> typer.Exit:
    """Return the quiet exit of a run whose output was closed: nothing more is printed.

    What is still buffered for the closed stream goes to /dev/null instead, so that Python's
    flush at exit does not complain about the broken pipe either.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            continue
    return typer.Exit(CLOSED_OUTPUT_EXIT)


class _Group(TyperGroup):
    """Turns privdiag's errors into one line and the exit code of DESIGN.md.

    Usage errors are reported by typer itself (exit 2); anything unexpected is a bug
    (exit 5) whose traceback goes to a log file, never to the terminal. A closed stdout
    (``privdiag ... | head``) ends the run quietly with exit 141.
    """

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:  # --help and --version print here, before invoke
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            raise _closed_output() from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            if not _output_closed():
                raise _internal(exc) from None
            raise _closed_output() from None
        except PrivdiagError as exc:
            if _out_of_room(exc.__cause__):  # not the input's fault, whatever wrapped it
                raise _no_room(exc.__cause__) from None
            typer.echo(f"Error: {_scrubbed(exc)}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise _interrupted() from None
        except (typer.Exit, typer.Abort):
            raise
        except RuntimeError as exc:
            if str(exc) != _INTERRUPTED:
                raise _internal(exc) from None
            raise _interrupted() from None
        except Exception as exc:
            if type(exc).__module__.startswith(("click", "typer")):
                raise
            raise (_no_room(exc) if _out_of_room(exc) else _internal(exc)) from None


def _out_of_room(exc: BaseException | None) -> bool:
    """Whether DuckDB ran out of memory or of disk space (duckdb's types, not imported)."""
    name = type(exc).__name__
    return name == "OutOfMemoryException" or (
        name == "IOException" and "No space left on device" in str(exc)
    )


def _no_room(exc: BaseException | None) -> typer.Exit:
    """Say that DuckDB ran out of memory or disk and return the exit of a config error (2)."""
    disk = type(exc).__name__ == "IOException"
    error = UsageError(
        f"DuckDB ran out of {'disk space' if disk else 'memory'}: "
        f"{_scrubbed(exc).splitlines()[0][:200]}",
        hint="free space or pass --temp-dir a folder on a larger disk"
        if disk
        else "raise --memory-limit (or [engine] memory_limit; JSON inputs need about 256MB "
        "at least), or set one if none is set: tables then go to a scratch file under "
        "--temp-dir",
    )
    typer.echo(f"Error: {error}", err=True)
    return typer.Exit(error.exit_code)


def _internal(exc: Exception) -> typer.Exit:
    """Log the traceback of an unexpected error to its own private file and return exit 5
    (a bug)."""
    path = _crash_log(_without_data(traceback.format_exc()))
    where = f"the details are in {path}" if path else "its details could not be logged"
    typer.echo(
        f"Internal error: {type(exc).__name__}: {_without_data(str(exc))[:200]}. This is a "
        f"bug; {where} (readable by you only).",
        err=True,
    )
    return typer.Exit(5)


app = typer.Typer(
    name="privdiag",
    cls=_Group,
    help="Find out why personalization breaks when privacy rules tighten.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
log = logging.getLogger("privdiag")

# Shared option groups, defined once and reused by every command.
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="privdiag.toml to use (default: ./privdiag.toml when present)."),
]
JsonOpt = Annotated[
    str | None, typer.Option("--json", help="Write the findings as JSON ('-' for stdout).")
]
HtmlOpt = Annotated[str | None, typer.Option("--html", help="Write the single-file HTML report.")]
MarkdownOpt = Annotated[
    str | None, typer.Option("--markdown", help="Write a Markdown summary for a ticket.")
]
JunitOpt = Annotated[str | None, typer.Option("--junit", help="Write JUnit XML for CI.")]
FailOnOpt = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        help="Lowest severity that makes "
        "the exit code 1: critical, high, medium, low or info (default: the "
        "config's thresholds.fail_on, else high).",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        "--threads", min=1, max=MAX_THREADS, help="DuckDB threads (config: [engine] threads)."
    ),
]
MemoryLimitOpt = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help="Memory limit of the run, e.g. 4GB (DuckDB gets it less up to 256 MiB for "
        "Python); tables then live compressed in a scratch file and larger work spills, both "
        "under --temp-dir (config: [engine] memory_limit).",
    ),
]
TempDirOpt = Annotated[
    str | None,
    typer.Option(
        "--temp-dir",
        help="Folder for DuckDB's scratch file and spills, made if missing; a folder under "
        "the system temp dir by default (config: [engine] temp_dir).",
    ),
]


def _engine(cfg: Any, threads: int | None, memory_limit: str | None, temp_dir: str | None) -> None:
    """Let the engine flags override the config's [engine] keys."""

    if memory_limit and not re.fullmatch(r"\d+(\.\d+)?\s*([KMGT]i?B|%)?", memory_limit, re.I):
        raise UsageError(
            f"--memory-limit {memory_limit!r} is not a size", hint="write it like 4GB or 512MB"
        )
    if threads:
        cfg.engine.threads = threads
    if memory_limit:
        cfg.engine.memory_limit = memory_limit
    if temp_dir:
        cfg.engine.temp_dir = temp_dir


@dataclass
class Outputs:
    """The shared output options of every command."""

    json: str | None = None
    html: str | None = None
    markdown: str | None = None
    junit: str | None = None
    fail_on: str | None = None
    quiet: bool = False

    def to_stdout(self) -> bool:
        return "-" in (self.json, self.html, self.markdown, self.junit)

    def check(self) -> None:
        """Raise UsageError, before any work, for an output that cannot be written, or for
        more than one output to stdout (they would be written there back to back)."""
        from privdiag.output import check_writable

        given = {
            "--json": self.json,
            "--html": self.html,
            "--markdown": self.markdown,
            "--junit": self.junit,
        }
        to_stdout = [option for option, path in given.items() if path == "-"]
        if len(to_stdout) > 1:
            raise UsageError(
                f"only one output can go to stdout, and {' and '.join(to_stdout)} are both '-'",
                hint="write the others to files",
            )
        for option, path in given.items():
            if path:
                check_writable(path, option)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"privdiag {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Find out why personalization breaks when privacy rules tighten."""


def _fail_on(outputs: Outputs, config: Any) -> str:
    from privdiag.findings import SEVERITIES

    level = (outputs.fail_on or config.thresholds.fail_on).lower()
    if level not in SEVERITIES:
        raise UsageError(
            f"--fail-on {level!r} is not a severity", hint=f"use one of {', '.join(SEVERITIES)}"
        )
    return level


def _progress(outputs: Outputs) -> Any:
    """Return a progress sink that shows each phase on stderr when it is a terminal."""
    from privdiag.cli_progress import phase_progress

    return phase_progress(not outputs.quiet and sys.stderr.isatty())


def emit(docs: list[dict[str, Any]], outputs: Outputs, config: Any) -> int:
    """Write every requested output, print the summary, and return the exit code."""
    from privdiag.findings import at_or_above
    from privdiag.output import print_summary, write_json

    fail_on = _fail_on(outputs, config)
    doc = docs[0] if len(docs) == 1 else _merge(docs)
    min_group = config.thresholds.min_group_size
    if outputs.json:
        write_json(doc, outputs.json)
    if outputs.html:
        from privdiag.report import write_html

        write_html(docs, Path(outputs.html), min_group_size=min_group)
    if outputs.markdown:
        from privdiag.report import write_markdown

        write_markdown(docs, Path(outputs.markdown))
    if outputs.junit:
        from privdiag.report import write_junit

        write_junit(docs, Path(outputs.junit), fail_on=fail_on)
    _github(docs, fail_on)
    if not outputs.quiet:
        print_summary(doc, stream=sys.stderr if outputs.to_stdout() else sys.stdout)
    failing = [f for f in doc["findings"] if at_or_above(f["severity"], fail_on)]
    return 1 if failing else 0


def _merge(docs: list[dict[str, Any]]) -> dict[str, Any]:
    from privdiag.report import merge

    return merge(docs)


def _github(docs: list[dict[str, Any]], fail_on: str) -> None:
    import os

    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    try:
        from privdiag.report import github_annotations
    except ImportError:
        return
    github_annotations(docs, fail_on=fail_on, env=os.environ)


def _load_config(path: Path | None) -> Any:
    from privdiag.config import load_config

    return load_config(path)


def _engine_options(cfg: Any, name: str | None, master: str | None, remote: str | None) -> None:
    """Apply --engine / --spark-master / --spark-remote over the config's [engine] table."""
    if master or remote:
        name = name or "spark"
    if name is None:
        return
    if name not in ("duckdb", "spark"):
        raise UsageError(f"unknown --engine {name!r}", hint="use duckdb or spark")
    cfg.engine.name = name
    cfg.engine.spark_master = master or cfg.engine.spark_master
    cfg.engine.spark_remote = remote or cfg.engine.spark_remote


@app.command(epilog="Example: privdiag scan exports/ga4/ --consent cmp_log.csv --html report.html")
def scan(
    data: Annotated[
        list[str],
        typer.Argument(
            help="Event exports: files, globs or folders (CSV, NDJSON, JSON, Parquet; gzip or not)."
        ),
    ],
    consent: Annotated[
        list[str] | None,
        typer.Option(
            "--consent",
            help="Consent records file (user, purpose, status, time, version); repeatable.",
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="auto, ga4, segment, snowplow or generic.")
    ] = "auto",
    survey: Annotated[
        list[str] | None,
        typer.Option(
            "--survey",
            help="Survey export (CSV or JSON: respondent or segment, trust score, stated "
            "preferences); repeatable.",
        ),
    ] = None,
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
    engine: Annotated[
        str | None, typer.Option("--engine", help="duckdb (default) or spark (privdiag[spark]).")
    ] = None,
    spark_master: Annotated[
        str | None, typer.Option("--spark-master", help="Spark master URL, e.g. local[4].")
    ] = None,
    spark_remote: Annotated[
        str | None, typer.Option("--spark-remote", help="Spark Connect URL, sc://host:15002.")
    ] = None,
) -> None:
    """Ingest event exports, resolve each event's consent, and find data collected without it."""
    from privdiag.scan import run_scan

    outputs = Outputs(json_out, html, markdown, junit, fail_on, quiet)
    outputs.check()
    cfg = _load_config(config)
    _engine_options(cfg, engine, spark_master, spark_remote)
    if quiet:  # Spark then logs errors only, and a driver JVM it starts writes nothing
        cfg.engine.spark_conf.setdefault("spark.log.level", "ERROR")
    _fail_on(outputs, cfg)
    _engine(cfg, threads, memory_limit, temp_dir)
    progress = _progress(outputs)
    result = run_scan(data, consent=consent, config=cfg, fmt=fmt, progress=progress, survey=survey)
    if progress:
        progress.close(sum(i.rows for i in result.inputs if i.role == "events"))
    raise typer.Exit(emit([result.to_dict()], outputs, cfg))


@app.command(
    "model-check",
    epilog="Example: privdiag model-check models/propensity.onnx --blind-set holdout.parquet "
    "--label converted --consent-rates analytics=0.62,ads=0.41 --html model.html",
)
def model_check(
    model: Annotated[
        Path, typer.Argument(help="Saved model: .onnx, .skops (or a pickle with --allow-pickle).")
    ],
    blind_set: Annotated[
        Path, typer.Option("--blind-set", help="Labelled held-out data (CSV or Parquet).")
    ],
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference", help="Reference data for drift (default: the unmasked blind set)."
        ),
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="Label column.")] = None,
    scan_result: Annotated[
        Path | None,
        typer.Option(
            "--scan-result",
            help="A scan's JSON: its consent rates drive the observed scenario, and model "
            "findings link to its data findings as their causes.",
        ),
    ] = None,
    consent_rates: Annotated[
        str | None,
        typer.Option("--consent-rates", help="Consent rates, e.g. analytics=0.62,ads=0.41."),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed for the observed scenario and the bootstrap.")
    ] = 0,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Decision threshold for accuracy and precision.")
    ] = 0.5,
    allow_pickle: Annotated[
        bool,
        typer.Option(
            "--allow-pickle", help="Load pickle/joblib models, in a separate process only."
        ),
    ] = False,
    export_blind_sets: Annotated[
        Path | None,
        typer.Option(
            "--export-blind-sets", help="Write each scenario's inputs here to score elsewhere."
        ),
    ] = None,
    predictions: Annotated[
        list[Path] | None,
        typer.Option(
            "--predictions",
            help="Scores computed elsewhere: one CSV or Parquet per exported scenario, named "
            "after it (unmasked.csv, deny_ads.parquet, ...), with row_id and score.",
        ),
    ] = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
    junit: JunitOpt = None,
    fail_on: FailOnOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Measure how a saved model degrades, drifts and mis-calibrates on consent-filtered
    blind sets."""
    from privdiag.model import parse_consent_rates, run_model_check
    from privdiag.output import check_folder

    outputs = Outputs(json_out, html, markdown, junit, fail_on, quiet)
    outputs.check()
    cfg = _load_config(config)
    _fail_on(outputs, cfg)
    if export_blind_sets is not None:
        check_folder(export_blind_sets, "--export-blind-sets")
    rates = parse_consent_rates(consent_rates) if consent_rates else None
    result = run_model_check(
        model,
        blind_set,
        config=cfg,
        label=label,
        reference=reference,
        scan_result=scan_result,
        consent_rates=rates,
        seed=seed,
        allow_pickle=allow_pickle,
        export_blind_sets=export_blind_sets,
        predictions=predictions,
        threshold=threshold,
    )
    if scan_result is not None:
        from privdiag.chains import link_scan_result

        link_scan_result(result.findings, scan_result)
    raise typer.Exit(emit([result.to_dict()], outputs, cfg))


@app.command(epilog="Example: privdiag report monday.json tuesday.json --html week.html")
def report(
    results: Annotated[
        list[Path], typer.Argument(metavar="results", help="JSON results written with --json.")
    ],
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

    outputs = Outputs(json_out, html, markdown, junit, fail_on, quiet)
    outputs.check()
    cfg = _load_config(config)
    docs = [read_json(p) for p in results]
    # Even one document is merged: every output then shows the same ranked, deduplicated
    # findings and a summary privdiag computed, not the file's own.
    raise typer.Exit(emit([_merge(docs)], outputs, cfg))


@app.command(epilog="Example: privdiag init exports/ga4/ --output privdiag.toml")
def init(
    data: Annotated[
        list[str], typer.Argument(metavar="data", help="Event exports to infer the config from.")
    ],
    consent: Annotated[
        list[str] | None, typer.Option("--consent", help="Consent records file; repeatable.")
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="Where to write the config ('-' for stdout).")
    ] = "privdiag.toml",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter privdiag.toml inferred from the data."""
    from privdiag.init import starter_config
    from privdiag.output import check_writable, write_atomic

    if output != "-" and Path(output).is_file() and not force:
        raise UsageError(f"{output} exists", hint="pass --force to overwrite it")
    check_writable(output, "--output")
    base = Path(output).parent if output != "-" else None
    text = starter_config(data, consent, base=base)
    write_atomic(output, lambda fh: fh.write(text))
    if output != "-":
        typer.echo(f"Wrote {output}: review the purposes and owners before the next scan.")


@app.command(epilog="Example: privdiag generate --out demo --seed 7 --users 600")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the scenario into.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same files.")] = 7,
    users: Annotated[int, typer.Option("--users", min=10, help="Number of shoppers.")] = 600,
    days: Annotated[int, typer.Option("--days", min=4, help="Days of events.")] = 28,
    ga4_format: Annotated[
        str, typer.Option("--ga4-format", help="ndjson.gz or parquet.")
    ] = "ndjson.gz",
    generic_format: Annotated[
        str, typer.Option("--generic-format", help="csv, parquet or ndjson.")
    ] = "csv",
    if_missing: Annotated[
        bool,
        typer.Option(
            "--if-missing",
            help="Do nothing when the folder already holds every file of a scenario.",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files of an earlier scenario in --out.")
    ] = False,
) -> None:
    """Write a seeded shop scenario (GA4 + app events, consent log, config, ground truth)."""
    from privdiag.generate import generate_scenario
    from privdiag.output import check_folder

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is not a folder", hint="choose a folder for the scenario")
    planned = _planned_files(out, ga4_format, generic_format)
    if if_missing and all(p.exists() for p in planned):
        typer.echo(f"{out} already holds a scenario; left as it is.")
        return
    odd = next((p for p in planned if p.is_symlink() or p.exists() and not p.is_file()), None)
    if odd is not None:  # --force overwrites files only, never through a link
        raise UsageError(
            f"{odd} is a folder or a symlink where generate writes a file",
            hint="move it away, or choose another --out folder",
        )
    existing = next((p for p in planned if p.exists()), None)
    if existing is not None and not force:
        raise UsageError(
            f"{existing} exists and generate would overwrite it",
            hint="pass --force to overwrite it, or choose another --out folder",
        )
    check_folder(out, "--out")
    info = generate_scenario(
        out,
        seed=seed,
        users=users,
        days=days,
        ga4_format=ga4_format,
        generic_format=generic_format,
    )
    from privdiag.demo import add_model_blind_set

    add_model_blind_set(out, seed)
    counts = ", ".join(f"{k} {v:,}" for k, v in info.events.items())
    typer.echo(f"Wrote {out}: events {counts}; {info.consent_records:,} consent records.")


def _planned_files(out: Path, ga4_format: str, generic_format: str) -> list[Path]:
    """Return every file ``generate`` writes into ``out``; UsageError for an unknown format."""
    from privdiag.demo import demo_paths
    from privdiag.generate import check_formats, scenario_paths

    check_formats(ga4_format, generic_format)
    return [*scenario_paths(out, ga4_format, generic_format).values(), *demo_paths(out)]


def main() -> None:
    """Console entry point."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    app()


from privdiag import cli_audit  # noqa: E402

cli_audit.register(app)
