"""The audit history: one DuckDB file with every run, its findings and its key measures.

The file carries a schema version in ``meta``; opening it for writing applies the
migrations it lacks, inside one transaction (:mod:`privdiag.audit.schema`). Each run is
recorded in one transaction, so a process killed at any moment leaves either the whole run
or none of it.
"""

from __future__ import annotations

import json
import secrets
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privdiag.audit.diff import CHANGES, FIGURES
from privdiag.audit.schema import (
    FINDING_COLUMNS,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    check_history_file,
    check_tables,
    edited_history,
    in_memory,
    migrate,
    read_as_data,
    read_schema_version,
    refuse_other_database,
)
from privdiag.errors import InputError, LockError, UsageError
from privdiag.findings import SEVERITIES, Ranked, impact_of, rank_order, severity_rank


@dataclass
class RunRecord:
    """One audit run as the history keeps it."""

    run_id: str
    started_at: str
    finished_at: str = ""
    config_path: str = ""
    inputs: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    report_dir: str | None = None
    previous_run: str | None = None
    baseline: str | None = None
    seq: int = 0

    @classmethod
    def from_row(cls, row: tuple[Any, ...], path: Path) -> RunRecord:
        """Return the run of a ``runs`` row of the history ``path``; InputError naming the
        run and column when an edit by hand left a cell no run of privdiag writes."""
        seq, run_id, started, finished, config, inputs, code, summary, report, prev, base = row
        if not isinstance(run_id, str) or not run_id:
            raise edited_history(path, f"a run (number {seq})", "run_id", "is empty")
        where = f"run {run_id}"
        for column, value in (("seq", seq), ("exit_code", code)):
            if not isinstance(value, int):
                raise edited_history(path, where, column, "is empty")
        if not isinstance(started, str):
            raise edited_history(path, where, "started_at", "is empty")
        return cls(
            run_id=run_id,
            started_at=started,
            finished_at=finished or "",
            config_path=config or "",
            inputs=_json_cell(inputs or "[]", list, path, where, "inputs"),
            exit_code=code,
            summary=_summary(summary, path, where),
            report_dir=report,
            previous_run=prev,
            baseline=base,
            seq=seq,
        )


# The counts of a run's summary (privdiag.audit.run), which --list and --show print as numbers.
SUMMARY_COUNTS = (
    "findings",
    "new",
    "unchanged",
    "worse",
    "better",
    "hidden",
    "resolved",
    "superseded",
)


def _summary(text: Any, path: Path, where: str) -> dict[str, Any]:
    """Return a run's summary cell, its counts whole numbers where it holds them."""
    summary = _json_cell(text or "{}", dict, path, where, "summary")
    for key in SUMMARY_COUNTS:
        value = summary.get(key)
        if key in summary and (not isinstance(value, int) or isinstance(value, bool)):
            raise edited_history(path, where, f"summary's {key}", "is not a whole number")
    return summary


def _json_cell(text: Any, kind: type, path: Path, where: str, column: str) -> Any:
    """Return a history cell's JSON text read as ``kind`` (a list or a dict)."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, kind):
        shape = "a JSON object" if kind is dict else "a JSON list"
        raise edited_history(path, where, column, f"is not {shape}")
    return value


class _Guarded:
    """A DuckDB connection to the history whose read and write errors of a damaged file (a
    block whose checksum fails, a file cut short by a copy or a full disk) name the file and
    what to do, instead of ending in an internal error. Other errors pass as they are."""

    def __init__(self, con: Any, path: Path) -> None:
        self._con = con
        self._path = path

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._con, name)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                out = found(*args, **kwargs)
            except Exception as exc:
                if _damaged(exc):
                    raise damaged_history(self._path, exc) from None
                raise
            return self if out is self._con else out  # execute() returns the connection

        return call


def _damaged(exc: BaseException) -> bool:
    """Whether DuckDB's error says the database file itself is damaged."""
    text = str(exc)
    return type(exc).__module__.startswith(("duckdb", "_duckdb")) and (
        "Corrupt database file" in text or "Could not read enough bytes" in text
    )


def damaged_history(path: Path, exc: BaseException) -> InputError:
    """The error of a history file DuckDB cannot read: damaged, not privdiag's bug."""
    return InputError(
        f"is damaged: DuckDB cannot read it ({str(exc).splitlines()[0][:160]})",
        path=path,
        hint="restore it from a backup, or move it aside: privdiag then starts a new history "
        "there (earlier runs' reports stay in their folders)",
    )


class History:
    """An open history file. Use :func:`open_history`; close it with ``close()`` or ``with``."""

    def __init__(self, con: Any, path: Path) -> None:
        self.con = con
        self.path = path

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def schema_version(self) -> int:
        """Return the schema version written in the file."""
        return read_schema_version(self.con)

    def id_key(self) -> str:
        """Return the key this history's audits make finding ids of addresses with, made and
        kept in ``meta`` on first use (used where the config sets no ``[privacy] hash_key``).

        A finding whose location names an e-mail or IP address has a keyed hash for its id
        (privdiag.privacy.id_part); a key of each run's own made it ``new`` in every audit.
        The key stays in the history file, which holds the runs' findings already; reports
        and their JSON do not carry it.
        """
        row = self.con.execute("SELECT value FROM meta WHERE key = 'id_key'").fetchone()
        if row and row[0]:
            return str(row[0])
        key = secrets.token_hex(32)
        self.con.execute("INSERT INTO meta VALUES ('id_key', ?)", [key])
        return key

    def runs(self) -> list[RunRecord]:
        """Return every recorded run, oldest first."""
        rows = self.con.execute(f"SELECT {RUN_COLUMNS} FROM runs ORDER BY seq").fetchall()
        return [RunRecord.from_row(r, self.path) for r in rows]

    def last_run(self) -> RunRecord | None:
        """Return the newest recorded run, or None for an empty history."""
        runs = self.runs()
        return runs[-1] if runs else None

    def find_run(self, ref: str) -> RunRecord:
        """Return the run named by ``ref``: a run id, a unique prefix of one, first or last.

        Raises UsageError naming the history when no run or several runs match.
        """
        runs = self.runs()
        if ref in ("first", "last") and runs:
            return runs[0] if ref == "first" else runs[-1]
        exact = [r for r in runs if r.run_id == ref]
        hits = exact or [r for r in runs if r.run_id.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        what = "several runs start with" if hits else "no run"
        listing = f"privdiag audit --history {shlex.quote(str(self.path))} --list"
        raise UsageError(
            f"{what} {ref!r} in the history {self.path}", hint=f"list the runs with: {listing}"
        )

    def findings(self, run_id: str) -> list[dict[str, Any]]:
        """Return the findings of one run in their JSON form, with their recorded change."""
        rows = self.con.execute(
            f"SELECT {', '.join(FINDING_COLUMNS)}, change FROM findings WHERE run_id = ? "
            "ORDER BY finding_id",
            [run_id],
        ).fetchall()
        found = [_finding(row, self.path, run_id) for row in rows]
        return sorted(found, key=lambda f: severity_rank(f["severity"]))

    def findings_by_age(self, run_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Return the findings of one run as ``--show`` prints them, each with the id of the
        run that first recorded it: oldest first, as ``--list`` orders runs (the newest
        last); those first recorded by the same run by severity, then size (events, else
        users), as the reports rank findings without their links."""
        first = dict(
            self.con.execute(
                """SELECT f.finding_id, arg_min(r.run_id, r.seq)
                   FROM findings f JOIN runs r USING (run_id)
                   WHERE r.seq <= (SELECT seq FROM runs WHERE run_id = ?)
                   GROUP BY 1""",
                [run_id],
            ).fetchall()
        )
        seq = {r.run_id: n for n, r in enumerate(self.runs())}
        found = self.findings(run_id)
        ranked = rank_order(
            [Ranked(f["id"], f["severity"], impact_of(f["metrics"]), ()) for f in found]
        )
        place = {found[n]["id"]: i for i, n in enumerate(ranked)}
        found.sort(key=lambda f: (seq.get(first.get(f["id"], run_id), -1), place[f["id"]]))
        return [(first.get(f["id"], run_id), f) for f in found]

    def measures(self, last: int = 30) -> list[tuple[str, str, str, float]]:
        """Return (run id, started at, measure, value) of the newest ``last`` runs, oldest first."""
        return self.con.execute(
            """SELECT r.run_id, r.started_at, m.name, m.value
               FROM (SELECT * FROM runs ORDER BY seq DESC LIMIT ?) r
               JOIN measures m USING (run_id)
               WHERE m.name IS NOT NULL AND isfinite(m.value)  -- a row edited by hand
               ORDER BY r.seq, m.name""",
            [last],
        ).fetchall()

    def record(
        self, run: RunRecord, findings: list[dict[str, Any]], measures: dict[str, float]
    ) -> RunRecord:
        """Record a run with its findings and measures in one transaction; return it.

        Assumes each finding dict has the JSON form plus ``change``.
        """
        self.con.begin()
        try:
            row = self.con.execute("SELECT coalesce(max(seq), 0) + 1 FROM runs").fetchone()
            run.seq = int(row[0]) if row else 1
            self.con.execute(
                f"INSERT INTO runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _run_values(run),
            )
            _insert_findings(self.con, run.run_id, findings)
            _insert_measures(self.con, run.run_id, measures)
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        return run


def _run_values(run: RunRecord) -> list[Any]:
    return [
        run.seq,
        run.run_id,
        run.started_at,
        run.finished_at,
        run.config_path,
        json.dumps(run.inputs),
        run.exit_code,
        json.dumps(run.summary),
        run.report_dir,
        run.previous_run,
        run.baseline,
    ]


def _finding(row: tuple[Any, ...], path: Path, run_id: str) -> dict[str, Any]:
    """Return a ``findings`` row of run ``run_id`` in its JSON form; InputError naming the
    run, finding and column when an edit by hand left a cell no run of privdiag writes."""
    fid, kind, severity, title, owner, location, metrics, change = row
    where = f"run {run_id}, finding {fid}"
    if not isinstance(fid, str) or not fid or not isinstance(kind, str):
        raise edited_history(path, f"run {run_id}", "finding_id or kind", "is empty")
    if severity not in SEVERITIES:
        raise edited_history(path, where, "severity", f"is none of {', '.join(SEVERITIES)}")
    if change not in CHANGES:  # every run records each finding's comparison
        raise edited_history(path, where, "change", f"is none of {', '.join(CHANGES)}")
    return {
        "id": fid,
        "kind": kind,
        "severity": severity,
        "title": title,
        "owner": owner,
        "location": _json_cell(location, dict, path, where, "location"),
        "metrics": _figures(_json_cell(metrics, dict, path, where, "metrics"), kind, path, where),
        "change": change,
    }


# The metrics an audit compares a finding by (privdiag.audit.diff.key_metric and FIGURES),
# the first two counts. One edited into a word was passed over for the next (a leak of 10
# events edited to "ten", then of 4, compared by its 1 user both nights: `unchanged`). An
# opt-in drop's "change" is a word (version or date); a shift's, its figure.
_FIGURES = ("events", "users", "share", "drop")


def _figures(metrics: dict[str, Any], kind: str, path: Path, where: str) -> dict[str, Any]:
    """Return a finding's ``metrics``, its compared figures numbers (or null)."""
    for name in dict.fromkeys([*_FIGURES, FIGURES.get(kind, "events")]):
        value = metrics.get(name)
        if value is None:
            continue
        if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
            raise edited_history(path, where, f"metrics' {name}", "is no number")
        if name in ("events", "users") and value < 0:
            raise edited_history(path, where, f"metrics' {name}", "is below 0")
    return metrics


def _insert_findings(con: Any, run_id: str, findings: list[dict[str, Any]]) -> None:
    import pyarrow as pa

    table = pa.table(
        {
            "run_id": pa.array([run_id] * len(findings), pa.string()),
            "finding_id": pa.array([f["id"] for f in findings], pa.string()),
            "kind": pa.array([f["kind"] for f in findings], pa.string()),
            "severity": pa.array([f["severity"] for f in findings], pa.string()),
            "title": pa.array([f.get("title", "") for f in findings], pa.string()),
            "owner": pa.array([f.get("owner") for f in findings], pa.string()),
            "location": pa.array([json.dumps(f["location"]) for f in findings], pa.string()),
            "metrics": pa.array([_metrics_json(f) for f in findings], pa.string()),
            "change": pa.array([f.get("change") for f in findings], pa.string()),
        }
    )
    con.register("_audit_new_findings", table)
    try:
        con.execute("INSERT INTO findings BY NAME SELECT * FROM _audit_new_findings")
    finally:
        con.unregister("_audit_new_findings")


def _metrics_json(finding: dict[str, Any]) -> str:
    # NaN survives the round trip through Python's json; the JSON writer turns it to null.
    return json.dumps(finding.get("metrics") or {}, default=str)


def _insert_measures(con: Any, run_id: str, measures: dict[str, float]) -> None:
    import pyarrow as pa

    table = pa.table(
        {
            "run_id": pa.array([run_id] * len(measures), pa.string()),
            "name": pa.array(list(measures), pa.string()),
            "value": pa.array([float(v) for v in measures.values()], pa.float64()),
        }
    )
    con.register("_audit_new_measures", table)
    try:
        con.execute("INSERT INTO measures BY NAME SELECT * FROM _audit_new_measures")
    finally:
        con.unregister("_audit_new_measures")


def open_history(path: Path, *, read_only: bool = False) -> History:
    """Open (and for writing, create and migrate) the history file at ``path``.

    Read-only opening needs an existing file and changes nothing. Raises InputError for a
    file that is not a privdiag history, LockError when an audit is writing it.
    """
    import duckdb

    if read_only and not path.exists():
        raise InputError(
            "no audit history here", path=path, hint="run privdiag audit first, or check --history"
        )
    if not path.parent.is_dir():
        raise UsageError(f"cannot write the history {path}: folder {path.parent} does not exist")
    check_history_file(path)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise LockError(
                f"another audit is writing the history {path}", hint="try again when it ends"
            ) from None
        raise InputError(f"is not a privdiag history ({exc})", path=path) from None
    except duckdb.Error as exc:
        if "in-memory" in str(exc):  # read-only, a data file name: see below
            raise read_as_data(path) from None
        if _damaged(exc):
            raise damaged_history(path, exc) from None
        raise InputError(f"is not a privdiag history ({exc})", path=path) from None
    if in_memory(con):  # DuckDB opens a path named like a data file (.csv) as data
        con.close()
        raise read_as_data(path)
    con = _Guarded(con, path)
    if not read_only:
        try:
            migrate(con, path)
        except BaseException:
            con.close()  # a later open of the file in this process would clash with it
            raise
    elif (found := _version_of(con, path)) != SCHEMA_VERSION:
        if not found:
            try:
                refuse_other_database(con, path)
            finally:
                con.close()
        con.close()
        raise InputError(
            f"the history has schema version {found}; this privdiag reads {SCHEMA_VERSION}",
            path=path,
            hint="run privdiag audit once to upgrade it" if found else "check --history",
        )
    else:
        _closing_on_error(con, check_tables, path)
    return History(con, path)


def _version_of(con: Any, path: Path) -> int:
    """:func:`read_schema_version`, closing ``con`` when it raises."""
    return _closing_on_error(con, read_schema_version, path)


def _closing_on_error(con: Any, check: Callable[[Any, Path], Any], path: Path) -> Any:
    """Return ``check(con, path)``, closing ``con`` when it raises: a later open of the file
    in this process would clash with it."""
    try:
        return check(con, path)
    except BaseException:
        con.close()
        raise
