"""A finding's metrics as its card in the HTML report shows them: readable labels, and
values in words where a bare number or null would mislead."""

from __future__ import annotations

from typing import Any

from privdiag.findings import measure_name
from privdiag.report.evidence import listed
from privdiag.report.text import (
    BOOKKEEPING,
    cut,
    fmt_metric,
    fmt_number,
    fmt_value,
    is_number,
    is_users,
    metric_label,
)

#: Names a metric that lists names shows (``masked_features``), and characters of each.
LISTED_NAMES = 10
LISTED_NAME = 100


#: The metrics of a kind that hold fractions under names that do not say so: a shift's
#: missing share or consent rate before and after its day, and the change between them.
KIND_SHARES: dict[str, tuple[str, ...]] = {"sparsity.shift": ("before", "after", "change")}

#: The metrics of a kind that hold a difference of two rates shown as percentages: an opt-in
#: drop's ``drop`` (73.9% before, 52.1% after) reads "21.8 points", not "0.218".
KIND_POINTS: dict[str, tuple[str, ...]] = {"people.optin_drop": ("drop",)}

#: Coded metric values in words: a lead time's verdict (consent.pre_consent).
VALUE_WORDS: dict[str, dict[str, str]] = {
    "verdict": {
        "before_banner": "tags fire before the banner",
        "clock_skew": "clock skew (within the grace window)",
    }
}


#: A regressor's loss is RMSE's rise relative to its unmasked value (1.52: +151.8%), which
#: "drop 1.52" told the wrong way: these labels say what it is, the value a percentage.
RELATIVE_RISE = {
    "drop": "RMSE rise, relative to unmasked",
    "drop_low": "RMSE rise, low end of the interval",
    "drop_high": "RMSE rise, high end of the interval",
}


def relative_rise(metrics: dict[str, Any]) -> bool:
    """True when a model finding's ``drop`` is RMSE's relative rise: a fragile feature's
    ``unit`` says so, a degradation's drop is then its ``change_relative`` (both rounded to
    six places)."""
    unit = metrics.get("unit")
    if isinstance(unit, str):
        return unit.startswith("relative RMSE")
    drop, relative = metrics.get("drop"), metrics.get("change_relative")
    return (
        metrics.get("measure") == "rmse"
        and is_number(drop)
        and is_number(relative)
        and abs(drop - relative) <= 2e-6
    )


def metric_items(metrics: dict[str, Any], k: int, kind: str = "") -> list[tuple[str, str]]:
    """Return a finding's metrics as (label, text), the label :func:`metric_label` with a
    capital; suppressed user counts read ``<k``, true and false ``yes`` and ``no``, and an
    interval (a key ending in ``_ci``) ``low to high``. A fraction of :data:`KIND_SHARES`
    reads as a percentage (a change in points), a coded value of :data:`VALUE_WORDS` in
    words, a relative change and a regressor's relative RMSE rise (:data:`RELATIVE_RISE`)
    as signed percentages.

    The scan writes a suppressed value as null and lists it under ``suppressed`` with the
    ``min_group_size`` it used; those bookkeeping keys are not shown themselves. Other
    suppressed values (the events or share of those few users) read ``hidden``: ``<k`` would
    claim fewer than k events, or a share below k; so does a user count hidden because it
    would tell another, small count by difference (listed under
    ``suppressed_by_difference``), which may be large. A user count the events could not tell,
    having no user ids (null, listed under ``no_user_ids``), says so plainly
    (:func:`no_user_ids_text`): unknown, not 0. An empty list is left out.
    """
    # listed: an edited result may hold a number or a text there, not a list
    hidden = {str(n) for n in listed(metrics.get("suppressed")) if isinstance(n, str)}
    unknown = {str(n) for n in listed(metrics.get("no_user_ids")) if isinstance(n, str)}
    large = {str(n) for n in listed(metrics.get("suppressed_by_difference")) if isinstance(n, str)}
    size = metrics.get("min_group_size", k)
    rising = relative_rise(metrics)
    items = []
    for name, value in metrics.items():
        if name in BOOKKEEPING or (isinstance(value, list | tuple) and not value):
            continue  # an empty list ("notice_versions: []") tells a reader nothing
        if name == "changes" and isinstance(value, list) and len(value) == 1:
            continue  # a shift's only change: the card's before, after and day say it
        text = _metric_text(str(name), value, k)
        if name in KIND_SHARES.get(kind, ()) and is_number(value):
            text = f"{value * 100:+.1f} points" if name == "change" else f"{value * 100:.1f}%"
        elif name in KIND_POINTS.get(kind, ()) and is_number(value):
            text = f"{value * 100:.1f} points"
        elif isinstance(value, str) and value in VALUE_WORDS.get(str(name), {}):
            text = VALUE_WORDS[str(name)][value]
        if name in hidden and value is None:
            text = f"<{size}" if is_users(str(name)) and name not in large else "hidden"
        elif name in unknown and value is None:
            text = no_user_ids_text(metrics)
        label = metric_label(str(name))
        if is_number(value) and (name == "change_relative" or name in RELATIVE_RISE and rising):
            text = f"{value * 100:+.1f}%"
            label = RELATIVE_RISE.get(str(name), label)
        items.append((label[:1].upper() + label[1:], text))
    return items


def _metric_text(name: str, value: Any, k: int) -> str:
    """A metric's value on a finding's card: :func:`fmt_metric`, but yes or no for a flag,
    ``low to high`` for an interval of two numbers, names listed with commas and a model's
    measure by its name (``ROC AUC``)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    items = listed(value)
    if name.endswith("_ci") and len(items) == 2 and all(is_number(v) for v in items):
        return f"{fmt_metric(name, items[0], k)} to {fmt_metric(name, items[1], k)}"
    if items and all(isinstance(v, str) for v in items):
        names = ", ".join(cut(fmt_value(v), LISTED_NAME) for v in items[:LISTED_NAMES])
        return names + _more(items)
    if name == "measure" and isinstance(value, str):
        return fmt_value(measure_name(value))
    if items and all(_is_rate_change(v) for v in items):
        changes = (
            f"{cut(fmt_value(v['purpose']), LISTED_NAME)} {_from_to(v)}"
            for v in items[:LISTED_NAMES]
        )
        return "; ".join(changes) + _more(items)
    if items and all(_is_day_change(v) for v in items):
        return "; ".join(_from_to(v) for v in items[:LISTED_NAMES]) + _more(items)
    return fmt_metric(name, value, k)


def _from_to(change: dict[str, Any]) -> str:
    """A change of a share, "90% to 30%", followed by its day when it has one; a share hidden
    for a small side (null) reads "hidden"."""
    day = change.get("day")
    on = f" on {cut(fmt_value(day), LISTED_NAME)}" if isinstance(day, str) else ""
    before, after = (
        "hidden" if change[k] is None else f"{change[k]:.0%}" for k in ("before", "after")
    )
    return f"{before} to {after}{on}"


def _is_day_change(value: Any) -> bool:
    """Whether ``value`` is one of a shift's ``changes``: a day and the shares before and
    after it, fractions (shown as "10% to 70% on 2026-10-06")."""
    return _share_change(value, "day")


def _share_change(value: Any, named: str) -> bool:
    """Whether ``value`` is a record of a share's change: a text under ``named`` and its
    ``before`` and ``after``, fractions from 0 to 1 or null (hidden for a small side)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get(named), str)
        and all(k in value for k in ("before", "after"))
        and all(
            value[k] is None or is_number(value[k]) and 0 <= value[k] <= 1
            for k in ("before", "after")
        )
    )


def _more(items: list[Any]) -> str:
    """ " and N more" after the first :data:`LISTED_NAMES` of ``items``, else ""."""
    more = len(items) - LISTED_NAMES
    return f" and {fmt_number(more)} more" if more > 0 else ""


def _is_rate_change(value: Any) -> bool:
    """Whether ``value`` is one of a shift's ``consent_rate_changes``: a purpose and its rate
    before and after, fractions (shown as "ads 0% to 83%" rather than as JSON)."""
    return _share_change(value, "purpose")


def no_user_ids_text(metrics: dict[str, Any]) -> str:
    """The users of a finding whose rows carry no user id at all, in plain words: how many
    events (or consent decisions) that is, and why there is no count of people."""
    for name, noun in (("events", "event"), ("decisions", "consent decision")):
        rows = metrics.get(name)
        if is_number(rows) and rows > 0:
            counted = f"{fmt_number(rows)} {noun}{'s' if rows != 1 else ''}"
            verb = "carries" if rows == 1 else "carry"
            return (
                f"not countable: these {counted} {verb} no user id (cookieless pings, for example)"
            )
    return "not countable: these events carry no user id (cookieless pings, for example)"
