"""Decoders for consent strings carried by events: IAB TCF v2 and Google Consent Mode."""

from privdiag.decode.consent_mode import decode_gcd, decode_gcs
from privdiag.decode.tcf import TCString, tcf_purposes
from privdiag.decode.tcf import decode as decode_tcf

__all__ = ["TCString", "decode_gcd", "decode_gcs", "decode_tcf", "tcf_purposes"]
