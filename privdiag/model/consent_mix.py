"""The observed scenario's consent draw: each row's consent state per purpose.

Two ways, both deterministic from the seed:

- joint: each row draws one combination of consent states from the scan's consent mix
  (``evidence.consent_mix``), so purposes denied together by one answer ("reject all") are
  denied together; a purpose the combination leaves unknown is drawn at its consent rate,
  and each purpose of the pooled share (combinations of too few users) at the rate that
  keeps the purpose's share granted at its consent rate (:func:`pooled_rates`).
- independent: each purpose is drawn at its rate on its own (``--consent-rates``, or a scan
  result written before the mix was recorded).

The rates themselves come from the scan result or from ``--consent-rates``
(:func:`parse_consent_rates`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from privdiag.config_values import did_you_mean
from privdiag.errors import InputError, UsageError
from privdiag.purposes import PURPOSES, canonical

JOINT, INDEPENDENT = "joint", "independent"
# How a combination holds a purpose besides granted (1) and denied (0): unknown, drawn at
# the purpose's rate; pooled, drawn at the pool's (pooled_rates).
UNKNOWN, POOLED = -1, -2


@dataclass(frozen=True)
class MixEntry:
    """One combination of the consent mix and its share of those with a decision (persons,
    or events in a scan result of an older privdiag).

    ``granted`` and ``denied`` are None on the pooled share: its purposes are drawn one by
    one at their rates. A purpose in neither set is unknown there, drawn at its rate too.
    """

    granted: frozenset[str] | None
    denied: frozenset[str] | None
    share: float


def read_mix(raw: Any, path: Path | None = None) -> list[MixEntry] | None:
    """Return the consent mix ``raw`` as a scan result holds it at ``evidence.consent_mix``
    (read from ``path``); None when there is none (a scan by an older privdiag) or it is
    empty (no event had a decision).

    Raises InputError for a mix that is not a list of ``{granted, denied, share}``.
    """
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list):
        raise _bad(path, "is not a list")
    entries = [_entry(item, path, n) for n, item in enumerate(raw)]
    _refuse_repeated(entries, path)
    total = sum(e.share for e in entries)
    if not total > 0:
        raise _bad(path, "has no share above 0")
    if abs(total - 1.0) > _slack(entries):  # a scan's shares, rounded, sum to 1
        raise _bad(path, f"has shares that sum to {total:.6g}, not 1")
    return entries


def check_rates(mix: list[MixEntry], rates: dict[str, float], path: Path | None = None) -> None:
    """Raise InputError when ``mix`` cannot be the mix of the events ``rates`` were taken
    from: per purpose, the rate less the share the shown combinations grant it (their
    unknown share at the rate) is what the pooled share grants, so from 0 to that share.
    A scan's own mix and rates meet this up to their rounding; an edited one may not, and
    its draw would then grant a purpose as often as the mix says, not the rate. A scan gives
    a rate to every purpose its mix names; a purpose without one would be drawn from the mix
    where the run says it is granted on every row."""
    named = set().union(*((e.granted or set()) | (e.denied or set()) for e in mix))
    if unrated := sorted(named - set(rates)):
        raise _bad(path, f"names {unrated[0]!r}, which evidence.consent_rates gives no rate")
    total = sum(e.share for e in mix)
    pool = sum(e.share for e in mix if e.granted is None) / total
    for purpose, rate in sorted(rates.items()):
        codes = [(_code(e, purpose), e.share / total) for e in mix]
        granted = sum(share for code, share in codes if code == 1)
        unknown = sum(share for code, share in codes if code == UNKNOWN)
        left = rate - granted - rate * unknown
        if not -_slack(mix) <= left <= pool + _slack(mix):
            raise _bad(
                path,
                f"grants {purpose} on {granted + rate * unknown:.1%} of the mix (its pooled "
                f"share {pool:.1%} besides), where "
                f"evidence.consent_rates says {rate:.1%}",
            )


# The most entries a scan writes: every combination of states (granted, denied, unknown)
# of the canonical purposes, and the pooled share.
MOST_ENTRIES = 3 ** len(PURPOSES) + 1


def _slack(entries: list[MixEntry]) -> float:
    """How far a sum over the mix may stray by the rounding of its shares (6 places) and of
    the rates: a millionth an entry, up to as many entries as a scan writes (a hand-made mix
    of a million entries passed with shares summing to 0.7)."""
    return 1e-6 * (min(len(entries), MOST_ENTRIES) + 2)


def drawable(mix: list[MixEntry] | None, why: str) -> tuple[list[MixEntry] | None, str]:
    """Return ``mix`` and ``why`` (the reason there is no mix), or, for a mix whose every
    combination was pooled, None and the reason: its draw is each purpose on its own."""
    if mix is None or any(e.granted is not None for e in mix):
        return mix, why
    return None, "every combination of the scan's consent mix is of too few users, so pooled"


def _refuse_repeated(entries: list[MixEntry], path: Path | None) -> None:
    """InputError naming the first combination (or pooled share) the mix holds twice: a
    scan writes each once, and a repeated one is drawn as often as its shares together."""
    seen: dict[tuple[Any, Any], int] = {}
    for n, e in enumerate(entries):
        first = seen.setdefault((e.granted, e.denied), n)
        if first != n:
            what = "the pooled share" if e.granted is None else "one combination"
            raise _bad(path, f"holds {what} twice (entries {first + 1} and {n + 1})")


def _entry(item: Any, path: Path | None, n: int) -> MixEntry:
    """One entry of the mix; InputError naming its place when it does not read as one."""
    where = f"entry {n + 1}"
    if not isinstance(item, dict):
        raise _bad(path, f"{where} is not an object")
    share = item.get("share")
    if isinstance(share, bool) or not isinstance(share, int | float):
        raise _bad(path, f"{where} has no share")
    if math.isnan(share):  # a hand-edited result: Python's JSON reads NaN
        raise _bad(path, f"{where} has a share that is not a number (NaN)")
    if not (math.isfinite(share) and 0.0 <= share <= 1.0):
        raise _bad(path, f"{where} has a share outside 0 to 1")
    granted, denied = item.get("granted"), item.get("denied")
    if granted is None and denied is None:
        return MixEntry(None, None, float(share))
    lists = (granted, denied)
    if not all(isinstance(x, list) and all(isinstance(p, str) for p in x) for x in lists):
        raise _bad(path, f"{where}: granted and denied are lists of purposes (or both null)")
    if both := sorted(set(granted) & set(denied)):
        raise _bad(path, f"{where} names {both[0]!r} both granted and denied")
    return MixEntry(frozenset(granted), frozenset(denied), float(share))


def _bad(path: Path | None, what: str) -> InputError:
    return InputError(
        f"evidence.consent_mix {what}",
        path=path,
        field="evidence.consent_mix",
        hint="pass the JSON written by privdiag scan --json, unchanged; or pass "
        "--consent-rates to draw each purpose on its own",
    )


def draw_denials(
    n: int,
    purposes: list[str],
    rates: dict[str, float],
    mix: list[MixEntry] | None,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Return, per purpose of ``purposes``, which of ``n`` rows deny it.

    Without ``mix`` each purpose is drawn on its own at its rate, in the order given; with
    it each row first draws its combination (by the shares, taken relative to their sum),
    then each purpose is decided by the combination; where it leaves the purpose unknown,
    drawn at the rate, and on the pooled share at :func:`pooled_rates`, so that a purpose is
    granted on as many rows as its rate says either way. A purpose without a rate is
    granted.
    """
    pick = None if mix is None else _pick(n, mix, rng)
    pooled = {} if mix is None else pooled_rates(mix, rates)
    denied = {}
    for purpose in purposes:
        draw = rng.uniform(size=n)
        alone = draw >= rates[purpose] if purpose in rates else np.zeros(n, bool)
        if mix is None or pick is None:
            denied[purpose] = alone
            continue
        # per combination: 1 granted, 0 denied, UNKNOWN at the rate, POOLED at the pool's
        codes = np.array([_code(e, purpose) for e in mix], dtype=np.int8)[pick]
        in_pool = draw >= pooled.get(purpose, 1.0)
        drawn = np.where(codes == POOLED, in_pool, alone)
        denied[purpose] = np.where(codes < 0, drawn, codes == 0)
    return denied


def pooled_rates(mix: list[MixEntry], rates: dict[str, float]) -> dict[str, float]:
    """Return, per purpose with a rate, the share granted on the pooled share of the mix:
    what the rate leaves once the shown combinations have taken theirs (their unknown
    purposes at the rate). Drawn at it, a row of the mix is granted the purpose as often as
    the rate says, as the scan's events were; empty when nothing is pooled.

    With rate r, shown shares s_G granted and s_U unknown and pooled share s_O (each of the
    whole mix): s_G + r s_U + x s_O = r, so x = (r - s_G - r s_U) / s_O, kept within 0 to 1
    (the shares and rates are rounded).
    """
    total = sum(e.share for e in mix)
    pool = sum(e.share for e in mix if e.granted is None) / total
    if pool <= 0:
        return {}
    out = {}
    for purpose, rate in rates.items():
        codes = [(_code(e, purpose), e.share / total) for e in mix]
        granted = sum(share for code, share in codes if code == 1)
        unknown = sum(share for code, share in codes if code == UNKNOWN)
        out[purpose] = min(1.0, max(0.0, (rate - granted - rate * unknown) / pool))
    return out


def _pick(n: int, mix: list[MixEntry], rng: np.random.Generator) -> np.ndarray:
    """The index of the combination each of ``n`` rows draws, by the entries' shares."""
    shares = np.array([e.share for e in mix], dtype=np.float64)
    bounds = np.cumsum(shares / shares.sum())
    return np.minimum(np.searchsorted(bounds, rng.uniform(size=n), side="right"), len(mix) - 1)


def _code(entry: MixEntry, purpose: str) -> int:
    """1 when ``entry`` grants ``purpose``, 0 when it denies it, else UNKNOWN or POOLED."""
    if entry.granted is None:
        return POOLED
    if purpose in entry.granted:
        return 1
    if entry.denied is not None and purpose in entry.denied:
        return 0
    return UNKNOWN


def parse_consent_rates(text: str) -> dict[str, float]:
    """Return ``{purpose: share granted}`` from ``analytics=0.62,ads=41%``.

    Purposes go through the built-in aliases; shares are in [0, 1] or percentages.
    Raises UsageError naming the bad item.
    """
    rates: dict[str, float] = {}
    items: dict[str, str] = {}  # purpose -> the item that gave it
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(
                f"--consent-rates: cannot read {item!r}",
                hint="write purpose=share pairs, e.g. analytics=0.62,ads=0.41",
            )
        purpose = canonical(name) or _unknown_purpose(name.strip())
        try:
            share = float(value.strip().rstrip("%")) / (100 if value.strip().endswith("%") else 1)
        except ValueError:
            share = -1.0
        if not 0.0 <= share <= 1.0:
            raise UsageError(
                f"--consent-rates: {item!r} is not a share between 0 and 1",
                hint="e.g. analytics=0.62 or analytics=62%",
            )
        if purpose in rates:
            raise UsageError(
                f"--consent-rates: purpose {purpose!r} is given twice ({items[purpose]!r} and "
                f"{item!r})",
                hint="give each purpose one share (aliases such as marketing name the same "
                "purpose as ads)",
            )
        rates[purpose] = share
        items[purpose] = item
    if not rates:
        raise UsageError("--consent-rates is empty", hint="e.g. analytics=0.62,ads=0.41")
    return rates


def _unknown_purpose(name: str) -> NoReturn:
    """Raise the UsageError for a --consent-rates purpose that no alias maps, naming the
    closest canonical purpose."""
    raise UsageError(
        f"--consent-rates: unknown purpose {name!r}{did_you_mean(name, PURPOSES, table=False)}",
        hint=f"use one of {', '.join(PURPOSES)}",
    )
