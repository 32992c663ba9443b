"""The HTML report, parsed with the standard library's html.parser."""

from __future__ import annotations

import copy
import os
import re
from html.parser import HTMLParser

import jinja2
import pytest
from browser.samples import XSS, big_doc, sample_doc
from browser.small import small_doc

from privdiag.report import write_html
from privdiag.report.context import anchor
from privdiag.report.html import CSP, environment, render_html
from privdiag.report.merge import merge


class Page(HTMLParser):
    """Collects tags, attributes, ids, headings and text of a page; a name isolated in
    ``<bdi>`` reads as part of the text around it (``test_report_bidi.py`` checks the tags)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self.feed(html.replace("<bdi>", "").replace("</bdi>", ""))

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self.stack and self.stack[-1] in ("h1", "h2", "h3") and data.strip():
            self.headings.append((self.stack[-1], data.strip()))

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(merge([sample_doc()]))


@pytest.fixture(scope="module")
def page(html) -> Page:
    return Page(html)


def test_csp_forbids_outside_requests(page):
    metas = [a for a in page.all("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert [m["content"] for m in metas] == [CSP]
    assert CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def test_no_script_and_no_outside_url(page):
    assert not page.all("script")
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "xlink:href", "srcset", "poster", "data"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("#", "data:")), (tag, name, value)
    assert not page.all("iframe") and not page.all("object") and not page.all("form")


def test_every_finding_has_its_anchor_and_every_link_resolves(page):
    ids = page.ids()
    for f in sample_doc()["findings"]:
        assert anchor(f["id"]) in ids
    links = [a["href"] for a in page.all("a")]
    assert links and all(h[1:] in ids for h in links if h.startswith("#"))


def test_script_payload_is_escaped(html, page):
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert any(XSS in t for t in page.text)  # shown to the reader as plain text


def test_structure_headings_and_sections(page):
    assert [h for h in page.headings if h[0] == "h1"] == [("h1", "privdiag report: scan")]
    h2 = [t for lvl, t in page.headings if lvl == "h2"]
    assert h2 == ["Summary", "Data", "Model", "People", "By owner", "Overview", "Inputs", "Checks"]
    assert page.all("html")[0]["lang"] == "en"
    assert any(a.get("name") == "color-scheme" for a in page.all("meta"))


def test_findings_grouped_by_area_with_causes_before_symptoms(html):
    doc = merge([sample_doc()])
    by_title = {f["kind"]: f for f in doc["findings"]}
    pos = {k: html.index(f'id="{anchor(f["id"])}"') for k, f in by_title.items()}
    assert pos["identity.loss"] < pos["sparsity.consent_gap"]  # cause before symptom
    assert pos["sparsity.consent_gap"] < pos["model.degradation"]  # data before model
    assert pos["model.degradation"] < pos["people.unowned"]  # model before people
    assert html.index('id="summary"') < min(pos.values())


def test_chain_links_point_to_the_causes(html):
    doc = merge([sample_doc()])
    f = next(f for f in doc["findings"] if f["kind"] == "model.degradation")
    section = html[html.index(f'id="{anchor(f["id"])}"') :]
    section = section[: section.index("</article>")]
    gap = next(g for g in doc["findings"] if g["kind"] == "sparsity.consent_gap")
    loss = next(g for g in doc["findings"] if g["kind"] == "identity.loss")
    assert f'href="#{anchor(gap["id"])}"' in section  # direct cause
    assert f'href="#{anchor(loss["id"])}"' in section  # its cause, further down the chain


def test_every_chart_is_labelled(page, html):
    svgs = page.all("svg")
    assert len(svgs) == 8  # 2 heatmaps, histogram, 2 bars, curve, series, overview series
    assert all(s.get("role") == "img" and s.get("aria-label") for s in svgs)
    assert html.count("<title>") >= len(svgs) + 1 and html.count("<desc>") == len(svgs)
    for kind in ("histogram", "series", "bars", "curve", "heatmap"):
        assert f"chart-{kind}" in html


def test_small_groups_are_suppressed(page, html):
    cells = [t.strip() for t in page.text]
    assert "<5" in cells  # users cell of the add_to_cart row (3 users)
    assert ">3<" not in html.replace(">3</", "")  # the raw count never shows
    assert "row(s) of fewer than 5 users suppressed" in html


def test_min_group_size_is_configurable():
    html = render_html(merge([sample_doc()]), min_group_size=1000)
    assert "&lt;1000" in html and "840" not in html


def test_raw_identifiers_in_values_are_redacted():
    doc = small_doc()
    doc["findings"][0]["evidence"] = {
        "table": {
            "title": "t",
            "columns": ["who", "users"],
            "rows": [["jane@example.com 10.1.2.3", 50]],
        }
    }
    html = render_html(merge([doc]))
    assert "jane@example.com" not in html and "10.1.2.3" not in html
    assert "[redacted]" in html


def test_size_is_bounded_and_independent_of_the_data_size():
    small = render_html(merge([big_doc(1_000)]))
    large = render_html(merge([big_doc(100_000)]))
    assert len(large.encode()) < 500_000
    assert abs(len(large) - len(small)) < 2_000  # only the labels' digit counts differ
    assert "99,950 more rows not shown" in large
    assert "Every 250th of 100000 points drawn" in large


def test_many_findings_keep_evidence_only_within_the_budget():
    doc = sample_doc()
    base = doc["findings"][2]  # 8.7 KB of charts once rendered: 200 copies would take 1.7 MB
    for n in range(200):
        f = copy.deepcopy(base)
        f["id"] = f"extra{n}"
        doc["findings"].append(f)
    html = render_html(merge([doc]))
    assert len(html.encode()) < 1_000_000
    assert "Evidence left out of this report to keep it small" in html


def test_write_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    out = tmp_path / "report.html"
    write_html([small_doc()], out, title="Weekly consent check")
    first = out.read_text()
    assert "<title>Weekly consent check</title>" in first

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(RuntimeError):
        write_html([sample_doc()], out)
    assert out.read_text() == first
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temp file left


def test_dash_writes_to_stdout(capsys):
    write_html([small_doc()], "-")
    assert capsys.readouterr().out.startswith("<!doctype html>")


def test_templates_fail_on_undefined_names():
    env = environment()
    assert env.autoescape is True
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


def test_empty_document_renders():
    doc = small_doc()
    doc["findings"], doc["checks"], doc["inputs"] = [], [], []
    html = render_html(merge([doc]))
    assert "No problem found in the checks that ran." in html
    assert "No input recorded." in html


def test_suppressed_counts_read_as_below_k_and_bookkeeping_is_hidden():
    from privdiag.report.context import metric_items

    items = dict(
        metric_items({"users": None, "events": 12, "suppressed": ["users"], "min_group_size": 5}, 5)
    )
    assert items == {"Users": "<5", "Events": "12"}


def test_suppressed_events_and_share_read_hidden_not_below_k():
    """A conflict of 3 users over 200 events hides its events and share; "<5" would say
    fewer than 5 events, and a share "<5" means nothing. Its key figure (the Markdown table,
    the HTML summary) said "5 min_group_size"."""
    from privdiag.report.context import metric_items
    from privdiag.report.text import key_figure

    metrics = {
        "events": None,
        "users": None,
        "share": None,
        "suppressed": ["users", "events", "share"],
        "min_group_size": 5,
    }
    assert dict(metric_items(metrics, 5)) == {"Users": "<5", "Events": "hidden", "Share": "hidden"}
    assert key_figure(metrics) == "<5 users"
    assert key_figure({"suppressed": [], "min_group_size": 5}) == ""


def test_findings_grouped_by_owner_with_links(html):
    """Every finding is listed once under its owner (or "No owner"), in report order."""
    doc = merge([sample_doc()])
    section = html.split('<section id="owners"', 1)[1].split("</section>", 1)[0]
    page = Page(section)
    owners = {f.get("owner") or "No owner" for f in doc["findings"]}
    h3 = [t for lvl, t in page.headings if lvl == "h3"]
    assert {t.rsplit(" (", 1)[0] for t in h3} == owners and len(h3) == len(owners)
    assert h3[-1].startswith("No owner") == any(not f.get("owner") for f in doc["findings"])
    links = [a["href"][1:] for a in page.all("a")]
    assert sorted(links) == sorted(anchor(f["id"]) for f in doc["findings"])
    for owner in owners:  # each owner's findings keep the report's order
        mine = [anchor(f["id"]) for f in doc["findings"] if (f.get("owner") or "No owner") == owner]
        assert [x for x in links if x in mine] == mine


def test_only_the_start_of_a_chain_is_a_root_cause():
    """a causes b, b causes c: a is the root; b, in the middle, is not; without a, b is."""
    from privdiag.report.text import is_root_cause

    a = {"id": "a", "caused_by": []}
    b = {"id": "b", "caused_by": ["a"]}
    c = {"id": "c", "caused_by": ["b"]}
    chain = [a, b, c]
    assert [is_root_cause(f, chain) for f in chain] == [True, False, False]
    assert [is_root_cause(f, [b, c]) for f in (b, c)] == [True, False]


def test_every_share_reads_as_a_percentage_in_the_facts_and_tables():
    # A consent gap's card showed "share 100.0%" beside "missing_share_granted 0.0884" and
    # "missing_share_denied 1", and its table's "missing share" column 0.0884 and 1: the same
    # kind of number in two forms, 0.0884 easily read as under 1% when it is 8.8%.
    doc = small_doc()
    finding = doc["findings"][0]
    finding["metrics"] = {
        "events": 1158,
        "share": 1.0,
        "missing_share_granted": 0.0884,
        "missing_share_denied": 1.0,
        "share_granted": 0.25,
        "optin_after": 0.521,
        "gap": 0.912,  # a difference of shares, not a share: left as it is
    }
    finding["evidence"] = {
        "table": {
            "title": "Events and missing values by consent state",
            "columns": ["consent state", "events", "missing", "missing share"],
            "rows": [["granted", 1245, 110, 0.0884], ["denied", 1158, 1158, 1]],
        }
    }
    text = " ".join(" ".join(Page(render_html(merge([doc]))).text).split())
    for name, shown in [
        ("Share", "100.0%"),
        ("Missing share, consent granted", "8.8%"),
        ("Missing share, consent denied", "100.0%"),
        ("Share granted", "25.0%"),
        ("Opt-in rate after", "52.1%"),
        ("Gap (missing share, denied less granted)", "0.912"),
    ]:
        assert f"{name} {shown}" in text, name
    assert "granted 1,245 110 8.8%" in text
    assert "denied 1,158 1,158 100.0%" in text


def _table_rows(html: str, caption: str) -> list[list[str]]:
    """The header and body rows of the table captioned ``caption``, as cell texts."""
    table = html.split(f"<caption>{caption}</caption>", 1)[1].split("</table>", 1)[0]
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in table.split("<tr>")[1:]]


def test_the_model_measures_table_says_whether_the_model_got_worse_or_better():
    """The degradation table had a ``worse_by`` column: calibration error ``-0.000518`` there
    meant better, a double negative. The report shows the signed change, its interval, and
    says which way the model went; the JSON keeps its columns."""
    from privdiag.model import verdicts
    from privdiag.model.metrics import Comparison
    from privdiag.result import Result

    table = verdicts.measure_table(
        "propensity under deny_ads",
        {
            "roc_auc": Comparison("roc_auc", 0.8, 0.72, 0.08, 0.06, 0.1),
            "ece": Comparison("ece", 0.0097, 0.009182, -0.000518, -0.003, 0.002),
            "log_loss": Comparison("log_loss", 0.49, 0.45, -0.04, -0.05, -0.03),
            "accuracy": Comparison("accuracy", 0.76, 0.75, 0.01, -0.004, 0.02),
        },
    )
    main = Comparison("roc_auc", 0.8, 0.72, 0.08, 0.06, 0.1)
    finding = verdicts.degradation(
        "propensity", "deny_ads", "ads", main, table, 0.02, "data-science", ["ad_clicks_7d"]
    )
    result = Result("model-check", started_at="2026-12-05T08:00:00+00:00")
    result.findings = [finding]
    doc = result.to_dict()
    evidence = doc["findings"][0]["evidence"]["table"]
    assert evidence["columns"][3:6] == ["worse_by", "worse_by_low", "worse_by_high"]

    rows = _table_rows(render_html(merge([doc])), "propensity under deny_ads")
    assert rows == [
        ["measure", "unmasked", "scenario", "change", "95% interval of the change", "the model is"],
        ["ROC AUC (higher is better)", "0.8", "0.72", "-0.08", "-0.1 to -0.06", "worse"],
        [
            "calibration error (lower is better)",
            "0.0097",
            "0.00918",
            "-0.000518",
            "-0.003 to +0.002",
            "better, within noise",
        ],
        ["log loss (lower is better)", "0.49", "0.45", "-0.04", "-0.05 to -0.03", "better"],
        [
            "accuracy (higher is better)",
            "0.76",
            "0.75",
            "-0.01",
            "-0.02 to +0.004",
            "worse, within noise",
        ],
    ]


def test_finding_cards_label_their_metrics_and_say_plainly_when_events_have_no_user_id():
    """A consent gap's card showed ``GAP_CI``, ``Q_VALUE 3.03e-205``, ``FEATURE_CLASSIFIED
    false`` and ``USERS unknown (no user ids)`` on 1,116 events, which a privacy lead read as
    broken data. The metrics read as labels, a key without one as its words, and the users
    as what they are: events that carry no user id. The JSON keeps its keys."""
    doc = small_doc()
    finding = doc["findings"][0]
    finding["metrics"] = {
        "events": 1116,
        "users": None,
        "gap_ci": [0.856, 0.957],
        "q_value": 3.03e-205,
        "feature_classified": False,
        "days_to_fix_ks_p": 0.5,  # no label: its words
        "no_user_ids": ["users"],
    }
    card = render_html(merge([doc])).split(f'id="{anchor(finding["id"])}"')[1]
    facts = re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", card.split("</article>")[0])
    assert facts[2:] == [
        ("Events", "1,116"),
        (
            "Users",
            "not countable: these 1,116 events carry no user id (cookieless pings, for example)",
        ),
        ("Gap, confidence interval", "0.856 to 0.957"),
        ("Q-value (corrected for many tests)", "3.03e-205"),
        ("Feature mapped to purposes in the config", "no"),
        ("Days to fix KS p-value", "0.5"),
    ]
    from privdiag.report.text import metric_label

    assert metric_label("auc_drop") == "AUC drop" and metric_label("events") == "events"
    (merged,) = [f for f in merge([doc])["findings"] if f["id"] == finding["id"]]
    assert merged["metrics"] == finding["metrics"]


def test_drift_missing_shares_read_as_percentages():
    """A drift.feature card showed "Missing share, reference 0" and "Missing share, current
    0.593", and its table's missing_reference and missing_current columns the same fractions,
    where every other share reads as a percentage; the p-value stays a number."""
    from privdiag.model import verdicts
    from privdiag.model.drift import DriftRow
    from privdiag.result import Result

    row = DriftRow("ad_clicks_7d", "number", 2000, 2000, 0.0, 0.593, 0.0012, psi=5.68, js=0.624)
    row.drifted, row.reason = True, "missing share 0% -> 59%"
    finding = verdicts.drift_feature("propensity", "observed", row, ["ads"], "data-science")
    result = Result("model-check", started_at="2026-12-05T08:00:00+00:00")
    result.findings = [finding]
    doc = result.to_dict()
    assert doc["findings"][0]["metrics"]["missing_current"] == 0.593  # the JSON keeps fractions

    html = render_html(merge([doc]))
    text = " ".join(" ".join(Page(html).text).split())
    assert "Missing share, reference 0.0%" in text
    assert "Missing share, current 59.3%" in text
    assert "Missing share, p-value 0.0012" in text
    rows = _table_rows(html, "Drift of ad_clicks_7d")
    assert rows[1][:4] == ["ad_clicks_7d", "number", "0.0%", "59.3%"]
