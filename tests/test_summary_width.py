"""The terminal summary written to a pipe or a file (a CI job's log) is 160 columns wide,
not rich's 80, which cut the kinds and locations of its tables; a terminal, or COLUMNS,
still decides when there is one."""

from __future__ import annotations

import io

from test_hostile8 import finding, result

from privdiag.output import PIPE_WIDTH, print_summary, summary_width

# "web · page_view · " and this feature: 18 + 62 = 80 characters of location
FEATURE = "a_feature_name_long_enough_to_need_more_than_eighty_columns_xy"


def _summary(monkeypatch, columns: str | None) -> str:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    out = io.StringIO()
    print_summary(
        result([finding(0, location={"source": "web", "step": "page_view", "feature": FEATURE})]),
        stream=out,
    )
    return out.getvalue()


def test_a_pipe_gets_the_wide_summary_with_whole_locations(monkeypatch):
    text = _summary(monkeypatch, None)
    assert FEATURE in text  # at 80 columns the top findings' table cut it
    assert max(len(line) for line in text.splitlines()) <= PIPE_WIDTH
    assert max(len(line) for line in text.splitlines()) > 80


def test_columns_still_decides_the_width(monkeypatch):
    text = _summary(monkeypatch, "80")
    assert FEATURE not in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_terminal_is_left_to_rich(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert summary_width(Tty()) is None
    assert summary_width(io.StringIO()) == PIPE_WIDTH


def test_top_findings_say_how_many_findings_each_explains(monkeypatch):
    # Root causes rank before their symptoms, so a low finding stood above high ones in
    # "top findings" with nothing saying why (trial 14): the table now counts, per finding,
    # the findings that list it among their causes.
    monkeypatch.delenv("COLUMNS", raising=False)
    root = finding(2, severity="low", kind="people.unclassified_feature")
    one = finding(3, severity="high", caused_by=[root["id"]])
    two = finding(4, severity="high", caused_by=[root["id"], one["id"], one["id"]])
    out = io.StringIO()
    print_summary(result([root, one, two]), stream=out)
    rows = {line.split()[1]: line for line in out.getvalue().splitlines() if "feat" in line}
    assert rows["people.unclassified_feature"].rstrip().endswith("2 findings")
    lines = [line.rstrip() for line in out.getvalue().splitlines() if "feat3" in line]
    assert lines and lines[0].endswith("1 finding")  # listed twice by one finding: once
    assert not [
        line for line in out.getvalue().splitlines() if "feat4" in line and "finding" in line
    ]


def test_the_tables_end_their_lines_without_blanks(monkeypatch):
    # Rich padded the last cell of each row (``explains``, empty for a finding that explains
    # none) and the title "top findings" to the table's width: a line of trailing blanks per
    # finding in a CI log or a file diffed between runs (review15).
    monkeypatch.delenv("COLUMNS", raising=False)
    root = finding(2, severity="low", kind="people.unclassified_feature")
    one = finding(3, severity="high", caused_by=[root["id"]])
    for findings in ([finding(0)], [root, one]):
        out = io.StringIO()
        print_summary(result(findings), stream=out)
        lines = out.getvalue().splitlines()
        assert [line for line in lines if line != line.rstrip()] == []
        assert "top findings" in lines and any(line.endswith("explains") for line in lines)
