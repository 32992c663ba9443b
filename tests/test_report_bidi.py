"""Right-to-left names (Hebrew, Arabic) from the data are isolated in ``<bdi>`` where the HTML
report puts them inside a left-to-right sentence or line, so that the words, numbers and
punctuation beside them keep their places."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from browser.chromium import Session, find_chromium
from test_hostile8 import finding, result

from privdiag.report.html import render_html
from privdiag.report.merge import merge

SOURCE = "אתר"  # Hebrew: "site"
STEP = "קנייה"  # Hebrew: "purchase"
FEATURE = "معرف_النقر"  # Arabic: "click id"
OWNER = "צוות-שיווק"  # Hebrew: "marketing team"
RTL = re.compile("[\u0590-\u08ff]")
# Elements a name may fill on its own: a table cell, a code span.
OWN_BLOCKS = {"bdi", "td", "th", "code"}


def rtl_doc() -> dict:
    """Source SOURCE has no owner (its people.unowned names the first violation); a violation
    of FEATURE at STEP owned by OWNER with a share; one more without an owner."""
    location = {"source": SOURCE, "step": STEP, "feature": FEATURE, "purpose": "ads"}
    gap = finding(9, kind="people.unowned", severity="low", owner=None, location={"source": SOURCE})
    gap["title"] = f"Source {SOURCE} has no owner"
    owned = finding(
        0, severity="high", location=location, owner=OWNER, caused_by=[gap["id"]],
        title=f"{FEATURE} sent without ads consent", metrics={"events": 900, "share": 0.25},
    )  # fmt: skip
    other = finding(1, severity="medium", owner=None, caused_by=[gap["id"]])
    return merge([result([owned, other, gap])])


class Isolation(HTMLParser):
    """Each text of the page with a right-to-left letter, and the innermost element among
    :data:`OWN_BLOCKS` around it (None: it sits in a sentence of its own element)."""

    VOID = {"meta", "link", "br", "img", "input", "hr"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.found: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag) :]

    def handle_data(self, data):
        if RTL.search(data) and "title" not in self.stack:
            self.found.append((data, next((t for t in self.stack[::-1] if t in OWN_BLOCKS), None)))


def test_every_right_to_left_name_in_a_sentence_is_isolated():
    """Before: the names stood bare in the headline, the share, who must act, the finding's
    heading, place and owner, the links and the owners' headings (20 of the 21 texts with a
    right-to-left letter here); each is now in a ``<bdi>`` of its own, or alone in a table
    cell."""
    html = render_html(rtl_doc())
    texts = Isolation(html).found
    assert texts and all(inside is not None for _, inside in texts), [
        t for t, inside in texts if inside is None
    ]
    assert html.count("<bdi>") == html.count("</bdi>")

    # the sentences, as written: every name from the data in a <bdi> of its own
    assert (
        f"Share: 25.0% of the <bdi>{STEP}</bdi> events with <bdi>ads</bdi> denied and never "
        f"granted carry "
        f"<bdi>{FEATURE}</bdi>." in html
    )
    assert f"Nobody owns source <bdi>{SOURCE}</bdi>: of its 2 consent findings, 1 has" in html
    assert (
        f"Top finding: <bdi>{FEATURE} sent without ads consent</bdi> (high; source=<bdi>{SOURCE}"
        f"</bdi>, step=<bdi>{STEP}</bdi>, feature=<bdi>{FEATURE}</bdi>, purpose=<bdi>ads</bdi>; "
        "25.0% of the" in html
    )
    # the headline's last words: the top finding's owner, then the source nobody owns
    assert (
        f"Who must act: <bdi>{OWNER}</bdi>, though nobody owns source <bdi>{SOURCE}</bdi>.</p>"
        in html
    )
    assert f"<strong>Who must act:</strong> <bdi>{OWNER}</bdi>, though" in html
    assert f'<h3 id="owner-1"><bdi>{OWNER}</bdi> <span class="muted">(1)</span></h3>' in html
    assert f'<span class="kv">step <b><bdi>{STEP}</bdi></b></span>' in html


def test_a_link_to_a_finding_not_in_the_report_says_so_after_the_isolated_id():
    """The note on a missing cause follows the isolated label, outside it."""
    doc = rtl_doc()
    doc["findings"][0]["caused_by"] = ["אין"]
    html = render_html(doc)
    assert '<span class="muted"><bdi>אין</bdi> (not in this report)</span>' in html


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed")
def test_a_browser_keeps_the_count_after_a_right_to_left_owner(tmp_path):
    """Chromium lays out the owner's heading "צוות-שיווק (1)": the count "(1)" was drawn to the
    left of the name (the bidi algorithm took it into the name's right-to-left run); isolated,
    it stays on the right, where a left-to-right line puts it, as the colon after the source's
    name in "Nobody owns source אתר: ..." stays after it."""
    page = tmp_path / "rtl.html"
    page.write_text(render_html(rtl_doc()), encoding="utf-8")
    session = Session(find_chromium(), tmp_path / "profile")
    script = """(() => {
      // where a text's first occurrence of `what` (a name) and of `after` (what follows) are
      const rect = (node, what) => {
        const r = document.createRange(), at = node.textContent.indexOf(what);
        r.setStart(node, at); r.setEnd(node, at + what.length);
        return r.getBoundingClientRect();
      };
      const find = (root, what) => {
        const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        while (walk.nextNode()) {
          if (walk.currentNode.textContent.includes(what)) return walk.currentNode;
        }
      };
      const pair = (root, name, after) => {
        const n = rect(find(root, name), name), a = rect(find(root, after), after);
        return [n.left, n.right, a.left, a.right];
      };
      const heading = document.getElementById('owner-1');
      const act = document.getElementById('who-must-act');
      return [pair(heading, NAME, '(1)'), pair(act, SOURCE, ': of its')];
    })()""".replace("NAME", repr(OWNER)).replace("SOURCE", repr(SOURCE))
    try:
        session.load(page.as_uri())
        found = session.call(
            "Runtime.evaluate", {"expression": script, "returnByValue": True}, page=True
        )["result"]["value"]
        assert session.console_errors() == []
    finally:
        session.close()
    for name_left, name_right, after_left, _ in found:
        assert name_right <= after_left + 0.5, found
        assert name_left < name_right
