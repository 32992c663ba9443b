"""The typed context the HTML templates render from, built from a merged result document."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from privdiag.findings import AREAS, SEVERITIES, severity_rank
from privdiag.report import bounds, charts
from privdiag.report.changes import (
    TAGGED_CHANGES,
    change_reason,
    changes_line,
    failing_the_run,
    gone_heading,
    gone_text,
)
from privdiag.report.evidence import TableView, evidence_views, listed
from privdiag.report.facts import metric_items
from privdiag.report.junit import owning_check
from privdiag.report.links import (
    LinkView,
    anchor,
    cause_chain,
    causes,
    effects_of,
    gap_links,
    link,
    more_note,
)
from privdiag.report.overview import overview_blurb, overview_views
from privdiag.report.text import (
    OWNERSHIP_GAP,
    cut,
    fmt_metric,
    fmt_number,
    fmt_value,
    gap_subject,
    isolated,
    key_figure,
    location_items,
    location_text,
    ownership_gaps,
    root_causes,
    share_of,
    true_causes,
    who_must_act,
)

MAX_LISTED = 50  # findings listed by name per owner, and missing owners in the summary
MAX_FAILING = 10  # findings that fail an audit run, listed under "What changed"
AREA_TITLES = {"data": "Data", "model": "Model", "people": "People"}
AREA_BLURBS = {
    "data": "What the event exports and consent records show.",
    "model": "How the models behave when consent removes inputs.",
    "people": "Who decides and owns consent, and how users respond.",
}


@dataclass
class FindingView:
    id: str
    anchor: str
    kind: str
    area: str
    severity: str
    title: str
    location: list[tuple[str, str]]
    metrics: list[tuple[str, str]]
    owner: str | None
    recommendation: str
    is_root_cause: bool
    causes: list[LinkView] = field(default_factory=list)
    effects: list[LinkView] = field(default_factory=list)
    charts: list[charts.Chart] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    charts_omitted: bool = False
    share_caption: str = ""  # the share and what it is a share of, when the kind says
    label: str = ""  # the title cut short, for the summary's lists (bounds.short)
    # the ownership gaps (people.unowned) linked to this finding: who should act on it
    unowned_by: list[LinkView] = field(default_factory=list)
    # for an ownership gap: whom it leaves without an owner, as a sentence and as links
    who_must_act: str = ""
    left_to_nobody: list[LinkView] = field(default_factory=list)
    shown: bool = True  # False: over the page's budget, counted in the summary only
    texts_cut: bool = False  # True: its section was too large, its long texts are cut
    change: str = ""  # an audit's "new", "worse" or "better" against the run it compared with
    change_reason: str = ""  # the figure that made it worse or better
    # in the summary's top list, for a root cause less severe than what it explains: what
    # that is ("explains 3 high findings")
    explains: str = ""


# How many UTF-8 bytes a finding's charts and tables take once rendered.
Measure = Callable[[list[charts.Chart], list[TableView]], int]
# How many UTF-8 bytes a finding's section takes once rendered (without charts and tables).
MeasureFinding = Callable[[FindingView], int]


@dataclass
class AreaView:
    key: str
    title: str
    blurb: str
    findings: list[FindingView]  # those shown in full
    total: int = 0  # the area's findings, shown or not


@dataclass
class OwnerView:
    name: str  # "" for the findings nobody owns
    count: int
    worst: str
    anchor: str = ""
    findings: list[LinkView] = field(default_factory=list)  # at most MAX_LISTED
    more: int = 0  # the owner's findings not listed


@dataclass
class SummaryView:
    total: int
    by_severity: list[tuple[str, int]]
    headline: str
    top_causes: list[FindingView]
    owners: list[OwnerView]  # named owners, then the unowned findings (name "")
    unowned: int
    # findings whose evidence the report leaves out (see EVIDENCE_BUDGET), in rank order
    evidence_left_out: list[FindingView] = field(default_factory=list)  # the first few
    evidence_left_out_count: int = 0
    # the ownership gaps that findings name (who must act on them), in rank order
    ownership: list[FindingView] = field(default_factory=list)
    # the findings over the page's budget, counted (None: every finding is shown)
    left_out: bounds.LeftOutView | None = None
    texts_cut: int = 0  # the findings on the page shown with their long texts cut
    # an audit's comparison with an earlier run ("" otherwise), and the findings gone since
    changes: str = ""
    resolved: list[LinkView] = field(default_factory=list)  # at most MAX_LISTED
    resolved_more: int = 0
    resolved_heading: str = "Resolved"  # or "Superseded", "Resolved or superseded"
    # what makes an audit run exit 1: a lead-in and the findings (at most MAX_FAILING)
    failing_lead: str = ""
    # (its change, link, the figure that made it worse)
    failing: list[tuple[str, LinkView, str]] = field(default_factory=list)
    failing_more: int = 0


@dataclass
class InputView:
    path: str
    role: str
    format: str
    rows: str
    records: str  # a consent input's records ("–" for others)
    sha256: str


@dataclass
class CheckView:
    name: str
    status: str
    reason: str
    findings: int


@dataclass
class ReportContext:
    title: str
    generated_at: str
    started_at: str
    version: str
    commands: list[str]
    min_group_size: int
    summary: SummaryView
    areas: list[AreaView]
    inputs: list[InputView]
    checks: list[CheckView]
    overview_charts: list[charts.Chart]
    overview_tables: list[TableView]
    overview_blurb: str = ""  # what the Overview shows (evidence.overview_blurb)
    # the JSON result files hold the findings in this order (False: privdiag report re-ranked
    # or merged them, and the jq line names the JSON it writes instead)
    json_in_order: bool = True
    # the runs' notes on their inputs (evidence.notes), the first MAX_NOTES, and how many more
    notes: list[str] = field(default_factory=list)
    notes_more: int = 0


def finding_view(
    f: dict[str, Any],
    effects: dict[str, list[str]],
    roots: set[str],
    by_id: dict[str, dict[str, Any]],
    k: int,
) -> FindingView:
    """Return the view of one finding: formatted fields, links to causes and effects, charts.

    ``effects`` is :func:`effects_of` the report's findings, ``roots`` their
    :func:`~privdiag.report.text.root_causes`.
    """
    metrics = f.get("metrics") or {}
    view = FindingView(
        id=str(f["id"]),
        anchor=anchor(f["id"]),
        kind=str(f["kind"]),
        area=str(f.get("area") or "data"),
        severity=f["severity"],
        title=fmt_value(f.get("title") or f["kind"]),
        location=location_items(f.get("location") or {}),
        metrics=metric_items(metrics, k, str(f["kind"])),
        owner=fmt_value(f["owner"]) if f.get("owner") else None,
        recommendation=fmt_value(f.get("recommendation") or ""),
        is_root_cause=f["id"] in roots,
        causes=causes(f, by_id),
        effects=[link(g, by_id) for g in effects.get(f["id"], [])],
        change=f["change"] if f.get("change") in TAGGED_CHANGES else "",
        change_reason=change_reason(f),
    )
    if view.kind == OWNERSHIP_GAP and view.effects:
        left = [by_id[g] for g in effects.get(f["id"], []) if g in by_id]
        view.who_must_act = who_must_act(f, left, isolate=True)
        view.left_to_nobody, view.effects = view.effects, []
    view.unowned_by = bounds.capped_links(gap_links(f, by_id), more_note)
    view.effects = bounds.capped_links(view.effects, more_note)
    view.left_to_nobody = bounds.capped_links(view.left_to_nobody, more_note)
    view.label = bounds.short(view.title)
    meaning = share_of(view.kind, f.get("location") or {}, metrics, isolate=True)
    if meaning and metrics.get("share") is not None:
        view.share_caption = f"{fmt_metric('share', metrics['share'], k)} {meaning}"
    return view


def _owners(findings: list[dict[str, Any]], shown: set[str] | None = None) -> list[OwnerView]:
    """Return one view per owner, worst first, each listing its first :data:`MAX_LISTED`
    findings on the page (``shown``; None: all) in rank order; the findings nobody owns come
    last, under the name ""."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        grouped.setdefault(fmt_value(f["owner"]) if f.get("owner") else "", []).append(f)
    by_id = {f["id"]: f for f in findings}
    views = []
    for name, owned in grouped.items():
        listed = [f["id"] for f in owned if shown is None or f["id"] in shown][:MAX_LISTED]
        worst = SEVERITIES[min(severity_rank(f["severity"]) for f in owned)]
        views.append(
            OwnerView(
                name,
                len(owned),
                worst,
                findings=[link(fid, by_id) for fid in listed],
                more=len(owned) - len(listed),
            )
        )
    views.sort(key=lambda v: (v.name == "", severity_rank(v.worst), -v.count, v.name))
    views, others = bounds.cap_owners(views, _other_owners)
    for n, view in enumerate(views):
        view.name = bounds.short(view.name)
        if view is not others:  # the owners counted together have no section of their own
            view.anchor = f"owner-{n + 1}"
    return views


def _other_owners(rest: list[OwnerView]) -> OwnerView:
    """The row that counts the owners past ``bounds.MAX_OWNERS`` together."""
    worst = SEVERITIES[min(severity_rank(v.worst) for v in rest)]
    return OwnerView(f"{fmt_number(len(rest))} other owners", sum(v.count for v in rest), worst)


def _most_severe_first(findings: list[dict[str, Any]], starts: list[FindingView]) -> list[Any]:
    """``starts`` (in rank order) led by the first of the most severe of them, each of the
    first five that is a root cause less severe than what it explains saying so
    (:attr:`FindingView.explains`). The rank puts a low root cause of a high finding first
    (trial 26: "Nobody decided which consent item_category needs" above a high leak that
    explains nothing), and the summary's reader takes the first line for what to do first;
    its place after that is kept, as the root of high findings."""
    most = min(severity_rank(v.severity) for v in starts)
    lead = next(v for v in starts if severity_rank(v.severity) == most)
    ordered = [lead, *(v for v in starts if v is not lead)]
    at = {str(f["id"]): n for n, f in enumerate(findings)}
    effects = effects_of(findings)
    for view in ordered[:5]:
        view.explains = _explains(findings[at[view.id]], effects, findings, at)
    return ordered


def _explains(
    root: dict[str, Any],
    effects: dict[Any, list[Any]],
    findings: list[dict[str, Any]],
    at: dict[str, int],
) -> str:
    """What a root cause less severe than some finding it explains (directly or not)
    explains, said by the most severe of them: "explains 1 high finding", "explains 4
    findings, 3 of them high"; "" for any other finding."""
    seen, todo = {root["id"]}, deque(effects.get(root["id"], []))
    while todo:
        one = todo.popleft()
        if one not in seen:
            seen.add(one)
            todo.extend(effects.get(one, []))
    led = [severity_rank(findings[at[str(g)]]["severity"]) for g in seen if str(g) in at]
    worst = min(led)
    if worst >= severity_rank(root["severity"]):
        return ""
    severe, sev, all_led = led.count(worst), SEVERITIES[worst], len(led) - 1
    if severe == all_led:
        return f"explains {fmt_number(severe)} {sev} finding{'' if severe == 1 else 's'}"
    return f"explains {fmt_number(all_led)} findings, {fmt_number(severe)} of them {sev}"


def _headline(
    findings: list[dict[str, Any]],
    by_id: dict[str, dict[str, Any]],
    k: int,
    top: list[FindingView] | None = None,
) -> str:
    """Return one sentence: the top finding (the first of the summary's ``top`` list of the
    most severe of all, else the first of the most severe in rank: a root cause before the
    symptoms it explains, so not always the largest breach), its size and the root cause it
    traces to, and where it names a missing owner (``people.unowned``), that one, after its
    own owner when it has one ("Who must act: mobile-platform, though nobody owns source
    app", as its card says); its titles, owner and names :func:`isolated` (the template shows
    them in ``<bdi>``)."""
    if not findings:
        return "No problem found in the checks that ran."
    worst = min(findings, key=lambda f: severity_rank(f["severity"]))
    first = next((v for v in top or [] if v.severity == worst["severity"]), None)
    worst = by_id.get(first.id, worst) if first is not None else worst
    # its names cut as the summary's lists cut them: the headline is on the page whatever fits
    metrics, location = _shortened(worst.get("metrics")), _shortened(worst.get("location"))
    figure = key_figure(metrics, k, worst["kind"], location, isolate=True)
    where = location_text(location, isolate=True)
    text = (
        f"Top finding: {isolated(bounds.short(fmt_value(worst.get('title') or worst['kind'])))} "
        f"({worst['severity']}; {where}{'; ' + figure if figure else ''})."
    )
    gaps = ownership_gaps(findings)
    roots = [c for c in cause_chain(worst, by_id) if c in by_id and not true_causes(by_id[c], gaps)]
    if roots:
        root = by_id[roots[0]]
        owner = fmt_value(root["owner"]) if root.get("owner") else "no owner"
        title = bounds.short(fmt_value(root.get("title") or root["kind"]))
        owner = isolated(bounds.short(owner)) if root.get("owner") else owner
        text += f" Root cause: {isolated(title)} ({owner})."
    named_gaps = [by_id[c] for c in worst.get("caused_by") or [] if c in gaps and c in by_id]
    if named_gaps:
        subject = gap_subject(named_gaps[0], isolate=True)
        if worst.get("owner"):  # as its card says: someone is to act on it, the source aside
            owner = isolated(bounds.short(fmt_value(worst["owner"])))
            text += f" Who must act: {owner}, though nobody owns {subject}."
        else:
            text += f" Nobody owns {subject}."
    return text


def _shortened(values: dict[str, Any] | None) -> dict[str, Any]:
    """``values`` (a location or metrics) with each text cut to ``bounds.MAX_LABEL``."""
    return {k: bounds.short(v) if isinstance(v, str) else v for k, v in (values or {}).items()}


def summary_view(
    findings: list[dict[str, Any]],
    views: dict[str, FindingView],
    k: int,
    by_id: dict[str, dict[str, Any]],
    shown: set[str] | None = None,
) -> SummaryView:
    """Return the one-minute summary: counts, the top root causes, the ownership gaps and the
    owners; ``shown``: the findings on the page (None: all)."""
    counts = [(s, sum(1 for f in findings if f["severity"] == s)) for s in SEVERITIES]
    # where to start: in rank order, the findings that no other finding of the result
    # explains, root causes and findings standing alone; an ownership gap is listed under its
    # own heading. Root causes alone left out trial 26's high consent.violation (search_term
    # sent with analytics denied), which explains nothing, below a low root cause and two
    # medium ones: the reader was sent to classify a feature before stopping a leak.
    ownership = ownership_gaps(findings)
    starts = [
        views[f["id"]]
        for f in findings
        if not views[f["id"]].who_must_act
        and not any(c in by_id and c != f["id"] for c in true_causes(f, ownership))
    ]
    firsts = [views[f["id"]] for f in findings if not views[f["id"]].who_must_act]
    gaps = [views[f["id"]] for f in findings if views[f["id"]].who_must_act]
    top = _most_severe_first(findings, starts)[:5] if starts else firsts[:5]
    return SummaryView(
        len(findings),
        [c for c in counts if c[1]],
        _headline(findings, by_id, k, top),
        top,  # findings that only explain each other: the first ranked
        _owners(findings, shown),
        sum(1 for f in findings if not f.get("owner")),
        ownership=gaps[:MAX_LISTED],
        left_out=bounds.left_out_view(findings, shown) if shown is not None else None,
    )


def _check_views(doc: dict[str, Any]) -> list[CheckView]:
    names = [c["name"] for c in doc.get("checks") or []]
    counts = dict.fromkeys(names, 0)
    for f in doc["findings"]:
        owner = owning_check(f["kind"], names, (f.get("location") or {}).get("model"))
        if owner is not None:
            counts[owner] += 1
    return [
        CheckView(
            fmt_value(c["name"]),
            c.get("status", "ran"),
            fmt_value(c.get("reason", "")),
            counts[c["name"]],
        )
        for c in doc.get("checks") or []
    ]


#: Notes on the run (its inputs and checks) the report shows, each cut to NOTE_CHARS
#: characters; the JSON result holds them all.
MAX_NOTES, NOTE_CHARS = 30, 600


def _notes(doc: dict[str, Any]) -> tuple[list[str], int]:
    """The notes of the runs a report shows (duplicate placeholder ids, TC strings read in
    part, events left out, ...): they tell how far the findings can be trusted, so a reader of
    the page alone sees them too. The first :data:`MAX_NOTES`, and how many more."""
    raw = (doc.get("evidence") or {}).get("notes")
    notes = list(dict.fromkeys(cut(fmt_value(n), NOTE_CHARS) for n in listed(raw) if n))
    return notes[:MAX_NOTES], max(0, len(notes) - MAX_NOTES)


def _input_views(doc: dict[str, Any]) -> list[InputView]:
    return [
        InputView(
            fmt_value(i.get("path", "")),
            fmt_value(i.get("role", "events")),
            fmt_value(i.get("format", "")),
            fmt_number(i["rows"]) if isinstance(i.get("rows"), int) else "–",
            fmt_number(i["records"]) if isinstance(i.get("records"), int) else "–",
            str(i.get("sha256") or "")[:12],
        )
        for i in doc.get("inputs") or []
    ]


def build_context(
    doc: dict[str, Any],
    *,
    title: str | None = None,
    min_group_size: int = 5,
    measure: Measure | None = None,
    measure_finding: MeasureFinding | None = None,
) -> ReportContext:
    """Return the context of the HTML report for one merged document (findings ranked).

    With ``measure``, the findings' evidence is kept within ``bounds.EVIDENCE_BUDGET``; with
    ``measure_finding``, the findings shown in full within ``bounds.FINDINGS_BUDGET`` (the
    others are counted in the summary)."""
    findings = doc["findings"]
    by_id = {f["id"]: f for f in findings}
    effects, roots = effects_of(findings), root_causes(findings)
    views = {f["id"]: finding_view(f, effects, roots, by_id, min_group_size) for f in findings}
    ordered = [views[f["id"]] for f in findings]

    def evidence_of(evidence: Any) -> tuple[list[charts.Chart], list[TableView]]:
        return evidence_views(evidence, min_group_size)

    # what the page shows within its budgets: the findings, and which of them with evidence
    shown, left_out = bounds.fit_page(findings, views, measure_finding, measure, evidence_of)
    summary = summary_view(findings, views, min_group_size, by_id, shown)
    bounds.list_evidence_left_out(summary, [views[fid] for fid in left_out])
    summary.texts_cut = sum(1 for v in ordered if v.shown and v.texts_cut)
    summary.changes = changes_line(doc)
    gone = [
        LinkView(None, bounds.short(fmt_value(gone_text(r))), r["severity"])
        for r in doc.get("resolved") or []
        if isinstance(r, dict) and r.get("severity") in SEVERITIES
    ]
    summary.resolved, summary.resolved_more = gone[:MAX_LISTED], max(0, len(gone) - MAX_LISTED)
    summary.resolved_heading = gone_heading(doc)
    summary.failing_lead, fails = failing_the_run(doc)
    summary.failing = [
        (
            word,
            LinkView(
                views[f["id"]].anchor if views[f["id"]].shown else None,
                views[f["id"]].label or views[f["id"]].title,
                f["severity"],
                note="" if views[f["id"]].shown else " (not on this page)",
            ),
            change_reason(f),
        )
        for word, f in fails[:MAX_FAILING]
    ]
    summary.failing_more = max(0, len(fails) - MAX_FAILING)

    areas = [
        AreaView(
            a,
            AREA_TITLES[a],
            AREA_BLURBS[a],
            [v for v in ordered if v.area == a and v.shown],
            sum(1 for v in ordered if v.area == a),
        )
        for a in AREAS
    ]
    others = [v for v in ordered if v.area not in AREAS]
    if others:
        shown_others = [v for v in others if v.shown]
        areas.append(
            AreaView("other", "Other", "Findings of other kinds.", shown_others, len(others))
        )
    overview_charts, overview_tables = overview_views(doc.get("evidence"), min_group_size)
    commands = [str(c) for c in doc.get("commands") or [doc.get("command", "")]]
    notes, notes_more = _notes(doc)
    return ReportContext(
        title=title or f"privdiag report: {', '.join(commands)}",
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        started_at=fmt_value(doc.get("started_at") or ""),
        version=fmt_value(doc.get("version")),
        commands=commands,
        min_group_size=min_group_size,
        summary=summary,
        areas=[a for a in areas if a.total],
        inputs=_input_views(doc),
        checks=_check_views(doc),
        notes=notes,
        notes_more=notes_more,
        overview_charts=overview_charts,
        overview_tables=overview_tables,
        overview_blurb=overview_blurb(doc.get("evidence")),
    )
