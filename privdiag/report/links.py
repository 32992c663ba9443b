"""The links between a report's findings: each section's anchor, the chain of its causes
(nearest first, cycles cut, ownership gaps apart) and the findings it explains."""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from privdiag.findings import OWNERSHIP_GAP
from privdiag.report import bounds
from privdiag.report.text import fmt_number

MAX_CAUSES = 12  # a finding lists its nearest causes; a longer chain ends with a note
_ANCHOR_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def anchor(finding_id: str) -> str:
    """Return the HTML id of a finding's section: ``f-`` plus the id's safe characters, and a
    short hash of the id when it has others, so that two ids ("a.b", "a_b") never share one."""
    text = str(finding_id)
    safe = _ANCHOR_SAFE.sub("_", text)
    if safe != text:
        safe += "-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return "f-" + safe


@dataclass
class LinkView:
    anchor: str | None
    label: str  # a finding's title (a name from the data, shown isolated in <bdi>)
    severity: str
    note: str = ""  # what the page says after the label, as " (not in this report)"
    sep: str = " ← "  # between this cause and the next (see causes)


def link(fid: str, by_id: dict[str, dict[str, Any]]) -> LinkView:
    f = by_id.get(fid)
    if f is None:
        return LinkView(None, bounds.short(str(fid)), "info", " (not in this report)")
    return LinkView(anchor(fid), bounds.short(f"{f.get('title') or f['kind']}"), f["severity"])


def cause_chain(
    f: dict[str, Any], by_id: dict[str, dict[str, Any]], limit: int | None = None
) -> list[str]:
    """Return the ids of the causes of ``f``, nearest first, each once (cycles are cut);
    at most ``limit`` of them when given. An ownership gap (``people.unowned``) is no cause:
    it is left out, and :func:`gap_links` lists it."""
    return [cid for cid, _ in cause_levels(f, by_id, limit)]


def cause_levels(
    f: dict[str, Any], by_id: dict[str, dict[str, Any]], limit: int | None = None
) -> list[tuple[str, int]]:
    """:func:`cause_chain` with each cause's level: 1 for the causes ``f`` names, 2 for
    theirs, and so on."""
    order: list[tuple[str, int]] = []
    seen = {f["id"]}
    queue = deque((cid, 1) for cid in f.get("caused_by") or [])
    while queue and (limit is None or len(order) < limit):
        cid, level = queue.popleft()
        if cid in seen or _is_gap(cid, by_id):
            continue
        seen.add(cid)
        order.append((cid, level))
        queue.extend((c, level + 1) for c in (by_id.get(cid) or {}).get("caused_by") or [])
    return order


def _is_gap(fid: str, by_id: dict[str, dict[str, Any]]) -> bool:
    return (by_id.get(fid) or {}).get("kind") == OWNERSHIP_GAP


def gap_links(f: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[LinkView]:
    """Links to the ownership gaps ``f`` names in ``caused_by``: nobody owns its source."""
    return [link(c, by_id) for c in dict.fromkeys(f.get("caused_by") or []) if _is_gap(c, by_id)]


def effects_of(findings: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Return id -> the ids of the findings that name it among their causes, in rank order;
    a finding that names itself (an edited document) does not explain itself."""
    effects: dict[str, list[str]] = {}
    for g in findings:
        for cid in dict.fromkeys(g.get("caused_by") or []):
            if cid != g["id"]:
                effects.setdefault(cid, []).append(g["id"])
    return effects


def causes(f: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[LinkView]:
    """Links to the nearest ``MAX_CAUSES`` causes, then a note when the chain goes on; each
    link's ``sep`` is "; " before a cause of the same level and " ← " before a further one,
    so that two causes side by side do not read as the second causing the first."""
    chain = cause_levels(f, by_id, MAX_CAUSES + 1)
    links = [link(c, by_id) for c, _ in chain[:MAX_CAUSES]]
    for view, (_, level), (_, after) in zip(links, chain, chain[1:], strict=False):
        view.sep = "; " if after == level else " ← "
    if len(chain) > MAX_CAUSES:
        links.append(LinkView(None, "further causes: see the last one's chain", "info"))
    return links


def more_note(n: int) -> LinkView:
    return LinkView(None, f"and {fmt_number(n)} more", "info")
