"""The sixteenth hostile session's findings: crafted scan results read by model-check
(``--scan-result``), results of several scans merged by ``privdiag report``."""

from __future__ import annotations

import json

import pytest

from privdiag.chains import link_scan_result
from privdiag.errors import InputError
from privdiag.model.inputs import consent_from_scan

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # json.loads raised RecursionError: an internal error (exit 5)
        (DEEP, "nests arrays or objects thousands deep"),
        ('{"evidence": {"consent_rates": {"ads": 0.5}, "consent_mix": ' + DEEP + "}}", "deep"),
        # float(10**400) raised OverflowError: an internal error (exit 5)
        ('{"evidence": {"consent_rates": {"ads": 1' + "0" * 400 + "}}}", "consent_rates"),
    ],
)
def test_a_hostile_scan_result_is_an_input_error(tmp_path, text, said):
    path = tmp_path / "scan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        consent_from_scan(path)
    assert said in str(caught.value) and "scan.json" in str(caught.value)
    if "deep" in said:  # the findings are read apart, to link the model's to them
        with pytest.raises(InputError):
            link_scan_result([], path)


def test_a_scan_result_with_a_bom_is_read(tmp_path):
    # an editor on Windows may put one before it, as privdiag report already allowed
    path = tmp_path / "scan.json"
    doc = {"evidence": {"consent_rates": {"ads": 0.25}}, "findings": []}
    path.write_text("\ufeff" + json.dumps(doc), encoding="utf-8")
    assert consent_from_scan(path)[0] == {"ads": 0.25}
    assert link_scan_result([], path) == 0


def _scan_doc(mix: list, k: int) -> dict:
    return {
        "schema_version": 1,
        "tool": "privdiag",
        "version": "0.1",
        "command": "scan",
        "min_group_size": k,
        "findings": [],
        "evidence": {"notes": [f"scan at {k}"], "consent_rates": {"ads": 0.5}, "consent_mix": mix},
    }


HALF = [
    {"granted": ["ads"], "denied": [], "share": 0.5},
    {"granted": [], "denied": ["ads"], "share": 0.5},
]
ALL_GRANTED = [{"granted": ["ads"], "denied": [], "share": 1.0}]
POOLED = [{"granted": None, "denied": None, "share": 1.0}]


def test_merged_scans_keep_each_consent_mix_apart():
    # run together, the two mixes read as one of three entries whose shares sum to 2
    from privdiag.report.group_size import pool_consent_mix
    from privdiag.report.merge import merge

    docs = [_scan_doc(HALF, 1), _scan_doc(ALL_GRANTED, 5), _scan_doc(HALF, 5)]
    merged = merge(docs)
    assert merged["evidence"]["consent_mix"] == [HALF, ALL_GRANTED, HALF]
    # the notes run together, a note two scans share told once (as the HTML lists it)
    assert merged["evidence"]["notes"] == ["scan at 1", "scan at 5"]
    # at 5, only the mix of the scan made at 1 is pooled
    pool_consent_mix(merged, docs, 5)
    assert merged["evidence"]["consent_mix"] == [POOLED, ALL_GRANTED, HALF]
    # one document's mix is still the mix itself
    alone = merge(docs[:1])
    pool_consent_mix(alone, docs[:1], 5)
    assert alone["evidence"]["consent_mix"] == POOLED


def _ads_days(tmp_path, days: list[tuple[int, int]], lone: int) -> dict:
    """A CSV of page views from 2026-09-01: per day in ``days`` (users, of whom granted ads)
    one event per user, then ``lone`` days on which one user, u_lone, sends one event having
    denied ads. Scanned at min_group_size 5."""
    from privdiag.scan import run_scan
    from tests.helpers import config, write

    rows = ["event_id,ts,event_name,user_id,consent_ads"]
    for d, (users, granted) in enumerate(days):
        for i in range(users):
            state = "granted" if i < granted else "denied"
            rows.append(f"e{len(rows)},{_day(d)}T10:{i:02d}:00Z,page_view,u{d}_{i},{state}")
    for n in range(len(days), len(days) + lone):
        rows.append(f"e{len(rows)},{_day(n)}T10:00:00Z,page_view,u_lone,denied")
    events = write(tmp_path / "ads.csv", "\n".join(rows) + "\n")
    return run_scan([events], config=config(min_group_size=5)).to_dict()


def _day(n: int) -> str:
    from datetime import date, timedelta

    return (date(2026, 9, 1) + timedelta(days=n)).isoformat()


def test_a_shift_whose_later_days_hold_one_user_is_not_reported(tmp_path):
    # 30 days of 20 users granting ads, then 10 days of u_lone alone, who denied: "The ads
    # consent rate fell from 100% to 0% on 2026-10-01" told u_lone's choice (the chart hid
    # those days, the title did not)
    from tests.helpers import by_kind

    doc = _ads_days(tmp_path, [(20, 20)] * 30, lone=10)
    assert by_kind(doc, "sparsity.shift") == []
    (note,) = [n for n in doc["evidence"]["notes"] if "is not reported" in n]
    assert note == (
        "ads: a change of the ads consent rate is not reported: the days on one side of it "
        "hold fewer than 5 users, whose share would tell what they chose or sent"
    )


def test_a_further_change_into_days_of_one_user_is_dropped(tmp_path):
    # 20 days of 20 users, 2 granting (10%), 20 days of 18 granting (90%), then 20 days of
    # u_lone alone: "it also fell from 90% to 0% on 2026-10-11" told u_lone's choice. The
    # change is dropped and its days join the segment before, but blank on the chart, they
    # are not in its share either (360 granted of 400 + 20 events, 0.8571 beside days of 0.9,
    # told u_lone denied): 360 / 400 = 0.9
    from tests.helpers import by_kind

    doc = _ads_days(tmp_path, [(20, 2)] * 20 + [(20, 18)] * 20, lone=20)
    (shift,) = by_kind(doc, "sparsity.shift")
    assert shift["title"] == "The ads consent rate rose from 10% to 90% on 2026-09-21"
    changes = [(c["day"], c["before"], c["after"]) for c in shift["metrics"]["changes"]]
    assert changes == [("2026-09-21", 0.1, 0.9)]


def test_a_notice_version_of_few_users_or_like_an_id_is_not_named():
    # A version column holding consent receipt ids named each user's receipt in a shift's
    # title ("the day notice version receipt-SECRETUID1500, receipt-SECRETUID1501, ...");
    # a version one user was shown named that user's.
    import duckdb

    from privdiag.checks.shift import new_versions

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE consent (user_key VARCHAR, ts TIMESTAMPTZ, version VARCHAR)")
    rows = [(f"a{i}", "2026-10-01", "v1") for i in range(5)]  # the first: never named
    rows += [(f"b{i}", "2026-10-05", "v2") for i in range(5)]  # 5 users: named
    rows += [(f"c{i}", "2026-10-06", f"receipt-7f3a9c{i}b21e") for i in range(5)]  # ids
    rows += [("d0", "2026-10-07", "v3"), ("d0", "2026-10-08", "v3")]  # 1 user
    con.executemany("INSERT INTO consent VALUES (?, ?::TIMESTAMPTZ, ?)", rows)
    assert new_versions(con, 5) == {"2026-10-05": ["v2"]}
    assert new_versions(con, 1) == {"2026-10-05": ["v2"], "2026-10-07": ["v3"]}


def test_a_mix_naming_a_purpose_without_a_rate_is_an_input_error(tmp_path):
    # drawn from the mix, analytics was denied on every row of the observed scenario while
    # its note said "no consent rate for analytics, taken as granted on every row"
    mix = [
        {"granted": ["ads"], "denied": ["analytics"], "share": 0.4},
        {"granted": [], "denied": ["ads", "analytics"], "share": 0.6},
    ]
    path = tmp_path / "scan.json"
    path.write_text(json.dumps({"evidence": {"consent_rates": {"ads": 0.4}, "consent_mix": mix}}))
    with pytest.raises(InputError) as caught:
        consent_from_scan(path)
    assert "names 'analytics', which evidence.consent_rates gives no rate" in str(caught.value)


def test_the_audit_log_redacts_an_address_the_terminal_redacts(tmp_path):
    # an events file named after an e-mail, with a bad time: the terminal said "[redacted],
    # row 1, field 'ts'", the --log file "audit failed: mallory@example.com.csv, row 1, ..."
    from typer.testing import CliRunner

    from privdiag.cli import app

    (tmp_path / "mallory@example.com.csv").write_text(
        "event_id,ts,event_name,user_id\ne1,notatime,page_view,u1\n", encoding="utf-8"
    )
    config = tmp_path / "privdiag.toml"
    config.write_text(f'[sources.web]\npaths = ["{tmp_path}/mallory@example.com.csv"]\n')
    log = tmp_path / "audit.log"
    args = ["audit", "--config", str(config), "--history", str(tmp_path / "h.duckdb")]
    result = CliRunner().invoke(app, [*args, "--log", str(log)])
    assert result.exit_code == 3
    text = log.read_text(encoding="utf-8")
    assert "ERROR audit failed: [redacted], row 1, field 'ts'" in text
    assert "mallory" not in text


@pytest.mark.parametrize("key", ["history", "reports_dir", "baseline", "fail_when"])
def test_an_empty_audit_setting_is_a_config_error(tmp_path, key):
    # taken as not given: `baseline = ""` compared with the previous run, `history = ""` used
    # the default file, each unsaid
    from privdiag.audit.settings import audit_settings
    from privdiag.config import load_config
    from privdiag.errors import ConfigError

    path = tmp_path / "privdiag.toml"
    path.write_text(f'[audit]\n{key} = ""\n[sources.web]\npaths = ["ev.csv"]\n')
    with pytest.raises(ConfigError) as caught:
        audit_settings(load_config(path))
    assert f"[audit]: {key} is empty" in str(caught.value)


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        # read as the config's own folder: a consent "file" of whatever lay there
        ('[consent]\npaths = [""]', "[consent.paths]: paths holds an empty or blank path"),
        ('[sources.web]\npaths = ["a.csv", " "]', "[sources.web.paths]: paths holds an empty"),
        # taken as not given: no memory limit, the default scratch folder
        ('[engine]\nmemory_limit = ""', "[engine]: memory_limit is empty or blank"),
        ('[engine]\ntemp_dir = " "', "[engine]: temp_dir is empty or blank"),
        ('[models.m]\npath = "m.onnx"\nlabel = ""', "[models.m]: label is empty or blank"),
        # taken as no key: ids of names holding addresses were keyed by each run's own key,
        # so an audit marked them new every night, though the config seemed to fix them
        ('[privacy]\nhash_key = ""', "[privacy]: hash_key is empty or blank"),
        ('[privacy]\nhash_key = "   "', "[privacy]: hash_key is empty or blank"),
        # a pattern that matched nothing, so its team owned nothing
        ('[owners]\n"" = "team-x"', "[owners]: a pattern is empty or blank"),
    ],
)
def test_an_empty_config_value_is_a_config_error(tmp_path, toml, said):
    from privdiag.config import load_config
    from privdiag.errors import ConfigError

    path = tmp_path / "privdiag.toml"
    path.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert said in str(caught.value)
