"""Model checks: how a saved model degrades, drifts and mis-calibrates without consent.

Modules: ``inputs`` (the model, blind set, label and consent rates of one check, read and
checked), ``loading`` (ONNX, skops, pickle in a subprocess, predictions files), ``blindset``
(consent scenarios and masking), ``metrics`` (quality, calibration, bootstrap intervals),
``importance`` (masking importance), ``drift`` (reference vs consent-filtered data) and
``api`` (``run_model_check``, the entry point the CLI calls).
"""

from privdiag.model.api import parse_consent_rates, run_model_check

__all__ = ["parse_consent_rates", "run_model_check"]
