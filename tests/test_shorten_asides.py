"""The terminal's cut of a long note keeps what the note is about: where the cut fell inside
an aside (a parenthesis), the words after it were lost, often the verb. Trial 20: "the
consent gap of engagement_time_msec with ads denied (at page_view, view_item, add_to_cart …
analytics consent explains it" lost "is not reported". The aside is shortened first."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from privdiag.output import SUMMARY_LINE, print_summary
from privdiag.report.text import shorten

# privdiag/checks/gap_overlap.py's note, of 325 characters
NOTE = (
    "web: the consent gap of engagement_time_msec with ads denied (at page_view, view_item, "
    "add_to_cart, begin_checkout, purchase) is not reported: analytics consent explains it "
    "(where analytics is granted, engagement_time_msec is missing about as often with ads "
    "denied as granted, and users who deny ads often deny analytics too)"
)


def test_a_note_cut_inside_an_aside_keeps_its_subject_and_verb():
    # 25 characters over at 300: the list of steps keeps its first two whole (23 characters
    # of the 35 it could), the rest of the note whole, 288 characters
    assert shorten(NOTE, 300) == (
        "web: the consent gap of engagement_time_msec with ads denied (at page_view, view_item "
        "…) is not reported: analytics consent explains it (where analytics is granted, "
        "engagement_time_msec is missing about as often with ads denied as granted, and users "
        "who deny ads often deny analytics too)"
    )
    # at 200 the start was cut inside the last aside: that one is shortened instead
    assert shorten(NOTE, 200) == (
        "web: the consent gap of engagement_time_msec with ads denied (at page_view, view_item, "
        "add_to_cart, begin_checkout, purchase) is not reported: analytics consent explains it "
        "(where analytics is …)"
    )
    # at 120 both asides are shortened, and the text is cut after its verb
    assert shorten(NOTE, 120) == (
        "web: the consent gap of engagement_time_msec with ads denied (at page_view …) is not "
        "reported: analytics consent…"
    )


def test_the_terminal_prints_the_note_with_its_verb():
    doc = {
        "command": "scan",
        "summary": {"findings": 0, "by_severity": {}},
        "findings": [],
        "evidence": {"notes": [NOTE]},
    }
    out = io.StringIO()
    print_summary(doc, stream=out)
    printed = " ".join(out.getvalue().split())
    assert "(at page_view, view_item …) is not reported: analytics consent explains it" in printed


def test_a_cut_outside_any_aside_is_as_before():
    text = "one (two three) four five six seven eight nine; ten eleven twelve"
    assert shorten(text, 40) == "one (two three) four … ten eleven twelve"


SENTENCES = st.lists(
    st.one_of(
        st.sampled_from(["(", ")", ", ", "; ", ": ", ". ", " "]),
        st.text("abcdefgh", min_size=1, max_size=12),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=SENTENCES, limit=st.integers(min_value=10, max_value=SUMMARY_LINE))
def test_a_cut_is_within_its_limit_whatever_its_parentheses(text, limit):
    short = shorten(text, limit)
    assert len(short) <= limit
    assert short == text or len(text) > limit
