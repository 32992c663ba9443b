"""The JUnit XML writer: one test case per check, failing on findings at or above a severity."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privdiag.audit.diff import change_word, counted_changes, failing
from privdiag.findings import SEVERITIES, at_or_above, severity_rank
from privdiag.report.merge import merge
from privdiag.report.output import write_text
from privdiag.report.text import cut, location_text

#: Characters of a text in the file (a title, a location, a kind, a check's name or reason):
#: a result whose texts run to megabytes would otherwise flood the CI's test view.
MAX_TEXT = 300
#: Failing findings listed in one test case's failure text; its message counts them all.
MAX_FAILURES_LISTED = 100


#: What an audit's --fail-when leaves out of the exit code, in the words of the JUnit file.
NOT_COUNTED = {"new": "not new", "regressed": "neither new nor worse"}


@dataclass
class Case:
    """One test case: a check (or a finding kind no check claims) and its findings."""

    name: str
    classname: str
    skipped: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)


#: Checks whose findings are of a kind other than their name: model-check's.
CHECK_KINDS: dict[str, tuple[str, ...]] = {
    "quality": ("model.degradation",),
    "calibration": ("model.calibration",),
    "importance": ("model.fragile_feature",),
    "missing_inputs": ("model.missing_unsupported",),
}


def owning_check(kind: str, checks: list[str], model: str | None = None) -> str | None:
    """Return the check that covers ``kind``: the one that makes it (named in CHECK_KINDS),
    equal to it, or its longest dotted prefix.

    An audit names a model's checks ``"<model>: <check>"``; such a check covers only the
    findings of that ``model``.
    """
    scores = {c: _covers(kind, c, model) for c in checks}
    best = max(scores, key=lambda c: scores[c], default=None)
    return best if best is not None and scores[best][0] > 0 else None


def _covers(kind: str, check: str, model: str | None) -> tuple[int, bool]:
    """How closely ``check`` covers ``kind`` (0 not at all, else the higher the closer), and
    whether it names the finding's model."""
    prefix, sep, name = check.rpartition(": ")
    if sep and prefix != model:
        return 0, False
    if kind == name or kind in CHECK_KINDS.get(name, ()):
        return 1_000, bool(sep)
    return (len(name) if kind.startswith(name + ".") else 0), bool(sep)


def build_cases(doc: dict[str, Any]) -> list[Case]:
    """Return the test cases of a document: its checks in order, then uncovered finding kinds."""
    cases: dict[str, Case] = {}
    for c in doc.get("checks") or []:
        skipped = None if c.get("status") == "ran" else (c.get("reason") or "skipped")
        cases[c["name"]] = Case(c["name"], "privdiag.check", skipped)
    ran = [name for name, case in cases.items() if case.skipped is None]
    for f in doc["findings"]:
        owner = owning_check(f["kind"], ran, (f.get("location") or {}).get("model"))
        if owner is None:
            owner = f"finding:{f['kind']}"
            cases.setdefault(owner, Case(f["kind"], f"privdiag.{f.get('area', 'finding')}"))
        cases[owner].findings.append(f)
    return list(cases.values())


def _failure_text(failing: list[dict[str, Any]], fail_when: str | None = None) -> str:
    """One line per failing finding, its texts cut to :data:`MAX_TEXT` characters, for the
    first :data:`MAX_FAILURES_LISTED`; then how many more there are. An audit's finding
    carries its change beside its severity (``[high, worse]``)."""
    lines = [
        f"[{f['severity']}{_change_tag(f, fail_when)}] {cut(f['kind'], MAX_TEXT)} at "
        f"{cut(location_text(f.get('location') or {}), MAX_TEXT)}: "
        f"{cut(f.get('title') or '', MAX_TEXT)} (id {cut(f['id'], MAX_TEXT)})"
        for f in failing[:MAX_FAILURES_LISTED]
    ]
    if len(failing) > MAX_FAILURES_LISTED:
        more = len(failing) - MAX_FAILURES_LISTED
        lines.append(f"and {more:,} more: the JSON result (the file of --json) lists them all")
    return "\n".join(lines)


def _change_tag(finding: dict[str, Any], fail_when: str | None) -> str:
    """``, worse`` for an audit's finding (one with a ``change``), else ``''``."""
    change = finding.get("change")
    return f", {change_word(finding, fail_when)}" if isinstance(change, str) else ""


def case_element(
    case: Case, fail_on: str, counted: set[str] | None = None, fail_when: str = "regressed"
) -> ET.Element:
    """Return the ``<testcase>`` element of ``case``.

    ``counted`` holds the ids of the findings that fail the run (an audit's, chosen by its
    ``--fail-when``); a finding at or above ``fail_on`` outside it is told in
    ``<system-out>``, not as a failure, since the run passes on it. None counts every one.
    """
    name = cut(case.name, MAX_TEXT)
    el = ET.Element("testcase", {"classname": cut(case.classname, MAX_TEXT), "name": name})
    if case.skipped is not None:
        ET.SubElement(el, "skipped", {"message": cut(case.skipped, MAX_TEXT)})
        return el
    above = [f for f in case.findings if at_or_above(f["severity"], fail_on)]
    failing = [f for f in above if counted is None or f["id"] in counted]
    passed = [f for f in above if counted is not None and f["id"] not in counted]
    if passed:
        out = ET.SubElement(el, "system-out")
        out.text = (
            f"{len(passed)} finding(s) at or above {fail_on} that --fail-when {fail_when} "
            f"does not count ({NOT_COUNTED.get(fail_when, '')} since the compared run):\n"
            + _failure_text(passed, fail_when)
        )
    if failing:
        worst = SEVERITIES[min(severity_rank(f["severity"]) for f in failing)]
        message = f"{len(failing)} finding(s) at or above {fail_on}"
        if counted is not None:  # an audit's: say why they fail, as its one line does
            message += (
                f" that --fail-when {fail_when} counts: {counted_changes(failing, fail_when)}"
            )
        failure = ET.SubElement(el, "failure", {"message": message, "type": worst})
        failure.text = _failure_text(failing, fail_when if counted is not None else None)
    return el


def render_junit(doc: dict[str, Any], *, fail_on: str) -> str:
    """Return the JUnit XML text of one (merged) result document."""
    if fail_on not in SEVERITIES:
        raise ValueError(f"unknown severity {fail_on!r}")
    counted, fail_when = None, "regressed"
    if isinstance(doc.get("audit"), dict):
        counted = {f["id"] for f in failing(doc, fail_on)}
        fail_when = str(doc["audit"].get("fail_when"))
    elements = [case_element(c, fail_on, counted, fail_when) for c in build_cases(doc)]
    failures = sum(1 for e in elements if e.find("failure") is not None)
    skipped = sum(1 for e in elements if e.find("skipped") is not None)
    suite = ET.Element(
        "testsuite",
        {
            "name": cut(f"privdiag {doc.get('command', '')}".strip(), MAX_TEXT),
            "tests": str(len(elements)),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(skipped),
        },
    )
    suite.extend(elements)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(docs: list[dict[str, Any]], path: Path, *, fail_on: str) -> None:
    """Merge ``docs`` and write JUnit XML to ``path`` atomically (``-``: stdout)."""
    write_text(path, render_junit(merge(docs), fail_on=fail_on))
