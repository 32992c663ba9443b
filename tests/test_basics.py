from pathlib import Path

import pytest

from privdiag.config import load_config
from privdiag.errors import ConfigError
from privdiag.findings import Finding, at_or_above, finding_id, rank, summarize
from privdiag.purposes import canonical


def test_finding_id_is_stable_and_ignores_metrics():
    a = Finding(
        "consent.violation", "high", "t", {"source": "s", "feature": "gclid"}, {"events": 3}
    )
    b = Finding("consent.violation", "low", "u", {"feature": "gclid", "source": "s"}, {"events": 9})
    assert a.id == b.id == finding_id("consent.violation", {"source": "s", "feature": "gclid"})


def test_severity_order():
    assert at_or_above("critical", "high")
    assert at_or_above("high", "high")
    assert not at_or_above("medium", "high")


def test_rank_puts_causes_first_within_a_severity():
    cause = Finding("identity.loss", "high", "cause", {"step": "add_to_cart"})
    symptom = Finding(
        "funnel.consent_drop",
        "high",
        "s",
        {"step": "add_to_cart"},
        {"events": 1000},
        caused_by=[cause.id],
    )
    assert [f.title for f in rank([symptom, cause])] == ["cause", "s"]
    assert summarize([symptom, cause])["by_severity"] == {"high": 2}


def test_aliases_fold_case_and_separators():
    assert canonical("Marketing") == "ads"
    assert canonical("analytics_storage") == "analytics"
    assert canonical("C0004") == "ads"
    assert canonical("Marketing Cookies", {"marketing cookies": "ads"}) == "ads"
    assert canonical("DataSharing") is None


@pytest.mark.parametrize(
    "line, words",
    [
        ("min_group_size = 5.5", "min_group_size must be a whole number"),
        ('alpha = "0.01"', "alpha must be a number"),
        ("fail_on = 3", "fail_on must be a string"),
    ],
)
def test_a_threshold_of_the_wrong_type_is_named_in_words(tmp_path, line, words):
    path = tmp_path / "privdiag.toml"
    path.write_text(f"[thresholds]\n{line}\n")
    with pytest.raises(ConfigError, match=words):
        load_config(path)


@pytest.mark.parametrize("kind", ["folder", "link to a folder", "default name"])
def test_a_config_that_is_a_folder_is_a_config_error(tmp_path, monkeypatch, kind):
    # was an internal error (exit 5): IsADirectoryError from reading it
    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder
    if kind == "link to a folder":
        path = tmp_path / "privdiag-link.toml"
        path.symlink_to(folder)
    elif kind == "default name":
        monkeypatch.chdir(tmp_path)
        Path("privdiag.toml").mkdir()
        path = None
    with pytest.raises(ConfigError, match="is a folder, not a config file"):
        load_config(path)


def test_a_config_that_never_ends_is_refused_after_16_mb(tmp_path, monkeypatch):
    # /dev/zero as --config was read until the machine ran out of memory
    import privdiag.config as config

    monkeypatch.setattr(config, "MAX_CONFIG_BYTES", 1000)
    path = tmp_path / "big.toml"
    path.write_text("# x\n" * 300)  # 1,200 bytes
    with pytest.raises(ConfigError, match="is larger than"):
        load_config(path)
    path.write_text("# x\n" * 200)  # 800 bytes: read
    assert load_config(path).path == path


def test_a_config_folder_is_exit_2_not_an_internal_error(tmp_path):
    from typer.testing import CliRunner

    from privdiag.cli import app

    (tmp_path / "conf").mkdir()
    result = CliRunner().invoke(app, ["report", "x.json", "--config", str(tmp_path / "conf")])
    assert result.exit_code == 2, result.output
    assert "is a folder, not a config file" in result.output


@pytest.mark.parametrize(
    "table",
    [
        '[sources.web]\ncolumns = { ts = "ts", event_name = "ts" }',
        '[sources.web]\ncolumns = { user_id = "Customer", anonymous_id = "customer" }',
        '[consent]\ncolumns = { purpose = "kind", status = "kind" }',
    ],
)
def test_two_roles_naming_one_column_is_a_config_error(tmp_path, table):
    # ts and event_name both "ts" read each event's time as its name: no step, no finding
    path = tmp_path / "privdiag.toml"
    path.write_text(table + "\n")
    with pytest.raises(ConfigError, match="both name the column"):
        load_config(path)


def test_a_config_with_a_utf8_byte_order_mark_is_read(tmp_path):
    # Windows editors save UTF-8 with a byte order mark; tomllib takes it for a character
    # and the config was "invalid TOML at line 1, column 1".
    path = tmp_path / "privdiag.toml"
    path.write_bytes(b"\xef\xbb\xbf[thresholds]\nmin_group_size = 7\n")
    assert load_config(path).thresholds.min_group_size == 7
