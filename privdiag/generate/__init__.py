"""Seeded synthetic scenarios: a GA4 web export, an app stream, consent records, a config
and the ground truth of the faults planted in them. See ``docs/GENERATOR.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from privdiag.errors import UsageError
from privdiag.generate.catalog import DEVICES, GEOS, TRAFFIC, weights
from privdiag.generate.events import app_events, web_events
from privdiag.generate.flat import write_app, write_consent
from privdiag.generate.ga4 import write_ga4
from privdiag.generate.timeline import Population, build_population
from privdiag.generate.truth import config_toml, ground_truth

GA4_FORMATS = {"ndjson.gz": "web.ndjson.gz", "parquet": "web.parquet"}
GENERIC_FORMATS = {"csv": "app.csv", "parquet": "app.parquet", "ndjson": "app.ndjson"}


@dataclass
class ScenarioInfo:
    """What :func:`generate_scenario` wrote: file paths, row counts and the ground truth."""

    out_dir: Path
    seed: int
    paths: dict[str, Path]
    events: dict[str, int]
    users: dict[str, int]
    consent_records: int
    truth: dict = field(repr=False)


def _users_table(con, rng: np.random.Generator, pop: Population, seed: int, base_ms: int):
    n = pop.n
    first_ms = pop.first_visit
    cols = {
        "uid": np.arange(n, dtype=np.int64),
        "is_app": pop.is_app,
        "rand": rng.integers(100_000_000, 2_147_483_647, n),
        "first_touch_us": (base_ms + first_ms) * 1000,
        "device": rng.choice(len(DEVICES), n, p=weights(DEVICES)),
        "geo": rng.choice(len(GEOS), n, p=weights(GEOS)),
        "traffic": rng.choice(len(TRAFFIC), n, p=weights(TRAFFIC)),
    }
    con.register("users_src", pa.table(cols))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE users AS SELECT *,
        rand::VARCHAR || '.' || (first_touch_us // 1000000)::VARCHAR AS pseudo_id,
        CASE WHEN is_app THEN 'u' || substr(md5('{seed}:u:' || uid::VARCHAR), 1, 12)
             ELSE rand::VARCHAR || '.' || (first_touch_us // 1000000)::VARCHAR END AS key
        FROM users_src"""
    )


# About 12 events a user: 1M users make some 12M events, more than a minute's work and a few
# GB of memory; 100M users filled the memory until the system killed the run.
MAX_USERS = 1_000_000
# The first day of every scenario (the same arguments give the same bytes).
START = date(2026, 10, 1)


def check_args(
    seed: int, users: int, days: int, start: date, ga4_format: str, generic_format: str
) -> None:
    """Raise UsageError for arguments the generator cannot make a readable scenario of."""
    if seed < 0:  # numpy's generator takes none (an internal error before)
        raise UsageError(f"--seed {seed} is negative", hint="give a whole number from 0")
    if not 10 <= users <= MAX_USERS:
        raise UsageError(f"--users must be from 10 to {MAX_USERS:,}", hint="try --users 600")
    if days < 4:
        raise UsageError("--days must be at least 4", hint="try --days 28")
    # a scan refuses event times more than two days ahead: a scenario past today is unreadable
    latest = (datetime.now(UTC).date() - start).days
    if days > latest:
        raise UsageError(
            f"--days {days}: the scenario starts on {start} and would run past today, and "
            "privdiag refuses events in the future",
            hint=f"use --days {latest} or fewer" if latest >= 4 else "check the system clock",
        )
    check_formats(ga4_format, generic_format)


def scenario_paths(out_dir: Path, ga4_format: str, generic_format: str) -> dict[str, Path]:
    """Return the files a scenario writes into ``out_dir``, by role (web, app, consent, ...).

    Assumes the formats were checked (an unknown one raises KeyError).
    """
    return {
        "web": out_dir / GA4_FORMATS[ga4_format],
        "app": out_dir / GENERIC_FORMATS[generic_format],
        "consent": out_dir / "consent.csv",
        "config": out_dir / "privdiag.toml",
        "truth": out_dir / "ground_truth.json",
    }


def check_formats(ga4_format: str, generic_format: str) -> None:
    """Raise UsageError for a GA4 or generic format the generator cannot write."""
    if ga4_format not in GA4_FORMATS:
        raise UsageError(f"unknown GA4 format {ga4_format!r}", hint="use ndjson.gz or parquet")
    if generic_format not in GENERIC_FORMATS:
        raise UsageError(
            f"unknown generic format {generic_format!r}", hint="use csv, parquet or ndjson"
        )


def generate_scenario(
    out_dir: Path,
    *,
    seed: int = 7,
    users: int = 600,
    days: int = 28,
    start: date = START,
    faults: bool = True,
    ga4_format: str = "ndjson.gz",
    generic_format: str = "csv",
) -> ScenarioInfo:
    """Write a scenario into ``out_dir`` and return what was written.

    The same arguments always give the same bytes. With ``faults=False`` no fault is
    planted (the ground truth lists none, the config maps every feature and owns every
    source): the users, sessions and decisions are those of the faulty scenario of the same
    seed, so a scan of it shows what privdiag reports when nothing is wrong.
    """
    check_args(seed, users, days, start, ga4_format, generic_format)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    base_ms = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000)

    pop = build_population(rng, users, days, faults)
    web = web_events(rng, pop, days)
    app = app_events(rng, pop)
    paths = scenario_paths(out_dir, ga4_format, generic_format)

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        _users_table(con, rng, pop, seed, base_ms)
        sess = {"start": pop.sess_start, "number": pop.sess_number}
        write_ga4(con, web, sess, base_ms, paths["web"], ga4_format)
        write_app(con, app, seed, base_ms, paths["app"], generic_format)
        records = write_consent(con, rng, pop, base_ms, paths["consent"])
    finally:
        con.close()

    truth = ground_truth(pop, web, app, start)
    names = {k: p.name for k, p in paths.items()}
    paths["config"].write_text(config_toml(names, seed, faults), encoding="utf-8")
    paths["truth"].write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return ScenarioInfo(
        out_dir=out_dir,
        seed=seed,
        paths=paths,
        events={"web": len(web), "app": len(app)},
        users={"web": int((~pop.is_app).sum()), "app": int(pop.is_app.sum())},
        consent_records=records,
        truth=truth,
    )


__all__ = ["ScenarioInfo", "check_formats", "generate_scenario", "scenario_paths"]
