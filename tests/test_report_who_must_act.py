"""A missing owner (``people.unowned``) is shown as who must act, never as a root cause.

The JSON keeps the link (``caused_by`` holds the people.unowned id, as DESIGN.md and the
chains ask); the HTML, Markdown and terminal outputs read it as whom the findings lack.
"""

from __future__ import annotations

import io
import re
from typing import Any

from browser.small import small_doc
from test_report_html import Page

from privdiag.output import print_summary
from privdiag.report.html import render_html
from privdiag.report.markdown import render_markdown
from privdiag.report.merge import merge
from privdiag.report.text import is_root_cause, missing_owners, root_causes, who_must_act


def _finding(fid: str, kind: str, severity: str, title: str, **more: Any) -> dict[str, Any]:
    """A finding of source web; ``feature`` (with purpose ads), ``events``, ``owner`` and
    ``caused_by`` when given."""
    location = {"source": "web"}
    if "feature" in more:
        location |= {"feature": more["feature"], "purpose": "ads"}
    return {
        "id": fid,
        "kind": kind,
        "area": "people" if kind.startswith("people") else "data",
        "severity": severity,
        "title": title,
        "location": location,
        "metrics": {"events": more["events"]} if "events" in more else {},
        "owner": more.get("owner"),
        "caused_by": more.get("caused_by", []),
        "recommendation": "",
        "evidence": {},
    }


def unowned_source_doc() -> dict[str, Any]:
    """Source web has no owner; its violation (no owner) and pre-consent finding (owned by
    paid-media) name the missing owner in caused_by; a consent gap is caused by the
    violation."""
    doc = small_doc()
    doc["findings"] = [
        _finding("u1", "people.unowned", "low", "Source web has no owner"),
        _finding("v1", "consent.violation", "high", "gclid sent without ads consent",
                 feature="gclid", events=1500, caused_by=["u1"]),
        _finding("p1", "consent.pre_consent", "medium", "fbclid sent before the banner answer",
                 feature="fbclid", events=300, owner="paid-media", caused_by=["u1"]),
        _finding("g1", "sparsity.consent_gap", "medium", "gclid missing without ads consent",
                 feature="gclid", events=900, caused_by=["v1"]),
    ]  # fmt: skip
    doc["summary"] = {"findings": 4, "by_severity": {"high": 1, "medium": 2, "low": 1}}
    return doc


def test_a_missing_owner_is_no_root_cause_and_its_findings_can_be():
    """u1 is named only as a missing owner: the violation v1, which the gap g1 names, is the
    root cause; the pre-consent p1 explains nothing and is none."""
    findings = unowned_source_doc()["findings"]
    assert root_causes(findings) == {"v1"}
    assert [is_root_cause(f, findings) for f in findings] == [False, True, False, False]


def test_who_must_act_sentences():
    gap = {"id": "u", "kind": "people.unowned", "location": {"source": "web"}}
    owned, free = {"owner": "ads"}, {"owner": None}
    assert (
        who_must_act(gap, [free]) == "Nobody owns source web: this finding has no one to act on it."
    )
    named = {"owner": None, "kind": "consent.violation", "title": "gclid sent without consent"}
    assert who_must_act(gap, [named]) == (
        "Nobody owns source web: “gclid sent without consent” has no one to act on it."
    )
    assert who_must_act(gap, [named | {"owner": "ads"}]) == (
        "Nobody owns source web: “gclid sent without consent” has an owner of its own, but no "
        "one answers for the source itself."
    )
    assert who_must_act(gap, [{"owner": None, "kind": "consent.violation"}]) == (
        "Nobody owns source web: “consent.violation” has no one to act on it."
    )
    assert who_must_act(gap, [free] * 1200) == (
        "Nobody owns source web: these 1,200 consent findings have no one to act on them."
    )
    assert who_must_act(gap, [owned, free]) == (
        "Nobody owns source web: of its 2 consent findings, 1 has no one to act on it "
        "(the other has an owner of its own)."
    )
    assert who_must_act(gap, [owned, owned]) == (
        "Nobody owns source web: 2 consent findings there have owners of their own, but no one "
        "answers for the source itself."
    )
    assert missing_owners(unowned_source_doc()["findings"]) == [
        "Nobody owns source web: of its 2 consent findings, 1 has no one to act on it "
        "(the other has an owner of its own)."
    ]


def _section(html: str, start: str, end: str) -> str:
    i = html.index(start)
    return " ".join(" ".join(Page(html[i : html.index(end, i)]).text).split())


def test_html_lists_the_missing_owner_under_who_must_act_not_among_the_root_causes():
    html = render_html(merge([unowned_source_doc()]))
    summary = _section(html, '<section id="summary"', "</section>")
    assert summary.startswith(
        "Summary Top finding: gclid sent without ads consent (high; source=web, feature=gclid, "
        "purpose=ads; 1,500 events). Nobody owns source web."
    )
    top = summary.split("Top root causes ", 1)[1].split(" Who must act ", 1)[0]
    # p1 explains nothing and nothing explains it: it is where to start too (trial 26)
    assert top == (
        "high gclid sent without ads consent (explains 1) "
        "medium fbclid sent before the banner answer · paid-media"
    )
    assert (
        "Who must act low Nobody owns source web: of its 2 consent findings, 1 has no one"
        in summary
    )

    v1 = _section(html, 'id="f-v1"', "</article>")
    assert "root cause" in v1 and "Caused by" not in v1
    assert "Who must act: nobody is named: Source web has no owner ." in v1
    p1 = _section(html, 'id="f-p1"', "</article>")
    assert "Who must act: paid-media, though Source web has no owner ." in p1
    u1 = _section(html, 'id="f-u1"', "</article>")
    assert "root cause" not in u1 and "Explains" not in u1 and "missing owner" in u1
    assert re.search(r"The findings concerned: gclid sent .*; fbclid sent", u1)
    g1 = _section(html, 'id="f-g1"', "</article>")
    assert "Caused by: gclid sent without ads consent" in g1 and "no owner Who" not in g1


def test_the_headline_names_the_top_findings_own_owner_beside_the_missing_one():
    """Found by trial29: the generated shop's headline read "Top finding: advertising_id is
    collected on page_view events where ads consent was denied (...). Nobody owns source
    app.", as if no one were to act on it, while its card says "Who must act:
    mobile-platform, though Source app has no owner" and "Who must act" that only 1 of the
    source's 14 consent findings has no one. A top finding with an owner of its own names
    that owner first, as its card does."""
    doc = unowned_source_doc()
    doc["findings"][1]["owner"] = "paid-media"
    summary = _section(render_html(merge([doc])), '<section id="summary"', "</section>")
    assert summary.startswith(
        "Summary Top finding: gclid sent without ads consent (high; source=web, feature=gclid, "
        "purpose=ads; 1,500 events). Who must act: paid-media, though nobody owns source web. "
    )


MARKDOWN = """\
**privdiag**: 4 findings (1 high, 2 medium, 1 low); 1 root cause linked.

### Findings

_Root causes come first, each before the findings it explains._

| Severity | Finding | Kind | Location | Owner | Key figure |
|---|---|---|---|---|---|
| high | gclid sent without ads consent (root cause: explains 1) | consent.violation \
| source=web, feature=gclid, purpose=ads | no owner | 1,500 events |
| medium | gclid missing without ads consent | sparsity.consent_gap \
| source=web, feature=gclid, purpose=ads | no owner | 900 events |
| medium | fbclid sent before the banner answer | consent.pre_consent \
| source=web, feature=fbclid, purpose=ads | paid-media | 300 events |
| low | Source web has no owner (missing owner: see Who must act) | people.unowned | source=web \
| no owner | – |

### Owners

- paid-media: 1 (worst: medium)
  - medium: fbclid sent before the banner answer
- _no owner_: 3 (worst: high)
  - high: gclid sent without ads consent
  - medium: gclid missing without ads consent
  - low: Source web has no owner

### Who must act

- Nobody owns source web: of its 2 consent findings, 1 has no one to act on it (the other has \
an owner of its own).

_A missing owner is not a cause of these findings: it names what no team answers for._

_1 check(s) skipped; see the full report for the reasons._
"""


def test_markdown_tells_who_must_act_apart_from_the_root_causes():
    """The low missing owner is last, ranked by its own severity; it came first, above the
    high violation that names it in caused_by, until polish11."""
    assert render_markdown(merge([unowned_source_doc()])) == MARKDOWN


def test_terminal_summary_says_who_must_act():
    out = io.StringIO()
    print_summary(merge([unowned_source_doc()]), stream=out)
    text = " ".join(out.getvalue().split())
    assert (
        "who must act: Nobody owns source web: of its 2 consent findings, 1 has no one to act on "
        "it (the other has an owner of its own)."
    ) in text
    # the missing owner is not one of the top findings (a new user's trial read it as one)
    top = out.getvalue().split("top findings", 1)[1].split("who must act", 1)[0]
    assert "people.unowned" not in top and "consent.violation" in top


def test_the_json_link_is_kept():
    """caused_by is contract: the violation still names the missing owner there."""
    doc = merge([unowned_source_doc()])
    assert {f["id"]: f["caused_by"] for f in doc["findings"]}["v1"] == ["u1"]


def one_unowned_doc(title: str) -> dict[str, Any]:
    """Source web has no owner, and one finding of it (no owner either), titled ``title``."""
    doc = unowned_source_doc()
    doc["findings"] = doc["findings"][:2]
    doc["findings"][1]["title"] = title
    return doc


def test_markdown_and_terminal_name_the_one_finding_nobody_acts_on():
    """They said "this finding has no one to act on it", leaving the reader to guess which;
    they now name it by its title, as the HTML links it; a long title is cut to 100
    characters (99 and "…")."""
    doc = merge([one_unowned_doc("gclid sent without ads consent")])
    sentence = "Nobody owns source web: “gclid sent without ads consent” has no one to act on it."
    assert f"### Who must act\n\n- {sentence}\n" in render_markdown(doc)
    out = io.StringIO()
    print_summary(doc, stream=out)
    assert f"who must act: {sentence}" in " ".join(out.getvalue().split())

    long = merge([one_unowned_doc("x" * 5_000)])
    cut = f"Nobody owns source web: “{'x' * 99}…” has no one to act on it."
    assert f"- {cut}\n" in render_markdown(long)
    out = io.StringIO()
    print_summary(long, stream=out)
    assert cut in "".join(out.getvalue().split("\n"))


def test_html_names_the_one_finding_nobody_acts_on_in_its_sentence():
    """The summary's "Who must act" names it as the other outputs do, isolated in <bdi>."""
    html = render_html(merge([one_unowned_doc("gclid sent without ads consent")]))
    summary = html.split('id="who-must-act"')[1].split("</ul>")[0]
    assert (
        "Nobody owns source <bdi>web</bdi>: “<bdi>gclid sent without ads consent</bdi>” has no "
        "one to act on it."
    ) in summary


def test_html_who_must_act_line_has_a_space_before_its_link():
    """The line read "nobody is named:Source web has no owner" and "paid-media, thoughSource
    ...": the template's trimmed block tag ate the space before the link (trial10)."""
    html = render_html(merge([unowned_source_doc()]))
    assert 'nobody is named: <a href="#f-u1">' in html
    assert ', though <a href="#f-u1">' in html
