"""Breaks found by the nineteenth hostile session, each with the input that showed it."""

from __future__ import annotations

import pytest
from test_hostile18 import _compliance_kinds

# the consent logs of u1, whose two gclid events (10:00 and 11:00) need ads
SPLIT = "u1,C0004,granted,{t}\nu1,C0005,denied,{t}\n"  # OneTrust: both categories are ads


@pytest.mark.parametrize(
    ("log", "kinds"),
    [
        # the split answer saved twice (each page load re-sends it): read as a withdrawal
        (
            SPLIT.format(t="2026-10-01T09:00:00Z") + SPLIT.format(t="2026-10-01T09:30:00Z"),
            {"consent.violation": 2},
        ),
        # the split answer, then ads denied: ads was never granted, nothing withdrawn
        (
            SPLIT.format(t="2026-10-01T09:00:00Z") + "u1,ads,denied,2026-10-01T09:30:00Z\n",
            {"consent.violation": 2},
        ),
        # ads granted alone at 08:00 was in force: a later denial withdraws it
        (
            "u1,ads,granted,2026-10-01T08:00:00Z\n" + SPLIT.format(t="2026-10-01T09:00:00Z"),
            {"consent.after_withdrawal": 2},
        ),
    ],
)
def test_a_denial_after_a_split_answer_withdraws_nothing(tmp_path, log, kinds):
    """A grant that lost to a denial at its own instant was taken for a grant in force: the
    user's next denial (or the same split answer saved again) read "still collected after
    users withdrew ads consent" (consent.after_withdrawal, 2 events), where the user never
    granted ads (consent.violation)."""
    assert _compliance_kinds(tmp_path, log) == kinds
