"""Tests of the seeded scenario generator: bytes, schemas, funnel, rates, ground truth."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import duckdb
import pytest

from privdiag.config import parse_config
from privdiag.errors import UsageError
from privdiag.generate import generate_scenario

STEPS = ["page_view", "view_item", "add_to_cart", "begin_checkout", "purchase"]


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    out = tmp_path_factory.mktemp("scenario")
    return generate_scenario(out, seed=7, users=400)


@pytest.fixture(scope="module")
def db(scenario):
    """DuckDB with web (GA4 rows), app, consent and a flattened web_flat view."""
    con = duckdb.connect()
    paths = scenario.paths
    con.execute(f"CREATE TABLE web AS SELECT * FROM read_json('{paths['web']}')")
    con.execute(f"CREATE TABLE app AS SELECT * FROM read_csv('{paths['app']}')")
    con.execute(f"CREATE TABLE consent AS SELECT * FROM read_csv('{paths['consent']}')")
    con.execute(
        """CREATE VIEW web_flat AS SELECT event_name, event_timestamp, user_pseudo_id,
        privacy_info.analytics_storage AS a, privacy_info.ads_storage AS d,
        list_transform(event_params, lambda p: p.key) AS keys FROM web"""
    )
    yield con
    con.close()


def test_same_seed_gives_same_bytes(tmp_path):
    a = generate_scenario(tmp_path / "a", seed=3, users=120)
    b = generate_scenario(tmp_path / "b", seed=3, users=120)
    c = generate_scenario(tmp_path / "c", seed=4, users=120)
    assert _digest(a.out_dir) == _digest(b.out_dir)
    differ = [k for k, v in _digest(c.out_dir).items() if _digest(a.out_dir)[k] != v]
    assert {"web.ndjson.gz", "app.csv", "consent.csv", "ground_truth.json"} <= set(differ)


def test_parquet_formats_are_deterministic_and_nested(tmp_path):
    kw = dict(seed=5, users=150, ga4_format="parquet", generic_format="parquet")
    a = generate_scenario(tmp_path / "a", **kw)
    b = generate_scenario(tmp_path / "b", **kw)
    assert _digest(a.out_dir) == _digest(b.out_dir)
    con = duckdb.connect()
    types = dict(
        con.execute(f"DESCRIBE SELECT * FROM '{a.paths['web']}'").fetchall()[i][:2]
        for i in range(23)
    )
    assert types["event_params"].startswith('STRUCT("key" VARCHAR, "value" STRUCT(')
    assert types["privacy_info"].startswith("STRUCT(analytics_storage VARCHAR")
    assert con.execute(f"SELECT count(*) FROM '{a.paths['app']}'").fetchone()[0] == a.events["app"]


def test_ga4_rows_have_the_columns_of_the_real_export(db, realdata):
    real = [
        json.loads(line)
        for line in (realdata / "ga4" / "ga4_sample_rows_92days.ndjson").open(encoding="utf-8")
    ]
    ours = [r[0] for r in db.execute("DESCRIBE web").fetchall()]
    assert ours == [k for k in real[0] if k != "_source_table"]
    params = db.execute("SELECT event_params[1] FROM web LIMIT 1").fetchone()[0]
    assert set(params) == {"key", "value"}
    assert set(params["value"]) == set(real[0]["event_params"][0]["value"])


def test_ga4_cookieless_rows_follow_consent_mode(db):
    bad = db.execute(
        """SELECT count(*) FROM web_flat WHERE (a = 'No' OR a IS NULL) AND
        (user_pseudo_id IS NOT NULL OR list_contains(keys, 'ga_session_id')
         OR list_contains(keys, 'ga_session_number'))"""
    ).fetchone()[0]
    assert bad == 0
    cookieless = db.execute("SELECT count(*) FROM web WHERE user_pseudo_id IS NULL").fetchone()[0]
    assert cookieless > 0
    assert db.execute("SELECT count(*) FROM web WHERE user_id IS NOT NULL").fetchone()[0] == 0


def test_generic_and_consent_columns(db, scenario):
    cols = [r[0] for r in db.execute("DESCRIBE app").fetchall()]
    assert cols[:6] == ["event_id", "ts", "event_name", "user_id", "anonymous_id", "session_id"]
    assert db.execute("SELECT count(DISTINCT event_id) = count(*) FROM app").fetchone()[0]
    assert [r[0] for r in db.execute("DESCRIBE consent").fetchall()] == [
        "user_id",
        "purpose",
        "status",
        "ts",
        "version",
        "source",
    ]
    statuses = {r[0] for r in db.execute("SELECT DISTINCT status FROM consent").fetchall()}
    assert statuses == {"granted", "denied"}
    words = {r[0] for r in db.execute("SELECT DISTINCT purpose FROM consent").fetchall()}
    assert {"C0002", "C0004", "Marketing", "analytics"} <= words
    assert scenario.consent_records == db.execute("SELECT count(*) FROM consent").fetchone()[0]


def test_config_parses_and_leaves_the_planned_gaps(scenario):
    raw = tomllib.loads(scenario.paths["config"].read_text(encoding="utf-8"))
    cfg = parse_config(raw, scenario.paths["config"])
    assert cfg.steps == STEPS
    assert cfg.sources["web"].owner and cfg.sources["app"].owner is None
    assert "engagement_time_msec" not in cfg.features and "search_term" not in cfg.features
    assert cfg.features["advertising_id"].purposes == ["ads"]
    assert cfg.alias_map()["ad_tracking"] == "ads"


@pytest.mark.parametrize("table", ["web", "app"])
def test_funnel_is_monotone(db, table):
    counts = dict(db.execute(f"SELECT event_name, count(*) FROM {table} GROUP BY 1").fetchall())
    series = [counts.get(s, 0) for s in STEPS]
    assert all(a > b > 0 for a, b in zip(series, series[1:], strict=False)), series


def test_first_decision_rates_are_in_cmp_ranges(db):
    rates = dict(
        db.execute(
            """WITH first AS (SELECT user_id, purpose, arg_min(status, ts) AS status FROM consent
             GROUP BY ALL)
           SELECT CASE WHEN purpose IN ('C0002','analytics_storage','Analytics','Statistics',
             'analytics','Performance') THEN 'analytics' ELSE 'ads' END AS p,
             avg((status = 'granted')::INT) FROM first GROUP BY 1"""
        ).fetchall()
    )
    assert 0.55 <= rates["analytics"] <= 0.75
    assert 0.40 <= rates["ads"] <= 0.60
    versions = db.execute("SELECT count(DISTINCT version) FROM consent").fetchone()[0]
    assert versions == 2


def test_sessions_span_several_days(db):
    days = db.execute(
        """SELECT avg(d) FROM (SELECT count(DISTINCT event_date) AS d FROM web
           WHERE user_pseudo_id IS NOT NULL GROUP BY user_pseudo_id)"""
    ).fetchone()[0]
    assert days > 1.5
    devices = db.execute("SELECT count(DISTINCT device.category) FROM web").fetchone()[0]
    assert devices == 3


def _app_state_sql(purpose_words: str) -> str:
    """Events of app with the log state of one purpose and whether the user granted earlier."""
    return f"""
    WITH rec AS (SELECT user_id, ts::TIMESTAMPTZ AS ts, status = 'granted' AS granted
                 FROM consent WHERE purpose IN ({purpose_words})),
    ev AS (SELECT *, ts::TIMESTAMPTZ AS t FROM app)
    SELECT ev.*, (SELECT arg_max(granted, r.ts) FROM rec r
                   WHERE r.user_id = ev.user_id AND r.ts <= ev.t) AS granted_now,
                 (SELECT bool_or(granted) FROM rec r
                   WHERE r.user_id = ev.user_id AND r.ts <= ev.t) AS ever_granted,
                 (SELECT min(r.ts) FROM rec r WHERE r.user_id = ev.user_id) AS first_decision
    FROM ev"""


ADS = "'Marketing', 'advertising', 'Ad Tracking'"
ANALYTICS = "'Statistics', 'analytics', 'Performance'"


def test_planted_app_faults_are_really_in_the_files(db):
    db.execute(f"CREATE OR REPLACE TEMP TABLE app_ads AS {_app_state_sql(ADS)}")
    db.execute(f"CREATE OR REPLACE TEMP TABLE app_an AS {_app_state_sql(ANALYTICS)}")
    q = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731

    violation = "granted_now = false AND NOT ever_granted"
    assert q(f"SELECT count(*) FROM app_ads WHERE advertising_id IS NOT NULL AND {violation}") > 20
    withdrawn = "granted_now = false AND ever_granted"
    assert q(f"SELECT count(*) FROM app_ads WHERE appsflyer_id IS NOT NULL AND {withdrawn}") > 5
    assert q(f"SELECT count(*) FROM app_ads WHERE advertising_id IS NOT NULL AND {withdrawn}") == 0

    lead = "epoch(first_decision) - epoch(t)"
    pre = "granted_now IS NULL AND first_decision IS NOT NULL"
    assert q(f"SELECT min({lead}) FROM app_an WHERE firebase_instance_id IS NOT NULL AND {pre}") > 2
    assert q(f"SELECT max({lead}) FROM app_ads WHERE gclid IS NOT NULL AND {pre}") < 2
    assert q(f"SELECT count(*) FROM app_ads WHERE gclid IS NOT NULL AND NOT ({pre})") == 0

    # Control: campaign_click_id only while ads is granted in the log.
    assert (
        q(
            "SELECT count(*) FROM app_ads WHERE campaign_click_id IS NOT NULL "
            "AND granted_now IS DISTINCT FROM true"
        )
        == 0
    )
    assert q("SELECT count(*) FROM app_ads WHERE campaign_click_id IS NOT NULL") > 20
    missing = q(
        "SELECT count(DISTINCT user_id) FROM app WHERE user_id NOT IN (SELECT user_id FROM consent)"
    )
    assert missing >= 10


def test_planted_web_faults_are_really_in_the_files(db):
    q = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    has = "list_contains(keys, '{}')"

    # Control: gclid never sent while ads_storage is not 'Yes'; coupon missing ~80% everywhere.
    assert (
        q(f"SELECT count(*) FROM web_flat WHERE {has.format('gclid')} AND d IS DISTINCT FROM 'Yes'")
        == 0
    )
    coupon = (
        "SELECT avg({}::INT) FROM web_flat WHERE event_name IN ('begin_checkout', "
        "'purchase') AND a IS {} DISTINCT FROM 'Yes'"
    )
    granted = q(coupon.format(has.format("coupon"), "NOT"))
    other = q(coupon.format(has.format("coupon"), ""))
    assert 0.1 < granted < 0.3 and 0.1 < other < 0.3

    # consent_gap at view_item only.
    gap = "SELECT avg({f}::INT) FROM web_flat WHERE event_name = '{s}' AND a = {a}"
    item = has.format("item_category")
    assert q(gap.format(f=item, s="view_item", a="'Yes'")) > 0.9
    assert q(gap.format(f=item, s="view_item", a="'No'")) < 0.45
    assert q(gap.format(f=item, s="add_to_cart", a="'No'")) > 0.9

    # identity.loss concentrated at begin_checkout.
    null_share = "SELECT avg((user_pseudo_id IS NULL)::INT) FROM web WHERE event_name {}"
    assert q(null_share.format("= 'begin_checkout'")) > q(null_share.format("= 'view_item'")) + 0.2

    # consent.conflict: a logged ads withdrawal while the event still says 'Yes'.
    conflicts = q(
        """SELECT count(*) FROM web_flat w JOIN consent c ON c.user_id = w.user_pseudo_id
           AND c.purpose IN ('C0004', 'ad_storage', 'Marketing') AND c.status = 'denied'
           AND c.ts::TIMESTAMPTZ <= make_timestamptz(w.event_timestamp) WHERE w.d = 'Yes'"""
    )
    assert conflicts > 10


def test_ground_truth_is_consistent(scenario):
    truth = json.loads(scenario.paths["truth"].read_text(encoding="utf-8"))
    assert truth == scenario.truth
    locations = [json.dumps([f["kind"], f["location"]], sort_keys=True) for f in truth["faults"]]
    assert len(locations) == len(set(locations))
    keys = {"source", "step", "feature", "purpose"}
    assert all(set(f["location"]) <= keys for f in truth["faults"])
    by_kind = {f["kind"]: f for f in truth["faults"]}
    assert by_kind["consent.violation"]["metrics"]["users"] >= 5
    assert by_kind["consent.after_withdrawal"]["metrics"]["users"] >= 5
    drop = by_kind["funnel.consent_drop"]["metrics"]
    assert drop["cart_to_purchase_ads_denied"] < drop["cart_to_purchase_ads_granted"]
    control_features = {(c["source"], c["feature"]) for c in truth["controls"]}
    fault_features = {
        (f["location"].get("source"), f["location"].get("feature")) for f in truth["faults"]
    }
    assert not control_features & fault_features


def test_bad_arguments_raise_usage_errors(tmp_path):
    with pytest.raises(UsageError):
        generate_scenario(tmp_path, users=300, ga4_format="avro")
    with pytest.raises(UsageError):
        generate_scenario(tmp_path, users=300, generic_format="xlsx")


@pytest.mark.slow
def test_a_million_events_in_parquet(tmp_path):
    info = generate_scenario(tmp_path, users=85_000, ga4_format="parquet", generic_format="parquet")
    assert sum(info.events.values()) >= 1_000_000


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _generate(out: Path, *args: str):
    from typer.testing import CliRunner

    from privdiag.cli import app

    command = ["generate", "--out", str(out), "--users", "40", "--days", "4", *args]
    return CliRunner().invoke(app, command)


def test_generate_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "scenario"
    assert _generate(out).exit_code == 0
    before = _tree(out)
    again = _generate(out, "--seed", "8")
    assert again.exit_code == 2
    assert f"{out / 'web.ndjson.gz'} exists" in again.output
    assert "--force" in again.output and "--out" in again.output
    assert _tree(out) == before  # nothing was touched

    forced = _generate(out, "--seed", "8", "--force")
    assert forced.exit_code == 0, forced.output
    assert _tree(out) != before


def test_generate_refuses_when_any_file_it_writes_exists(tmp_path):
    out = tmp_path / "scenario"
    out.mkdir()
    (out / "notes.txt").write_text("mine")  # a file generate does not write is no obstacle
    (out / "holdout.parquet").write_text("mine")
    result = _generate(out, "--ga4-format", "parquet")
    assert result.exit_code == 2 and "holdout.parquet exists" in result.output
    assert (out / "holdout.parquet").read_text() == "mine"
    assert not (out / "web.parquet").exists()


def test_generated_scenario_audits_after_the_folder_is_moved(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from privdiag.cli import app

    assert _generate(tmp_path / "a" / "scenario").exit_code == 0
    moved = tmp_path / "b" / "moved"
    moved.parent.mkdir()
    (tmp_path / "a" / "scenario").rename(moved)
    elsewhere = tmp_path / "c"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    config = Path("..") / "b" / "moved" / "privdiag.toml"
    result = CliRunner().invoke(
        app, ["audit", "--config", str(config), "--history", "h.duckdb", "--json", "a.json"]
    )
    assert result.exit_code in (0, 1), result.output
    doc = json.loads((elsewhere / "a.json").read_text())
    roles = {i["role"] for i in doc["inputs"]}
    assert {"events", "consent", "model", "blind_set"} <= roles
    (check,) = [c for c in doc["checks"] if c["name"] == "propensity: scenarios"]
    assert check["status"] == "ran"


def test_if_missing_keeps_a_complete_scenario_and_rewrites_an_older_one_with_force(tmp_path):
    out = tmp_path / "scenario"
    assert _generate(out).exit_code == 0
    kept = _generate(out, "--if-missing")
    assert kept.exit_code == 0 and "left as it is" in kept.output

    (out / "models" / "propensity_imputed.onnx").unlink()  # as an older scenario had no copy
    refused = _generate(out, "--if-missing")
    assert refused.exit_code == 2 and "--force" in refused.output
    rewritten = _generate(out, "--if-missing", "--force")
    assert rewritten.exit_code == 0 and (out / "models" / "propensity_imputed.onnx").is_file()


def test_shoppers_arrive_as_real_traffic_does():
    """Every shopper's first visit fell in the window, so its first days held new shoppers
    only (seed 16: 72% of the web sessions of days 1-3 were first visits against 40% over the
    window, and those days had 46 sessions against 90 on average). First visits now fall
    before the window too: from day one a day holds returning shoppers as later days do."""
    import numpy as np

    from privdiag.generate.events import web_events
    from privdiag.generate.timeline import DAY_MS, build_population

    rng = np.random.default_rng(16)
    pop = build_population(rng, 600, 28, faults=False)
    sessions = np.unique(web_events(rng, pop, 28).session)
    day = pop.sess_start[sessions] // DAY_MS
    first_visit = pop.sess_number[sessions] == 0

    early = day < 3
    assert abs(first_visit[early].mean() - first_visit.mean()) < 0.1  # 0.30 against 0.34
    assert early.sum() / 3 > 0.8 * len(sessions) / 28  # 28.3 a day against 30.9
    assert len(np.unique(pop.sess_user)) == 600 and pop.sess_start.min() >= 0


def test_returning_shoppers_answered_before_the_window(scenario, db):
    """Their consent records are dated before the first day; no event is."""
    before = "TIMESTAMPTZ '2026-10-01 00:00:00+00'"
    early_records = db.execute(f"SELECT count(*) FROM consent WHERE ts < {before}").fetchone()[0]
    assert early_records > 0
    assert db.execute(f"SELECT count(*) FROM app WHERE ts < {before}").fetchone()[0] == 0
    first = db.execute("SELECT min(event_date) FROM web").fetchone()[0]
    assert first == "20261001"
    assert scenario.users["web"] + scenario.users["app"] == 400
