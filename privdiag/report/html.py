"""The HTML writer: one self-contained file, rendered from ``privdiag/templates``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
from markupsafe import Markup, escape

from privdiag.report import charts
from privdiag.report.bounds import utf8_size
from privdiag.report.context import FindingView, Measure, MeasureFinding, build_context
from privdiag.report.evidence import TableView
from privdiag.report.merge import merge
from privdiag.report.output import write_text
from privdiag.report.text import FSI, PDI, fmt_number

#: The policy in the page itself: nothing may load from anywhere, only inline styles and
#: ``data:`` images are allowed.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def environment() -> jinja2.Environment:
    """Return the template environment: autoescape on, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("privdiag", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_number
    env.filters["bdi"] = bdi
    env.filters["isolated"] = isolated_html
    env.tests["unbroken"] = unbroken
    return env


#: The longest word a table cell keeps whole: numbers, measures and the report's own words
#: are shorter; a longer run (a name from the data) may still break anywhere, so that it
#: never widens the page.
UNBROKEN_WORD = 30


def unbroken(text: Any) -> bool:
    """True when no word of ``text`` is longer than :data:`UNBROKEN_WORD` characters: a table
    cell that then breaks between its words only, never inside a number ("+0.052" over "8")
    or a heading ("unmaske" over "d") when a long sentence beside it crowds its column."""
    return all(len(word) <= UNBROKEN_WORD for word in str(text).split())


def bdi(name: Any) -> Markup:
    """Return a name from the data escaped in ``<bdi>``: set apart from the sentence around it,
    so that a right-to-left name does not reorder the words and numbers beside it."""
    return Markup("<bdi>{}</bdi>").format(name)


def isolated_html(text: str) -> Markup:
    """Return a sentence escaped, the names in it that ``text`` isolates (between FSI and PDI,
    see :func:`privdiag.report.text.isolated`) in ``<bdi>``; one cut off before its end is
    closed at the end."""
    html = str(escape(text))
    unclosed = html.count(FSI) - html.count(PDI)
    html = html.replace(FSI, "<bdi>").replace(PDI, "</bdi>")
    return Markup(html + "</bdi>" * max(0, unclosed))


def render_html(
    doc: dict[str, Any],
    *,
    title: str | None = None,
    min_group_size: int = 5,
    json_in_order: bool = True,
) -> str:
    """Return the HTML report of one merged result document; ``json_in_order`` False: the
    result files it came from hold the findings in another order."""
    env = environment()
    measure, measure_finding = _measures(env, min_group_size)
    ctx = build_context(
        doc,
        title=title,
        min_group_size=min_group_size,
        measure=measure,
        measure_finding=measure_finding,
    )
    ctx.json_in_order = json_in_order and len(ctx.commands) == 1
    return env.get_template("report.html").render(r=ctx, csp=CSP)


def _measures(env: jinja2.Environment, min_group_size: int) -> tuple[Measure, MeasureFinding]:
    """Return how many UTF-8 bytes charts and tables take, and a finding's section without
    them, rendered as the report renders them."""
    chart_template = env.get_template("_chart.html")
    table_template = env.get_template("_table.html")
    finding_template = env.get_template("_finding.html")
    r = SimpleNamespace(min_group_size=min_group_size)

    def measure(chart_list: list[charts.Chart], tables: list[TableView]) -> int:
        return sum(utf8_size(chart_template.render(chart=c)) for c in chart_list) + sum(
            utf8_size(table_template.render(table=t, r=r)) for t in tables
        )

    def measure_finding(view: FindingView) -> int:
        # as if its evidence were left out: the notice that says so is then on the page
        return utf8_size(finding_template.render(f=replace(view, charts_omitted=True), r=r))

    return measure, measure_finding


def write_html(
    docs: list[dict[str, Any]],
    path: Path,
    *,
    title: str | None = None,
    min_group_size: int = 5,
    json_in_order: bool = True,
) -> None:
    """Merge ``docs`` and write the HTML report to ``path`` atomically (``-``: stdout).

    Groups of fewer than ``min_group_size`` users are shown as ``<k``.
    """
    doc = merge(docs)
    in_order = json_in_order and len(docs) == 1
    in_order = in_order and [f["id"] for f in docs[0]["findings"]] == [
        f["id"] for f in doc["findings"]
    ]
    write_text(
        path,
        render_html(doc, title=title, min_group_size=min_group_size, json_in_order=in_order),
    )
