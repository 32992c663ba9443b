"""A consent input's ``rows`` are its file's rows; its ``records`` the consent records they gave.

A row may give several records (a TC string decides four canonical purposes, a Snowplow log
row one per scope) or none (a category in no purpose, a row without a user id): ``rows`` used
to be the records, so a 522-row Snowplow log read as 1,365 rows.
"""

from __future__ import annotations

from html.parser import HTMLParser

from privdiag.output import _inputs_text
from privdiag.report.html import render_html
from privdiag.scan import run_scan
from tests.helpers import config, write
from tests.test_decode_tcf import encode, make

EVENTS = """event_id,ts,event_name,user_id,gclid
e1,2026-10-01T10:00:00Z,page_view,u1,G1
e2,2026-10-01T10:05:00Z,page_view,u2,G2
"""
# 4 rows: u1 ads and u2 ads give a record each; Newsletter maps to no purpose; the last
# row has no user id.
CMP = """user_id,purpose,status,ts
u1,ads,denied,2026-10-01T09:00:00Z
u2,ads,granted,2026-10-01T09:00:00Z
u2,Newsletter,granted,2026-10-01T09:00:00Z
,analytics,granted,2026-10-01T09:00:00Z
"""


def _consent_inputs(doc: dict) -> list[tuple[str, int, int]]:
    return [
        (i["path"].rsplit("/", 1)[-1], i["rows"], i["records"])
        for i in doc["inputs"]
        if i["role"] == "consent"
    ]


def test_rows_are_file_rows_and_records_are_counted_apart(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    cmp = write(tmp_path / "cmp.csv", CMP)
    # two rows of a TC string with consent for TCF purposes 1-11: four canonical purposes
    # (ads, analytics, personalization, functional) each
    tc = encode(make())
    strings = write(
        tmp_path / "tc.csv",
        f"user_id,tc_string,ts\nu1,{tc},2026-10-01T09:00:00Z\nu2,{tc},2026-10-01T09:30:00Z\n",
    )
    doc = run_scan([events], consent=[cmp, strings], config=config()).to_dict()

    assert _consent_inputs(doc) == [("cmp.csv", 4, 2), ("tc.csv", 2, 8)]
    [web] = [i for i in doc["inputs"] if i["role"] == "events"]
    assert web["rows"] == 2 and "records" not in web  # events inputs are unchanged
    assert _inputs_text(doc["inputs"]) == (
        "web.csv (generic, 2 rows), cmp.csv (consent, 4 rows, 2 records), "
        "tc.csv (consent, 2 rows, 8 records)"
    )


class _Cells(HTMLParser):
    """The cells of the HTML report's Inputs table, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._inside = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "section" and ("id", "inputs") in attrs:
            self._inside = True
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "section":
            self._inside = False
        elif self._inside and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_html_inputs_table_shows_rows_and_records(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    cmp = write(tmp_path / "cmp.csv", CMP)
    doc = run_scan([events], consent=[cmp], config=config()).to_dict()

    parser = _Cells()
    parser.feed(render_html(doc))
    header, *rows = parser.rows
    assert header[3:5] == ["Rows", "Records"]
    assert [r[1:5] for r in rows] == [
        ["events", "generic", "2", "–"],
        ["consent", "consent", "4", "2"],
    ]


def test_realdata_snowplow_consent_log_rows(realdata, tmp_path):
    """dbt-snowplow-web's consent log: 65 rows (66 lines with the header; 33 of them
    cmp_visible, which decide nothing) give the 128 records the same events give."""
    sp = realdata / "snowplow"
    log = sp / "expected" / "snowplow_web_consent_log_expected.csv"
    events = sp / "source" / "snowplow_web_events.csv"
    doc = run_scan([str(events)], consent=[str(log)], config=config()).to_dict()
    assert _consent_inputs(doc) == [(log.name, 65, 128)]


def test_a_row_keyed_by_a_placeholder_id_gives_no_record(tmp_path):
    """README: a row without a user id gives no record; a placeholder id (``undefined``) is
    no id, so its row gave a record counted in ``records`` and then dropped with a note
    (README audit 28 (3)). Of these 3 rows only u1's gives a record."""
    events = write(tmp_path / "web.csv", EVENTS)
    cmp = write(
        tmp_path / "cmp.csv",
        "user_id,purpose,status,ts\n"
        "u1,ads,denied,2026-10-01T09:00:00Z\n"
        "undefined,ads,granted,2026-10-01T09:00:00Z\n"
        "(not set),analytics,granted,2026-10-01T09:00:00Z\n",
    )
    doc = run_scan([events], consent=[cmp], config=config()).to_dict()

    assert _consent_inputs(doc) == [("cmp.csv", 3, 1)]
    [note] = [n for n in doc["evidence"]["notes"] if "consent records dropped" in n]
    assert note.endswith(": 2")
