"""Trial 12: a data scientist's model-check and a platform engineer's audit in CI.

Model: the committed fixture ONNX model on the synthetic blind set (features sessions_30d
analytics, ad_clicks_7d ads, reco_clicks personalization, tenure_days none, noise
functional). Audit: a flat CSV shop whose consent.violation findings change between runs.
"""

from __future__ import annotations

from pathlib import Path

from privdiag.config import parse_config
from privdiag.model import run_model_check
from privdiag.model.blindset import deny_scenarios, observed_scenario
from privdiag.model.synthetic import FEATURE_PURPOSES, make_blind_set

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "models"
RATES = {"analytics": 0.6, "ads": 0.4, "personalization": 0.5, "functional": 0.7}


def _check(tmp_path: Path, purposes: dict[str, list[str]], rates: dict[str, float]):
    """model-check of the fixture model on 600 synthetic rows, features mapped by purposes."""
    blind = tmp_path / "blind.csv"
    make_blind_set(600, seed=12).write_csv(blind)
    config = parse_config(
        {"features": {f: {"purposes": p} for f, p in purposes.items()}}, Path("privdiag.toml")
    )
    return run_model_check(
        MODELS / "propensity_imputed.onnx", blind, config=config, consent_rates=rates
    )


def test_observed_scenario_notes_the_purposes_it_has_no_rate_for(tmp_path):
    # --consent-rates analytics=0.6 only: ads, functional and personalization have no rate,
    # so ad_clicks_7d, noise and reco_clicks are never masked in the observed scenario. That
    # was silent; the run now says so in a note (terminal, HTML, JSON evidence.notes).
    result = _check(tmp_path, FEATURE_PURPOSES, {"analytics": 0.6})
    shares = result.evidence["scenarios"]["masked_share"]["observed"]
    assert set(shares) == {"sessions_30d"}
    notes = [n for n in result.evidence.get("notes", []) if n.startswith("observed scenario")]
    assert len(notes) == 1
    assert "no consent rate for ads, functional, personalization" in notes[0]
    assert "ad_clicks_7d, reco_clicks, noise" in notes[0]
    assert "--consent-rates" in notes[0]


def test_every_rate_given_gives_no_note(tmp_path):
    result = _check(tmp_path, FEATURE_PURPOSES, RATES)
    assert not [n for n in result.evidence.get("notes", []) if "consent rate" in n]


def test_a_strictly_necessary_feature_is_never_masked_by_a_scenario(tmp_path):
    # tenure_days needs only "necessary" (no consent): before, the run built a deny_necessary
    # scenario and all_denied masked tenure_days, a loss no person's choice can cause.
    purposes = {**FEATURE_PURPOSES, "tenure_days": ["necessary"]}
    result = _check(tmp_path, purposes, RATES)
    shares = result.evidence["scenarios"]["masked_share"]
    assert "deny_necessary" not in shares
    assert "tenure_days" not in shares["all_denied"]
    assert "tenure_days" not in shares["observed"]
    assert not [n for n in result.evidence.get("notes", []) if "necessary" in n]
    # a feature needing necessary and ads is still masked when ads is denied
    mixed = {"a": ["necessary", "ads"], "b": ["necessary"]}
    by_name = {s.name: s for s in deny_scenarios(4, mixed)}
    assert set(by_name) == {"deny_ads", "all_denied"}
    assert by_name["all_denied"].masks["a"].all()
    assert not by_name["all_denied"].masks["b"].any()
    observed = observed_scenario(1000, mixed, {"ads": 0.0}, seed=1)
    assert observed.masks["a"].all() and not observed.masks["b"].any()
