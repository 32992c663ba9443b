"""One audit run: lock, scan and model checks, diff with the history, reports, record.

The order makes a killed run harmless: nothing is written before the checks are done;
the reports go to a hidden folder; the run is recorded in one transaction; only then the
folder gets its visible name. The lock is held throughout, so runs never overlap.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from privdiag.audit import folders, trends
from privdiag.audit.collect import check_model_files, check_models, scan_sources, source_paths
from privdiag.audit.diff import Diff, counted_changes, diff, failing, growth_of, superseded_words
from privdiag.audit.history import History, RunRecord, check_history_file, open_history
from privdiag.audit.lock import hold, hold_reports
from privdiag.audit.settings import AuditSettings
from privdiag.config import Config
from privdiag.errors import UsageError
from privdiag.output import why_unwritable
from privdiag.privacy import use_hash_key
from privdiag.result import Result

log = logging.getLogger("privdiag.audit")
Progress = Callable[[str], None]
TREND_RUNS = 30


@dataclass
class Compared:
    """What this run is compared with, read from the history before the checks run."""

    previous: RunRecord | None = None
    baseline: RunRecord | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    history: list[tuple[str, str, str, float]] = field(default_factory=list)
    # the min_group_size each run of the history was made with (None: not recorded)
    sizes: dict[str, int | None] = field(default_factory=dict)
    # (run id, started at) of the runs the trend chart shows before this one, in record order
    dates: list[tuple[str, str]] = field(default_factory=list)

    @property
    def run(self) -> RunRecord | None:
        return self.baseline or self.previous

    @property
    def k(self) -> int | None:
        """The min_group_size the compared run was made with, when it recorded one."""
        return made_with(self.run)


def made_with(run: RunRecord | None) -> int | None:
    """The min_group_size ``run`` was made with (its summary's), None when not recorded."""
    k = (run.summary if run else {}).get("min_group_size")
    return k if type(k) is int else None


@dataclass
class AuditOutcome:
    """The result of one audit: its record, JSON document, report folder and exit code."""

    run: RunRecord
    doc: dict[str, Any]
    report_dir: Path
    counts: dict[str, int]
    exit_code: int

    def one_line(self) -> str:
        """Return the one-line summary printed after a run."""
        c = self.counts
        return (
            f"audit {self.run.run_id}: {self.doc['summary']['findings']} findings, "
            f"{c['new']} new, {c['resolved']} resolved, {c['worse']} worse, "
            f"{c['better']} better, {c['hidden']} hidden"
            f"{superseded_words(c.get('superseded'))}{self._why()} -> {self.report_dir}"
        )

    def _why(self) -> str:
        """Why the run exits 1: how many findings fail it, by their change ("" at exit 0).
        Without it "0 new, 0 worse" beside exit 1 (a hidden finding counting as new)
        left the reader guessing."""
        audit = self.doc.get("audit") or {}
        fails = failing(self.doc, str(audit.get("fail_on")))
        if not self.exit_code or not fails:
            return ""
        # "hidden", as the run's JSON and --list say (of fewer than min_group_size users)
        parts = counted_changes(fails, audit.get("fail_when"), hidden="hidden")
        return (
            f"; exit 1 on {len(fails)} finding(s) at or above {audit.get('fail_on')} that "
            f"--fail-when {audit.get('fail_when')} counts: {parts}"
        )


def new_run_id() -> str:
    """Return a fresh, short run id (8 hex digits)."""
    return uuid.uuid4().hex[:8]


def run_audit(
    config: Config,
    settings: AuditSettings,
    *,
    fail_on: str,
    progress: Progress | None = None,
) -> AuditOutcome:
    """Run one audit and return its outcome; the exit code follows fail_on and fail_when.

    Raises LockError when another audit holds the lock, UsageError / ConfigError /
    InputError for bad flags, config or inputs (then nothing is written).
    """
    # no event data or a wrong model path stops the run before anything is written (the
    # history, its lock and the reports folder were left behind by a run that failed so)
    source_paths(config)
    check_model_files(config)
    _check_baseline_has_a_history(settings)
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    _make_history_folder(settings.history)
    check_history_file(settings.history)  # before its lock is made beside it
    with hold(settings.history):
        with open_history(settings.history) as history:
            compared = _read_compared(history, settings)
            with hold_reports(settings.reports_dir):  # not while another history's run writes
                fixed = folders.recover(settings.reports_dir, lambda r: _recorded(history, r))
            if config.hash_key is None:  # ids of findings naming an address: stable per history
                use_hash_key(history.id_key())
        for name in fixed:
            log.info("published the report folder %s left by a killed run", name)

        run_id = new_run_id()
        log.info("audit %s started (config %s)", run_id, config.path)
        result, models = _collect(config, progress)
        return _finish(result, models, run_id, compared, config, settings, fail_on)


def _check_baseline_has_a_history(settings: AuditSettings) -> None:
    """Raise UsageError for a baseline named before any history exists: no run can match it,
    and finding that out inside the run left a new, empty history and its lock behind."""
    if settings.baseline and not settings.history.exists():
        raise UsageError(
            f"no run {settings.baseline!r}: the history {settings.history} does not exist yet",
            hint="run the audit once without --baseline (or [audit] baseline) to start the "
            "history, or check --history",
        )


def _make_history_folder(path: Path) -> None:
    """Make the history's folder (with its parents) when it is missing: a cron job's first
    run names ``audit/history.duckdb`` before anyone made ``audit/``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot write the history {path}: {why_unwritable(path.parent, exc)}",
            hint="give --history (or [audit] history) a path in a folder you can write to",
        ) from exc


def _recorded(history: History, run_id: str) -> bool:
    return any(r.run_id == run_id for r in history.runs())


def _read_compared(history: History, settings: AuditSettings) -> Compared:
    runs = history.runs()
    previous = runs[-1] if runs else None
    baseline = history.find_run(settings.baseline) if settings.baseline else None
    target = baseline or previous
    return Compared(
        previous=previous,
        baseline=baseline,
        findings=history.findings(target.run_id) if target else [],
        history=history.measures(TREND_RUNS - 1),
        sizes={r.run_id: made_with(r) for r in runs},
        dates=[(r.run_id, r.started_at) for r in runs[-(TREND_RUNS - 1) :]],
    )


def _collect(config: Config, progress: Progress | None) -> tuple[Result, dict[str, Any]]:
    result = Result(command="audit", min_group_size=config.thresholds.min_group_size)
    scan_sources(config, result, progress)
    models = check_models(config, result, progress)
    return result, models


def _finish(
    result: Result,
    models: dict[str, Any],
    run_id: str,
    compared: Compared,
    config: Config,
    settings: AuditSettings,
    fail_on: str,
) -> AuditOutcome:
    doc = result.to_dict()
    k = config.thresholds.min_group_size
    smaller = compared.k is not None and compared.k < k
    growth = growth_of(doc["inputs"], compared.run.inputs) if compared.run else None
    before = compared.findings if compared.run else None
    changes = diff(doc["findings"], before, k, smaller, growth, notice_versions(doc))
    name = folders.folder_name(result.started_at, run_id)
    final = settings.reports_dir / name
    measures = trends.measures(doc, models)
    _annotate(doc, changes, run_id, compared, settings, final)
    if growth is not None and growth.total is not None and growth.sources is None:
        doc["evidence"].setdefault("notes", []).append(
            f"the compared run {compared.run.run_id} recorded no events per source (an "
            "earlier privdiag): each finding's events are weighed against the growth of all "
            "the events scanned, not of its own source's"
        )
    wrong = trends.out_of_order([*compared.dates, (run_id, result.started_at)])
    doc["evidence"]["trends"] = _trend_series(
        compared, run_id, result.started_at, measures, k, [w[0] for w in wrong]
    )
    for run, when, later, later_when in wrong:
        note = _out_of_order_note(run, when, later, later_when)
        log.warning("%s", note)
        doc["evidence"].setdefault("notes", []).append(note)

    exit_code = 1 if failing(doc, fail_on) else 0
    doc["audit"].update(fail_on=fail_on, exit_code=exit_code)
    run = _record(doc, run_id, compared, config, final, exit_code, changes)

    with hold_reports(settings.reports_dir):
        _write_reports(doc, folders.partial(settings.reports_dir, name), config, fail_on)
        try:
            with open_history(settings.history) as history:
                history.record(run, doc["findings"], measures)
                order = [r.run_id for r in history.runs()]
        except BaseException:
            folders.discard(folders.partial(settings.reports_dir, name))
            raise
        folders.publish(settings.reports_dir, name)
        pruned = folders.prune(settings.reports_dir, settings.keep, order, settings.history)
    if pruned:
        log.info("pruned %d old report folder(s): %s", len(pruned), ", ".join(pruned))
    outcome = AuditOutcome(run, doc, final, changes.counts(), exit_code)
    log.info("%s (exit %d)", outcome.one_line(), exit_code)
    return outcome


def notice_versions(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Return the notice versions of each purpose in a scan's opt-in rates, first seen first
    (the order ``evidence.optin_rates.version`` lists them in)."""
    rates = (doc.get("evidence") or {}).get("optin_rates")
    rows = rates.get("version") if isinstance(rates, dict) else None
    out: dict[str, list[str]] = {}
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("value") != "(none)":
            out.setdefault(str(row.get("purpose")), []).append(str(row.get("value")))
    return out


def _annotate(
    doc: dict[str, Any],
    changes: Diff,
    run_id: str,
    compared: Compared,
    settings: AuditSettings,
    final: Path,
) -> None:
    """Add ``change`` to every finding, and the ``resolved`` and ``audit`` blocks."""
    for finding in doc["findings"]:
        finding["change"] = changes.changes[finding["id"]]
        if finding["id"] in changes.counted:  # hidden: what --fail-when counts it as
            finding["counted_as"] = changes.counted[finding["id"]]
        if finding["id"] in changes.why:
            finding["change_reason"] = changes.why[finding["id"]]
    doc["resolved"] = changes.resolved
    if changes.withheld:
        doc["evidence"].setdefault("notes", []).append(
            f"{changes.withheld} finding(s) of the compared run {compared.run.run_id} are not "
            f"in this run, made with a larger min_group_size ({doc['min_group_size']} against "
            f"{compared.k}): they may be withheld for their small groups now, not resolved, "
            "so none is listed as resolved"
        )
    doc["audit"] = {
        "run_id": run_id,
        "previous_run": compared.previous.run_id if compared.previous else None,
        "baseline": compared.baseline.run_id if compared.baseline else None,
        "compared_with": compared.run.run_id if compared.run else None,
        "fail_when": settings.fail_when,
        "counts": changes.counts(),
        "report_dir": str(final),
        "history": str(settings.history.resolve()),
    }


def _out_of_order_note(run: str, when: str, later: str, later_when: str) -> str:
    """The note on a run of the history dated after a run recorded after it (hostile 28)."""
    return (
        f"the history's run {run} is dated {when}, after the run {later} recorded after it "
        f"({later_when}): a clock was wrong (set ahead where {run} ran, or behind where "
        f"{later} ran), or the history was copied from another machine. Runs are compared "
        "in the order recorded, not by date, and the trend chart keeps that order, so its "
        f"times go backwards after {run} (marked '{trends.OUT_OF_ORDER}'); check the clock "
        "(NTP) of the machines that run the audit. The chart reads right once the run is "
        f"older than the {TREND_RUNS} runs it shows; `privdiag report` of several runs' "
        "audit.json orders them by these dates"
    )


def _trend_series(
    compared: Compared,
    run_id: str,
    started_at: str,
    measures: dict[str, float],
    k: int,
    wrong: list[str],
) -> dict[str, Any]:
    """The measures over the runs; a consent rate or violations' events of a run made with
    a smaller ``min_group_size`` than ``k`` (or recording none) left out: it may be of fewer
    users than this run shows. A run of ``wrong`` (dated out of order) is marked so."""
    marks = {compared.baseline.run_id: "baseline"} if compared.baseline else {}
    for run in wrong:
        marks[run] = f"{marks[run]}; {trends.OUT_OF_ORDER}" if run in marks else trends.OUT_OF_ORDER
    smaller = frozenset(r for r, size in compared.sizes.items() if (size or 0) < k)
    return trends.series(
        compared.history, (run_id, started_at, measures), marks=marks, smaller=smaller
    )


def _record(
    doc: dict[str, Any],
    run_id: str,
    compared: Compared,
    config: Config,
    final: Path,
    exit_code: int,
    changes: Diff,
) -> RunRecord:
    inputs = [
        {k: i.get(k) for k in ("path", "role", "format", "rows", "sha256")}
        | ({"sources": i["sources"]} if "sources" in i else {})
        for i in doc["inputs"]
    ]
    summary = {
        "findings": doc["summary"]["findings"],
        "by_severity": doc["summary"]["by_severity"],
        **changes.counts(),
        "min_group_size": config.thresholds.min_group_size,
        # why each gone finding is superseded, not resolved (--show reads it back)
        "superseded_why": {
            f["id"]: f["change_reason"] for f in changes.resolved if f["change"] == "superseded"
        },
    }
    return RunRecord(
        run_id=run_id,
        started_at=doc["started_at"],
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        config_path=str(config.path.resolve()) if config.path else "",
        inputs=inputs,
        exit_code=exit_code,
        summary=summary,
        report_dir=str(final),
        previous_run=compared.previous.run_id if compared.previous else None,
        baseline=compared.baseline.run_id if compared.baseline else None,
    )


def _write_reports(doc: dict[str, Any], folder: Path, config: Config, fail_on: str) -> None:
    """Write the run's reports into ``folder``: JSON always; HTML, Markdown, JUnit when built."""
    from privdiag.output import write_json

    folder.mkdir()
    write_json(doc, folder / "audit.json")
    try:
        report = importlib.import_module("privdiag.report")
    except ImportError:
        log.info("HTML, Markdown and JUnit reports are not part of this build; wrote JSON only")
        return
    report.write_html(
        [doc], folder / "report.html", min_group_size=config.thresholds.min_group_size
    )
    report.write_markdown(
        [doc], folder / "summary.md", min_group_size=config.thresholds.min_group_size
    )
    report.write_junit([doc], folder / "junit.xml", fail_on=fail_on)
