"""Decode Google Consent Mode hit parameters ``gcs`` and ``gcd`` into consent states.

Neither parameter is documented by Google; the encoding here is the community one (see
FORMATS.md):

- ``gcs`` = ``G1`` + ad_storage bit + analytics_storage bit (``G100`` .. ``G111``),
  1 = granted, 0 = denied.
- ``gcd`` = a version digit, then one (digit, letter) pair for each of ad_storage,
  analytics_storage, ad_user_data and ad_personalization in that order, then a trailing
  marker (e.g. ``5`` or ``5l1``) that is not interpreted. The letter's index ``i`` in
  ``0-9a-zA-Z-_`` carries the ``gtag('consent', 'default')`` state in ``(i >> 2) & 3`` and
  the ``'update'`` state in ``i & 3``: 1 not set, 2 denied, 3 granted (0 is not a state and
  makes the value malformed).

A type's effective state is its update when one was sent, else its default, else None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from privdiag.errors import InputError
from privdiag.privacy import describe_value
from privdiag.purposes import PURPOSES

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"

# Order of the (digit, letter) pairs in gcd.
GCD_TYPES: tuple[str, ...] = (
    "ad_storage",
    "analytics_storage",
    "ad_user_data",
    "ad_personalization",
)
GCS_TYPES: tuple[str, ...] = ("ad_storage", "analytics_storage")

# Consent Mode type -> canonical purpose.
CONSENT_MODE_PURPOSES: dict[str, str] = {
    "ad_storage": "ads",
    "analytics_storage": "analytics",
    "ad_user_data": "ad_user_data",
    "ad_personalization": "ad_personalization",
}

_STATE = {1: None, 2: "denied", 3: "granted"}
_GCS = re.compile(r"G1([01])([01])")
_GCD = re.compile(r"([0-9])((?:[0-9][0-9a-zA-Z_-]){4})([0-9a-zA-Z_-]*)")


@dataclass(frozen=True)
class TypeState:
    """The default, update and effective state of one Consent Mode type (None = not set)."""

    default: str | None
    update: str | None

    @property
    def effective(self) -> str | None:
        """The update when one was sent, else the default."""
        return self.update if self.update is not None else self.default


def decode_letter(letter: str) -> TypeState:
    """Return the default and update states one gcd letter carries; InputError if none."""
    index = ALPHABET.find(letter) if len(letter) == 1 else -1
    default, update = (index >> 2) & 3, index & 3
    if index < 0 or default == 0 or update == 0:
        raise InputError(
            f"gcd letter {letter!r} is not a Consent Mode state (expected one of l m n p q r t u v)"
        )
    return TypeState(_STATE[default], _STATE[update])


def decode_gcd(gcd: str) -> dict[str, TypeState]:
    """Return Consent Mode type -> TypeState for a ``gcd`` value, types in GCD_TYPES order.

    Raises InputError when the value does not have the version digit + 4 (digit, letter)
    pairs shape, or a letter carries no state.
    """
    match = _GCD.fullmatch(gcd.strip()) if isinstance(gcd, str) else None
    if match is None:
        raise InputError(
            f"gcd value ({describe_value(gcd)}) is malformed",
            hint="expected a digit, 4 (digit, letter) pairs and a marker, e.g. '11p1t1p1t5'",
        )
    letters = match.group(2)[1::2]
    return {name: decode_letter(letter) for name, letter in zip(GCD_TYPES, letters, strict=True)}


def decode_gcs(gcs: str) -> dict[str, str]:
    """Return {'ad_storage': state, 'analytics_storage': state} for a ``gcs`` value.

    Raises InputError for anything but G100, G101, G110 and G111.
    """
    match = _GCS.fullmatch(gcs.strip()) if isinstance(gcs, str) else None
    if match is None:
        raise InputError(
            f"gcs value ({describe_value(gcs)}) is malformed",
            hint="expected G1 and two 0/1 digits, e.g. 'G110'",
        )
    return {
        name: "granted" if bit == "1" else "denied"
        for name, bit in zip(GCS_TYPES, match.groups(), strict=True)
    }


def _consent_columns(effective: dict[str, str | None]) -> dict[str, bool | None]:
    granted = {CONSENT_MODE_PURPOSES[t]: s == "granted" for t, s in effective.items() if s}
    return {f"consent_{p}": granted.get(p) for p in PURPOSES}


def gcd_purposes(gcd: str) -> dict[str, bool | None]:
    """Return canonical purpose -> granted from the effective gcd states (None = not set)."""
    states = decode_gcd(gcd)
    return {CONSENT_MODE_PURPOSES[t]: _as_bool(s.effective) for t, s in states.items()}


def gcs_purposes(gcs: str) -> dict[str, bool]:
    """Return canonical purpose -> granted ('ads', 'analytics') for a gcs value."""
    return {CONSENT_MODE_PURPOSES[t]: s == "granted" for t, s in decode_gcs(gcs).items()}


def _as_bool(state: str | None) -> bool | None:
    return None if state is None else state == "granted"


def _gcd_row(value: str) -> dict:
    try:
        states = decode_gcd(value)
    except InputError as exc:
        return {"gcd": value, "error": exc.message}
    row: dict = {"gcd": value, "error": None}
    for name, state in states.items():
        row.update({f"{name}_default": state.default, f"{name}_update": state.update})
        row[f"{name}_effective"] = state.effective
    row.update(_consent_columns({t: s.effective for t, s in states.items()}))
    return row


def _gcs_row(value: str) -> dict:
    try:
        states = decode_gcs(value)
    except InputError as exc:
        return {"gcs": value, "error": exc.message}
    return {"gcs": value, "error": None, **states, **_consent_columns(dict(states))}


def gcd_schema() -> pa.Schema:
    """Return the schema of ``decode_many_gcd``'s table."""
    fields = [pa.field("gcd", pa.string()), pa.field("error", pa.string())]
    for name in GCD_TYPES:
        fields += [
            pa.field(f"{name}_{part}", pa.string()) for part in ("default", "update", "effective")
        ]
    return pa.schema(fields + [pa.field(f"consent_{p}", pa.bool_()) for p in PURPOSES])


def gcs_schema() -> pa.Schema:
    """Return the schema of ``decode_many_gcs``'s table."""
    fields = [pa.field("gcs", pa.string()), pa.field("error", pa.string())]
    fields += [pa.field(name, pa.string()) for name in GCS_TYPES]
    return pa.schema(fields + [pa.field(f"consent_{p}", pa.bool_()) for p in PURPOSES])


def _distinct(values: list[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v is not None))


def decode_many_gcd(values: list[str | None]) -> pa.Table:
    """Decode each distinct non-NULL gcd value once; return one row per distinct value.

    Columns: gcd, error (NULL, or why the value is malformed; the other columns are then
    NULL), <type>_default, <type>_update, <type>_effective ('granted' / 'denied' / NULL) for
    each type in GCD_TYPES, and consent_<purpose> BOOLEAN for every canonical purpose (NULL
    unless a type maps to it and its effective state is set). Join back on gcd.
    """
    return pa.Table.from_pylist([_gcd_row(v) for v in _distinct(values)], schema=gcd_schema())


def decode_many_gcs(values: list[str | None]) -> pa.Table:
    """Decode each distinct non-NULL gcs value once; return one row per distinct value.

    Columns: gcs, error, ad_storage, analytics_storage ('granted' / 'denied'), and
    consent_<purpose> BOOLEAN for every canonical purpose (only ads and analytics are set).
    """
    return pa.Table.from_pylist([_gcs_row(v) for v in _distinct(values)], schema=gcs_schema())
