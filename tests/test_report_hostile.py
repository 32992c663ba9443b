"""``privdiag report`` on edited or foreign result JSON: a clear error (exit 3), never a crash."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from privdiag.cli import app

GOOD = Path(__file__).parent / "corpus" / "files" / "csv" / "good.csv"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("base") / "base.json"
    CliRunner().invoke(app, ["scan", str(GOOD), "--json", str(out), "--quiet"])
    return json.loads(out.read_text())


def report(doc: object, tmp: Path) -> tuple[int, str]:
    path = tmp / "r.json"
    path.write_text(json.dumps(doc))
    outs = [("--html", "r.html"), ("--markdown", "r.md"), ("--junit", "r.xml")]
    flags = [str(x) for flag, name in outs for x in (flag, tmp / name)]
    result = CliRunner().invoke(app, ["report", str(path), *flags, "--quiet"])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("findings", 0, "metrics"), "lots", "findings.metrics of the wrong type"),
        (("findings", 0, "location"), [1, 2], "findings.location of the wrong type"),
        (("findings",), {"a": 1}, "findings of the wrong type"),
        (("evidence",), [1], "evidence of the wrong type"),
        (("findings", 0, "metrics", "events"), 10**400, "metric out of range"),
        (("checks",), [{"name": 1, "status": ["x"]}], "checks.name of the wrong type"),
    ],
)
def test_wrong_shapes_are_named(base, tmp_path, path, value, message):
    doc = copy.deepcopy(base)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    code, text = report(doc, tmp_path)
    assert code == 3 and message in text, text


json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)
)
json_any = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            out += _paths(v, (*prefix, i))
    return out


@settings(
    max_examples=int(os.environ.get("PRIVDIAG_REPORT_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_any_edit_of_a_result_is_rendered_or_refused(base, tmp_path_factory, data):
    doc = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = data.draw(json_any)
    code, text = report(doc, tmp_path_factory.mktemp("r"))
    assert code in (0, 1, 3), text
    assert "Traceback" not in text and "Internal error" not in text, text


AUDIT = {"run_id": "a1", "previous_run": None, "baseline": None, "compared_with": None}


@pytest.mark.parametrize(
    ("audit", "resolved", "message"),
    [
        ({**AUDIT, "counts": {"new": 3, "hidden": "x"}}, [], "audit.counts of the wrong type"),
        ({**AUDIT, "counts": "x"}, [], "audit.counts of the wrong type"),
        ({**AUDIT, "run_id": ["a1"], "counts": {}}, [], "audit.run_id of the wrong type"),
        ("a1", [], "audit of the wrong type"),
        ({**AUDIT, "counts": {}}, [{"id": [1], "severity": "high"}], "resolved.id of the wrong"),
        ({**AUDIT, "counts": {}}, "gone", "resolved of the wrong type"),
    ],
)
def test_an_edited_audit_block_is_named_not_an_internal_error(
    base, tmp_path, audit, resolved, message
):
    """Review 19: an audit result whose counts read {"hidden": "x"} or "x" (a first run's
    summary line now reads counts.hidden) was an internal error (ValueError, AttributeError);
    so was a resolved id that is a list, reported with a second audit run (TypeError)."""
    doc = copy.deepcopy(base) | {"audit": audit, "resolved": resolved}
    code, text = report(doc, tmp_path)
    assert code == 3 and message in text, text
    second = copy.deepcopy(base) | {"audit": {**AUDIT, "run_id": "a2", "counts": {}}}
    (tmp_path / "two.json").write_text(json.dumps(second))
    args = ["report", str(tmp_path / "r.json"), str(tmp_path / "two.json"), "--quiet"]
    result = CliRunner().invoke(app, [*args, "--markdown", str(tmp_path / "two.md")])
    assert result.exit_code == 3 and message in result.output, result.output
