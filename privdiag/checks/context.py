"""What every check receives: the connection, the config and what the scan learned."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privdiag.config import Config

# Every event with its consent state per purpose: one table (see privdiag.state.resolve), so
# the checks' scans run on every core (DuckDB reads a positional join on one thread).
EVENTS_WITH_CONSENT = "scan_events e"


@dataclass
class ScanContext:
    """The state a scan's checks share: tables live in ``con``."""

    con: Any
    config: Config
    features: dict[str, str]  # feature column -> DuckDB type
    mapping: dict[str, list[str]]  # classified feature -> purposes
    purposes: list[str]  # purposes with any consent signal
    formats: dict[str, str] = field(default_factory=dict)  # source -> format

    @property
    def min_group(self) -> int:
        return self.config.thresholds.min_group_size


def present_sql(column: str, sql_type: str) -> str:
    """SQL that is true when a feature value is present (not NULL, not an empty string)."""
    from privdiag.engine import quote

    if sql_type.upper() == "VARCHAR":
        return f"(nullif(trim({quote(column)}), '') IS NOT NULL)"
    if sql_type.upper().startswith("MAP"):  # len() takes no MAP; an empty {} is absent
        return f"(cardinality({quote(column)}) > 0)"
    if sql_type.upper().endswith("[]") or sql_type.upper().startswith("LIST"):
        return f"(len({quote(column)}) > 0)"
    return f"({quote(column)} IS NOT NULL)"


def suppress(metrics: dict[str, Any], k: int, keys: tuple[str, ...] = ("users",)) -> dict[str, Any]:
    """Replace user counts below ``k`` with None and list them under ``suppressed``."""
    hidden = [key for key in keys if isinstance(metrics.get(key), int) and 0 < metrics[key] < k]
    for key in hidden:
        metrics[key] = None
    if hidden:
        metrics["suppressed"] = hidden
        metrics["min_group_size"] = k
    return metrics
