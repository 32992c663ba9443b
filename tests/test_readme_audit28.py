"""Found by README audit 28: what the README says of the config held for every key it names."""

from __future__ import annotations

import pytest

from privdiag.config import Thresholds, load_config
from privdiag.errors import ConfigError
from tests.conftest import REPO


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("degradation = nan", "degradation = nan is out of range"),
        ("degradation = inf", "degradation = inf is out of range"),
        ("degradation = -0.5", "degradation = -0.5 is out of range"),
        ("calibration = nan", "calibration = nan is out of range"),
        ("calibration = 1.5", "calibration = 1.5 is out of range"),
        ("calibration = -1", "calibration = -1.0 is out of range"),
    ],
)
def test_a_model_threshold_out_of_its_range_is_a_config_error(tmp_path, line, said):
    """The README says NaN or infinity in any threshold is a config error, but
    ``degradation = nan`` ran model-check to exit 0 with no model.degradation finding at all
    (no drop is above NaN), and ``degradation = -0.5`` made every scenario a degradation."""
    config = tmp_path / "privdiag.toml"
    config.write_text(f"[thresholds]\n{line}\n")

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    assert said in str(raised.value)


def test_the_model_thresholds_in_their_range_are_read(tmp_path):
    config = tmp_path / "privdiag.toml"
    config.write_text("[thresholds]\ndegradation = 0\ncalibration = 1\n")

    th = load_config(config).thresholds

    assert (th.degradation, th.calibration) == (0.0, 1.0)


def test_readme_config_names_every_threshold_with_its_default():
    """The README's config example named five of the seven [thresholds] keys: degradation and
    calibration, which grade model-check's findings, were told nowhere."""
    readme = (REPO / "README.md").read_text()
    for key, default in vars(Thresholds()).items():
        shown = f'"{default}"' if isinstance(default, str) else default
        assert f"\n{key} = {shown} " in readme, key


def test_readme_names_every_kind_of_finding():
    """The README named scan's kinds but none of model-check's but model.missing_unsupported:
    a reader of model.json met model.degradation, drift.prediction, ... told nowhere."""
    from privdiag.findings import KINDS

    readme = (REPO / "README.md").read_text()
    assert [kind for kind in KINDS if f"`{kind}`" not in readme] == []


def test_model_check_help_gives_the_label_default():
    """`--label` read "Label column." while the README gives the default, the config's
    [models.NAME] label, else a column named label."""
    from typer.testing import CliRunner

    from privdiag.cli import app

    text = " ".join(
        CliRunner().invoke(app, ["model-check", "--help"], terminal_width=200).output.split()
    )
    assert "Label column (default: the config's [models.NAME] label, else a column 'label')" in (
        text
    )


def test_readme_says_how_many_github_annotations_are_printed():
    """The README said every command prints "an annotation per finding" under GitHub Actions;
    the merged demo report of 66 findings printed 50, and an `info` finding below --fail-on
    gets none (a scan of 40 findings, 3 of them info, printed 37)."""
    from privdiag.report.github import MAX_ANNOTATIONS, annotation

    readme = " ".join((REPO / "README.md").read_text().split())
    assert f"an annotation per finding, the first {MAX_ANNOTATIONS} in rank order" in readme
    assert "none for an `info` one below it" in readme
    info = {"kind": "people.unowned", "id": "x", "severity": "info", "location": {}}
    assert annotation(info, "high") is None


def test_readme_gives_both_limits_of_a_user_id_linking_browsers():
    """The README gave one limit (1,000 browsers) of a user id whose records reach each browser
    it was seen with; the code has a second, records times browsers over 100,000."""
    from privdiag.consent_keys import MAX_LINKED_BROWSERS, MAX_LINKED_RECORDS

    readme = " ".join((REPO / "README.md").read_text().split())
    assert (
        f"unless it was seen with more than {MAX_LINKED_BROWSERS:,}, or its records times its "
        f"browsers pass {MAX_LINKED_RECORDS:,}"
    ) in readme
