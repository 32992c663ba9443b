"""The consent mix: the scan's joint distribution of consent states across purposes, and the
observed scenario of model-check drawing each row's whole combination from it.

Hand-written events, each carrying its own consent flags (analytics, ads):

u1 e1 e2  granted, granted          u5 e7     granted, -
u2 e3     denied, denied            u6 e8     -, -          (no decision: not in the mix)
u3 e4 e5  denied, denied            u7 e9 e10 denied, denied
u4 e6     granted, denied           (no id) e11 granted, granted  (a cookieless ping)

Ten events decide a purpose, each person weighed once: u1..u5 and u7, 6 users with 9
events with a decision, weigh 1 each (u1's two events 1/2 each, ...); the ping weighs 1 /
(9 / 6) = 2/3, a user of the mean activity. In all 6 + 2/3 = 20/3. Analytics: granted by u1,
u4, u5 and the ping, 3 + 2/3 of 20/3 -> rate 11/20 = 0.55. Ads: decided on 20/3 - 1 (u5
leaves it unknown), granted by u1 and the ping, 5/3 of 17/3 -> rate 5/17. Combinations, as
shares of 20/3: denied+denied (u2, u3, u7: 3 users) 3 -> 0.45; granted+granted (u1 and the
ping) 5/3 -> 0.25; granted+denied (u4) 1 -> 0.15; analytics granted, ads unknown (u5) 1 ->
0.15. All denied: 0.45, where the rates taken as independent say 0.45 * 12/17 = 0.318.
(Weighing events, as a scan did before, gave 0.5 and 1/3, and 0.5, 0.3, 0.1, 0.1.)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.errors import InputError
from privdiag.model import run_model_check
from privdiag.model.blindset import observed_scenario
from privdiag.model.consent_mix import MixEntry, pooled_rates, read_mix
from privdiag.model.inputs import consent_from_scan
from privdiag.model.synthetic import make_blind_set
from privdiag.scan import run_scan
from tests.helpers import config, write

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"
EVENTS = """
event_id,ts,event_name,user_id,session_id,consent_analytics,consent_ads
e1,2026-10-01T10:00:00Z,page_view,u1,s1,granted,granted
e2,2026-10-01T10:05:00Z,page_view,u1,s1,granted,granted
e3,2026-10-01T10:00:00Z,page_view,u2,s2,denied,denied
e4,2026-10-01T10:00:00Z,page_view,u3,s3,denied,denied
e5,2026-10-01T10:05:00Z,page_view,u3,s3,denied,denied
e6,2026-10-01T10:00:00Z,page_view,u4,s4,granted,denied
e7,2026-10-01T10:00:00Z,page_view,u5,s5,granted,
e8,2026-10-01T10:00:00Z,page_view,u6,s6,,
e9,2026-10-01T10:00:00Z,page_view,u7,s7,denied,denied
e10,2026-10-01T10:05:00Z,page_view,u7,s7,denied,denied
e11,2026-10-01T10:00:00Z,page_view,,,granted,granted
"""
RATES = {"analytics": 0.55, "ads": 5 / 17}
DD = {"granted": [], "denied": ["analytics", "ads"]}
GG = {"granted": ["analytics", "ads"], "denied": []}
POOLED = {"granted": None, "denied": None}
# a model whose features each need one purpose: both masked where both are denied
MAPPING = {"sessions_30d": ["analytics"], "ad_clicks_7d": ["ads"]}
CONFIG_TOML = """
[thresholds]
min_group_size = {k}
[features.sessions_30d]
purposes = ["analytics"]
[features.ad_clicks_7d]
purposes = ["ads"]
[features.reco_clicks]
purposes = []
[features.tenure_days]
purposes = []
[features.noise]
purposes = []
"""


def _mix(tmp_path: Path, k: int, text: str = EVENTS) -> list[dict]:
    doc = run_scan([write(tmp_path / "shop.csv", text)], config=config(min_group_size=k))
    return doc.to_dict()["evidence"]["consent_mix"]


def _entries(raw: list[dict]) -> list[MixEntry]:
    entries = read_mix(raw)
    assert entries is not None
    return entries


def test_the_mix_of_hand_written_events(tmp_path):
    doc = run_scan([write(tmp_path / "shop.csv", EVENTS)], config=config()).to_dict()
    assert doc["evidence"]["consent_rates"] == {"analytics": 0.55, "ads": 0.294118}
    assert doc["evidence"]["consent_weighting"] == "person"
    assert doc["evidence"]["consent_mix"] == [
        {**DD, "share": 0.45},
        {**GG, "share": 0.25},
        # a tie in share: in order of the states' text, "denied" before "unknown"
        {"granted": ["analytics"], "denied": ["ads"], "share": 0.15},
        {"granted": ["analytics"], "denied": [], "share": 0.15},  # ads unknown
    ]
    assert not [n for n in doc["evidence"].get("notes", []) if "consent mix" in n]


def test_combinations_of_too_few_users_are_pooled(tmp_path):
    # min 2: denied+denied has 3 users and stays; granted+granted keeps the ping's event
    # (no user id: it singles out no one, 2/3 of 20/3 = 0.1) while u1's two events go to the
    # pool, with u4's (granted+denied) and u5's (granted, unknown): 3 users, 3 of 20/3
    assert _mix(tmp_path, 2) == [
        {**DD, "share": 0.45},
        {**GG, "share": 0.1},
        {**POOLED, "share": 0.45},
    ]
    # min 4: denied+denied (3 users) joins the pool too
    assert _mix(tmp_path, 4) == [{**GG, "share": 0.1}, {**POOLED, "share": 0.9}]
    doc = run_scan([write(tmp_path / "s.csv", EVENTS)], config=config(min_group_size=2)).to_dict()
    (note,) = [n for n in doc["evidence"]["notes"] if n.startswith("consent mix")]
    assert (
        "fewer than 2 users (with the smallest other one when they hold fewer together), " in note
    )
    assert "45.0% of the mix (each user with a decision counted once), are pooled" in note


def test_a_pool_of_too_few_users_takes_the_smallest_shown_combination(tmp_path):
    # a1, a2 granted both (2 events, 2 users); b1 (2 events) and b2 denied both (3 events,
    # 2 users); c1 granted analytics, denied ads (1 user). With min 2 only c1 is pooled, and
    # the rates less the two shown combinations would give c1's own states: the shown
    # combination of the fewest users (then events), granted+granted, is pooled with it.
    # Each user weighs 1 (b1's two events 1/2 each): shares of 5 users.
    text = """
    event_id,ts,event_name,user_id,consent_analytics,consent_ads
    e1,2026-10-01T10:00:00Z,page_view,a1,granted,granted
    e2,2026-10-01T10:00:00Z,page_view,a2,granted,granted
    e3,2026-10-01T10:00:00Z,page_view,b1,denied,denied
    e4,2026-10-01T10:05:00Z,page_view,b1,denied,denied
    e5,2026-10-01T10:00:00Z,page_view,b2,denied,denied
    e6,2026-10-01T10:00:00Z,page_view,c1,granted,denied
    """
    assert _mix(tmp_path, 2, text) == [{**DD, "share": 0.4}, {**POOLED, "share": 0.6}]
    # min 1 pools nothing: 2/5, 2/5 (a tie: in order of the states' text), 1/5
    assert _mix(tmp_path, 1, text) == [
        {**GG, "share": 0.4},
        {**DD, "share": 0.4},
        {"granted": ["analytics"], "denied": ["ads"], "share": 0.2},
    ]


def test_a_pool_with_no_combination_of_enough_users_to_join_pools_the_cookieless_too(tmp_path):
    # u1, u2 granted both (2 users, 2 events); four pings without a user id denied both,
    # each weighing 1 (the users' mean is one event with a decision).
    # With min 3 u1 and u2 are pooled, and no combination of 3 users or more is there to
    # join them: shown, the pings' denied+denied (4/6 = 0.666667) less from the rates
    # (analytics 2/6, ads 2/6) would leave the pool granted both at (1/3) / (1/3) = 1.0, the
    # states of the two users. Every event is pooled instead: the mix says only the rates.
    text = """
    event_id,ts,event_name,user_id,consent_analytics,consent_ads
    e1,2026-10-01T10:00:00Z,page_view,u1,granted,granted
    e2,2026-10-01T10:05:00Z,page_view,u2,granted,granted
    e3,2026-10-01T10:00:00Z,page_view,,denied,denied
    e4,2026-10-01T10:00:00Z,page_view,,denied,denied
    e5,2026-10-01T10:00:00Z,page_view,,denied,denied
    e6,2026-10-01T10:00:00Z,page_view,,denied,denied
    """
    assert _mix(tmp_path, 3, text) == [{**POOLED, "share": 1.0}]
    doc = run_scan([write(tmp_path / "p.csv", text)], config=config(min_group_size=3)).to_dict()
    (note,) = [n for n in doc["evidence"]["notes"] if n.startswith("consent mix")]
    assert "no combination of consent states is held by 3 users or more" in note
    # min 2: u1 and u2 are two users, shown; the pings stay in their own combination
    assert _mix(tmp_path, 2, text) == [{**DD, "share": 0.666667}, {**GG, "share": 0.333333}]


def test_a_joint_draw_keeps_the_rates_and_denies_together_as_the_mix_says(tmp_path):
    mix = _entries(_mix(tmp_path, 1))
    n = 200_000
    joint = observed_scenario(n, MAPPING, RATES, seed=4, mix=mix)
    alone = observed_scenario(n, MAPPING, RATES, seed=4)
    for sc in (joint, alone):  # margins: analytics denied 0.45, ads denied 12/17
        assert sc.masks["sessions_30d"].mean() == pytest.approx(0.45, abs=0.005)
        assert sc.masks["ad_clicks_7d"].mean() == pytest.approx(12 / 17, abs=0.005)
    both = joint.masks["sessions_30d"] & joint.masks["ad_clicks_7d"]
    assert both.mean() == pytest.approx(0.45, abs=0.005)  # the mix's all denied
    both = alone.masks["sessions_30d"] & alone.masks["ad_clicks_7d"]
    assert both.mean() == pytest.approx(0.45 * 12 / 17, abs=0.005)  # the product of the rates
    again = observed_scenario(n, MAPPING, RATES, seed=4, mix=mix)
    assert np.array_equal(again.masks["ad_clicks_7d"], joint.masks["ad_clicks_7d"])
    other = observed_scenario(n, MAPPING, RATES, seed=5, mix=mix)
    assert not np.array_equal(other.masks["ad_clicks_7d"], joint.masks["ad_clicks_7d"])


def test_the_pooled_share_is_drawn_at_the_rates_it_leaves(tmp_path):
    # min 2: 0.45 denied both, 0.1 granted both, 0.45 pooled (u1, u4 granted+denied, u5
    # granted analytics, a person each). The pool's analytics: (0.55 - 0.1) / 0.45 = 1, as
    # its users hold; its ads: (5/17 - 0.1) / 0.45 = 22/51, u1's grant and u5's unknown at
    # 5/17 of 3 users, (1 + 5/17) / 3. Drawn at the rates themselves it would deny
    # analytics on 0.45 + 0.45 * 0.45 = 0.65 of the rows, not 0.45.
    mix = _entries(_mix(tmp_path, 2))
    assert pooled_rates(mix, RATES) == pytest.approx({"analytics": 1.0, "ads": 22 / 51})
    sc = observed_scenario(200_000, MAPPING, RATES, seed=1, mix=mix)
    assert sc.masks["sessions_30d"].mean() == pytest.approx(0.45, abs=0.005)
    assert sc.masks["ad_clicks_7d"].mean() == pytest.approx(12 / 17, abs=0.005)
    both = sc.masks["sessions_30d"] & sc.masks["ad_clicks_7d"]
    assert both.mean() == pytest.approx(0.45, abs=0.005)
    assert pooled_rates(_entries([{**DD, "share": 1.0}]), RATES) == {}


def test_without_a_mix_the_draw_is_the_independent_one_of_before():
    # the draw before the mix: per purpose in sorted order, one uniform per row, denied at
    # or above the rate; a scan result of an older privdiag still gets exactly it
    sc = observed_scenario(1000, MAPPING, RATES, seed=9)
    rng = np.random.default_rng(9)
    ads = rng.uniform(size=1000) >= RATES["ads"]
    analytics = rng.uniform(size=1000) >= RATES["analytics"]
    assert np.array_equal(sc.masks["ad_clicks_7d"], ads)
    assert np.array_equal(sc.masks["sessions_30d"], analytics)


def _blind(tmp_path: Path) -> Path:
    path = tmp_path / "blind.parquet"
    make_blind_set(2000, seed=5).write_parquet(path)
    return path


def _scan_json(tmp_path: Path, evidence: dict) -> Path:
    path = tmp_path / "scan.json"
    path.write_text(json.dumps({"command": "scan", "evidence": evidence}), encoding="utf-8")
    return path


def _check(tmp_path: Path, **given):
    from privdiag.config import parse_config

    raw = {"features": {f: {"purposes": p} for f, p in MAPPING.items()}}
    cfg = parse_config(raw, tmp_path / "privdiag.toml")
    model = MODELS / "propensity_imputed.onnx"
    return run_model_check(model, _blind(tmp_path), config=cfg, **given).to_dict()


def test_model_check_says_which_draw_it_used(tmp_path):
    rates = {"analytics": 0.5, "ads": 0.333333}
    mix = [{**DD, "share": 0.5}, {**GG, "share": 0.3}, {**POOLED, "share": 0.2}]
    joint = _check(
        tmp_path, scan_result=_scan_json(tmp_path, {"consent_rates": rates, "consent_mix": mix})
    )
    assert joint["evidence"]["scenarios"]["observed_draw"] == "joint"
    (note,) = [n for n in joint["evidence"]["notes"] if n.startswith("observed scenario: each")]
    assert "whole combination" in note and "2 combinations, 20.0% pooled" in note

    old = _check(tmp_path, scan_result=_scan_json(tmp_path, {"consent_rates": rates}))
    assert old["evidence"]["scenarios"]["observed_draw"] == "independent"
    (note,) = [n for n in old["evidence"]["notes"] if n.startswith("observed scenario: each")]
    assert "taken as independent" in note and "holds no consent mix" in note
    assert "observed" in old["evidence"]["scenario_metrics"]

    given = _check(tmp_path, consent_rates=rates)
    (note,) = [n for n in given["evidence"]["notes"] if n.startswith("observed scenario: each")]
    assert given["evidence"]["scenarios"]["observed_draw"] == "independent"
    assert "--consent-rates" in note

    # --consent-rates beside a scan result with a mix: the rates given, each on its own
    both = {"consent_rates": rates, "consent_mix": mix}
    over = _check(tmp_path, scan_result=_scan_json(tmp_path, both), consent_rates=RATES)
    assert over["evidence"]["scenarios"]["observed_draw"] == "independent"


def test_a_mix_of_pooled_combinations_only_is_drawn_independently(tmp_path):
    evidence = {"consent_rates": {"ads": 0.4}, "consent_mix": [{**POOLED, "share": 1.0}]}
    rates, mix, why = consent_from_scan(_scan_json(tmp_path, evidence))
    assert rates == {"ads": 0.4} and mix is None and "too few users" in why
    # as an audit passes its scan's: the rates and the mix given
    doc = _check(tmp_path, consent_rates=RATES, consent_mix=_entries([{**POOLED, "share": 1.0}]))
    assert doc["evidence"]["scenarios"]["observed_draw"] == "independent"
    assert "too few users" in " ".join(doc["evidence"]["notes"])


@pytest.mark.parametrize(
    ("mix", "said"),
    [
        ({"a": 1}, "is not a list"),
        ([{"granted": ["ads"], "denied": []}], "entry 1 has no share"),
        ([{"granted": ["ads"], "denied": [], "share": 2}], "entry 1 has a share outside 0 to 1"),
        # NaN, as Python's JSON writes and reads it: not "outside 0 to 1" (review15)
        ([{**GG, "share": float("nan")}], "entry 1 has a share that is not a number (NaN)"),
        ([{**GG, "share": float("inf")}], "entry 1 has a share outside 0 to 1"),
        ([{"granted": "ads", "denied": [], "share": 1}], "entry 1: granted and denied"),
        ([{**GG, "share": 0.0}], "has no share above 0"),
        (["x"], "entry 1 is not an object"),
        # hand-edited: drawn as granted, the denial silently lost
        ([{"granted": ["ads"], "denied": ["ads"], "share": 1}], "entry 1 names 'ads' both"),
        # 0.2 + 0.1: drawn as 2/3 and 1/3 of the rows, as if the scan had said so
        ([{**DD, "share": 0.2}, {**GG, "share": 0.1}], "has shares that sum to 0.3, not 1"),
        # hostile 16: the slack grew a millionth an entry, so 300,000 entries of one
        # combination summing to 0.7 passed; a scan writes each combination once
        (
            [{**GG, "share": 0.7 / 300_000}] * 300_000,
            "holds one combination twice (entries 1 and 2)",
        ),
        ([{**POOLED, "share": 0.5}] * 2, "holds the pooled share twice"),
    ],
)
def test_a_bad_mix_is_an_input_error_naming_it(tmp_path, mix, said):
    path = _scan_json(tmp_path, {"consent_rates": {"ads": 0.4}, "consent_mix": mix})
    with pytest.raises(InputError) as caught:
        consent_from_scan(path)
    assert said in str(caught.value) and "evidence.consent_mix" in str(caught.value)


@pytest.mark.parametrize(
    ("mix", "said"),
    [
        # ads rate 0.4, but every event granted both: the draw granted ads on every row
        ([{**GG, "share": 1.0}], "grants ads on 100.0% of the mix"),
        # denied both on 0.7: at most 0.3 can grant ads, short of 0.4 even with the pool
        ([{**DD, "share": 0.7}, {**POOLED, "share": 0.3}], "grants ads on 0.0%"),
    ],
)
def test_a_mix_the_rates_contradict_is_an_input_error(tmp_path, mix, said):
    # analytics, which the mixes name, has a rate too (a scan gives every purpose of its mix
    # one); ads is checked first
    rates = {"ads": 0.4, "analytics": 0.4}
    path = _scan_json(tmp_path, {"consent_rates": rates, "consent_mix": mix})
    with pytest.raises(InputError) as caught:
        consent_from_scan(path)
    assert said in str(caught.value) and "evidence.consent_rates says 40.0%" in str(caught.value)
    # the pool can hold the rest: 0.5 denied both, 0.1 granted both, 0.4 pooled, granting
    # ads on (0.4 - 0.1) / 0.4 = 0.75 of its share (hand-checked: 0.1 + 0.75 * 0.4 = 0.4)
    fine = [{**DD, "share": 0.5}, {**GG, "share": 0.1}, {**POOLED, "share": 0.4}]
    path = _scan_json(tmp_path, {"consent_rates": rates, "consent_mix": fine})
    assert consent_from_scan(path)[1] is not None


@pytest.mark.parametrize("rate", [float("nan"), 5, -1])
def test_a_rate_outside_0_to_1_in_a_scan_result_is_an_input_error(tmp_path, rate):
    # drawn as given, ads was denied on no row (5) or every row (-1) of the observed scenario
    path = _scan_json(tmp_path, {"consent_rates": {"analytics": 0.5, "ads": rate}})
    with pytest.raises(InputError) as caught:
        consent_from_scan(path)
    assert "evidence.consent_rates gives ads" in str(caught.value)


def _cli_scan(tmp_path: Path, data: list[str], k: int, name: str) -> dict:
    conf = write(tmp_path / f"{name}.toml", CONFIG_TOML.format(k=k))
    out = tmp_path / f"{name}.json"
    args = ["scan", *data, "--config", conf, "--json", str(out), "--fail-on", "critical"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return {"json": out, "config": conf, "doc": json.loads(out.read_text())}


def _cli_model_check(tmp_path: Path, scan: dict, name: str) -> dict:
    out = tmp_path / f"{name}-model.json"
    blind, export = _blind(tmp_path), tmp_path / f"{name}-sets"
    args = [
        "model-check",
        str(MODELS / "propensity_imputed.onnx"),
        *("--blind-set", str(blind), "--config", scan["config"], "--json", str(out)),
        *("--scan-result", str(scan["json"]), "--export-blind-sets", str(export)),
        *("--fail-on", "critical"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return {"doc": json.loads(out.read_text()), "observed": export / "observed.parquet"}


def test_realdata_snowplow_consent_drawn_jointly_end_to_end(realdata, tmp_path):
    """The Snowplow fixture's consent_preferences events: 38 events with a decision, each
    browser's from its own decision on (tests/test_consent_per_browser.py). Per event
    (necessary always granted): all four granted 14, deny_all 11, necessary+statistics 7,
    necessary+marketing 2, statistics+preferences 2, marketing+preferences 1,
    statistics+marketing 1. Analytics denied on 14 of 38 events, ads on 20; both on the 11
    deny_all events, 0.289, where the rates taken as independent give 0.194. All 38 carry
    the one user id consent_accel: one person, whose events weigh 1/38 each, so the shares
    weighed by person are those of the events."""
    import polars as pl

    events = str(realdata / "snowplow" / "source" / "snowplow_web_events.csv")
    scan = _cli_scan(tmp_path, [events], 1, "sp")
    mix = {(tuple(e["granted"]), e["share"]) for e in scan["doc"]["evidence"]["consent_mix"]}
    assert mix == {
        (("analytics", "ads", "personalization", "necessary"), round(14 / 38, 6)),
        (("necessary",), round(11 / 38, 6)),
        (("analytics", "necessary"), round(7 / 38, 6)),
        (("ads", "necessary"), round(2 / 38, 6)),
        (("analytics", "personalization", "necessary"), round(2 / 38, 6)),
        (("ads", "personalization", "necessary"), round(1 / 38, 6)),
        (("analytics", "ads", "necessary"), round(1 / 38, 6)),
    }
    rates = scan["doc"]["evidence"]["consent_rates"]
    assert rates["analytics"] == round(24 / 38, 6) and rates["ads"] == round(18 / 38, 6)
    assert scan["doc"]["evidence"]["consent_weighting"] == "person"

    checked = _cli_model_check(tmp_path, scan, "sp")
    assert checked["doc"]["evidence"]["scenarios"]["observed_draw"] == "joint"
    frame = pl.read_parquet(checked["observed"])
    lost = frame.select(
        pl.col("sessions_30d").is_null().mean().alias("analytics"),
        pl.col("ad_clicks_7d").is_null().mean().alias("ads"),
        (pl.col("sessions_30d").is_null() & pl.col("ad_clicks_7d").is_null()).mean().alias("both"),
    ).row(0, named=True)
    assert lost["analytics"] == pytest.approx(14 / 38, abs=0.03)
    assert lost["ads"] == pytest.approx(20 / 38, abs=0.03)
    assert lost["both"] == pytest.approx(11 / 38, abs=0.03)  # not (14/38) * (20/38) = 0.194

    # by the default minimum of 5 users the one user id ('consent_accel') of the 26 browsers
    # is too few: everything is pooled, and model-check draws independently, saying why
    scan = _cli_scan(tmp_path, [events], 5, "sp5")
    assert scan["doc"]["evidence"]["consent_mix"] == [{**POOLED, "share": 1.0}]
    checked = _cli_model_check(tmp_path, scan, "sp5")
    assert checked["doc"]["evidence"]["scenarios"]["observed_draw"] == "independent"
    notes = " ".join(checked["doc"]["evidence"]["notes"])
    assert "too few users" in notes


def test_realdata_ga4_without_consent_mode_has_an_empty_mix(realdata, tmp_path):
    """The GA4 sample's property did not use Consent Mode: every state is unknown, so no
    rate and no mix; model-check draws independently and says the mix is empty."""
    events = str(realdata / "ga4" / "ga4_sample_rows_92days.ndjson")
    scan = _cli_scan(tmp_path, [events], 5, "ga4")
    assert scan["doc"]["evidence"]["consent_rates"] == {}
    assert scan["doc"]["evidence"]["consent_mix"] == []
    checked = _cli_model_check(tmp_path, scan, "ga4")
    assert checked["doc"]["evidence"]["scenarios"]["observed_draw"] == "independent"
    assert "consent mix is empty" in " ".join(checked["doc"]["evidence"]["notes"])


def test_a_report_at_a_larger_group_size_pools_the_whole_mix(tmp_path):
    """The mix of a scan made with min_group_size 1 shows combinations of one user (u4's
    granted+denied); `privdiag report` at 5 cannot pool them again by users it does not keep,
    so it pools the whole mix; at 1 it keeps it."""
    scan = tmp_path / "scan.json"
    events = write(tmp_path / "shop.csv", EVENTS)
    small = write(tmp_path / "small.toml", "[thresholds]\nmin_group_size = 1\n")
    runner = CliRunner()
    args = ["scan", events, "--config", small, "--json", str(scan), "--fail-on", "critical"]
    assert runner.invoke(app, args).exit_code == 0
    assert len(json.loads(scan.read_text())["evidence"]["consent_mix"]) == 4

    for conf, expected in ((None, [{**POOLED, "share": 1.0}]), (small, None)):
        out = tmp_path / "report.json"
        given = ["--config", conf] if conf else []
        result = runner.invoke(app, ["report", str(scan), *given, "--json", str(out)])
        assert result.exit_code in (0, 1), result.output
        mix = json.loads(out.read_text())["evidence"]["consent_mix"]
        assert mix == (expected or json.loads(scan.read_text())["evidence"]["consent_mix"])


STATES = ("granted", "denied", "unknown")


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from(STATES), st.sampled_from(STATES)),
        st.tuples(st.integers(1, 50), st.booleans()),  # (events, pooled)
        min_size=1,
    )
)
def test_the_pool_is_drawn_at_its_own_share_granted(combos):
    """For any events over two purposes, some combinations pooled: the pool's rate per
    purpose (from the rates and the shown shares alone) is the pool's own share granted,
    its unknowns counted at the rate, so a draw keeps each rate."""
    purposes = ("analytics", "ads")
    decided = {c: v for c, v in combos.items() if c != ("unknown", "unknown")}
    assume(decided and any(pooled for _, pooled in decided.values()))
    total = sum(n for n, _ in decided.values())
    rates = {}
    for i, p in enumerate(purposes):
        g = sum(n for c, (n, _) in decided.items() if c[i] == "granted")
        d = sum(n for c, (n, _) in decided.items() if c[i] == "denied")
        if g + d:
            rates[p] = g / (g + d)
    pool = sum(n for n, pooled in decided.values() if pooled)
    mix = [MixEntry(None, None, pool / total)] + [
        MixEntry(
            frozenset(p for p, s in zip(purposes, c, strict=True) if s == "granted"),
            frozenset(p for p, s in zip(purposes, c, strict=True) if s == "denied"),
            n / total,
        )
        for c, (n, pooled) in decided.items()
        if not pooled
    ]
    got = pooled_rates(mix, rates)
    for i, p in enumerate(purposes):
        if p not in rates:
            continue
        own = sum(
            n * (1.0 if c[i] == "granted" else rates[p] if c[i] == "unknown" else 0.0)
            for c, (n, pooled) in decided.items()
            if pooled
        )
        assert got[p] == pytest.approx(own / pool, abs=1e-9)


PURPOSE_LISTS = st.lists(st.sampled_from(["analytics", "ads", "personalization"]), unique=True)


@given(
    st.lists(
        st.one_of(
            st.builds(
                lambda g, d, s: {"granted": g, "denied": d, "share": s},
                PURPOSE_LISTS,
                PURPOSE_LISTS,
                st.floats(0.001, 1.0),
            ),
            st.builds(lambda s: {**POOLED, "share": s}, st.floats(0.001, 1.0)),
        ),
        min_size=1,
    )
)
def test_a_mix_as_the_scan_writes_it_reads_back(raw):
    # as a scan writes it: shares that sum to 1, no purpose both granted and denied, each
    # combination once
    for item in raw:
        if item["granted"] is not None:
            item["denied"] = [p for p in item["denied"] if p not in item["granted"]]
    once = {}
    for item in raw:
        combination = [
            None if item[k] is None else frozenset(item[k]) for k in ("granted", "denied")
        ]
        once.setdefault(tuple(combination), item)
    raw[:] = list(once.values())
    total = sum(item["share"] for item in raw)
    for item in raw:
        item["share"] /= total
    entries = _entries(json.loads(json.dumps(raw)))
    assert [e.share for e in entries] == [item["share"] for item in raw]
    for entry, item in zip(entries, raw, strict=True):
        assert entry.granted == (None if item["granted"] is None else set(item["granted"]))
        assert entry.denied == (None if item["denied"] is None else set(item["denied"]))


def test_the_slack_of_a_mix_stops_at_as_many_entries_as_a_scan_writes():
    """3^7 + 1 distinct entries at most; beyond, the slack grows no more, so distinct
    hand-made combinations summing to 0.9 are refused however many they are."""
    from privdiag.model.consent_mix import MOST_ENTRIES, read_mix

    assert MOST_ENTRIES == 2188
    names = [f"p{i}" for i in range(20)]
    mix = [
        {
            "granted": [n for b, n in enumerate(names) if i >> b & 1],
            "denied": [],
            "share": 0.9 / 5000,
        }
        for i in range(5000)
    ]
    with pytest.raises(InputError, match="has shares that sum to 0.9, not 1"):
        read_mix(mix)
    mix[0]["share"] += 0.097  # 0.997: 3,000 millionths short, beyond the 2,190 of slack
    with pytest.raises(InputError, match="sum to 0.997, not 1"):
        read_mix(mix)
    mix[0]["share"] += 0.002  # 0.999: within it
    assert len(read_mix(mix)) == 5000


def test_a_scan_made_with_a_smaller_group_size_gives_model_check_only_what_it_may_show(tmp_path):
    """A scan at 1 rates ads from 3 users (floor 2) and analytics from 40 (floor 20), with a
    mix of combinations of one user: model-check at 5 showed both rates in its evidence and
    drew from that mix. Now ads has no rate (taken as granted, with a note) and the mix is
    pooled; at 1 both stay and the mix is drawn."""
    rates = {"analytics": 0.5, "ads": 0.333333}
    mix = [{**DD, "share": 0.5}, {**GG, "share": 0.3}, {**POOLED, "share": 0.2}]
    evidence = {"consent_rates": rates, "consent_mix": mix}
    evidence["consent_rates_users_at_least"] = {"analytics": 20, "ads": 2}
    path = tmp_path / "scan.json"
    path.write_text(json.dumps({"command": "scan", "min_group_size": 1, "evidence": evidence}))
    kept, drawn, why = consent_from_scan(path, 5)
    assert kept == {"analytics": 0.5} and drawn is None and "smaller min_group_size" in why
    assert consent_from_scan(path, 1)[0] == rates and consent_from_scan(path, 1)[1] is not None
    doc = _check(tmp_path, scan_result=path)
    assert doc["evidence"]["scenarios"]["consent_rates"] == {"analytics": 0.5}
    assert doc["evidence"]["scenarios"]["observed_draw"] == "independent"
