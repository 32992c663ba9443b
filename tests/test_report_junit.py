"""JUnit XML: exact text for a small document, structure for the full sample."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from browser.samples import sample_doc
from browser.small import small_doc

from privdiag.report import write_junit
from privdiag.report.junit import owning_check, render_junit
from privdiag.report.merge import merge

EXPECTED = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="privdiag scan" tests="3" failures="1" errors="0" skipped="1">
    <testcase classname="privdiag.check" name="consent">
      <failure message="1 finding(s) at or above high" type="high">[high] consent.violation \
at source=web, feature=gclid: gclid sent | without ads consent (id b2)</failure>
    </testcase>
    <testcase classname="privdiag.check" name="model">
      <skipped message="no model given" />
    </testcase>
    <testcase classname="privdiag.people" name="people.unowned" />
  </testsuite>
</testsuites>
"""


def test_small_document_gives_the_exact_xml(tmp_path):
    out = tmp_path / "junit.xml"
    write_junit([small_doc()], out, fail_on="high")
    assert out.read_text() == EXPECTED


def test_lower_bar_fails_more_cases():
    root = ET.fromstring(render_junit(merge([small_doc()]), fail_on="medium"))
    suite = root.find("testsuite")
    assert suite.get("failures") == "2"
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["consent", "people.unowned"]


def test_sample_has_one_case_per_check_plus_uncovered_kinds():
    suite = ET.fromstring(render_junit(merge([sample_doc()]), fail_on="high")).find("testsuite")
    names = [c.get("name") for c in suite.iter("testcase")]
    assert names == [
        "consent.violation",
        "consent.after_withdrawal",
        "sparsity",
        "identity.loss",
        "model",
        "model.calibration",
        "people.unowned",
        "people.optin_drop",
        "consent.pre_consent",
        "drift.feature",
        "people.trust_gap",
    ]
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("11", "5", "2")
    skipped = suite.find("testcase[@name='model.calibration']/skipped")
    assert skipped.get("message") == "no label column in the blind set"
    critical = suite.find("testcase[@name='consent.violation']/failure")
    assert critical.get("type") == "critical" and "<script>" in critical.text  # escaped in XML


def test_owning_check_prefers_the_longest_dotted_prefix():
    checks = ["consent", "consent.violation", "model"]
    assert owning_check("consent.violation", checks) == "consent.violation"
    assert owning_check("consent.pre_consent", checks) == "consent"
    assert owning_check("model.calibration", checks) == "model"
    assert owning_check("modelx.y", checks) is None
    assert owning_check("drift.feature", checks) is None


def test_unknown_fail_on_is_refused():
    with pytest.raises(ValueError):
        render_junit(merge([small_doc()]), fail_on="urgent")
