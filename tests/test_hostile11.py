"""Hostile inputs of the eleventh round: consent flag columns read by value, Snowplow consent
per browser, model-check with text inputs, audit hidden marks."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.config import load_config
from privdiag.engine import connect
from privdiag.errors import InputError
from privdiag.ingest import generic, load

HEADER = "event_id,user_id,event_name,ts,consent_analytics\n"


def _csv(path, prefix: str, values: list[str]) -> None:
    rows = "".join(
        f"{prefix}{i},u{i},page_view,2024-05-01T10:0{i}:00Z,{v}\n" for i, v in enumerate(values)
    )
    path.write_text(HEADER + rows, encoding="utf-8")


def _states(paths: list[str]) -> list[tuple]:
    con = connect()
    load(con, paths, [], load_config(None))
    return con.execute(
        "SELECT event_id, consent_analytics FROM events ORDER BY event_id"
    ).fetchall()


def test_csv_folder_with_a_flag_column_of_other_types_per_file(tmp_path):
    # 1/0 in one file (sniffed BIGINT), yes/No in another, true/false in a third (BOOLEAN): the
    # type sniffed for the folder (BIGINT) made the third file unreadable (exit 3, no file).
    folder = tmp_path / "events"
    folder.mkdir()
    _csv(folder / "1.csv", "a", ["1", "0"])
    _csv(folder / "2.csv", "b", ["yes", "No"])
    _csv(folder / "3.csv", "c", ["true", "false"])
    assert _states([str(folder)]) == [
        ("a0", True),
        ("a1", False),
        ("b0", True),
        ("b1", False),
        ("c0", True),
        ("c1", False),
    ]


FLAG_TEXT = st.one_of(
    st.sampled_from(["yes", "No", "TRUE", "0", "1", "granted", "Denied", "maybe", "", "null"]),
    st.text(alphabet=" \t\n\u00a0\u3000\u200b\"'\\\x00yesnoYESNO1ｙ", max_size=8),
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(st.one_of(st.none(), FLAG_TEXT), min_size=1, max_size=12))
def test_flags_by_value_equal_the_per_event_reading(tmp_path_factory, monkeypatch, values):
    # Property: reading a flag column by its distinct values gives every event the state the
    # per-event reading (sqlparts.flag) gives, whatever whitespace, quotes or NUL they hold.
    path = tmp_path_factory.mktemp("flags") / "e.ndjson"
    rows = [
        {
            "event_id": f"e{i:02d}",
            "user_id": "u",
            "event_name": "page_view",
            "ts": "2024-05-01T10:00:00Z",
            "consent_analytics": v,
        }
        for i, v in enumerate(values)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    by_value = _states([str(path)])
    monkeypatch.setattr(generic, "MAX_FLAG_VALUES", 0)
    assert _states([str(path)]) == by_value
    monkeypatch.undo()


# The states of the events of _shared_id_states when user id "0" links none of its browsers.
SHARED_ID_UNLINKED = [
    ("e1", "unknown"),
    ("e2", "unknown"),
    ("e3", "unknown"),
    ("e4", "granted"),
    ("e5", "granted"),
]


def _shared_id_states(tmp_path, log: str) -> tuple[list, list[str]]:
    """Snowplow events of user id "0" on browsers b1-b3 and of alice on b4 and b5, with a
    consent file keyed by user id: ``log`` (rows of "0") and one grant of alice at 10:00.
    Return each event's (event_id, analytics state) and the loader's notes."""
    from privdiag.state import active_purposes, resolve
    from tests.helpers import write
    from tests.test_ingest_snowplow import _row, _write

    rows = [_row(i, f"b{i}", user_id="0") for i in (1, 2, 3)]
    rows += [_row(i, f"b{i}", user_id="alice") for i in (4, 5)]
    header = "user_id,purpose,status,ts\n"
    alice = "alice,analytics,granted,2024-05-01T10:00:00Z\n"
    con = connect()
    loaded = load(
        con,
        [_write(tmp_path / "sp.csv", rows)],
        [write(tmp_path / "log.csv", header + log + alice)],
        load_config(None),
    )
    resolve(con, active_purposes(con))
    states = con.execute("SELECT event_id, state_analytics FROM scan_events ORDER BY 1").fetchall()
    return states, loaded.notes


def test_a_user_id_on_more_browsers_than_the_cap_links_none(tmp_path, monkeypatch):
    # "0" is seen with browsers b1-b3, alice with b4 and b5; both have a record in a consent
    # file keyed by user id. With the cap at 2 browsers, "0" links none: its browsers stay
    # unknown, and a note counts it without naming it. Each record of such an id was copied
    # to each of its browsers (20,000 browsers x 2,000 records: 90 CPU-s, 9 GB; now 3.8 s).
    from privdiag import consent_keys

    monkeypatch.setattr(consent_keys, "MAX_LINKED_BROWSERS", 2)
    log = "0,analytics,granted,2024-05-01T10:00:00Z\n"
    states, all_notes = _shared_id_states(tmp_path, log)
    assert states == SHARED_ID_UNLINKED
    notes = [n for n in all_notes if "more than 2 browsers" in n]
    assert notes and notes[0].startswith(
        "1 user id was seen with more than 2 browsers each (up to 3)"
    )
    assert "'0'" not in notes[0]


def _report_at_k5(tmp_path, edit=None) -> tuple[dict, str]:
    """The audit's night 1 scanned at k = 1 (u9 alone lacks a decision: 1 of 3 users, 33%;
    u1's page_view leak: 1 user, 2 events), ``edit`` applied to its findings, then
    ``privdiag report`` with a config of k = 5: its JSON and Markdown."""
    from tests.audit_data import NIGHT_1, setup

    config = setup(tmp_path, NIGHT_1)
    data = [str(tmp_path / "data" / "shop.csv"), "--consent", str(tmp_path / "data" / "cmp.csv")]
    k1 = tmp_path / "k1.json"
    run = CliRunner().invoke(app, ["scan", *data, "--config", str(config), "--json", str(k1)])
    assert run.exit_code == 1, run.output
    doc = json.loads(k1.read_text())
    for finding in doc["findings"]:
        (edit or (lambda f: None))(finding)
    k1.write_text(json.dumps(doc))
    config.write_text(config.read_text().replace("min_group_size = 1", "min_group_size = 5"))
    out, md = tmp_path / "out.json", tmp_path / "out.md"
    args = ["report", str(k1), "--config", str(config), "--json", str(out), "--markdown", str(md)]
    run = CliRunner().invoke(app, [*args, "-q"])
    assert run.exit_code == 1, run.output
    return json.loads(out.read_text()), md.read_text()


def test_report_hides_users_in_all_and_the_title_share_of_a_smaller_k(tmp_path):
    # "33% of users" beside "users in all: 3" told that 1 user had no decision
    doc, md = _report_at_k5(tmp_path)
    [missing] = [f for f in doc["findings"] if f["kind"] == "consent.missing_record"]
    assert (
        missing["title"] == "Users of shop have events but no consent decision (fewer than 5 users)"
    )
    assert missing["metrics"]["users_total"] is None
    assert "users_total" in missing["metrics"]["suppressed"]
    assert "33%" not in md


def test_report_hides_a_user_count_written_as_a_float(tmp_path):
    # an edited result (or another tool's) writes 1.0: it was shown with its 2 events and share
    def as_float(finding):
        if finding["location"].get("step") == "page_view":
            finding["metrics"]["users"] = 1.0

    doc, _ = _report_at_k5(tmp_path, as_float)
    [leak] = [f for f in doc["findings"] if f["location"].get("step") == "page_view"]
    assert leak["metrics"]["events"] is None and leak["metrics"]["share"] is None
    assert leak["metrics"]["users"] is None


def test_category_shares_name_the_empty_text_and_pool_blank_looking_names():
    # "" was named as a blank cell, "\u200b" (zero-width space) and "   " as names that read
    # as blank: a reader could not tell them apart. Each is seen 10 times in both sets (k = 5).
    import numpy as np

    from privdiag.model.drift import category_shares

    values = ["", "   ", "DE", "\u200b", "a\tb"]
    counts = np.array([[10.0, 10, 10, 10, 10], [10.0, 10, 10, 10, 10]])
    table = category_shares("country", values, counts, (50, 50), 5)
    assert [row[0] for row in table["rows"]] == ["(empty text)", "DE", "(other values)"]
    assert table["rows"][-1][1:] == [0.6, 0.6]


def test_a_label_with_empty_rows_names_the_first_and_says_what_to_do(tmp_path):
    # was "2 rows have no label", no row and no hint; rows 3 and 5 (1-based) lack it
    import polars as pl

    from privdiag.model.inputs import _labels

    frame = pl.DataFrame({"label": [1, 0, None, 1, None]})
    with pytest.raises(InputError) as err:
        _labels(frame, "label", tmp_path / "blind.parquet")
    assert "row 3, field 'label': 2 rows have no label" in str(err.value)
    assert err.value.hint and "drop the rows" in err.value.hint


def test_an_empty_history_file_is_refused_with_what_to_do(tmp_path):
    # was "is not a privdiag history (IO Error: The file ... is not a valid DuckDB database
    # file!)" with no hint: an empty file is what touch or mktemp leaves
    from privdiag.audit.history import open_history

    path = tmp_path / "history.duckdb"
    path.write_bytes(b"")
    with pytest.raises(InputError) as err:
        open_history(path)
    assert "history.duckdb: is not a privdiag history: it is an empty file" in str(err.value)
    assert err.value.hint and err.value.hint.startswith("remove it, and privdiag makes")
    assert path.read_bytes() == b""  # left as it was


def test_a_csv_blind_set_keeps_codes_with_leading_zeros(tmp_path):
    # "0049" was read as 49 (a model that learnt the code "0049" saw an unknown category: ROC
    # AUC 0.83 on the Parquet blind set, 0.66 on the same rows in CSV)
    import polars as pl

    from privdiag.model.blindset import read_table

    path = tmp_path / "blind.csv"
    rows = ["country,sessions,score,flag,empty"]
    rows += [
        f"{'0049' if i % 2 else '0001'},{i},{i / 4},{'true' if i % 3 else 'false'},"
        for i in range(20)
    ]
    path.write_text("\n".join(rows) + "\n")
    frame = read_table(path)
    assert frame.schema == {
        "country": pl.String,
        "sessions": pl.Int64,
        "score": pl.Float64,
        "flag": pl.Boolean,
        "empty": pl.String,
    }
    assert frame["country"][:2].to_list() == ["0001", "0049"]


def test_a_user_id_whose_records_under_each_browser_pass_the_cap_links_none(tmp_path, monkeypatch):
    # "0" is seen with browsers b1-b3 and has 3 records: under each browser 9 > the cap of 8,
    # so it links none (its browsers stay unknown); alice, with b4 and b5 and 1 record (2
    # under her browsers), links both. The browser cap alone let 1,000 browsers and 2,000
    # records become 2M linked records (300k events: 7 CPU-s, 750 MB).
    from privdiag import consent_keys

    monkeypatch.setattr(consent_keys, "MAX_LINKED_RECORDS", 8)
    log = "".join(f"0,analytics,granted,2024-05-01T0{h}:00:00Z\n" for h in (7, 8, 9))
    states, all_notes = _shared_id_states(tmp_path, log)
    assert states == SHARED_ID_UNLINKED
    notes = [n for n in all_notes if "would be more than 8" in n]
    assert notes == [
        "1 user id has so many consent records and browsers that its records under each "
        "browser would be more than 8 (up to 9): a shared or placeholder id, so its consent "
        "records apply to its events without a browser only, not to every browser it was seen "
        "with; if it is a placeholder, send no user id instead"
    ]
    assert not [n for n in all_notes if "browsers each" in n]


@pytest.mark.parametrize(
    ("cells", "said"),
    [
        (
            [1.0, 0.0, float("nan"), 1.0],
            "row 3, field 'label': 1 row has no label (empty, null or NaN)",
        ),
        (
            ["1", "0", "NaN", "nan"],
            "row 3, field 'label': 2 rows have no label (empty, null or NaN)",
        ),
        ([1, None, 0, 1], "row 2, field 'label': 1 row has no label (empty, null or NaN)"),
        (
            ["yes", None, "no", "no"],
            "row 2, field 'label': 1 row has no label (empty, null or NaN)",
        ),
    ],
)
def test_a_nan_or_null_label_is_a_missing_label(tmp_path, cells, said):
    """Found by the eighteenth hostile session: a NaN label was described as "a 3-character
    value of letters is not a classifier's label", and one null label as "1 rows have no
    label"."""
    import polars as pl

    from privdiag.model.inputs import _labels

    with pytest.raises(InputError) as err:
        _labels(pl.DataFrame({"label": cells}), "label", tmp_path / "blind.parquet")
    assert said in str(err.value)
