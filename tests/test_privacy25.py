"""Privacy review 25: a ``sparsity.shift``'s days and shares that told a small side.

Each input is ten (or twenty) users a day, each sending one page_view on one day with their
ads flag, and a column campaign that only those who grant send. Scanned at min_group_size 5.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.report.facts import metric_items
from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write


def _days(tmp_path, granting: list[int], users: int = 10) -> str:
    """``users`` users a day, one day per entry of ``granting``: its first so many grant ads
    (and send campaign), the others deny."""
    rows = ["event_id,ts,event_name,user_id,consent_ads,campaign"]
    for d, grants in enumerate(granting):
        for u in range(users):
            state, sent = ("granted", "c") if u < grants else ("denied", "")
            rows.append(
                f"e{d}_{u},2026-10-{d + 1:02d}T09:{u:02d}:00Z,page_view,d{d}u{u},{state},{sent}"
            )
    return write(tmp_path / "e.csv", "\n".join(rows) + "\n")


def _shifts(path: str) -> dict[str, dict]:
    doc = run_scan([path], config=config(min_group_size=5)).to_dict()
    found = by_kind(doc, "sparsity.shift")
    return {f["location"].get("feature") or f["location"]["purpose"]: f for f in found}


def test_a_day_of_one_denial_in_ten_is_not_drawn(tmp_path):
    # Was: 0.9 on days 1-7 (one denial of ten a day told), 0.2 on days 8-14 (two grants
    # told); campaign's line 0.1 and 0.8 (one user, then two, sending it). The change test
    # and the shares keep every day: a week of 7 denials, then one of 14 grants.
    shifts = _shifts(_days(tmp_path, [9] * 7 + [2] * 7))
    ads, campaign = shifts["ads"], shifts["campaign"]
    assert ads["evidence"]["series"]["series"] == {"ads consent rate": [None] * 14}
    lines = campaign["evidence"]["series"]["series"]
    assert lines == {"campaign missing share": [None] * 14, "ads consent rate": [None] * 14}
    m = ads["metrics"]
    assert (m["change_day"], m["before"], m["after"], m["change"]) == ("2026-10-08", 0.9, 0.2, -0.7)
    assert m["p_value"] == 2.1e-17  # as before the days were left blank
    assert ads["title"] == "The ads consent rate fell from 90% to 20% on 2026-10-08"
    assert ads["evidence"]["series"]["note"] == (
        "14 of 14 days not drawn: fewer than 5 users that day, or fewer than 5 of them on one "
        "side (granted or denied), whose figure would tell what they chose or sent."
    )


def test_a_share_of_one_day_of_one_denial_is_hidden(tmp_path):
    # Was: "fell from 90% to 20% on 2026-10-02": the 90% before was one day of ten users, one
    # denying. A change needs three days on either side now (audit26): three such days (3
    # denials) or four hide it too; the after share (11 days, 22 grants; or 10, 20) stays, and
    # so do the change's day and p-value.
    for before in (3, 4):
        shifts = _shifts(_days(tmp_path, [9] * before + [2] * (14 - before)))
        ads, campaign = shifts["ads"], shifts["campaign"]
        day = f"2026-10-0{before + 1}"
        assert ads["title"] == f"The ads consent rate fell to 20% on {day}"
        m = ads["metrics"]
        assert (m["before"], m["after"], m["share"], m["change"]) == (None, 0.2, 0.2, None)
        assert m["suppressed"] == ["before", "change"] and m["min_group_size"] == 5
        assert [(c["before"], c["after"], c["change"]) for c in m["changes"]] == [(None, 0.2, None)]
        assert campaign["metrics"]["before"] is None and campaign["metrics"]["after"] == 0.8
        assert campaign["metrics"]["consent_rate_changes"] == [
            {"purpose": "ads", "day": day, "before": None, "after": 0.2}
        ]
        assert campaign["title"] == (
            f"campaign missing share rose to 80% on {day} (the ads consent rate went to 20%)"
        )
        assert [k["label"] for k in ads["evidence"]["series"]["marks"]] == ["to 20%"]
        assert ("Before", "hidden") in metric_items(m, 5, "sparsity.shift")


def test_a_segment_between_two_changes_of_three_denials_is_hidden(tmp_path):
    # Twenty users a day: 4 grant on days 1-7 and 11-16, 19 on days 8-10. Was: "rose from 20%
    # to 95% on 2026-10-08; it also fell from 95% to 20% on 2026-10-11": the 95% between
    # told the 3 who denied then (the segment's 60 users were checked, not its sides).
    shifts = _shifts(_days(tmp_path, [4] * 7 + [19] * 3 + [4] * 6, users=20))
    ads = shifts["ads"]
    assert ads["title"] == (
        "The ads consent rate rose from 20% on 2026-10-08; it also fell to 20% on 2026-10-11"
    )
    changes = [(c["day"], c["before"], c["after"]) for c in ads["metrics"]["changes"]]
    assert changes == [("2026-10-08", 0.2, None), ("2026-10-11", None, 0.2)]
    items = dict(metric_items(ads["metrics"], 5, "sparsity.shift"))
    assert (
        items["Every change, by day"] == "20% to hidden on 2026-10-08; hidden to 20% on 2026-10-11"
    )
    assert "95%" not in json.dumps(shifts) and "0.95" not in json.dumps(shifts)
    assert "5%" not in shifts["campaign"]["title"]  # its 5% missing told the same 3 users


def test_a_report_renders_hidden_shares_and_refuses_a_smaller_group_size(tmp_path):
    runner = CliRunner()
    data = _days(tmp_path, [9] * 3 + [2] * 11)
    results = {}
    for k in (1, 5):
        conf = write(tmp_path / f"k{k}.toml", f"[thresholds]\nmin_group_size = {k}\n")
        results[k] = tmp_path / f"scan{k}.json"
        args = ["scan", data, "--config", conf, "--json", str(results[k]), "--fail-on", "critical"]
        assert runner.invoke(app, args).exit_code == 0
    md = tmp_path / "r.md"
    args = ["report", str(results[5]), "--config", str(tmp_path / "k5.toml"), "--markdown", str(md)]
    assert runner.invoke(app, args).exit_code in (0, 1)
    assert "The ads consent rate fell to 20% on 2026-10-04" in md.read_text()
    assert "90%" not in md.read_text()
    # made at 1, the 90% is in the result; a report at 5 refuses it rather than show it
    args = ["report", str(results[1]), "--config", str(tmp_path / "k5.toml"), "--markdown", str(md)]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 3 and "min_group_size = 1" in refused.output


def test_a_reliability_bin_of_one_positive_in_ten_is_left_out():
    # Ten rows scored 0.15, one of them positive: the bin drew [0.15, 0.1] at
    # min_group_size 5, telling that one outcome; ten at 0.55, five positive, stay; ten at
    # 0.95, all positive, stay (no side of 1 to 4). At min_group_size 1 all three are drawn.
    import numpy as np

    from privdiag.model.metrics import reliability_curve

    y = np.array([1.0] + [0.0] * 9 + [1.0] * 5 + [0.0] * 5 + [1.0] * 10)
    p = np.array([0.15] * 10 + [0.55] * 10 + [0.95] * 10)
    assert reliability_curve(y, p, 1) == [[0.15, 0.1], [0.55, 0.5], [0.95, 1.0]]
    assert reliability_curve(y, p, 5) == [[0.55, 0.5], [0.95, 1.0]]
