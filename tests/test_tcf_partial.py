"""A TC string damaged after its fixed fields is read in part: its purpose consents are used,
with a note saying what could not be read; a string damaged within them is still refused.

consent_d (gguridi/iab-tcf test seed) is such a string: its fixed fields and vendor consents
match the expected file, then its vendor legitimate-interest section declares 2441 range
entries where 875 bits are left (``test_decode_tcf`` checks that bit by bit). It grants TCF
purposes 1-10 at policy version 2, so every canonical purpose a TCF purpose maps to is
granted: ads (2, 3, 4, 7), analytics (8, 9, 10), personalization (5, 6), functional (1).
Scans refused a file of such strings as a whole ("none of the 1 consent strings could be
decoded", exit 3) and left an event's flags unknown.
"""

from __future__ import annotations

import json

import pytest

from privdiag.decode import tcf
from privdiag.decode.tcf import decode
from privdiag.errors import InputError
from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write
from tests.test_decode_tcf import encode, make

D_UNREAD = (
    "TC string is corrupt: VendorLegitimateInterests declares 2441 range entries (its "
    "MaxVendorId is 57378), which need at least 41497 bits, but segment 0 has only 875 bits "
    "left"
)
GRANTED = {"ads": True, "analytics": True, "personalization": True, "functional": True}


def _d(realdata) -> str:
    return json.loads((realdata / "tcf" / "v2" / "consent_d.json").read_text())["consent"]


def test_consent_d_decodes_in_part_with_what_was_read(realdata):
    expected = json.loads((realdata / "tcf" / "v2" / "consent_d.json").read_text())["core"]
    got = decode(_d(realdata), partial=True)
    assert got.unread == D_UNREAD
    assert got.purposes_consent == set(range(1, 11))
    assert (got.cmp_id, got.consent_language, got.tcf_policy_version) == (2, "FR", 2)
    # the vendor consents come before the damage: read, and as expected
    assert got.max_vendor_id == expected["maxVendorId"] == 906
    assert got.vendor_consents == {int(k) for k in expected["vendorConsents"]}
    # what follows is left empty, not filled with the artefact of reading past the end
    assert (got.max_vendor_li_id, got.vendor_legitimate_interests) == (0, frozenset())
    assert got.publisher_restrictions == () and got.segment_types == ()
    assert tcf.purposes_of(got) == GRANTED
    with pytest.raises(InputError):  # the strict decoder still refuses it
        decode(_d(realdata))


def test_decode_many_uses_consent_d_purposes(realdata):
    b = json.loads((realdata / "tcf" / "v2" / "consent_b.json").read_text())["consent"]
    rows = tcf.decode_many([_d(realdata), b]).to_pylist()
    assert rows[0]["error"] is None and rows[0]["unread"] == D_UNREAD
    assert rows[1]["unread"] is None  # consent_b is read whole
    for row in rows:  # both grant purposes 1-10
        assert {p: row[f"consent_{p}"] for p in GRANTED} == GRANTED


def test_a_string_cut_in_its_vendor_section_is_read_in_part():
    """A string cut off by a column width at 60 characters (360 bits): its fixed fields end
    at bit 213, its vendor bitfield (400 vendors) would end at bit 630."""
    text = encode(make(max_vendor_id=400, vendor_consents=frozenset({1, 400})))
    got = decode(text[:60], partial=True)
    assert got.purposes_consent == set(range(1, 12)) and got.publisher_cc == "FR"
    assert got.unread == (
        "TC string is truncated: segment 0 ends before field VendorConsents BitField "
        "(needs bit 630, has 360)"
    )
    assert tcf.purposes_of(got) == GRANTED


def test_a_string_cut_within_its_fixed_fields_is_still_refused():
    """At 30 characters (180 bits) the purposes consented to are there (bits 152-175), but
    the fixed fields are not all: nothing vouches for the string, so it is refused."""
    text = encode(make())
    with pytest.raises(InputError, match="ends before field PurposesLITransparency"):
        decode(text[:30], partial=True)
    [row] = tcf.decode_many([text[:30]]).to_pylist()
    assert row["error"] and row["consent_ads"] is None


EVENTS = """event_id,ts,event_name,user_id,gclid
e1,2026-10-01T10:00:00Z,page_view,u1,G1
e2,2026-10-01T10:05:00Z,page_view,u2,G2
"""


def test_consent_file_of_consent_d_gives_its_records_with_a_note(realdata, tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    consent = write(
        tmp_path / "tc.csv",
        f"user_id,tc_string,ts\nu1,{_d(realdata)},2026-10-01T09:00:00Z\n"
        "u2,not-a-tc-string,2026-10-01T09:00:00Z\n",
    )
    doc = run_scan([events], consent=[consent], config=config()).to_dict()

    [info] = [i for i in doc["inputs"] if i["role"] == "consent"]
    assert (info["rows"], info["records"]) == (
        2,
        4,
    )  # u1: ads, analytics, personalization, functional
    notes = [n for n in doc["evidence"]["notes"] if "tc.csv" in n]
    assert any(
        "1 of 2 rows could not be decoded and was left out (first: row 2," in n for n in notes
    )
    assert (
        f"{consent}: 1 of 2 rows hold a TC string that was read only in part: their purpose "
        "consents are used, what follows them (vendors, publisher restrictions) could not be "
        f"read (first: row 1, field 'tc_string', a 353-character string: {D_UNREAD})" in notes
    )
    # u1 granted ads before collecting gclid: no violation; u2 has no decision
    assert not by_kind(doc, "consent.violation")
    assert doc["evidence"]["consent_rates"]["ads"] == 1.0


def test_events_carrying_consent_d_take_its_flags(realdata, tmp_path):
    """u1's event carries consent_d, u2's the same string cut within its fixed fields: u1's
    ads flag is granted (was unknown), u2's stays unknown."""
    d = _d(realdata)
    events = write(
        tmp_path / "web.csv",
        "event_id,ts,event_name,user_id,gclid,tc_string\n"
        f"e1,2026-10-01T10:00:00Z,page_view,u1,G1,{d}\n"
        f"e2,2026-10-01T10:05:00Z,page_view,u2,G2,{d[:30]}\n",
    )
    doc = run_scan([events], config=config()).to_dict()

    notes = doc["evidence"]["notes"]
    assert (
        "1 events carry tc_string values that could not be decoded; their flags stay unknown"
        in notes
    )
    assert (
        "1 events carry tc_string TC strings read only in part: their purpose consents are "
        "used, what follows them (vendors, publisher restrictions) could not be read "
        f"({D_UNREAD})"
    ) in notes
    assert doc["evidence"]["consent_rates"]["ads"] == 1.0  # u1 granted; u2 unknown
