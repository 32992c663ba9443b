"""`privdiag init` writes a starter config that loads and keeps unknown features unclassified."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import load_config
from tests.helpers import write


def test_init_writes_a_config_that_scan_accepts(tmp_path):
    events = write(
        tmp_path / "shop.csv",
        """
        ts,event_name,user_id,gclid,coupon
        2026-10-01T10:00:00Z,page_view,u1,G1,
        2026-10-01T10:01:00Z,add_to_cart,u1,,C1
        2026-10-01T10:02:00Z,purchase,u1,,
    """,
    )
    out = tmp_path / "privdiag.toml"
    result = CliRunner().invoke(app, ["init", events, "--output", str(out)])
    assert result.exit_code == 0, result.output
    cfg = load_config(out)
    assert cfg.steps == ["page_view", "add_to_cart", "purchase"]
    assert cfg.features["gclid"].purposes == ["ads"]
    assert cfg.features["coupon"].purposes is None  # left for a person to decide
    assert "shop" in cfg.sources

    again = CliRunner().invoke(app, ["init", events, "--output", str(out)])
    assert again.exit_code == 2 and "--force" in again.output

    scan = CliRunner().invoke(app, ["scan", events, "--config", str(out), "--quiet"])
    assert scan.exit_code == 0, scan.output


def test_init_on_missing_data_writes_nothing(tmp_path):
    out = tmp_path / "privdiag.toml"
    result = CliRunner().invoke(app, ["init", str(Path(tmp_path) / "none.csv"), "-o", str(out)])
    assert result.exit_code == 3
    assert not out.exists()


def test_init_then_audit_reads_the_data_and_consent_init_was_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exports").mkdir()
    write(
        tmp_path / "exports" / "shop.csv",
        """
        ts,event_name,user_id,gclid
        2026-10-01T10:00:00Z,page_view,u1,G1
        2026-10-01T10:01:00Z,purchase,u2,
    """,
    )
    write(
        tmp_path / "cmp.csv",
        """
        user_id,purpose,status,ts
        u1,ads,denied,2026-10-01T09:00:00Z
    """,
    )
    runner = CliRunner()
    config = "setup/privdiag.toml"
    (tmp_path / "setup").mkdir()
    made = runner.invoke(app, ["init", "exports/shop.csv", "--consent", "cmp.csv", "-o", config])
    assert made.exit_code == 0, made.output
    cfg = load_config(Path(config))
    assert cfg.sources["shop"].paths == ["../exports/shop.csv"]  # relative to the config
    assert cfg.consent_files == ["../cmp.csv"]

    audited = runner.invoke(app, ["audit", "--config", config, "--json", "audit.json"])
    assert audited.exit_code == 1, audited.output  # u1's gclid after denying ads: high
    doc = json.loads((tmp_path / "audit.json").read_text())
    assert {(Path(i["path"]).name, i["role"]) for i in doc["inputs"]} == {
        ("shop.csv", "events"),
        ("cmp.csv", "consent"),
    }
    assert "consent.violation" in {f["kind"] for f in doc["findings"]}


def test_init_to_stdout_writes_the_paths_as_given(tmp_path):
    events = write(tmp_path / "shop.csv", "ts,event_name,user_id\n2026-10-01T10:00:00Z,a,u1\n")
    result = CliRunner().invoke(app, ["init", events, "-o", "-"])
    assert result.exit_code == 0
    assert f"paths = [{json.dumps(events)}]" in result.output
    assert '# paths = ["cmp_log.csv"]' in result.output  # no consent given: a commented example


def test_init_writes_a_path_absolute_when_it_would_climb_far(tmp_path):
    """Two folders up is written relative; three, or up to the filesystem root, absolute."""
    (tmp_path / "data").mkdir()
    events = write(
        tmp_path / "data" / "ev.csv", "ts,event_name,user_id\n2026-10-01T10:00:00Z,a,u1\n"
    )
    consent = write(
        tmp_path / "data" / "cmp.csv",
        "user_id,purpose,status,ts\nu1,ads,denied,2026-10-01T09:00:00Z\n",
    )
    near = tmp_path / "a" / "b"
    far = tmp_path / "a" / "b" / "c"
    far.mkdir(parents=True)
    for folder in (near, far):
        out = folder / "privdiag.toml"
        result = CliRunner().invoke(app, ["init", events, "--consent", consent, "-o", str(out)])
        assert result.exit_code == 0, result.output
    near_cfg, far_cfg = load_config(near / "privdiag.toml"), load_config(far / "privdiag.toml")
    assert near_cfg.sources["ev"].paths == ["../../data/ev.csv"]
    assert near_cfg.consent_files == ["../../data/cmp.csv"]
    assert far_cfg.sources["ev"].paths == [events]  # was ../../../data/ev.csv
    assert far_cfg.consent_files == [consent]
    assert far_cfg.resolve(far_cfg.sources["ev"].paths[0]).is_file()


def test_init_writes_a_path_absolute_when_only_the_root_is_shared():
    from privdiag.init import config_path

    assert config_path("/data/exports/ev.csv", Path("/srv/privdiag")) == "/data/exports/ev.csv"
    assert config_path("/ev.csv", Path("/srv")) == "/ev.csv"  # was ../ev.csv
    assert config_path("/srv/exports/ev.csv", Path("/srv/privdiag")) == "../exports/ev.csv"
    assert config_path("/srv/privdiag/ev.csv", Path("/srv/privdiag")) == "ev.csv"
    assert config_path("/srv/ev.csv", Path("/")) == "srv/ev.csv"
    assert config_path("ev.csv", None) == "ev.csv"  # to stdout: as given


def test_a_feature_named_with_glob_characters_gets_a_table_of_its_own_only(tmp_path):
    """A Segment property named ``*`` was written ``[features."*"]``, which the config reads
    as a glob: the purposes a person then gave it classified every feature without its own
    purposes (``coupon`` here). It is written ``[features."[*]"]``, the pattern matching
    ``*`` alone; ``a[0]`` likewise as ``a[[]0]``."""
    from privdiag.mapping import purposes_for

    events = write(
        tmp_path / "shop.csv",
        """
        ts,event_name,user_id,*,a[0],coupon
        2026-10-01T10:00:00Z,page_view,u1,x,y,
        2026-10-01T10:01:00Z,purchase,u1,,,C1
    """,
    )
    out = tmp_path / "privdiag.toml"
    assert CliRunner().invoke(app, ["init", events, "--output", str(out)]).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert '[features."[*]"]' in text and '[features."a[[]0]"]' in text
    # a person classifies the two features, and leaves coupon for later
    for table, purpose in (('[features."[*]"]', "ads"), ('[features."a[[]0]"]', "analytics")):
        head, tail = text.split(table + "\n", 1)
        tail = tail.replace("# purposes = []", f'purposes = ["{purpose}"]', 1)
        text = head + table + "\n" + tail
    out.write_text(text, encoding="utf-8")
    cfg = load_config(out)
    assert purposes_for("*", cfg) == ["ads"]
    assert purposes_for("a[0]", cfg) == ["analytics"]
    assert purposes_for("coupon", cfg) is None
    assert purposes_for("a0", cfg) is None


def test_snowplows_click_id_needs_ads(tmp_path):
    """Snowplow's enriched events carry the landing URL's click id (gclid, msclkid, ...) as
    `mkt_clickid`: init left it for a person to decide, beside gclid's ads, on the
    dbt-snowplow-web fixture."""
    events = write(
        tmp_path / "sp.csv",
        """
        ts,event_name,user_id,mkt_clickid,mkt_network
        2026-10-01T10:00:00Z,page_view,u1,Cj0KCQ1,Google
        2026-10-01T10:01:00Z,link_click,u1,,
    """,
    )
    out = tmp_path / "privdiag.toml"
    result = CliRunner().invoke(app, ["init", events, "--output", str(out)])
    assert result.exit_code == 0, result.output
    cfg = load_config(out)
    assert cfg.features["mkt_clickid"].purposes == ["ads"]
    assert cfg.features["mkt_network"].purposes is None


def test_init_keeps_both_vocabularies_of_a_step_in_the_journey(tmp_path):
    """Trial 23: a scan of a GA4 export and a Segment stream infers one step of view_item
    and "Product Viewed", but init wrote `steps = ["page_view", "view_item", "purchase"]`,
    and a configured step was its name alone: with that config the Segment events were in
    no step, and the stream's consent gap at Product Viewed was no longer found (22 findings
    against 23 without the config). A step of several names is written as their list, and
    the scan with the config has the journey the scan without it infers."""
    import tomllib

    from privdiag.init import starter_config
    from privdiag.scan import run_scan

    lines = ["event_id,ts,event_name,user_id"]
    for i in range(6):
        lines += [
            f"g{i}{k},2026-10-01T10:0{k}:0{i}Z,{n},g{i},"
            for k, n in enumerate(("page_view", "view_item", "purchase"))
        ]
        lines += [
            f"s{i}{k},2026-10-01T10:0{k}:0{i}Z,{n},s{i},"
            for k, n in enumerate(("Product Viewed", "Order Completed"))
        ]
    data = write(tmp_path / "events.csv", "\n".join(lines) + "\n")
    text = starter_config([data])
    steps = tomllib.loads(text)["journey"]["steps"]
    assert steps == ["page_view", ["view_item", "Product Viewed"], ["purchase", "Order Completed"]]
    out = write(tmp_path / "privdiag.toml", text)
    configured = run_scan([data], config=load_config(Path(out))).to_dict()
    inferred = run_scan([data]).to_dict()
    assert configured["evidence"]["journey"]["steps"] == ["page_view", "view_item", "purchase"]
    assert [f["id"] for f in configured["findings"]] == [f["id"] for f in inferred["findings"]]
