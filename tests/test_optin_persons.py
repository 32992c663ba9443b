"""Whose decisions an opt-in drop by notice version counts, said in its text (trial 25 (1)).

Under notice v1, 40 persons decide first on analytics and 30 grant (75%); under v2 (from
2026-10-06) 40 new persons decide and 16 grant (40%), and 3 persons of v1 who granted are
asked again and deny. Opt-in counts each person's first decision, under the version it was
made under: v2 is 16 of 40 and v1 30 of 40, as without the 3 re-asked persons, so the
finding must say that it is persons' first decisions it compares.
"""

from __future__ import annotations

from privdiag.scan import run_scan
from tests.helpers import by_kind, config
from tests.test_people_optin import _log


def test_a_version_drop_says_it_counts_persons_first_decisions(tmp_path):
    data, consent = _log(tmp_path, [("v1", "2026-10-01", 40, 30), ("v2", "2026-10-06", 40, 16)])
    with open(consent[0], "a", encoding="utf-8") as fh:  # u1-u3 granted under v1
        fh.writelines(f"u{n},analytics,denied,2026-10-07T09:00:00Z,v2,shop\n" for n in (1, 2, 3))
    doc = run_scan(data, consent=consent, config=config()).to_dict()
    rates = doc["evidence"]["optin_rates"]["version"]
    assert [(r["value"], r["decisions"], r["granted"]) for r in rates] == [
        ("v1", 40, 30),
        ("v2", 40, 16),
    ]
    [f] = by_kind(doc, "people.optin_drop")
    assert f["title"] == (
        "analytics opt-in at persons' first decision fell from 75% to 40% with notice "
        "version v2 (after v1)"
    )
    assert (
        "Each person counts once, at their first decision on analytics: a person who decided "
        "before v2 and was asked again under it counts under their first version, so a notice "
        "that asks returning persons again is measured on its new persons only."
    ) in f["recommendation"]
