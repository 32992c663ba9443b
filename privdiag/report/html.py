"""The HTML writer: one self-contained file, rendered from ``privdiag/templates``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from privdiag.report.context import build_context
from privdiag.report.merge import merge
from privdiag.report.output import write_text
from privdiag.report.text import fmt_number

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
    return env


def render_html(doc: dict[str, Any], *, title: str | None = None, min_group_size: int = 5) -> str:
    """Return the HTML report of one merged result document."""
    ctx = build_context(doc, title=title, min_group_size=min_group_size)
    return environment().get_template("report.html").render(r=ctx, csp=CSP)


def write_html(
    docs: list[dict[str, Any]], path: Path, *, title: str | None = None, min_group_size: int = 5
) -> None:
    """Merge ``docs`` and write the HTML report to ``path`` atomically (``-``: stdout).

    Groups of fewer than ``min_group_size`` users are shown as ``<k``.
    """
    write_text(path, render_html(merge(docs), title=title, min_group_size=min_group_size))
