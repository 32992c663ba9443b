"""The ``audit`` command: parse, run one audit (or read the history back), render.

``register(app)`` adds it to the typer app of :mod:`privdiag.cli`, with the shared options.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from privdiag.cli import (
    ConfigOpt,
    FailOnOpt,
    HtmlOpt,
    JsonOpt,
    JunitOpt,
    MarkdownOpt,
    Outputs,
    QuietOpt,
    _fail_on,
    _load_config,
    _progress,
    emit,
)

HistoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--history",
        help="History DuckDB file (default: the config's [audit] history, else "
        "privdiag-history.duckdb beside the config).",
    ),
]
EPILOG = (
    "Example: privdiag audit --config privdiag.toml --history audit.duckdb --keep 30 "
    "--fail-when regressed"
)


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command to ``app``."""
    app.command(name="audit", epilog=EPILOG)(audit)


def audit(
    config: ConfigOpt = None,
    history: HistoryOpt = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="RUN",
            help="Compare with this run (id, unique prefix, 'first' or 'last') instead of "
            "the previous run.",
        ),
    ] = None,
    fail_when: Annotated[
        str | None,
        typer.Option(
            "--fail-when",
            help="Which findings --fail-on looks at: all, new, or regressed (new or worse; "
            "the default).",
        ),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option("--keep", metavar="N", help="Keep only the newest N report folders."),
    ] = None,
    log_file: Annotated[
        Path | None, typer.Option("--log", metavar="FILE", help="Append what the run did to FILE.")
    ] = None,
    list_runs: Annotated[
        bool, typer.Option("--list", help="List the runs in the history and exit.")
    ] = False,
    show: Annotated[
        str | None,
        typer.Option(
            "--show",
            metavar="RUN",
            help="Print one run's findings and exit: oldest first by the run that first "
            "recorded each (since=), the newest last as --list orders runs; those of one run "
            "by severity, then events; then the findings it resolved.",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print the full summary, not one line.")
    ] = False,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
    junit: JunitOpt = None,
    fail_on: FailOnOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the scheduled audit: scan the config's sources and models, compare with earlier
    runs, write a dated report folder, record the run in the history, and set the exit code.
    """
    from privdiag.audit.settings import audit_settings

    outputs = Outputs(json_out, html, markdown, junit, fail_on, quiet)
    _no_empty_run_ids(show=show, baseline=baseline)
    if list_runs or show:
        _no_outputs_when_reading_back(outputs, "--show" if show else "--list")
    outputs.check()
    with _logging(log_file) as log:
        cfg = _load_config(config)
        settings = audit_settings(
            cfg, history=history, baseline=baseline, fail_when=fail_when, keep=keep
        )
        if list_runs or show:
            _read_back(settings.history, show, cfg.thresholds.min_group_size)
            raise typer.Exit(0)
        level = _fail_on(outputs, cfg)
        _check_paths(settings, "--history" if history else "[audit] history")
        _reports_apart(cfg, settings.reports_dir)
        read = _inputs(cfg, settings)
        outputs.check_apart(read)
        _log_apart(log, log_file, read)
        code = _run(cfg, settings, outputs, level, verbose)
    raise typer.Exit(code)


def _check_paths(settings: Any, history_option: str) -> None:
    """Raise UsageError, before the run, when the history or the report folders cannot be
    written (the run makes the history's folder and the reports folder when missing)."""
    from privdiag.output import check_folder, check_writable

    check_writable(settings.history, history_option, make=True)
    _history_apart(settings, history_option)
    check_folder(settings.reports_dir, "[audit] reports_dir", make=False)


def _history_apart(settings: Any, history_option: str) -> None:
    """Raise UsageError when the history names no file the audit can keep: a device or a
    pipe (``/dev/null`` left ``/dev/null.lock`` behind and exited 3 on DuckDB's "Could not
    fsync"), or the reports folder itself (the run made that folder, then read it as the
    history: exit 3 and an empty folder left)."""
    from privdiag.errors import UsageError

    history = Path(os.path.realpath(settings.history))
    if history.exists() and not history.is_file() and not history.is_dir():
        raise UsageError(
            f"cannot keep the audit history in {history_option} {settings.history}: it is no "
            "regular file (a device or a pipe), and the history is a DuckDB file with its lock "
            "file beside it",
            hint="give a file name in a folder you can write to, e.g. privdiag-history.duckdb",
        )
    if history == Path(os.path.realpath(settings.reports_dir)):
        raise UsageError(
            f"{history_option} and [audit] reports_dir both name {settings.history}",
            hint="give the history a file of its own, e.g. privdiag-history.duckdb beside the "
            "reports folder",
        )


def _reports_apart(cfg: Any, reports: Path) -> None:
    """Raise UsageError when the reports folder lies in a folder the audit reads as events or
    consent (a folder, or below a ``**`` glob matching a report's name): the next run would
    read this run's reports (``audit.json``, ...) as data and stop, "mixes file types"."""
    import fnmatch
    import glob

    from privdiag.audit.folders import REPORT_FILES
    from privdiag.errors import UsageError

    inside = os.path.realpath(reports)
    tables = [(f"[sources.{n}] paths", s.paths) for n, s in cfg.sources.items()]
    for table, paths in [*tables, ("[consent] paths", cfg.consent_files)]:
        for written in paths:
            path = cfg.data_path(written)
            parts = path.split(os.sep)
            if "://" in path:
                continue
            if "**" in parts:  # read below its fixed folders, at any depth
                if not any(fnmatch.fnmatch(name, parts[-1]) for name in REPORT_FILES):
                    continue
                fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
                path = os.sep.join(parts[:fixed]) or os.sep
            elif glob.has_magic(path):  # a glob of fixed depth: does it reach a report?
                if not _glob_reaches(path, inside):
                    continue
                path = inside
            elif not os.path.isdir(path):
                continue  # a file: reports sit in folders
            folder = os.path.realpath(path)
            if os.path.commonpath([folder, inside]) == folder:
                raise UsageError(
                    f"[audit] reports_dir {reports} lies in {written}, which {table} reads: "
                    "the next audit would read this run's reports as data",
                    hint="put the reports in a folder the audit does not read "
                    "([audit] reports_dir in the config)",
                )


def _glob_reaches(pattern: str, reports: str) -> bool:
    """True when ``pattern`` (a glob without ``**``, matching one name a part) matches a file
    a run would write into ``reports`` today: ``data/*/*`` reaches ``data/<run>/audit.json``,
    ``data/*`` does not."""
    import fnmatch
    from datetime import UTC, datetime

    from privdiag.audit.folders import REPORT_FILES, folder_name

    run = folder_name(datetime.now(UTC).isoformat(), "0123abcd")
    wanted = os.path.realpath(pattern).split(os.sep)
    for name in REPORT_FILES:
        parts = os.path.join(reports, run, name).split(os.sep)
        if len(parts) == len(wanted) and all(map(fnmatch.fnmatchcase, parts, wanted)):
            return True
    return False


def _inputs(cfg: Any, settings: Any) -> list[Any]:
    """What the audit reads: the config, its history, and the files its sources, consent
    and models name."""
    data = [cfg.data_path(p) for spec in cfg.sources.values() for p in spec.paths]
    data += [cfg.data_path(p) for p in cfg.consent_files]
    for spec in cfg.models.values():
        named = (spec.path, spec.blind_set, spec.reference)
        data += [cfg.resolve(p) for p in named if isinstance(p, str) and p]
    return [cfg.path, settings.history, *data]


def _run(cfg: Any, settings: Any, outputs: Outputs, level: str, verbose: bool) -> int:
    from privdiag.audit.run import run_audit
    from privdiag.output import print_summary

    outcome = run_audit(cfg, settings, fail_on=level, progress=_progress(outputs))
    emit([outcome.doc], Outputs(**{**vars(outputs), "quiet": True}), cfg)
    if not outputs.quiet:
        if verbose:
            stream = sys.stderr if outputs.to_stdout() else sys.stdout
            print_summary(outcome.doc, stream=stream)
        typer.echo(outcome.one_line(), err=outputs.to_stdout())
    return outcome.exit_code


def _log_apart(log: logging.Handler | None, path: Path | None, inputs: list[Any]) -> None:
    """Raise UsageError when the log ``path`` is a file the audit reads (its config, history,
    an events, consent or model file): its lines were appended to it (a config the next run
    could not read). The log's handler is taken off first, so that the refusal is not
    appended to that file too."""
    from privdiag.errors import UsageError
    from privdiag.output import check_apart

    try:
        check_apart({"--log": str(path) if path else None}, inputs)
    except UsageError:
        if log is not None:
            logging.getLogger("privdiag").removeHandler(log)
        raise


@contextmanager
def _logging(path: Path | None) -> Iterator[logging.Handler | None]:
    """Append the run's log to ``path`` (when given), errors included, for cron jobs; yield
    its handler (None without a log)."""
    if path is None:
        yield None
        return
    from privdiag.errors import UsageError
    from privdiag.output import why_unwritable

    try:  # a cron line names log/audit.log before anyone made log/
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _LogFile(path, encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot write the log {path}: {why_unwritable(path, exc)}",
            hint="pass --log a file in a folder you can write to",
        ) from exc
    logger = logging.getLogger("privdiag")
    handler.setFormatter(_ScrubbingFormatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield handler
    except typer.Exit:
        raise
    except Exception as exc:
        message = getattr(exc, "message", None)
        if message is not None:
            logger.error("audit failed: %s", exc)
        else:
            logger.exception("audit failed with an internal error")
        raise
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        handler.close()
        if handler.failed:  # the run itself went on: its exit code stands
            typer.echo(
                f"Warning: could not write the log {path}: {handler.failed}; what the run did "
                "is in its report folder and the history",
                err=True,
            )


class _ScrubbingFormatter(logging.Formatter):
    """Log lines as the terminal and the crash log give an error: e-mail and IP addresses
    redacted, control characters replaced, values a reader quoted from the data left out (a
    file named after an address was written to the log as it is, where the terminal said
    ``[redacted]``)."""

    def format(self, record: logging.LogRecord) -> str:
        from privdiag.privacy import scrub, without_quoted_data

        return without_quoted_data(scrub(super().format(record)))


class _LogFile(logging.FileHandler):
    """A log file that, once a write fails (a full disk), stops writing and keeps the reason
    in ``failed``, where logging would print a traceback for every record and ``close`` would
    raise one (an internal error after the run was recorded)."""

    failed: str | None = None

    def _open(self) -> Any:
        from privdiag.audit.lock import Written, open_not_through_link
        from privdiag.errors import UsageError

        written = Written(
            "the log",
            "what each audit did",
            "pass --log a file that is no link (the file it leads to, when that is yours)",
        )
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        path = Path(self.baseFilename)
        try:
            fd = open_not_through_link(path, flags, written)
        except UsageError:
            fd = _device_through_link(path, flags)
            if fd is None:
                raise
        return open(fd, "a", encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        exc = sys.exc_info()[1]
        self.failed = self.failed or (getattr(exc, "strerror", None) or str(exc))

    def close(self) -> None:
        try:
            super().close()
        except OSError as exc:  # the last buffered lines could not be written
            self.failed = self.failed or exc.strerror or str(exc)


def _no_empty_run_ids(**given: str | None) -> None:
    """Raise UsageError for ``--show`` or ``--baseline`` given an empty run id (a script's
    unset variable): ``--show ""`` ran a whole audit, ``--baseline ""`` compared with the
    previous run, each unsaid."""
    from privdiag.errors import empty_value

    for name, value in given.items():
        if value is not None and not value.strip():
            raise empty_value(
                f"--{name}", "run id", " (a unique prefix of one, first or last: see --list)"
            )


def _no_outputs_when_reading_back(outputs: Outputs, option: str) -> None:
    """Raise UsageError for an output option given with ``--list`` or ``--show``, which only
    print to the terminal: the file would not be written, and a CI job would find none."""
    from privdiag.errors import UsageError

    given = {
        "--json": outputs.json,
        "--html": outputs.html,
        "--markdown": outputs.markdown,
        "--junit": outputs.junit,
    }
    named = [o for o, path in given.items() if path is not None]
    if named:
        raise UsageError(
            f"{option} only prints to the terminal; it writes no {' or '.join(named)} output",
            hint="each run's reports are in its folder (privdiag audit --list names it); "
            "privdiag report FOLDER/audit.json --json FILE re-renders one",
        )


def _read_back(path: Path, show: str | None, k: int) -> None:
    from privdiag.audit.history import open_history

    with open_history(path, read_only=True) as history:
        if show:
            run = history.find_run(show)
            _echo_run(run, history.findings_by_age(run.run_id), k)
            _echo_resolved(history, run, k)
        else:
            _echo_runs(history.runs())


def _echo_resolved(history: Any, run: Any, k: int) -> None:
    """Print the findings of the run ``run`` was compared with that it no longer has, as the
    run's ``resolved`` list holds them: their user counts under ``k`` hidden, and those whose
    users are hidden left out (see :mod:`privdiag.audit.diff`); by severity, then events."""
    from privdiag.audit.diff import diff
    from privdiag.audit.run import made_with
    from privdiag.findings import Ranked, impact_of, rank_order

    compared = run.baseline or run.previous_run
    if not compared:
        return
    before = made_with(next((r for r in history.runs() if r.run_id == compared), None))
    shown = made_with(run)
    smaller = before is not None and shown is not None and before < shown
    gone = diff(history.findings(run.run_id), history.findings(compared), k, smaller).resolved
    why = run.summary.get("superseded_why")  # as the run found them, with its opt-in rates
    for f in gone if isinstance(why, dict) else []:
        if isinstance(why.get(f["id"]), str):
            f["change"], f["change_reason"] = "superseded", why[f["id"]]
    ranked = rank_order([Ranked(f["id"], f["severity"], impact_of(f["metrics"]), ()) for f in gone])
    for f in (gone[n] for n in ranked):
        where = " ".join(f"{key}={v}" for key, v in f["location"].items())
        events = f["metrics"].get("events")
        size = "" if events is None else f"  events={events}"
        typer.echo(
            _shown(
                f"{f['severity']:<9}{f['change'] + ' ':<10}{f['kind']:<28}{where}{size}  "
                f"was in {compared}: {f.get('title') or ''}".rstrip()
                + (f" ({f['change_reason']})" if f["change"] == "superseded" else "")
            )
        )


def _shown(line: str) -> str:
    """A line of ``--show`` or ``--list`` as the terminal gets it: names from the data (a step,
    a title, a folder) hold no control character, e-mail or IP address, and no line break
    that would print a line of their own."""
    from privdiag.output import one_line
    from privdiag.privacy import scrub

    return one_line(scrub(line))


def _report_shown(recorded: str | None, config_path: str) -> str:
    """A run's report folder for ``--list``: absolute when found; ``(pruned)`` when gone; an
    old record relative to where its run started, not found, as recorded after
    ``(not found)``. Shown with ``..`` and ``.`` tidied away (the folder looked up is not)."""
    from privdiag.audit.folders import locate

    found = locate(recorded, config_path)
    if found is not None:
        return os.path.normpath(found)
    if recorded and not Path(recorded).is_absolute():
        return f"(not found) {os.path.normpath(recorded)}"
    return "(pruned)"


def _echo_runs(runs: list[Any]) -> None:
    header = f"{'run':<10}{'started':<27}{'findings':>9}{'new':>5}{'resolved':>9}{'worse':>6}"
    typer.echo(f"{header}{'better':>7}{'hidden':>7}{'exit':>5}  report")
    for r in runs:
        s = r.summary
        report = _report_shown(r.report_dir, r.config_path)
        typer.echo(
            _shown(
                f"{r.run_id:<10}{r.started_at:<27}{s.get('findings', 0):>9}{s.get('new', 0):>5}"
                f"{s.get('resolved', 0):>9}{s.get('worse', 0):>6}{s.get('better', 0):>7}"
                f"{s.get('hidden', 0):>7}{r.exit_code:>5}  {report}"
            )
        )
    if not runs:
        typer.echo("(no runs yet)")


def _echo_run(run: Any, findings: list[tuple[str, dict[str, Any]]], k: int) -> None:
    """Print a run's findings; a finding's events are left out where they describe fewer
    than ``k`` users (a run recorded with a smaller minimum group size may hold them).

    Such a finding is listed last, its change ``hidden`` and its first run not told: that it
    came with this run would tell that its fewer than ``k`` persons came since the last.
    """
    from privdiag.audit.diff import hides_users, shown_metrics, superseded_words

    s = run.summary
    typer.echo(
        f"run {run.run_id} started {run.started_at}, exit {run.exit_code}: "
        f"{s.get('findings', 0)} findings, {s.get('new', 0)} new, "
        f"{s.get('resolved', 0)} resolved, {s.get('worse', 0)} worse, {s.get('better', 0)} better, "
        f"{s.get('hidden', 0)} hidden" + superseded_words(s.get("superseded"))
    )
    small = [hides_users(f["metrics"], k) for _, f in findings]
    in_order = [x for x, s in zip(findings, small, strict=True) if not s]
    in_order += [(None, f) for (_, f), s in zip(findings, small, strict=True) if s]
    for since, f in in_order:
        where = " ".join(f"{key}={v}" for key, v in f["location"].items())
        events = shown_metrics(f["metrics"], k).get("events")
        size = "" if events is None else f"  events={events}"
        change = f["change"] if since is not None else "hidden"
        typer.echo(
            _shown(
                f"{f['severity']:<9}{change:<10}{f['kind']:<28}{where}{size}  since={since or '–'}"
            )
        )


def _device_through_link(path: Path, flags: int) -> int | None:
    """A descriptor of the stream or device a link at ``path`` leads to, or of the process's
    own descriptor (``/dev/stderr`` is a link to ``/proc/self/fd/2``); None when it leads to
    a file, or nowhere: appending to a file a planted link names is what the log refuses,
    writing to a terminal, a pipe or the run's own stderr is not.
    The opened descriptor is what is checked, so a link swapped meanwhile changes nothing."""
    import stat

    try:
        own = os.readlink(path).startswith(("/proc/self/fd/", "/dev/fd/"))
        fd = os.open(path, flags & ~os.O_CREAT)
    except OSError:
        return None
    # the process's own descriptor (/dev/stderr redirected to a file by cron) is its user's
    if (not own and stat.S_ISREG(os.fstat(fd).st_mode)) or stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd
