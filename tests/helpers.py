"""Small builders shared by tests: write CSV text, run a scan, index findings."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

from privdiag.config import Config, Thresholds


def write(path: Path, text: str) -> str:
    path.write_text(dedent(text).lstrip(), encoding="utf-8")
    return str(path)


def few_deny_personalization() -> tuple[str, str]:
    """Events and a consent log (CSV text): 40 users decide analytics, half granting; 3 of
    them decide personalization, all denying (a rate of 0.0 tells each one's choice)."""
    events = "event_id,ts,event_name,user_id\n"
    log = "user_id,purpose,status,ts\n"
    for u in range(40):
        events += f"e{u},2026-10-01T10:00:00Z,page_view,user{u}\n"
        log += f"user{u},analytics,{'granted' if u % 2 else 'denied'},2026-10-01T09:00:00Z\n"
    for u in range(3):
        log += f"user{u},personalization,denied,2026-10-01T09:00:00Z\n"
    return events, log


def consent_states(events: list[str], consent: list[str], purpose: str) -> list[tuple]:
    """Load ``events`` and ``consent`` and return each event's (user key, state of
    ``purpose``) in time order."""
    from privdiag.engine import connect
    from privdiag.ingest import load
    from privdiag.state import active_purposes, resolve

    con = connect(Config().engine)
    load(con, events, consent, Config())
    resolve(con, active_purposes(con))
    return con.execute(
        f"SELECT user_key, CAST(state_{purpose} AS VARCHAR) FROM scan_events ORDER BY ts"
    ).fetchall()


def config(**thresholds: Any) -> Config:
    th = Thresholds(min_group_size=1)
    for key, value in thresholds.items():
        setattr(th, key, value)
    return Config(thresholds=th)


def by_kind(doc: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["kind"] == kind]


def locations(doc: dict[str, Any], kind: str) -> set[tuple[tuple[str, str], ...]]:
    return {tuple(sorted(f["location"].items())) for f in by_kind(doc, kind)}


def scan_generated(folder: Path, seed: int, users: int = 600) -> dict[str, Any]:
    """Generate the shop scenario of ``seed`` in ``folder`` and return its scan's document
    (its web and app exports, read with its own config)."""
    from privdiag.config import load_config
    from privdiag.generate import generate_scenario
    from privdiag.scan import run_scan

    shop = generate_scenario(folder, seed=seed, users=users)
    paths = [str(shop.paths["web"]), str(shop.paths["app"])]
    return run_scan(paths, config=load_config(folder / "privdiag.toml")).to_dict()


def scan_csv(
    folder: Path, events: list[str], decisions: list[str], toml: str, exit_code: int = 1
) -> dict[str, Any]:
    """Write ``events`` and ``decisions`` (CSV lines) and the config ``toml`` in ``folder``,
    scan them through the CLI, check its exit code and return the JSON document."""
    import json

    from typer.testing import CliRunner

    from privdiag.cli import app

    (folder / "ev.csv").write_text("\n".join(events) + "\n")
    (folder / "c.csv").write_text("\n".join(decisions) + "\n")
    (folder / "privdiag.toml").write_text(toml)
    out = folder / "scan.json"
    args = ["scan", str(folder / "ev.csv"), "--consent", str(folder / "c.csv")]
    args += ["--config", str(folder / "privdiag.toml"), "--json", str(out), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == exit_code, result.output
    return json.loads(out.read_text())
