"""The options several commands share, defined once, and what the commands do with them."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from privdiag.config import MAX_THREADS
from privdiag.errors import UsageError, empty_value

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="privdiag.toml to use (default: ./privdiag.toml when present)."),
]
JsonOpt = Annotated[
    str | None, typer.Option("--json", help="Write the findings as JSON ('-' for stdout).")
]
HtmlOpt = Annotated[str | None, typer.Option("--html", help="Write the single-file HTML report.")]
MarkdownOpt = Annotated[
    str | None, typer.Option("--markdown", help="Write a Markdown summary for a ticket.")
]
JunitOpt = Annotated[str | None, typer.Option("--junit", help="Write JUnit XML for CI.")]
FailOnOpt = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        help="Lowest severity that makes "
        "the exit code 1: critical, high, medium, low or info (default: the "
        "config's thresholds.fail_on, else high).",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        "--threads", min=1, max=MAX_THREADS, help="DuckDB threads (config: [engine] threads)."
    ),
]
MemoryLimitOpt = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help="Memory limit of the run, e.g. 4GB (DuckDB gets it less up to 256 MiB for "
        "Python); tables then live compressed in a scratch file and larger work spills, both "
        "under --temp-dir (config: [engine] memory_limit).",
    ),
]
TempDirOpt = Annotated[
    str | None,
    typer.Option(
        "--temp-dir",
        help="Folder for DuckDB's scratch file and spills, made if missing; a folder under "
        "the system temp dir by default (config: [engine] temp_dir).",
    ),
]


@dataclass
class Outputs:
    """The shared output options of every command."""

    json: str | None = None
    html: str | None = None
    markdown: str | None = None
    junit: str | None = None
    fail_on: str | None = None
    quiet: bool = False

    def to_stdout(self) -> bool:
        return "-" in self.files().values()

    def files(self) -> dict[str, str | None]:
        """Each output option with the path given to it (None when not asked for)."""
        return {
            "--json": self.json,
            "--html": self.html,
            "--markdown": self.markdown,
            "--junit": self.junit,
        }

    def check(self) -> None:
        """Raise UsageError, before any work, for an output that cannot be written, or for
        more than one output to stdout (they would be written there back to back)."""
        from privdiag.output import check_writable

        given = self.files()
        to_stdout = [option for option, path in given.items() if path == "-"]
        if len(to_stdout) > 1:
            raise UsageError(
                f"only one output can go to stdout, and {' and '.join(to_stdout)} are both '-'",
                hint="write the others to files",
            )
        for option, path in given.items():
            if path == "":  # was taken as not asked for: the run wrote no such file, unsaid
                raise empty_value(option, "file name")
            if path:
                check_writable(path, option)

    def check_apart(self, inputs: list[Any]) -> None:
        """Raise UsageError when two outputs name one file or an output names one of
        ``inputs`` (paths, folders or globs the run reads, None for one not given)."""
        from privdiag.output import check_apart

        check_apart(self.files(), [i for i in inputs if i is not None])


def load_config(path: Path | None) -> Any:
    """Return the Config of ``path`` (else ./privdiag.toml when present, else the defaults)."""
    from privdiag.config import load_config as load

    return load(path)


def fail_on_level(outputs: Outputs, config: Any) -> str:
    """Return the lowest severity that fails the run: --fail-on, else the config's; UsageError
    for a name that is not a severity."""
    from privdiag.findings import SEVERITIES

    level = (outputs.fail_on or config.thresholds.fail_on).lower()
    if level not in SEVERITIES:
        raise UsageError(
            f"--fail-on {level!r} is not a severity", hint=f"use one of {', '.join(SEVERITIES)}"
        )
    return level


def progress_sink(outputs: Outputs) -> Any:
    """Return a progress sink that shows each phase on stderr when it is a terminal, and a
    long phase once a minute when it is not; None with ``--quiet`` or with no stderr at all
    (``2>&-``, where Python's ``sys.stderr`` is None)."""
    from privdiag.cli_progress import phase_progress

    if sys.stderr is None:
        return None
    return phase_progress(not outputs.quiet, sys.stderr.isatty())


def engine_limits(
    cfg: Any, threads: int | None, memory_limit: str | None, temp_dir: str | None
) -> None:
    """Let the engine flags override the config's [engine] keys."""

    if memory_limit and not re.fullmatch(r"\d+(\.\d+)?\s*([KMGT]i?B|%)?", memory_limit, re.I):
        raise UsageError(
            f"--memory-limit {memory_limit!r} is not a size", hint="write it like 4GB or 512MB"
        )
    if threads:
        cfg.engine.threads = threads
    if memory_limit:
        cfg.engine.memory_limit = memory_limit
    if temp_dir:
        cfg.engine.temp_dir = temp_dir


def engine_choice(cfg: Any, name: str | None, master: str | None, remote: str | None) -> None:
    """Apply --engine / --spark-master / --spark-remote over the config's [engine] table."""
    if master or remote:
        name = name or "spark"
    if name is None:
        return
    if name not in ("duckdb", "spark"):
        raise UsageError(f"unknown --engine {name!r}", hint="use duckdb or spark")
    cfg.engine.name = name
    cfg.engine.spark_master = master or cfg.engine.spark_master
    cfg.engine.spark_remote = remote or cfg.engine.spark_remote
