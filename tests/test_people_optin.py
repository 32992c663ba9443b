"""people.optin_drop on small hand-built consent logs, the generator's plant, and Snowplow.

Versions log: under notice v1, 40 persons decide first on analytics and 30 grant (75%);
under v2 (from 2026-10-06) 40 decide and 16 grant (40%). Pooled share 46/80 = 0.575,
se = sqrt(0.575 * 0.425 * (1/40 + 1/40)) = 0.11055, z = 0.35 / 0.11055 = 3.166,
one-sided p = 0.000772; one test, so q = p.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from privdiag.checks.context import hide
from privdiag.checks.disclosure import shown_groups, small_split, suppress_bias
from privdiag.checks.optin import bh_adjust, build_decisions, drop_p_values, optin_rates
from privdiag.config import Config, Thresholds, load_config
from privdiag.engine import connect
from privdiag.generate import generate_scenario
from privdiag.ingest import load
from privdiag.scan import run_scan
from tests.helpers import by_kind, config


def _log(folder: Path, groups: list[tuple[str, str, int, int]], purpose: str = "analytics"):
    """Write events and a consent log: per (version, day, persons, granted) one decision each.

    Person i of a group is in France when i is even, else in Spain; device is mobile.
    """
    events = ["event_id,ts,event_name,user_id,session_id,country,device"]
    consent = ["user_id,purpose,status,ts,version,source"]
    n = 0
    for version, day, persons, granted in groups:
        for i in range(persons):
            n += 1
            country = "France" if i % 2 == 0 else "Spain"
            events.append(f"e{n},{day}T08:00:00Z,page_view,u{n},s{n},{country},mobile")
            status = "granted" if i < granted else "denied"
            consent.append(f"u{n},{purpose},{status},{day}T09:00:00Z,{version},shop")
    (folder / "events.csv").write_text("\n".join(events) + "\n", encoding="utf-8")
    (folder / "consent.csv").write_text("\n".join(consent) + "\n", encoding="utf-8")
    return [str(folder / "events.csv")], [str(folder / "consent.csv")]


def _scan(folder: Path, groups, **kwargs):
    data, consent = _log(folder, groups, **kwargs)
    return run_scan(data, consent=consent, config=config()).to_dict()


def test_version_drop_with_exact_rates(tmp_path):
    doc = _scan(tmp_path, [("v1", "2026-10-01", 40, 30), ("v2", "2026-10-06", 40, 16)])
    [f] = by_kind(doc, "people.optin_drop")
    assert f["location"] == {"purpose": "analytics", "scenario": "notice v2"}
    m = f["metrics"]
    assert (m["optin_before"], m["optin_after"], m["drop"]) == (0.75, 0.4, 0.35)
    assert (m["persons_before"], m["persons_after"]) == (40, 40)
    assert m["p_value"] == pytest.approx(0.000772, rel=1e-2)
    assert m["q_value"] == m["p_value"]
    assert (m["version_before"], m["version"], m["change_day"]) == ("v1", "v2", "2026-10-06")
    assert f["severity"] == "high"
    # France has the even persons: 15 of 20 grant under v1, 8 of 20 under v2
    rows = {(r[0], r[1]): r[2:] for r in f["evidence"]["table"]["rows"]}
    assert rows[("region", "France")] == [20, 0.75, 20, 0.4]
    assert rows[("device", "mobile")] == [40, 0.75, 40, 0.4]
    rates = doc["evidence"]["optin_rates"]["version"]
    assert [(r["value"], r["decisions"], r["granted"]) for r in rates] == [
        ("v1", 40, 30),
        ("v2", 40, 16),
    ]


def test_no_drop_gives_nothing(tmp_path):
    doc = _scan(tmp_path, [("v1", "2026-10-01", 40, 30), ("v2", "2026-10-06", 40, 30)])
    assert by_kind(doc, "people.optin_drop") == []
    assert {"name": "people.optin_drop", "status": "ran", "reason": ""} in doc["checks"]


def test_a_rise_is_no_drop(tmp_path):
    doc = _scan(tmp_path, [("v1", "2026-10-01", 40, 16), ("v2", "2026-10-06", 40, 30)])
    assert by_kind(doc, "people.optin_drop") == []


def test_small_samples_do_not_fire(tmp_path):
    # 90% -> 20% is a large drop, but 10 persons per version are too few
    doc = _scan(tmp_path, [("v1", "2026-10-01", 10, 9), ("v2", "2026-10-06", 10, 2)])
    assert by_kind(doc, "people.optin_drop") == []


def test_date_drop_without_versions(tmp_path):
    # days 1-5: 10 persons a day, 8 grant; days 6-10: 10 a day, 3 grant -> split at day 6
    groups = [("", f"2026-10-{d:02d}", 10, 8 if d <= 5 else 3) for d in range(1, 11)]
    doc = _scan(tmp_path, groups)
    [f] = by_kind(doc, "people.optin_drop")
    assert f["location"] == {"purpose": "analytics", "scenario": "from 2026-10-06"}
    assert (f["metrics"]["optin_before"], f["metrics"]["optin_after"]) == (0.8, 0.3)
    assert (f["metrics"]["persons_before"], f["metrics"]["persons_after"]) == (50, 50)


def test_only_the_first_decision_counts(tmp_path):
    data, consent = _log(tmp_path, [("v1", "2026-10-01", 4, 1)])
    with open(consent[0], "a", encoding="utf-8") as fh:  # u2 denied first, grants a day later
        fh.write("u2,analytics,granted,2026-10-02T09:00:00Z,v1,shop\n")
    con = connect()
    load(con, data, consent, Config())
    build_decisions(con)
    [row] = optin_rates(con, "version")
    assert (row["decisions"], row["granted"]) == (4, 1)


def test_no_consent_log_skips_with_a_reason(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("event_id,ts,event_name,user_id\ne1,2026-10-01T08:00:00Z,page_view,u1\n")
    doc = run_scan([str(path)], config=config()).to_dict()
    [check] = [c for c in doc["checks"] if c["name"] == "people.optin_drop"]
    assert check["status"] == "skipped" and "consent" in check["reason"]


def test_p_values_and_bh_by_hand():
    p = drop_p_values([30, 30], [40, 40], [16, 30], [40, 40])
    assert p[0] == pytest.approx(0.000772, rel=1e-2) and p[1] == pytest.approx(0.5)
    assert list(bh_adjust([0.01, 0.04, 0.03])) == pytest.approx([0.03, 0.04, 0.04])


@pytest.mark.parametrize("seed,users", [(7, 600), (11, 300)])
def test_generator_plant_found_with_its_rates(tmp_path, seed, users):
    info = generate_scenario(tmp_path, seed=seed, users=users)
    cfg = load_config(tmp_path / "privdiag.toml")
    doc = run_scan([str(info.paths["web"]), str(info.paths["app"])], config=cfg).to_dict()
    found = {f["location"]["purpose"]: f for f in by_kind(doc, "people.optin_drop")}
    for fault in info.truth["faults"]:
        if fault["kind"] != "people.optin_drop":
            continue
        f = found[fault["location"]["purpose"]]
        assert f["location"]["scenario"] == "notice v2"
        assert round(f["metrics"]["optin_before"], 3) == fault["metrics"]["optin_v1"]
        assert round(f["metrics"]["optin_after"], 3) == fault["metrics"]["optin_v2"]


def _snowplow_first_decisions(realdata: Path) -> Counter:
    """Per version: persons whose first consent_preferences event (dbt consent log) is under it,
    and how many of those granted statistics (allow_all, or allow_selected listing it)."""
    path = realdata / "snowplow/expected/snowplow_web_consent_log_expected.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        prefs = [r for r in csv.DictReader(fh) if r["event_name"] == "consent_preferences"]
    first: dict[str, dict] = {}
    for r in sorted(prefs, key=lambda r: (r["derived_tstamp"], r["event_id"])):
        first.setdefault(r["domain_userid"], r)
    counts: Counter = Counter()
    for r in first.values():
        scopes = [s.strip() for s in r["consent_scopes"].split(",")]
        granted = r["event_type"] == "allow_all" or (
            r["event_type"] == "allow_selected" and "statistics" in scopes
        )
        counts[(r["consent_version"], "persons")] += 1
        counts[(r["consent_version"], "granted")] += granted
    return counts


def test_snowplow_optin_per_version_agrees_with_dbt_models(realdata):
    con = connect()
    load(con, [str(realdata / "snowplow/source/snowplow_web_events.csv")], [], Config())
    build_decisions(con)
    expected = _snowplow_first_decisions(realdata)
    mine = {r["value"]: r for r in optin_rates(con, "version") if r["purpose"] == "analytics"}
    assert set(mine) == {"1.0", "2.0"}
    for version, row in mine.items():
        assert row["decisions"] == expected[(version, "persons")]
        assert row["granted"] == expected[(version, "granted")]
    assert sum(r["decisions"] for r in mine.values()) == 25  # persons with a decision


def test_snowplow_per_person_decisions_agree_with_dbt_users(realdata):
    con = connect()
    load(con, [str(realdata / "snowplow/source/snowplow_web_events.csv")], [], Config())
    build_decisions(con)
    path = realdata / "snowplow/expected/snowplow_web_consent_users_expected.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        users = {r["domain_userid"]: r for r in csv.DictReader(fh)}
    rows = con.execute(
        "SELECT person, count(*), arg_max(granted, ts), arg_max(version, ts) "
        "FROM optin_decisions WHERE purpose = 'analytics' GROUP BY 1"
    ).fetchall()
    assert len(rows) == sum(int(u["consent_events"]) > 0 for u in users.values())
    for person, decisions, last_granted, last_version in rows:
        user = users[person]
        assert decisions == int(user["consent_events"])
        scopes = [s.strip() for s in user["last_consent_scopes"].split(",")]
        assert last_granted == (
            user["last_consent_event_type"] == "allow_all" or "statistics" in scopes
        )
        assert last_version == user["last_consent_version"]


def test_thresholds_alpha_is_respected(tmp_path):
    data, consent = _log(tmp_path, [("v1", "2026-10-01", 40, 30), ("v2", "2026-10-06", 40, 16)])
    strict = Config(thresholds=Thresholds(min_group_size=1, alpha=0.0001))
    doc = run_scan(data, consent=consent, config=strict).to_dict()
    assert by_kind(doc, "people.optin_drop") == []


def test_a_users_decisions_stay_one_person(tmp_path):
    # u1's first record coincides with an event carrying a device id, the second does not:
    # the user stays one person (the consent log's user), whose first decision is the denial
    events = tmp_path / "e.csv"
    events.write_text(
        "event_id,ts,event_name,user_id,anonymous_id\n"
        "e1,2026-10-01T09:00:00Z,page_view,u1,d1\n"
        "e2,2026-10-01T11:00:00Z,page_view,u1,d1\n",
        encoding="utf-8",
    )
    log = tmp_path / "c.csv"
    log.write_text(
        "user_id,purpose,status,ts,version,source\n"
        "u1,analytics,denied,2026-10-01T09:00:00Z,v1,e\n"
        "u1,analytics,granted,2026-10-01T10:00:00Z,v1,e\n",
        encoding="utf-8",
    )
    con = connect()
    load(con, [str(events)], [str(log)], Config())
    build_decisions(con)
    [row] = optin_rates(con, "version")
    assert (row["decisions"], row["granted"]) == (1, 0)
    persons = con.execute("SELECT DISTINCT person FROM optin_decisions").fetchall()
    assert persons == [("u1",)]


def test_small_groups_hide_their_opt_in_counts(tmp_path):
    """min_group_size 5: v1 has 38 of 40 granting (2 denied: a small group), v2 16 of 40,
    v3 only 3 persons. France holds the even persons: 19 of 20 grant under v1, 8 under v2."""
    groups = [("v1", "2026-10-01", 40, 38), ("v2", "2026-10-06", 40, 16)]
    data, consent = _log(tmp_path, groups + [("v3", "2026-10-08", 3, 1)])
    doc = run_scan(data, consent=consent, config=config(min_group_size=5)).to_dict()
    rates = {r["value"]: r for r in doc["evidence"]["optin_rates"]["version"]}
    assert rates["v1"] == {
        "purpose": "analytics",
        "value": "v1",
        "decisions": 40,
        "granted": None,
        "optin": None,
        "suppressed": ["granted", "optin"],
        "min_group_size": 5,
    }
    # v2 is hidden too: the source's 55 of 83 less v2's 16 would tell that v1 and v3 hold only
    # 4 who denied
    assert (rates["v2"]["decisions"], rates["v2"]["granted"], rates["v2"]["optin"]) == (
        40,
        None,
        None,
    )
    assert (rates["v1"]["decisions"], rates["v2"]["decisions"]) == (40, 40)
    assert "v3" not in rates  # 3 deciders: the value itself is left out of the breakdown
    assert doc["evidence"]["optin_rates"]["source"][0]["granted"] == 55
    # v1 against v2 hides both sides: withheld; v2 against v3 is not tested (3 persons)
    assert by_kind(doc, "people.optin_drop") == []
    assert doc["evidence"]["optin_comparisons_withheld"] == 1


def _cookieless_log(folder: Path, groups: list[tuple[str, str, int, int, bool]]):
    """Like :func:`_log`, but a group whose last field is False has no events at all (no
    cookie: its decisions carry no region or device). Groups: (version, day, persons,
    granted, seen)."""
    events = ["event_id,ts,event_name,user_id,session_id,country,device"]
    consent = ["user_id,purpose,status,ts,version,source"]
    n = 0
    for version, day, persons, granted, seen in groups:
        for i in range(persons):
            n += 1
            if seen:
                country = "France" if i % 2 == 0 else "Spain"
                events.append(f"e{n},{day}T08:00:00Z,page_view,u{n},s{n},{country},mobile")
            status = "granted" if i < granted else "denied"
            consent.append(f"u{n},analytics,{status},{day}T09:00:00Z,{version},shop")
    (folder / "events.csv").write_text("\n".join(events) + "\n", encoding="utf-8")
    (folder / "consent.csv").write_text("\n".join(consent) + "\n", encoding="utf-8")
    return [str(folder / "events.csv")], [str(folder / "consent.csv")]


def test_decisions_without_a_region_bias_the_breakdown(tmp_path):
    """40 persons with a region: 30 grant (75%); 20 without events (no region, no device):
    5 grant (25%). Pooled 35/60, se = sqrt(35/60 * 25/60 * (1/20 + 1/40)) = 0.135015,
    z = 0.5 / 0.135015 = 3.7033, two-sided p = 0.000213; Holm over region and device (channel
    has no known value, version and source no missing one): q = 0.000426."""
    groups = [("v1", "2026-10-01", 40, 30, True), ("v1", "2026-10-01", 20, 5, False)]
    data, consent = _cookieless_log(tmp_path, groups)
    doc = run_scan(data, consent=consent, config=config(min_group_size=5)).to_dict()
    biased = doc["evidence"]["optin_missing_values"]
    assert [(b["dimension"], b["purpose"]) for b in biased] == [
        ("region", "analytics"),
        ("device", "analytics"),
    ]
    region = biased[0]
    assert (region["decisions_without_value"], region["optin_without_value"]) == (20, 0.25)
    assert (region["decisions_with_value"], region["optin_with_value"]) == (40, 0.75)
    assert region["q_value"] == pytest.approx(0.000426, rel=1e-2)
    assert "20 first decisions have no region and opt in at 25%, against 75%" in region["note"]


def test_a_region_missing_at_random_is_no_bias(tmp_path):
    # the 20 without a region grant at 75% too: no bias reported
    groups = [("v1", "2026-10-01", 40, 30, True), ("v1", "2026-10-01", 20, 15, False)]
    data, consent = _cookieless_log(tmp_path, groups)
    doc = run_scan(data, consent=consent, config=config(min_group_size=5)).to_dict()
    assert "optin_missing_values" not in doc["evidence"]


def test_no_version_drop_from_known_versions_when_the_unversioned_differ(tmp_path):
    """v1: 27 of 30 grant, v2: 15 of 30 (a drop from the known versions alone), but 40
    decisions have no version and 4 grant (10% against 70%): the version breakdown is biased,
    so no drop is claimed by version; the date test over all decisions decides instead."""
    groups = [
        ("v1", "2026-10-01", 30, 27, True),
        ("v2", "2026-10-06", 30, 15, True),
        ("", "2026-10-01", 20, 2, True),
        ("", "2026-10-06", 20, 2, True),
    ]
    data, consent = _cookieless_log(tmp_path, groups)
    doc = run_scan(data, consent=consent, config=config(min_group_size=5)).to_dict()
    assert [
        f for f in by_kind(doc, "people.optin_drop") if f["metrics"]["change"] == "version"
    ] == []
    biased = doc["evidence"]["optin_missing_values"]
    assert ("version", "analytics") in [(b["dimension"], b["purpose"]) for b in biased]


WITHHELD_NOTE = (
    "1 opt-in comparison before and after a notice version or date not reported, drop or "
    "not: a side's rate is hidden (under {k} persons granted or denied); a scan with "
    "min_group_size = 1, kept off shared reports, shows them"
)


@pytest.mark.parametrize("k", [2, 3])
def test_a_drop_with_a_hidden_side_is_withheld_with_a_count(tmp_path, k):
    """v1: 38 of 40 grant (2 deny), v2: 16 of 40. Pooled 54/80 = 0.675, se = sqrt(0.675 *
    0.325 * 2/40) = 0.10473, z = 0.55 / 0.10473 = 5.25: a drop of 0.55, high. At k = 2 the
    2 who denied are a group of k: the drop is reported with its rates. At k = 3 v1's rate is
    hidden (the 2's choice), and v2's with it (the source's 54 of 80 less v2's 16 gives v1's
    38); a drop from a hidden 95% would tell that few denied under v1, so the comparison is
    withheld and counted, not reported with a neutral title or severity."""
    groups = [("v1", "2026-10-01", 40, 38), ("v2", "2026-10-06", 40, 16)]
    data, consent = _log(tmp_path, groups)
    doc = run_scan(data, consent=consent, config=config(min_group_size=k)).to_dict()
    found = by_kind(doc, "people.optin_drop")
    if k == 2:
        [f] = found
        assert f["title"] == (
            "analytics opt-in at persons' first decision fell from 95% to 40% with notice "
            "version v2 (after v1)"
        )
        assert (f["severity"], f["metrics"]["drop"]) == ("high", 0.55)
        assert "optin_comparisons_withheld" not in doc["evidence"]
        return
    assert found == []
    assert doc["evidence"]["optin_comparisons_withheld"] == 1
    assert WITHHELD_NOTE.format(k=3) in doc["evidence"]["notes"]
    assert doc["evidence"]["optin_rates"]["source"][0]["granted"] == 54
    assert "95%" not in str(doc) and "fell" not in str(doc)


def test_a_comparison_with_a_hidden_side_is_counted_drop_or_not(tmp_path):
    """k = 3: v1 16 of 40 grant, v2 38 of 40 (2 deny): opt-in rose, v2's rate (and v1's with
    it) is hidden. The comparison is counted as the drop above is, so the count does not
    tell which way opt-in went."""
    groups = [("v1", "2026-10-01", 40, 16), ("v2", "2026-10-06", 40, 38)]
    data, consent = _log(tmp_path, groups)
    doc = run_scan(data, consent=consent, config=config(min_group_size=3)).to_dict()
    assert doc["evidence"]["optin_comparisons_withheld"] == 1
    assert WITHHELD_NOTE.format(k=3) in doc["evidence"]["notes"]


def test_a_group_where_everyone_chose_alike_is_hidden_however_large(tmp_path):
    """min_group_size 5: all 40 grant under v1 (100%: each one's choice), 16 of 40 under v2.
    Pooled 56/80 = 0.7, se = sqrt(0.7 * 0.3 * 2/40) = 0.10247, z = 0.6 / 0.10247 = 5.86:
    a drop. Its rate before, v1's rate, France's and Spain's under v1 (20 of 20 each) and the
    first day's point are hidden; so is v2's 40%, which the total less it would tell."""
    groups = [("v1", "2026-10-01", 40, 40), ("v2", "2026-10-06", 40, 16)]
    data, consent = _log(tmp_path, groups)
    doc = run_scan(data, consent=consent, config=config(min_group_size=5)).to_dict()
    rates = {r["value"]: r for r in doc["evidence"]["optin_rates"]["version"]}
    assert (rates["v1"]["decisions"], rates["v1"]["granted"], rates["v1"]["optin"]) == (
        40,
        None,
        None,
    )
    assert rates["v1"]["suppressed"] == ["granted", "optin"]
    # v2 hidden too: the source's 56 of 80 less v2's 16 would give v1's 40 of 40
    assert (rates["v2"]["granted"], rates["v2"]["optin"]) == (None, None)
    assert by_kind(doc, "people.optin_drop") == []
    assert doc["evidence"]["optin_comparisons_withheld"] == 1
    assert "100%" not in str(doc) and "1.0," not in str(doc["evidence"]["optin_rates"])

    # with min_group_size 1 nothing is hidden: 100% is shown
    shown = run_scan(data, consent=consent, config=config()).to_dict()
    [f] = by_kind(shown, "people.optin_drop")
    assert (f["metrics"]["optin_before"], f["metrics"]["drop"]) == (1.0, 0.6)
    assert f["title"].startswith(
        "analytics opt-in at persons' first decision fell from 100% to 40%"
    )


@pytest.mark.parametrize(
    "decisions,granted,k,hidden",
    [
        (40, 38, 5, True),  # 2 denied
        (40, 40, 5, True),  # everyone granted
        (40, 0, 5, True),  # everyone denied
        (40, 5, 5, False),  # 5 granted, 35 denied
        (40, 35, 5, False),
        (40, 36, 5, True),  # 4 denied
        (40, 40, 1, False),  # k = 1 hides nothing
        (1, 0, 1, False),
    ],
)
def test_small_split_by_hand(decisions, granted, k, hidden):
    assert small_split(decisions, granted, k) is hidden


def test_bias_entry_with_a_unanimous_side_hides_both_sides_rates():
    entry = {
        "dimension": "region",
        "purpose": "analytics",
        "decisions_without_value": 20,
        "granted_without_value": 0,  # all 20 denied
        "optin_without_value": 0.0,
        "decisions_with_value": 40,
        "granted_with_value": 30,
        "optin_with_value": 0.75,
        "note": "20 first decisions have no region and opt in at 0%",
    }
    out = suppress_bias(entry, 5)
    assert (out["granted_without_value"], out["optin_without_value"]) == (None, None)
    # the other side too: the purpose's total (60, 30 granted) less it would give 0 of 20
    assert (out["granted_with_value"], out["optin_with_value"]) == (None, None)
    assert out["suppressed"] == [
        "granted_without_value",
        "optin_without_value",
        "granted_with_value",
        "optin_with_value",
    ]
    assert "0%" not in out["note"] and "under 5 persons granted or denied" in out["note"]


def test_rates_by_version_and_day_are_computed_once(tmp_path, monkeypatch):
    from privdiag.checks import optin

    asked: list[str] = []
    real = optin.optin_rates

    def counting(con, dimension):
        asked.append(dimension)
        return real(con, dimension)

    monkeypatch.setattr(optin, "optin_rates", counting)
    doc = _scan(tmp_path, [("v1", "2026-10-01", 40, 30), ("v2", "2026-10-06", 40, 16)])
    assert len(by_kind(doc, "people.optin_drop")) == 1
    assert sorted(asked) == sorted([*optin.DIMENSIONS, "day"])


def test_hide_adds_to_what_was_hidden_before():
    metrics = {"users": None, "events": 3, "suppressed": ["users"], "min_group_size": 5}
    assert hide(metrics, ["events", "users", "events"], 5) == {
        "users": None,
        "events": None,
        "suppressed": ["users", "events"],
        "min_group_size": 5,
    }
    assert hide({"events": 3}, [], 5) == {"events": 3}


def _regions_log(folder: Path) -> tuple[list[str], list[str]]:
    """57 persons in Germany (28 grant), 3 in France (all deny); one source."""
    events = ["event_id,ts,event_name,user_id,session_id,country"]
    consent = ["user_id,purpose,status,ts,source"]
    for n in range(60):
        country, status = (
            ("Germany", "granted" if n % 2 else "denied")
            if n < 57
            else (
                "France",
                "denied",
            )
        )
        events.append(f"e{n},2026-10-01T08:00:00Z,page_view,u{n},s{n},{country}")
        consent.append(f"u{n},analytics,{status},2026-10-01T09:00:00Z,shop")
    (folder / "events.csv").write_text("\n".join(events) + "\n", encoding="utf-8")
    (folder / "consent.csv").write_text("\n".join(consent) + "\n", encoding="utf-8")
    return [str(folder / "events.csv")], [str(folder / "consent.csv")]


def test_a_left_out_value_is_not_told_by_the_total_less_the_values_shown(tmp_path):
    """min_group_size 5: France's 3 persons are left out of the breakdown by region, but the
    source's 28 of 60 less Germany's 28 of 57 told that all 3 denied. Germany's opt-in is
    hidden too; its persons are still shown."""
    data, consent = _regions_log(tmp_path)
    doc = run_scan(data, consent=consent, config=config(min_group_size=5)).to_dict()
    rates = doc["evidence"]["optin_rates"]
    assert [(r["decisions"], r["granted"]) for r in rates["source"]] == [(60, 28)]
    assert [(r["value"], r["decisions"], r["granted"], r["optin"]) for r in rates["region"]] == [
        ("Germany", 57, None, None)
    ]


def test_shown_groups_hides_the_smallest_until_the_rest_is_no_small_split():
    # (persons, granted): a unanimous 10 alone would be told by the total less the others
    groups = [(10, 10), (30, 12), (50, 20)]
    assert shown_groups(groups, [True, True, True], 5) == [False, False, True]
    # a left-out group of 3 with 1 granted: the rest (3, 1) is a small split
    assert shown_groups([(3, 1), (40, 20)], [False, True], 5) == [False, False]
    assert shown_groups([(40, 20), (40, 20)], [True, True], 5) == [True, True]
    assert shown_groups([(3, 1), (40, 20)], [False, True], 1) == [False, True]


def test_a_date_drops_sides_are_hidden_together(tmp_path):
    """min_group_size 5: 40 grant of 40 up to 2026-10-05, then 16 of 40; no versions. The
    sides add up to the source's 56 of 80, so the rate after (40%) would tell the one
    before: the comparison is withheld. At min_group_size 1 it is a drop of 0.6 (pooled
    56/80 = 0.7, z = 0.6 / 0.10247 = 5.86)."""
    groups = [("", "2026-10-01", 40, 40), ("", "2026-10-06", 40, 16)]
    data, consent = _log(tmp_path, groups)
    doc = run_scan(data, consent=consent, config=config(min_group_size=5)).to_dict()
    assert by_kind(doc, "people.optin_drop") == []
    assert doc["evidence"]["optin_comparisons_withheld"] == 1
    assert WITHHELD_NOTE.format(k=5) in doc["evidence"]["notes"]
    shown = run_scan(data, consent=consent, config=config()).to_dict()
    [f] = by_kind(shown, "people.optin_drop")
    assert (f["metrics"]["change"], f["metrics"]["drop"]) == ("date", 0.6)


def test_a_bias_entry_is_hidden_where_the_rates_hide_the_none_value(tmp_path):
    """min_group_size 5. Without a region: 30 persons, 25 grant; Germany 40, 10 grant;
    France 3, none grant (left out). The rates by region hide "(none)" (the smaller) so that
    the source's 35 of 73 less Germany's 10 tells nothing of France: the bias entry showed
    its 25, which gave France's 0 back."""
    events = ["event_id,ts,event_name,user_id,session_id,country"]
    consent = ["user_id,purpose,status,ts,source"]
    for n, (country, granted) in enumerate(
        [("", i < 25) for i in range(30)]
        + [("Germany", i < 10) for i in range(40)]
        + [("France", False)] * 3
    ):
        if country:
            events.append(f"e{n},2026-10-01T08:00:00Z,page_view,u{n},s{n},{country}")
        status = "granted" if granted else "denied"
        consent.append(f"u{n},analytics,{status},2026-10-01T09:00:00Z,shop")
    (tmp_path / "e.csv").write_text("\n".join(events) + "\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text("\n".join(consent) + "\n", encoding="utf-8")
    cfg = config(min_group_size=5)
    doc = run_scan([str(tmp_path / "e.csv")], consent=[str(tmp_path / "c.csv")], config=cfg)
    evidence = doc.to_dict()["evidence"]
    region = {r["value"]: r["granted"] for r in evidence["optin_rates"]["region"]}
    assert region == {"(none)": None, "Germany": 10}
    [entry] = [b for b in evidence["optin_missing_values"] if b["dimension"] == "region"]
    assert (entry["granted_without_value"], entry["granted_with_value"]) == (None, None)
    assert (entry["decisions_without_value"], entry["decisions_with_value"]) == (30, 43)


def test_a_breakdown_row_is_hidden_where_the_rates_hide_its_value(tmp_path):
    """min_group_size 5, no versions. Day 1: Austria 10 (5 grant), Belgium 30 (24 grant);
    day 2: Austria 10 (5), Belgium 30 (8), Cyprus 3 (none grant), Denmark 24 (12). The rates
    by region leave Cyprus out and hide Austria (smaller than Denmark) so that the source's
    54 of 107 less Belgium's 32 and Denmark's 12 tells nothing of Cyprus; the date drop's
    table showed Austria's 0.5 on both days, which gave Austria's 10 back, and Cyprus's 0."""
    events = ["event_id,ts,event_name,user_id,session_id,country"]
    consent = ["user_id,purpose,status,ts,source"]
    groups = [
        ("2026-10-01", "Austria", 10, 5),
        ("2026-10-01", "Belgium", 30, 24),
        ("2026-10-06", "Austria", 10, 5),
        ("2026-10-06", "Belgium", 30, 8),
        ("2026-10-06", "Cyprus", 3, 0),
        ("2026-10-06", "Denmark", 24, 12),
    ]
    n = 0
    for day, country, persons, granted in groups:
        for i in range(persons):
            n += 1
            events.append(f"e{n},{day}T08:00:00Z,page_view,u{n},s{n},{country}")
            status = "granted" if i < granted else "denied"
            consent.append(f"u{n},analytics,{status},{day}T09:00:00Z,shop")
    (tmp_path / "e.csv").write_text("\n".join(events) + "\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text("\n".join(consent) + "\n", encoding="utf-8")
    cfg = config(min_group_size=5)
    doc = run_scan([str(tmp_path / "e.csv")], consent=[str(tmp_path / "c.csv")], config=cfg)
    doc = doc.to_dict()
    region = {r["value"]: r["granted"] for r in doc["evidence"]["optin_rates"]["region"]}
    assert region == {"Austria": None, "Belgium": 32, "Denmark": 12}
    [f] = by_kind(doc, "people.optin_drop")
    assert (f["metrics"]["optin_before"], f["metrics"]["optin_after"]) == (0.725, 0.373134)
    rows = {(r[0], r[1]): r[2:] for r in f["evidence"]["table"]["rows"]}
    assert rows[("region", "Austria")] == [10, None, 10, None]
    assert rows[("region", "Belgium")] == [30, 0.8, 30, 0.267]


def _flag_events(folder: Path, days: list[tuple[str, int, int]]) -> list[str]:
    """Write events whose only consent is their own flag: per (day, users, granted), user i
    of the day first sends a page_view with its decision at 08:00, then one with the other
    value at 10:00 (a change of mind that day: not their first decision), and grants the day
    after; a cookieless ping (no user id) denies beside each user."""
    rows = ["event_id,ts,event_name,user_id,consent_analytics"]
    n = 0
    for day, users, granted in days:
        for i in range(users):
            n += 1
            first, later = ("granted", "denied") if i < granted else ("denied", "granted")
            rows += [
                f"a{n},{day}T08:00:00Z,page_view,u{n},{first}",
                f"b{n},{day}T10:00:00Z,page_view,u{n},{later}",
                f"c{n},{day}T11:00:00Z,page_view,,denied",
                f"d{n},2026-10-{int(day[-2:]) + 1:02d}T09:00:00Z,page_view,u{n},granted",
            ]
    (folder / "events.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return [str(folder / "events.csv")]


def test_a_date_drop_from_event_flags_alone(tmp_path):
    # days 1-5: 10 users a day, 8 first grant; days 6-10: 10 a day, 3 -> split at day 6
    days = [(f"2026-10-{d:02d}", 10, 8 if d <= 5 else 3) for d in range(1, 11)]
    doc = run_scan(_flag_events(tmp_path, days), config=config()).to_dict()
    assert {"name": "people.optin_drop", "status": "ran", "reason": ""} in doc["checks"]
    [f] = by_kind(doc, "people.optin_drop")
    assert f["location"] == {"purpose": "analytics", "scenario": "from 2026-10-06"}
    m = f["metrics"]
    assert (m["optin_before"], m["optin_after"]) == (0.8, 0.3)
    assert (m["persons_before"], m["persons_after"]) == (50, 50)
    assert any("consent flags (no consent log)" in n for n in doc["evidence"]["notes"])


def test_flags_without_user_ids_skip_the_opt_in_with_a_reason(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        "event_id,ts,event_name,user_id,consent_analytics\n"
        "e1,2026-10-01T08:00:00Z,page_view,,denied\n",
        encoding="utf-8",
    )
    doc = run_scan([str(path)], config=config()).to_dict()
    [check] = [c for c in doc["checks"] if c["name"] == "people.optin_drop"]
    assert (
        check["status"] == "skipped"
        and "no event with a consent flag has a user id" in (check["reason"])
    )
