"""Problems the fourth new-user trial found: each test fails without its fix."""

from __future__ import annotations

import pytest

from privdiag.audit.collect import source_groups
from privdiag.config import Config
from privdiag.errors import UsageError
from privdiag.scan import run_scan
from tests.helpers import write


def test_consent_log_of_unmapped_categories_is_not_called_missing(tmp_path):
    """A consent log whose only category maps to no purpose left every consent check skipped
    with "no consent log given", though one was given; the reasons now point at the mapping."""
    events = write(
        tmp_path / "web.csv",
        """
        event_id,ts,event_name,user_id,anonymous_id,session_id
        1,2026-10-01T10:00:00Z,page_view,u1,a1,s1
        2,2026-10-01T10:02:00Z,purchase,u1,a1,s1
        """,
    )
    consent = write(
        tmp_path / "cmp.csv",
        """
        user_id,purpose,status,ts
        u1,Marketing Stuff,granted,2026-10-01T09:00:00Z
        """,
    )
    result = run_scan([events], consent=[consent])
    reasons = {c.name: c.reason for c in result.checks if c.status == "skipped"}
    for name in ("consent.violation", "consent.conflict", "people.optin_drop"):
        assert "no consent log given" not in reasons[name]
        assert "consent.unmapped_category" in reasons[name], name
    (missing,) = [f for f in result.findings if f.kind == "consent.missing_record"]
    assert "[purposes.aliases]" in missing.recommendation
    assert "--consent" not in missing.recommendation


def test_audit_without_any_config_says_so():
    """Run where no privdiag.toml is, `privdiag audit` said "the config  names no event
    data" (a blank where the file's name goes)."""
    with pytest.raises(UsageError) as caught:
        source_groups(Config())
    assert caught.value.message.startswith("no config: --config was not given")
    assert "privdiag init" in caught.value.hint
