"""funnel.consent_drop where most of a consent state's events have no identity (Consent Mode).

Shop M (analytics only; page_view, then view_item), every count worked out by hand:

- 100 users grant analytics. Before the banner answer each sends one page_view ping denied
  and cookieless (Consent Mode's default), then one identified page_view granted; 80 of them
  view an item (identified, granted).
- 100 users deny analytics. Each sends two page_view pings (denied, cookieless); 80 of them
  one view_item ping (denied, cookieless).

Both groups convert at 80%: consent changes nothing. The counts of the step_counts query:

==========  =====  =====  =============  ========  ========  ==============
step        n      noid   users (id'd)   granted   denied    denied noid
==========  =====  =====  =============  ========  ========  ==============
page_view   400    300    100            100/100u  300       300 (0 users)
view_item   160    80     80             80/80u    80        80 (0 users)
==========  =====  =====  =============  ========  ========  ==============

The identity-restored estimate of denied users: no identified denied user, so the events per
user are the step's identified ones (100/100 = 1 and 80/80 = 1): page_view 0 + 300/1 = 300,
view_item 0 + 80/1 = 80, a conversion of 80/300 = 26.7% against 80/100 = 80% granted. The
truth is 80/100: the 300 pings are 200 of the denied users (two each, where an identified
user sends one) and 100 of users who then grant (who view their item granted). So the old
check reported "at 27% against 80%, beyond identity loss"; nothing in these counts tells a
denying user's ping from a not-yet-answered one, so the check now withholds it with a note.

Shop N: the same 100 granting users; 100 denying users of whom 40 keep a first-party id
(identified, one page_view each, 10 view an item) and 60 are cookieless (two page_view pings
each, 15 view_item pings). Denied users truly convert at 25/100. Denied page_view: 260 events
(100 + 40 + 120), 220 without identity (84.6%), 40 users; view_item: 25 events, 15 without
identity, 10 users. Restored: 40 + 220/1 = 260 and 10 + 15/1 = 25, 9.6% (biased low again);
identified users: 10/40 = 25% against 80/100 = 80%, a significant drop of 0.55. Reported, on
both, without a figure in the title (neither is sure).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from privdiag.checks.identity import restored
from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write

HEADER = "event_id,ts,event_name,user_id,session_id,consent_analytics"
START = datetime(2026, 10, 1, 9)


def _line(n: int, minute: int, step: str, user: str, state: str) -> str:
    ts = (START + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")
    session = f"s{user}" if user else ""
    return f"e{n},{ts},{step},{user},{session},{state}"


def _shop(identified_deniers: int, identified_buyers: int, cookieless_buyers: int) -> str:
    """Shop M with (0, 0, 80); shop N with (40, 10, 15): see the module docstring."""
    rows: list[tuple[int, str, str, str]] = []
    for i in range(100):  # granting users: a ping before the answer, then identified
        rows += [(i, "page_view", "", "denied"), (i + 1, "page_view", f"g{i}", "granted")]
        if i < 80:
            rows.append((i + 2, "view_item", f"g{i}", "granted"))
    for i in range(100):  # denying users
        if i < identified_deniers:
            rows.append((i, "page_view", f"d{i}", "denied"))
            if i < identified_buyers:
                rows.append((i + 1, "view_item", f"d{i}", "denied"))
        else:
            rows += [(i, "page_view", "", "denied"), (i + 1, "page_view", "", "denied")]
            if i - identified_deniers < cookieless_buyers:
                rows.append((i + 2, "view_item", "", "denied"))
    lines = [_line(n, *row) for n, row in enumerate(rows)]
    return "\n".join([HEADER, *lines]) + "\n"


def _scan(folder, name: str, *shop: int) -> dict:
    return run_scan([write(folder / f"{name}.csv", _shop(*shop))], config=config()).to_dict()


@pytest.fixture(scope="module")
def shop_m(tmp_path_factory):
    return _scan(tmp_path_factory.mktemp("cookieless"), "shop_m", 0, 0, 80)


@pytest.fixture(scope="module")
def shop_n(tmp_path_factory):
    return _scan(tmp_path_factory.mktemp("cookieless"), "shop_n", 40, 10, 15)


def test_the_restored_estimate_is_biased_low_when_the_denied_are_cookieless() -> None:
    """The estimate on shop M's counts, by hand (see the table above)."""
    page_view = {"n": 400, "noid": 300, "users": 100}
    page_view |= {"n_denied_analytics": 300, "noid_denied_analytics": 300}
    page_view |= {"users_denied_analytics": 0}
    view_item = {"n": 160, "noid": 80, "users": 80}
    view_item |= {"n_denied_analytics": 80, "noid_denied_analytics": 80}
    view_item |= {"users_denied_analytics": 0}
    denied_at = [restored(row, "_denied_analytics") for row in (page_view, view_item)]
    assert denied_at == [300.0, 80.0]
    assert round(denied_at[1] / denied_at[0], 4) == 0.2667  # the truth: 80 of 100, 0.8


def test_a_drop_only_the_restored_estimate_shows_is_withheld_with_a_note(shop_m) -> None:
    assert not by_kind(shop_m, "funnel.consent_drop")
    assert {c["name"]: c["status"] for c in shop_m["checks"]}["funnel.consent_drop"] == "ran"
    (note,) = [n for n in shop_m["evidence"]["notes"] if n.startswith("funnel.consent_drop")]
    assert note == (
        "funnel.consent_drop not reported (shop_m, view_item, analytics): no denied user at "
        "page_view has an identity to compare, only the identity-restored estimate shows one "
        "(denied 27%, granted 80%), and 100% of the denied page_view events have no identity: "
        "whose they are cannot be told (Consent Mode sends the pings before a banner answer as "
        "denied)."
    )


def test_a_drop_the_identified_users_show_too_is_reported_without_a_figure(shop_n) -> None:
    (f,) = by_kind(shop_n, "funnel.consent_drop")
    m = f["metrics"]
    assert f["location"] == {"source": "shop_n", "step": "view_item", "purpose": "analytics"}
    assert (m["measured_conversion_denied"], m["measured_conversion_granted"]) == (0.25, 0.8)
    assert (m["conversion_denied"], m["conversion_granted"]) == (0.0962, 0.8)
    assert m["identity_less_share"] == 0.8462
    assert m["decided_on"] == "identity restored and users with an identity"
    assert f["title"] == (
        "Users who deny analytics convert from page_view to view_item less often than those who "
        "grant it, both among users with an identity and with identity restored"
    )
    assert f["severity"] == "high"  # the smaller gap, 0.55 among identified users
    assert not [n for n in shop_n["evidence"].get("notes", []) if n.startswith("funnel")]


def test_the_note_names_no_figure_of_a_small_group(tmp_path) -> None:
    # shop M's 100 granting users are under 150: 80% of them converting tells the 80
    text = _shop(0, 0, 80)
    doc = run_scan(
        [write(tmp_path / "shop_m.csv", text)], config=config(min_group_size=150)
    ).to_dict()
    (note,) = [n for n in doc["evidence"]["notes"] if n.startswith("funnel.consent_drop")]
    assert "%" not in note
    assert "only the identity-restored estimate shows one, and most of the denied" in note
