"""Plain-text helpers shared by the writers: numbers, metrics, locations, suppression."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from privdiag.findings import LOCATION_KEYS, OWNERSHIP_GAP, is_users, measure_name
from privdiag.privacy import scrub  # one redaction for reports and every other output

#: Metric and column names whose values are fractions, shown as percentages: the word at the
#: end, or as a word anywhere ("missing_share_denied", "missing share", "share_granted"), and
#: drift's missing shares of the reference and the current set (not ``missing_p``).
_SHARE = re.compile(
    r"(share|rate|ratio|pct|fraction)$|(^|[_ ])(share|rate|ratio|pct|fraction)[_ ]|^optin_"
    r"|^opt-in (before|after)$"
    r"|^missing_(reference|current)$"
)
#: The metrics that best sum up a finding, in order of preference.
KEY_METRICS = ("share", "events", "users", "drop", "delta", "auc_drop", "ece", "psi", "rate")
#: Metric keys that record how a finding was suppressed, not what it measured.
BOOKKEEPING = (
    "suppressed",
    "min_group_size",
    "no_user_ids",
    "suppressed_by_difference",
    "difference_with",
)


#: Readable labels of the metrics whose keys do not read as words (``gap_ci``, ``q_value``)
#: or do not say what they count; written to follow a number ("1,116 events"). Any other key
#: reads as its words (:func:`metric_label`).
METRIC_LABELS: dict[str, str] = {
    # consent gaps (sparsity.consent_gap)
    "gap": "gap (missing share, denied less granted)",
    "gap_ci": "gap, confidence interval",
    "gap_adjusted_for_day": "gap within each day",
    "missing_share_granted": "missing share, consent granted",
    "missing_share_denied": "missing share, consent denied",
    "missing_share_unknown": "missing share, consent unknown",
    "excess_missing_events": "events missing beyond the granted rate",
    "explained_share": "share of the missing values that consent explains",
    "events_denied": "events with the purpose denied",
    "denied_events": "events with the purpose denied and never granted",
    "events_granted": "events with the purpose granted",
    "feature_classified": "feature mapped to purposes in the config",
    "p_value": "p-value",
    "q_value": "q-value (corrected for many tests)",
    # compliance, identity
    "events_within_grace": "events within the grace window",
    "events_beyond_grace": "events beyond the grace window",
    "grace_seconds": "grace window (seconds)",
    "median_lead_seconds": "median lead time (seconds)",
    "users_total": "users in all",
    "identified_users": "identified users at the step (any consent state)",
    "events_total": "events in all",
    "events_without_session": "events without a session",
    "events_without_user_id": "events without a user id",
    "events_flag_granted": "events whose own flag grants what the log denied",
    "users_flag_granted": "users of events whose own flag grants what the log denied",
    "features_flag_granted": "features those events carry that need the purpose",
    # funnel, opt-in, shifts, trust
    "real_gap": "gap beyond identity loss",
    "real_gap_ci": "gap beyond identity loss, confidence interval",
    "identity_part": "part of the gap from identity loss",
    "identity_less_share": "share of the earlier step's events without identity (larger side)",
    "decided_on": "reported on",
    "change_day": "day of the change",
    "changes": "every change, by day",
    "optin_before": "opt-in rate before",
    "optin_after": "opt-in rate after",
    "persons_before": "persons deciding before",
    "persons_after": "persons deciding after",
    "version": "notice version",
    "version_before": "notice version before",
    "spearman_r": "Spearman correlation",
    # models
    "unmasked": "unmasked value",
    "scenario": "value under the scenario",
    "change_relative": "relative change",
    "better": "better when",
    "drop_low": "drop, low end of the interval",
    "drop_high": "drop, high end of the interval",
    "increase_low": "increase, low end of the interval",
    "ece_unmasked": "calibration error, unmasked",
    "ece_scenario": "calibration error under the scenario",
    "psi": "PSI",
    "js": "Jensen-Shannon distance",
    "ks": "KS statistic",
    "ks_p": "KS p-value",
    "chi2_p": "chi-square p-value",
    "wasserstein": "Wasserstein distance",
    "missing_reference": "missing share, reference",
    "missing_current": "missing share, current",
    "missing_p": "missing share, p-value",
    "rows_reference": "rows, reference",
    "rows_current": "rows, current",
}
#: Words of a metric key with no label that read better written out.
_KEY_WORDS = {
    "ci": "confidence interval",
    "p": "p-value",
    "q": "q-value",
    "optin": "opt-in",
    "ks": "KS",
    "js": "Jensen-Shannon",
    "psi": "PSI",
    "chi2": "chi-square",
    "ece": "calibration error",
    "auc": "AUC",
    "roc": "ROC",
    "rmse": "RMSE",
    "mae": "MAE",
}


def metric_label(name: str) -> str:
    """Return a metric's label as a reader reads it after a number: from
    :data:`METRIC_LABELS`, else its key's words (``events_within_grace`` -> ``events within
    grace``, ``auc_drop`` -> ``AUC drop``)."""
    if name in METRIC_LABELS:
        return METRIC_LABELS[name]
    words = [_KEY_WORDS.get(w.lower(), w) for w in re.split(r"[_\s]+", name) if w]
    return " ".join(words) or name


def suppressed(value: Any, min_group_size: int) -> bool:
    """True when ``value`` is a count of users above 0 and below ``min_group_size``."""
    return isinstance(value, int | float) and 0 < value < min_group_size


def cut(text: str, limit: int) -> str:
    """Return ``text`` cut to ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Where a sentence of privdiag's own (a note, a reason) turns to its advice: the last clause.
_CLAUSE = re.compile(r"[;:.] ")
#: Where a phrase ends inside a sentence, for :func:`shorten` to cut at.
_PHRASE_ENDS = (", ", "; ", ": ", ". ")


def shorten(text: str, limit: int) -> str:
    """Return ``text`` within ``limit`` characters, whole words only: whole when it fits,
    else its start, " … " and its last clause (after the last "; ", ": " or ". ") when that
    takes at most two thirds of the limit, since a note or reason ends in what to do, the
    start then ending at a phrase's end (before ", ", "; ", ": " or ". ") in its second half
    if one is there; else its start ending in "…". A word longer than the room left is cut
    as :func:`cut` does.

    Where the start would end inside an aside (a parenthesis), the words after it, often the
    verb that says what the sentence is about ("the consent gap of F (at page_view, ...) is
    not reported"), would be lost: the aside is shortened first ("(at page_view, view_item
    …)"), then the text is cut as above if it still needs to be."""
    if len(text) <= limit:
        return text
    for _ in range(3):  # an aside at a time: a sentence holds few
        short = _cut_at_phrases(text, limit)
        aside = _open_aside(text, short)
        squeezed = _squeeze(text, aside, len(text) - limit) if aside else text
        if squeezed == text:
            return short
        if len(squeezed) <= limit:
            return squeezed
        text = squeezed
    return _cut_at_phrases(text, limit)


#: The fewest characters an aside keeps when :func:`shorten` shortens it.
_MIN_ASIDE = 16


def _open_aside(text: str, short: str) -> tuple[int, int] | None:
    """The span (its "(" and ")") of the aside of ``text`` that the start of ``short`` (a cut
    of it) ends inside, None when it ends outside any or the aside is not closed."""
    head = short.split(" … ", 1)[0].removesuffix("…")
    depth, opened = 0, -1
    for n, char in enumerate(head):
        if char == "(":
            opened = n if depth == 0 else opened
            depth += 1
        elif char == ")" and depth:
            depth -= 1
    if not depth:
        return None
    for n in range(len(head), len(text)):
        if text[n] == "(":
            depth += 1
        elif text[n] == ")":
            depth -= 1
            if not depth:
                return opened, n
    return None


def _squeeze(text: str, aside: tuple[int, int], over: int) -> str:
    """``text`` with the inside of ``aside`` shortened by ``over`` characters or more (to no
    fewer than :data:`_MIN_ASIDE`), ending at a phrase's or word's end and in " …"."""
    start, end = aside
    inside = text[start + 1 : end]
    keep = max(len(inside) - over - 2, _MIN_ASIDE)
    if keep >= len(inside) - 2:
        return text
    kept = inside[: keep + 1]
    phrase = kept.rfind(", ")
    if phrase >= keep // 2:  # a list's items, whole
        kept = kept[:phrase]
    elif " " in kept:
        kept = kept[: kept.rindex(" ")]
    return f"{text[: start + 1]}{kept.rstrip(' ,;:')} …{text[end:]}"


def _cut_at_phrases(text: str, limit: int) -> str:
    """:func:`shorten`'s cut of ``text``, longer than ``limit``, at its phrases."""
    tail = ""
    ends = [m.end() for m in _CLAUSE.finditer(text)]
    if ends and len(text) - ends[-1] <= limit * 2 // 3:
        tail = " … " + text[ends[-1] :]
    room = limit - len(tail) - (0 if tail else 1)
    head = text[:room]
    if " " in head and not text[room].isspace():  # a word would be cut: end before it
        head = head[: head.rindex(" ")]
    # before a kept clause, end at a phrase's end ("(..., granted 85%), … whose"), not inside
    # one ("and 100% of … whose"), when that keeps at least half the room
    phrase = max(head.rfind(mark) for mark in _PHRASE_ENDS) if tail else -1
    if phrase >= room // 2:
        head = head[:phrase]
    return head.rstrip() + (tail or "…")


#: First strong isolate and pop directional isolate (U+2068, U+2069). With ``isolate``, the
#: sentences below put each name from the data between them; the HTML report turns them into
#: ``<bdi>``, so that a right-to-left name (Hebrew, Arabic) does not pull the words, numbers
#: and punctuation beside it into its own direction. Data never holds them:
#: :func:`~privdiag.privacy.scrub` replaces them.
FSI, PDI = "\u2068", "\u2069"


def isolated(name: str, isolate: bool = True) -> str:
    """Return ``name`` between :data:`FSI` and :data:`PDI` when ``isolate``, else as it is."""
    return f"{FSI}{name}{PDI}" if isolate else name


def fmt_number(value: float | int) -> str:
    """Return a short human form: thousands separators, three significant digits."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) or (
        isinstance(value, float) and value.is_integer() and abs(value) >= 1000
    ):
        return f"{int(value):,}"
    if math.isnan(value):  # undefined (as a precision with no positive prediction): as null
        return "–"
    if math.isinf(value):
        return str(value)
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def fmt_value(value: Any) -> str:
    """Return any JSON value as short text (scrubbed); long structures are cut."""
    if value is None:
        return "–"
    if isinstance(value, int | float):
        return fmt_number(value)
    if isinstance(value, str):
        return scrub(value)
    text = json.dumps(value, sort_keys=True, default=str)
    return scrub(text if len(text) <= 80 else text[:77] + "…")


def fmt_metric(name: str, value: Any, min_group_size: int = 5) -> str:
    """Return a metric's value as text: shares as percentages, small user counts as ``<k``."""
    if is_users(name) and suppressed(value, min_group_size):
        return f"<{min_group_size}"
    if is_share(name) and isinstance(value, float) and (percent := as_percent(value)):
        return percent
    return fmt_value(value)


def is_share(name: str) -> bool:
    """True when a metric or table column named ``name`` holds fractions (shown as %)."""
    return bool(_SHARE.search(name.lower()))


def as_percent(value: float) -> str | None:
    """A share's value as a percentage ("12.5%"); None when it is no fraction (beyond ±1.5,
    a value written as a percentage already)."""
    return f"{value * 100:.1f}%" if -1.5 <= value <= 1.5 else None


#: What each kind's ``share`` metric is a share of, as words that follow the percentage
#: ("12.5% of the purchase events with ads denied carry gclid"); ``{key}`` is a key of the
#: finding's location or metrics. Other kinds' shares read as a bare "share".
SHARE_OF: dict[str, str] = {
    # a violation's events exclude the withdrawals (consent.after_withdrawal counts those)
    "consent.violation": "of the {step} events with {purpose} denied and never granted "
    "carry {feature}",
    "consent.pre_consent": "of the {step} events before any {purpose} decision carry {feature}",
    "consent.after_withdrawal": "of the {step} events carrying {feature} after {purpose} "
    "consent was withdrawn come past the grace window",
    "consent.conflict": "of the events with both their own {purpose} flag and a logged "
    "decision disagree with the log",
    "consent.missing_record": "of the source's users with events have no consent decision",
    "sparsity.consent_gap": "of the {step} events with {purpose} denied lack {feature}",
    "identity.loss": "of the {step} events have no stable identity",
    "funnel.consent_drop": "of the users denying {purpose} go on from {from_step} to {step}",
    "people.optin_drop": "of the persons deciding after the change opt in to {purpose}",
}
# sparsity.shift's share is the value after the change of the series it follows; a
# feature's series counts only the event names that ever carry it (its ``events``).
_SHIFT_OF = {
    "feature": "of the events after the change, of the event names that carry {feature}, lack it",
    "purpose": "is the {purpose} consent rate after the change",
}
# consent.missing_record of a source without user ids counts its events (no_user_ids).
_MISSING_EVENTS_OF = "of the source's events carry neither a user id nor a consent flag"
# Words for a key a finding does not have.
_UNNAMED = {"step": "step's", "feature": "the feature", "purpose": "the purpose"}


def share_of(
    kind: str, location: dict[str, Any], metrics: dict[str, Any], isolate: bool = False
) -> str:
    """Return what a finding's ``share`` is a share of, as words that follow the percentage,
    or ``''`` for a kind that does not say; the names in it :func:`isolated` when
    ``isolate``."""
    text = SHARE_OF.get(kind, "")
    if kind == "sparsity.shift":
        text = _SHIFT_OF["feature" if location.get("feature") else "purpose"]
    if kind == "consent.missing_record" and metrics.get("no_user_ids"):
        text = _MISSING_EVENTS_OF
    named = {k: isolated(fmt_value(v), isolate) for k, v in (metrics | location).items() if v}
    values = {**_UNNAMED, **named}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[1]), text)


def key_figure(
    metrics: dict[str, Any],
    min_group_size: int = 5,
    kind: str = "",
    location: dict[str, Any] | None = None,
    isolate: bool = False,
) -> str:
    """Return the one metric that best sums up a finding, as ``name value``, or ``''``.

    A model's quality change reads as the measure, its signed change and whether that is
    worse or better (``RMSE +7.04 (worse)``, ``ROC AUC -0.2255 (worse)``): a bare "drop"
    would not say which way an error measure moved, nor a bare sign whether that is good.
    A fragile feature's loss reads as its measure's signed change too (``ROC AUC -0.0771``,
    ``RMSE +151.8%``: its ``unit``, RMSE's rise relative to the unmasked value).
    A share reads as what it is a share of when ``kind`` says (:data:`SHARE_OF`), its names
    :func:`isolated` when ``isolate``.
    A finding whose key counts are suppressed reads ``<k users``, never a bookkeeping key.
    """
    change = metrics.get("change")
    if isinstance(metrics.get("measure"), str) and isinstance(change, int | float):
        worse_by = metrics.get("drop")
        if not is_number(worse_by) and metrics.get("better") in ("higher", "lower"):
            worse_by = -change if metrics["better"] == "higher" else change
        way = which_way(worse_by, None, None)
        return f"{fmt_value(measure_name(metrics['measure']))} {change:+.4g}" + (
            f" ({way})" if way != "–" else ""
        )
    unit, drop = metrics.get("unit"), metrics.get("drop")
    if isinstance(unit, str) and is_number(drop):  # a fragile feature's loss, signed as above
        if unit.startswith("relative RMSE"):
            return f"RMSE {drop:+.1%}"
        return f"{fmt_value(unit)} {-drop:+.4g}"
    for name in KEY_METRICS:
        if name in metrics and metrics[name] is not None:
            value = fmt_metric(name, metrics[name], min_group_size)
            meaning = share_of(kind, location or {}, metrics, isolate) if name == "share" else ""
            return f"{value} {meaning or _count_noun(name, value)}"
    hidden = metrics.get("suppressed") or []
    k = metrics.get("min_group_size", min_group_size)
    large = metrics.get("suppressed_by_difference")  # hidden, but not small: not "<k"
    if "users" in hidden and isinstance(large, list) and "users" in large:
        return f"users hidden (they would tell a group of <{k} by difference)"
    if "users" in hidden:
        few = f"<{k} users"
        if is_number(anonymous := metrics.get("events_without_user_id")):
            return f"{few} and {fmt_value(anonymous)} events without a user id"
        return few
    for name, value in metrics.items():
        if name not in BOOKKEEPING and isinstance(value, int | float):
            shown = fmt_metric(name, value, min_group_size)
            return f"{shown} {_count_noun(name, shown)}"
    return ""


def which_way(worse_by: Any, low: Any, high: Any) -> str:
    """Return whether a model is ``worse`` or ``better`` under a scenario, from how much worse
    it is (``worse_by``, positive when worse whatever the measure's direction) and that
    amount's interval (``low``, ``high``; None: unknown): ``worse, within noise`` when the
    interval holds no change too, ``no change`` for 0, ``–`` when not a number."""
    if not is_number(worse_by) or math.isnan(worse_by):
        return "–"
    if worse_by == 0:
        return "no change"
    way = "worse" if worse_by > 0 else "better"
    if is_number(low) and is_number(high) and low <= 0 <= high:
        return f"{way}, within noise"
    return way


def is_number(value: Any) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _count_noun(name: str, shown: str) -> str:
    """``name``'s label as the noun after the value ``shown``: ``1 event``, ``1 decision``,
    ``<5 users``, ``0.0097 calibration error, unmasked``."""
    label = metric_label(name)
    return label[:-1] if shown == "1" and label.endswith("s") else label


def location_items(location: dict[str, Any]) -> list[tuple[str, str]]:
    """Return a location's (key, value) pairs in the canonical key order, scrubbed."""
    keys = [k for k in LOCATION_KEYS if k in location] + sorted(set(location) - set(LOCATION_KEYS))
    return [(k, fmt_value(location[k])) for k in keys]


def location_text(location: dict[str, Any], isolate: bool = False) -> str:
    """Return a location as ``key=value, …`` (``–`` when empty), the values :func:`isolated`
    when ``isolate``."""
    items = location_items(location)
    return ", ".join(f"{k}={isolated(v, isolate)}" for k, v in items) if items else "–"


def ownership_gaps(findings: list[dict[str, Any]]) -> set[str]:
    """Return the ids of the findings that say nobody owns something (:data:`OWNERSHIP_GAP`)."""
    return {f["id"] for f in findings if f.get("kind") == OWNERSHIP_GAP}


def true_causes(finding: dict[str, Any], gaps: set[str]) -> list[str]:
    """Return the ids ``finding`` names in ``caused_by``, without the ownership gaps."""
    return [c for c in finding.get("caused_by") or [] if c not in gaps]


def is_root_cause(finding: dict[str, Any], findings: list[dict[str, Any]]) -> bool:
    """True when another finding names ``finding`` among its causes and none of the causes
    ``finding`` names is in ``findings`` (a link in the middle of a chain is no root).

    A missing owner is no cause (:data:`OWNERSHIP_GAP`): its links count for neither side."""
    return finding["id"] in root_causes(findings)


def root_causes(findings: list[dict[str, Any]]) -> set[str]:
    """Return the ids of the findings :func:`is_root_cause` holds true for, in one pass (a
    report of thousands of findings cannot afford a scan of all per finding)."""
    ids = {f["id"] for f in findings}
    gaps = ownership_gaps(findings)
    named = {c for f in findings for c in true_causes(f, gaps) if c != f["id"]}
    return {
        f["id"]
        for f in findings
        if f["id"] in named and not any(c in ids and c != f["id"] for c in true_causes(f, gaps))
    }


def gap_subject(gap: dict[str, Any], isolate: bool = False) -> str:
    """Return what an ownership gap is about, as ``source web`` (its location's first key), the
    name :func:`isolated` when ``isolate``."""
    items = location_items(gap.get("location") or {})
    if not items:
        return "this input"
    key, value = items[0]
    return f"{key} {isolated(cut(value, 200), isolate)}"


#: Characters of a finding's title that :func:`who_must_act` names in its sentence.
NAMED_TITLE = 100


def who_must_act(gap: dict[str, Any], left: list[dict[str, Any]], isolate: bool = False) -> str:
    """Return the sentence that says whom the findings ``left`` (those linked to the ownership
    gap ``gap``) lack: ``Nobody owns source web: these 3 consent findings have no one to act on
    them.``; those with an owner of their own are told apart, and one finding alone is named
    by its title (cut to :data:`NAMED_TITLE` characters). They are the source's consent
    findings (:mod:`privdiag.chains`), so the sentence says so: "of its 5 findings" read as all
    of a source's findings where it had 27. The name of what nobody owns, and that title, are
    :func:`isolated` when ``isolate``."""
    subject, n = gap_subject(gap, isolate), len(left)
    ownerless = sum(1 for f in left if not f.get("owner"))
    if ownerless == n:
        these = (
            f"{_named(left[0], isolate)} has"
            if n == 1
            else f"these {fmt_number(n)} consent findings have"
        )
        return f"Nobody owns {subject}: {these} no one to act on {'it' if n == 1 else 'them'}."
    if ownerless == 0:
        have = (
            f"{_named(left[0], isolate)} has an owner"
            if n == 1
            else f"{fmt_number(n)} consent findings there have owners"
        )
        own = "its own" if n == 1 else "their own"
        return (
            f"Nobody owns {subject}: {have} of {own}, "
            f"but no one answers for the {subject.split()[0]} itself."
        )
    return (
        f"Nobody owns {subject}: of its {fmt_number(n)} consent findings, {fmt_number(ownerless)} "
        f"{'has' if ownerless == 1 else 'have'} no one to act on "
        f"{'it' if ownerless == 1 else 'them'} "
        + (
            "(the other has an owner of its own)."
            if n - ownerless == 1
            else "(the others have an owner of their own)."
        )
    )


def _named(finding: dict[str, Any], isolate: bool) -> str:
    """A finding as a sentence names it: its title (else its kind) in quotes, cut."""
    title = finding.get("title") or finding.get("kind")
    if not title:
        return "this finding"
    return f"“{isolated(cut(fmt_value(title), NAMED_TITLE), isolate)}”"


def missing_owners(findings: list[dict[str, Any]]) -> list[str]:
    """Return :func:`who_must_act` of each ownership gap that some findings name in
    ``caused_by``, in the findings' order."""
    gaps = ownership_gaps(findings)
    left: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        for c in dict.fromkeys(f.get("caused_by") or []):
            if c in gaps and c != f["id"]:
                left.setdefault(c, []).append(f)
    return [who_must_act(g, left[g["id"]]) for g in findings if g["id"] in left]
