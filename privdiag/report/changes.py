"""The words of an audit's comparison in the reports: what changed, what fails the run, and
the findings gone since the compared run (resolved, or superseded and not mended)."""

from __future__ import annotations

from typing import Any

from privdiag.audit.diff import change_word, failing
from privdiag.findings import SEVERITIES
from privdiag.report.text import fmt_value

#: A finding's ``change`` that the reports tag it with (``unchanged`` is not tagged).
TAGGED_CHANGES = ("new", "worse", "better")


def failing_the_run(doc: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """Return what makes an audit run exit 1, as a lead-in, and the findings it counts, each
    with its change in the reports' words (what made one worse: :func:`change_reason`):
    those at or above its ``fail_on`` that its
    ``fail_when`` counts, new first, then worse, then not compared, each in rank order;
    ("", []) for other results and runs that pass. The counts of "What changed" do not say
    which they are: a banner change's new opt-in drop could sit past the top ten."""
    audit = doc.get("audit")
    if not isinstance(audit, dict) or audit.get("fail_on") not in SEVERITIES:
        return "", []
    # new first (what the lead did not see last night), then worse, then not compared
    order = {"new": 0, "worse": 1}
    fails = sorted(failing(doc, audit["fail_on"]), key=lambda f: order.get(f.get("change"), 2))
    if not fails:
        return "", []
    when = audit.get("fail_when")
    lead = (
        f"Failing the run (exit 1): {len(fails)} finding(s) at or above {audit['fail_on']}"
        + (f" that --fail-when {when} counts" if when in ("new", "regressed") else "")
        + ":"
    )
    return lead, [(change_word(f, when), f) for f in fails]


def gone_heading(doc: dict[str, Any]) -> str:
    """The heading of an audit's list of gone findings: "Resolved", or "Superseded" or
    "Resolved or superseded" where it holds findings gone but not mended."""
    changes = {r.get("change") for r in doc.get("resolved") or [] if isinstance(r, dict)}
    if "superseded" not in changes:
        return "Resolved"
    return "Resolved or superseded" if changes - {"superseded"} else "Superseded"


def gone_text(gone: dict[str, Any]) -> str:
    """Return the title of a finding an audit found gone, and, for one ``superseded`` (not
    mended), so before it and why after: "Resolved" alone read as mended (trial 28)."""
    title = str(gone.get("title") or gone.get("kind") or "")
    if gone.get("change") != "superseded":
        return title
    why = gone.get("change_reason")  # the mark first: a label cut short keeps it
    return f"superseded, not mended: {title}" + (f" ({why})" if isinstance(why, str) else "")


def change_reason(finding: dict[str, Any]) -> str:
    """Return the figure that made an audit's finding worse or better, as its JSON's
    ``change_reason`` says (``events 10 to 13, x1.3 against its source's growth x1.1``);
    "" for any other finding."""
    if finding.get("change") not in ("worse", "better"):
        return ""
    reason = finding.get("change_reason")
    return reason if isinstance(reason, str) else ""


def changes_line(doc: dict[str, Any]) -> str:
    """Return what an audit run's comparison found, as one sentence ("" for other results)."""
    audit = doc.get("audit")
    if not isinstance(audit, dict):
        return ""
    counts = audit.get("counts") or {}
    compared = audit.get("compared_with")
    hidden = int(counts.get("hidden") or 0)
    if not compared:
        first = "First audit run of this history: there is no earlier run, so every finding is new"
        if hidden:  # tagged "not compared" in every output of the run, not "new"
            return (
                f"{first}, {hidden} of them not compared (fewer users than the minimum group "
                "size) and counted as new."
            )
        return first + "."
    than = "baseline run" if audit.get("baseline") else "the previous run"
    told = ", ".join(f"{int(counts.get(c) or 0)} {c}" for c in (*TAGGED_CHANGES, "unchanged"))
    if hidden:
        told += f", {hidden} not compared (fewer users than the minimum group size)"
    superseded = int(counts.get("superseded") or 0)
    return (
        f"Against {than} {fmt_value(compared)}: {told}; "
        f"{int(counts.get('resolved') or 0)} resolved (gone since)"
        + (
            f", {superseded} superseded (gone since, not mended: a later notice version "
            "took over its decisions)"
            if superseded
            else ""
        )
        + "."
    )
