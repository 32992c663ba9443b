"""The Markdown writer: a short comment to paste into a ticket."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from privdiag.findings import SEVERITIES, severity_rank
from privdiag.report.changes import (
    TAGGED_CHANGES,
    change_reason,
    changes_line,
    failing_the_run,
    gone_heading,
    gone_text,
)
from privdiag.report.links import effects_of
from privdiag.report.merge import merge
from privdiag.report.output import write_text
from privdiag.report.text import (
    OWNERSHIP_GAP,
    cut,
    key_figure,
    location_text,
    missing_owners,
    root_causes,
)

#: Owners listed in the comment (worst first): a GitHub comment holds 65,536 characters.
MAX_OWNERS = 20
#: Said under the missing owners: they tell who must act, not why the findings happened.
NOT_A_CAUSE = (
    "_A missing owner is not a cause of these findings: it names what no team answers for._"
)
#: Characters that would start Markdown markup inside a table cell; ``_`` only at word edges.
_SPECIAL = re.compile(r"([\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")

#: What GitHub turns into a mention (``@org/team`` notifies the team) or a link (``www.x``,
#: ``https://x``, and ``#12``, ``GH-12`` or ``org/repo#12``, which also mark that issue as
#: mentioned) wherever it stands in a comment, escaped or not: a zero-width space after its
#: first part breaks it, and the text reads the same. No word boundary is asked for: GitHub
#: links ``https://`` after a digit or ``_`` and ``www.`` after ``_``.
_LINKED = re.compile(
    r"(@(?=[A-Za-z0-9])|(?:https?|ftp)(?=://)|www(?=\.)|#(?=\d)|\bgh(?=-\d))", re.IGNORECASE
)


#: Resolved findings of an audit named under its "what changed" line; the others counted.
MAX_RESOLVED = 10


#: Characters of one text (a cell, an owner, a sentence) in the comment, so that it stays
#: within a GitHub comment's 65,536 whatever an edited result holds.
MAX_TEXT = 300


def md_escape(text: str) -> str:
    """Return ``text`` safe inside a Markdown table cell: no markup, no HTML, no mention or
    link (:data:`_LINKED`), one line, at most :data:`MAX_TEXT` characters before escaping
    ("…" ends a text cut there)."""
    text = cut(" ".join(str(text).split()), MAX_TEXT)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _LINKED.sub("\\1\u200b", _SPECIAL.sub(r"\\\1", text))


def headline(doc: dict[str, Any]) -> str:
    """Return the one-line count of findings by severity, and of root causes."""
    findings = doc["findings"]
    if not findings:
        return "**privdiag**: no findings."
    counts = ", ".join(f"{n} {s}" for s, n in doc["summary"]["by_severity"].items())
    roots = len(root_causes(findings))
    noun = "finding" if len(findings) == 1 else "findings"
    tail = f"; {roots} root cause{'s' if roots != 1 else ''} linked" if roots else ""
    return f"**privdiag**: {len(findings)} {noun} ({counts}){tail}."


def findings_table(
    findings: list[dict[str, Any]],
    *,
    with_title: bool,
    min_group_size: int,
    explains: dict[str, int] | None = None,
) -> str:
    """Return a Markdown table of ``findings``; titles and figures only when ``with_title``,
    a root cause's title marked with how many findings name it as their cause (``explains``)
    and, in an audit, a new, worse or better finding's title with that change."""
    head = ["Severity", "Kind", "Location", "Owner"]
    if with_title:
        head = ["Severity", "Finding", "Kind", "Location", "Owner", "Key figure"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for f in findings:
        cells = [
            f["severity"],
            f["kind"],
            location_text(f.get("location") or {}),
            f.get("owner") or "no owner",
        ]
        if with_title:
            figure = (
                key_figure(f.get("metrics") or {}, min_group_size, f["kind"], f.get("location"))
                or "–"
            )
            title = str(f.get("title") or "")
            if f.get("change") in TAGGED_CHANGES:  # an audit's comparison, as the HTML tags it
                why = change_reason(f)
                title += f" ({f['change']}{': ' + why if why else ''})"
            if (explains or {}).get(f["id"]):
                title += f" (root cause: explains {explains[f['id']]})"
            elif f["kind"] == OWNERSHIP_GAP:
                title += " (missing owner: see Who must act)"
            cells = cells[:1] + [title] + cells[1:] + [figure]
        lines.append("| " + " | ".join(md_escape(c) for c in cells) + " |")
    return "\n".join(lines)


def owners_lines(findings: list[dict[str, Any]], per_owner: int = 3) -> list[str]:
    """Return one bullet per owner (count, worst severity), worst owner first and the findings
    nobody owns last, with each owner's first ``per_owner`` findings in rank order as
    sub-bullets; past ``MAX_OWNERS`` owners, one line says how many more there are."""
    by_owner: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        by_owner.setdefault(f.get("owner") or "", []).append(f)

    def worst(owner: str) -> int:
        return min(severity_rank(f["severity"]) for f in by_owner[owner])

    def bullets(owner: str) -> list[str]:
        owned = by_owner[owner]
        name = md_escape(owner) if owner else "_no owner_"
        out = [f"- {name}: {len(owned)} (worst: {SEVERITIES[worst(owner)]})"]
        out += [
            f"  - {f['severity']}: {md_escape(str(f.get('title') or f['kind']))}"
            for f in owned[:per_owner]
        ]
        if per_owner and len(owned) > per_owner:
            out.append(f"  - _{len(owned) - per_owner} more_")
        return out

    # As in the HTML report: owners worst first, then by count and name; no owner last.
    named = sorted((o for o in by_owner if o), key=lambda o: (worst(o), -len(by_owner[o]), o))
    lines = [line for owner in named[:MAX_OWNERS] for line in bullets(owner)]
    if len(named) > MAX_OWNERS:
        lines.append(f"_{len(named) - MAX_OWNERS} more owners in the full report._")
    if "" in by_owner:
        lines += bullets("")
    return lines


def act_lines(findings: list[dict[str, Any]]) -> list[str]:
    """Return one bullet per ownership gap that leaves findings without an owner (worst first,
    at most ``MAX_OWNERS``): who must act, not why the findings happened."""
    sentences = missing_owners(findings)
    lines = ["- " + md_escape(s) for s in sentences[:MAX_OWNERS]]
    if len(sentences) > MAX_OWNERS:
        lines.append(f"_{len(sentences) - MAX_OWNERS} more missing owners in the full report._")
    return lines


def resolved_lines(doc: dict[str, Any]) -> list[str]:
    """Return one bullet per finding an audit found gone since the run it compared with (its
    severity and title, as the HTML report lists them), the first :data:`MAX_RESOLVED`."""
    gone = [
        r
        for r in doc.get("resolved") or []
        if isinstance(r, dict) and r.get("severity") in SEVERITIES
    ]
    lines = [f"- {r['severity']}: {md_escape(gone_text(r))}" for r in gone[:MAX_RESOLVED]]
    if len(gone) > MAX_RESOLVED:
        lines.append(f"- _{len(gone) - MAX_RESOLVED} more in the full report_")
    return lines


def render_markdown(doc: dict[str, Any], *, top: int = 10, min_group_size: int = 5) -> str:
    """Return the ticket comment for one (merged) result document."""
    findings = doc["findings"]
    parts = [headline(doc)]
    if changes := changes_line(doc):
        parts.append(md_escape(changes))
        if gone := resolved_lines(doc):
            parts += [f"{gone_heading(doc)}:", "\n".join(gone)]
        lead, fails = failing_the_run(doc)
        if fails:
            lines = [
                f"- {f['severity']}, {word}: {md_escape(str(f.get('title') or f['kind']))}"
                + (f" ({md_escape(why)})" if (why := change_reason(f)) else "")
                for word, f in fails[:MAX_RESOLVED]
            ]
            if len(fails) > MAX_RESOLVED:
                lines.append(f"- _{len(fails) - MAX_RESOLVED} more in the full report_")
            parts += [md_escape(lead), "\n".join(lines)]
    if findings:
        shown = findings[:top]
        title = f"### Top {len(shown)} findings" if len(findings) > top else "### Findings"
        roots = root_causes(findings)
        explains = {r: len(e) for r, e in effects_of(findings).items() if r in roots}
        table = findings_table(
            shown, with_title=True, min_group_size=min_group_size, explains=explains
        )
        parts.append(title)
        if explains:
            parts.append("_Root causes come first, each before the findings it explains._")
        parts.append(table)
        if len(findings) > top:
            parts.append(f"_{len(findings) - top} more in the full report._")
        parts += ["### Owners", "\n".join(owners_lines(findings))]
        if act := act_lines(findings):
            parts += ["### Who must act", "\n".join(act)]
            parts.append(NOT_A_CAUSE)
    skipped = [c for c in doc.get("checks") or [] if c.get("status") == "skipped"]
    if skipped:
        parts.append(f"_{len(skipped)} check(s) skipped; see the full report for the reasons._")
    return "\n\n".join(parts) + "\n"


def write_markdown(
    docs: list[dict[str, Any]], path: Path, *, top: int = 10, min_group_size: int = 5
) -> None:
    """Merge ``docs`` and write the ticket comment to ``path`` atomically (``-``: stdout)."""
    write_text(path, render_markdown(merge(docs), top=top, min_group_size=min_group_size))
