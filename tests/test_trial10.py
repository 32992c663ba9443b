"""Found by trial10 (a new user on the real public inputs).

Identifier columns of a CSV input were typed by DuckDB's sniffer: a GA4 client id such as
"1001129.2598143025" (the user_pseudo_id of the real GA4 sample) read as a double and came
back as another string, so a consent log keyed by it missed its users' events (22 of the
sample's 114 users on a TC-string log) and "001" met "1" as one user."""

from __future__ import annotations

import json

from tests.helpers import consent_states, write


def test_csv_consent_log_keyed_by_ga4_client_ids_meets_their_events(realdata, tmp_path):
    """The real sample's first two events (user 1005694.5834348403) and a third event of a
    user whose id a double cannot hold (1001129.2598143025 reads back as ...3024)."""
    rows = (realdata / "ga4" / "ga4_sample_rows_92days.ndjson").read_text().splitlines()[:3]
    events = []
    for i, row in enumerate(rows):
        event = json.loads(row)
        event["event_timestamp"] = 1790000000000000 + i * 1_000_000  # 2026-09-21, in order
        if i == 2:
            event["user_pseudo_id"] = "1001129.2598143025"
        events.append(json.dumps(event))
    (tmp_path / "ga4.ndjson").write_text("\n".join(events) + "\n")
    consent = write(
        tmp_path / "cmp.csv",
        """
        user_id,purpose,status,ts
        1005694.5834348403,analytics,denied,2026-09-01T00:00:00Z
        1001129.2598143025,analytics,granted,2026-09-01T00:00:00Z
        """,
    )
    # by hand: each event's user has one decision, made before it; read as numbers the
    # second id became 1001129.2598143024 and its event had no decision (unknown)
    assert consent_states([str(tmp_path / "ga4.ndjson")], [consent], "analytics") == [
        ("1005694.5834348403", "denied"),
        ("1005694.5834348403", "denied"),
        ("1001129.2598143025", "granted"),
    ]


def test_two_ga4_client_ids_in_csv_files_stay_two_users(tmp_path):
    """Two client ids one apart in the last digit are one double (1234567890.16111443): a
    CSV event export and a CSV consent log each keep them apart (read as numbers they were
    one user, with the later decision, denied, covering both)."""
    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_pseudo_id,gclid
        2026-10-01T10:00:00Z,page_view,1234567890.1611144299,G1
        2026-10-01T10:00:01Z,page_view,1234567890.1611144300,G2
        """,
    )
    consent = write(
        tmp_path / "cmp.csv",
        """
        user_id,purpose,status,ts
        1234567890.1611144299,ads,granted,2026-10-01T09:00:00Z
        1234567890.1611144300,ads,denied,2026-10-01T09:00:01Z
        """,
    )
    assert consent_states([events], [consent], "ads") == [
        ("1234567890.1611144299", "granted"),
        ("1234567890.1611144300", "denied"),
    ]


def _missing_record(tmp_path, decided: int) -> dict:
    """Scan 12 users' page views with a consent log deciding for the first ``decided``;
    return the consent.missing_record finding."""
    from typer.testing import CliRunner

    from privdiag.cli import app

    rows = [f"2026-10-01T10:00:{i:02d}Z,page_view,u{i},/p" for i in range(12)]
    events = write(tmp_path / "ev.csv", "ts,event_name,user_id,page\n" + "\n".join(rows) + "\n")
    decisions = [f"u{i},analytics,granted,2026-10-01T09:00:00Z" for i in range(decided)]
    consent = write(tmp_path / "cmp.csv", "user_id,purpose,status,ts\n" + "\n".join(decisions))
    out = tmp_path / "f.json"
    args = ["scan", events, "--consent", consent, "--json", str(out), "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(out.read_text())
    (finding,) = [f for f in doc["findings"] if f["kind"] == "consent.missing_record"]
    return finding


def test_missing_record_hides_its_share_with_a_hidden_user_count(tmp_path):
    """2 of 12 users have no decision: 2 is under the minimum group of 5, and the share
    (2/12 = 0.166667) times the total shown (12) gave the 2 back."""
    finding = _missing_record(tmp_path, decided=10)
    metrics = finding["metrics"]
    assert metrics["users"] is None and metrics["share"] is None
    assert metrics["users_total"] == 12
    assert set(metrics["suppressed"]) == {"users", "share"}
    assert "17%" not in finding["title"]
    assert finding["title"].endswith("(fewer than 5 users)")


def test_missing_record_shows_its_share_when_the_count_is_shown(tmp_path):
    """6 of 12 users have no decision: every figure is shown (6/12 = 50%)."""
    finding = _missing_record(tmp_path, decided=6)
    assert finding["metrics"]["users"] == 6
    assert finding["metrics"]["share"] == 0.5
    assert finding["title"].endswith("(50% of users)")


def test_report_card_shows_a_shift_in_percentages_and_a_verdict_in_words():
    """The real GA4 sample's clean_event shift read "Before 0, After 0.708, Change 0.708"
    beside "Share 70.8%", and a pre-consent finding "Verdict before_banner"."""
    from privdiag.report.facts import metric_items

    shift = {"share": 0.7083, "before": 0.0, "after": 0.7083, "change": 0.7083}
    items = dict(metric_items(shift, 5, "sparsity.shift"))
    assert items == {
        "Share": "70.8%",
        "Before": "0.0%",
        "After": "70.8%",
        "Change": "+70.8 points",
    }
    fell = dict(metric_items({"before": 0.74, "after": 0.52, "change": -0.22}, 5, "sparsity.shift"))
    assert fell["Change"] == "-22.0 points"
    # an opt-in drop's before and after are notice versions: left as they are
    optin = dict(metric_items({"before": "v1", "after": "v2"}, 5, "people.optin_drop"))
    assert optin == {"Before": "v1", "After": "v2"}
    lead = dict(metric_items({"verdict": "before_banner"}, 5, "consent.pre_consent"))
    assert lead["Verdict"] == "tags fire before the banner"
    skew = dict(metric_items({"verdict": "clock_skew"}, 5, "consent.pre_consent"))
    assert skew["Verdict"] == "clock skew (within the grace window)"


def test_make_demo_with_a_given_bin_installs_nothing_into_that_venv():
    """`make demo BIN=/venv/bin` ran `pip install -e .` into that venv (its stamp is looked
    for under .venv/ of the checkout, so it was always missing): a shared venv was turned to
    point at whichever checkout ran the demo (trial10)."""
    import shutil
    import subprocess
    from pathlib import Path

    import pytest

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parent.parent
    for target in ("demo", "test"):
        given = subprocess.run(
            ["make", "-n", target, "BIN=/nonexistent/venv/bin"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "pip install" not in given and "-m venv" not in given, given
        assert "/nonexistent/venv/bin/" in given
    own = subprocess.run(
        ["make", "-n", "demo", "VENV=/nonexistent/own-venv"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "pip install --quiet -e ." in own  # without BIN, make still sets up its venv


def test_config_features_that_name_no_feature_are_told(tmp_path):
    """A typo ([features.gcild]) or an id column ([features.session_id], read as the
    session id of a flat table) classified nothing and said nothing: the scan looked
    compliant. Both get a note; a name like no feature (a model's input) gets none."""
    from privdiag.config import load_config
    from privdiag.scan import run_scan

    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,session_id,gclid
        2026-10-01T10:00:00Z,page_view,u1,s1,G1
        """,
    )
    config = tmp_path / "privdiag.toml"
    config.write_text(
        '[features.gcild]\npurposes = ["ads"]\n'
        '[features.session_id]\npurposes = ["analytics"]\n'
        '[features.sessions_30d]\npurposes = ["analytics"]\n'
        '[features.gclid]\npurposes = ["ads"]\n',
        encoding="utf-8",
    )
    doc = run_scan([events], config=load_config(config)).to_dict()
    notes = doc["evidence"].get("notes") or []
    assert [n for n in notes if n.startswith("[features.")] == [
        "[features.gcild] names no feature of the events, so nothing is checked for it; "
        "did you mean gclid?",
        "[features.session_id] names no feature: a column session_id is read as the events' "
        "user, anonymous, session or event id, and its collection is not checked against "
        "consent",
    ]


def test_html_report_shows_the_notes_on_the_inputs(tmp_path):
    """The notes (placeholder ids read as no id, TC strings read in part, duplicates
    dropped, ...) reached the terminal and the JSON but not the HTML page, which a privacy
    lead reads alone: they tell how far its figures hold."""
    from privdiag.report.html import render_html
    from privdiag.report.merge import merge
    from privdiag.scan import run_scan

    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id,gclid
        2026-10-01T10:00:00Z,page_view,undefined,G1
        2026-10-01T10:00:01Z,page_view,u1,G2
        """,
    )
    doc = run_scan([events]).to_dict()
    (note,) = [n for n in doc["evidence"]["notes"] if "placeholder" in n]
    html = render_html(merge([doc]))
    assert "<h3>Notes on the run: its inputs and checks</h3>" in html
    assert f"<li>{note}</li>" in html.replace("&#39;", "'")
    # many long notes: the first 30, each cut to 600 characters, and a count of the others
    doc["evidence"]["notes"] = [f"note {i} <q-note>" + "x" * 700 for i in range(33)]
    html = render_html(merge([doc]))
    assert html.count("<li>note ") == 30 and "<q-note>" not in html
    assert "note 0 &lt;q-note&gt;" in html
    assert "x" * 584 + "…" in html and "x" * 585 not in html  # 15 + 584 + 1 = 600
    assert "3 more notes in the JSON result (evidence.notes)." in html
