"""Surveys and people.trust_gap on small hand-built inputs.

Respondent scenario: 40 users decide on analytics. u1-u20 ("newcomers") answer trust 1 and 4
of them grant; u21-u40 ("regulars") answer trust 5 and 16 grant. With two values on each side
Spearman's r is the phi coefficient of the 2x2 table:
(16 * 16 - 4 * 4) / sqrt(20 * 20 * 20 * 20) = 240 / 400 = 0.6. Interval at 99% (alpha 0.01,
one purpose): se = sqrt((1 + 0.6^2 / 2) / 37) = 0.17858; atanh(0.6) = 0.69315;
tanh(0.69315 -/+ 2.57583 * 0.17858) = 0.2290 / 0.8188.
Sharing: 5 of the 20 answers in the week of 2026-10-05 state a preference, 15 of 20 in the
week of 2026-10-19: uplift 0.5, se = sqrt(2 * 0.25 * 0.75 / 20) = 0.13693, 95% CI 0.2316 to
0.7684.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privdiag.checks.trust import spearman_ci
from privdiag.cli import app
from privdiag.engine import connect
from privdiag.errors import InputError
from privdiag.scan import run_scan
from privdiag.survey import load_survey
from tests.helpers import by_kind, config


def _log(folder: Path, grants: dict[str, bool], countries: dict[str, str] | None = None):
    countries = countries or {}
    events = ["event_id,ts,event_name,user_id,session_id,country"]
    consent = ["user_id,purpose,status,ts,version,source"]
    for n, (user, granted) in enumerate(grants.items()):
        events.append(f"e{n},2026-10-01T08:00:00Z,page_view,{user},s{n},{countries.get(user, '')}")
        status = "granted" if granted else "denied"
        consent.append(f"{user},analytics,{status},2026-10-01T09:00:00Z,v1,shop")
    (folder / "events.csv").write_text("\n".join(events) + "\n", encoding="utf-8")
    (folder / "consent.csv").write_text("\n".join(consent) + "\n", encoding="utf-8")
    return [str(folder / "events.csv")], [str(folder / "consent.csv")]


def _respondents():
    rows = []
    for i in range(1, 41):
        low = i <= 20
        shares = (i <= 5) if low else (i <= 35)
        rows.append(
            {
                "respondent_id": f"u{i}",
                "segment": "newcomers" if low else "regulars",
                "trust": 1 if low else 5,
                "pref_categories": "shoes" if shares else "",
                "date": "2026-10-05" if low else "2026-10-19",
            }
        )
    grants = {r["respondent_id"]: (i < 4 if i < 20 else i < 36) for i, r in enumerate(rows)}
    return rows, grants


def _write_csv(path: Path, rows: list[dict]) -> str:
    lines = [",".join(rows[0])] + [",".join(str(v) for v in r.values()) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def respondent_scan(tmp_path):
    rows, grants = _respondents()
    data, consent = _log(tmp_path, grants)
    survey = _write_csv(tmp_path / "survey.csv", rows)
    return run_scan(data, consent=consent, config=config(), survey=[survey]).to_dict()


def test_spearman_interval_by_hand():
    r, lo, hi = spearman_ci([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], 0.95)
    assert (r, lo, hi) == pytest.approx((0.8, -0.4572, 0.9909), abs=1e-4)
    assert spearman_ci([1, 1, 1, 1], [0, 1, 0, 1], 0.95) == (0.0, -1.0, 1.0)


def test_respondent_trust_gap_with_its_numbers(respondent_scan):
    [f] = by_kind(respondent_scan, "people.trust_gap")
    m = f["metrics"]
    assert f["location"] == {"purpose": "analytics"}
    assert m["spearman_r"] == pytest.approx(0.6)
    assert (m["ci_low"], m["ci_high"]) == pytest.approx((0.2290, 0.8188), abs=1e-4)
    assert (m["units"], m["unit"], m["ci_level"]) == (40, "respondent", 0.99)
    assert m["low_segments"] == ["newcomers"]
    assert f["evidence"]["table"]["rows"] == [
        ["newcomers", 20, 1.0, 0.2],
        ["regulars", 20, 5.0, 0.8],
    ]
    assert f["severity"] == "medium"
    text = json.dumps(respondent_scan)
    assert "u17" not in text  # respondent ids never reach the output


def test_sharing_uplift(respondent_scan):
    sharing = respondent_scan["evidence"]["survey"]["voluntary_sharing"]
    assert sharing["period"] == "week"
    assert (sharing["first"], sharing["last"]) == ("2026-10-05", "2026-10-19")
    assert (sharing["share_first"], sharing["share_last"], sharing["uplift"]) == (0.25, 0.75, 0.5)
    assert sharing["uplift_ci95"] == pytest.approx([0.2316, 0.7684], abs=1e-4)
    assert [i["role"] for i in respondent_scan["inputs"]].count("survey") == 1


def test_two_survey_files_give_the_answer_of_one(tmp_path):
    """The newcomers and the regulars in a file each: the same 40 respondents and r = 0.6
    (the second file's load stopped with an internal error, an unfinished DuckDB result)."""
    rows, grants = _respondents()
    data, consent = _log(tmp_path, grants)
    survey = [_write_csv(tmp_path / "a.csv", rows[:20]), _write_csv(tmp_path / "b.csv", rows[20:])]
    doc = run_scan(data, consent=consent, config=config(), survey=survey).to_dict()
    [f] = by_kind(doc, "people.trust_gap")
    assert f["metrics"]["spearman_r"] == pytest.approx(0.6)
    assert doc["evidence"]["survey"]["rows"] == 40


def test_no_correlation_no_finding(tmp_path):
    rows, _ = _respondents()
    grants = {r["respondent_id"]: i % 2 == 0 for i, r in enumerate(rows)}  # 10 of 20 each side
    data, consent = _log(tmp_path, grants)
    survey = _write_csv(tmp_path / "survey.csv", rows)
    doc = run_scan(data, consent=consent, config=config(), survey=[survey]).to_dict()
    assert by_kind(doc, "people.trust_gap") == []
    assert doc["evidence"]["survey"]["correlations"]["analytics"]["spearman_r"] == 0.0


def test_json_export_gives_the_same_answer(tmp_path):
    rows, grants = _respondents()
    data, consent = _log(tmp_path, grants)
    survey = tmp_path / "survey.json"
    survey.write_text(json.dumps({"survey": "q4", "responses": rows}), encoding="utf-8")
    doc = run_scan(data, consent=consent, config=config(), survey=[str(survey)]).to_dict()
    [f] = by_kind(doc, "people.trust_gap")
    assert f["metrics"]["spearman_r"] == pytest.approx(0.6)


def _regions_scan(folder: Path, k: int = 1) -> dict:
    """Ten countries C0..C9 with 10 persons each; country i: i + 1 grant, survey trust i."""
    grants, countries = {}, {}
    for c in range(10):
        for p in range(10):
            user = f"c{c}p{p}"
            grants[user], countries[user] = p <= c, f"C{c}"
    data, consent = _log(folder, grants, countries)
    rows = [{"country": f"C{c}", "sentiment": c, "respondents": 30} for c in range(10)]
    survey = _write_csv(folder / "segments.csv", rows)
    return run_scan(data, consent=consent, config=config(min_group_size=k), survey=[survey])


def test_segment_level_survey_matched_by_region(tmp_path):
    doc = _regions_scan(tmp_path).to_dict()
    [f] = by_kind(doc, "people.trust_gap")
    assert f["metrics"]["spearman_r"] == pytest.approx(1.0)
    assert (f["metrics"]["units"], f["metrics"]["unit"]) == (10, "segment (region)")
    assert f["metrics"]["low_segments"] == ["C0", "C1", "C2", "C3", "C4"]
    assert doc["evidence"]["survey"]["voluntary_sharing"] is None


def test_no_survey_skips_with_a_reason(tmp_path):
    _, grants = _respondents()
    data, consent = _log(tmp_path, grants)
    doc = run_scan(data, consent=consent, config=config()).to_dict()
    [check] = [c for c in doc["checks"] if c["name"] == "people.trust_gap"]
    assert check["status"] == "skipped" and "--survey" in check["reason"]


def test_survey_without_trust_is_an_input_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("respondent_id,happiness\nu1,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="trust"):
        load_survey(connect(), [str(path)])
    path.write_text("trust,comment\n3,fine\n", encoding="utf-8")
    with pytest.raises(InputError, match="respondent nor a segment"):
        load_survey(connect(), [str(path)])


@pytest.mark.parametrize(
    ("value", "row"),
    [("0", 2), ("-5", 2), ("2147483648", 2), ("2.5", 2), ("ten", 2), ("nan", 2), ("inf", 2)],
)
def test_a_respondent_count_that_is_no_whole_count_is_an_input_error(tmp_path, value, row):
    """Found by the eighteenth hostile session: 0 or -5 was used as written (ten segments of
    -10 respondents gave a trust gap over 9 segments, none left out) and a count beyond
    2^31 - 1, or text, was read as 1, unsaid."""
    path = tmp_path / "survey.csv"
    path.write_text(f"segment,trust,respondents\nA,3,12\nB,4,{value}\nC,2,\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_survey(connect(), [str(path)])
    assert str(caught.value).startswith(f"{path}, row {row}, field 'respondents': ")
    assert "no count of respondents" in str(caught.value)


def test_whole_respondent_counts_with_spaces_or_decimals_are_read(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text(
        "segment,trust,respondents\nA,3, 12 \nB,4,2.0\nC,2,\nD,1,2147483647\n",
        encoding="utf-8",
    )
    con = connect()
    load_survey(con, [str(path)])
    counts = con.execute("SELECT segment, respondents FROM survey ORDER BY segment").fetchall()
    assert counts == [("A", 12), ("B", 2), ("C", 1), ("D", 2147483647)]


def test_a_json_column_null_in_every_row_is_read_as_empty(tmp_path):
    """Review 21: a JSON survey whose respondents are null in every row (one answer each)
    made polars' Null column, and the respondent check's text functions failed on it: an
    internal error, exit 5. It reads as the empty column: 1 respondent a row."""
    path = tmp_path / "survey.json"
    rows = [{"segment": s, "trust": t, "respondents": None} for s, t in (("A", 3), ("B", 4))]
    path.write_text(json.dumps(rows), encoding="utf-8")
    con = connect()
    load_survey(con, [str(path)])
    counts = con.execute("SELECT segment, respondents FROM survey ORDER BY segment").fetchall()
    assert counts == [("A", 1), ("B", 1)]


def test_cli_scan_takes_survey(tmp_path):
    rows, grants = _respondents()
    data, consent = _log(tmp_path, grants)
    survey = _write_csv(tmp_path / "survey.csv", rows)
    out = tmp_path / "out.json"
    args = ["scan", *data, "--consent", *consent, "--survey", survey, "--json", str(out)]
    run = CliRunner().invoke(app, [*args, "--quiet", "--fail-on", "critical"])
    assert run.exit_code == 0, run.output
    doc = json.loads(out.read_text())
    # at the default k = 5 both segments' opt-in is hidden (4 of 20 grant, 4 of 20 deny), so
    # no respondent can take part: skipped, with the count (trial 13; it "ran" before)
    (trust,) = [c for c in doc["checks"] if c["name"] == "people.trust_gap"]
    assert trust["status"] == "skipped"
    assert trust["reason"].startswith("too few to correlate trust with opt-in: the survey gives 0 ")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    run = CliRunner().invoke(app, ["scan", *data, "--consent", *consent, "--survey", str(bad)])
    assert run.exit_code == 3 and "bad.json" in run.output


def test_segment_opt_in_hidden_when_few_grant_or_deny(tmp_path):
    """Newcomers: 4 of 20 grant; regulars: 16 of 20 grant, so 4 deny. At k = 4 both are
    shown; at k = 5 both groups of 4 are small and the opt-in of each segment would tell
    their choice: both are hidden, so no segment is left for the statistic and there is no
    finding (before, r = 0.6 over the hidden segments' respondents gave their split)."""
    rows, grants = _respondents()
    data, consent = _log(tmp_path, grants)
    survey = _write_csv(tmp_path / "survey.csv", rows)
    doc = run_scan(data, consent=consent, config=config(min_group_size=4), survey=[survey])
    [f] = by_kind(doc.to_dict(), "people.trust_gap")
    assert [r[3] for r in f["evidence"]["table"]["rows"]] == [0.2, 0.8]
    assert (f["metrics"]["low_segments"], f["metrics"]["segments_left_out"]) == (["newcomers"], 0)
    assert "analytics opt-in (newcomers): Spearman" in f["title"]
    doc = run_scan(data, consent=consent, config=config(min_group_size=5), survey=[survey])
    doc = doc.to_dict()
    assert by_kind(doc, "people.trust_gap") == []
    assert doc["evidence"]["survey"]["correlations"]["analytics"] == {
        "spearman_r": 0.0,
        "ci": [-1.0, 1.0],
        "units": 0,
    }


def test_too_few_shown_segments_give_no_finding(tmp_path):
    """The regions of _regions_scan at k = 2: C0 (1 of 10 grant), C8 (9 of 10) and C9 (10 of
    10) have their opt-in hidden. Only C1..C7 take part: 7 units, under the 8 a finding needs
    (before, r = 1.00 over all ten told that C0, of the lowest trust, had the lowest opt-in)."""
    doc = _regions_scan(tmp_path, k=2).to_dict()
    assert by_kind(doc, "people.trust_gap") == []
    assert doc["evidence"]["survey"]["correlations"]["analytics"]["units"] == 7


def _hidden_region_scan(folder: Path, c0_grants: int) -> dict:
    """Eleven regions C0..C10 of 20 persons each, survey trust c; C0: ``c0_grants`` grant,
    C1..C10: 4 + c grant. At k = 5, C0 (2 or 18 granting: under 5 grant or deny) is hidden,
    and C1 (5 of 20), the smallest then shown, with it (C0 alone would be told by the total)."""
    grants, countries = {}, {}
    for c in range(11):
        for p in range(20):
            user = f"c{c}p{p}"
            grants[user], countries[user] = p < (c0_grants if c == 0 else 4 + c), f"C{c}"
    data, consent = _log(folder, grants, countries)
    rows = [{"country": f"C{c}", "sentiment": c, "respondents": 30} for c in range(11)]
    survey = _write_csv(folder / "segments.csv", rows)
    doc = run_scan(data, consent=consent, config=config(min_group_size=5), survey=[survey])
    return doc.to_dict()


@pytest.mark.parametrize("c0_grants", [2, 18])
def test_a_hidden_segment_changes_nothing_the_trust_gap_tells(tmp_path, c0_grants):
    """By hand: the shown C2..C10 have trust 2..10 and opt-in 6/20..14/20 (0.30..0.70), both
    rising: Spearman r = 1 over 9 units. Medians of the shown: trust 6, opt-in 0.5; below
    both: C2..C5. Whether C0 (trust 0) opts in at 0.10 or 0.90 changes none of it (before,
    r over all eleven was 1.00 at 0.10 and 0.50 at 0.90, telling where C0 ranked)."""
    doc = _hidden_region_scan(tmp_path, c0_grants)
    [f] = by_kind(doc, "people.trust_gap")
    m = f["metrics"]
    assert (m["spearman_r"], m["units"], m["segments_left_out"]) == (1.0, 9, 2)
    assert m["low_segments"] == ["C2", "C3", "C4", "C5"]
    assert "(C2, C3, C4 and C5; 2 segments whose opt-in is hidden left out)" in f["title"]
    rows = f["evidence"]["table"]["rows"]
    assert [r[0] for r in rows if r[3] is None] == ["C0", "C1"]
    assert doc["evidence"]["survey"]["correlations"]["analytics"]["spearman_r"] == 1.0
    assert "C0" not in f["title"] and "C1," not in f["title"]


def test_segment_opt_in_hidden_where_the_opt_in_rates_hide_it():
    """k = 5. Regions A (10 persons, 5 grant), B (12, 6) and C (3, none grant). C is left out
    of the rates by region, and the total (25, 11 granted) less A and B told that all 3 in C
    denied: A, the smaller, is hidden there, so here too (its 0.5 and 10 persons gave 5)."""
    from privdiag.checks.trust import _segment_units

    con = connect()
    con.execute("CREATE TABLE survey (segment VARCHAR, respondents INT, trust DOUBLE)")
    con.execute("INSERT INTO survey VALUES ('A', 30, 2.0), ('B', 30, 4.0), ('C', 30, 1.0)")
    con.execute("CREATE TABLE optin_decisions (region VARCHAR, purpose VARCHAR, granted BOOLEAN)")
    for region, persons, granted in (("A", 10, 5), ("B", 12, 6), ("C", 3, 0)):
        con.execute(
            "INSERT INTO optin_decisions SELECT ?, 'ads', i < ? FROM range(?) t(i)",
            [region, granted, persons],
        )
    con.execute("ALTER TABLE optin_decisions ADD COLUMN nth INT DEFAULT 1")
    segments = _segment_units(con, "region", 5)
    assert segments == {"ads": [("A", 30, 2.0, 0.5, False), ("B", 30, 4.0, 0.5, True)]}


@pytest.mark.parametrize(("k", "shown", "named"), [(2, [0.1, 0.5], ["newcomers"]), (5, None, [])])
def test_a_respondent_segments_opt_in_is_not_told_by_the_total_less_the_others(
    tmp_path, k, shown, named
):
    """Newcomers: 2 of 20 grant; regulars: 10 of 20. The rates by source show the 40
    respondents' 12 granted, so at k = 5, where the newcomers' 2 are a small group, the
    regulars' 0.5 (10 of 20) would tell that 2 of the 20 newcomers granted: both are hidden.
    At k = 2 nothing is hidden. Spearman r is the phi of the 2x2 table,
    (10 * 18 - 2 * 10) / sqrt(12 * 28 * 20 * 20) = 0.436, its 99% interval above zero; at
    k = 5 there is no finding: r over the hidden segments' respondents, with the margins
    shown (20 and 20 respondents, 12 granted), would give the 2x2 table back."""
    rows, _ = _respondents()
    grants = {r["respondent_id"]: (i < 2 if i < 20 else i < 30) for i, r in enumerate(rows)}
    data, consent = _log(tmp_path, grants)
    survey = _write_csv(tmp_path / "survey.csv", rows)
    doc = run_scan(data, consent=consent, config=config(min_group_size=k), survey=[survey])
    doc = doc.to_dict()
    assert doc["evidence"]["optin_rates"]["source"][0]["granted"] == 12
    if shown is None:
        assert by_kind(doc, "people.trust_gap") == []
        assert doc["evidence"]["survey"]["correlations"]["analytics"]["units"] == 0
        return
    [f] = by_kind(doc, "people.trust_gap")
    assert f["metrics"]["spearman_r"] == pytest.approx(0.4364, abs=1e-4)
    assert [r[3] for r in f["evidence"]["table"]["rows"]] == shown
    assert f["metrics"]["low_segments"] == named


def test_sharing_uplift_hides_a_period_of_few_sharers(tmp_path):
    """The respondents of _respondents: week of 2026-10-05, 5 of 20 state a preference; week
    of 2026-10-19, 15 of 20 (5 do not). At k = 6 both weeks are small splits: 0.25 beside
    20 respondents tells that 5 shared, so the shares, the uplift and its interval are
    hidden; at k = 5 nothing is."""
    rows, grants = _respondents()
    data, consent = _log(tmp_path, grants)
    survey = _write_csv(tmp_path / "survey.csv", rows)
    for k, shown in ((5, [0.25, 0.75]), (6, [None, None])):
        doc = run_scan(data, consent=consent, config=config(min_group_size=k), survey=[survey])
        sharing = doc.to_dict()["evidence"]["survey"]["voluntary_sharing"]
        assert sharing["series"]["series"]["share sharing"] == shown
        # one preference per sharer: the mean per respondent is the share, hidden with it
        assert sharing["series"]["series"]["preferences per respondent"] == shown
        assert (sharing["share_first"], sharing["share_last"]) == tuple(shown)
        assert (sharing["uplift"] is None) == (k == 6)
        if k == 6:
            assert sharing["suppressed"] == ["share_first", "share_last", "uplift", "uplift_ci95"]


def test_a_survey_of_a_header_only_is_told_not_silent(tmp_path):
    """A survey CSV of its header only ran people.trust_gap on nothing and said nothing (an
    empty JSON list was "has no trust or sentiment column"). Now each such file gets a note,
    and with no row at all the check is skipped with the reason; beside a survey of 40 rows
    the check runs on those 40 and the note names the empty file."""
    rows, grants = _respondents()
    data, consent = _log(tmp_path, grants)
    header = tmp_path / "header.csv"
    header.write_text("respondent_id,segment,trust\n", encoding="utf-8")
    empty_json = tmp_path / "empty.json"
    empty_json.write_text("[]\n", encoding="utf-8")

    doc = run_scan(
        data, consent=consent, config=config(), survey=[str(header), str(empty_json)]
    ).to_dict()
    assert doc["evidence"]["notes"][-2:] == [
        f"--survey {header}: no rows (a header only): it adds no answer",
        f"--survey {empty_json}: no rows (a header only): it adds no answer",
    ]
    [check] = [c for c in doc["checks"] if c["name"] == "people.trust_gap"]
    assert check["status"] == "skipped"
    assert check["reason"].startswith("the survey has no row: nothing to compare with opt-in")
    assert "survey" not in doc["evidence"]

    full = _write_csv(tmp_path / "survey.csv", rows)
    doc = run_scan(data, consent=consent, config=config(), survey=[str(header), full]).to_dict()
    assert (
        f"--survey {header}: no rows (a header only): it adds no answer"
        in (doc["evidence"]["notes"])
    )
    assert doc["evidence"]["survey"]["rows"] == 40
    assert by_kind(doc, "people.trust_gap")


def test_a_survey_whose_rows_all_lack_a_trust_score_skips_the_check(tmp_path):
    """2 rows, both with an empty trust: both left out, so no row to use: skipped, saying so."""
    _, grants = _respondents()
    data, consent = _log(tmp_path, grants)
    survey = tmp_path / "blank.csv"
    survey.write_text("respondent_id,trust\nu1,\nu2,\n", encoding="utf-8")
    doc = run_scan(data, consent=consent, config=config(), survey=[str(survey)]).to_dict()
    [check] = [c for c in doc["checks"] if c["name"] == "people.trust_gap"]
    assert (check["status"], check["reason"][:40]) == (
        "skipped",
        "the survey has no row with a trust score",
    )
