"""What trial 20, using privdiag as its users would, found and had mended.

A consent export of OneTrust's Universal Consent keeps a purpose's status as ACTIVE,
WITHDRAWN, EXPIRED, NO_CONSENT or PENDING. privdiag refused the whole file on the first
ACTIVE ("is neither granted nor denied", hint "use granted/denied, true/false, yes/no or
1/0", though it read a dozen other words too), and refused a PENDING row, which says no
decision, where it leaves an empty status out with a note.
"""

from __future__ import annotations

import pytest

from privdiag.errors import InputError
from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write

# By hand, ads only, gclid needing ads (the default mapping of click ids):
# u1 ACTIVE at 09:00, WITHDRAWN at 11:00; gclid at 10:00 (granted) and 12:00 -> 1 event
#    after the withdrawal
# u2 NO_CONSENT at 09:00; gclid at 10:00 -> 1 violation event
# u3 EXPIRED at 09:00; gclid at 10:00 -> 1 violation event (an expired consent is none)
# u4 PENDING at 09:00: no decision, its row left out; gclid at 10:00 -> u4 has no record
EVENTS = """
event_id,ts,event_name,user_id,gclid
e1,2026-10-01T10:00:00Z,page_view,u1,G1
e2,2026-10-01T12:00:00Z,page_view,u1,G2
e3,2026-10-01T10:00:00Z,page_view,u2,G3
e4,2026-10-01T10:00:00Z,page_view,u3,G4
e5,2026-10-01T10:00:00Z,page_view,u4,G5
"""

CONSENT = """
user_id,purpose,status,ts
u1,ads,ACTIVE,2026-10-01T09:00:00Z
u1,ads,WITHDRAWN,2026-10-01T11:00:00Z
u2,ads,NO_CONSENT,2026-10-01T09:00:00Z
u3,ads,Expired,2026-10-01T09:00:00Z
u4,ads,PENDING,2026-10-01T09:00:00Z
"""


def test_onetrusts_purpose_statuses_are_read(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    consent = write(tmp_path / "onetrust.csv", CONSENT)
    doc = run_scan([events], consent=[consent], config=config()).to_dict()
    (withdrawal,) = by_kind(doc, "consent.after_withdrawal")
    assert withdrawal["metrics"]["events"] == 1
    (violation,) = by_kind(doc, "consent.violation")
    assert (violation["metrics"]["events"], violation["metrics"]["users"]) == (2, 2)
    assert [i["records"] for i in doc["inputs"] if i["role"] == "consent"] == [4]
    notes = doc["evidence"]["notes"]
    assert (
        "onetrust.csv: 1 consent row(s) with an empty purpose (0) or no decision in their "
        "status (1: empty, or a word such as 'pending' or 'unset') left out" in " ".join(notes)
    )
    (missing,) = by_kind(doc, "consent.missing_record")
    assert missing["metrics"]["users"] == 1


def test_a_status_read_as_no_word_names_the_words_it_may_be(tmp_path):
    events = write(tmp_path / "web.csv", EVENTS)
    consent = write(tmp_path / "cmp.csv", "user_id,purpose,status,ts\nu1,ads,maybe,2026-10-01\n")
    with pytest.raises(InputError) as err:
        run_scan([events], consent=[consent], config=config())
    assert "is neither granted nor denied" in str(err.value)
    hint = err.value.hint or ""
    assert "as granted: yes, true, 1, 1.0, granted" in hint and "active" in hint
    assert "as denied: no, false, 0, 0.0, denied" in hint and "withdrawn" in hint
    assert "maybe" not in hint


def test_a_run_of_no_finding_still_says_what_it_skipped(tmp_path):
    """A data scientist's blind set names its label "y" and --label is forgotten: quality
    and importance are skipped, nothing else can fire, and the terminal printed only
    "0 findings  (none)", exit 0, as if the model had passed; the notes and skipped checks
    were printed only beside findings (trial 20)."""
    import shutil
    from pathlib import Path

    from typer.testing import CliRunner

    from privdiag.cli import app
    from privdiag.model.synthetic import make_blind_set

    model = tmp_path / "p.onnx"
    shutil.copy(Path(__file__).parent.parent / "fixtures/models/propensity_imputed.onnx", model)
    make_blind_set(200, seed=5).rename({"label": "y"}).write_csv(tmp_path / "blind.csv")
    args = ["model-check", str(model), "--blind-set", str(tmp_path / "blind.csv")]
    result = CliRunner().invoke(app, [*args, "--config", str(write(tmp_path / "p.toml", ""))])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "0 findings (none)" in out
    assert "skipped quality: no label column: the blind set has none named 'label'" in out
    assert "pass --label COLUMN to measure quality" in out
    assert "skipped importance: no label column" in out


def test_a_line_cut_before_its_last_clause_ends_at_a_phrase():
    """The terminal cut a funnel note of 336 characters to 300 inside a phrase: "...
    (denied 71%, granted 85%), and 100% of … whose they are cannot be told (...)". Its start
    now ends where the phrase before "and 100% of the denied page_view events" ends."""
    from privdiag.report.text import shorten

    note = (
        "funnel.consent_drop not reported (web, view_item, analytics): no denied user at "
        "page_view has an identity to compare, only the identity-restored estimate shows one "
        "(denied 71%, granted 85%), and 100% of the denied page_view events have no identity: "
        "whose they are cannot be told (Consent Mode sends the pings before a banner answer "
        "as denied)."
    )
    assert shorten(note, 300) == (
        "funnel.consent_drop not reported (web, view_item, analytics): no denied user at "
        "page_view has an identity to compare, only the identity-restored estimate shows one "
        "(denied 71%, granted 85%) … whose they are cannot be told (Consent Mode sends the "
        "pings before a banner answer as denied)."
    )


def test_two_causes_side_by_side_do_not_read_as_one_causing_the_other():
    """A model's degradation under all_denied is caused by two fragile features; its
    "Caused by" read "masking ad_clicks_7d ... ← masking sessions_30d ...", as if the second
    caused the first. Causes of one level are now joined by "; ", and " ← " leads to the
    causes of those: here D causes B, so "A; B ← D" (trial 20)."""
    import re

    from privdiag.chains import link
    from privdiag.findings import Finding
    from privdiag.report.html import render_html
    from privdiag.report.merge import merge
    from privdiag.result import Result

    result = Result(command="scan")
    names = {"A": "cause A", "B": "cause B", "C": "effect C", "D": "cause D"}
    found = {
        k: Finding("model.fragile_feature", "medium", t, {"feature": k}) for k, t in names.items()
    }
    found["C"] = Finding("model.degradation", "high", "effect C", {"scenario": "c"})
    found["C"].caused_by = [found["A"].id, found["B"].id]
    found["B"].caused_by = [found["D"].id]
    result.findings = list(found.values())
    link(result.findings)
    html = render_html(merge([result.to_dict()]))
    [chain] = [
        " ".join(re.sub(r"<[^>]+>", " ", m).split())
        for m in re.findall(r"<strong>Caused by:</strong>(.*?)</p>", html, re.S)
        if "cause A" in m
    ]
    assert chain == "cause A ; cause B ← cause D"


def test_an_unknown_run_names_the_history_to_list_in_its_hint(tmp_path):
    """--show of an unknown run hinted "privdiag audit --history FILE --list" though the
    history's path is known; the hint is now a line to paste, the path quoted for a shell."""
    from privdiag.audit.history import open_history
    from privdiag.errors import UsageError

    path = tmp_path / "my audits" / "h.duckdb"
    path.parent.mkdir()
    with open_history(path) as history, pytest.raises(UsageError) as err:
        history.find_run("zzz")
    assert err.value.hint == f"list the runs with: privdiag audit --history '{path}' --list"


def test_the_github_workflow_saves_the_history_when_the_audit_fails():
    """docs/AUDIT.md's workflow kept the history with `actions/cache`, whose post step saves
    only when the job succeeds: an audit exiting 1 (its first run, with every finding new,
    or any regression) lost its run, so with `--fail-when regressed` every later run was a
    first run again and failed. The history is now saved by `actions/cache/save` with
    `if: always()`, after the audit, under a key no re-run has used (trial 20)."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "AUDIT.md").read_text()
    [yaml] = [b for b in doc.split("```yaml\n")[1:] if "jobs:" in b]
    steps = yaml.split("```")[0].split("\n      - ")
    uses = [s.split("\n")[0] for s in steps]
    assert "uses: actions/cache@v4" not in uses
    restore = uses.index("uses: actions/cache/restore@v4")
    audit = next(i for i, s in enumerate(uses) if s.startswith("run:") and "privdiag audit" in s)
    save = uses.index("uses: actions/cache/save@v4")
    assert restore < audit < save
    assert "if: always()" in steps[save]
    assert "github.run_attempt" in steps[save]
