"""Data columns whose names start with an underscore (cookies) are features; privdiag's own
internal columns are not."""

from __future__ import annotations

import duckdb

from privdiag import ingest
from privdiag.mapping import feature_columns, feature_map
from privdiag.scan import run_scan
from tests.helpers import by_kind, config, write

# u1 denied analytics at 09:00 and carries _ga on two events after it (one of them also
# _gid): two analytics violations for _ga, one for _gid. _fbc needs ads, which u1 never
# decided: no violation for it. u2 granted analytics: none.
EVENTS = """
event_id,ts,event_name,user_id,session_id,_ga,_gid,_fbc,_input
e1,2026-10-01T10:00:00Z,page_view,u1,s1,GA1.1.111.222,GA1.1.333.444,fb.1.1.abc,7
e2,2026-10-01T10:05:00Z,page_view,u1,s1,GA1.1.111.222,,,7
e3,2026-10-01T10:00:00Z,page_view,u2,s2,GA1.1.555.666,,,7
"""

CONSENT = """
user_id,purpose,status,ts,version
u1,analytics,denied,2026-10-01T09:00:00Z,v1
u2,analytics,granted,2026-10-01T09:00:00Z,v1
"""


def _scan(tmp_path):
    events = write(tmp_path / "site.csv", EVENTS)
    consent = write(tmp_path / "cmp.csv", CONSENT)
    return run_scan([events], consent=[consent], config=config()).to_dict()


def test_ga_cookie_against_denied_analytics_is_a_violation(tmp_path):
    doc = _scan(tmp_path)
    hits = {
        f["location"]["feature"]: f["metrics"]["events"]
        for f in by_kind(doc, "consent.violation")
        if f["location"].get("purpose") == "analytics"
    }
    assert hits == {"_ga": 2, "_gid": 1}


def test_internal_columns_are_not_features_and_cookie_columns_get_their_classes(tmp_path):
    events = write(tmp_path / "site.csv", EVENTS)
    con = duckdb.connect()
    ingest.load(con, [events], [], config())
    features = feature_columns(con)
    assert set(features) == {"_ga", "_gid", "_fbc", "param__input"}
    assert feature_map(list(features), config()) == {
        "_ga": ["analytics"],
        "_gid": ["analytics"],
        "_fbc": ["ads"],
    }
    # the data column keeps its values; privdiag's own _input still says which input it was
    assert con.execute("SELECT DISTINCT _input, param__input FROM events").fetchall() == [(0, 7)]
