"""The HTML report stays bounded for any number of findings (UTF-8 bytes, not characters)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser.chromium import Session, find_chromium
from test_report_html import Page

from privdiag.chains import link
from privdiag.findings import Finding, rank
from privdiag.report import write_html
from privdiag.report.bounds import EVIDENCE_BUDGET, FINDINGS_BUDGET, NOT_SHOWN, left_out_view
from privdiag.report.html import render_html
from privdiag.report.merge import merge
from privdiag.result import Result

PAGE_LIMIT = 1_000_000  # bytes: the page of any number of findings stays under this


def many_findings(n: int, *, title: str = "sent without ads consent", evidence: bool = True):
    """A ranked scan result of ``n`` violations over two sources, web with no owner (its
    ``people.unowned`` linked to the web findings), app's findings owned in turn by paid-media
    and growth; severities high, medium, low in turn."""
    found = [Finding("people.unowned", "low", "Source web has no owner", {"source": "web"}, {})]
    for i in range(n):
        source = ("web", "app")[i % 2]
        table = {
            "title": "By day",
            "columns": ["day", "events", "users"],
            "rows": [[f"2024-03-{d:02d}", d * 10, 9] for d in range(1, 29)],
        }
        found.append(
            Finding(
                "consent.violation",
                ("high", "medium", "low")[i % 3],
                f"f{i} {title}",
                {"source": source, "step": f"s{i % 7}", "feature": f"f{i}", "purpose": "ads"},
                {"events": 100 + i, "users": 20, "share": 0.1},
                "Gate the tag.",
                owner=None if source == "web" else ("paid-media", "growth")[i % 4 // 2],
                evidence={"table": table} if evidence else {},
            )
        )
    link(found)
    result = Result("scan", started_at="2024-03-20T10:00:00+00:00")
    result.findings = rank(found)
    return result.to_dict()


def articles(html: str) -> list[str]:
    return re.findall(r'<article class="finding.*?</article>', html, flags=re.S)


@pytest.fixture(scope="module")
def thousands(tmp_path_factory) -> tuple[dict, Path]:
    doc = many_findings(6_000)
    out = tmp_path_factory.mktemp("bounds") / "report.html"
    write_html([doc], out)
    return doc, out


def test_thousands_of_findings_give_a_bounded_page_that_says_what_is_left_out(thousands):
    """6,001 findings (18.8 MB for 8,400 before): the page keeps the first findings whole and
    counts the others, naming how many and where all of them are."""
    doc, out = thousands
    html = out.read_text(encoding="utf-8")
    assert out.stat().st_size < PAGE_LIMIT
    shown = len(articles(html))
    assert 100 < shown < 1_000
    text = " ".join(" ".join(Page(html).text).split())
    assert (
        f"it shows the first {shown} of the 6,001 findings in full, in rank order (root causes "
        f"first). The other {6_001 - shown:,} are counted below by kind, severity and owner. "
        "The JSON result lists all 6,001 in the same order"
    ) in text
    assert f"jq '.findings[{shown}:]' FILE.json prints those not shown here" in text
    assert re.search(rf"the charts and tables of [\d,]+ of the {shown} findings on this page", text)

    # the findings kept are the first ones of the JSON result, as the jq line says
    ids = re.findall(r'<article class="finding[^"]*" id="f-(\w+)"', html)
    assert set(ids) == {f["id"] for f in doc["findings"][:shown]}
    # the low people.unowned of web ranks among the lows, past the page (first until polish11)
    assert "Data (" + f"{shown} of 6,000)" in text


def test_every_link_on_a_bounded_page_resolves(thousands):
    _, out = thousands
    page = Page(out.read_text(encoding="utf-8"))
    hrefs = {a["href"][1:] for a in page.all("a") if (a.get("href") or "").startswith("#")}
    assert hrefs and hrefs <= page.ids()


def test_a_link_to_a_finding_not_on_the_page_says_so(monkeypatch):
    """With room for the first three findings of the sample, the root cause they show links
    to its effect that is not on the page as text that says where it is."""
    from browser.samples import sample_doc

    from privdiag.report import bounds

    doc = merge([sample_doc()])
    monkeypatch.setattr(bounds, "FINDINGS_BUDGET", 0)  # the first finding is shown all the same
    assert len(articles(render_html(doc))) == 1
    assert "it shows the first 1 of the 10 findings" in render_html(doc)

    monkeypatch.setattr(bounds, "keep_within", lambda views, size, budget: _first(views, 3))
    html = render_html(doc)
    page = Page(html)
    hrefs = {a["href"][1:] for a in page.all("a") if (a.get("href") or "").startswith("#")}
    assert hrefs <= page.ids()
    assert len(articles(html)) == 3
    assert NOT_SHOWN.strip() in " ".join(page.text)


def _first(views, n: int) -> set[str]:
    return {v.id for v in list(views)[:n]}


def five_high(**changes_of: dict) -> dict:
    """Five high findings ranked in their order (events 1000, 999, ...); ``changes_of``:
    ``{"1": {"title": ...}}`` changes the second one's keys."""
    from test_hostile8 import finding, result

    found = [finding(i, severity="high", metrics={"events": 1000 - i}) for i in range(5)]
    for i, changes in changes_of.items():
        found[int(i)].update(changes)
    return merge([result(found)])


@pytest.mark.parametrize("huge", ["0", "1"])
def test_one_finding_over_the_budget_is_shown_cut_and_the_others_still_show(huge):
    """A title of 200,000 three-byte characters (600 KB, over the 400 KB budget) in the first
    or second of five findings: the page showed none of them, or only the first; it now shows
    all five, that finding's title cut to 1,000 characters with a note saying so, and nothing
    is left out (5 sections of about 650 bytes and one of about 3,900)."""
    doc = five_high(**{huge: {"title": "漢" * 200_000}})
    html = render_html(doc)
    sections = articles(html)
    assert len(sections) == 5
    ids = [re.search(r'id="f-(\w+)"', a)[1] for a in sections]
    assert ids == [f["id"] for f in doc["findings"]]
    cut = sections[int(huge)]
    assert "漢" * 999 + "…" in cut and "漢" * 1_000 not in html
    assert "Long texts of this finding are cut to keep this report small" in cut
    assert f"under id <code>{doc['findings'][int(huge)]['id']}</code>" in cut
    assert sum("Long texts of this finding" in a for a in sections) == 1
    assert "Not every finding is on this page" not in html


def test_a_finding_over_a_tenth_of_the_budget_is_cut_too():
    """A title of 20,000 three-byte characters (60 KB: under the budget, over a tenth of it)
    took 15% of the page's room; it is cut as well, the other findings' texts are not."""
    html = render_html(five_high(**{"2": {"title": "漢" * 20_000}}))
    sections = articles(html)
    assert len(sections) == 5
    assert ["Long texts of this finding" in a for a in sections] == [0, 0, 1, 0, 0]
    assert "漢" * 999 + "…" in sections[2] and "漢" * 1_000 not in html


def test_a_cut_finding_takes_its_cut_size_and_later_findings_fit_after_it(monkeypatch):
    """Hand-checked: with a budget of the first four sections' sizes as the report measures them
    (the second one cut: about 4,100 bytes, the others about 870) plus 10 bytes, four of the
    five findings are shown, and the note says one of them is cut and counts the fifth; the jq
    line starts after the fourth."""
    from privdiag.report import bounds

    doc = five_high(**{"1": {"title": "漢" * 200_000}})
    sizes = measured_sizes(doc, monkeypatch)
    assert len(sizes) == 5 and sizes[1] > 4 * sizes[0] and sizes[0] < 1_000
    monkeypatch.setattr(bounds, "FINDINGS_BUDGET", sum(sizes[:4]) + 10)
    assert measured_sizes(doc, monkeypatch) == sizes  # cut the same way under this budget
    html = render_html(doc)
    assert len(articles(html)) == 4
    text = " ".join(" ".join(Page(html).text).split())
    assert (
        "it shows the first 4 of the 5 findings in full, in rank order (root causes first), "
        "though the long texts of 1 of them are cut. The other 1 are counted below"
    ) in text
    assert "jq '.findings[4:]' FILE.json" in text


def measured_sizes(doc: dict, monkeypatch) -> list[int]:
    """The sizes of the findings' sections as the report measures them for its budget (cut
    where the report cuts them), in rank order."""
    from privdiag.report import bounds

    sizes: list[int] = []
    keep_within = bounds.keep_within

    def spy(views, size, budget):
        views = list(views)
        kept = keep_within(views, size, budget)
        sizes.extend(size(v) for v in views)
        return kept

    with monkeypatch.context() as m:
        m.setattr(bounds, "keep_within", spy)
        render_html(doc)
    return sizes


def test_a_finding_with_thousands_of_metrics_is_shown_with_the_first_twenty():
    """An edited result: 30,000 metrics of one finding (about 1.5 MB rendered) kept every
    finding off the page; now its first 20 metrics and a row that counts the others."""
    metrics = {f"m{n:05d}": n for n in range(30_000)}
    html = render_html(five_high(**{"0": {"metrics": metrics}}))
    sections = articles(html)
    assert len(sections) == 5
    (edited,) = [a for a in sections if 'id="f-id000000"' in a]
    assert edited.count("<dt>") == 2 + 20 + 1  # where, owner, 20 metrics, the others
    assert '<dt>…</dt><dd class="n">29,980 more in the JSON result</dd>' in edited


def test_left_out_counts_by_kind_severity_and_owner():
    """Hand-checked: of five findings, the first two are shown; the three others are
    counted as consent.violation high 1, low 1; people.unowned low 1; no owner 2, ads 1."""
    findings = [
        {"id": "a", "kind": "consent.violation", "severity": "high", "owner": "ads"},
        {"id": "b", "kind": "people.unowned", "severity": "low", "owner": None},
        {"id": "c", "kind": "consent.violation", "severity": "high", "owner": None},
        {"id": "d", "kind": "people.unowned", "severity": "low", "owner": None},
        {"id": "e", "kind": "consent.violation", "severity": "low", "owner": "ads"},
    ]
    view = left_out_view(findings, {"a", "b"})
    assert (view.count, view.shown, view.severities) == (3, 2, ["high", "low"])
    assert view.by_kind == [("consent.violation", [1, 1], 2), ("people.unowned", [0, 1], 1)]
    assert view.by_owner == [("ads", 1, "low"), ("", 2, "high")]
    assert left_out_view(findings, {"a", "b", "c", "d", "e"}) is None


def test_the_findings_budget_counts_utf8_bytes_not_characters():
    """Titles of 3-byte characters: counted as characters, the findings' sections took about
    1.28 times their budget in bytes."""
    doc = merge([many_findings(2_000, title="漢字" * 150, evidence=False)])
    html = render_html(doc)
    sections = articles(html)
    assert sections and len(sections) < 2_001
    assert sum(len(a.encode("utf-8")) for a in sections) <= FINDINGS_BUDGET


def test_the_evidence_budget_counts_utf8_bytes_not_characters():
    doc = many_findings(300)
    for f in doc["findings"]:
        if f["evidence"]:
            f["evidence"]["table"]["rows"] = [["漢字" * 40, d, 9] for d in range(28)]
    html = render_html(merge([doc]))
    tables = re.findall(r'<figure class="table">.*?</figure>', html, flags=re.S)
    assert tables and "Evidence left out of this report" in html
    assert sum(len(t.encode("utf-8")) for t in tables) <= EVIDENCE_BUDGET


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed")
def test_a_browser_shows_the_bounded_page_and_what_is_left_out(thousands, tmp_path):
    """Chromium opens the page of 6,001 findings without error or request, and the reader sees
    the note on the findings left out near the top of the page."""
    _, out = thousands
    session = Session(find_chromium(), tmp_path / "profile")
    try:
        session.load(out.as_uri())
        found = session.call(
            "Runtime.evaluate",
            {
                "expression": "(() => { const n = document.getElementById('not-shown');"
                " const r = n.getBoundingClientRect();"
                " return [n.innerText, r.top, r.height, document.querySelectorAll("
                "'article.finding').length]; })()",
                "returnByValue": True,
            },
            page=True,
        )["result"]["value"]
        assert session.console_errors() == []
        assert session.requests() == [out.as_uri()]
    finally:
        session.close()
    note, top, height, shown = found
    assert note.startswith("Not every finding is on this page")
    assert f"the first {shown} of the 6,001 findings" in note
    assert "Findings not on this page, by owner" in note
    assert height > 0 and top < 2_000  # in the first screen of a 1280x2000 window


def test_a_finding_names_at_most_twelve_missing_owners():
    """An edited result: a finding linked to 30 ownership gaps listed all 30 under "Who must
    act"; now the first 12 and "and 18 more", as for the findings a root cause explains."""
    from test_hostile8 import finding, result

    gaps = [
        finding(100 + n, kind="people.unowned", title=f"Source s{n} has no owner", owner=None)
        for n in range(30)
    ]
    main = finding(0, caused_by=[g["id"] for g in gaps])
    html = render_html(merge([result([main, *gaps])]))
    (section,) = [a for a in articles(html) if 'id="f-id000000"' in a]
    act = section.split("<strong>Who must act:</strong>")[1].split("</p>")[0]
    assert act.count("<a href=") == 12 and "and 18 more" in act


def test_a_huge_feature_name_of_the_worst_finding_is_cut_in_the_headline():
    """A feature named by 900,000 characters (a column of the data) in the worst finding: the
    headline repeated it whole twice, in its place and in its share (a 5.4 MB page); there it
    is cut to 200 characters like the summary's other names."""
    worst = {"severity": "critical", "metrics": {"events": 10, "share": 0.5}}
    doc = five_high(**{"0": worst})
    doc["findings"][0]["location"]["feature"] = "漢" * 900_000
    html = render_html(doc)
    assert len(html.encode("utf-8")) < 100_000
    headline = html.split('<p class="headline">')[1].split("</p>")[0]
    assert headline.count("漢" * 199 + "…") == 2 and "漢" * 200 not in headline
