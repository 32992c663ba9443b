"""What keeps the HTML report small for any number of findings.

The findings are kept whole in rank order (root causes first) while their sections fit in
:data:`FINDINGS_BUDGET` UTF-8 bytes; the rest are counted by kind, severity and owner in the
summary, which points to the JSON result that holds them all. Links to a finding that is not
on the page say so instead of pointing nowhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from privdiag.findings import SEVERITIES, severity_rank
from privdiag.report.text import cut, fmt_value

#: UTF-8 bytes the sections of the findings shown in full may take, without their charts and
#: tables (those have their own budget, ``context.EVIDENCE_BUDGET``).
FINDINGS_BUDGET = 400_000
#: Links a finding lists of the findings it explains, or leaves without an owner.
MAX_LINKS = 12
#: Owners counted one by one among the findings not shown; the rest share one row.
MAX_OWNER_ROWS = 30
NOT_SHOWN = " (not on this page: see the JSON result)"
#: Characters of a title, owner or kind in the summary's lists and in links; a finding's own
#: section shows its whole title (and is measured for the budget with it).
MAX_LABEL = 200
#: Kinds counted one by one among the findings not shown; the rest share one row.
MAX_KIND_ROWS = 30


@dataclass
class LeftOutView:
    """The findings that are not on the page, counted."""

    count: int  # findings not shown
    shown: int  # findings shown in full
    severities: list[str]  # the severities among those not shown, worst first
    by_kind: list[tuple[str, list[int], int]]  # kind, count per severity, total
    by_owner: list[tuple[str, int, str]] = field(default_factory=list)  # name, count, worst


def utf8_size(text: str) -> int:
    """Return the bytes ``text`` takes in the written file (UTF-8)."""
    return len(text.encode("utf-8"))


def short(text: str, limit: int = MAX_LABEL) -> str:
    """Return ``text`` cut to ``limit`` characters, ending in "…" when cut."""
    return cut(text, limit)


def keep_within(views: Iterable[Any], size: Callable[[Any], int] | None, budget: int) -> set[str]:
    """Return the ids of the first views, in the given (rank) order, whose sizes together fit in
    ``budget``; all of them when ``size`` is None."""
    kept: set[str] = set()
    for view in views:
        if size is not None:
            budget -= size(view)
            if budget < 0:
                break
        kept.add(view.id)
    return kept


def capped_links(links: list[Any], make_note: Callable[[int], Any]) -> list[Any]:
    """Return the first :data:`MAX_LINKS` links, then ``make_note(how many more)`` if any."""
    if len(links) <= MAX_LINKS:
        return links
    return links[:MAX_LINKS] + [make_note(len(links) - MAX_LINKS)]


def unlink_missing(links: Iterable[Any], shown: set[str], ids: dict[str, str]) -> None:
    """Make each link to a finding that is not on the page plain text that says where it is.

    ``ids`` maps each anchor to its finding's id."""
    for link in links:
        if link.anchor is not None and ids.get(link.anchor) not in shown:
            link.anchor = None
            link.label += NOT_SHOWN


def mark_shown(views: list[Any], shown: set[str]) -> None:
    """Set each finding view's ``shown``, and unlink the links of those shown to the others."""
    ids = {v.anchor: v.id for v in views}
    for v in views:
        v.shown = v.id in shown
        if v.shown:
            unlink_missing(v.causes + v.effects + v.unowned_by + v.left_to_nobody, shown, ids)


def left_out_view(findings: list[dict[str, Any]], shown: set[str]) -> LeftOutView | None:
    """Return the counts of the findings that are not in ``shown``, or None when all are."""
    rest = [f for f in findings if f["id"] not in shown]
    if not rest:
        return None
    sevs = [s for s in SEVERITIES if any(f["severity"] == s for f in rest)]
    kinds: dict[str, list[int]] = {}
    owners: dict[str, list[dict[str, Any]]] = {}
    for f in rest:
        kinds.setdefault(fmt_value(f["kind"]), [0] * len(sevs))[sevs.index(f["severity"])] += 1
        owners.setdefault(fmt_value(f["owner"]) if f.get("owner") else "", []).append(f)
    by_kind = sorted(
        ((short(k), counts, sum(counts)) for k, counts in kinds.items()),
        key=lambda r: (-r[2], r[0]),
    )
    if len(by_kind) > MAX_KIND_ROWS:
        more = by_kind[MAX_KIND_ROWS:]
        summed = [sum(r[1][n] for r in more) for n in range(len(sevs))]
        by_kind = by_kind[:MAX_KIND_ROWS] + [(f"{len(more):,} other kinds", summed, sum(summed))]
    return LeftOutView(len(rest), len(findings) - len(rest), sevs, by_kind, _owner_rows(owners))


def _owner_rows(owners: dict[str, list[dict[str, Any]]]) -> list[tuple[str, int, str]]:
    """Rows of (owner, count, worst severity): named owners by count, then "" (no owner) last;
    past :data:`MAX_OWNER_ROWS` owners, one row counts the others."""

    def worst(fs: list[dict[str, Any]]) -> str:
        return SEVERITIES[min(severity_rank(f["severity"]) for f in fs)]

    named = sorted((o for o in owners if o), key=lambda o: (-len(owners[o]), o))
    rows = [(short(o), len(owners[o]), worst(owners[o])) for o in named[:MAX_OWNER_ROWS]]
    if len(named) > MAX_OWNER_ROWS:
        others = [f for o in named[MAX_OWNER_ROWS:] for f in owners[o]]
        rows.append((f"{len(named) - MAX_OWNER_ROWS} other owners", len(others), worst(others)))
    if "" in owners:
        rows.append(("", len(owners[""]), worst(owners[""])))
    return rows
