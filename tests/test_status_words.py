"""``[consent.status_words]``: a CMP's own status words mapped to granted, denied or no decision.

Trial 20 found that no setting mapped a status word: a word outside the built-in lists
(``yes_please``, ``nein``) needed the consent file rewritten. The words are read in SQL,
for consent files and for the events' own flag columns alike.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privdiag.config import Config, Thresholds, parse_config
from privdiag.engine import connect
from privdiag.errors import ConfigError, InputError
from privdiag.ingest import load
from privdiag.ingest.sqlparts import DENIED_WORDS, GRANTED_WORDS, NO_FLAG_WORDS, fold_word
from privdiag.scan import run_scan
from tests.helpers import by_kind, write

TOML = Path("privdiag.toml")


def words_config(**words: object) -> Config:
    cfg = parse_config({"consent": {"status_words": words}}, TOML)
    cfg.thresholds = Thresholds(min_group_size=1)
    return cfg


def test_the_config_maps_words_as_written_to_their_meaning():
    cfg = words_config(granted=["opted_in", " Yes_Please "], denied="nein", undecided=[])
    assert cfg.status_words == {"opted_in": "granted", "Yes_Please": "granted", "nein": "denied"}
    assert Config().status_words == {}


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (
            {"granted": ["Opted_In"], "denied": ["opted_in"]},
            "the status word 'opted_in' is mapped to granted (as 'Opted_In') and to denied",
        ),
        ({"granted": [1]}, "holds a number, not text"),
        ({"denied": [True]}, "holds true/false, not text"),
        ({"undecided": [["later"]]}, "holds a list, not text"),
        ({"granted": ["yes", ""]}, "holds an empty or blank word"),
        ({"granted": "  "}, "holds an empty or blank word"),
        ({"grant": ["yes_please"]}, "unknown key 'grant'; did you mean 'granted'?"),
    ],
)
def test_a_bad_status_word_is_a_config_error_naming_the_key(words, said):
    with pytest.raises(ConfigError) as err:
        parse_config({"consent": {"status_words": words}}, TOML)
    assert said in str(err.value)
    assert "consent.status_words" in str(err.value)


def test_status_words_must_be_a_table():
    with pytest.raises(ConfigError, match="must be a table of meaning"):
        parse_config({"consent": {"status_words": ["yes_please"]}}, TOML)


# By hand, ads only, gclid needing ads (the default mapping of click ids), every word the
# CMP's own: u1 granted (yes_please) at 09:00 and its event's flag denies (Nope): the event is
# denied by its own flag and carries gclid, 1 violation event; u2 denied in the log (NEIN)
# and its flag grants (YES_PLEASE): a conflict of both events, 2 events; u3's status "later"
# says no decision: its row is left out with the note, 2 records of 3 rows.
EVENTS = """
event_id,ts,event_name,user_id,gclid,consent_ads
e1,2026-10-01T10:00:00Z,page_view,u1,G1,Nope
e2,2026-10-01T10:00:00Z,page_view,u2,G2,YES_PLEASE
e3,2026-10-01T10:00:00Z,page_view,u3,G3,
"""
CONSENT = """
user_id,purpose,status,ts
u1,ads,yes_please,2026-10-01T09:00:00Z
u2,ads,NEIN,2026-10-01T09:00:00Z
u3,ads,Later,2026-10-01T09:00:00Z
"""


def test_mapped_words_are_read_in_consent_files_and_event_flags(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    consent = write(tmp_path / "cmp.csv", CONSENT)
    cfg = words_config(granted=["yes_please"], denied=["nein", "nope"], undecided=["later"])
    doc = run_scan([events], consent=[consent], config=cfg).to_dict()

    assert [i["records"] for i in doc["inputs"] if i["role"] == "consent"] == [2]
    (violation,) = by_kind(doc, "consent.violation")
    assert (violation["metrics"]["events"], violation["metrics"]["users"]) == (1, 1)
    (conflict,) = by_kind(doc, "consent.conflict")
    assert conflict["metrics"]["events"] == 2
    assert "cmp.csv: 1 consent row(s) with an empty purpose (0) or no decision in their " in (
        " ".join(doc["evidence"]["notes"])
    )
    assert not any("read as neither granted nor denied" in n for n in doc["evidence"]["notes"])


def test_without_the_mapping_the_words_are_refused_and_the_hint_names_the_key(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    consent = write(tmp_path / "cmp.csv", CONSENT)
    with pytest.raises(InputError) as err:
        run_scan([events], consent=[consent], config=words_config())
    assert (err.value.row, err.value.field) == (1, "status")
    assert "[consent.status_words]" in (err.value.hint or "")


def test_a_mapping_moves_a_built_in_word(tmp_path):
    """OneTrust's EXPIRED reads as denied; a team that takes an expired consent for no
    decision says so, and the row is left out (1 record of 2 rows)."""
    events = write(tmp_path / "web.csv", EVENTS)
    consent = write(
        tmp_path / "cmp.csv",
        "user_id,purpose,status,ts\nu1,ads,EXPIRED,2026-10-01T09:00:00Z\n"
        "u2,ads,ACTIVE,2026-10-01T09:00:00Z\n",
    )
    records = _records(Path(events), Path(consent), words_config(undecided=["expired"]))
    assert records == [("u2", True)]


def _records(events: Path, consent: Path, cfg: Config) -> list[tuple]:
    con = connect(cfg.engine)
    load(con, [str(events)], [str(consent)], cfg)
    return con.execute("SELECT user_key, granted FROM consent ORDER BY user_key").fetchall()


BUILT_IN = {fold_word(w) for w in GRANTED_WORDS + DENIED_WORDS + NO_FLAG_WORDS}
# Words as a CMP may write them: letters of any script, digits, and _ - . / and inner spaces
# (a CSV's commas, quotes and line breaks aside).
WORDS = st.text(
    st.characters(categories=("L", "N"), include_characters="_-./ "), min_size=1, max_size=12
).filter(lambda w: w.strip(" ") == w and w.strip() != "")
MEANINGS = st.sampled_from(["granted", "denied", "undecided"])
EXPECTED = {"granted": [("u1", True)], "denied": [("u1", False)], "undecided": []}


def _consent_csv(folder: Path, *statuses: str) -> Path:
    path = folder / "cmp.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["user_id", "purpose", "status", "ts"])
        for n, status in enumerate(statuses, 1):
            out.writerow([f"u{n}", "ads", status, "2026-10-01T09:00:00Z"])
    return path


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(word=WORDS, meaning=MEANINGS, other=WORDS, upper=st.booleans())
def test_any_mapped_word_round_trips_and_an_unknown_one_is_refused(word, meaning, other, upper):
    cfg = words_config(**{meaning: [word]})
    with tempfile.TemporaryDirectory(prefix="leftovers-words-") as folder:
        events = Path(write(Path(folder) / "web.csv", EVENTS))
        written = word.upper() if upper and word.upper().lower() == word.lower() else word
        assert _records(events, _consent_csv(Path(folder), written), cfg) == EXPECTED[meaning]

        if fold_word(other) in BUILT_IN | {fold_word(word)}:
            return
        with pytest.raises(InputError) as err:
            _records(events, _consent_csv(Path(folder), written, other), cfg)
        assert (err.value.row, err.value.field) == (2, "status")
        assert str(err.value.path).endswith("cmp.csv")
        assert "is neither granted nor denied" in str(err.value)
