"""What keeps the HTML report small for any number of findings.

The findings are kept whole in rank order (root causes first) while their sections fit in
:data:`FINDINGS_BUDGET` UTF-8 bytes; the rest are counted by kind, severity and owner in the
summary, which points to the JSON result that holds them all. A finding whose section alone
would take more than a tenth of the budget is shown with its long texts cut. Links to a
finding that is not on the page say so instead of pointing nowhere. The charts and tables of
the findings shown have a budget of their own, :data:`EVIDENCE_BUDGET`; a finding whose
evidence does not fit is shown without it, and the summary names it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from privdiag.findings import SEVERITIES, severity_rank
from privdiag.report.text import cut, fmt_value

#: UTF-8 bytes the sections of the findings shown in full may take, without their charts and
#: tables (those have their own budget, :data:`EVIDENCE_BUDGET`).
FINDINGS_BUDGET = 400_000
#: UTF-8 bytes of rendered charts and tables the findings' evidence may take in all; a finding
#: whose evidence does not fit in what is left is listed without it (the summary names each).
EVIDENCE_BUDGET = 300_000
#: Findings whose evidence is left out, listed in the summary (the others are counted).
MAX_EVIDENCE_LISTED = 10
#: Owners named one by one in the summary and "By owner"; one row counts the rest.
MAX_OWNERS = 50
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
#: Characters each long text (title, recommendation, ...) of a finding keeps when its section
#: alone takes more than a tenth of :data:`FINDINGS_BUDGET`; its owner, kind, and the names
#: and values of its location and metrics keep :data:`MAX_LABEL`.
CUT_TEXT = 1_000
#: Location entries and metrics such a finding keeps; one more row counts the others.
CUT_ITEMS = 20


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
    ``budget``; all of them when ``size`` is None.

    A view whose size alone is over a tenth of ``budget`` has its long texts cut first
    (:func:`cut_texts`), so that one huge finding does not keep the others off the page; the
    first view is kept whatever its size, so that the page shows a finding when there is one.
    """
    kept: set[str] = set()
    left = budget
    for view in views:
        if size is not None:
            need = size(view)
            if need > budget // 10 and cut_texts(view):
                need = size(view)
            if kept and need > left:
                break
            left -= need
        kept.add(view.id)
    return kept


def cut_texts(view: Any) -> bool:
    """Cut the long texts of a finding's view in place: its title, recommendation, share
    caption and who-must-act sentence to :data:`CUT_TEXT` characters, its kind, owner and the
    names and values of its location and metrics to :data:`MAX_LABEL`, and those lists to
    :data:`CUT_ITEMS` entries; return whether anything was cut (``view.texts_cut``)."""
    before = _texts(view)
    view.title = cut(view.title, CUT_TEXT)
    view.recommendation = cut(view.recommendation, CUT_TEXT)
    view.share_caption = cut(view.share_caption, CUT_TEXT)
    view.who_must_act = cut(view.who_must_act, CUT_TEXT)
    view.kind = short(view.kind)
    view.owner = short(view.owner) if view.owner else view.owner
    view.location = _cut_items(view.location)
    view.metrics = _cut_items(view.metrics)
    view.texts_cut = _texts(view) != before
    return bool(view.texts_cut)


def _texts(view: Any) -> tuple[Any, ...]:
    return (
        view.title,
        view.recommendation,
        view.share_caption,
        view.who_must_act,
        view.kind,
        view.owner,
        view.location,
        view.metrics,
    )


def _cut_items(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The first :data:`CUT_ITEMS` (name, value) pairs cut to :data:`MAX_LABEL` characters,
    then one that counts the others."""
    kept = [(short(name), short(value)) for name, value in items[:CUT_ITEMS]]
    if len(items) > CUT_ITEMS:
        kept.append(("…", f"{len(items) - CUT_ITEMS:,} more in the JSON result"))
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
            link.note += NOT_SHOWN


def mark_shown(views: list[Any], shown: set[str]) -> None:
    """Set each finding view's ``shown``, and unlink the links of those shown to the others."""
    ids = {v.anchor: v.id for v in views}
    for v in views:
        v.shown = v.id in shown
        if v.shown:
            unlink_missing(v.causes + v.effects + v.unowned_by + v.left_to_nobody, shown, ids)


def fit_page(
    findings: list[dict[str, Any]],
    views: dict[str, Any],
    measure_finding: Callable[[Any], int] | None,
    measure: Callable[[list[Any], list[Any]], int] | None,
    evidence_of: Callable[[Any], tuple[list[Any], list[Any]]],
) -> tuple[set[str], list[str]]:
    """Decide what of ``findings`` (ranked) the page shows; return the ids of the findings shown
    and of those among them shown without their evidence.

    ``views`` maps each id to its finding's view; ``measure_finding`` gives a view's rendered
    size without evidence, ``measure`` that of charts and tables (None: no limit), and
    ``evidence_of`` a finding's evidence as (charts, tables)."""
    ordered = [views[f["id"]] for f in findings]

    # the findings kept whole, in rank order, within the page's budget; the rest are counted
    shown = keep_within(ordered, measure_finding, FINDINGS_BUDGET)
    mark_shown(ordered, shown)
    on_page = [f for f in findings if f["id"] in shown]
    return shown, add_evidence(on_page, views, evidence_of, measure, EVIDENCE_BUDGET)


def add_evidence(
    findings: list[dict[str, Any]],
    views: dict[str, Any],
    evidence_of: Callable[[Any], tuple[list[Any], list[Any]]],
    measure: Callable[[list[Any], list[Any]], int] | None,
    budget: int,
) -> list[str]:
    """Give each finding's view its charts and tables (``evidence_of`` its evidence), in rank
    order, while their rendered size (by ``measure``; None: no limit) fits in what is left of
    ``budget``; return the ids of the findings whose evidence is left out, their views marked
    ``charts_omitted``."""
    left_out = []
    for f in findings:
        view = views[f["id"]]
        if not f.get("evidence"):
            continue
        if measure is None or budget > 0:
            found = evidence_of(f.get("evidence"))
            size = measure(*found) if measure is not None else 0
            if size <= budget:
                view.charts, view.tables = found
                budget -= size
                continue
        view.charts_omitted = True
        left_out.append(view.id)
    return left_out


def list_evidence_left_out(summary: Any, left_out: list[Any]) -> None:
    """Name in ``summary`` the first :data:`MAX_EVIDENCE_LISTED` views of the findings shown
    without their evidence (``left_out``, in rank order), and count them all."""
    summary.evidence_left_out = left_out[:MAX_EVIDENCE_LISTED]
    summary.evidence_left_out_count = len(left_out)


def cap_owners(views: list[Any], others_of: Callable[[list[Any]], Any]) -> tuple[list[Any], Any]:
    """Return the owner views (named owners first, then the unnamed) with the named ones past
    :data:`MAX_OWNERS` replaced by one view, ``others_of(those)``, and that view (None when
    every owner is named)."""
    named = [v for v in views if v.name]
    if len(named) <= MAX_OWNERS:  # thousands of owners: the first ones, then one row for the rest
        return views, None
    others = others_of(named[MAX_OWNERS:])
    return named[:MAX_OWNERS] + [others] + [v for v in views if not v.name], others


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
