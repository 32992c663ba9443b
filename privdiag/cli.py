"""The typer app: parse arguments, call the core once, write the outputs; nothing else.

Each command lives in its own module (``cli_scan``, ``cli_model``, ``cli_scenario``,
``cli_audit``); the options they share are in ``cli_options``, the writing of results in
``cli_emit``, and how a run ends (errors, signals, a closed output) in ``cli_errors``.
"""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from privdiag import __version__, cli_model, cli_scan, cli_scenario
from privdiag.cli_emit import emit
from privdiag.cli_errors import CLOSED_OUTPUT_EXIT, PrivdiagGroup, on_sigterm
from privdiag.cli_options import (
    ConfigOpt,
    FailOnOpt,
    HtmlOpt,
    JsonOpt,
    JunitOpt,
    MarkdownOpt,
    MemoryLimitOpt,
    Outputs,
    QuietOpt,
    TempDirOpt,
    ThreadsOpt,
)
from privdiag.cli_options import engine_limits as _engine
from privdiag.cli_options import fail_on_level as _fail_on
from privdiag.cli_options import load_config as _load_config
from privdiag.cli_options import progress_sink as _progress

# The names above are also imported from here: by cli_audit, which adds its command to this
# app, and by the tests.
__all__ = [
    "CLOSED_OUTPUT_EXIT",
    "ConfigOpt",
    "FailOnOpt",
    "HtmlOpt",
    "JsonOpt",
    "JunitOpt",
    "MarkdownOpt",
    "MemoryLimitOpt",
    "Outputs",
    "QuietOpt",
    "TempDirOpt",
    "ThreadsOpt",
    "_engine",
    "_fail_on",
    "_load_config",
    "_progress",
    "app",
    "emit",
    "main",
]

app = typer.Typer(
    name="privdiag",
    cls=PrivdiagGroup,
    help="Find out why personalization breaks when privacy rules tighten.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"privdiag {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Find out why personalization breaks when privacy rules tighten."""


# The commands, in the order --help lists them.
app.command(epilog=cli_scan.SCAN_EPILOG)(cli_scan.scan)
app.command("model-check", epilog=cli_model.EPILOG)(cli_model.model_check)
app.command(epilog=cli_scan.REPORT_EPILOG)(cli_scan.report)
app.command(epilog=cli_scenario.INIT_EPILOG)(cli_scenario.init)
app.command(epilog=cli_scenario.GENERATE_EPILOG)(cli_scenario.generate)


def main() -> None:
    """Console entry point."""
    signal.signal(signal.SIGTERM, on_sigterm)
    app()


from privdiag import cli_audit  # noqa: E402

cli_audit.register(app)
