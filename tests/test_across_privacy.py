"""Figures of two findings whose difference tells a small group (privacy review 20).

400 users, one page_view each (written by :func:`_scan`): 378 grant ads and send gclid and
fbclid, every second one of them (189) buys too; 22 deny ads, none buys, none sends fbclid,
and ``carriers`` of them send gclid. With 18 carriers the `consent.violation` shows users 18
and its cell's consent gap hides the 4 who deny ads and lack gclid. Before this rule the scan
showed, beside the violation's 18:

- the opt-in rates: 400 persons decided, 378 granted (22 denied), in every dimension;
- the `funnel.consent_drop` (page_view to purchase): users 22 and events 22 denying ads at
  page_view, and 22 in its table's denied row;
- the consent gap of fbclid at page_view: events_denied 22, users 22 and events 22 lacking
  fbclid while denied (every denied user), excess_missing_events 22, 22 in its table;

and 22 less 18 told the 4.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from privdiag.checks.across import hide_across
from privdiag.checks.disclosure import shown_groups
from privdiag.config import load_config
from privdiag.findings import Finding
from privdiag.report.facts import metric_items
from privdiag.scan import run_scan
from tests.helpers import scan_csv


def _scan(tmp_path: Path, carriers: int) -> dict:
    return _shop(tmp_path, 22, range(carriers), range(0))


def _shop(
    tmp_path: Path,
    deniers: int,
    gclid: range,
    fbclid: range,
    names: tuple[str, str] = ("page_view", "purchase"),
    steps: str = '["page_view", "purchase"]',
) -> dict:
    """400 users of one page_view each, the first ``deniers`` denying ads; those granting it
    send gclid and fbclid, every second one buying too; of the deniers, those in ``gclid``
    (``fbclid``) send gclid (fbclid). Over five days. ``names``: the events' names of a
    page view and a purchase; ``steps``: the journey's."""
    lines = ["event_id,ts,event_name,user_id,gclid,fbclid"]
    decisions = ["user_id,purpose,status,ts"]
    for u in range(400):
        denied = u < deniers
        g = f"g{u}" if not denied or u in gclid else ""
        f = f"f{u}" if not denied or u in fbclid else ""
        day = f"2026-10-0{1 + u % 5}"
        lines.append(f"e{u},{day}T10:00:00Z,{names[0]},u{u},{g},{f}")
        if not denied and u % 2:
            lines.append(f"p{u},{day}T11:00:00Z,{names[1]},u{u},{g},{f}")
        decisions.append(f"u{u},ads,{'denied' if denied else 'granted'},2026-09-01T00:00:00Z")
    toml = f'[journey]\nsteps = {steps}\n\n[features.gclid]\npurposes = ["ads"]\n'
    return scan_csv(tmp_path, lines, decisions, toml + '\n[features.fbclid]\npurposes = ["ads"]\n')


def _find(doc: dict, kind: str, feature: str | None = None) -> dict:
    (found,) = [
        f
        for f in doc["findings"]
        if f["kind"] == kind and (feature is None or f["location"].get("feature") == feature)
    ]
    return found


def test_the_opt_in_rates_hide_the_persons_who_denied_beside_a_violation(tmp_path):
    doc = _scan(tmp_path, carriers=18)
    violation = _find(doc, "consent.violation")
    assert (violation["metrics"]["users"], violation["metrics"]["events"]) == (18, 18)
    for dim, rows in doc["evidence"]["optin_rates"].items():
        (row,) = rows
        assert (row["decisions"], row["granted"], row["optin"]) == (400, None, None), dim
        assert row["suppressed_by_difference"] == ["granted", "optin"]
        assert row["difference_with"] == [violation["id"]]


def test_a_funnel_drop_hides_its_denied_users_beside_a_violation(tmp_path):
    doc = _scan(tmp_path, carriers=18)
    funnel = _find(doc, "funnel.consent_drop")
    m = funnel["metrics"]
    assert (m["users"], m["events"]) == (None, None)
    assert m["suppressed_by_difference"] == ["users", "events"]
    assert m["difference_with"] == [_find(doc, "consent.violation")["id"]]
    assert (m["conversion_denied"], m["conversion_granted"]) == (0.0, 0.5)  # its drop stays
    rows = {r[0]: r for r in funnel["evidence"]["table"]["rows"]}
    assert rows["denied"] == ["denied", None, None, 0, 0.0, 0.0]
    assert rows["granted"] == ["granted", 378, 189, 0, 0.5, 0.5]
    items = dict(metric_items(m, 5, "funnel.consent_drop"))  # large: "hidden", not "<5"
    assert items["Users"] == items["Events"] == "hidden"


def test_the_gap_of_another_feature_hides_its_denied_counts_beside_a_violation(tmp_path):
    doc = _scan(tmp_path, carriers=18)
    gap = _find(doc, "sparsity.consent_gap", "fbclid")
    m = gap["metrics"]
    hidden = ["events_denied", "users", "events", "excess_missing_events"]
    assert [m[k] for k in hidden] == [None] * 4
    assert m["suppressed_by_difference"] == hidden
    assert (m["missing_share_denied"], m["gap"], m["events_granted"]) == (1.0, 1.0, 378)
    denied = [r for r in gap["evidence"]["table"]["rows"] if r[0] == "denied"]
    assert denied == [["denied", None, None, 1.0]]


def test_a_step_of_several_names_hides_beside_a_violation_of_its_second_name(tmp_path):
    """Segment's names under steps labelled by GA4's (hostile round 25): the violation is
    at the event name ``Product Viewed``, the gap and the funnel at the step that name is
    one of (labelled ``view_item`` then, ``Product Viewed`` now that a step is labelled by
    a name its events have); their 22 denying ads were shown beside the violation's 18."""
    doc = _shop(
        tmp_path,
        22,
        range(18),
        range(0),
        ("Product Viewed", "Order Completed"),
        '[["view_item", "Product Viewed"], ["purchase", "Order Completed"]]',
    )
    violation = _find(doc, "consent.violation")
    assert violation["location"]["step"] == "Product Viewed"
    assert (violation["metrics"]["users"], violation["metrics"]["events"]) == (18, 18)
    gap = _find(doc, "sparsity.consent_gap", "fbclid")["metrics"]
    assert gap["events_denied"] is None
    assert (gap["users"], gap["events"]) == (None, None)
    assert gap["difference_with"] == [violation["id"]]
    funnel = _find(doc, "funnel.consent_drop")["metrics"]
    assert (funnel["from_step"], funnel["users"], funnel["events"]) == (
        "Product Viewed",
        None,
        None,
    )
    assert funnel["difference_with"] == [violation["id"]]


def test_nothing_is_hidden_across_where_the_difference_is_large(tmp_path):
    """10 carriers: 22 less 10 is 12 users, not a small group."""
    doc = _scan(tmp_path, carriers=10)
    assert _find(doc, "consent.violation")["metrics"]["users"] == 10
    assert _find(doc, "funnel.consent_drop")["metrics"]["users"] == 22
    assert _find(doc, "sparsity.consent_gap", "fbclid")["metrics"]["users"] == 22
    rows = doc["evidence"]["optin_rates"]["source"]
    assert [(r["decisions"], r["granted"]) for r in rows] == [(400, 378)]
    assert "difference_with" not in json.dumps(doc)


def _findings() -> list[Finding]:
    """A violation of 18 users at page_view, an opt-in drop of ads from 80% of 100 persons
    (20 denied) to 78% of 100 (22 denied), and a violation at purchase of 30 users whose
    denied events (31) the page_view violation's do not tell."""
    where = {"source": "web", "step": "page_view", "feature": "gclid", "purpose": "ads"}
    return [
        Finding("consent.violation", "high", "v", where, {"users": 18, "events": 18}),
        Finding(
            "consent.violation",
            "high",
            "w",
            where | {"step": "purchase"},
            {"users": 30, "events": 30, "denied_events": 31, "share": 0.967742},
        ),
        _ads_drop(100, 0.8, 100, 0.78),
    ]


def _ads_drop(before: int, optin_before: float, after: int, optin_after: float) -> Finding:
    """An opt-in drop of ads with notice v2, its breakdown one region of every person."""
    drop = {"users": after, "optin_before": optin_before, "optin_after": optin_after}
    drop |= {"persons_before": before, "persons_after": after, "share": optin_after}
    table = {"columns": [], "rows": [["region", "FR", before, optin_before, after, optin_after]]}
    where = {"purpose": "ads", "scenario": "notice v2"}
    return Finding("people.optin_drop", "high", "d", where, drop, evidence={"table": table})


def test_an_opt_in_drop_hides_its_persons_and_the_rule_is_order_free():
    """The drop's persons who denied (20 before, 22 after) less the violation's 18 tell 2
    and 4: its persons are hidden, its rates (what it reports) stay; the purchase
    violation's denied events (31) less its own 30 are the cell rule's, not this one's."""
    runs = []
    for seed in range(3):
        findings = _findings()
        random.Random(seed).shuffle(findings)
        hide_across(findings, {}, 5)
        runs.append(sorted(json.dumps(f.to_dict(), sort_keys=True) for f in findings))
    assert runs[0] == runs[1] == runs[2]
    findings = _findings()
    hide_across(findings, {}, 5)
    v, w, d = findings
    assert d.metrics["persons_before"] is d.metrics["persons_after"] is d.metrics["users"] is None
    assert (d.metrics["optin_before"], d.metrics["optin_after"]) == (0.8, 0.78)
    assert d.metrics["difference_with"] == [v.id]
    assert d.evidence["table"]["rows"] == [["region", "FR", None, 0.8, None, 0.78]]
    assert (v.metrics, w.metrics["denied_events"]) == ({"users": 18, "events": 18}, 31)


def test_an_opt_in_drop_is_not_hidden_by_a_violations_events():
    """Persons are not events (trial 23): a violation of 25 users and 52 events beside an
    opt-in drop of ads from 60.8% of 143 persons (56 denied) to 40.1% of 157 (94 denied).
    56 less the 25 users tells 31, no small group; 56 less the 52 events counts nothing, so
    the drop's persons stay, as its table's."""
    where = {"source": "ga4", "step": "page_view", "feature": "gclid", "purpose": "ads"}
    findings = [
        Finding("consent.violation", "high", "v", where, {"users": 25, "events": 52}),
        _ads_drop(143, 0.608392, 157, 0.401274),
    ]
    hide_across(findings, {}, 5)
    d = findings[1]
    assert (d.metrics["persons_before"], d.metrics["persons_after"]) == (143, 157)
    assert d.metrics["users"] == 157 and "difference_with" not in d.metrics
    assert d.evidence["table"]["rows"] == [["region", "FR", 143, 0.608392, 157, 0.401274]]


def test_shown_groups_hide_a_group_or_a_total_that_tells():
    """Two regions of 200 persons, 11 denying in each: the total's 22 less 18 tells 4, so
    one region (the first of the smallest) is hidden; its 11 less 18 tells nothing."""
    tells = lambda n, x, _groups, k: 0 < (n - x) - 18 < k  # noqa: E731
    groups = [(200, 189), (200, 189)]
    assert shown_groups(groups, [True, True], 5) == [True, True]
    assert shown_groups(groups, [True, True], 5, tells) == [False, True]
    # a region of 21 denying (21 less 18 tells 3) is hidden, and the other (10 denying) with
    # it: the total less the other would tell the 21
    assert shown_groups([(300, 279), (100, 90)], [True, True], 5, tells) == [False, False]


def test_a_hidden_violation_is_subtracted_from_by_nothing(tmp_path):
    """4 carriers: the violation hides its users (<5) and the gap of its cell every count
    of the 18 lacking gclid, so the figures of the 22 who denied (funnel, fbclid's gap,
    opt-in) tell nothing less a shown count, and stay."""
    doc = _scan(tmp_path, carriers=4)
    assert _find(doc, "consent.violation")["metrics"]["users"] is None
    gap = _find(doc, "sparsity.consent_gap", "gclid")["metrics"]
    assert gap["users"] is gap["events"] is None
    assert _find(doc, "funnel.consent_drop")["metrics"]["users"] == 22
    assert _find(doc, "sparsity.consent_gap", "fbclid")["metrics"]["events_denied"] == 22
    assert "difference_with" not in json.dumps(doc)


def test_the_counts_a_figure_exceeds_by_1_to_k_less_1_are_found_in_order():
    """Bisection over the sorted counts (the wide export's 3,000 violations of one step made
    the pairwise comparison 251 s of a 255-second scan): 10 exceeds 6 to 9 at k = 5."""
    from privdiag.checks.across import SHOWN, Counts

    entries = [(8, "b", "x"), (5, "a", "x"), (9, "c", "y"), (10, "d", "y"), (6, "e", "z")]
    counts = Counts([(*c, "users", SHOWN) for c in entries])
    assert [c[:4] for c in counts.below(10, 5)] == [
        (6, "e", "z", "users"),
        (8, "b", "x", "users"),
        (9, "c", "y", "users"),
    ]
    assert counts.below(10, 1) == [] and counts.below(5, 5) == []


def _devices(tmp_path: Path, desktop_carriers: bool) -> dict:
    """400 users of one page_view each, 200 on desktop and 200 on mobile; 22 desktop users
    and 18 mobile users deny ads. 18 deniers send gclid: the 18 mobile ones, or with
    ``desktop_carriers`` 18 of the 22 desktop ones. Nobody else sends it."""
    lines = ["event_id,ts,event_name,user_id,device,gclid"]
    decisions = ["user_id,purpose,status,ts"]
    for u in range(400):
        desktop = u < 200
        denied = u < 22 or 200 <= u < 218
        carries = denied and ((u < 18) if desktop_carriers else not desktop)
        device = "desktop" if desktop else "mobile"
        lines.append(f"e{u},2026-10-01T10:00:00Z,page_view,u{u},{device},{'g' if carries else ''}")
        decisions.append(f"u{u},ads,{'denied' if denied else 'granted'},2026-09-01T00:00:00Z")
    toml = '[journey]\nsteps = ["page_view"]\n\n[features.gclid]\npurposes = ["ads"]\n'
    return scan_csv(tmp_path, lines, decisions, toml)


def test_the_opt_in_of_deniers_who_do_not_hold_the_violation_stays(tmp_path):
    """The 18 mobile deniers send gclid (violation users 18): the desktop deniers (200
    persons, 178 granted: 22) exceed 18 by 4 but hold none of the 18, so 22 less 18 tells
    no group; before the rule asked for nesting, desktop's and mobile's rates were hidden."""
    doc = _devices(tmp_path, desktop_carriers=False)
    assert _find(doc, "consent.violation")["metrics"]["users"] == 18
    rows = {r["value"]: r for r in doc["evidence"]["optin_rates"]["device"]}
    assert (rows["desktop"]["decisions"], rows["desktop"]["granted"]) == (200, 178)
    assert (rows["mobile"]["decisions"], rows["mobile"]["granted"]) == (200, 182)
    assert "difference_with" not in json.dumps(doc["evidence"]["optin_rates"])


def test_the_opt_in_of_deniers_who_hold_the_violation_is_hidden(tmp_path):
    """18 of the 22 desktop deniers send gclid: desktop's 22 less 18 tell the 4, so its
    rate is hidden, and mobile's with it (the total less mobile would tell desktop's)."""
    doc = _devices(tmp_path, desktop_carriers=True)
    violation = _find(doc, "consent.violation")
    assert violation["metrics"]["users"] == 18
    rows = {r["value"]: r for r in doc["evidence"]["optin_rates"]["device"]}
    assert (rows["desktop"]["decisions"], rows["desktop"]["granted"]) == (200, None)
    assert rows["desktop"]["difference_with"] == [violation["id"]]
    assert rows["mobile"]["granted"] is None


def test_a_funnel_cohort_that_does_not_hold_the_violation_stays(tmp_path):
    """400 users decide on ads at 09:00: 360 grant, view a page at 10:00 and every second
    one buys at 11:00; 22 deny and view at 10:00; 18 more view at 08:00 (before deciding),
    deny and view again at 10:00 sending gclid. The violation's 18 users were not denying at
    their first view, so the funnel's denied cohort (22) holds none of them: 22 less 18 tells
    no group, and the cohort stays (it was hidden by the difference alone)."""
    lines = ["event_id,ts,event_name,user_id,gclid"]
    decisions = ["user_id,purpose,status,ts"]
    day = "2026-10-01T"
    for u in range(400):
        late, denied = u >= 382, u < 22 or u >= 382
        if late:
            lines.append(f"a{u},{day}08:00:00Z,page_view,u{u},")
        lines.append(f"e{u},{day}10:00:00Z,page_view,u{u},{'g' if late else ''}")
        if not denied and u % 2:
            lines.append(f"p{u},{day}11:00:00Z,purchase,u{u},")
        decisions.append(f"u{u},ads,{'denied' if denied else 'granted'},{day}09:00:00Z")
    toml = '[journey]\nsteps = ["page_view", "purchase"]\n\n[features.gclid]\npurposes = ["ads"]\n'
    doc = scan_csv(tmp_path, lines, decisions, toml)
    assert _find(doc, "consent.violation")["metrics"]["users"] == 18
    m = _find(doc, "funnel.consent_drop")["metrics"]
    assert (m["users"], m["events"]) == (22, 40)
    assert "difference_with" not in m


def _two_features(tmp_path: Path, same_carriers: bool) -> dict:
    """40 of the 400 deny ads; 18 of them (u0-u17) send gclid, and 18 send fbclid: the same
    ones with ``same_carriers``, else u22-u39. So 22 deniers lack fbclid, and 22 gclid."""
    return _shop(tmp_path, 40, range(18), range(18) if same_carriers else range(22, 40))


def test_the_users_lacking_a_feature_stay_where_they_hold_no_violation(tmp_path):
    """The 18 sending gclid while denied send fbclid too: the 22 deniers lacking fbclid
    (its gap's users and events) exceed the gclid violation's 18 by 4 but hold none of
    them, so the gap shows them (the denied events, 40, tell nothing beside 18)."""
    doc = _two_features(tmp_path, same_carriers=True)
    assert _find(doc, "consent.violation", "gclid")["metrics"]["users"] == 18
    m = _find(doc, "sparsity.consent_gap", "fbclid")["metrics"]
    assert (m["users"], m["events"], m["events_denied"]) == (22, 22, 40)
    assert "difference_with" not in m


def test_the_users_lacking_a_feature_are_hidden_where_they_hold_a_violation(tmp_path):
    """The 18 sending gclid while denied lack fbclid: the 22 lacking fbclid hold them, and
    22 less 18 tell the 4 who lack both."""
    doc = _two_features(tmp_path, same_carriers=False)
    violation = _find(doc, "consent.violation", "gclid")
    m = _find(doc, "sparsity.consent_gap", "fbclid")["metrics"]
    assert (m["users"], m["events"]) == (None, None)
    assert violation["id"] in m["difference_with"]


def _cookieless(tmp_path: Path, carriers: int) -> dict:
    """400 users of one page_view each, consent flagged on the events: 360 grant ads and
    send gclid (every second one buying too), 40 deny it, ``carriers`` of them sending
    gclid; and 60 cookieless page_view pings (no user id, no gclid) that deny ads."""
    lines = ["event_id,ts,event_name,user_id,gclid,consent_ads"]
    for u in range(400):
        denied, day = u < 40, f"2026-10-0{1 + u % 5}"
        g, state = "" if denied and u >= carriers else f"g{u}", "denied" if denied else "granted"
        lines.append(f"e{u},{day}T10:00:00Z,page_view,u{u},{g},{state}")
        if not denied and u % 2:
            lines.append(f"p{u},{day}T11:00:00Z,purchase,u{u},{g},{state}")
    lines += [f"c{i},2026-10-0{1 + i % 5}T10:30:00Z,page_view,,,denied" for i in range(60)]
    (tmp_path / "ev.csv").write_text("\n".join(lines) + "\n")
    toml = '[journey]\nsteps = ["page_view", "purchase"]\n\n[features.gclid]\npurposes = ["ads"]\n'
    (tmp_path / "privdiag.toml").write_text(toml)
    config = load_config(tmp_path / "privdiag.toml")
    return run_scan([str(tmp_path / "ev.csv")], config=config).to_dict()


def test_the_identity_loss_by_state_does_not_tell_the_few_beside_a_violation(tmp_path):
    """Privacy review 20's limitation (2): 37 of the 40 deniers send gclid. The identity
    loss's ads-denied row read 100 events, 60 without identity (share 0.6), so the 40
    identified denied events less the violation's 37 told the 3 who lack gclid; its step
    total (460, 60) and granted row (360, 0), its share_denied 0.6 and the violation's
    denied_events 100 gave the 60 back, as did the funnel drop's identity_less_share 0.6.
    The ads rows' events without identity and shares are hidden, and the shares by state;
    the events (the violation shows the 100) and the step's total stay."""
    doc = _cookieless(tmp_path, carriers=37)
    violation = _find(doc, "consent.violation")
    assert (violation["metrics"]["events"], violation["metrics"]["denied_events"]) == (37, 100)
    loss = _find(doc, "identity.loss")
    assert loss["evidence"]["table"]["rows"] == [
        ["all", "all", 460, 60, 0.1304],
        ["ads", "granted", 360, None, None],
        ["ads", "denied", 100, None, None],
    ]
    m = loss["metrics"]
    assert (m["share_denied"], m["share_granted"], m["events"]) == (None, None, 60)
    assert m["difference_with"] == [violation["id"]]
    funnel = _find(doc, "funnel.consent_drop")["metrics"]
    assert funnel["identity_less_share"] is None
    assert "identity_less_share" in funnel["suppressed_by_difference"]


def test_the_identity_loss_by_state_stays_where_the_difference_is_large(tmp_path):
    """30 of the 40 deniers send gclid: 40 less 30 is 10, no small group."""
    doc = _cookieless(tmp_path, carriers=30)
    loss = _find(doc, "identity.loss")
    assert loss["evidence"]["table"]["rows"][2] == ["ads", "denied", 100, 60, 0.6]
    assert (loss["metrics"]["share_denied"], loss["metrics"]["share_granted"]) == (0.6, 0.0)
    assert _find(doc, "funnel.consent_drop")["metrics"]["identity_less_share"] == 0.6


def test_a_question_the_engine_cannot_run_leaves_the_figure_hidden():
    """Spark translates the checks' SQL, not every form: where it fails (its errors are
    duckdb.Error), the nesting is unanswered and taken as held, the figure hidden."""
    import duckdb

    from privdiag.checks.nesting import Nesting, Question, Violation

    class Failing:
        def execute(self, sql: str) -> None:
            raise duckdb.Error("no such form")

    v = Violation("v", "web", "page_view", "ads", "gclid", 18, 22)
    nesting = Nesting(Failing(), {"gclid": "VARCHAR", "fbclid": "VARCHAR"})
    question = Question("users", v, "fbclid")
    nesting.ask({question})
    nesting.place([v])
    assert nesting.nested(question)
    assert nesting.among_deciders(v, "device", frozenset(["desktop"]), False)
