"""Privacy review 29: figures and words of few users that earlier rounds left, at
``min_group_size`` 5."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from privdiag.scan import run_scan
from tests.helpers import by_kind, config


def _early_gclid(tmp_path, lead: int) -> tuple[str, str]:
    """Twenty users granting ads at 10:00:00 with a gclid on a page_view at 10:05; the first
    one's page_view comes ``lead`` seconds before their decision instead."""
    events = "event_id,ts,event_name,user_id,gclid\n"
    log = "user_id,purpose,status,ts\n"
    for u in range(20):
        at = f"2026-10-01T09:59:{60 - lead:02d}Z" if u == 0 else "2026-10-01T10:05:00Z"
        events += f"e{u},{at},page_view,user{u},G{u}\n"
        log += f"user{u},ads,granted,2026-10-01T10:00:00Z\n"
    (tmp_path / "ev.csv").write_text(events, encoding="utf-8")
    (tmp_path / "log.csv").write_text(log, encoding="utf-8")
    return str(tmp_path / "ev.csv"), str(tmp_path / "log.csv")


def _pre_consent(tmp_path, lead: int, k: int) -> dict:
    events, log = _early_gclid(tmp_path, lead)
    doc = run_scan([events], consent=[log], config=config(min_group_size=k)).to_dict()
    (f,) = by_kind(doc, "consent.pre_consent")
    return f


def test_a_pre_consent_of_few_users_says_nothing_its_hidden_lead_times_tell(tmp_path):
    """One user of twenty sends gclid 37 s before deciding on ads (beyond the 2 s grace
    window: tags fire before the banner, high) or 1 s before (within it: clock skew, low).
    At size 1 the two read apart. At 5 the user's events are hidden, yet the verdict,
    severity, title and advice told which: now both read alike, high, with no verdict."""
    far, near = _pre_consent(tmp_path, 37, 1), _pre_consent(tmp_path, 1, 1)
    assert (far["severity"], far["metrics"]["verdict"]) == ("high", "before_banner")
    assert (near["severity"], near["metrics"]["verdict"]) == ("low", "clock_skew")
    assert "(tags fire before the banner)" in far["title"]
    far, near = _pre_consent(tmp_path, 37, 5), _pre_consent(tmp_path, 1, 5)
    for f in (far, near):
        assert f["metrics"]["users"] is None and f["metrics"]["verdict"] is None
        assert "verdict" in f["metrics"]["suppressed"]
        assert f["title"] == "gclid is collected on page_view before the user decides on ads"
        assert f["severity"] == "high"
    said = ("title", "severity", "recommendation", "evidence")
    assert [far[key] for key in said] == [near[key] for key in said]


def test_the_note_on_files_read_as_one_names_their_glob_not_a_users_file(tmp_path):
    """Two files named for their users' ids, user_4821.csv and user_9377.csv, given one by
    one, are read as one input, user_*.csv, the name its `inputs[].path` shows. The note
    saying so quoted the first and last file in full, ids and all."""
    paths = []
    for u in (4821, 9377):
        path = tmp_path / f"user_{u}.csv"
        path.write_text(
            f"event_id,ts,event_name,user_id\ne{u},2026-10-01T10:00:00Z,page_view,u{u}\n",
            encoding="utf-8",
        )
        paths.append(str(path))
    doc = run_scan(paths, config=config(min_group_size=5)).to_dict()
    assert [i["path"] for i in doc["inputs"]] == [str(tmp_path / "user_*.csv")]
    (note,) = [n for n in doc["evidence"]["notes"] if "one by one" in n]
    assert note.startswith("2 event files given one by one are named alike but for their")
    assert f"read as one input, {tmp_path / 'user_*.csv'}, source " in note
    assert not [n for n in doc["evidence"]["notes"] if "4821" in n or "9377" in n]


def _one_violation(users: int):
    """The opt-in rates' ``tells`` beside one violation of ``users`` users whose users every
    group holds: a group's deniers less them tell 1 to k - 1 persons."""

    def told(n: int, x: int, _groups: frozenset[int], k: int) -> bool:
        return 1 <= (n - x) - users <= k - 1

    return told


#: (persons, granted) by region: B, A, C, E, F, D; 185 granted in all (shown by device).
_BESIDE_A_VIOLATION = [(30, 15), (40, 20), (50, 40), (60, 8), (60, 52), (100, 50)]


def test_opt_in_rates_hidden_by_difference_at_two_sizes_do_not_tell_a_group_both_hide():
    """A violation of 18 users; region A's 20 deniers less them are 2. At size 3 A is hidden
    by difference (2 < 3), and B (the smallest region) with it; at 10, E's 8 granters and
    F's 8 deniers are small splits hiding each other, and A is hidden alone beside them, so
    B's 15 was shown. The two outputs gave 185 - C 40 - E 8 - F 52 - D 50 = 35 = A + B (at
    3), less B's 15 (at 10): A's 20 granters, which both hid. B is now hidden at 10 too."""
    from privdiag.checks.disclosure import shown_groups

    groups, told = _BESIDE_A_VIOLATION, _one_violation(18)
    listed = [True] * len(groups)
    assert shown_groups(groups, listed, 3, told) == [False, False, True, True, True, True]
    assert shown_groups(groups, listed, 10, told) == [False, False, True, False, False, True]
    # without the violation, 10 hides E and F only, 3 nothing: B is hidden for A's sake
    assert shown_groups(groups, listed, 10) == [True, True, True, False, False, True]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 40), st.integers(0, 40)).map(lambda t: (t[0], min(t[1], t[0]))),
        min_size=1,
        max_size=7,
    ),
    st.integers(0, 40),
    st.integers(1, 12),
    st.integers(1, 12),
)
def test_a_larger_size_shows_no_group_a_smaller_one_hides_beside_a_violation(
    groups, users, k, more
):
    """Whatever the groups and the violation's users, what a size shows a smaller one shows
    too, the hiding by difference included."""
    from privdiag.checks.disclosure import shown_groups

    told = _one_violation(users)

    def shown(size: int) -> list[bool]:
        return shown_groups(groups, [n >= size for n, _ in groups], size, told)

    small, large = shown(k), shown(k + more)
    assert all(s or not b for s, b in zip(small, large, strict=True))


def _north_south(tmp_path) -> tuple[str, str]:
    """Ads decided by region: north 18 persons, 10 granting, 6 of its 8 deniers then sending
    gclid on their page_view; south 20, 10 granting, no denier sending it."""
    events = "event_id,ts,event_name,user_id,gclid\n"
    log = "user_id,purpose,status,ts,region,device\n"
    people = [("north", "denied", u < 6) for u in range(8)] + [("north", "granted", True)] * 10
    people += [("south", "denied", False)] * 10 + [("south", "granted", True)] * 10
    for u, (region, status, gclid) in enumerate(people):
        events += f"e{u},2026-10-01T10:00:00Z,page_view,user{u},{f'G{u}' if gclid else ''}\n"
        log += f"user{u},ads,{status},2026-10-01T09:00:00Z,{region},web\n"
    (tmp_path / "ev.csv").write_text(events, encoding="utf-8")
    (tmp_path / "log.csv").write_text(log, encoding="utf-8")
    return str(tmp_path / "ev.csv"), str(tmp_path / "log.csv")


def test_a_rate_hidden_beside_a_violation_shown_at_a_smaller_size_stays_hidden(tmp_path):
    """At size 5 the violation shows its 6 users, and north's granted is hidden by difference
    (its 8 deniers less 6 tell the 2 who deny without gclid), south's with it. At 7 the
    violation's 6 users are hidden, so nothing was subtracted from: north's 10 granters (8
    deniers of 18) were shown, and 8 (at 7) less 6 (at 5) told the 2. Hidden at 7 too now."""
    import json

    events, log = _north_south(tmp_path)
    shown = {}
    for k in (5, 7):
        doc = run_scan([events], consent=[log], config=config(min_group_size=k)).to_dict()
        (v,) = by_kind(doc, "consent.violation")
        shown[k] = {r["value"]: r["granted"] for r in doc["evidence"]["optin_rates"]["region"]}
        if k == 5:
            assert v["metrics"]["users"] == 6
        else:
            assert v["metrics"]["users"] is None
            assert "withheld" not in json.dumps(doc)
        rows = doc["evidence"]["optin_rates"]["region"]
        assert all(r["difference_with"] == [v["id"]] for r in rows)
    assert shown[5] == shown[7] == {"north": None, "south": None}
