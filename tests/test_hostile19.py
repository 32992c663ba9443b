"""Breaks found by the nineteenth hostile session, each with the input that showed it."""

from __future__ import annotations

import pytest
from test_hostile18 import _compliance_kinds

# the consent logs of u1, whose two gclid events (10:00 and 11:00) need ads
SPLIT = "u1,C0004,granted,{t}\nu1,C0005,denied,{t}\n"  # OneTrust: both categories are ads


@pytest.mark.parametrize(
    ("log", "kinds"),
    [
        # the split answer saved twice (each page load re-sends it): read as a withdrawal
        (
            SPLIT.format(t="2026-10-01T09:00:00Z") + SPLIT.format(t="2026-10-01T09:30:00Z"),
            {"consent.violation": 2},
        ),
        # the split answer, then ads denied: ads was never granted, nothing withdrawn
        (
            SPLIT.format(t="2026-10-01T09:00:00Z") + "u1,ads,denied,2026-10-01T09:30:00Z\n",
            {"consent.violation": 2},
        ),
        # ads granted alone at 08:00 was in force: a later denial withdraws it
        (
            "u1,ads,granted,2026-10-01T08:00:00Z\n" + SPLIT.format(t="2026-10-01T09:00:00Z"),
            {"consent.after_withdrawal": 2},
        ),
    ],
)
def test_a_denial_after_a_split_answer_withdraws_nothing(tmp_path, log, kinds):
    """A grant that lost to a denial at its own instant was taken for a grant in force: the
    user's next denial (or the same split answer saved again) read "still collected after
    users withdrew ads consent" (consent.after_withdrawal, 2 events), where the user never
    granted ads (consent.violation)."""
    assert _compliance_kinds(tmp_path, log) == kinds


def test_a_blind_set_with_its_own_row_id_is_told_the_exports_number_rows_anew(tmp_path):
    """A blind set holding its own row_id (399 down to 0) was exported with row_id 0 to 399
    under the same name, without a word: joining an exported set back to the rows by the
    user's row_id paired row 0's masked features with row 399's label."""
    import numpy as np
    import polars as pl
    from test_hostile18 import _config, _logistic, _write

    from privdiag.model import run_model_check

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=400), rng.integers(0, 5, size=400)
    y = (rng.random(400) < 1 / (1 + np.exp(-(a + 0.3 * b - 1)))).astype(int)
    own = tmp_path / "own.parquet"
    pl.DataFrame({"a": a, "b": b, "label": y, "row_id": np.arange(400)[::-1]}).write_parquet(own)
    model = _write(tmp_path / "plain.onnx", _logistic())

    plain = run_model_check(model, own, config=_config(0), label="label")
    assert not any("row_id" in n for n in plain.evidence.get("notes", []))
    out = tmp_path / "sets"
    result = run_model_check(model, own, config=_config(0), label="label", export_blind_sets=out)

    assert pl.read_parquet(out / "unmasked.parquet")["row_id"].to_list() == list(range(400))
    notes = [n for n in result.evidence.get("notes", []) if "own row_id" in n]
    assert notes == [
        "the blind set's own row_id column is not the row_id of the exported blind sets and "
        "predictions files: there row_id numbers the blind set's rows from 0 in file order, "
        "so match those files to your rows by that number (row position), not by your own "
        "row_id"
    ]


@pytest.mark.parametrize("container", ["csv", "parquet"])
def test_a_partition_value_holding_an_equals_sign_is_refused_and_its_escape_read(
    tmp_path, container
):
    """User ids in base64 end in '=': folders user_id=dXNlcjE= were read without their key,
    every user id lost (all events cookieless, exit 0, no word). They are an input error
    naming the file; the same ids written with %3D are read as the ids."""
    from test_hive_partitions import _write
    from typer.testing import CliRunner

    from privdiag.cli import app
    from privdiag.config import load_config
    from privdiag.engine import connect
    from privdiag.ingest import load

    bad = tmp_path / "bad"
    for n, user in enumerate(["dXNlcjE=", "dXNlcjI="]):
        _write(bad / f"user_id={user}" / f"part-0.{container}", container, f"e{n}")
    result = CliRunner().invoke(app, ["scan", str(bad), "-q"])
    assert result.exit_code == 3, result.output
    said = " ".join(result.output.split())
    assert f"{bad / 'user_id=dXNlcjE='}/part-0.{container}: a key=value folder" in said
    assert "write each '=' of a folder's value as %3D" in said

    escaped = tmp_path / "escaped"
    for n, user in enumerate(["dXNlcjE%3D", "dXNlcjI%3D"]):
        _write(escaped / f"user_id={user}" / f"part-0.{container}", container, f"e{n}")
    con = connect()
    load(con, [str(escaped)], [], load_config(None))
    rows = con.execute("SELECT event_id, user_key FROM events ORDER BY 1").fetchall()
    assert rows == [("e0", "dXNlcjE="), ("e1", "dXNlcjI=")]


def test_json_records_writing_a_field_in_two_letter_cases_are_refused(tmp_path):
    """Six events send Gclid, six gclid (two SDK versions), all with ads denied: the reader
    renamed the second gclid_1, so [features.gclid] met only the six Gclid events (one
    violation of 6 events, exit 1) and the note asked "did you mean gclid_1?", a name the
    data does not hold. The CSV and Parquet headers are refused so already."""
    from typer.testing import CliRunner

    from privdiag.cli import app

    line = (
        '{{"event_id": "{e}", "ts": "2026-10-01T10:00:00Z", "event_name": "page_view", '
        '"user_id": "{e}", "consent_ads": "denied", "{field}": "g"}}\n'
    )
    events = tmp_path / "events.ndjson"
    events.write_text(
        "".join(line.format(e=f"{f}{n}", field=f) for n in range(6) for f in ("Gclid", "gclid"))
    )
    config = tmp_path / "privdiag.toml"
    config.write_text('[features.gclid]\npurposes = ["ads"]\n')

    result = CliRunner().invoke(app, ["scan", str(events), "--config", str(config), "-q"])

    assert result.exit_code == 3, result.output
    assert (
        f"{events}, field 'gclid': names field 'Gclid/gclid' in two letter cases (the "
        "reader renamed the second gclid_1)"
    ) in " ".join(result.output.split())


def test_another_audits_resolution_does_not_hide_a_leak_a_run_still_holds():
    """Audit A's run a1 holds b2; audit B's run r2 resolved its own b2 (found by r1), a
    source of the same name mended. Merged, b2 was left out as "resolved by a later run":
    A's live leak hidden. It stays, as A's run holds it; r1's copy alone is resolved."""
    from test_report_merge import _audit_run

    from privdiag.report.merge import merge

    other = _audit_run("a1", "2024-03-19T10:00:00+00:00", None)
    other["findings"][0]["title"] = "b2 as audit A found it"
    first = _audit_run("r1", "2024-03-20T10:00:00+00:00", None)
    second = _audit_run("r2", "2024-03-21T10:00:00+00:00", "r1")
    second["audit"]["compared_with"] = "r1"
    second["resolved"] = [{**second["findings"].pop(0), "change": "resolved"}]

    out = merge([other, first, second])

    titles = {f["id"]: f["title"] for f in out["findings"]}
    assert sorted(titles) == ["a1", "b2"] and titles["b2"] == "b2 as audit A found it"
    assert merge([first, second])["evidence"]["notes"][-1].endswith("left out (id b2)")
