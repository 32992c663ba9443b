"""The daily share series ``sparsity.shift`` tests (a feature's missing share or a purpose's
consent rate, per source) and the changes it reports of each, shared by the check
(:mod:`privdiag.checks.shift`) and the privacy of its days (:mod:`privdiag.checks.shift_privacy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from privdiag.stats import ChangePoint, rounded, share


@dataclass(frozen=True)
class Change:
    """One change of a series: its first day's index, the shares of the segments on either
    side (between it and its neighbouring changes) and its p-value."""

    index: int
    before: float
    after: float
    p_value: float

    @property
    def delta(self) -> float:
        return self.after - self.before


@dataclass
class Series:
    """One daily share series and its best change point (``cp``), before correction;
    ``changes`` all the changes reported (``cp`` among them) in time order, once it shifts."""

    source: str
    days: list[str]
    x: np.ndarray
    n: np.ndarray
    cp: ChangePoint
    scale: np.ndarray
    feature: str | None = None
    purpose: str | None = None
    q: float = 1.0
    changes: list[Change] = field(default_factory=list)
    hidden_days: set[str] = field(default_factory=set)  # days of too few users: not drawn
    side_days: set[str] = field(default_factory=set)  # days of a small side: not drawn either
    hidden_shares: set[int] = field(default_factory=set)  # segments of a small side, by number
    carriers: list[str] = field(default_factory=list)  # a feature's event names carrying it
    more: bool = False  # a change beyond the most listed was found: the last shares blend

    @property
    def day(self) -> str:
        return self.days[self.cp.index]

    def on(self, change: Change) -> str:
        """The day ``change`` starts."""
        return self.days[change.index]

    @property
    def delta(self) -> float:
        return self.cp.after - self.cp.before

    def published(self, change: Change) -> tuple[float | None, float | None]:
        """The shares before and after ``change`` as they may be shown: None for a segment
        whose share would tell 1 to ``min_group_size`` - 1 users' side (``hidden_shares``)."""
        n = self.changes.index(change)
        return (
            None if n in self.hidden_shares else change.before,
            None if n + 1 in self.hidden_shares else change.after,
        )

    def values(self) -> list[float | None]:
        return [rounded(v) for v in share(self.x, self.n)]


def between(s: Series, p_values: dict[int, float]) -> list[Change]:
    """The changes at the days ``p_values`` holds (index -> p-value), in time order, each with
    the shares, on events, of the segments between it and its neighbours."""
    cuts = sorted(p_values)
    bounds = [0, *cuts, len(s.x)]
    shares = [
        float(s.x[a:b].sum() / s.n[a:b].sum()) for a, b in zip(bounds, bounds[1:], strict=False)
    ]
    return [Change(c, shares[i], shares[i + 1], p_values[c]) for i, c in enumerate(cuts)]


def set_changes(s: Series, changes: list[Change], first: int | None = None) -> None:
    """Give ``s`` its ``changes``, in place, and its headline change (``s.cp``, at ``first``
    when it moved, else where it was) the shares of its counterpart among them."""
    at = s.cp.index if first is None else first
    s.changes = changes
    s.cp = next(
        replace(s.cp, index=at, before=c.before, after=c.after) for c in changes if c.index == at
    )
