"""Writing a command's result: every requested output, the summary, and the exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from privdiag.cli_options import Outputs, fail_on_level


def emit(
    docs: list[dict[str, Any]], outputs: Outputs, config: Any, *, json_in_order: bool = True
) -> int:
    """Write every requested output, print the summary, and return the exit code.

    ``json_in_order`` False: the result files the documents came from list the findings in
    another order than the reports (``privdiag report`` re-ranked or merged them)."""
    from privdiag.findings import at_or_above
    from privdiag.output import print_summary, staged_outputs

    fail_on = fail_on_level(outputs, config)
    doc = docs[0] if len(docs) == 1 else merge_docs(docs)
    # all of them or none: an interrupt or error between two leaves no mix of runs
    with staged_outputs():
        _write(docs, doc, outputs, config, json_in_order=json_in_order, fail_on=fail_on)
    _github(docs, fail_on)
    if not outputs.quiet:
        stream = sys.stderr if outputs.to_stdout() else sys.stdout
        with commands_stopped(stream):
            print_summary(doc, stream=stream)
    failing = [f for f in doc["findings"] if at_or_above(f["severity"], fail_on)]
    return 1 if failing else 0


def _write(
    docs: list[dict[str, Any]],
    doc: dict[str, Any],
    outputs: Outputs,
    config: Any,
    *,
    json_in_order: bool,
    fail_on: str,
) -> None:
    """Write each output asked for (the reports render ``docs``, the JSON ``doc``)."""
    from privdiag.output import write_json

    min_group = config.thresholds.min_group_size
    if outputs.json:
        write_json(doc, outputs.json)
    if outputs.html:
        from privdiag.report import write_html

        write_html(docs, Path(outputs.html), min_group_size=min_group, json_in_order=json_in_order)
    if outputs.markdown:
        from privdiag.report import write_markdown

        write_markdown(docs, Path(outputs.markdown), min_group_size=min_group)
    if outputs.junit:
        from privdiag.report import write_junit

        write_junit(docs, Path(outputs.junit), fail_on=fail_on)


def merge_docs(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one result document of ``docs``, its findings ranked and deduplicated."""
    from privdiag.report import merge

    return merge(docs)


@contextmanager
def commands_stopped(stream: TextIO) -> Iterator[None]:
    """Under GitHub Actions, have the runner read what is printed within as plain text: a
    name from the data (a file named with a line break, a column ``::error::x`` that a table
    cell wraps to the start of a line) would else be run as a workflow command (a forged
    annotation, or ``::stop-commands::`` hiding privdiag's own). GitHub's own way: stop the
    commands with a token no one can guess, then print the token."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        yield
        return
    import secrets

    token = secrets.token_hex(16)
    stream.write(f"::stop-commands::{token}\n")
    try:
        yield
    finally:
        stream.write(f"::{token}::\n")
        stream.flush()


def guarded(text: str) -> str:
    """``text`` as printed under GitHub Actions: between the lines of
    :func:`commands_stopped`, for an error message that names a file from the data."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return text
    import secrets

    token = secrets.token_hex(16)
    return f"::stop-commands::{token}\n{text}\n::{token}::"


def _github(docs: list[dict[str, Any]], fail_on: str) -> None:
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    try:
        from privdiag.report import github_annotations
    except ImportError:
        return
    failed = github_annotations(docs, fail_on=fail_on, env=os.environ)
    if failed:  # the outputs are written: the run's exit code stands
        import typer

        typer.echo(f"Warning: {failed} ($GITHUB_STEP_SUMMARY)", err=True)
