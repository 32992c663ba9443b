"""Hostile round 25: inputs that gave wrong results."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.helpers import few_deny_personalization, scan_csv


def _toml(text: str) -> dict:
    return tomllib.loads(text)


def test_an_anonymous_id_that_is_another_users_id_keys_no_device(tmp_path):
    """Ids of two kinds numbered alike: customer 7 on device 42, customer 42 on device 99.
    Customer 7 granted ads at 09:00, customer 42 denied at 09:30. Customer 42's denial was
    read as device 42's own record: customer 7's gclid read as collected after a withdrawal
    (consent.after_withdrawal of 1 user), customer 42's was no finding. By hand: customer 7
    granted; customer 42 denied and sent gclid, a violation of 1 user."""
    events = [
        "event_id,ts,event_name,user_id,device_id,gclid",
        "e1,2026-10-01T10:00:00Z,page_view,7,42,g1",
        "e2,2026-10-01T10:00:00Z,page_view,42,99,g2",
    ]
    log = [
        "user_id,purpose,status,ts",
        "7,ads,granted,2026-10-01T09:00:00Z",
        "42,ads,denied,2026-10-01T09:30:00Z",
    ]
    toml = '[thresholds]\nmin_group_size = 1\n[features.gclid]\npurposes = ["ads"]\n'
    doc = scan_csv(tmp_path, events, log, toml)
    found = {f["kind"]: f["metrics"] for f in doc["findings"] if f["kind"].startswith("consent")}
    assert set(found) == {"consent.violation"}
    assert (found["consent.violation"]["users"], found["consent.violation"]["events"]) == (1, 1)
    assert not any("of its own" in n for n in doc["evidence"].get("notes", []))


def _audit(folder, k: int) -> dict:
    """An audit of ``folder``'s privdiag.toml at ``min_group_size`` ``k``; its audit.json."""
    import json

    from typer.testing import CliRunner

    from privdiag.cli import app

    config = folder / "privdiag.toml"
    config.write_text(
        f'[thresholds]\nmin_group_size = {k}\n[sources.web]\npaths = ["web.csv"]\n'
        '[consent]\npaths = ["cmp.csv"]\n'
    )
    before = set((folder / "privdiag-reports").glob("*"))
    args = ["audit", "--config", str(config), "--fail-on", "critical", "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (made,) = set((folder / "privdiag-reports").glob("*")) - before
    return json.loads((made / "audit.json").read_text())


def test_an_audit_at_a_larger_group_size_charts_no_rate_of_an_earlier_smaller_one(tmp_path):
    """40 users decide analytics, half granting; 3 of them deny personalization. A nightly
    audit at min_group_size 1, then at 5: the second run's trends showed the first run's
    personalization rate, 0.0 (3 users, each denying), which the run itself withholds; and
    `privdiag report` of the first run's audit.json at 5 showed it too."""
    events, log = few_deny_personalization()
    (tmp_path / "web.csv").write_text(events)
    (tmp_path / "cmp.csv").write_text(log)
    first = _audit(tmp_path, 1)
    assert first["evidence"]["trends"]["series"]["consent_rate.personalization"] == [0.0]
    second = _audit(tmp_path, 5)
    series = second["evidence"]["trends"]["series"]
    assert series["consent_rate.analytics"] == [None, 0.5]
    assert series.get("consent_rate.personalization", [None, None]) == [None, None]
    assert series["violations"] == [None, 0.0] and series["findings"] == [1.0, 1.0]
    # a run at the same size keeps the second run's measures
    third = _audit(tmp_path, 5)["evidence"]["trends"]["series"]
    assert third["consent_rate.analytics"] == [None, 0.5, 0.5]

    import json

    from typer.testing import CliRunner

    from privdiag.cli import app

    old = tmp_path / "first.json"
    old.write_text(json.dumps(first))
    out = tmp_path / "report.json"
    args = ["report", str(old), "--config", str(tmp_path / "privdiag.toml"), "--json", str(out)]
    assert CliRunner().invoke(app, [*args, "--fail-on", "critical"]).exit_code == 0
    assert json.loads(out.read_text())["evidence"]["trends"]["series"] == {"findings": [1.0]}


def test_a_log_of_purposes_reads_the_rows_that_hold_a_tc_string_alone(tmp_path):
    """A CMP log of purpose and status rows, some of its rows a TC string alone: u1 granted
    ads as a purpose row, u2's string denies every purpose. The string was not read ("left
    out, as they say no decision"): u2's gclid was no violation, u2 a missing record. By
    hand: one violation of 1 user (u2), and 5 records (u1's 1, u2's 4 purposes)."""
    from tests.test_decode_tcf import encode, make

    denied = encode(make(purposes_consent=frozenset()))
    events = [
        "event_id,ts,event_name,user_id,gclid",
        "e1,2026-10-01T10:30:00Z,page_view,u1,g",
        "e2,2026-10-01T10:30:00Z,page_view,u2,g",
    ]
    log = [
        "user_id,purpose,status,tc_string,ts",
        "u1,ads,granted,,2026-10-01T10:00:00Z",
        f"u2,,,{denied},2026-10-01 10:00:00",
    ]
    toml = '[thresholds]\nmin_group_size = 1\n[features.gclid]\npurposes = ["ads"]\n'
    doc = scan_csv(tmp_path, events, log, toml)
    kinds = sorted(f["kind"] for f in doc["findings"] if f["kind"].startswith("consent"))
    assert kinds == ["consent.violation"]
    (consent,) = [i for i in doc["inputs"] if i["role"] == "consent"]
    assert (consent["rows"], consent["records"]) == (2, 5)
    notes = doc["evidence"].get("notes", [])
    assert not any("no decision" in n for n in notes)
    assert len([n for n in notes if "carry no Z or UTC offset" in n]) == 1


def test_a_row_of_a_purpose_without_a_status_is_decided_by_its_tc_string(tmp_path):
    """Hostile round 25's (5): beside purpose and status rows, u2's row names ads with an
    empty status and holds a string denying every purpose, u3's names ads as 'pending' and
    holds a string granting them all. Both were left out as saying no decision: u2's gclid
    was no violation. The row's purpose without a status says nothing; its string decides
    the purposes it covers. By hand: one violation of 1 user (u2); 9 records (u1's 1, 4
    purposes each of u2's and u3's strings); no row left out."""
    from tests.test_decode_tcf import encode, make

    denied = encode(make(purposes_consent=frozenset()))
    granted = encode(make())
    events = [
        "event_id,ts,event_name,user_id,gclid",
        "e1,2026-10-01T10:30:00Z,page_view,u1,g",
        "e2,2026-10-01T10:30:00Z,page_view,u2,g",
        "e3,2026-10-01T10:30:00Z,page_view,u3,g",
    ]
    log = [
        "user_id,purpose,status,tc_string,ts",
        "u1,ads,granted,,2026-10-01T10:00:00Z",
        f"u2,ads,,{denied},2026-10-01T10:00:00Z",
        f"u3,ads,pending,{granted},2026-10-01T10:00:00Z",
    ]
    toml = '[thresholds]\nmin_group_size = 1\n[features.gclid]\npurposes = ["ads"]\n'
    doc = scan_csv(tmp_path, events, log, toml)
    found = [f for f in doc["findings"] if f["kind"].startswith("consent")]
    assert [(f["kind"], f["metrics"]["users"]) for f in found] == [("consent.violation", 1)]
    (consent,) = [i for i in doc["inputs"] if i["role"] == "consent"]
    assert (consent["rows"], consent["records"]) == (3, 9)
    assert not any("no decision" in n for n in doc["evidence"].get("notes", []))


def test_a_step_owner_owns_every_name_of_a_step_of_several():
    """`"step:purchase" = "checkout"` beside `steps = [["purchase", "Order Completed"]]`:
    a consent gap at the step (labelled purchase) went to checkout, a violation at its event
    name Order Completed to nobody; and a pattern naming the second name missed the gap."""
    from privdiag.config import parse_config
    from privdiag.mapping import owner_for

    steps = '[journey]\nsteps = ["page_view", ["purchase", "Order Completed"]]\n'
    for pattern in ("purchase", "Order*"):
        config = parse_config(
            _toml(steps + f'[owners]\n"step:{pattern}" = "checkout"\n'), Path("p.toml")
        )
        for step in ("purchase", "Order Completed"):
            assert owner_for(config, source="web", step=step) == "checkout", (pattern, step)
        assert owner_for(config, source="web", step="page_view") is None


def test_a_near_miss_note_shows_no_column_named_like_an_identifier():
    """`[features.order_9000016]` beside a column `order_9000015` of no finding: the note
    asked "did you mean order_9000015?", the one place the column's name, redacted in
    every finding, was shown."""
    from privdiag.config import parse_config
    from privdiag.mapping import unmatched_features

    toml = '[features.order_9000016]\npurposes = ["ads"]\n[features.gcild]\npurposes = ["ads"]\n'
    config = parse_config(_toml(toml), Path("p.toml"))
    notes = unmatched_features(["order_9000015", "gclid"], config)
    assert len(notes) == 2 and not any("9000015" in n for n in notes)
    assert "looks like an identifier" in notes[0] and "did you mean gclid?" in notes[1]


def test_a_step_owner_owns_both_names_of_an_inferred_ecommerce_step():
    """Without `[journey] steps`, GA4's purchase and Segment's Order Completed are one
    inferred step: `"step:purchase" = "checkout"` owned a gap at purchase and not a
    violation at Order Completed (hostile round 25's (2)). Configured steps keep their own
    names: there the two are apart unless listed together."""
    from privdiag.config import parse_config
    from privdiag.mapping import owner_for

    config = parse_config(_toml('[owners]\n"step:purchase" = "checkout"\n'), Path("p.toml"))
    for step in ("purchase", "Order Completed"):
        assert owner_for(config, source="web", step=step) == "checkout", step
    assert owner_for(config, source="web", step="Product Added") is None
    apart = parse_config(
        _toml(
            '[journey]\nsteps = ["purchase", "Order Completed"]\n'
            '[owners]\n"step:purchase" = "checkout"\n'
        ),
        Path("p.toml"),
    )
    assert owner_for(apart, source="web", step="Order Completed") is None
