"""The Markdown ticket comment, checked against the exact expected text."""

from __future__ import annotations

from browser.samples import XSS, sample_doc
from browser.small import small_doc

from privdiag.report import write_markdown
from privdiag.report.markdown import md_escape, render_markdown
from privdiag.report.merge import merge

EXPECTED = """\
**privdiag**: 2 findings (1 high, 1 medium).

### Findings

| Severity | Finding | Kind | Location | Owner | Key figure |
|---|---|---|---|---|---|
| high | gclid sent \\| without ads consent | consent.violation | source=web, feature=gclid \
| paid-media | 1,500 events |
| medium | gclid has no owner (missing owner: see Who must act) | people.unowned | feature=gclid \
| no owner | 1 feature |

### Owners

- paid-media: 1 (worst: high)
  - high: gclid sent \\| without ads consent
- _no owner_: 1 (worst: medium)
  - medium: gclid has no owner

### Who must act

- Nobody owns feature gclid: “gclid sent \\| without ads consent” has an owner of its own, but \
no one answers for the feature itself.

_A missing owner is not a cause of these findings: it names what no team answers for._

_1 check(s) skipped; see the full report for the reasons._
"""


def test_small_document_gives_the_exact_comment(tmp_path):
    out = tmp_path / "summary.md"
    write_markdown([small_doc()], out)
    assert out.read_text() == EXPECTED


def test_top_limits_the_table_and_says_how_many_more():
    text = render_markdown(merge([sample_doc()]), top=3)
    assert "### Top 3 findings" in text
    assert "_7 more in the full report._" in text
    assert text.count("\n| ") == 4  # header + 3 rows


def test_titles_cannot_inject_markup():
    text = render_markdown(merge([sample_doc()]))
    assert "<script>" not in text
    assert md_escape(XSS).startswith("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert md_escape("a|b\nc *d* [x](y) snake_case _em_") == (
        "a\\|b c \\*d\\* \\[x\\](y) snake_case \\_em\\_"
    )


def test_small_user_counts_are_suppressed():
    doc = small_doc()
    doc["findings"][0]["metrics"] = {"users": 3}
    assert "| <5 users |".replace("<", "&lt;") in render_markdown(merge([doc]))


def test_no_findings():
    doc = small_doc()
    doc["findings"], doc["checks"] = [], []
    assert render_markdown(merge([doc])) == "**privdiag**: no findings.\n"


def test_owners_are_in_the_html_order_with_no_owner_last():
    from privdiag.report.context import _owners
    from privdiag.report.markdown import owners_lines

    findings = [
        {"id": "1", "kind": "k", "severity": "high", "title": "t1", "owner": None},
        {"id": "2", "kind": "k", "severity": "low", "title": "t2", "owner": "growth"},
        {"id": "3", "kind": "k", "severity": "medium", "title": "t3", "owner": "ads"},
    ]
    heads = owners_lines(findings, per_owner=0)
    assert heads == [
        "- ads: 1 (worst: medium)",
        "- growth: 1 (worst: low)",
        "- _no owner_: 1 (worst: high)",
    ]
    assert [v.name for v in _owners(findings)] == ["ads", "growth", ""]


def test_key_figure_of_a_model_change_says_which_way_it_went():
    """A signed change alone (``roc_auc -0.2255``) left the reader to work out that a fall of
    ROC AUC is worse and a fall of an error better: the figure says so."""
    from privdiag.report.text import key_figure

    rmse = {"measure": "rmse", "better": "lower", "change": 7.04, "drop": 2.352}
    auc = {"measure": "roc_auc", "better": "higher", "change": -0.225476, "drop": 0.225476}
    ece = {"measure": "ece", "better": "lower", "change": -0.000518}  # no drop: by direction
    assert key_figure(rmse) == "RMSE +7.04 (worse)"
    assert key_figure(auc) == "ROC AUC -0.2255 (worse)"
    assert key_figure(ece) == "calibration error -0.000518 (better)"
    assert key_figure({"events": 12, "users": 3}) == "12 events"


def test_a_fragile_features_loss_reads_as_its_measures_signed_change():
    """A regressor's fragile feature read "1.52 drop" where masking it raised RMSE by 151.8%
    (a ridge model of the generated shop's basket_value, RMSE 3.0012 unmasked and 7.5556
    with sessions_30d masked, by numpy): a drop, of what, which way?"""
    from privdiag.report.facts import metric_items
    from privdiag.report.text import key_figure

    rmse = {"drop": 1.517516, "drop_low": 1.455838, "drop_high": 1.575617, "rank": 1}
    rmse["unit"] = "relative RMSE increase"
    auc = {"drop": 0.077111, "drop_low": 0.061831, "drop_high": 0.091403, "rank": 1}
    auc["unit"] = "ROC AUC"
    assert key_figure(rmse) == "RMSE +151.8%"
    assert key_figure(auc) == "ROC AUC -0.07711"
    assert metric_items(rmse, 5, "model.fragile_feature")[:3] == [
        ("RMSE rise, relative to unmasked", "+151.8%"),
        ("RMSE rise, low end of the interval", "+145.6%"),
        ("RMSE rise, high end of the interval", "+157.6%"),
    ]
    assert metric_items(auc, 5, "model.fragile_feature")[0] == ("Drop", "0.0771")
    # a degradation's drop is its relative change then: both read as percentages
    degradation = {"measure": "rmse", "better": "lower", "unmasked": 3.0012}
    degradation |= {"scenario": 7.555569, "change": 4.554369, "change_relative": 1.517516}
    degradation |= {"drop": 1.517516, "drop_low": 1.455838, "drop_high": 1.575617}
    items = dict(metric_items(degradation, 5, "model.degradation"))
    assert items["Relative change"] == "+151.8%"
    assert items["RMSE rise, relative to unmasked"] == "+151.8%" and "Drop" not in items


def test_names_from_the_data_mention_nobody_and_link_nowhere():
    """A name such as ``@org/team`` (an owner, a source, an event name) notified that team
    when the comment was posted on GitHub, and ``www.x.com`` or ``https://x`` became links:
    a zero-width space after ``@``, the scheme or ``www`` breaks each, and reads the same."""
    zw = "\u200b"
    assert md_escape("owner @org/team") == f"owner @{zw}org/team"
    assert md_escape("see https://x.test/a and www.x.test") == (
        f"see https{zw}://x.test/a and www{zw}.x.test"
    )
    assert md_escape("a @ b, user@") == "a @ b, user@"  # nothing to mention
    # GitHub links a scheme after a digit or "_" and "www." after "_" (no word boundary
    # there), and turns #12, GH-12 and org/repo#12 into links to issues
    assert md_escape("_https://x.test a1https://x.test x_www.x.test") == (
        f"\\_https{zw}://x.test a1https{zw}://x.test x_www{zw}.x.test"
    )
    assert md_escape("see #12, GH-7 and org/repo#3") == (
        f"see #{zw}12, GH{zw}-7 and org/repo#{zw}3"
    )
    assert md_escape("step#a, AGH-1") == "step#a, AGH-1"  # no issue there
    doc = sample_doc()
    doc["findings"][0]["owner"] = "@org/security"
    text = render_markdown(merge([doc]))
    assert "@org" not in text and f"@{zw}org/security" in text


def test_a_first_audit_run_says_which_findings_it_did_not_compare():
    """The generated shop's first audit counted "68 new, 3 not compared" on the terminal and
    tagged 3 findings "not compared", while its summary said "every finding is new"."""
    from privdiag.report.changes import changes_line

    audit = {"run_id": "e4cd326e", "compared_with": None, "counts": {"new": 68, "hidden": 3}}
    assert changes_line({"audit": audit}) == (
        "First audit run of this history: there is no earlier run, so every finding is new, "
        "3 of them not compared (fewer users than the minimum group size) and counted as new."
    )
    audit["counts"] = {"new": 71}
    assert changes_line({"audit": audit}).endswith("so every finding is new.")
