"""GitHub Actions annotations and step summary: exact lines, no data values."""

from __future__ import annotations

import io

from browser.samples import sample_doc
from browser.small import small_doc

from privdiag.report import github_annotations


def run(docs, env, fail_on="high"):
    out = io.StringIO()
    github_annotations(docs, fail_on=fail_on, env=env, stream=out)
    return out.getvalue()


def test_nothing_outside_github_actions(tmp_path):
    summary = tmp_path / "summary.md"
    assert run([small_doc()], {"GITHUB_STEP_SUMMARY": str(summary)}) == ""
    assert not summary.exists()


def test_annotations_and_summary(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    # high first: the missing owner b2 names in caused_by is no cause (first until polish11)
    assert run([small_doc()], env) == (
        "::error title=privdiag consent.violation (high)::"
        "consent.violation at feature=gclid, source=web [b2]\n"
        "::warning title=privdiag people.unowned (medium)::people.unowned at feature=gclid [a1]\n"
    )
    assert summary.read_text() == (
        "earlier step\n"
        "## privdiag\n\n"
        "Findings: 2 (1 high, 1 medium); 1 at or above high.\n\n"
        "| Severity | Kind | Location | Owner |\n"
        "|---|---|---|---|\n"
        "| high | consent.violation | source=web, feature=gclid | paid-media |\n\n"
        "### Owners\n\n"
        "- paid-media: 1 (worst: high)\n"
        "- _no owner_: 1 (worst: medium)\n"
    )


def test_no_titles_or_metrics_leak(tmp_path):
    summary = tmp_path / "s.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    text = run([sample_doc()], env, fail_on="critical") + summary.read_text()
    doc = sample_doc()
    for f in doc["findings"]:
        assert f["title"] not in text
    for value in ("12,000", "12000", "5,400", "HYPERLINK", "script"):
        assert value not in text
    assert text.count("::error ") == 1 and "::notice" not in text


def test_workflow_command_characters_are_escaped():
    doc = small_doc()
    doc["findings"][0]["location"] = {"source": "a,b:c\nd%"}
    lines = run([doc], {"GITHUB_ACTIONS": "true"}).splitlines()
    assert "source=a,b:c%0Ad%25 [b2]" in lines[0]


def test_annotations_are_bounded_by_text_length():
    """A megabyte location value (a feature named by the data, an edited result) made a
    megabyte annotation line; each name or value is now cut to 100 characters and the message
    to 300, the id kept at its end."""
    doc = small_doc()
    (huge,) = [f for f in doc["findings"] if f["id"] == "b2"]
    huge["location"] = {"feature": "%" * 1_000_000, "source": "w" * 500}
    huge["kind"] = "k" * 200_000
    (line,) = [x for x in run([doc], {"GITHUB_ACTIONS": "true"}).splitlines() if "b2" in x]

    title, message = line.split("::")[1:]
    assert title == f"error title=privdiag {'k' * 99}… (high)"
    kind = "k" * 99 + "…"
    # 99 "%" and "…" before escaping: each "%" becomes "%25"
    feature = "%25" * 99 + "…"
    # before escaping: kind 100 + " at feature=" 12 + 100 + ", source=" 9 = 221 characters,
    # and " [b2]" 5 of the 300; the source's 100 are cut to the 74 left
    assert message == f"{kind} at feature={feature}, source={'w' * 73}… [b2]"
    assert len(line) == len("::error title=privdiag ") + 100 + len(" (high)::") + 300 + 2 * 99
