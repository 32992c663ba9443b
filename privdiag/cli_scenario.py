"""The commands that write files to start from: ``init`` (a starter config inferred from the
data) and ``generate`` (a seeded shop scenario)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from privdiag.errors import UsageError

INIT_EPILOG = "Example: privdiag init exports/ga4/ --output privdiag.toml"
GENERATE_EPILOG = "Example: privdiag generate --out demo --seed 7 --users 600"


def init(
    data: Annotated[
        list[str], typer.Argument(metavar="data", help="Event exports to infer the config from.")
    ],
    consent: Annotated[
        list[str] | None, typer.Option("--consent", help="Consent records file; repeatable.")
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="Where to write the config ('-' for stdout).")
    ] = "privdiag.toml",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter privdiag.toml inferred from the data."""
    from privdiag.init import starter_config
    from privdiag.output import check_apart, check_writable, write_atomic

    check_apart({"--output": output}, [*data, *(consent or [])])  # --force or not
    if output != "-" and Path(output).is_file() and not force:
        raise UsageError(f"{output} exists", hint="pass --force to overwrite it")
    check_writable(output, "--output")
    base = Path(output).parent if output != "-" else None
    text = starter_config(data, consent, base=base)
    write_atomic(output, lambda fh: fh.write(text))
    if output != "-":
        typer.echo(f"Wrote {output}: review the purposes and owners before the next scan.")


def generate(
    out_name: Annotated[
        str, typer.Option("--out", metavar="<path>", help="Folder to write the scenario into.")
    ],
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed from 0: same seed, same files.")
    ] = 7,
    users: Annotated[
        int, typer.Option("--users", help="Number of shoppers, 10 to 1,000,000.")
    ] = 600,
    days: Annotated[
        int, typer.Option("--days", help="Days of events from 2026-10-01, 4 or more, up to today.")
    ] = 28,
    ga4_format: Annotated[
        str, typer.Option("--ga4-format", help="ndjson.gz or parquet.")
    ] = "ndjson.gz",
    generic_format: Annotated[
        str, typer.Option("--generic-format", help="csv, parquet or ndjson.")
    ] = "csv",
    if_missing: Annotated[
        bool,
        typer.Option(
            "--if-missing",
            help="Do nothing when the folder already holds every file of a scenario.",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files of an earlier scenario in --out.")
    ] = False,
    no_faults: Annotated[
        bool,
        typer.Option(
            "--no-faults",
            help="Plant no fault: the same shoppers and decisions, every feature respecting "
            "consent, every feature classified and every source owned.",
        ),
    ] = False,
) -> None:
    """Write a seeded shop scenario (GA4 + app events, consent log, config, ground truth)."""
    from privdiag.demo import add_model_blind_set
    from privdiag.generate import START, check_args, generate_scenario
    from privdiag.output import check_folder, folder_option

    out = folder_option(out_name, "--out")
    check_args(seed, users, days, START, ga4_format, generic_format)  # before any folder is made
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is not a folder", hint="choose a folder for the scenario")
    planned = _planned_files(out, ga4_format, generic_format)
    if if_missing and all(p.exists() for p in planned):
        typer.echo(f"{out} already holds a scenario; left as it is.")
        return
    _check_overwrite(planned, force)
    check_folder(out, "--out")

    info = generate_scenario(
        out,
        seed=seed,
        users=users,
        days=days,
        ga4_format=ga4_format,
        generic_format=generic_format,
        faults=not no_faults,
    )
    add_model_blind_set(out, seed)
    counts = ", ".join(f"{k} {v:,}" for k, v in info.events.items())
    typer.echo(f"Wrote {out}: events {counts}; {info.consent_records:,} consent records.")


def _planned_files(out: Path, ga4_format: str, generic_format: str) -> list[Path]:
    """Return every file ``generate`` writes into ``out``; UsageError for an unknown format."""
    from privdiag.demo import demo_paths
    from privdiag.generate import check_formats, scenario_paths

    check_formats(ga4_format, generic_format)
    return [*scenario_paths(out, ga4_format, generic_format).values(), *demo_paths(out)]


def _check_overwrite(planned: list[Path], force: bool) -> None:
    """Raise UsageError when a planned file is a folder or a symlink, or exists and ``force``
    is not given: --force overwrites files only, never through a link."""
    odd = next((p for p in planned if p.is_symlink() or p.exists() and not p.is_file()), None)
    if odd is not None:
        raise UsageError(
            f"{odd} is a folder or a symlink where generate writes a file",
            hint="move it away, or choose another --out folder",
        )
    existing = next((p for p in planned if p.exists()), None)
    if existing is not None and not force:
        raise UsageError(
            f"{existing} exists and generate would overwrite it",
            hint="pass --force to overwrite it, or choose another --out folder",
        )
