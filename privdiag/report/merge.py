"""Merge several result documents (the JSON of ``Result.to_dict()``) into one."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from privdiag.errors import InputError
from privdiag.findings import OWNERSHIP_GAP, SEVERITIES, UNOWNED, Ranked, impact_of, rank_order
from privdiag.result import SCHEMA_VERSION


def check_document(doc: Any, index: int = 0, *, where: str | None = None) -> None:
    """Raise ``InputError`` unless ``doc`` looks like a privdiag result document; the
    message names ``where`` (a file name), else the document's position."""
    where = where or f"result #{index + 1}"
    if not isinstance(doc, dict) or doc.get("tool") != "privdiag":
        raise InputError(
            f"{where} is not a privdiag result",
            hint="pass files written by 'privdiag … --json FILE'",
        )
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise InputError(
            f"{where} has schema_version {doc.get('schema_version')!r}, "
            f"this privdiag reads {SCHEMA_VERSION}",
            hint="re-run the command with this version of privdiag",
        )
    check_shapes(doc, where)
    _check_run_fields(doc, where)
    for number, f in enumerate(doc.get("findings") or [], start=1):
        _check_identity(f, number, where)


def _check_identity(finding: dict, number: int, where: str) -> None:
    """Raise ``InputError`` naming finding ``number`` and its field when its id or kind is
    missing or its severity is none privdiag writes."""
    for key in ("id", "kind"):
        if not finding.get(key):
            raise InputError(
                f"{where}: finding {number} has no {key}",
                field=f"findings.{key}",
                hint="pass results as privdiag wrote them, or restore the finding's " + key,
            )
    severity = finding.get("severity")
    if severity not in SEVERITIES:
        raise InputError(
            f"{where}: finding {number} has severity {repr(severity)[:40]}, not one of "
            f"{', '.join(SEVERITIES)}",
            field="findings.severity",
            hint="write the severity in lower case, as privdiag writes it",
        )


# (key, type) of a result document and of each of its findings; None is allowed for all.
_DOC_SHAPE = (("findings", list), ("inputs", list), ("checks", list), ("evidence", dict))
_FINDING_SHAPE = (
    ("title", str),
    ("location", dict),
    ("metrics", dict),
    ("evidence", dict),
    ("caused_by", list),
)
# (key, type, may be missing) of each input and check.
_PART_SHAPES = {
    "inputs": (
        ("path", str, False),
        ("format", str, True),
        ("rows", int, True),
        ("records", int, True),
        ("sha256", str, True),
        ("role", str, True),
    ),
    "checks": (("name", str, False), ("status", str, False), ("reason", str, True)),
}
_SCALAR = str | int | float | bool
_LARGEST = 2**63  # beyond this a number is not a count privdiag wrote


def check_shapes(doc: dict[str, Any], where: str) -> None:
    """Raise ``InputError`` when a document's parts have the wrong JSON types (an edited or
    foreign file), so the renderers only ever see the shapes privdiag writes."""
    kind: Any
    for key, kind in _DOC_SHAPE:
        _expect(doc.get(key), kind, where, key)
    for part in ("findings", "inputs", "checks"):
        for item in doc.get(part) or []:
            _expect(item, dict, where, part, optional=False)
            for key, kind, optional in _PART_SHAPES.get(part, ()):
                _expect(item.get(key), kind, where, f"{part}.{key}", optional=optional)
    for key in ("command", "version", "started_at"):
        _expect(doc.get(key), str, where, key)
    _check_audit(doc, where)
    for f in doc.get("findings") or []:
        for key, kind in _FINDING_SHAPE:
            _expect(f.get(key), kind, where, f"findings.{key}")
        for key in ("id", "kind", "severity", "owner", "recommendation", "area"):
            _expect(f.get(key), str, where, f"findings.{key}")
        for cid in f.get("caused_by") or []:
            _expect(cid, str, where, "findings.caused_by", optional=False)
        for key in ("suppressed", "no_user_ids", "suppressed_by_difference"):  # metric names
            _expect((f.get("metrics") or {}).get(key), list, where, f"findings.metrics.{key}")
        for value in (f.get("location") or {}).values():
            _expect(value, _SCALAR, where, "findings.location")
        for value in (f.get("metrics") or {}).values():
            if isinstance(value, int | float) and not abs(value) < _LARGEST:
                raise InputError(f"{where} has a metric out of range", field="findings.metrics")
            if isinstance(value, list):
                for item in value:  # scalars, or small records such as rate changes
                    values = item.values() if isinstance(item, dict) else [item]
                    for part in values:
                        _expect(part, _SCALAR, where, "findings.metrics")
            else:
                _expect(value, _SCALAR, where, "findings.metrics")


# The text fields of an audit run's ``audit`` block (privdiag.audit.run._annotate).
_AUDIT_TEXTS = ("run_id", "previous_run", "baseline", "compared_with", "fail_when", "report_dir")


def _check_audit(doc: dict[str, Any], where: str) -> None:
    """Check an audit run's ``audit`` block (its counts are whole numbers the summary line
    adds up) and its ``resolved`` findings (their ids are what a later run's are matched to)."""
    audit = doc.get("audit")
    _expect(audit, dict, where, "audit")
    if isinstance(audit, dict):
        for key in _AUDIT_TEXTS:
            _expect(audit.get(key), str, where, f"audit.{key}")
        counts = audit.get("counts")
        _expect(counts, dict, where, "audit.counts")
        for value in (counts or {}).values():
            _expect(value, int, where, "audit.counts", optional=False)
    _expect(doc.get("resolved"), list, where, "resolved")
    for item in doc.get("resolved") or []:
        _expect(item, dict, where, "resolved", optional=False)
        _expect(item.get("id"), str, where, "resolved.id")


def _check_run_fields(doc: dict[str, Any], where: str) -> None:
    """Raise ``InputError`` for the fields a merge orders and hides by when an edit left a
    value privdiag never writes: findings that are no list (``null`` read as none at all), a
    start time that is no time (``yesterday`` sorted after every real one, and its findings
    replaced later runs'), a ``min_group_size`` that is no whole number of 1 or more (read
    as none recorded, which passes the check of a result made with a smaller one)."""
    _expect(doc.get("findings"), list, where, "findings", optional=False)
    if started_time(doc) is None and doc.get("started_at"):
        raise InputError(
            f"{where} has started_at {doc['started_at']!r}, which is no date and time",
            field="started_at",
            hint="pass files written by 'privdiag … --json FILE', unedited (an ISO 8601 "
            "time such as 2026-12-01T08:00:00+00:00)",
        )
    size = doc.get("min_group_size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
        raise InputError(
            f"{where} has min_group_size {size!r}, which is no whole number of 1 or more",
            field="min_group_size",
            hint="pass files written by 'privdiag … --json FILE', unedited",
        )


def started_time(doc: dict[str, Any]) -> datetime | None:
    """The time a result's run started, in UTC (a time without an offset read as UTC, as
    privdiag writes it); None when it records none or its text is no ISO 8601 time."""
    text = doc.get("started_at")
    try:
        when = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _expect(value: Any, kind: Any, where: str, field: str, *, optional: bool = True) -> None:
    if (value is not None or not optional) and not isinstance(value, kind):
        raise InputError(
            f"{where} has {field} of the wrong type ({type(value).__name__})",
            field=field,
            hint="pass files written by 'privdiag … --json FILE', unedited",
        )


def _by_time(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``docs`` in the order their runs started, by the time, not its text (12:00 at +05:00
    is before 08:00 UTC); a result recording none first, the order given where that ties."""
    earliest = datetime.min.replace(tzinfo=UTC)
    return sorted(docs, key=lambda d: started_time(d) or earliest)


def _merge_findings(docs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Dedupe by id: the finding of the run that started later replaces an earlier one's
    (the order given breaks a tie); causes are united. An audit run's ``resolved`` list says
    its finding is gone from what that audit compared with: a finding is left out, and its
    id returned, once every run holding it was resolved by a later run of its own audit (a
    run that the resolving run compared with, or one before that), so that two runs of one
    audit do not show a mended leak as present, nor does another audit's resolution hide a
    leak that a run of a different audit still holds."""
    merged: dict[str, dict[str, Any]] = {}
    holders: dict[str, dict[int, dict[str, Any]]] = {}  # id -> the runs holding it, in time
    earlier, ordered = _earlier_runs(docs), _by_time(docs)
    for n, doc in enumerate(ordered):
        for f in doc.get("findings") or []:
            new = copy.deepcopy(f)
            old = merged.get(new["id"])
            if old is not None:
                causes = list(old.get("caused_by") or []) + list(new.get("caused_by") or [])
                new["caused_by"] = list(dict.fromkeys(causes))
            merged[new["id"]] = new
            holders.setdefault(new["id"], {})[n] = new
        own = earlier(doc)
        for r in doc.get("resolved") or []:
            held = holders.get(str(r.get("id"))) if isinstance(r, dict) else None
            for m in [m for m in held or {} if _run_id(ordered[m]) in own]:
                del held[m]
    kept, gone = [], []
    for i, f in merged.items():
        if not holders.get(i):
            gone.append(i)
            continue
        last = list(holders[i].values())[-1]  # the latest run still holding it
        kept.append({**last, "caused_by": f.get("caused_by")} if "caused_by" in f else last)
    return rank_dicts(kept), gone


def _run_id(doc: dict[str, Any]) -> str | None:
    """The audit run id of ``doc``; None for a scan's or model-check's result."""
    audit = doc.get("audit")
    run = audit.get("run_id") if isinstance(audit, dict) else None
    return str(run) if run else None


def _earlier_runs(docs: list[dict[str, Any]]) -> Any:
    """Return a function giving the run ids an audit run compared with, directly or through
    the runs before them (``compared_with`` and ``previous_run``, followed among ``docs``)."""
    links: dict[str, set[str]] = {}
    for doc in docs:
        audit = doc.get("audit") if isinstance(doc.get("audit"), dict) else {}
        run = _run_id(doc)
        if run:
            before = (audit.get("compared_with"), audit.get("previous_run"))
            links.setdefault(run, set()).update(str(b) for b in before if b)

    def earlier(doc: dict[str, Any]) -> set[str]:
        seen: set[str] = set()
        todo = list(links.get(_run_id(doc) or "", ()))
        while todo:
            run = todo.pop()
            if run not in seen:
                seen.add(run)
                todo += links.get(run, ())
        return seen

    return earlier


def _merge_inputs(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Union of inputs, one per (path, sha256)."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in docs:
        for i in doc.get("inputs") or []:
            seen.setdefault((str(i.get("path")), str(i.get("sha256"))), dict(i))
    return list(seen.values())


def _merge_checks(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Union of checks by name; a check that ran in any document counts as ran.

    A check skipped in every document for reasons that differ gives each reason with the
    inputs it was given for: the first reason alone (the GA4 export's "no consent signal")
    was read as true of every input, whose own reason was another.
    """
    seen: dict[str, dict[str, Any]] = {}
    skipped: dict[str, dict[str, list[str]]] = {}  # check -> reason -> the inputs' names
    for doc in docs:
        for c in doc.get("checks") or []:
            old = seen.get(c["name"])
            if old is None or (old["status"] != "ran" and c.get("status") == "ran"):
                seen[c["name"]] = {
                    "name": c["name"],
                    "status": c.get("status", "ran"),
                    "reason": c.get("reason") or "",
                }
            if c.get("status", "ran") != "ran":
                by_reason = skipped.setdefault(c["name"], {})
                by_reason.setdefault(c.get("reason") or "", []).extend(_input_names(doc))
    for name, check in seen.items():
        reasons = skipped.get(name, {})
        if check["status"] != "ran" and len(reasons) > 1:
            check["reason"] = "; ".join(f"in {_names(i)}: {r}" for r, i in reasons.items())
    return list(seen.values())


def _input_names(doc: dict[str, Any]) -> list[str]:
    """The file names of a document's event inputs (all its inputs when it marks none)."""
    inputs = [i for i in doc.get("inputs") or [] if isinstance(i, dict)]
    events = [i for i in inputs if i.get("role") == "events"] or inputs
    return [str(i.get("path") or "").replace("\\", "/").rsplit("/", 1)[-1] for i in events]


def _names(names: list[str], shown: int = 3) -> str:
    """``a, b, c and 2 more``: the first ``shown`` distinct names and how many others."""
    unique = list(dict.fromkeys(n for n in names if n)) or ["an input"]
    more = len(unique) - shown
    return ", ".join(unique[:shown]) + (f" and {more} more" if more > 0 else "")


# Evidence whose list is one whole (a consent mix's shares sum to 1): several documents' are
# kept as a list of them, one a document, never run together into one list.
WHOLE_LISTS = frozenset({"consent_mix"})


def _merge_evidence(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Document-level evidence; a key present in several documents becomes a list: their
    values, lists run together (notes), but the lists of :data:`WHOLE_LISTS` kept apart."""
    out: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for doc in docs:
        for key, value in (doc.get("evidence") or {}).items():
            seen[key] = seen.get(key, 0) + 1
            value = copy.deepcopy(value)
            if seen[key] == 1:
                out[key] = value
            elif key in WHOLE_LISTS:
                out[key] = ([out[key]] if seen[key] == 2 else out[key]) + [value]
            else:
                have = out[key] if isinstance(out[key], list) else [out[key]]
                out[key] = have + (value if isinstance(value, list) else [value])
    if isinstance(out.get("notes"), list):  # two runs on one input tell a note once
        said: set[str] = set()
        out["notes"] = [
            n for n in out["notes"] if not isinstance(n, str) or not (n in said or said.add(n))
        ]
    return out


def rank_dicts(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order findings (JSON form) as the scan's JSON does: causes before their symptoms, then
    the chain's worst severity and size (:func:`privdiag.findings.rank_order`)."""
    ranked = [
        Ranked(
            str(f["id"]),
            str(f["severity"]),
            impact_of(f.get("metrics") or {}),
            tuple(f.get("caused_by") or ()),
            f.get("kind") == OWNERSHIP_GAP,
        )
        for f in findings
    ]
    return [findings[n] for n in rank_order(ranked)]


def summary_of(findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``summary`` block, as the scan writes it: counts in total, by severity, by kind and
    by owner (findings without an owner under "unowned")."""
    by_sev: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    by_owner: dict[str, int] = {}
    for f in findings:
        by_sev[f["severity"]] = by_sev.get(f["severity"], 0) + 1
        by_kind[f["kind"]] = by_kind.get(f["kind"], 0) + 1
        owner = f.get("owner") or UNOWNED
        by_owner[owner] = by_owner.get(owner, 0) + 1
    return {
        "findings": len(findings),
        "by_severity": {s: by_sev[s] for s in SEVERITIES if s in by_sev},
        "by_kind": dict(sorted(by_kind.items())),
        "by_owner": dict(sorted(by_owner.items())),
    }


def merge(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one result document made of ``docs``: findings deduped by id and re-ranked,
    inputs and checks united, the summary recomputed.

    Raises ``InputError`` when a document is not a privdiag result of this schema version.
    A single document comes back as a normalised copy.
    """
    if not docs:
        raise InputError("no result to report on", hint="pass at least one FINDINGS.json")
    for n, doc in enumerate(docs):
        check_document(doc, n)
    findings, gone = _merge_findings(docs)
    # A merged document keeps the commands it came from, so merging it again keeps them too.
    commands = list(
        dict.fromkeys(str(c) for d in docs for c in d.get("commands") or [d.get("command", "")])
    )
    merged = {
        "schema_version": SCHEMA_VERSION,
        "tool": "privdiag",
        "version": _by_time(docs)[-1].get("version", ""),  # the latest run's
        "command": commands[0] if len(commands) == 1 else "report",
        "commands": commands,
        "started_at": str(_by_time(docs)[0].get("started_at") or ""),
        "inputs": _merge_inputs(docs),
        "summary": summary_of(findings),
        "checks": _merge_checks(docs),
        "findings": findings,
        "evidence": _merge_evidence(docs),
    }
    # One audit run's comparison with an earlier run, for the reports to say what changed;
    # two runs' comparisons would contradict each other, and neither is kept.
    audits = [d for d in docs if isinstance(d.get("audit"), dict)]
    if len(audits) == 1:
        merged["resolved"] = copy.deepcopy(audits[0].get("resolved") or [])
        merged["audit"] = copy.deepcopy(audits[0]["audit"])
    elif audits:
        # each finding's tag (new, worse, ...) is its own run's comparison, and goes with it
        for f in findings:
            f.pop("change", None)
            f.pop("counted_as", None)
        merged["evidence"]["notes"] = _listed_notes(merged["evidence"]) + [
            _several_audits_note(audits, gone)
        ]
    return merged


def _listed_notes(evidence: dict[str, Any]) -> list[Any]:
    notes = evidence.get("notes")
    return list(notes) if isinstance(notes, list) else [notes] if notes else []


def _several_audits_note(audits: list[dict[str, Any]], gone: list[str]) -> str:
    """What a report of several audit runs leaves out, and why."""
    runs = ", ".join(str(d["audit"].get("run_id") or "?") for d in _by_time(audits))
    note = (
        f"{len(audits)} audit runs reported together ({runs}): no finding is tagged new, "
        "worse or better (each run compared with its own previous run)"
    )
    if gone:
        shown = ", ".join(gone[:3]) + (f" and {len(gone) - 3} more" if len(gone) > 3 else "")
        note += f"; {len(gone)} finding(s) a later run resolved are left out (id {shown})"
    return note
