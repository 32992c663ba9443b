"""User ids, event names and journey steps in either Unicode form: ``josé`` composed (é, one
code point) in one file and decomposed (e and a combining accent, as macOS and some exports
write it) in another is one user, one event name. They were compared as written, so the
user's events met none of the consent log's records and a step reached no event."""

from __future__ import annotations

from pathlib import Path

import pytest

from privdiag.config import parse_config
from privdiag.errors import ConfigError
from tests.helpers import consent_states, write

COMPOSED = "jos\u00e9"
DECOMPOSED = "jose\u0301"


def test_a_decomposed_user_id_meets_its_composed_consent_record(tmp_path):
    events = write(
        tmp_path / "web.csv",
        f"""
        ts,event_name,user_id,anonymous_id,gclid
        2026-10-01T10:00:00Z,page_view,{DECOMPOSED},,G1
        2026-10-01T11:00:00Z,page_view,,{DECOMPOSED}-web,G2
        """,
    )
    consent = write(
        tmp_path / "cmp.csv",
        f"""
        user_id,purpose,status,ts
        {COMPOSED},ads,granted,2026-10-01T09:00:00Z
        {COMPOSED}-web,ads,denied,2026-10-01T09:00:00Z
        """,
    )
    # by hand: both ids are the consent log's, in composed form: granted, then denied
    assert consent_states([events], [consent], "ads") == [
        (COMPOSED, "granted"),
        (f"{COMPOSED}-web", "denied"),
    ]


def test_a_step_written_decomposed_is_reached_by_composed_event_names(tmp_path):
    from privdiag.engine import connect
    from privdiag.ingest import load
    from privdiag.journey import journey_steps

    events = write(
        tmp_path / "web.csv",
        """
        ts,event_name,user_id
        2026-10-01T10:00:00Z,caf\u00e9_menu,u1
        2026-10-01T11:00:00Z,cafe\u0301_order,u1
        """,
    )
    steps = ["cafe\u0301_menu", "caf\u00e9_order"]
    config = parse_config({"journey": {"steps": steps}}, Path("privdiag.toml"))
    con = connect(config.engine)
    load(con, [events], [], config)
    journey = journey_steps(con, config)
    reached = con.execute(f"SELECT {journey.step_sql()} FROM events ORDER BY ts").fetchall()
    # by hand: each event reaches its step, whichever form either was written in
    assert reached == [("caf\u00e9_menu",), ("caf\u00e9_order",)]


def test_one_step_written_in_both_forms_is_given_twice():
    with pytest.raises(ConfigError, match="given twice"):
        parse_config({"journey": {"steps": [COMPOSED, DECOMPOSED]}}, Path("privdiag.toml"))


def test_spark_compares_text_as_written():
    pytest.importorskip("sqlglot")
    from privdiag.engines.spark_sql import parse, to_spark

    assert to_spark(parse("SELECT nfc_normalize(trim(x)) AS u FROM t")) == (
        "SELECT TRIM(x) AS u FROM t"
    )


def test_a_decomposed_survey_respondent_is_composed(tmp_path):
    import duckdb

    from privdiag.survey import load_survey

    survey = write(tmp_path / "survey.csv", f"respondent_id,trust\n{DECOMPOSED},4\n")
    con = duckdb.connect()
    load_survey(con, [survey])
    assert con.execute("SELECT respondent FROM survey").fetchall() == [(COMPOSED,)]


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_an_id_with_a_character_that_shows_as_nothing_is_the_same_user(tmp_path, invisible):
    """Found by the fourteenth hostile session: user ids that differ by a zero-width
    character were two users, so a user's events met none of their consent records (an
    unknown state where the log denies ads). The invisible characters are dropped, in
    events and consent records alike; an id of nothing else is no id."""
    events = write(
        tmp_path / "web.csv",
        f"""
        ts,event_name,user_id,anonymous_id,gclid
        2026-10-01T10:00:00Z,page_view,u1{invisible},,G1
        2026-10-01T11:00:00Z,page_view,{invisible}{COMPOSED},,G2
        2026-10-01T12:00:00Z,page_view,{invisible},,G3
        2026-10-01T13:00:00Z,page_view,u1 {invisible},,G4
        """,
    )
    consent = write(
        tmp_path / "cmp.csv",
        f"""
        user_id,purpose,status,ts
        u1,ads,denied,2026-10-01T09:00:00Z
        {DECOMPOSED}{invisible},ads,granted,2026-10-01T09:00:00Z
        """,
    )
    assert consent_states([events], [consent], "ads") == [
        ("u1", "denied"),
        (COMPOSED, "granted"),
        (None, "unknown"),
        ("u1", "denied"),  # a space before the invisible character is trimmed too (review 21)
    ]


def test_a_step_pasted_with_a_zero_width_space_is_the_step():
    steps = ["page_view\u200b", "\ufeffpurchase"]
    config = parse_config({"journey": {"steps": steps}}, Path("privdiag.toml"))
    assert config.steps == ["page_view", "purchase"]
    with pytest.raises(ConfigError, match="given twice"):
        parse_config({"journey": {"steps": ["buy", "buy\u2060"]}}, Path("privdiag.toml"))
    with pytest.raises(ConfigError, match="step 2 is blank"):
        parse_config({"journey": {"steps": ["buy", "\u200b"]}}, Path("privdiag.toml"))
