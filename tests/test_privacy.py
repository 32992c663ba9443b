"""No e-mail or IP from the input reaches an output, even through names from the data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.privacy import REDACTED, describe_value, looks_like_id, scrub, scrub_doc
from tests.helpers import write


def test_scrub_shapes():
    assert scrub("mail carol@example.org now") == f"mail {REDACTED} now"
    assert scrub("from 203.0.113.7") == f"from {REDACTED}"
    assert scrub("v 2001:db8::1 and fe80::1:2") == f"v {REDACTED} and {REDACTED}"
    # times, dates, versions and ratios stay
    for keep in ("10:00:00", "2026-10-01T10:00:00Z", "privdiag 0.1.0", "a::b", "1.5.2"):
        assert scrub(keep) == keep


def test_scrub_doc_keeps_fingerprints_and_ids():
    doc = {"id": "9f627eeba17bbd8e", "sha256": "ab", "title": "x 10.0.0.1", "n": 3}
    assert scrub_doc(doc) == {
        "id": "9f627eeba17bbd8e",
        "sha256": "ab",
        "title": f"x {REDACTED}",
        "n": 3,
    }


@pytest.mark.parametrize("key", [None, (68).to_bytes(16, "big")])
def test_scrub_doc_replaces_ids_shaped_like_an_address_the_same_way_everywhere(key, monkeypatch):
    """An edited document's id that is an IP address no longer reaches every output as it is:
    it becomes a keyed hash, the same for the id and the causes that name it. (The hash may
    hold the digits "203" by chance: with key 68 it is 2bd9203f7f7cb62f, and the test, which
    asked for no "203", failed about once in 300 runs of its random key; trial 13.)"""
    if key is not None:
        monkeypatch.setattr("privdiag.privacy._ID_KEY", key)
    doc = {"findings": [{"id": "203.0.113.7"}, {"id": "b", "caused_by": ["203.0.113.7", "b"]}]}
    out = scrub_doc(doc)["findings"]
    assert out[0]["id"].startswith("redacted-") and "203.0" not in out[0]["id"]
    assert out[1]["caused_by"] == [out[0]["id"], "b"]


@given(st.emails())
def test_any_email_is_redacted(email):
    assert "@" not in scrub(f"user {email} seen")


def test_names_from_the_data_are_scrubbed_in_every_output(tmp_path):
    data = tmp_path / "dave@example.net.csv"
    write(
        data,
        "event_id,ts,event_name,user_id,gclid,carol@example.org\n"
        + "".join(f"e{i},2026-10-01T10:0{i}:00Z,203.0.113.7,u{i},g{i},x\n" for i in range(1, 7)),
    )
    consent = write(
        tmp_path / "c.csv",
        "user_id,purpose,status,ts\n"
        + "".join(f"u{i},ads,denied,2026-10-01T09:00:00Z\n" for i in range(1, 7)),
    )
    outs = {ext: tmp_path / f"o.{ext}" for ext in ("json", "html", "md", "xml")}
    result = CliRunner().invoke(
        app,
        [
            "scan",
            str(data),
            "--consent",
            consent,
            "--json",
            str(outs["json"]),
            "--html",
            str(outs["html"]),
            "--markdown",
            str(outs["md"]),
            "--junit",
            str(outs["xml"]),
        ],
    )
    assert result.exit_code == 1, result.output
    for text in [result.output] + [p.read_text() for p in outs.values()]:
        for raw in ("dave@example.net", "carol@example.org", "203.0.113.7"):
            assert raw not in text


def test_a_quoted_address_keeps_its_opening_quote():
    assert scrub("timestamp 'carol@example.org' cannot be read") == (
        f"timestamp '{REDACTED}' cannot be read"
    )
    assert scrub("user '@example.org x") == f"user {REDACTED} x"


def test_describe_value_says_what_a_value_looks_like_never_the_value():
    assert describe_value("u_8f3a2b91c4") == "a 12-character value of letters, digits and '_'"
    assert describe_value("1234567890.1234567890") == "a 21-character value of digits and '.'"
    assert describe_value("+49 151 2345678") == "a 15-character value of digits, spaces and '+'"
    assert describe_value("maybe") == "a 5-character value of letters"
    assert describe_value("Granted ", safe={"granted"}) == "'Granted'"
    assert describe_value(None) == "an empty value"
    assert describe_value("¼") == "a 1-character value of '¼'"


def test_a_mis_mapped_id_column_is_described_not_quoted(tmp_path):
    """A user-id column mapped as the time: the error names row and field, not the ids."""
    ids = ["GA1.2.1234567890.1234567890", "u_8f3a2b91c4", "+49 151 2345678", "carol@example.org"]
    for raw in ids:
        data = write(
            tmp_path / "events.csv",
            f"event_id,when,event_name,uid\ne1,2026-10-01T10:00:00Z,page_view,{raw}\n",
        )
        config = write(
            tmp_path / "privdiag.toml",
            f'[sources.web]\npaths = ["{data}"]\ncolumns = {{ ts = "uid" }}\n',
        )
        result = CliRunner().invoke(
            app, ["scan", str(data), "--config", str(config), "--json", str(tmp_path / "o.json")]
        )
        assert result.exit_code == 3, result.output
        assert raw not in result.output and "[redacted]" not in result.output
        assert "row 1, field 'uid': timestamp (a " in result.output


def test_looks_like_id():
    for name in ("u_8f3a2b91c4", "1234567890.1234567890", "+49 151 2345678", "a@b.org", "10.0.0.1"):
        assert looks_like_id(name), name
    for name in ("C0004", "DataSharing", "Google Analytics", "analytics_2024", "ads"):
        assert not looks_like_id(name), name
