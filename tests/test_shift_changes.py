"""A series that changes more than once: every change found, each with its own shares.

Shop C (600 users over 15 days, 40 a day; each views a page, an item and adds to cart), its
banner changed twice: notice v1 on days 0-4 (2026-10-01 to 05), users with i % 10 != 0 grant
ads (90%); v2 from day 5 (2026-10-06), i % 10 < 3 grant (30%); v3 from day 10 (2026-10-11),
i % 10 < 6 grant (60%). gclid is sent on page_view when ads is granted: its missing share is
10% (20 of 200 page views), then 70% (140 of 200), then 40% (80 of 200). item_id is dropped
on add_to_cart on days 7-11 only (a broken release, then its fix): 0, then 1/3 (200 of 600
events carrying it), then 0 again. coupon is sent by every third user whatever happens.
(With 20 users a day, gclid's 70% -> 40% is not significant: each day weighs as its users,
a third of its events, so 33 units a side.)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from privdiag import stats
from privdiag.chains import link
from privdiag.checks.shift import Series, _changes, _further
from privdiag.checks.shift_privacy import few_days as _few_days
from privdiag.findings import Finding
from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write
from tests.test_sparsity import ads_log, shop_csv


def _period(i: int) -> int:
    return (i // 40) // 5  # 0: v1, 1: v2, 2: v3


def _granted(i: int) -> bool:
    return (i % 10 != 0, i % 10 < 3, i % 10 < 6)[_period(i)]


def _row(i: int, step: str) -> dict[str, str]:
    return {
        "gclid": f"G{i}" if step == "page_view" and _granted(i) else "",
        "item_id": "" if step == "add_to_cart" and 7 <= i // 40 <= 11 else "SKU",
        "coupon": "C" if i % 3 == 0 else "",
    }


def _consent() -> str:
    return ads_log(600, _granted, lambda i: f"v{_period(i) + 1}", per_day=40)


@pytest.fixture(scope="module")
def shop_c(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shifts")
    events = write(
        folder / "shop.csv", shop_csv(600, lambda i: 3, lambda i: "", _row, day=lambda i: i // 40)
    )
    consent = write(folder / "cmp.csv", _consent())
    doc = run_scan([events], consent=[consent], config=config()).to_dict()
    return {
        f["location"].get("feature") or f["location"]["purpose"]: f
        for f in by_kind(doc, "sparsity.shift")
    }


def _days_and_shares(finding: dict) -> list[tuple[str, float, float]]:
    return [(c["day"], c["before"], c["after"]) for c in finding["metrics"]["changes"]]


def test_both_banner_changes_of_the_consent_rate_are_found(shop_c):
    ads = shop_c["ads"]
    assert _days_and_shares(ads) == [("2026-10-06", 0.9, 0.3), ("2026-10-11", 0.3, 0.6)]
    m = ads["metrics"]
    # the first change (the largest split) keeps the headline: 90% -> 30%, the segments
    # beside it, not 90% against the mixed 45% of days 5-14
    assert (m["change_day"], m["before"], m["after"]) == ("2026-10-06", 0.9, 0.3)
    assert m["notice_versions"] == ["v2", "v3"]
    assert ads["title"] == (
        "The ads consent rate fell from 90% to 30% on 2026-10-06, the day notice version v2 "
        "appeared; it also rose from 30% to 60% on 2026-10-11 (notice version v3)"
    )
    marks = {(mark["x"], mark["label"]) for mark in ads["evidence"]["series"]["marks"]}
    assert marks == {
        ("2026-10-06", "90% to 30%"),
        ("2026-10-06", "notice version v2"),
        ("2026-10-11", "30% to 60%"),
        ("2026-10-11", "notice version v3"),
    }


def test_a_feature_follows_each_consent_change_and_links_them_all(shop_c):
    gclid, ads = shop_c["gclid"], shop_c["ads"]
    assert _days_and_shares(gclid) == [("2026-10-06", 0.1, 0.7), ("2026-10-11", 0.7, 0.4)]
    m = gclid["metrics"]
    assert [c["change"] for c in m["changes"]] == [0.6, -0.3]
    assert m["consent_rate_changes"] == [
        {"purpose": "ads", "day": "2026-10-06", "before": 0.9, "after": 0.3},
        {"purpose": "ads", "day": "2026-10-11", "before": 0.3, "after": 0.6},
    ]
    assert gclid["caused_by"] == [ads["id"]]  # one rate finding, named once
    assert gclid["title"] == (
        "gclid missing share rose from 10% to 70% on 2026-10-06 (notice version v2 first seen "
        "that day; the ads consent rate went from 90% to 30%); it also fell from 70% to 40% "
        "on 2026-10-11 (notice version v3 first seen that day; the ads consent rate went "
        "from 30% to 60%)"
    )
    assert "No consent change explains" not in gclid["recommendation"]


def test_a_broken_release_and_its_fix_are_two_changes_no_consent_explains(shop_c):
    item = shop_c["item_id"]
    changes = item["metrics"]["changes"]
    assert [c["day"] for c in changes] == ["2026-10-08", "2026-10-13"]
    assert changes[0]["before"] == 0.0 and changes[1]["after"] == 0.0
    assert changes[0]["after"] == changes[1]["before"] == pytest.approx(0.3333, abs=1e-4)
    assert item["metrics"]["consent_rate_changes"] == [] and item["caused_by"] == []
    assert "release" in item["recommendation"]
    assert "coupon" not in shop_c  # the same share every day


def test_further_changes_split_each_side_until_nothing_is_left():
    # 30 days of 1,000: 10% on days 0-9, 50% on 10-19, 10% again on 20-29
    x = [100] * 10 + [500] * 10 + [100] * 10
    n = [1000] * 30
    first = stats.change_point(x, n)
    assert first.index in (10, 20)
    found = stats.further_changes(x, n, first.index, level=0.05, limit=4)
    assert sorted([first.index, *(k for k, _ in found)]) == [10, 20]
    assert all(p < 1e-10 for _, p in found)
    # a flat series beside the change gives nothing more
    flat = [100] * 10 + [500] * 10
    assert stats.further_changes(flat, n[:20], 10, level=0.05, limit=4) == []
    assert stats.further_changes(x, n, first.index, level=0.05, limit=0) == []


def _series(x: list[int], n: list[int]) -> Series:
    xa, na = np.asarray(x, float), np.asarray(n, float)
    cp = stats.change_point(xa, na)
    days = [f"2026-10-{d + 1:02d}" for d in range(len(x))]
    return Series("web", days, xa, na, cp, np.ones(len(x)), feature="f")


def test_a_further_change_smaller_than_min_gap_is_dropped():
    # 10% -> 50% on day 10, then 50% -> 45% on day 20: significant on 100,000 a day, but a
    # change of 5 points is below a min_gap of 0.1
    s = _series([10_000] * 10 + [50_000] * 10 + [45_000] * 10, [100_000] * 30)
    assert s.cp.index == 10
    kept = _changes(s, level=0.05, min_gap=0.1)
    assert [(c.index, round(c.before, 4), round(c.after, 4)) for c in kept] == [(10, 0.1, 0.475)]
    both = _changes(s, level=0.05, min_gap=0.01)
    assert [(c.index, round(c.before, 4), round(c.after, 4)) for c in both] == [
        (10, 0.1, 0.5),
        (20, 0.5, 0.45),
    ]


def test_an_optin_drop_links_to_a_later_change_of_a_shift():
    drop = Finding(
        "people.optin_drop",
        "high",
        "d",
        {"purpose": "ads", "scenario": "notice v3"},
        {"change_day": "2026-10-20", "version": "v3"},
    )
    changes = [
        {"day": "2026-10-06", "change": 0.3},  # rose: not a drop's doing
        {"day": "2026-10-21", "change": -0.4},  # fell a day after the drop
    ]
    shift = Finding(
        "sparsity.shift",
        "medium",
        "s",
        {"source": "web", "purpose": "ads"},
        {"change_day": "2026-10-06", "change": 0.3, "changes": changes},
    )
    link([drop, shift])
    assert shift.caused_by == [drop.id]
    only_first = Finding(
        "sparsity.shift",
        "medium",
        "s",
        {"source": "app", "purpose": "ads"},
        {"change_day": "2026-10-06", "change": 0.3, "changes": changes[:1]},
    )
    link([drop, only_first])
    assert only_first.caused_by == []


def test_a_shift_card_lists_every_change_by_day_in_words(shop_c):
    from privdiag.report.facts import metric_items

    items = dict(metric_items(shop_c["gclid"]["metrics"], 5, "sparsity.shift"))
    assert items["Every change, by day"] == "10% to 70% on 2026-10-06; 70% to 40% on 2026-10-11"
    assert items["Consent rate changes"] == (
        "ads 90% to 30% on 2026-10-06; ads 30% to 60% on 2026-10-11"
    )


def test_a_card_lists_the_changes_only_when_there_are_several(shop_c):
    from privdiag.report.facts import metric_items

    one = dict(shop_c["gclid"]["metrics"])
    one["changes"] = one["changes"][:1]
    items = dict(metric_items(one, 5, "sparsity.shift"))
    assert "Every change, by day" not in items  # its before, after and day say it already
    assert items["Day of the change"] == "2026-10-06"


def test_a_series_with_more_changes_than_listed_says_so():
    # eight levels of four days (1,000 events a day): 90, 30, 80, 20, 85, 25, 90, 30%, seven
    # changes. Five are listed; the last listed's after share blends the days past it, as
    # many.csv of review15 gave: "fell from 85% to 48% on 2026-10-21", 48% no day's rate.
    levels = [900, 300, 800, 200, 850, 250, 900, 300]
    s = _series([v for v in levels for _ in range(4)], [1000] * 32)
    kept = _changes(s, level=0.05, min_gap=0.1)
    assert len(kept) == 5 and s.more
    s.changes = kept
    assert "and more changes, not listed: privdiag lists 5 a series" in _further(s, {})
    # the same levels up to the sixth change: four are found beside the first, no more
    six = _series([v for v in levels[:5] for _ in range(4)], [1000] * 20)
    assert len(_changes(six, level=0.05, min_gap=0.1)) == 4 and not six.more
    six.changes = _changes(six, level=0.05, min_gap=0.1)
    assert "not listed" not in _further(six, {})


def _thin_day(tmp_path, feature: bool, thin: int = 15, users: int = 20) -> dict:
    """30 days of ``users`` users (one event each; 20 or 50): 90% granted analytics on days
    1-20, 40% on 21-30, but day ``thin`` (2026-10-16) holds one user, who denied; with
    ``feature``, a column campaign sent only by those who grant. Scanned at min_group_size
    5: with 20 a day, the 2 who deny on days 1-20 are a small side of each day."""
    rows = ["event_id,ts,event_name,user_id,consent_analytics" + (",campaign" if feature else "")]
    for d in range(30):
        per, granted = (1, 0) if d == thin else (users, users * (4 if d >= 20 else 9) // 10)
        for i in range(per):
            n = len(rows)
            state = "granted" if i < granted else "denied"
            sent = ("," + ("c" if i < granted else "")) if feature else ""
            rows.append(f"e{n},2026-10-{d + 1:02d}T10:{i:02d}:00Z,page_view,u{n},{state}{sent}")
    events = write(tmp_path / "tiny.csv", "\n".join(rows) + "\n")
    return run_scan([events], config=config(min_group_size=5)).to_dict()


def test_a_day_of_too_few_users_is_hidden_on_the_rate_chart(tmp_path):
    # The chart showed 0.0 on 2026-10-16, the one user's own state. With min_group_size 5
    # it reads None; the other days (50 users: 5 or 30 deny) are unchanged.
    (shift,) = by_kind(_thin_day(tmp_path, feature=False, users=50), "sparsity.shift")
    (values,) = shift["evidence"]["series"]["series"].values()
    assert values == [0.9] * 15 + [None] + [0.9] * 4 + [0.4] * 10
    # and the chart says why a day is blank
    note = "1 of 30 days not drawn: fewer than 5 users that day, whose figure would tell"
    assert shift["evidence"]["series"]["note"].startswith(note)
    from privdiag.report import charts

    assert charts.series(shift["evidence"]["series"]).note.startswith(note)


@pytest.mark.parametrize("thin", [15, 20])
def test_a_blank_day_is_neither_named_nor_in_the_shares(tmp_path, thin):
    # One user on a blank day, who denied. On 2026-10-21 (thin=20) the title named that day,
    # telling that its user sided with the days after, and the after share, over that user
    # too, read 72 / 181 = 0.3978 where every day drawn reads 0.4; on 2026-10-16 (thin=15)
    # the before share read 342 / 381 = 0.8976 beside days of 0.9. The change now starts on
    # the next day drawn and its shares are the drawn days': 18 / 20 = 0.9 a day before,
    # 8 / 20 = 0.4 after.
    (shift,) = by_kind(_thin_day(tmp_path, feature=False, thin=thin), "sparsity.shift")
    assert shift["metrics"]["change_day"] == {15: "2026-10-21", 20: "2026-10-22"}[thin]
    assert (shift["metrics"]["before"], shift["metrics"]["after"]) == (0.9, 0.4)
    assert shift["metrics"]["changes"][0]["before"] == 0.9
    named = [shift["title"], shift["recommendation"], shift["metrics"]]
    assert f"2026-10-{thin + 1}" not in str([*named, shift["evidence"]["series"]["marks"]])


def test_a_feature_chart_hides_the_same_days_of_the_rate_it_draws(tmp_path):
    # The feature's missing share shifts the same day as the rate, and its chart draws the
    # rate beside it. That line showed 0.0 on 2026-10-16, which the rate's own chart hides.
    doc = _thin_day(tmp_path, feature=True, users=50)
    found = {f["location"].get("feature") or "rate": f for f in by_kind(doc, "sparsity.shift")}
    lines = found["campaign"]["evidence"]["series"]["series"]
    assert lines["analytics consent rate"] == [0.9] * 15 + [None] + [0.9] * 4 + [0.4] * 10
    (rate,) = found["rate"]["evidence"]["series"]["series"].values()
    assert rate == lines["analytics consent rate"]


def test_a_feature_missing_share_hides_its_days_of_too_few_users(tmp_path):
    # On 2026-10-16 one user's page view lacks campaign (the user denied): the feature's own
    # line showed 1.0 that day, what that user sent. Other days: 5 of 50 missing (0.1),
    # then 30 of 50 (0.6).
    doc = _thin_day(tmp_path, feature=True, users=50)
    (campaign,) = [f for f in by_kind(doc, "sparsity.shift") if "feature" in f["location"]]
    line = campaign["evidence"]["series"]["series"]["campaign missing share"]
    assert line == [0.1] * 15 + [None] + [0.1] * 4 + [0.6] * 10


class _Counting:
    """A DuckDB connection that counts the statements run through it."""

    def __init__(self, con):
        self.con, self.statements = con, 0

    def execute(self, sql, *args):
        self.statements += 1
        return self.con.execute(sql, *args)


def test_the_days_of_too_few_users_of_every_shifting_series_take_one_query(monkeypatch):
    # One grouped distinct count per shifting series ran over the events; one pass now
    # serves them all, with the same days. By hand, at min_group_size 3 (1 or 2 users hide
    # a day): web's ads rate (users deciding ads): 10-01 u1,u2 -> hidden; 10-02 u1,u2,u3 ->
    # drawn before privacy review 25, now blank for its one denial (u3) only. web's feature
    # carried by purchase: 10-01 u3 -> hidden; 10-02 only an event without a user id ->
    # shown. app's ads rate: 10-01 u9 -> hidden; web's events do not count for it.
    import duckdb

    from privdiag.checks import shift_privacy as shift
    from privdiag.checks.context import ScanContext

    con = duckdb.connect()
    con.execute("""CREATE TABLE scan_events AS SELECT * FROM (VALUES
        ('web', TIMESTAMPTZ '2026-10-01 10:00:00+00', 'page_view', 'u1', 'granted', NULL),
        ('web', TIMESTAMPTZ '2026-10-01 11:00:00+00', 'page_view', 'u2', 'denied', NULL),
        ('web', TIMESTAMPTZ '2026-10-01 12:00:00+00', 'purchase', 'u3', 'unknown', 'x'),
        ('web', TIMESTAMPTZ '2026-10-02 10:00:00+00', 'page_view', 'u1', 'granted', NULL),
        ('web', TIMESTAMPTZ '2026-10-02 11:00:00+00', 'page_view', 'u2', 'granted', NULL),
        ('web', TIMESTAMPTZ '2026-10-02 12:00:00+00', 'page_view', 'u3', 'denied', NULL),
        ('web', TIMESTAMPTZ '2026-10-02 13:00:00+00', 'purchase', NULL, 'unknown', 'x'),
        ('app', TIMESTAMPTZ '2026-10-01 10:00:00+00', 'page_view', 'u9', 'denied', NULL)
    ) AS t(source, ts, event_name, user_key, state_ads, f)""")
    counting = _Counting(con)
    ctx = ScanContext(
        con=counting,
        config=config(min_group_size=3),
        features={"f": "VARCHAR"},
        mapping={},
        purposes=["ads"],
    )
    base = _series([1, 2], [4, 4])
    fired = [
        replace(base, feature=None, purpose="ads"),
        replace(base, carriers=["purchase"]),
        replace(base, source="app", feature=None, purpose="ads"),
    ]
    days = [({"2026-10-01"}, {"2026-10-02"}), ({"2026-10-01"}, set()), ({"2026-10-01"}, set())]
    assert _few_days(ctx, fired) == days
    assert counting.statements == 1
    # more series than one query's mask holds: a query per that many, the same days
    monkeypatch.setattr(shift, "FEW_DAYS_SERIES", 2)
    assert _few_days(ctx, fired) == days
    assert counting.statements == 3


def _banner_by_gcd(tmp_path, *, personalization_apart: bool = False) -> dict:
    """Consent Mode read through gcd (trial 26's (4)): 30 users a day view a page for 20 days;
    from 2026-10-11 four in five deny ad_storage, ad_user_data and ad_personalization in one
    banner choice (gcd 11q1t1q1q5; all granted before, 11t1t1t1t5), and only they send no
    adclick (unclassified). With ``personalization_apart`` ad_personalization stays granted
    for the users whose number ends in 1 (1 in 10), another series."""
    rows = ["event_id,ts,event_name,user_id,gcd,adclick"]
    for day in range(1, 21):
        for u in range(30):
            denied = day > 10 and u % 5 != 0
            last = "t" if personalization_apart and u % 10 == 1 else "q"
            gcd = f"11q1t1q1{last}5" if denied else "11t1t1t1t5"
            k = day * 100 + u
            click = "" if denied else f"c{k}"
            rows.append(f"e{k},2026-10-{day:02d}T10:00:00Z,page_view,u{k},{gcd},{click}")
    events = write(tmp_path / "web.csv", "\n".join(rows) + "\n")
    return run_scan([events], config=config(min_group_size=5)).to_dict()


def test_consent_rates_that_one_gcd_change_moves_alike_are_linked_to_the_first(tmp_path):
    """One ad_storage change read through gcd gave three high `sparsity.shift` findings,
    ads, ad_user_data and ad_personalization (each 100% to 20% on 2026-10-11), side by
    side, and the unclassified adclick's shift named all three rates. The two whose daily
    series is the ads rate's, day by day, are now linked to its finding and say so; adclick's
    names the ads rate alone."""
    doc = _banner_by_gcd(tmp_path)
    rates = {f["location"]["purpose"]: f for f in by_kind(doc, "sparsity.shift")
             if "purpose" in f["location"]}  # fmt: skip
    assert sorted(rates) == ["ad_personalization", "ad_user_data", "ads"]
    assert rates["ads"]["caused_by"] == []
    assert rates["ads"]["title"] == "The ads consent rate fell from 100% to 20% on 2026-10-11"
    for purpose in ("ad_user_data", "ad_personalization"):
        assert rates[purpose]["caused_by"] == [rates["ads"]["id"]]
        assert rates[purpose]["title"] == (
            f"The {purpose} consent rate fell from 100% to 20% on 2026-10-11 (as the ads "
            "consent rate did, day by day: one consent change)"
        )
    (click,) = [f for f in by_kind(doc, "sparsity.shift") if "feature" in f["location"]]
    assert click["title"] == (
        "adclick missing share rose from 0% to 80% on 2026-10-11 (the ads consent rate went "
        "from 100% to 20%)"
    )
    assert click["caused_by"] == [rates["ads"]["id"]]


def test_consent_rates_that_differ_on_a_day_stay_apart(tmp_path):
    """ad_personalization kept by 3 users a day more from 2026-10-11 (100% to 30%) is a
    change of its own: its finding names no other, as before."""
    doc = _banner_by_gcd(tmp_path, personalization_apart=True)
    rates = {f["location"]["purpose"]: f for f in by_kind(doc, "sparsity.shift")
             if "purpose" in f["location"]}  # fmt: skip
    assert rates["ad_personalization"]["caused_by"] == []
    assert "one consent change" not in rates["ad_personalization"]["title"]
    assert rates["ad_user_data"]["caused_by"] == [rates["ads"]["id"]]
