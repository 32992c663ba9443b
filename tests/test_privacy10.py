"""Small groups and differencing, tenth privacy session: events without a user id beside a
few identified users, and what the outputs let a reader subtract.

Hand-checked inputs are built in each test; the numbers are written beside them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from privdiag.config import load_config
from privdiag.report.text import key_figure
from privdiag.scan import run_scan
from tests.helpers import by_kind, write


def _mixed(folder: Path, identified: int, pings: int, k: int) -> dict:
    """``identified`` users who denied ads send gclid on 3 purchases each, and ``pings``
    cookieless purchases with gclid and ads denied; 30 users granted with gclid and 30 of
    their purchases denied without it. Violation: 3 * identified + pings events."""
    rows = ["ts,event_name,user_id,gclid,consent_ads"]
    for u in range(identified):
        rows += [f"2026-10-01T10:0{n}:00Z,purchase,id{u},g{u}x{n},denied" for n in range(3)]
    rows += [f"2026-10-01T11:{n % 60:02d}:00Z,purchase,,p{n},denied" for n in range(pings)]
    for u in range(30):
        rows += [
            f"2026-10-01T12:00:00Z,purchase,user{u},q{u},granted",
            f"2026-10-01T12:01:00Z,purchase,user{u},,denied",
        ]
    events = write(folder / "events.csv", "\n".join(rows) + "\n")
    cfg = write(
        folder / "privdiag.toml",
        f"""
        [features.gclid]
        purposes = ["ads"]
        [thresholds]
        min_group_size = {k}
        """,
    )
    doc = run_scan([events], config=load_config(Path(cfg))).to_dict()
    [violation] = by_kind(doc, "consent.violation")
    return violation["metrics"]


def test_a_few_identified_users_among_cookieless_pings_hide_only_their_own_figures(tmp_path):
    """2 identified users (6 events) and 50 pings, k = 5: the 2 users, the 56 events, the
    share 56 / 86 denied purchases and the 86 stay hidden (56 less 50 would give the users'
    6); the 50 events without a user id are shown, as a finding of pings alone shows its
    events."""
    m = _mixed(tmp_path, identified=2, pings=50, k=5)
    assert m == {
        "events": None,
        "users": None,
        "share": None,
        "denied_events": None,  # 86 = 6 + 50 + 30, hidden with the 2 users
        "events_without_user_id": 50,
        "suppressed": ["users", "events", "share", "denied_events"],
        "min_group_size": 5,
    }
    assert key_figure(m, 5) == "<5 users and 50 events without a user id"


def test_enough_identified_users_show_everything(tmp_path):
    """6 identified users (18 events) and 10 pings, k = 5: nothing hidden, 28 events."""
    m = _mixed(tmp_path, identified=6, pings=10, k=5)
    assert (m["events"], m["users"], m["events_without_user_id"]) == (28, 6, 10)
    assert m["share"] == pytest.approx(28 / 58, abs=1e-6)  # 18 + 10 + 30 denied
    assert "suppressed" not in m


def test_pings_alone_are_unchanged(tmp_path):
    """No identified user: the 50 events are shown, the users unknown (no_user_ids), and
    there is no separate count of events without a user id."""
    m = _mixed(tmp_path, identified=0, pings=50, k=5)
    assert (m["events"], m["users"], m["no_user_ids"]) == (50, None, ["users"])
    assert "events_without_user_id" not in m


def test_few_identified_users_without_pings_stay_hidden(tmp_path):
    m = _mixed(tmp_path, identified=2, pings=0, k=5)
    assert (m["events"], m["users"], m["share"]) == (None, None, None)
    assert "events_without_user_id" not in m
    assert re.fullmatch("<5 users", key_figure(m, 5))


def _gap_scan(
    folder: Path, k: int, granted_users: int = 40, lacking: int = 1, violation: bool = True
) -> dict:
    """40 users granted ads (gclid on every event but g0's purchase), 41 denied without gclid,
    but for v1, whose purchase carries gclid: a consent.violation of 1 user and 1 event.
    Both page_view and purchase per user. Purchase, denied: 41 events, 40 missing; granted:
    40 events, 1 missing (0.025). ``lacking`` granted users (g0, g1, ...) lack gclid at
    purchase; without ``violation`` v1's purchase lacks it too."""
    events = ["event_id,ts,event_name,user_id,gclid"]
    consent = ["user_id,purpose,status,ts"]
    users = [(f"g{u}", True) for u in range(granted_users)]
    users += [(f"d{u}", False) for u in range(40)]
    lack = {(f"g{u}", "purchase") for u in range(lacking)}
    for user, granted in [*users, ("v1", False)]:
        status = "granted" if granted else "denied"
        consent.append(f"{user},ads,{status},2026-10-01T08:00:00Z")
        for step in ("page_view", "purchase"):
            has = (granted and (user, step) not in lack) or (
                violation and (user, step) == ("v1", "purchase")
            )
            events.append(f"{user}{step},2026-10-01T10:00:00Z,{step},{user},{'x' if has else ''}")
    data = write(folder / "events.csv", "\n".join(events) + "\n")
    log = write(folder / "consent.csv", "\n".join(consent) + "\n")
    cfg = write(
        folder / "privdiag.toml",
        f"""
        [journey]
        steps = ["page_view", "purchase"]
        [features.gclid]
        purposes = ["ads"]
        [thresholds]
        min_group_size = {k}
        """,
    )
    return run_scan([data], consent=[log], config=load_config(Path(cfg))).to_dict()


def test_a_consent_gap_does_not_tell_the_events_of_a_hidden_violation(tmp_path):
    """k = 5: the violation at purchase has 1 user, so its events are hidden; the consent gap
    at purchase showed 41 denied events of which 40 miss gclid, and its heat map the gap
    40/41 - 1/40: 41 less 40 gave the violation's 1 event. Now the denied side's missing
    count, its share, the gap and what follows from them are hidden there, the title gives
    no share, and the heat maps leave that cell empty. At page_view (no violation)
    everything is shown."""
    doc = _gap_scan(tmp_path, k=5)
    [violation] = by_kind(doc, "consent.violation")
    assert violation["metrics"]["events"] is None
    gaps = {f["location"]["step"]: f for f in by_kind(doc, "sparsity.consent_gap")}
    purchase = gaps["purchase"]
    assert purchase["evidence"]["table"]["rows"] == [
        ["granted", 40, None, None],  # g0's 1 missing purchase: hidden since polish11
        ["denied", 41, None, None],
        ["unknown", 0, 0, None],
    ]
    m = purchase["metrics"]
    for key in (
        "events",
        "share",
        "missing_share_denied",
        "missing_share_granted",
        "gap",
        "gap_ci",
        "excess_missing_events",
    ):
        assert m[key] is None, key
    assert m["events_denied"] == 41
    assert purchase["title"] == (
        "gclid is missing far more often on purchase events when ads is denied than when granted"
    )
    [heatmap] = doc["evidence"]["consent_gap_heatmaps"]
    assert heatmap["rows"] == ["page_view", "purchase"]
    assert heatmap["values"] == [[1.0], [None]]
    assert gaps["page_view"]["evidence"]["table"]["rows"][1] == ["denied", 41, 41, 1.0]
    # k = 1 hides nothing: 40 of 41, gap 40/41 - 1/40 = 0.9506
    shown = {
        f["location"]["step"]: f for f in by_kind(_gap_scan(tmp_path, k=1), "sparsity.consent_gap")
    }
    assert shown["purchase"]["metrics"]["gap"] == pytest.approx(40 / 41 - 1 / 40, abs=1e-4)


def test_a_consent_gap_hides_a_state_of_few_users(tmp_path):
    """3 users granted ads (gclid on every event but g0's purchase), 41 denied as above,
    k = 5: the granted row (3 purchases, 1 missing) is hidden whole, with its missing share,
    its events and the gaps; the denied side's 41 events stay (41 units)."""
    doc = _gap_scan(tmp_path, k=5, granted_users=3)
    gaps = {f["location"]["step"]: f for f in by_kind(doc, "sparsity.consent_gap")}
    page_view = gaps["page_view"]
    assert page_view["evidence"]["table"]["rows"][0] == ["granted", None, None, None]
    assert page_view["evidence"]["table"]["rows"][1] == ["denied", 41, 41, 1.0]
    m = page_view["metrics"]
    for key in ("missing_share_granted", "events_granted", "gap", "gap_ci", "explained_share"):
        assert m[key] is None and key in m["suppressed"], key
    assert (m["events"], m["events_denied"], m["missing_share_denied"]) == (41, 41, 1.0)


def test_a_consent_gap_hides_the_granted_missing_count_of_few_users(tmp_path):
    """No violation, k = 5. Purchase, granted: 40 events, of which g0's and g1's 2 lack
    gclid; that 2 is those 2 users' events, so the granted row's missing count and share are
    hidden, with the gaps (a gap less the denied share gives the granted one); the denied
    side (41 of 41 missing) is shown. With 5 granted users lacking it, 5 of 40 (0.125) and
    the gap 1 - 0.125 = 0.875 are shown."""
    doc = _gap_scan(tmp_path, k=5, lacking=2, violation=False)
    [purchase] = [
        f for f in by_kind(doc, "sparsity.consent_gap") if f["location"]["step"] == "purchase"
    ]
    rows = purchase["evidence"]["table"]["rows"]
    assert rows[:2] == [["granted", 40, None, None], ["denied", 41, 41, 1.0]]
    m = purchase["metrics"]
    for key in ("missing_share_granted", "gap", "gap_ci", "explained_share"):
        assert m[key] is None and key in m["suppressed"], key
    assert (m["events"], m["missing_share_denied"], m["events_granted"]) == (41, 1.0, 40)
    assert "users" not in m["suppressed"]

    doc = _gap_scan(tmp_path, k=5, lacking=5, violation=False)
    [purchase] = [
        f for f in by_kind(doc, "sparsity.consent_gap") if f["location"]["step"] == "purchase"
    ]
    assert purchase["evidence"]["table"]["rows"][0] == ["granted", 40, 5, 0.125]
    assert purchase["metrics"]["gap"] == pytest.approx(0.875)
    assert "suppressed" not in purchase["metrics"]


def test_a_reliability_bin_of_fewer_rows_than_k_is_left_out():
    """Scores 0.15, 0.15 (labels 0, 1), 0.95 x 2 (1, 1) and 0.55 alone (label 1): the bin
    0.5-0.6 holds one row, whose point [0.55, 1.0] told its score and its outcome. With a
    minimum of 2 rows it is left out; the bins of 2 stay."""
    import numpy as np

    from privdiag.model.metrics import reliability_curve

    y = np.array([0.0, 1.0, 1.0, 1.0, 1.0])
    p = np.array([0.15, 0.15, 0.95, 0.95, 0.55])
    assert reliability_curve(y, p) == [[0.15, 0.5], [0.55, 1.0], [0.95, 1.0]]
    # the bin at 0.15 holds 2 rows, one positive and one negative: each side 1 < 2, so it
    # goes too since privacy review 25 (tests/test_privacy25.py)
    assert reliability_curve(y, p, 2) == [[0.95, 1.0]]


def test_model_check_reliability_keeps_to_min_group_size(tmp_path):
    """A blind set of 60 rows: with min_group_size = 30, no bin of the reliability curves
    holds fewer than 30 rows, so at most two points per curve; at 1 every non-empty bin."""
    from privdiag.model import run_model_check
    from privdiag.model.synthetic import make_blind_set
    from tests.test_model_check import MODELS, RATES, _config

    path = tmp_path / "blind.csv"
    make_blind_set(60, seed=5).write_csv(path)
    points = {}
    for k in (1, 30):
        cfg = _config()
        cfg.thresholds.min_group_size = k
        result = run_model_check(
            MODELS / "propensity_imputed.onnx", path, config=cfg, consent_rates=RATES
        )
        points[k] = result.evidence["reliability"]["points"]["unmasked"]
    assert len(points[30]) <= 2 < len(points[1])


def test_report_applies_its_min_group_size_to_a_result_made_with_a_smaller_one(tmp_path):
    """The gap scan at k = 1: v1's violation shows 1 user, 1 event, share 1/41. ``privdiag
    report`` with a config of k = 5 read "<5 users" beside that 1 event and its share; now the
    event and share are hidden too, in the JSON as in the reports."""
    import json

    from typer.testing import CliRunner

    from privdiag.cli import app

    doc = _gap_scan(tmp_path, k=1)
    [before] = by_kind(doc, "consent.violation")
    assert (before["metrics"]["users"], before["metrics"]["events"]) == (1, 1)
    # only the findings whose groups are their users: a consent gap of k = 1 is refused
    # (test_report_refuses_a_larger_k_for_findings_it_cannot_hide_again)
    doc["findings"] = [f for f in doc["findings"] if f["kind"].startswith("consent.")]
    (tmp_path / "k1.json").write_text(json.dumps(doc), encoding="utf-8")
    out, md = tmp_path / "out.json", tmp_path / "out.md"
    args = ["report", str(tmp_path / "k1.json"), "--config", str(tmp_path / "privdiag.toml")]
    _gap_scan(tmp_path, k=5)  # writes the config with k = 5
    run = CliRunner().invoke(app, [*args, "--json", str(out), "--markdown", str(md), "-q"])
    assert run.exit_code in (0, 1), run.output
    [after] = by_kind(json.loads(out.read_text()), "consent.violation")
    assert after["metrics"] == {
        "events": None,
        "users": None,
        "share": None,
        "denied_events": None,  # 41 when the scan's k was 1
        "suppressed": ["users", "events", "share", "denied_events"],
        "min_group_size": 5,
    }
    assert "<5 users" in md.read_text() or "&lt;5 users" in md.read_text()
    assert json.loads(out.read_text())["min_group_size"] == 5


def test_report_refuses_a_larger_k_for_findings_it_cannot_hide_again(tmp_path):
    """The gap scan at k = 1 holds a sparsity.consent_gap whose state rows its check hides
    by a rule of its own (a state of fewer than k events). ``privdiag report`` at k = 5
    rewrote only consent.missing_record's title and showed the rest as made at 1; now the
    result is refused, naming the file, the k it was made with and the kinds."""
    import json

    from typer.testing import CliRunner

    from privdiag.cli import app

    doc = _gap_scan(tmp_path, k=1)
    assert doc["min_group_size"] == 1 and by_kind(doc, "sparsity.consent_gap")
    result = tmp_path / "k1.json"
    result.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "out.json"
    args = ["report", str(result), "--config", str(tmp_path / "privdiag.toml")]

    _gap_scan(tmp_path, k=5)  # writes the config with k = 5
    run = CliRunner().invoke(app, [*args, "--json", str(out), "-q"])

    assert run.exit_code == 3, run.output
    assert f"{result}: was made with min_group_size = 1" in run.output
    assert "sparsity.consent_gap" in run.output and "at min_group_size = 5" in run.output
    assert "run the scan or model-check again with min_group_size = 5" in run.output
    assert not out.exists()

    _gap_scan(tmp_path, k=1)  # the config at the result's own k reports it
    run = CliRunner().invoke(app, [*args, "--json", str(out), "-q"])
    assert run.exit_code in (0, 1), run.output
    assert json.loads(out.read_text())["min_group_size"] == 1


def test_report_keeps_to_the_larger_k_of_results_made_with_one(tmp_path):
    """A result made at k = 5 reported with a config of k = 1 stays at 5 (its counts are
    hidden as made); a result that records no k (older, or edited) records none merged."""
    from privdiag.report.group_size import check_group_sizes

    assert check_group_sizes([{"min_group_size": 5}], ["a.json"], 1) == 5
    assert check_group_sizes([{"min_group_size": 5}, {"min_group_size": 8}], ["a", "b"], 1) == 5
    assert check_group_sizes([{"min_group_size": 5}, {}], ["a", "b"], 1) is None
    assert check_group_sizes([{"min_group_size": True, "findings": []}], ["a"], 5) is None


@pytest.mark.parametrize(
    "text",
    [
        'respondent_id,trust\nu1,3\n"cust_88123456,alice@example.com,3\n',  # quote never closed
        "respondent_id,trust\n" + "u1,3\n" * 10_001 + "cust_88123456,3\n",
    ],
)
def test_survey_and_blind_set_errors_quote_no_record(tmp_path, text):
    """polars quoted the value it could not parse in its message, with an unclosed quote the
    rest of the file (a respondent id, an e-mail); the message said it after "Error:"."""
    from typer.testing import CliRunner

    from privdiag.cli import app
    from privdiag.errors import InputError
    from privdiag.model.blindset import read_table
    from privdiag.survey import read_frame

    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8")
    blind = tmp_path / "blind.csv"
    blind.write_text(
        text.replace("respondent_id,trust", "label,sessions_30d").replace("u1,3", "1,3"),
        encoding="utf-8",
    )
    messages = []
    for read, where in ((read_frame, path), (read_table, blind)):
        try:
            read(where)
        except InputError as exc:
            messages.append(str(exc))
    events = write(tmp_path / "events.csv", "event_id,ts,event_name,user_id\ne1,2026-10-01,a,u1\n")
    run = CliRunner().invoke(app, ["scan", events, "--survey", str(path), "-q"])
    messages.append(run.output)
    assert messages[0] and "cust_88123456" not in "\n".join(messages), messages


def test_report_refuses_a_model_check_made_with_a_smaller_k(tmp_path):
    """A model-check's reliability bins and drift categories under k rows are left out by
    the check itself: no report can leave them out again."""
    from privdiag.errors import InputError
    from privdiag.report.group_size import check_group_sizes

    doc = {"command": "model-check", "min_group_size": 2, "findings": [], "evidence": {"x": 1}}
    with pytest.raises(InputError) as caught:
        check_group_sizes([doc], ["model.json"], 10)
    assert "model-check evidence" in str(caught.value)
    assert check_group_sizes([doc], ["model.json"], 2) == 2


def test_a_larger_k_hides_a_lead_times_events_and_an_unmapped_categorys_decisions():
    """shown_metrics hid events, share and denied_events with the users; the events beyond
    and within the grace window of consent.pre_consent, and consent.unmapped_category's
    decisions, which the checks hide with them, stayed."""
    from privdiag.audit.diff import shown_metrics

    lead = {"users": 3, "events": 9, "events_beyond_grace": 7, "events_within_grace": 2}
    assert shown_metrics(lead, 5) == {
        "users": None,
        "events": None,
        "events_beyond_grace": None,
        "events_within_grace": None,
        "suppressed": ["users", "events", "events_beyond_grace", "events_within_grace"],
        "min_group_size": 5,
    }
    unmapped = shown_metrics({"decisions": 4, "users": 2}, 5)
    assert unmapped["decisions"] is None and unmapped["users"] is None
