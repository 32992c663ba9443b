"""Drift between a reference set and a consent-filtered set, one feature at a time.

Numbers: PSI and Jensen-Shannon distance on the reference's deciles plus a *missing* bin,
and KS (statistic and asymptotic p-value) and Wasserstein-1 on the present values.
Categories (text features): chi-square on the present values, PSI and Jensen-Shannon on the
categories plus a *missing* category; categories seen fewer than ``min_n`` times in both sets
are pooled into one first, so that a long tail of rare values neither breaks the chi-square
test nor inflates PSI. The missing share is tested on its own (two-proportion z-test),
because tools that drop nulls see no drift when a feature goes from 0 % to 60 % missing.

A text feature's row also carries its category shares in both sets (:func:`category_shares`),
naming a value only when each set holds it at least ``min_n`` times or not at all and it does
not look like an identifier; the rest are shown pooled.

A feature has drifted when a test is significant after a Bonferroni correction over the
features compared **and** the effect is large enough to matter (KS statistic, Jensen-Shannon
distance or missing-share change of at least ``min_gap``): with a million rows every tiny
difference is significant, with fifty rows only large ones are.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

import numpy as np
import polars as pl
from scipy import stats
from scipy.spatial.distance import jensenshannon

from privdiag.model.blindset import NOT_FEATURES
from privdiag.privacy import looks_like_id

PSI_BINS = 10
PSI_FLOOR = 1e-4  # share given to an empty bin so that PSI stays finite
MAX_CATEGORIES = 20  # categories named in a shares table; the rest are pooled
OTHER = "(other values)"
MISSING = "(missing)"
EMPTY = "(empty text)"  # the category "", which a table would show as a blank name


def _nameable(value: str) -> bool:
    """True for a category a shares table may name: no identifier, and none that reads as
    blank or as another name (spaces only, a zero-width space: unprintable characters)."""
    if value == "":
        return True
    return value.strip() != "" and value.isprintable() and not looks_like_id(value)


@dataclass
class DriftRow:
    """Drift measures for one feature (or the score), and the verdict."""

    feature: str
    type: str  # "number" or "category"
    rows_reference: int
    rows_current: int
    missing_reference: float
    missing_current: float
    missing_p: float
    psi: float | None = None
    js: float | None = None
    ks: float | None = None
    ks_p: float | None = None
    wasserstein: float | None = None
    chi2: float | None = None
    chi2_p: float | None = None
    drifted: bool = False
    reason: str = ""
    # share of the current rows a consent scenario masked and the comparison left out (when
    # the reference is the unmasked blind set itself: their missing share is the scenario's)
    masked: float | None = None
    # a text feature's category shares (a table block), kept out of the row's measures
    shares: dict[str, Any] | None = field(default=None, repr=False)
    # the shares published as no value (:func:`hide_small_shares`): each tells of 1 to
    # min_n - 1 rows, though the tests and the verdict read them
    hidden: frozenset[str] = field(default=frozenset(), repr=False)

    def to_dict(self) -> dict:
        """The row's measures, floats rounded, a hidden share None; the category shares and
        the hidden names are not among them."""
        return {
            k: None if k in self.hidden else (round(v, 6) if isinstance(v, float) else v)
            for k, v in asdict(self).items()
            if k not in ("shares", "hidden")
        }

    def share(self, name: str) -> str:
        """The share ``name`` as a percentage for a reason's text, or "hidden"."""
        return "hidden" if name in self.hidden else f"{getattr(self, name):.0%}"


def small_side(count: int, rows: int, min_n: int) -> bool:
    """True when ``count`` of ``rows``, or the rest of them, are 1 to ``min_n`` - 1 rows: a
    share of them tells of so few (none, or all, tells of no one)."""
    return 0 < min(count, rows - count) < min_n


def hide_small_shares(row: DriftRow, counts: dict[str, tuple[int, int]], min_n: int) -> None:
    """Mark in ``row.hidden`` each share of ``counts`` (name -> (rows it counts, rows)) whose
    rows, or the others, are 1 to ``min_n`` - 1: 2 of 200 blind-set rows without a value
    read 0.01, telling of those 2 rows. The tests and the verdict still read them. With a
    missing share hidden, so is ``missing_p``: the test of the two shares, beside the rows
    of each set and the other share, gives the hidden one back (2 of 200 beside none of 200
    read 0.1563, 3 of 200 0.0821)."""
    hidden = {name for name, (count, rows) in counts.items() if small_side(count, rows, min_n)}
    row.hidden = frozenset(hidden | ({"missing_p"} if hidden else set()))


def ks_wasserstein(a: np.ndarray, b: np.ndarray, presorted: bool = False) -> tuple:
    """Return the two-sample KS statistic, its asymptotic p-value and the Wasserstein-1 distance.

    The same as ``scipy.stats.ks_2samp(a, b, method="asymp")`` and
    ``scipy.stats.wasserstein_distance(a, b)``; one sort serves all three.
    """
    if not presorted:
        a, b = np.sort(a), np.sort(b)
    # Merge the two sorted runs (a stable argsort of two runs is a linear merge) and count,
    # at each value, how many of a and of b lie at or below it: the two empirical CDFs.
    order = np.argsort(np.concatenate([a, b]), kind="stable")
    both = np.concatenate([a, b])[order]
    seen_a = np.cumsum(order < a.size)
    seen_b = np.arange(1, both.size + 1) - seen_a
    # Within a run of equal values only its last position has the CDFs' true values; the
    # gaps inside a run are zero, so the last positions alone give KS and Wasserstein.
    ends = np.flatnonzero(np.append(both[1:] != both[:-1], True))
    diff = seen_a[ends] / a.size - seen_b[ends] / b.size
    d = float(max(diff.max(), np.clip(-diff.min(), 0.0, 1.0)))
    m, n = sorted([float(a.size), float(b.size)], reverse=True)
    p = float(stats.distributions.kstwo.sf(d, np.round(m * n / (m + n))))
    w = float(np.sum(np.abs(diff[:-1]) * (both[ends[1:]] - both[ends[:-1]])))
    return d, p, w


def psi(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    """Return the population stability index of two share vectors, empty bins floored."""
    r, c = np.maximum(ref_share, PSI_FLOOR), np.maximum(cur_share, PSI_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def missing_test(miss_a: int, n_a: int, miss_b: int, n_b: int) -> float:
    """Return the two-sided p-value of the two-proportion z-test on missing shares."""
    pooled = (miss_a + miss_b) / (n_a + n_b)
    if pooled in (0.0, 1.0):
        return 1.0
    z = (miss_a / n_a - miss_b / n_b) / math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return float(2.0 * stats.norm.sf(abs(z)))


def _sorted_quantiles(values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Return ``np.quantile(values, q)`` for an already sorted array without sorting again."""
    if not values.size:
        return np.zeros(0)
    pos = q * (values.size - 1)
    low = np.floor(pos).astype(np.int64)
    high = np.minimum(low + 1, values.size - 1)
    return values[low] + (pos - low) * (values[high] - values[low])


def _decile_shares(ref: np.ndarray, cur: np.ndarray, n_ref: int, n_cur: int) -> tuple:
    """Shares per reference-decile bin plus a last *missing* bin, for both sets."""
    # ref is sorted: the deciles are read off it (linear interpolation, as np.quantile)
    edges = np.unique(_sorted_quantiles(ref, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    r_counts = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
    c_counts = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    r = np.append(r_counts, n_ref - ref.size) / n_ref
    c = np.append(c_counts, n_cur - cur.size) / n_cur
    return r, c


def _number_row(row: DriftRow, ref: np.ndarray, cur: np.ndarray, min_n: int) -> DriftRow:
    r, c = _decile_shares(ref, cur, row.rows_reference, row.rows_current)
    row.psi, row.js = psi(r, c), float(jensenshannon(r, c, base=2))
    if ref.size >= min_n and cur.size >= min_n:
        row.ks, row.ks_p, row.wasserstein = ks_wasserstein(ref, cur, presorted=True)
    return row


def _category_counts(ref: pl.Series, cur: pl.Series) -> tuple[list[str], np.ndarray]:
    """Return the categories present in either set (sorted) and their counts: a 2 x k array,
    the reference's row first."""
    ref, cur = ref.cast(pl.String).alias("value"), cur.cast(pl.String).alias("value")
    cats = pl.concat([ref.drop_nulls(), cur.drop_nulls()]).unique().sort()
    r = ref.drop_nulls().value_counts().rename({"count": "r"})
    c = cur.drop_nulls().value_counts().rename({"count": "c"})
    table = pl.DataFrame({"value": cats}).join(r, on="value", how="left")
    table = table.join(c, on="value", how="left")
    counts = table.select(pl.col("r", "c").fill_null(0)).to_numpy().T.astype(np.float64)
    return table["value"].to_list(), counts.reshape(2, -1)


def pool_rare(counts: np.ndarray, min_n: int) -> np.ndarray:
    """Return ``counts`` (2 x k) with the categories seen fewer than ``min_n`` times in both
    sets summed into one last column (none when no category is that rare)."""
    rare = counts.max(axis=0) < min_n
    if not rare.any():
        return counts
    return np.column_stack([counts[:, ~rare], counts[:, rare].sum(axis=1)])


def category_shares(
    feature: str, values: list[str], counts: np.ndarray, rows: tuple[int, int], min_n: int
) -> dict[str, Any]:
    """Return the ``table`` block of a text feature's category shares in both sets.

    A value is named when each set holds it at least ``min_n`` times or not at all (so no
    share tells of a smaller group), it does not look like an identifier and the feature is
    no identifier column; the :data:`MAX_CATEGORIES` most common such values are named, the
    rest summed in one :data:`OTHER` row, and the missing values in a :data:`MISSING` row.
    Shares are of all rows, so each column sums to 1; a share of 1 to ``min_n`` - 1 rows, or
    leaving that few (:func:`small_side`), is None.
    """
    big = np.flatnonzero(((counts == 0) | (counts >= min_n)).all(axis=0))
    big = big[np.argsort(-counts[:, big].max(axis=0), kind="stable")]  # most common first
    safe = (i for i in big if feature not in NOT_FEATURES and _nameable(values[i]))
    named = list(islice(safe, MAX_CATEGORIES))
    rest = np.ones(len(values), bool)
    rest[named] = False
    n_ref, n_cur = rows
    table = [[values[i] or EMPTY, counts[0, i], counts[1, i]] for i in named]
    if rest.any():
        table.append([OTHER, counts[0, rest].sum(), counts[1, rest].sum()])
    missing = n_ref - counts[0].sum(), n_cur - counts[1].sum()
    if any(missing):
        table.append([MISSING, *missing])

    columns = [
        _shown_shares([row[side] for row in table], n, min_n)
        for side, n in ((1, n_ref), (2, n_cur))
    ]
    return {
        "title": f"Category shares of {feature}",
        "columns": ["category", "share_reference", "share_current"],
        "rows": [[row[0], a, b] for row, a, b in zip(table, *columns, strict=True)],
    }


def _shown_shares(counts: list[float], n: int, min_n: int) -> list[float | None]:
    """The shares of one column of a category table: none for 1 to ``min_n`` - 1 rows, or
    leaving that few (:func:`small_side`). A column sums to 1, so the shares shown tell the
    sum of those hidden: while that sum is 1 to ``min_n`` - 1 rows (2 rows missing of 200
    beside 0.5 and 0.49), the smallest share shown is hidden too."""
    hidden = {i for i, c in enumerate(counts) if small_side(int(c), n, min_n)}
    while 0 < sum(counts[i] for i in hidden) < min_n:
        rest = [i for i, c in enumerate(counts) if i not in hidden and c > 0]
        if not rest:
            break
        hidden.add(min(rest, key=lambda i: counts[i]))
    return [None if i in hidden else round(float(c / n), 6) for i, c in enumerate(counts)]


def _category_row(row: DriftRow, ref: pl.Series, cur: pl.Series, min_n: int) -> DriftRow:
    values, counts = _category_counts(ref, cur)
    rows = (row.rows_reference, row.rows_current)
    row.shares = category_shares(row.feature, values, counts, rows, min_n)
    counts = pool_rare(counts, min_n)
    rs = np.append(counts[0], rows[0] - counts[0].sum()) / rows[0]
    cs = np.append(counts[1], rows[1] - counts[1].sum()) / rows[1]
    row.psi, row.js = psi(rs, cs), float(jensenshannon(rs, cs, base=2))
    if counts[0].sum() >= min_n and counts[1].sum() >= min_n and counts.shape[1] > 1:
        chi = stats.chi2_contingency(counts[:, counts.sum(axis=0) > 0], correction=False)
        row.chi2, row.chi2_p = float(chi.statistic), float(chi.pvalue)
    return row


def _verdict(row: DriftRow, alpha: float, min_gap: float) -> DriftRow:
    reasons = []
    gap = row.missing_current - row.missing_reference
    if row.missing_p < alpha and abs(gap) >= min_gap:
        reasons.append(
            f"missing share {row.share('missing_reference')} -> {row.share('missing_current')}"
        )
    if row.ks is not None and row.ks_p is not None and row.ks_p < alpha and row.ks >= min_gap:
        ks = "hidden" if "ks" in row.hidden else f"{row.ks:.2f}"
        reasons.append(f"values shifted (KS {ks})")
    if row.chi2_p is not None and row.chi2_p < alpha and (row.js or 0.0) >= min_gap:
        js = "hidden" if "js" in row.hidden else f"{row.js:.2f}"
        reasons.append(f"category mix shifted (JS {js})")
    row.drifted, row.reason = bool(reasons), "; ".join(reasons)
    return row


def series_drift(
    ref: pl.Series, cur: pl.Series, *, alpha: float, min_gap: float, min_n: int = 5
) -> DriftRow:
    """Return the drift row of one feature; ``alpha`` is already corrected for multiplicity.

    Assumes both series are non-empty; numeric series are compared as numbers (booleans
    beside numbers as 1/0), others as categories.
    """
    # booleans beside numbers are 1/0, as a model takes them: "true" and "1" as categories
    # told of a drift of 100% that was a type
    if ref.dtype == pl.Boolean and cur.dtype.is_numeric():
        ref = ref.cast(pl.Int8)
    if cur.dtype == pl.Boolean and ref.dtype.is_numeric():
        cur = cur.cast(pl.Int8)
    numeric = ref.dtype.is_numeric() and cur.dtype.is_numeric()
    miss_r, miss_c = ref.null_count(), cur.null_count()
    if numeric:
        miss_r += int(ref.is_nan().sum()) if ref.dtype.is_float() else 0
        miss_c += int(cur.is_nan().sum()) if cur.dtype.is_float() else 0
    row = DriftRow(
        feature=ref.name,
        type="number" if numeric else "category",
        rows_reference=ref.len(),
        rows_current=cur.len(),
        missing_reference=miss_r / ref.len(),
        missing_current=miss_c / cur.len(),
        missing_p=missing_test(miss_r, ref.len(), miss_c, cur.len()),
    )
    hide_small_shares(
        row,
        {"missing_reference": (miss_r, ref.len()), "missing_current": (miss_c, cur.len())},
        min_n,
    )
    if numeric:
        a = ref.cast(pl.Float64).to_numpy()
        b = cur.cast(pl.Float64).to_numpy()
        a, b = np.sort(a[np.isfinite(a)]), np.sort(b[np.isfinite(b)])
        row = _number_row(row, a, b, min_n)
    else:
        row = _category_row(row, ref, cur, min_n)
    _hide_measures_of_hidden_shares(row)
    return _verdict(row, alpha, min_gap)


#: The measures a row's hidden share can be read back from: PSI and Jensen-Shannon weigh
#: the missing share as a bin of its own, the chi-square tests the present values' counts
#: and the KS p-value their number, beside the rows of each set published; the KS statistic
#: and the Wasserstein distance of a blind set that is the reference less m rows moved by m
#: rows' weight (0.005 and 0.5 per row of 200 taken off the top of 0..199).
COUNTING_MEASURES = frozenset({"psi", "js", "chi2", "chi2_p", "ks", "ks_p", "wasserstein"})


def _hide_measures_of_hidden_shares(row: DriftRow) -> None:
    """Hide :data:`COUNTING_MEASURES` while a share of the row, its missing share or one of
    its category table's, is hidden: 2 of 200 blind-set rows without a country beside none
    of 200 read PSI 0.0458, where 1 row reads 0.0192 and 3 rows 0.0751. The verdict and the
    severity read them as before."""
    table = row.shares["rows"] if row.shares else []
    if row.hidden or any(share is None for line in table for share in line[1:]):
        row.hidden = row.hidden | COUNTING_MEASURES


def frame_drift(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    features: list[str],
    *,
    alpha: float,
    min_gap: float,
    min_n: int = 5,
    masked: dict[str, np.ndarray] | None = None,
) -> list[DriftRow]:
    """Return one drift row per feature present in both frames, Bonferroni over the features.

    ``masked`` (per feature, the rows of ``current`` a consent scenario masked) leaves those
    rows out of the comparison: when ``current`` is ``reference`` masked, their missing
    share (or default) is the scenario's by construction, not drift. The row tells their
    share in ``masked``.
    """
    shared = [f for f in features if f in reference.columns and f in current.columns]
    corrected = alpha / max(len(shared), 1)

    def one(feature: str) -> DriftRow:
        cur, rows = current[feature], (masked or {}).get(feature)
        if rows is not None and rows.all():  # nothing left to compare: no drift to tell
            ref = reference[feature]
            missing = ref.null_count() + (int(ref.is_nan().sum()) if ref.dtype.is_float() else 0)
            kind = "number" if ref.dtype.is_numeric() else "category"
            row = DriftRow(feature, kind, ref.len(), 0, missing / ref.len(), 1.0, 1.0, masked=1.0)
            hide_small_shares(row, {"missing_reference": (missing, ref.len())}, min_n)
            return row
        if rows is not None and rows.any():
            cur = cur.filter(pl.Series(~rows))
        row = series_drift(reference[feature], cur, alpha=corrected, min_gap=min_gap, min_n=min_n)
        if rows is not None:
            row.masked = float(rows.mean())  # drawn by the scenario: tells of no one
        return row

    # numpy's sorts and searches release the GIL: features run on every core
    workers = min(len(shared), os.cpu_count() or 1)
    if workers <= 1:
        return [one(f) for f in shared]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, shared))
