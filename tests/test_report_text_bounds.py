"""The terminal summary and the JUnit file stay short whatever a result's texts hold: a title,
feature, owner, note or reason of a megabyte (an edited result, a column named by the data)
is cut, and the counts still count every finding."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from test_hostile8 import finding, result

from privdiag.output import SUMMARY_CELL, SUMMARY_LINE, print_summary
from privdiag.report.junit import MAX_TEXT, render_junit
from privdiag.report.merge import merge

MB = 1_000_000


def _summary(doc: dict) -> str:
    out = io.StringIO()
    print_summary(doc, stream=out)
    return out.getvalue()


def words(letter: str) -> str:
    """A megabyte of words of nine ``letter``s (words, so that a table wraps them on as many
    lines as they take instead of cutting them)."""
    return (letter * 9 + " ") * (MB // 10)


def test_the_terminal_summary_cuts_every_long_text():
    """Hand-checked: a kind, feature, owner, input name, note and skipped check's reason of a
    megabyte each (they printed 8.2 million characters). A text cut to 100
    characters keeps 99, nine words and nine letters: 90 letters; to 300, 299: 270 letters.
    The kind shows twice (kinds table, top findings), the feature after "web · page_view · "
    (18 characters) keeps 81: 73 letters; the five findings are all counted."""
    big = finding(0, kind=words("ж"), owner=words("щ"))
    big["location"]["feature"] = words("ю")
    doc = merge(
        [
            result(
                [big] + [finding(i) for i in range(1, 5)],
                inputs=[{"path": words("э") + ".csv", "format": "generic", "rows": 10}],
                checks=[{"name": "journey", "status": "skipped", "reason": words("ц")}],
            )
        ]
    )
    doc["evidence"] = {"notes": [words("ф")]}
    text = _summary(doc)
    assert len(text) < 3_000 and text.count("\n") < 40
    assert (SUMMARY_CELL, SUMMARY_LINE) == (100, 300)
    counts = {letter: text.count(letter) for letter in "жющэфц…"}
    assert counts == {"ж": 180, "ю": 73, "щ": 90, "э": 90, "ф": 270, "ц": 270, "…": 7}
    assert "5 findings  2 high  2 medium  1 low" in text


def test_the_terminal_summary_counts_the_kinds_past_thirty_in_one_row():
    """40 findings of 40 kinds (an edited result) printed 40 rows; now 30 and one that counts
    the other 10 kinds' 10 findings, so the rows still add up to 40."""
    doc = merge([result([finding(i, kind=f"custom.kind{i:02d}") for i in range(40)])])
    kinds = _summary(doc).split("top findings")[0]
    counts = [int(line.split()[-1]) for line in kinds.splitlines()[3:]]
    assert len(counts) == 31 and sum(counts) == 40
    assert "10 other kinds" in kinds


def test_the_junit_file_cuts_long_texts_and_lists_a_hundred_failures():
    """Hand-checked: 150 high findings of one kind, the first with a title of a megabyte, and a
    skipped check whose reason is a megabyte: the file was 4.0 MB. The failure message still
    counts all 150; its text lists the first 100, the long title cut to 300 characters, and a
    line for the other 50; the reason is cut to 300."""
    findings = [finding(i, severity="high", metrics={"events": 1000 - i}) for i in range(150)]
    findings[0]["title"] = "ж" * MB
    skipped = {"name": "journey", "status": "skipped", "reason": "ц" * MB}
    xml = render_junit(merge([result(findings, checks=[skipped])]), fail_on="high")
    assert len(xml.encode("utf-8")) < 20_000
    cases = ET.fromstring(xml).find("testsuite").findall("testcase")
    (failure,) = [c.find("failure") for c in cases if c.find("failure") is not None]
    assert failure.get("message") == "150 finding(s) at or above high"
    lines = failure.text.splitlines()
    assert len(lines) == 101
    assert lines[0].count("ж") == MAX_TEXT - 1 and "ж" * (MAX_TEXT - 1) + "…" in lines[0]
    assert lines[-1] == "and 50 more: the JSON result (the file of --json) lists them all"
    (skip,) = [c.find("skipped") for c in cases if c.find("skipped") is not None]
    assert skip.get("message") == "ц" * (MAX_TEXT - 1) + "…"


def test_a_long_line_keeps_whole_words_and_its_advice():
    """Hand-checked, limit 40: a text of 62 characters whose last clause ("add an entry",
    12) fits in two thirds of it keeps the clause and its start up to a whole word (40 - 15
    for " … " and the clause = 25 characters: "model aaaa matches no bbb" ends inside a word,
    so "model aaaa matches no"); without a clause, the start is cut before the word the
    limit falls in."""
    from privdiag.report.text import shorten

    text = "model aaaa matches no bbbbbbbb entry of cccccccc; add an entry"
    assert shorten(text, 40) == "model aaaa matches no … add an entry"
    assert shorten("one two three four", 12) == "one two…"
    assert shorten("one two three four", 18) == "one two three four"
    assert shorten("x" * 50, 10) == "xxxxxxxxx…"
