"""Many per-unit flags through one aggregate: conditions packed into BIGINT bit masks.

Counting, per group, the distinct users (or sessions) for which each of N conditions holds
takes N ``count(DISTINCT ...) FILTER`` aggregations, or a grouping per user with N
``bool_or``. Both cost per condition on the largest grouping of the scan. Packed, the
grouping per user ORs one BIGINT per 62 conditions, and the bits are counted in the small
grouping after it.
"""

from __future__ import annotations

from dataclasses import dataclass

MASK_BITS = 62


@dataclass(frozen=True)
class Masks:
    """Named conditions packed into mask columns ``{prefix}0``, ``{prefix}1``, ..."""

    conditions: dict[str, str]  # name -> SQL condition on one row (NULL counts as false)
    prefix: str = "m"

    def _chunks(self) -> list[list[tuple[str, str]]]:
        items = list(self.conditions.items())
        return [items[j : j + MASK_BITS] for j in range(0, len(items), MASK_BITS)]

    def columns(self) -> list[str]:
        return [f"{self.prefix}{m}" for m in range(len(self._chunks()))]

    def pack(self) -> str:
        """SQL select items computing each mask column from one row's conditions."""
        return ", ".join(
            "("
            + " | ".join(
                f"(CASE WHEN {cond} THEN {1 << b} ELSE 0 END)" for b, (_, cond) in enumerate(chunk)
            )
            + f")::BIGINT AS {self.prefix}{m}"
            for m, chunk in enumerate(self._chunks())
        )

    def merge(self) -> str:
        """SQL aggregates OR-ing each mask column over a group (a user's rows, say)."""
        return ", ".join(f"bit_or({c}) AS {c}" for c in self.columns())

    def bits(self) -> list[tuple[str, str, int]]:
        """Each condition's (name, mask column, bit)."""
        return [
            (name, f"{self.prefix}{m}", b)
            for m, chunk in enumerate(self._chunks())
            for b, (name, _) in enumerate(chunk)
        ]

    def count(self) -> str:
        """SQL aggregates counting, per condition, the rows whose bit is set."""
        return ", ".join(
            f"count_true(({col} >> {b}) & 1 = 1) AS {name}" for name, col, b in self.bits()
        )


def distinct_sql(
    keys: str, conditions: dict[str, str], rows_sql: str, unit: str = "user_key"
) -> str:
    """SQL counting, per group of ``keys``, the distinct ``unit`` values for which each
    condition holds.

    ``rows_sql`` selects ``keys``, ``unit`` and the columns the conditions use. The
    conditions are packed into bit masks, OR-ed per unit and group, and the units with a bit
    set are counted. NULL units are left out, as ``count(DISTINCT)`` does; a NULL condition
    counts as false.
    """
    masks = Masks(conditions)
    # Rows with no condition set add nothing: only the rest are grouped per unit, which on
    # rare conditions (violations, say) leaves a small fraction of the events to group.
    any_set = " OR ".join(f"{c} <> 0" for c in masks.columns())
    return f"""
        SELECT {keys}, {masks.count()} FROM (
            SELECT {keys}, {unit}, {masks.merge()} FROM (
                SELECT {keys}, {unit}, {masks.pack()}
                FROM ({rows_sql})
                WHERE {unit} IS NOT NULL
            ) WHERE {any_set} GROUP BY ALL
        ) GROUP BY ALL
    """
