"""Row order and file layout never change a scan: for every reader and for consent resolution.

Each example is a small random shop (users, times with ties, flags, consent records with
contradictions at one instant, repeated events), written in one format. The findings (ids and
metrics) of the file must equal those of the same rows shuffled, and of the rows split into
parts inside a folder. Examples stay few so CI is fast; set HYPOTHESIS_PROFILE=long for more.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privdiag.config import Config, FeatureConfig, Thresholds
from privdiag.errors import InputError
from privdiag.scan import run_scan

settings.register_profile(
    "ci", max_examples=4, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "long", max_examples=60, deadline=None, suppress_health_check=list(HealthCheck)
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
BASE = 1_790_000_000  # 2026-09-22, seconds

Event = tuple[int, int, int, str, str]  # user, minute, name, ads flag, gclid
event = st.tuples(
    st.integers(0, 5),
    st.integers(0, 8),
    st.integers(0, 2),
    st.sampled_from(["granted", "denied", ""]),
    st.sampled_from(["g1", ""]),
)
record = st.tuples(
    st.integers(0, 5), st.integers(0, 8), st.sampled_from(["ads", "analytics"]), st.booleans()
)
shop = st.tuples(
    st.lists(event, min_size=3, max_size=25),
    st.lists(record, max_size=12),
    st.randoms(use_true_random=False),
    st.integers(2, 4),
)
NAMES = ("page_view", "add_to_cart", "purchase")


def config() -> Config:
    return Config(
        thresholds=Thresholds(min_group_size=1),
        features={"gclid": FeatureConfig(purposes=["ads"])},
        steps=list(NAMES),
    )


def iso(minute: int) -> str:
    return f"2026-10-01T10:{minute:02d}:00Z"


def generic_rows(events: list[Event]) -> list[dict[str, Any]]:
    """Event ids repeat for a repeated (user, minute, name): an export sent twice."""
    return [
        {
            "event_id": f"e{u}-{m}-{n}",
            "ts": iso(m),
            "event_name": NAMES[n],
            "user_id": f"uid-{u}",
            "consent_ads": flag,
            "gclid": gclid,
        }
        for u, m, n, flag, gclid in events
    ]


def ga4_rows(events: list[Event]) -> list[dict[str, Any]]:
    yes_no = {"granted": "Yes", "denied": "No", "": None}
    return [
        {
            "event_timestamp": str((BASE + m * 60) * 1_000_000),
            "event_name": NAMES[n],
            "event_params": [{"key": "gclid", "value": {"string_value": gclid or None}}],
            "user_pseudo_id": f"anon-{u}",
            "privacy_info": {"ads_storage": yes_no[flag]},
        }
        for u, m, n, flag, gclid in events
    ]


def segment_rows(events: list[Event]) -> list[dict[str, Any]]:
    prefs = {"granted": {"Advertising": True}, "denied": {"Advertising": False}, "": {}}
    return [
        {
            "type": "track",
            "event": NAMES[n],
            "messageId": f"m{u}-{m}-{n}",
            "userId": f"uid-{u}",
            "timestamp": iso(m),
            "properties": {"gclid": gclid or None},
            "context": {"consent": {"categoryPreferences": prefs[flag]}},
        }
        for u, m, n, flag, gclid in events
    ]


def snowplow_rows(events: list[Event]) -> list[dict[str, Any]]:
    return [
        {
            "app_id": "shop",
            "collector_tstamp": f"2026-10-01 10:{m:02d}:00.000",
            "event_id": f"sp{u}-{m}-{n}",
            "event": "struct",
            "event_name": NAMES[n],
            "domain_userid": f"duid-{u}",
            "se_label": gclid,
        }
        for u, m, n, _flag, gclid in events
    ]


def consent_rows(records: list[tuple[int, int, str, bool]]) -> list[dict[str, Any]]:
    return [
        {
            "user_id": f"uid-{u}",
            "purpose": p,
            "status": "granted" if g else "denied",
            "ts": iso(m),
        }
        for u, m, p, g in records
    ]


def write(rows: list[dict[str, Any]], path: Path, container: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if container == "ndjson":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif container == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        header = list(rows[0])
        lines = [",".join(header)] + [",".join(str(r[h]) for h in header) for r in rows]
        path.write_text("\n".join(lines) + "\n")


def fingerprint(data: list[str], consent: list[str]) -> dict[str, Any]:
    result = run_scan(data, consent=consent, config=config())
    doc = result.to_dict()
    found = {f["id"]: (f["kind"], f["metrics"]) for f in doc["findings"]}
    return {"findings": found, "rates": doc["evidence"].get("consent_rates")}


def layouts(rows: list[dict[str, Any]], tmp: Path, suffix: str, rnd: random.Random, parts: int):
    """Yield the same rows as one file, shuffled in one file, and split into a folder."""
    container = {".csv": "csv", ".ndjson": "ndjson", ".parquet": "parquet"}[suffix]
    write(rows, tmp / "a" / f"events{suffix}", container)
    yield str(tmp / "a" / f"events{suffix}")
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    write(shuffled, tmp / "b" / f"events{suffix}", container)
    yield str(tmp / "b" / f"events{suffix}")
    cut = sorted(rnd.sample(range(1, len(rows)), min(parts - 1, len(rows) - 1)))
    for i, (lo, hi) in enumerate(zip([0, *cut], [*cut, len(rows)], strict=True)):
        write(shuffled[lo:hi], tmp / "c" / "events" / f"part{i}{suffix}", container)
    yield str(tmp / "c" / "events")


def assert_invariant(rows, tmp, suffix, rnd, parts, consent=()):
    prints = [fingerprint([path], list(consent)) for path in layouts(rows, tmp, suffix, rnd, parts)]
    assert prints[0] == prints[1], "shuffling rows changed the findings"
    assert prints[0] == prints[2], "splitting the file into a folder changed the findings"


def case_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("prop")


FORMATS = {
    "generic_csv": (generic_rows, ".csv"),
    "generic_ndjson": (generic_rows, ".ndjson"),
    "generic_parquet": (generic_rows, ".parquet"),
    "ga4": (ga4_rows, ".ndjson"),
    "segment": (segment_rows, ".ndjson"),
    "snowplow": (snowplow_rows, ".csv"),
}


def _property(name: str):
    to_rows, suffix = FORMATS[name]

    @settings(settings.get_profile(PROFILE))
    @given(example=shop)
    def test(tmp_path_factory, example):
        events, _records, rnd, parts = example
        assert_invariant(to_rows(events), case_dir(tmp_path_factory), suffix, rnd, parts)

    test.__name__ = f"test_{name}_order_and_layout_free"
    return test


test_generic_csv_order_and_layout_free = _property("generic_csv")
test_generic_ndjson_order_and_layout_free = _property("generic_ndjson")
test_generic_parquet_order_and_layout_free = _property("generic_parquet")
test_ga4_order_and_layout_free = _property("ga4")
test_segment_order_and_layout_free = _property("segment")
test_snowplow_order_and_layout_free = _property("snowplow")


@settings(settings.get_profile(PROFILE))
@given(example=shop)
def test_consent_resolution_is_order_and_layout_free(tmp_path_factory, example):
    """Consent records shuffled or split (with contradictions at one instant) resolve alike."""
    events, records, rnd, parts = example
    if not records:
        records = [(0, 0, "ads", True), (0, 0, "ads", False)]
    tmp = case_dir(tmp_path_factory)
    data = tmp / "ev.csv"
    write(generic_rows(events), data, "csv")
    rows = consent_rows(records)
    prints = []
    for layout in layouts(rows, tmp, ".csv", rnd, parts):
        prints.append(fingerprint([str(data)], [layout]))
    assert prints[0] == prints[1] == prints[2]


TC_STRINGS = (
    "CP99dODP9_GsAEsACBDEBGEoAP_gAEIAAAqIAFOBAAAAA",  # valid
    "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA",  # TCF v1: refused by the decoder
    "CPcQ",  # truncated
    "CPc$Q",  # not base64url
)


@settings(settings.get_profile(PROFILE))
@given(
    example=shop,
    strings=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 8), st.sampled_from(TC_STRINGS)), min_size=1
    ),
)
def test_tc_string_consent_is_order_and_layout_free(tmp_path_factory, example, strings):
    """A consent file of TC strings (good and malformed) decodes the same in any order/layout."""
    events, _records, rnd, parts = example
    tmp = case_dir(tmp_path_factory)
    data = tmp / "ev.csv"
    write(generic_rows(events), data, "csv")
    rows = [{"user_id": f"uid-{u}", "tc_string": s, "ts": iso(m)} for u, m, s in strings]
    if len(rows) < 2:
        rows = rows * 2
    if TC_STRINGS[0] not in {s for _u, _m, s in strings}:
        # no string decodes: the file gives no consent at all, an input error in any layout
        for layout in layouts(rows, tmp, ".csv", rnd, parts):
            with pytest.raises(InputError, match="none of the .* consent strings"):
                fingerprint([str(data)], [layout])
        return
    prints = [
        fingerprint([str(data)], [layout]) for layout in layouts(rows, tmp, ".csv", rnd, parts)
    ]
    assert prints[0] == prints[1] == prints[2]
