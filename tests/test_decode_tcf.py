"""TCF v2 TC string decoding: real strings with known decodings, edge cases, round trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privdiag.decode import tcf
from privdiag.decode.tcf import ALPHABET, PublisherRestriction, TCString, decode, tcf_purposes
from privdiag.errors import InputError
from privdiag.purposes import PURPOSES

# --- a small test-only encoder (the inverse of tcf.decode) -------------------------------


def _int(value: int, width: int) -> str:
    assert 0 <= value < 2**width
    return format(value, f"0{width}b")


def _letters(code: str) -> str:
    return "".join(_int(ord(ch) - ord("A"), 6) for ch in code)


def _deciseconds(when: datetime) -> str:
    return _int((when - tcf._EPOCH) // timedelta(milliseconds=100), 36)


def _idbits(ids: frozenset[int], width: int) -> str:
    return "".join("1" if i + 1 in ids else "0" for i in range(width))


def _runs(ids: frozenset[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in sorted(ids):
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _range_bits(ids: frozenset[int]) -> str:
    out = _int(len(_runs(ids)), 12)
    for start, end in _runs(ids):
        out += "1" + _int(start, 16) + _int(end, 16) if end > start else "0" + _int(start, 16)
    return out


def _vendors(max_id: int, ids: frozenset[int], as_ranges: bool) -> str:
    body = "1" + _range_bits(ids) if as_ranges else "0" + _idbits(ids, max_id)
    return _int(max_id, 16) + body


def _to_text(bits: str) -> str:
    bits += "0" * (-len(bits) % 6)
    return "".join(ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def encode(t: TCString, as_ranges: tuple[bool, bool] = (False, False)) -> str:
    """Encode a TCString (core segment, plus one stub segment per segment type)."""
    bits = (
        _int(t.version, 6) + _deciseconds(t.created) + _deciseconds(t.last_updated)
        + _int(t.cmp_id, 12) + _int(t.cmp_version, 12) + _int(t.consent_screen, 6)
        + _letters(t.consent_language) + _int(t.vendor_list_version, 12)
        + _int(t.tcf_policy_version, 6) + _int(t.is_service_specific, 1)
        + _int(t.use_non_standard_texts, 1) + _idbits(t.special_feature_opt_ins, 12)
        + _idbits(t.purposes_consent, 24) + _idbits(t.purposes_legitimate_interests, 24)
        + _int(t.purpose_one_treatment, 1) + _letters(t.publisher_cc)
        + _vendors(t.max_vendor_id, t.vendor_consents, as_ranges[0])
        + _vendors(t.max_vendor_li_id, t.vendor_legitimate_interests, as_ranges[1])
        + _int(len(t.publisher_restrictions), 12)
    )  # fmt: skip
    for r in t.publisher_restrictions:
        bits += _int(r.purpose, 6) + _int(r.restriction_type, 2) + _range_bits(r.vendors)
    extra = [_to_text(_int(kind, 3) + "1" * 9) for kind in t.segment_types]
    return ".".join([_to_text(bits), *extra])


def make(**changes) -> TCString:
    """A plain valid TCString, with some fields changed."""
    base = dict(
        version=2, created=datetime(2024, 5, 1, 12, 0, 0, 300000, tzinfo=UTC),
        last_updated=datetime(2024, 5, 2, tzinfo=UTC), cmp_id=300, cmp_version=2,
        consent_screen=1, consent_language="DE", vendor_list_version=70, tcf_policy_version=4,
        is_service_specific=True, use_non_standard_texts=False,
        special_feature_opt_ins=frozenset({1}), purposes_consent=frozenset(range(1, 12)),
        purposes_legitimate_interests=frozenset({2, 7}), purpose_one_treatment=False,
        publisher_cc="FR", max_vendor_id=10, vendor_consents=frozenset({1, 2, 3, 10}),
        max_vendor_li_id=0, vendor_legitimate_interests=frozenset(),
    )  # fmt: skip
    base.update(changes)
    return TCString(**base)


# --- real strings (gguridi/iab-tcf test seeds) --------------------------------------------

# Expected-file field name -> our TCString attribute.
SCALARS = {
    "version": "version",
    "cmpId": "cmp_id",
    "cmpVersion": "cmp_version",
    "consentScreen": "consent_screen",
    "consentLanguage": "consent_language",
    "vendorListVersion": "vendor_list_version",
    "policyVersion": "tcf_policy_version",
    "isServiceSpecified": "is_service_specific",
    "useNonStandardStacks": "use_non_standard_texts",
    "purposeOneTreatment": "purpose_one_treatment",
    "publisherCountryCode": "publisher_cc",
    "maxVendorId": "max_vendor_id",
    "maxVendorLegitimateInterestsId": "max_vendor_li_id",
}
TIMES = {"created": "created", "lastUpdated": "last_updated"}
ID_SETS = {
    "specialFeatureOptins": "special_feature_opt_ins",
    "purposeConsents": "purposes_consent",
    "purposeLegitimateInterests": "purposes_legitimate_interests",
    "vendorConsents": "vendor_consents",
    "vendorLegitimateInterests": "vendor_legitimate_interests",
}
MAPPED = set(SCALARS) | set(TIMES) | set(ID_SETS) | {"publisherRestrictions"}


def _load(realdata, name: str) -> dict:
    return json.loads((realdata / "tcf" / "v2" / f"consent_{name}.json").read_text())


def _ids(expected: dict) -> set[int]:
    return {int(k) for k, v in expected.items() if v}


def _restrictions_by_vendor(restrictions) -> dict[str, list[dict]]:
    """Our restrictions in the expected file's shape: vendor id -> list of flags."""
    out: dict[str, list[dict]] = {}
    for r in restrictions:
        flags = {
            "purpose": r.purpose,
            "isAllowed": r.restriction_type != tcf.NOT_ALLOWED,
            "isConsentRequired": r.restriction_type == tcf.REQUIRE_CONSENT,
            "isLegitimateInterestRequired": r.restriction_type == tcf.REQUIRE_LEGITIMATE_INTEREST,
        }
        for vendor in r.vendors:
            out.setdefault(str(vendor), []).append(flags)
    return out


def _sorted_flags(table: dict[str, list[dict]]) -> dict[str, list]:
    return {k: sorted(v, key=lambda f: f["purpose"]) for k, v in table.items()}


@pytest.mark.parametrize("name", ["a", "b", "c"])
def test_real_string_matches_every_core_field(realdata, name):
    data = _load(realdata, name)
    core, got = data["core"], decode(data["consent"])
    assert set(core) == MAPPED, "the expected file has a field this test does not map"
    for theirs, ours in SCALARS.items():
        assert getattr(got, ours) == core[theirs], theirs
    for theirs, ours in TIMES.items():
        # The expected files drop the tenth of a second the string carries.
        expected = datetime.fromisoformat(core[theirs]).replace(tzinfo=UTC)
        assert getattr(got, ours).replace(microsecond=0) == expected, theirs
    for theirs, ours in ID_SETS.items():
        assert getattr(got, ours) == _ids(core[theirs]), theirs
    assert _sorted_flags(_restrictions_by_vendor(got.publisher_restrictions)) == _sorted_flags(
        core["publisherRestrictions"]
    )


def test_real_string_sub_second_and_segments(realdata):
    got = decode(_load(realdata, "a")["consent"])
    assert got.created == datetime(1993, 7, 5, 11, 23, 32, 500000, tzinfo=UTC)
    assert got.segment_types == (1,)  # disclosed vendors
    assert decode(_load(realdata, "c")["consent"]).segment_types == (3,)  # publisher TC
    assert len(got.vendor_consents) == 302


def test_consent_d_is_refused_for_its_corrupt_vendor_li_section(realdata):
    """consent_d is not a valid TC string; the error says exactly why (read with
    ``partial=True``, its purposes are used: ``test_tcf_partial``).

    Its core segment is 340 characters, 2040 bits. The fixed fields take 213 bits and the
    vendor consents (MaxVendorId 906, a bitfield) the next 17 + 906, up to bit 1136; all of
    them match the expected file. The vendor LI section then reads MaxVendorId 57378 (the
    list had about 900 vendors), IsRangeEncoding 1 and NumEntries 2441: at 17 bits or more an
    entry, 41497 bits, where 2040 - 1165 = 875 are left. The expected file is what a decoder
    that reads past the end as zero bits produces (vendor "0", ids above MaxVendorId).
    """
    data = _load(realdata, "d")
    core = data["core"]
    message = (
        "TC string is corrupt: VendorLegitimateInterests declares 2441 range entries (its "
        "MaxVendorId is 57378), which need at least 41497 bits, but segment 0 has only 875 "
        "bits left"
    )
    with pytest.raises(InputError) as caught:
        decode(data["consent"])
    assert caught.value.message == message

    bits = tcf._Bits(tcf._segment_bits(data["consent"].split(".")[0], 0), 0)
    assert len(bits.bits) == 2040
    header = tcf._header(bits)
    assert bits.pos == 213
    max_id, vendors = tcf._vendor_section(bits, "VendorConsents")
    assert bits.pos == 213 + 17 + 906 == 1136
    for theirs, ours in SCALARS.items():
        if ours in header:
            assert header[ours] == core[theirs], theirs
    assert (max_id, vendors) == (906, _ids(core["vendorConsents"]))
    assert len(vendors) == 562
    assert header["purposes_consent"] == set(range(1, 11))

    # Reading the LI section with zero bits past the end reproduces the expected artefact.
    padded = tcf._Bits(bits.bits + "0" * 50_000, 0)
    padded.pos = bits.pos
    assert padded.uint(16, "max") == core["maxVendorLegitimateInterestsId"] == 57378
    assert padded.flag("range") and padded.uint(12, "entries") == 2441
    assert len(bits.bits) - bits.pos < 2441 * 17
    artefact: set[int] = set()
    for _ in range(2441):
        is_range = padded.flag("range")
        start = padded.uint(16, "start")
        artefact.update(range(start, (padded.uint(16, "end") if is_range else start) + 1))
    assert artefact == _ids(core["vendorLegitimateInterests"])
    assert padded.uint(12, "restrictions") == len(core["publisherRestrictions"]) == 0


# --- malformed strings --------------------------------------------------------------------

V1_STRING = "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (V1_STRING, "TCF v1"),
        ("CPc$Q", "not base64url.*'\\$'"),
        ("CPc+QAA", "not base64url"),
        ("CPcQ", "truncated.*Created"),
        ("A" * 60, "version 0"),
        (encode(make()) + "..", "segment 1 is empty"),
    ],
)
def test_malformed_strings_raise_input_error(value, message):
    with pytest.raises(InputError, match=message):
        decode(value)


def test_truncated_real_string(realdata):
    tc = _load(realdata, "b")["consent"]
    with pytest.raises(InputError, match="truncated"):
        decode(tc[:40])


def test_bad_language_letter():
    tc = encode(make(consent_language="DE"))
    bits = "".join(tcf._SIXBITS[c] for c in tc)
    lang_at = 6 + 36 + 36 + 12 + 12 + 6
    broken = bits[:lang_at] + format(30, "06b") + bits[lang_at + 6 :]
    with pytest.raises(InputError, match="ConsentLanguage"):
        decode(_to_text(broken))


def test_more_range_entries_than_the_segment_can_hold_is_corrupt():
    # 213 header bits, VendorConsents 16 + 1 + NumEntries 12 + no entries, VendorLI 16 + 1,
    # NumPubRestrictions 12: 271 bits, 276 with padding. NumEntries 100 is read at bits
    # 230-241, leaving 276 - 242 = 34 bits for entries that need at least 1700.
    bits = encode(make(max_vendor_id=5, vendor_consents=frozenset()), (True, False))
    raw = "".join(tcf._SIXBITS[c] for c in bits)
    assert len(raw) == 276
    at = 213 + 17
    broken = raw[:at] + _int(100, 12) + raw[at + 12 :]
    with pytest.raises(InputError) as caught:
        decode(_to_text(broken))
    assert caught.value.message == (
        "TC string is corrupt: VendorConsents declares 100 range entries (its MaxVendorId is "
        "5), which need at least 1700 bits, but segment 0 has only 34 bits left"
    )


def test_inverted_range_is_malformed():
    bits = encode(make(max_vendor_id=5, vendor_consents=frozenset()), (True, False))
    raw = "".join(tcf._SIXBITS[c] for c in bits)
    at = 213 + 17  # MaxVendorId + IsRangeEncoding
    entry = _int(1, 12) + "1" + _int(9, 16) + _int(3, 16)
    broken = raw[:at] + entry + raw[at + 12 :]
    with pytest.raises(InputError) as caught:
        decode(_to_text(broken))
    assert caught.value.message == (
        "TC string has an invalid VendorConsents range: 9-3 (entry 1 of 1 ends below its start)"
    )


# --- canonical purposes -------------------------------------------------------------------


def test_tcf_purposes_real_strings(realdata):
    # a: purposes 2,4,5,7,8,9,10 -> 1, 3 and 6 missing: without purpose 1 (storing or
    # reading the device's cookies and identifiers) no purpose is granted, analytics neither.
    assert tcf_purposes(_load(realdata, "a")["consent"]) == {
        "functional": False, "ads": False, "personalization": False, "analytics": False,
    }  # fmt: skip
    # b: purposes 1-10, policy 2, so purpose 11 is not required.
    assert tcf_purposes(_load(realdata, "b")["consent"]) == {
        "functional": True, "ads": True, "personalization": True, "analytics": True,
    }  # fmt: skip
    # c: purposes 1, 2, 5-10 -> ads lacks 3 and 4.
    assert tcf_purposes(_load(realdata, "c")["consent"]) == {
        "functional": True, "ads": False, "personalization": True, "analytics": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "consented", "personalization"),
    [(2, {1, 5, 6}, True), (4, {1, 5, 6}, False), (4, {1, 5, 6, 11}, True), (5, {1, 5, 11}, False)],
)
def test_purpose_11_counts_from_policy_4(policy, consented, personalization):
    tc = encode(make(tcf_policy_version=policy, purposes_consent=frozenset(consented)))
    assert tcf_purposes(tc)["personalization"] is personalization


@pytest.mark.parametrize(
    ("consented", "treatment", "analytics"),
    [({8, 9, 10}, False, False), ({1, 8, 9, 10}, False, True), ({8, 9, 10}, True, True)],
)
def test_analytics_needs_purpose_1_unless_it_was_never_asked(consented, treatment, analytics):
    """Trial 22: a string consenting to 8, 9 and 10 without purpose 1 granted analytics,
    though cookie-based analytics stores and reads the device's cookies, which TCF purpose 1
    covers; with purpose-one treatment purpose 1 was never asked, and is not needed."""
    tc = encode(make(purposes_consent=frozenset(consented), purpose_one_treatment=treatment))
    assert tcf_purposes(tc)["analytics"] is analytics


def test_purpose_one_treatment_makes_functional_unknown():
    tc = encode(make(purpose_one_treatment=True, purposes_consent=frozenset()))
    assert tcf_purposes(tc) == {
        "functional": None, "ads": False, "personalization": False, "analytics": False,
    }  # fmt: skip


def test_legitimate_interest_is_not_consent():
    tc = encode(
        make(purposes_consent=frozenset(), purposes_legitimate_interests=frozenset({8, 9, 10}))
    )
    assert tcf_purposes(tc)["analytics"] is False


def test_decode_many_one_row_per_distinct_value(realdata):
    a, b = _load(realdata, "a")["consent"], _load(realdata, "b")["consent"]
    table = tcf.decode_many([b, None, b, "garbage!", a, "garbage!"])
    assert table.column_names == [
        "tc_string", "error", "unread", "last_updated", "tcf_policy_version",
        *(f"consent_{p}" for p in PURPOSES),
    ]  # fmt: skip
    rows = table.to_pylist()
    assert [r["tc_string"] for r in rows] == [b, "garbage!", a]
    assert rows[0]["error"] is None and rows[0]["consent_ads"] is True
    assert rows[0]["consent_ad_user_data"] is None and rows[0]["consent_necessary"] is None
    assert rows[0]["last_updated"] == datetime(2020, 4, 3, 11, 44, 42, 600000, tzinfo=UTC)
    assert "not base64url" in rows[1]["error"] and rows[1]["consent_ads"] is None
    assert rows[2]["consent_analytics"] is False and rows[2]["consent_functional"] is False


def test_decode_many_empty_input():
    table = tcf.decode_many([None])
    assert table.num_rows == 0 and table.schema == tcf.table_schema()


# --- properties ---------------------------------------------------------------------------

ids = st.frozensets
deciseconds = st.integers(0, 2**36 - 1).map(lambda d: tcf._EPOCH + timedelta(milliseconds=100 * d))
letters2 = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)
restriction = st.builds(
    PublisherRestriction, st.integers(1, 24), st.integers(0, 3), ids(st.integers(1, 400))
)


@st.composite
def tc_strings(draw) -> TCString:
    max_vendor = draw(st.integers(0, 600))
    max_li = draw(st.integers(0, 600))
    vendors = ids(st.integers(1, max_vendor)) if max_vendor else st.just(frozenset())
    li = ids(st.integers(1, max_li)) if max_li else st.just(frozenset())
    return TCString(
        version=2, created=draw(deciseconds), last_updated=draw(deciseconds),
        cmp_id=draw(st.integers(0, 4095)), cmp_version=draw(st.integers(0, 4095)),
        consent_screen=draw(st.integers(0, 63)), consent_language=draw(letters2),
        vendor_list_version=draw(st.integers(0, 4095)), tcf_policy_version=draw(st.integers(0, 63)),
        is_service_specific=draw(st.booleans()), use_non_standard_texts=draw(st.booleans()),
        special_feature_opt_ins=draw(ids(st.integers(1, 12))),
        purposes_consent=draw(ids(st.integers(1, 24))),
        purposes_legitimate_interests=draw(ids(st.integers(1, 24))),
        purpose_one_treatment=draw(st.booleans()), publisher_cc=draw(letters2),
        max_vendor_id=max_vendor, vendor_consents=draw(vendors),
        max_vendor_li_id=max_li, vendor_legitimate_interests=draw(li),
        publisher_restrictions=tuple(draw(st.lists(restriction, max_size=3))),
        segment_types=tuple(draw(st.lists(st.integers(1, 3), max_size=2))),
    )  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(tc_strings(), st.booleans(), st.booleans())
def test_decode_inverts_encode(tc, ranges_vc, ranges_li):
    assert decode(encode(tc, (ranges_vc, ranges_li))) == tc


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(ALPHABET + ".", max_size=120).map("C".__add__)))
def test_garbage_raises_only_input_error(value):
    try:
        decode(value)
    except InputError as exc:
        assert exc.message
    table = tcf.decode_many([value])
    assert table.num_rows == 1


@settings(max_examples=100, deadline=None)
@given(tc_strings())
def test_truncating_a_string_never_raises_anything_else(tc):
    text = encode(tc)
    for cut in range(0, len(text), 7):
        try:
            decode(text[:cut])
        except InputError:
            pass


# A range entry of every vendor id, 1 to 65,535.
_EVERY_ID = "1" + _int(1, 16) + _int(65_535, 16)


def _fixed_fields() -> str:
    """The bits of a plain string's fields before its vendor sections."""
    head = encode(make(vendor_consents=frozenset(), max_vendor_id=0)).split(".")[0]
    bits = "".join(format(ALPHABET.index(ch), "06b") for ch in head)
    return bits[: 6 + 36 + 36 + 12 + 12 + 6 + 12 + 12 + 6 + 1 + 1 + 12 + 24 + 24 + 1 + 12]


def _many_ranges(entries: int) -> str:
    """A TC string whose vendor consents are ``entries`` range entries, each of ids 1-65,535
    (valid, and every one the same range), then empty sections (hostile round 23's (1))."""
    body = _int(65_535, 16) + "1" + _int(entries, 12) + _EVERY_ID * entries
    return _to_text(_fixed_fields() + body + _int(0, 16) + "0" + _int(0, 12))


def test_overlapping_vendor_ranges_are_read_once():
    """4,095 entries of ids 1-65,535 took 10 s to read (each entry's ids added one by one,
    268M insertions): the ranges are merged before their ids are listed."""
    decoded = decode(_many_ranges(4_095))
    assert len(decoded.vendor_consents) == 65_535
    assert decoded.purposes_consent == frozenset(range(1, 12))


def test_vendor_ranges_naming_too_many_ids_leave_the_rest_unread():
    """Restrictions repeating ids 1-65,535 name more ids than both vendor sections and one
    restriction can: the string is read up to them (its purposes) and says why not further."""
    section = _int(65_535, 16) + "1" + _int(1, 12) + _EVERY_ID
    restriction = _int(2, 6) + _int(1, 2) + _int(1, 12) + _EVERY_ID
    text = _to_text(_fixed_fields() + section * 2 + _int(3, 12) + restriction * 3)
    with pytest.raises(InputError, match="vendor ranges name 262,140 vendor ids"):
        decode(text)
    partly = decode(text, partial=True)
    assert partly.purposes_consent == frozenset(range(1, 12)) and partly.unread
