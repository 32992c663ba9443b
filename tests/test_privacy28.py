"""Privacy review 28: figures of few users that other rounds left, at ``min_group_size`` 5."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from privdiag.scan import run_scan
from tests.helpers import config


def _segment_lacking(tmp_path, lacking: int) -> str:
    """Twelve Segment users, two payloads each, whose categoryPreferences name Advertising,
    Analytics and Functional, but for the first ``lacking`` users', which leave Functional
    out: Segment reads their functional as denied."""
    lines = []
    for u in range(12):
        cats = {"Advertising": u % 2 == 0, "Analytics": True, "Functional": True}
        if u < lacking:
            del cats["Functional"]
        for n in range(2):
            payload = {
                "type": "track",
                "event": "Product Viewed",
                "userId": f"u{u}",
                "anonymousId": f"a{u}",
                "messageId": f"m{u}_{n}",
                "timestamp": f"2026-10-01T1{n}:00:00Z",
                "context": {"consent": {"categoryPreferences": cats}},
                "properties": {"value": 1},
            }
            lines.append(json.dumps(payload))
    path = tmp_path / "seg.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _absent_note(doc: dict) -> str:
    (note,) = [n for n in doc["evidence"]["notes"] if "without a category of functional" in n]
    return note


def test_the_note_on_payloads_without_a_category_does_not_count_few_users(tmp_path):
    """One user of twelve left Functional out of both their payloads: the functional rate,
    of one denier, is hidden, but the note said "2 payload(s) ... read as functional denied",
    which bounds the hidden deniers by 2 (one payload would say one person denied it). The
    payloads of fewer than 5 users are now "Some payloads"; five users' ten are counted."""
    doc = run_scan([_segment_lacking(tmp_path, 1)], config=config(min_group_size=5)).to_dict()
    assert "functional" not in doc["evidence"]["consent_rates"]
    note = _absent_note(doc)
    assert "Some payloads (of fewer than 5 users) carry" in note
    assert "2 payload" not in note
    doc = run_scan([_segment_lacking(tmp_path, 5)], config=config(min_group_size=5)).to_dict()
    assert "seg.ndjson: 10 payload(s) carry" in _absent_note(doc)


def test_a_report_at_a_larger_k_does_not_count_the_payloads_without_a_category(tmp_path):
    """A result made at min_group_size 1 counts one user's two payloads; `privdiag report` at
    5 now drops the count, as it does for the note on undetermined events."""
    from privdiag.report.group_size import drop_small_group_evidence

    doc = run_scan([_segment_lacking(tmp_path, 1)], config=config(min_group_size=1)).to_dict()
    said = _absent_note(doc)
    assert "seg.ndjson: 2 payload(s) carry" in said
    drop_small_group_evidence([doc], 5)
    assert _absent_note(doc) == said.replace("2 payload(s)", "Some payloads")


def _regions_log(tmp_path) -> tuple[str, str]:
    """162 users deciding ads on one device, by region: bravo 20 persons of whom 2 granted,
    alpha 12 (6 granted), echo 30 (5 granted), delta 100 (50 granted); 63 granted in all."""
    events = "event_id,ts,event_name,user_id\n"
    log = "user_id,purpose,status,ts,region,device\n"
    u = 0
    for region, persons, granted in (
        ("bravo", 20, 2),
        ("alpha", 12, 6),
        ("echo", 30, 5),
        ("delta", 100, 50),
    ):
        for n in range(persons):
            events += f"e{u},2026-10-02T10:00:00Z,page_view,u{u}\n"
            status = "granted" if n < granted else "denied"
            log += f"u{u},ads,{status},2026-10-01T10:00:00Z,{region},desktop\n"
            u += 1
    (tmp_path / "ev.csv").write_text(events, encoding="utf-8")
    (tmp_path / "cmp.csv").write_text(log, encoding="utf-8")
    return str(tmp_path / "ev.csv"), str(tmp_path / "cmp.csv")


def test_opt_in_rates_at_two_sizes_do_not_tell_a_group_both_hide(tmp_path):
    """At min_group_size 5 bravo's 2 granters are hidden, with alpha (the smallest other
    region) beside them; at 6 echo's 5 granters are a small split too, and bravo and echo
    hid each other, so alpha's 6 was shown. Both outputs of one data, each keeping to its own
    size, gave together 63 - 50 (delta) - 5 (echo, at 5) - 6 (alpha, at 6) = 2: bravo's two
    granters, which both hid. A larger size now hides what every smaller one hides."""
    events, log = _regions_log(tmp_path)
    shown = {}
    for k in (5, 6, 7):
        doc = run_scan([events], consent=[log], config=config(min_group_size=k)).to_dict()
        rows = doc["evidence"]["optin_rates"]["region"]
        shown[k] = {r["value"]: r["granted"] for r in rows if r["granted"] is not None}
        assert doc["evidence"]["optin_rates"]["device"][0]["granted"] == 63
    assert shown[5] == {"delta": 50, "echo": 5}
    assert shown[6] == shown[7] == {"delta": 50}


def test_the_groups_hidden_at_a_size_hold_those_hidden_at_every_smaller_one():
    """The same groups as above, (persons, granted): at 6 alpha was shown, hidden at 5."""
    from privdiag.checks.disclosure import shown_groups

    groups = [(20, 2), (12, 6), (30, 5), (100, 50)]
    listed = [True] * 4
    assert shown_groups(groups, listed, 5) == [False, False, True, True]
    assert shown_groups(groups, listed, 6) == [False, False, False, True]
    # a size that needs no more than its own small splits hides as before
    assert shown_groups([(20, 10), (30, 15), (40, 20)], listed[:3], 5) == [True, True, True]
    assert shown_groups([(20, 2), (30, 15), (40, 20)], listed[:3], 3) == [False, False, True]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 40), st.integers(0, 40)).map(lambda t: (t[0], min(t[1], t[0]))),
        min_size=1,
        max_size=8,
    ),
    st.integers(1, 12),
    st.integers(1, 12),
)
def test_a_larger_size_shows_no_group_a_smaller_one_hides(groups, k, more):
    """Values listed by their persons (as the opt-in rates and trust segments list them):
    whatever the groups, what a size shows a smaller one shows too."""
    from privdiag.checks.disclosure import shown_groups

    def shown(size: int) -> list[bool]:
        return shown_groups(groups, [n >= size for n, _ in groups], size)

    assert not any(b and not a for a, b in zip(shown(k), shown(k + more), strict=True))


def _breakdown_shown(found: list[tuple], k: int) -> list[str]:
    """The values an opt-in drop's breakdown shows the opt-ins of at ``k``, beside the opt-in
    rates of the same values over both sides (its ``values``: those the rates show)."""
    from privdiag.checks.disclosure import shown_rates
    from privdiag.checks.optin import _breakdown_rows

    rates = [
        {"purpose": "ads", "value": v, "decisions": n1 + n2, "granted": x1 + x2}
        for v, n1, x1, n2, x2 in found
    ]
    values = {r["value"] for r in shown_rates(rates, k) if r["granted"] is not None}
    return [r[1] for r in _breakdown_rows("region", found, k, values) if r[3] is not None]


def test_an_opt_in_drops_breakdown_at_a_larger_size_shows_no_value_a_smaller_one_hides():
    """Six regions (value, persons before, granted before, persons after, granted after),
    found by a random search: at 2 the breakdown showed v5 alone, at 4 v4, which 2 (and 3)
    hid beside the small groups. Its values were listed by both sides and by the rates, so
    the walk of the smaller sizes did not reach it; each side is now hidden by its own
    persons and a value shown where both sides and the rates show it."""
    found = [
        ("v0", 25, 2, 3, 2),
        ("v1", 7, 7, 9, 5),
        ("v2", 22, 15, 16, 16),
        ("v3", 3, 2, 3, 3),
        ("v4", 13, 6, 25, 17),
        ("v5", 16, 13, 18, 16),
    ]
    assert _breakdown_shown(found, 2) == ["v5"]
    assert _breakdown_shown(found, 3) == _breakdown_shown(found, 4) == []


_SIDE = st.tuples(st.integers(1, 30), st.integers(0, 30)).map(lambda t: (t[0], min(t[1], t[0])))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_SIDE, _SIDE), min_size=2, max_size=6), st.integers(2, 8), st.integers(1, 4)
)
def test_an_opt_in_drops_breakdown_is_nested_in_the_size(sides, k, more):
    """Whatever the groups, a larger size shows no value of the breakdown a smaller hides,
    and the groups hidden on a side sum to no small split beside those shown."""
    from privdiag.checks.disclosure import small_split

    found = [(f"v{i}", n1, x1, n2, x2) for i, ((n1, x1), (n2, x2)) in enumerate(sides)]
    shown = _breakdown_shown(found, k)
    assert set(_breakdown_shown(found, k + more)) <= set(shown)
    for side in (1, 3):
        hidden = [f for f in found if f[0] not in shown]
        n, x = sum(f[side] for f in hidden), sum(f[side + 1] for f in hidden)
        assert not (shown and n and small_split(n, x, k))


def test_an_unmapped_category_of_fewer_than_k_users_is_counted_not_named(tmp_path):
    """A consent file whose purpose column holds, on four rows, customers' names (a column
    mapped wrongly): each name, decided by one user, was a consent.unmapped_category of its
    own, "Consent category 'Alice Martin' maps to no purpose", in every output. A category
    of 1 to min_group_size - 1 users is now counted, as an identifier-like one is; one of
    five users is still named."""
    events = "event_id,ts,event_name,user_id\n"
    log = "user_id,purpose,status,ts\n"
    for u in range(20):
        events += f"e{u},2026-10-02T10:00:00Z,page_view,u{u}\n"
        log += f"u{u},ads,{'granted' if u % 2 else 'denied'},2026-10-01T10:00:00Z\n"
    for u, name in enumerate(("Alice Martin", "Bob Stone", "Carla Diaz")):
        log += f"u{u},{name},granted,2026-10-01T10:00:00Z\n"
    log += "".join(f"u{u},Newsletter,granted,2026-10-01T10:00:00Z\n" for u in range(5))
    (tmp_path / "ev.csv").write_text(events, encoding="utf-8")
    (tmp_path / "cmp.csv").write_text(log, encoding="utf-8")
    doc = run_scan(
        [str(tmp_path / "ev.csv")],
        consent=[str(tmp_path / "cmp.csv")],
        config=config(min_group_size=5),
    ).to_dict()
    text = json.dumps(doc)
    assert not any(name in text for name in ("Alice", "Bob Stone", "Carla"))
    (found,) = [f for f in doc["findings"] if f["kind"] == "consent.unmapped_category"]
    assert found["title"] == (
        "4 consent categories of cmp map to no purpose (Newsletter and 3 more); their "
        "decisions were unused"
    )
    assert found["metrics"]["categories_listed"] == ["Newsletter"]
    # u0 to u4 decided Newsletter, u0 to u2 a name each: 5 users, 8 decisions
    assert found["metrics"]["users"] == 5 and found["metrics"]["decisions"] == 8
