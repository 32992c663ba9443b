"""What every format module receives and returns.

A format module has ``NAME``, ``detect(columns) -> bool`` and
``stage(ctx: StageContext) -> Staged``. ``stage`` creates DuckDB views (or temp tables) that
select canonical columns, each through :meth:`StageContext.create`; the loader unions them into
the ``events`` and ``consent`` tables, then drops them so that their memory is freed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privdiag.config import Config

_CREATE = re.compile(r"\s*CREATE TEMP (TABLE|VIEW) (\w+) AS\b")


@dataclass
class StageContext:
    """One input argument ready to be staged: its files, how to read them, its source name."""

    con: Any
    read_sql: str  # a table function call that reads every file of the input
    columns: dict[str, str]  # column name -> DuckDB type, as the reader infers them
    files: list[Path]
    source: str
    prefix: str  # unique name prefix for the views this input creates
    index: int  # the input's position, stored in events._input
    config: Config
    container: str = "csv"
    scratch: list[tuple[str, str]] = field(default_factory=list)  # (TABLE or VIEW, name)

    def create(self, statement: str) -> None:
        """Run ``CREATE TEMP TABLE|VIEW <name> AS ...`` and note the name in :attr:`scratch`,
        which the loader drops once the input's records are in ``events`` and ``consent``."""
        made = _CREATE.match(statement)
        if made is None:
            raise ValueError("expected CREATE TEMP TABLE|VIEW <name> AS ...")
        self.con.execute(statement)
        self.scratch.append((made[1], made[2]))


@dataclass
class Staged:
    """What one input produced: view names and notes for the terminal and the report."""

    format: str
    events_view: str | None = None
    consent_view: str | None = None
    notes: list[str] = field(default_factory=list)
    # SQL of (category, user_key), one row per decision whose category maps to no purpose
    unmapped_sql: str | None = None
    source: str | None = None  # the source name the input was read as (set by the loader)
    scratch: list[tuple[str, str]] = field(default_factory=list)  # dropped by the loader
    time_field: str = "time"  # the input's field the event time is read from, for errors
