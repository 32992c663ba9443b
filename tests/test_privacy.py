"""No e-mail or IP from the input reaches an output, even through names from the data."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from privdiag.cli import app
from privdiag.privacy import REDACTED, scrub, scrub_doc
from tests.helpers import write


def test_scrub_shapes():
    assert scrub("mail carol@example.org now") == f"mail {REDACTED} now"
    assert scrub("from 203.0.113.7") == f"from {REDACTED}"
    assert scrub("v 2001:db8::1 and fe80::1:2") == f"v {REDACTED} and {REDACTED}"
    # times, dates, versions and ratios stay
    for keep in ("10:00:00", "2026-10-01T10:00:00Z", "privdiag 0.1.0", "a::b", "1.5.2"):
        assert scrub(keep) == keep


def test_scrub_doc_keeps_fingerprints_and_ids():
    doc = {"id": "203.0.113.7", "sha256": "ab", "title": "x 10.0.0.1", "n": 3}
    assert scrub_doc(doc) == {"id": "203.0.113.7", "sha256": "ab", "title": f"x {REDACTED}", "n": 3}


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
