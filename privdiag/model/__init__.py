"""Model checks: how a saved model degrades, drifts and mis-calibrates without consent.

Modules: ``inputs`` (the model, blind set, label and consent rates of one check, read and
checked), ``loading`` (the scorers' base and ONNX; ``sklearn_scorer`` for skops and the pickle
worker, ``pickled`` for pickles in a subprocess, ``predictions`` for predictions files),
``blindset`` (consent scenarios and masking), ``consent_mix`` (``--consent-rates`` and the
observed scenario's draw), ``metrics`` (quality, calibration, bootstrap intervals),
``importance`` (masking importance), ``drift`` (reference vs consent-filtered data) and
``api`` (``run_model_check``, the entry point the CLI calls).
"""

from privdiag.model.api import run_model_check
from privdiag.model.consent_mix import parse_consent_rates

__all__ = ["parse_consent_rates", "run_model_check"]
