"""Privacy review 27: what this release's new outputs publish, at ``min_group_size`` 5."""

from __future__ import annotations

import json

from privdiag.privacy import scrub
from privdiag.scan import run_scan
from tests.helpers import config, write


def _dated_log(tmp_path, deniers: int) -> tuple[str, str]:
    """Ten users granted ads on 09-28 and had a page view with a gclid at 08:00 and 20:00 on
    10-01 and on 10-04; the first ``deniers`` of them denied ads on 10-01, dated without a
    time of day, so their two events of that day are undetermined."""
    events = "event_id,ts,event_name,user_id,gclid\n"
    log = "user_id,purpose,status,ts\n"
    for u in range(10):
        log += f"u{u},ads,granted,2026-09-28\n"
        for n, ts in enumerate(
            ("2026-10-01T08:00:00Z", "2026-10-01T20:00:00Z", "2026-10-04T08:00:00Z")
        ):
            events += f"e{u}_{n},{ts},page_view,u{u},g{u}_{n}\n"
    log += "".join(f"u{u},ads,denied,2026-10-01\n" for u in range(deniers))
    return write(tmp_path / "ev.csv", events), write(tmp_path / "cmp.csv", log)


def _undetermined_note(tmp_path, deniers: int) -> str:
    events, log = _dated_log(tmp_path, deniers)
    doc = run_scan([events], consent=[log], config=config(min_group_size=5)).to_dict()
    (note,) = [n for n in doc["evidence"]["notes"] if "their user's consent changed" in n]
    return note


def test_the_undetermined_events_of_fewer_than_k_users_are_not_counted(tmp_path):
    """One user's denial dated 10-01: "2 event(s) ... (ads: 2)" was one user's two events of
    that day, telling that one person changed their ads consent on the day they were seen,
    where every finding and rate of so few users is hidden. Five users' are counted."""
    note = _undetermined_note(tmp_path, 1)
    assert note.startswith("Some events fall on the day")
    assert "(ads: events of fewer than 5 users)" in note
    assert "2 event" not in note and "ads: 2" not in note
    note = _undetermined_note(tmp_path, 5)
    assert note.startswith("10 event(s) fall on the day")
    assert "(ads: 10)" in note


def test_an_address_right_after_another_is_redacted_too(tmp_path):
    """A file named for an address in a folder named for another: only the folder's was
    redacted, as the second's local part ran on from the first's (its run began at "alice"),
    so the note on files read as one input, `inputs[].path` and the terminal's summary read
    "[redacted]/bob.jones@example.org_2026-10-*.csv"."""
    assert scrub("a@example.com/b.c@example.org_1.csv") == "[redacted][redacted]"
    assert (
        scrub("x a@example.com+b@example.org, c@example.io") == "x [redacted][redacted], [redacted]"
    )
    folder = tmp_path / "alice.smith@example.com"
    folder.mkdir()
    files = []
    for day in ("01", "02"):
        name = f"bob.jones@example.org_2026-10-{day}.csv"
        files.append(
            write(
                folder / name,
                f"event_id,ts,event_name,user_id\ne{day},2026-10-{day}T10:00:00Z,page_view,u1\n",
            )
        )
    doc = run_scan(files, config=config(min_group_size=5)).to_dict()
    assert any("named alike but for their digits" in n for n in doc["evidence"]["notes"])
    assert "@" not in json.dumps(doc)


def test_a_drift_rows_measures_do_not_give_back_its_hidden_missing_share():
    """Of 200 blind-set rows, 1, 2 or 3 without a country beside none of 200: the missing
    share and missing_p were hidden, but PSI and Jensen-Shannon weigh the missing share as
    a bin and the chi-square tests the present counts, so each count read its own figures
    (PSI 0.0192, 0.0458, 0.0751; chi2 0.0025, 0.0102, 0.0230). They are hidden with it; a
    row hiding nothing keeps them, and the verdict reads them as before."""
    import polars as pl

    from privdiag.model.drift import series_drift

    current = pl.Series("country", ["de"] * 100 + ["fr"] * 100)
    for m in (1, 2, 3):
        blind = pl.Series("country", ["de"] * 100 + ["fr"] * (100 - m) + [None] * m)
        row = series_drift(blind, current, alpha=0.05, min_gap=0.05, min_n=5).to_dict()
        assert [row[k] for k in ("psi", "js", "chi2", "chi2_p", "ks_p")] == [None] * 5
    blind = pl.Series("country", ["de"] * 100 + ["fr"] * 90 + [None] * 10)
    row = series_drift(blind, current, alpha=0.05, min_gap=0.05, min_n=5).to_dict()
    assert row["missing_reference"] == 0.05 and row["psi"] is not None and row["chi2"] is not None
    # a number column: its missing share is a bin of PSI, the KS p-value counts the present
    values = pl.Series("tenure", [float(i) for i in range(200)])
    blind = pl.Series("tenure", [float(i) for i in range(198)] + [None] * 2)
    row = series_drift(blind, values, alpha=0.05, min_gap=0.05, min_n=5).to_dict()
    # KS 0.005 and Wasserstein 0.5 per row taken off the top: both hidden too
    assert [row[k] for k in ("psi", "js", "ks", "ks_p", "wasserstein")] == [None] * 5


def test_files_named_for_an_address_read_as_one_input_do_not_name_their_source_for_it(
    tmp_path,
):
    """Two exports cut by day in one folder, each named for an address, given one by one:
    each was named for its files, cut at the first dot before the address was redacted, so
    the sources, findings and notes read "alice@example" and "bob@example" (a single file so
    named was already redacted first)."""
    files = [
        write(
            tmp_path / f"{who}@example.com_{day}.csv",
            f"event_id,ts,event_name,user_id\ne{day},2026-10-{day}T10:00:00Z,page_view,u1\n",
        )
        for who in ("alice", "bob")
        for day in ("01", "02")
    ]
    doc = run_scan(files, config=config(min_group_size=5)).to_dict()
    assert sum("named alike but for their digits" in n for n in doc["evidence"]["notes"]) == 2
    text = json.dumps(doc)
    assert "alice" not in text and "bob" not in text and "@" not in text


def test_a_report_at_a_larger_k_does_not_count_the_undetermined_events(tmp_path):
    """A result made at min_group_size 1 counts one user's undetermined events ("2 event(s)
    ... (ads: 2)"); `privdiag report` at 5 carried the note as it was. It now drops the
    counts: "Some events ... (ads)"."""
    from privdiag.report.group_size import drop_small_group_evidence

    events, log = _dated_log(tmp_path, 1)
    doc = run_scan([events], consent=[log], config=config(min_group_size=1)).to_dict()
    said = [n for n in doc["evidence"]["notes"] if "their user's consent changed" in n]
    assert said[0].startswith("2 event(s) fall") and "(ads: 2)" in said[0]
    drop_small_group_evidence([doc], 5)
    (note,) = [n for n in doc["evidence"]["notes"] if "their user's consent changed" in n]
    assert note == said[0].replace("2 event(s)", "Some events").replace("(ads: 2)", "(ads)")


def test_exports_named_for_two_addresses_are_two_sources(tmp_path):
    """Review 27's (1): ``alice@example.com.csv`` and ``bob@example.com.csv`` were both the
    source ``[redacted]``, one source: alice's 6 page views and bob's 4 were summed in every
    finding. They are now ``[redacted]-1`` and ``[redacted]-2``, in the order given, with a
    note naming neither; the same name in two folders stays one source, as any name does."""

    def export(folder: str, who: str, n: int) -> str:
        rows = "".join(
            f"{who}{k},2026-10-0{k % 3 + 1}T10:00:00Z,page_view,{who}{k}\n" for k in range(n)
        )
        (tmp_path / folder).mkdir(exist_ok=True)
        return write(
            tmp_path / folder / f"{who}@example.com.csv", "event_id,ts,event_name,user_id\n" + rows
        )

    alice, bob = export("a", "alice", 6), export("a", "bob", 4)
    doc = run_scan([alice, bob], config=config(min_group_size=1)).to_dict()
    by_source = {k: v for i in doc["inputs"] for k, v in i["sources"].items()}
    assert by_source == {"[redacted]-1": 6, "[redacted]-2": 4}
    (note,) = [n for n in doc["evidence"]["notes"] if "named for different addresses" in n]
    assert "sources [redacted]-1 to [redacted]-2" in note
    text = json.dumps(doc)
    assert "alice" not in text and "bob" not in text and "@" not in text

    again = export("b", "alice", 2)
    doc = run_scan([alice, again], config=config(min_group_size=1)).to_dict()
    assert not [n for n in doc["evidence"]["notes"] if "named for different addresses" in n]
    assert any("are each read as source [redacted]" in n for n in doc["evidence"]["notes"])
