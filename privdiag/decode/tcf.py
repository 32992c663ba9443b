"""Decode IAB TCF v2 TC strings (the ``euconsent-v2`` value) into purposes and vendors.

A TC string is one or more base64url segments joined by ``.``. The first is the core
segment, read here field by field in the order of the IAB "Consent string and vendor list
formats v2" specification. Optional segments (disclosed vendors, allowed vendors,
publisher TC) are recognised by their 3-bit type and otherwise skipped.

Canonical purposes (``tcf_purposes``): a canonical purpose is granted iff *every* TCF purpose
that maps to it (``privdiag.purposes.TCF_PURPOSES``) and that the string's policy version
covers is in ``purposes_consent``, and purpose 1 too; otherwise it is denied. Each canonical
purpose is one of storing and reading the device's cookies and identifiers for an end (as
Consent Mode's ``analytics_storage`` and ``ad_storage`` are), and the GVL's purpose 1 is that
storage and access, on which its other purposes rely: a string consenting to 8, 9 and 10
without 1 allows measurement without the device's identifiers, not the analytics features
privdiag checks. Legitimate interest is not consent and is not counted. Purpose 11 exists
from policy version 4 (TCF 2.2) on, so it is only required then. When
``purpose_one_treatment`` is set, purpose 1 was never asked (the publisher's country does not
require it): it is needed by no purpose, and ``functional`` is unknown (``None``).
Canonical purposes no TCF purpose maps to are not in the result.

A string damaged after its fixed fields (a vendor section cut off by a column width, or
corrupt, as in the consent_d test vector of the iab-tcf package) still says which purposes
were consented to: those bits sit at fixed places before any field of variable length, so
the damage cannot move them. ``decode(tc, partial=True)`` returns such a string's fixed
fields, the parts read before the damage, and what could not be read (``unread``); the
consent records of a scan come from there, with a note.
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from privdiag.errors import InputError
from privdiag.purposes import PURPOSES, TCF_PURPOSES

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SIXBITS = {ch: format(i, "06b") for i, ch in enumerate(ALPHABET)}
_NOT_BASE64URL = re.compile(r"[^A-Za-z0-9_-]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Restriction types of a publisher restriction entry.
NOT_ALLOWED, REQUIRE_CONSENT, REQUIRE_LEGITIMATE_INTEREST = 0, 1, 2

# Purpose 11 was added by TCF 2.2, whose policy version is 4.
_PURPOSE_11_FROM_POLICY = 4
# Purpose 1, storing or reading information on the device (cookies, device identifiers).
_STORAGE = 1


@dataclass(frozen=True)
class PublisherRestriction:
    """One publisher restriction: for ``purpose``, ``restriction_type`` applies to ``vendors``."""

    purpose: int
    restriction_type: int
    vendors: frozenset[int]


@dataclass(frozen=True)
class TCString:
    """The decoded core segment of a TC string; id sets hold the numbers whose bit is 1."""

    version: int
    created: datetime
    last_updated: datetime
    cmp_id: int
    cmp_version: int
    consent_screen: int
    consent_language: str
    vendor_list_version: int
    tcf_policy_version: int
    is_service_specific: bool
    use_non_standard_texts: bool
    special_feature_opt_ins: frozenset[int]
    purposes_consent: frozenset[int]
    purposes_legitimate_interests: frozenset[int]
    purpose_one_treatment: bool
    publisher_cc: str
    # Empty when decoded in part and not read (``unread`` says why).
    max_vendor_id: int = 0
    vendor_consents: frozenset[int] = frozenset()
    max_vendor_li_id: int = 0
    vendor_legitimate_interests: frozenset[int] = frozenset()
    publisher_restrictions: tuple[PublisherRestriction, ...] = ()
    segment_types: tuple[int, ...] = ()
    unread: str = ""  # decoded in part: why the fields after the fixed ones could not be read


class _Bits:
    """A cursor over a string of '0'/'1' characters; reading past the end is an InputError."""

    def __init__(self, bits: str, segment: int, vendors: bool = True) -> None:
        self.bits = bits
        self.pos = 0
        self.segment = segment
        self.ranged = 0  # the vendor ids the range entries read so far name (MAX_RANGED_IDS)
        self.vendors = vendors  # False: vendor lists are read and checked, not kept
        self._array: np.ndarray | None = None

    def array(self) -> np.ndarray:
        """The bits as a numpy array of 0 and 1 (made once, for long range lists)."""
        if self._array is None:
            self._array = np.frombuffer(self.bits.encode("ascii"), np.uint8) - ord("0")
        return self._array

    def take(self, n: int, name: str) -> str:
        end = self.pos + n
        if end > len(self.bits):
            raise InputError(
                f"TC string is truncated: segment {self.segment} ends before field {name} "
                f"(needs bit {end}, has {len(self.bits)})",
                hint="the value was probably cut off; check the column width or export",
            )
        chunk = self.bits[self.pos : end]
        self.pos = end
        return chunk

    def uint(self, n: int, name: str) -> int:
        return int(self.take(n, name), 2)

    def flag(self, name: str) -> bool:
        return self.take(1, name) == "1"

    def idset(self, n: int, name: str) -> frozenset[int]:
        """Read an n-bit field where bit i (0-based) set means id i + 1."""
        chunk = self.take(n, name)
        return frozenset(i + 1 for i, bit in enumerate(chunk) if bit == "1")

    def letters(self, name: str) -> str:
        codes = (self.uint(6, name), self.uint(6, name))
        if max(codes) > 25:
            raise InputError(f"TC string has an invalid {name}: letter codes {codes} (0-25 = A-Z)")
        return "".join(chr(ord("A") + c) for c in codes)

    def deciseconds(self, name: str) -> datetime:
        return _EPOCH + timedelta(milliseconds=100 * self.uint(36, name))


def _segment_bits(segment: str, index: int) -> str:
    """Return the bits of one base64url segment (unpadded), raising InputError on bad chars."""
    if not segment:
        raise InputError(f"TC string segment {index} is empty")
    bad = _NOT_BASE64URL.search(segment)
    if bad:
        raise InputError(
            f"TC string segment {index} is not base64url: bad character {bad.group()!r}",
            hint="TC strings use A-Z a-z 0-9 - _ only; URL-decode the value first",
        )
    raw = base64.urlsafe_b64decode(segment + "A" * (-len(segment) % 4))  # "A": zero bits
    return format(int.from_bytes(raw, "big"), f"0{len(raw) * 8}b")[: len(segment) * 6]


# The shortest range entry: IsARange (1) and a single StartOrOnlyVendorId (16).
_ENTRY_BITS = 17
# The vendor ids a string's range entries may name in all, after merging each list's
# overlapping ranges: every possible id in both vendor sections and in one restriction. A
# real CMP names a few thousand (the GVL's ids are below 1,500); 4,095 entries each of ids
# 1-65,535, repeated over restrictions, named hundreds of millions, 10 s to read one string.
MAX_RANGED_IDS = 3 * 65_535


def _ranges(bits: _Bits, name: str, max_id: int | None = None) -> frozenset[int]:
    """Read NumEntries(12) then that many (IsARange, Start[, End]) vendor id entries.

    A count of entries the rest of the segment cannot hold, even at 17 bits each, is refused
    before any entry is read: what follows such a count is not a vendor list.
    """
    count = bits.uint(12, f"{name} NumEntries")
    left = len(bits.bits) - bits.pos
    if count * _ENTRY_BITS > left:
        declared = f" (its MaxVendorId is {max_id})" if max_id is not None else ""
        raise InputError(
            f"TC string is corrupt: {name} declares {count} range entries{declared}, which "
            f"need at least {count * _ENTRY_BITS} bits, but segment {bits.segment} has only "
            f"{left} bits left",
            hint="the string was damaged or badly encoded; the CMP should write it again",
        )
    if count < _FEW_ENTRIES:
        merged = _merged([_entry(bits, name, entry, count) for entry in range(1, count + 1)])
        bits.ranged += sum(end - start + 1 for start, end in merged)
    else:
        starts, ends = _entries(bits, name, count)
        bits.ranged += _union_size(starts, ends)
        merged = None
    if bits.ranged > MAX_RANGED_IDS:
        raise InputError(
            f"TC string's vendor ranges name {bits.ranged:,} vendor ids by {name} (at most "
            f"{MAX_RANGED_IDS:,} in all are read): no CMP writes such lists, which only make "
            "a string slow to read",
            hint="the string was damaged or made by hand; the CMP should write it again",
        )
    if not bits.vendors:
        return frozenset()
    return _ids(
        merged if merged is not None else _merged(zip(starts.tolist(), ends.tolist(), strict=True))
    )


# An entry: IsARange 1 and two 16-bit ids, or IsARange 0 and one.
_ENTRY = re.compile("1[01]{32}|0[01]{16}")
# Lists of fewer entries are read in Python: numpy's fixed cost is more than theirs.
_FEW_ENTRIES = 32
_ID_WEIGHTS = 1 << np.arange(15, -1, -1)


def _entries(bits: _Bits, name: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Read ``count`` range entries (IsARange, Start[, End]): their starts and ends.

    The list is cut into entries by a regular expression and its ids read by numpy, not
    field by field through ``_Bits.take``: 4,095 entries in each vendor section made a string
    cost 2.6-9 ms. The errors are those of reading field by field: the first entry ending
    below its start, else the field the segment ends within (``_entry`` raises it).
    """
    scanner = _ENTRY.scanner(bits.bits, bits.pos)
    found = np.fromiter(
        map(re.Match.end, itertools.islice(iter(scanner.match, None), count)), np.int64
    )
    at = np.concatenate(([bits.pos], found[:-1])) if len(found) else found
    array = bits.array()
    starts = array[at[:, None] + np.arange(1, 17)] @ _ID_WEIGHTS
    is_range = array[at] == 1
    ends = np.where(
        is_range,
        array[np.minimum(at + 17, len(array) - 16)[:, None] + np.arange(16)] @ _ID_WEIGHTS,
        starts,
    )
    below = np.flatnonzero(ends < starts)
    if len(below):
        entry = int(below[0])
        raise _below_start(name, int(starts[entry]), int(ends[entry]), entry + 1, count)
    bits.pos = int(found[-1]) if len(found) else bits.pos
    if len(found) < count:
        _entry(bits, name, len(found) + 1, count)  # raises: the segment ends within it
    return starts, ends


def _entry(bits: _Bits, name: str, entry: int, count: int) -> tuple[int, int]:
    """Read range entry ``entry`` of ``count`` field by field."""
    is_range = bits.flag(f"{name} IsARange")
    start = bits.uint(16, f"{name} StartVendorId")
    end = bits.uint(16, f"{name} EndVendorId") if is_range else start
    if end < start:
        raise _below_start(name, start, end, entry, count)
    return start, end


def _below_start(name: str, start: int, end: int, entry: int, count: int) -> InputError:
    return InputError(
        f"TC string has an invalid {name} range: {start}-{end} (entry {entry} of {count} ends "
        "below its start)"
    )


def _union_size(starts: np.ndarray, ends: np.ndarray) -> int:
    """How many ids the ranges name, each id once (overlapping ranges counted once)."""
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    # The highest id the ranges before each one reach; an id is new past it.
    reached = np.maximum.accumulate(np.concatenate(([-1], ends[:-1])))
    return int(np.clip(ends - np.maximum(starts - 1, reached), 0, None).sum())


def _merged(entries: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Overlapping or touching ranges as one: each id once."""
    merged: list[list[int]] = []
    for start, end in sorted(entries):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _ids(merged: list[list[int]]) -> frozenset[int]:
    """The vendor ids of merged ranges: up to MAX_RANGED_IDS of them, 50 ms for a string of
    that many, which a consent log of distinct such strings paid for each."""
    return frozenset(i for start, end in merged for i in range(start, end + 1))


def _vendor_section(bits: _Bits, name: str) -> tuple[int, frozenset[int]]:
    """Read MaxVendorId, IsRangeEncoding and the bitfield or range vendor list."""
    max_id = bits.uint(16, f"{name} MaxVendorId")
    if bits.flag(f"{name} IsRangeEncoding"):
        return max_id, _ranges(bits, name, max_id)
    if not bits.vendors:
        bits.take(max_id, f"{name} BitField")
        return max_id, frozenset()
    return max_id, bits.idset(max_id, f"{name} BitField")


def _publisher_restrictions(bits: _Bits) -> tuple[PublisherRestriction, ...]:
    out = []
    for _ in range(bits.uint(12, "NumPubRestrictions")):
        purpose = bits.uint(6, "PubRestriction PurposeId")
        kind = bits.uint(2, "PubRestriction RestrictionType")
        out.append(PublisherRestriction(purpose, kind, _ranges(bits, "PubRestriction")))
    return tuple(out)


def _header(bits: _Bits) -> dict:
    """Read the fixed-width fields before the vendor sections."""
    version = bits.uint(6, "Version")
    if version != 2:
        what = "a TCF v1 consent string" if version == 1 else f"version {version}"
        raise InputError(
            f"TC string is {what}; only TCF v2 strings (starting with 'C') are supported"
        )
    return dict(
        version=version,
        created=bits.deciseconds("Created"),
        last_updated=bits.deciseconds("LastUpdated"),
        cmp_id=bits.uint(12, "CmpId"),
        cmp_version=bits.uint(12, "CmpVersion"),
        consent_screen=bits.uint(6, "ConsentScreen"),
        consent_language=bits.letters("ConsentLanguage"),
        vendor_list_version=bits.uint(12, "VendorListVersion"),
        tcf_policy_version=bits.uint(6, "TcfPolicyVersion"),
        is_service_specific=bits.flag("IsServiceSpecific"),
        use_non_standard_texts=bits.flag("UseNonStandardTexts"),
        special_feature_opt_ins=bits.idset(12, "SpecialFeatureOptIns"),
        purposes_consent=bits.idset(24, "PurposesConsent"),
        purposes_legitimate_interests=bits.idset(24, "PurposesLITransparency"),
        purpose_one_treatment=bits.flag("PurposeOneTreatment"),
        publisher_cc=bits.letters("PublisherCC"),
    )


def decode(tc: str, *, partial: bool = False, vendors: bool = True) -> TCString:
    """Decode a TCF v2 TC string; return its core fields and the types of its other segments.

    Assumes the value is already URL-decoded. Raises InputError (without file or row; the
    caller adds them) for an empty value, non-base64url characters in the core segment, a v1
    or unknown version, or a core segment shorter than its fields say. With ``partial``, a
    string whose fixed fields (up to PublisherCC, purposes included) are read but whose vendor
    sections, publisher restrictions or other segments are not is returned with what was read
    before the damage and why the rest was not in ``unread``. Without ``vendors``, the
    vendor lists are read and checked but left empty (what consent needs is the purposes).
    """
    if not isinstance(tc, str) or not tc.strip():
        raise InputError("TC string is empty")
    segments = tc.strip().split(".")
    bits = _Bits(_segment_bits(segments[0], 0), 0, vendors)
    fields = _header(bits)
    try:
        _read_rest(bits, segments, fields)
    except InputError as exc:
        if not partial:
            raise
        fields["unread"] = exc.message
    return TCString(**fields)


def _read_rest(bits: _Bits, segments: list[str], fields: dict) -> None:
    """Read the fields after the fixed ones into ``fields``, in order: a part read before an
    InputError stays there."""
    fields["max_vendor_id"], fields["vendor_consents"] = _vendor_section(bits, "VendorConsents")
    fields["max_vendor_li_id"], fields["vendor_legitimate_interests"] = _vendor_section(
        bits, "VendorLegitimateInterests"
    )
    fields["publisher_restrictions"] = _publisher_restrictions(bits)
    fields["segment_types"] = tuple(
        _Bits(_segment_bits(seg, i), i).uint(3, "SegmentType")
        for i, seg in enumerate(segments[1:], start=1)
    )


def purposes_of(decoded: TCString) -> dict[str, bool | None]:
    """Return canonical purpose -> granted for a decoded string (rule in the module docstring)."""
    needed: dict[str, set[int]] = {}
    for number, purpose in TCF_PURPOSES.items():
        if number == 11 and decoded.tcf_policy_version < _PURPOSE_11_FROM_POLICY:
            continue
        needed.setdefault(purpose, set()).add(number)
    if not decoded.purpose_one_treatment:  # the device's storage, asked: each purpose needs it
        for numbers in needed.values():
            numbers.add(_STORAGE)
    out: dict[str, bool | None] = {
        purpose: numbers <= decoded.purposes_consent for purpose, numbers in needed.items()
    }
    if decoded.purpose_one_treatment and TCF_PURPOSES.get(1) in out:
        out[TCF_PURPOSES[1]] = None
    return out


def tcf_purposes(tc: str) -> dict[str, bool | None]:
    """Decode ``tc`` and return canonical purpose -> granted (None = not asked).

    Only the canonical purposes some TCF purpose maps to are keys. Raises InputError for a
    malformed string.
    """
    return purposes_of(decode(tc))


def _row(value: str) -> dict:
    try:
        decoded = decode(value, partial=True, vendors=False)  # only its purposes are used
    except InputError as exc:
        return {"tc_string": value, "error": exc.message}
    granted = purposes_of(decoded)
    row: dict = {
        "tc_string": value,
        "error": None,
        "unread": decoded.unread or None,
        "last_updated": decoded.last_updated,
        "tcf_policy_version": decoded.tcf_policy_version,
    }
    row.update({f"consent_{p}": granted.get(p) for p in PURPOSES})
    return row


def table_schema() -> pa.Schema:
    """Return the schema of ``decode_many``'s table."""
    fields = [
        pa.field("tc_string", pa.string()),
        pa.field("error", pa.string()),
        pa.field("unread", pa.string()),
        pa.field("last_updated", pa.timestamp("us", tz="UTC")),
        pa.field("tcf_policy_version", pa.int32()),
    ]
    fields += [pa.field(f"consent_{p}", pa.bool_()) for p in PURPOSES]
    return pa.schema(fields)


def decode_many(values: list[str | None]) -> pa.Table:
    """Decode each distinct non-NULL value once; return one row per distinct value.

    Columns: tc_string, error (NULL, or why the value is malformed; the other columns are
    then NULL), unread (NULL, or why the string was decoded only in part: its purposes were
    read, what follows them not), last_updated (UTC), tcf_policy_version, and
    consent_<purpose> BOOLEAN for every canonical purpose (NULL when no TCF purpose covers
    it or it was not asked).
    Meant for the DISTINCT values of a column, joined back on tc_string.
    """
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    return pa.Table.from_pylist([_row(v) for v in distinct], schema=table_schema())
