"""GitHub Actions output: annotations and a step summary, with no data values in them."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from privdiag.audit.diff import failing
from privdiag.findings import at_or_above
from privdiag.report.markdown import findings_table, owners_lines
from privdiag.report.merge import merge
from privdiag.report.text import cut

#: How many annotations to print; GitHub shows only the first few of each type per step.
MAX_ANNOTATIONS = 50
#: Characters of a kind, an id and each name and value of a location in an annotation, and of
#: its whole message, before escaping: a location from the data (a feature named by a
#: megabyte of text) or an edited result would otherwise make a megabyte line in the log.
ANNOTATION_VALUE = 100
ANNOTATION_MESSAGE = 300


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: dict[str, Any], fail_on: str, counts: bool = True) -> str | None:
    """Return the workflow command line for a finding, or None for an ``info`` below the bar.

    Only the kind, the severity, the location's names and the id are used: never a title,
    a metric or another value drawn from the data. Each is cut to :data:`ANNOTATION_VALUE`
    characters and the message to :data:`ANNOTATION_MESSAGE` ("…" ends a cut text). A
    finding that does not fail the run (``counts`` false: an audit's ``--fail-when`` leaves
    it out) is a warning whatever its severity, its change named in the title.
    """
    severity = finding["severity"]
    if at_or_above(severity, fail_on) and counts:
        level = "error"
    elif severity != "info":
        level = "warning"
    else:
        return None
    kind, found = (cut(str(finding[k]), ANNOTATION_VALUE) for k in ("kind", "id"))
    location = sorted((finding.get("location") or {}).items())
    where = ", ".join(
        f"{cut(str(k), ANNOTATION_VALUE)}={cut(str(v), ANNOTATION_VALUE)}" for k, v in location
    )
    # an audit's hidden finding reads "not compared", as in every other output of the run
    change = finding.get("change")
    change = f", {'not compared' if change == 'hidden' else change}" if change else ""
    title = _escape_property(f"privdiag {kind} ({cut(severity + change, ANNOTATION_VALUE)})")
    # the id ends the message whatever is cut, so the annotation still leads to its finding
    at = cut(f"{kind} at {where or 'whole input'}", ANNOTATION_MESSAGE - len(found) - 3)
    return f"::{level} title={title}::{_escape_data(f'{at} [{found}]')}"


def step_summary(doc: dict[str, Any], fail_on: str) -> str:
    """Return the Markdown step summary: counts, findings at or above the bar, owners."""
    counts = ", ".join(f"{n} {s}" for s, n in doc["summary"]["by_severity"].items()) or "none"
    above = [f for f in doc["findings"] if at_or_above(f["severity"], fail_on)]
    fails = failing(doc, fail_on)
    line = f"Findings: {doc['summary']['findings']} ({counts}); {len(above)} at or above {fail_on}"
    if isinstance(doc.get("audit"), dict):
        line += f", {len(fails)} failing the run (--fail-when {doc['audit'].get('fail_when')})"
    parts = ["## privdiag", line + "."]
    if above:
        parts.append(findings_table(above[:20], with_title=False, min_group_size=0))
    if doc["findings"]:
        parts += ["### Owners", "\n".join(owners_lines(doc["findings"], per_owner=0))]
    return "\n\n".join(parts) + "\n"


def github_annotations(
    docs: list[dict[str, Any]],
    *,
    fail_on: str,
    env: Mapping[str, str],
    stream: TextIO | None = None,
) -> str | None:
    """Under GitHub Actions (``env['GITHUB_ACTIONS'] == 'true'``), print annotations to
    ``stream`` (stdout by default) and append a summary to ``env['GITHUB_STEP_SUMMARY']``.

    Does nothing elsewhere. Returns why the summary could not be appended (a missing folder,
    a full disk), None when it was or none was asked for: the run's outputs are written by
    then, and its exit code stands.
    """
    if env.get("GITHUB_ACTIONS") != "true":
        return None
    doc = merge(docs)
    out = stream or sys.stdout
    counted = {f["id"] for f in failing(doc, fail_on)}
    lines = [a for f in doc["findings"] if (a := annotation(f, fail_on, f["id"] in counted))]
    for line in lines[:MAX_ANNOTATIONS]:
        out.write(line + "\n")
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    if not summary_path:
        return None
    try:
        with open(summary_path, "a", encoding="utf-8") as fh:
            fh.write(step_summary(doc, fail_on))
    except OSError as exc:
        return f"could not append the step summary to {summary_path}: {exc.strerror or exc}"
    return None
