"""Privacy review 29: figures and words of few users that earlier rounds left, at
``min_group_size`` 5."""

from __future__ import annotations

from privdiag.scan import run_scan
from tests.helpers import by_kind, config


def _early_gclid(tmp_path, lead: int) -> tuple[str, str]:
    """Twenty users granting ads at 10:00:00 with a gclid on a page_view at 10:05; the first
    one's page_view comes ``lead`` seconds before their decision instead."""
    events = "event_id,ts,event_name,user_id,gclid\n"
    log = "user_id,purpose,status,ts\n"
    for u in range(20):
        at = f"2026-10-01T09:59:{60 - lead:02d}Z" if u == 0 else "2026-10-01T10:05:00Z"
        events += f"e{u},{at},page_view,user{u},G{u}\n"
        log += f"user{u},ads,granted,2026-10-01T10:00:00Z\n"
    (tmp_path / "ev.csv").write_text(events, encoding="utf-8")
    (tmp_path / "log.csv").write_text(log, encoding="utf-8")
    return str(tmp_path / "ev.csv"), str(tmp_path / "log.csv")


def _pre_consent(tmp_path, lead: int, k: int) -> dict:
    events, log = _early_gclid(tmp_path, lead)
    doc = run_scan([events], consent=[log], config=config(min_group_size=k)).to_dict()
    (f,) = by_kind(doc, "consent.pre_consent")
    return f


def test_a_pre_consent_of_few_users_says_nothing_its_hidden_lead_times_tell(tmp_path):
    """One user of twenty sends gclid 37 s before deciding on ads (beyond the 2 s grace
    window: tags fire before the banner, high) or 1 s before (within it: clock skew, low).
    At size 1 the two read apart. At 5 the user's events are hidden, yet the verdict,
    severity, title and advice told which: now both read alike, high, with no verdict."""
    far, near = _pre_consent(tmp_path, 37, 1), _pre_consent(tmp_path, 1, 1)
    assert (far["severity"], far["metrics"]["verdict"]) == ("high", "before_banner")
    assert (near["severity"], near["metrics"]["verdict"]) == ("low", "clock_skew")
    assert "(tags fire before the banner)" in far["title"]
    far, near = _pre_consent(tmp_path, 37, 5), _pre_consent(tmp_path, 1, 5)
    for f in (far, near):
        assert f["metrics"]["users"] is None and f["metrics"]["verdict"] is None
        assert "verdict" in f["metrics"]["suppressed"]
        assert f["title"] == "gclid is collected on page_view before the user decides on ads"
        assert f["severity"] == "high"
    said = ("title", "severity", "recommendation", "evidence")
    assert [far[key] for key in said] == [near[key] for key in said]


def test_the_note_on_files_read_as_one_names_their_glob_not_a_users_file(tmp_path):
    """Two files named for their users' ids, user_4821.csv and user_9377.csv, given one by
    one, are read as one input, user_*.csv, the name its `inputs[].path` shows. The note
    saying so quoted the first and last file in full, ids and all."""
    paths = []
    for u in (4821, 9377):
        path = tmp_path / f"user_{u}.csv"
        path.write_text(
            f"event_id,ts,event_name,user_id\ne{u},2026-10-01T10:00:00Z,page_view,u{u}\n",
            encoding="utf-8",
        )
        paths.append(str(path))
    doc = run_scan(paths, config=config(min_group_size=5)).to_dict()
    assert [i["path"] for i in doc["inputs"]] == [str(tmp_path / "user_*.csv")]
    (note,) = [n for n in doc["evidence"]["notes"] if "one by one" in n]
    assert note.startswith("2 event files given one by one are named alike but for their")
    assert f"read as one input, {tmp_path / 'user_*.csv'}, source " in note
    assert not [n for n in doc["evidence"]["notes"] if "4821" in n or "9377" in n]
