"""``people.trust_gap``: segments where low survey trust goes with low opt-in.

With respondent ids that match the consent log, each respondent is a unit: trust against the
first decision on each purpose. Otherwise each survey segment is a unit: its mean trust
against the opt-in of the persons whose region, device, channel, source or notice version is
that segment. The correlation is Spearman's, with a Fisher z interval (Bonett-Wright standard
error) at level ``1 - alpha / purposes``; a finding needs the whole interval above zero and at
least one segment (or trust third, without segments) below the median in both trust and
opt-in. Only the segments whose opt-in the evidence shows (and their respondents) take part
in the correlation, the medians and the low segments, so that none of them tells a hidden
opt-in. The uplift of voluntarily shared data compares the share of respondents who state a
preference in the first and the last period (week or month) of the survey's dates.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from privdiag.checks.context import ScanContext, hide
from privdiag.checks.disclosure import shown_groups, small_split
from privdiag.checks.optin import DECISIONS, DIMENSIONS, check_optin, withheld_note
from privdiag.engine import one
from privdiag.findings import Finding
from privdiag.result import InputInfo, Result, sha256_file

if TYPE_CHECKING:  # privdiag.survey loads polars, which a scan without --survey never needs
    from privdiag.survey import Survey

MIN_UNITS = 8
FLAGS_NOTE = (
    "Opt-in read from the events' consent flags (no consent log): a user's decision on a "
    "purpose is the flag of their first event that day that carries one, and opt-in counts "
    "each user's first, as for a consent log; a later flag of a user already counted is no "
    "new decision: a fall in returning users' flags is their purpose's consent-rate shift "
    "(sparsity.shift), not an opt-in drop. There is no notice version, so a drop is tested "
    "by date. Events "
    "without a user id (cookieless pings) decide for nobody: where denying leaves no id "
    "(Consent Mode's advanced mode) opt-in reads high; a flag a tag sends before the "
    "banner's answer (a default state) counts as the user's decision."
)
# label, respondents, mean trust, opt-in, and whether the opt-in may be shown: not when fewer
# than the minimum group size granted, or denied
Segment = tuple[str, int, float, float, bool]


def spearman_ci(x: Any, y: Any, level: float) -> tuple[float, float, float]:
    """Return Spearman's r of x and y with its Fisher z interval (Bonett-Wright), at ``level``.

    Needs at least 4 pairs; a constant input gives r = 0 and the interval (-1, 1).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0, -1.0, 1.0
    from scipy import stats

    r = float(stats.spearmanr(x, y).statistic)
    r_clip = min(max(r, -0.999999), 0.999999)
    se = math.sqrt((1 + r_clip**2 / 2) / (len(x) - 3))
    z = float(stats.norm.ppf(0.5 + level / 2))
    centre = math.atanh(r_clip)
    return r, math.tanh(centre - z * se), math.tanh(centre + z * se)


def _respondent_units(con: Any) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    """Per purpose: trust, granted (0/1) and segment label of every matched respondent.

    Without a segment column the label is the respondent's trust third.
    """
    rows = con.execute("""
        WITH r AS (
            SELECT respondent, any_value(segment) AS segment, avg(trust) AS trust
            FROM survey WHERE respondent IS NOT NULL GROUP BY 1
        ),
        banded AS (
            SELECT *, ntile(3) OVER (ORDER BY trust) AS third FROM r
        ),
        m AS (
            SELECT b.respondent, d.purpose, arg_min(d.granted, d.ts) AS granted,
                   any_value(b.trust) AS trust,
                   coalesce(any_value(b.segment),
                            ['low trust third', 'middle trust third',
                             'high trust third'][any_value(b.third)]) AS label
            FROM banded b JOIN optin_decisions d
              ON d.nth = 1 AND b.respondent IN (d.user_key, d.person, d.event_user)
            GROUP BY 1, 2
        )
        SELECT purpose, list(trust ORDER BY respondent), list(granted::INT ORDER BY respondent),
               list(label ORDER BY respondent)
        FROM m GROUP BY 1 ORDER BY 1
    """).fetchall()
    return {p: (np.array(t, float), np.array(g, float), list(lab)) for p, t, g, lab in rows}


def _segments_from_respondents(
    trust: np.ndarray, granted: np.ndarray, labels: list[str], k: int
) -> list[Segment]:
    """Per segment label: respondents, mean trust, opt-in, and whether it may be shown.

    An opt-in is shown as :func:`shown_groups` says, segments under ``k`` respondents (left
    out of the table) counted as hidden: the segments add up to the purpose's opt-in shown by
    source, so one hidden alone would be told by the total less the others.
    """
    masks = {label: np.array([lab == label for lab in labels]) for label in sorted(set(labels))}
    groups = [(int(m.sum()), int(granted[m].sum())) for m in masks.values()]
    shown = shown_groups(groups, [n >= k for n, _ in groups], k)
    return [
        (label, int(m.sum()), float(trust[m].mean()), float(granted[m].mean()), ok)
        for (label, m), ok in zip(masks.items(), shown, strict=True)
    ]


def _guess_dimension(con: Any, survey: Survey) -> str | None:
    """The opt-in dimension whose values match the most survey segments."""
    if survey.dimension:
        return survey.dimension
    best, hits = None, 0
    for dim in DIMENSIONS:
        found = one(
            con,
            f"""SELECT count(DISTINCT s.segment) FROM survey s JOIN optin_decisions d
                ON lower(trim(d.{dim})) = lower(s.segment)""",
        )
        if found and found[0] > hits:
            best, hits = dim, int(found[0])
    return best


def _segment_units(con: Any, dim: str, k: int) -> dict[str, list[Segment]]:
    """Per purpose: (segment, respondents, mean trust, opt-in, opt-in may be shown) of
    segments with k+ respondents and k+ deciding persons.

    An opt-in is shown only where the opt-in rates by ``dim`` would show it
    (:func:`shown_groups` over every value, as :func:`shown_rates`): a rate shown here and
    hidden there would give, with the persons shown there, what the total less the values
    shown was to hide.
    """
    rows = con.execute(
        f"""
        WITH seg AS (
            SELECT lower(segment) AS key, any_value(segment) AS segment,
                   sum(respondents) AS respondents,
                   sum(trust * respondents) / sum(respondents) AS trust
            FROM survey WHERE segment IS NOT NULL GROUP BY 1
        ),
        opt AS (
            SELECT lower(trim({dim})) AS key, purpose, count(*) AS persons,
                   avg(granted::INT) AS optin, count(*) FILTER (WHERE granted) AS granted
            FROM optin_decisions WHERE nth = 1 GROUP BY ALL
        )
        SELECT purpose, segment, respondents, trust, optin, persons, granted
        FROM opt LEFT JOIN seg USING (key) ORDER BY purpose, segment NULLS LAST, key
        """
    ).fetchall()
    out: dict[str, list[Segment]] = {}
    for purpose in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == purpose]
        groups = [(int(r[5]), int(r[6])) for r in mine]
        shown = shown_groups(groups, [n >= k for n, _ in groups], k)
        out[purpose] = [
            (segment, int(n), float(trust), float(optin), ok)
            for (_, segment, n, trust, optin, persons, _), ok in zip(mine, shown, strict=True)
            if segment is not None and n >= k and persons >= k
        ]
    return {p: segs for p, segs in out.items() if segs}


def _shown(segments: list[Segment], k: int) -> list[Segment]:
    """The segments whose opt-in the evidence table shows: k+ respondents, opt-in not hidden."""
    return [s for s in segments if s[1] >= k and s[4]]


def _low_segments(shown: list[Segment]) -> list[str]:
    """The shown segments below the median of the shown ones in both trust and opt-in.

    Only shown segments count, in the medians too: with a few segments, a median or a count
    of low segments that took in a hidden opt-in would tell on which side of the others it
    lies.
    """
    trust_mid = float(np.median([s[2] for s in shown]))
    optin_mid = float(np.median([s[3] for s in shown]))
    return [s[0] for s in shown if s[2] < trust_mid and s[3] < optin_mid]


def _low_text(named: list[str], hidden: int) -> str:
    """The low segments as the title names them, and the segments left out of the statistic:
    ``"newcomers; 2 segments whose opt-in is hidden left out"``."""
    text = ", ".join(named[:-1]) + f" and {named[-1]}" if len(named) > 1 else named[0]
    if hidden:
        text += f"; {hidden} segment{'s' if hidden > 1 else ''} whose opt-in is hidden left out"
    return text


def _finding(
    purpose: str,
    corr: tuple[float, float, float],
    level: float,
    n: int,
    unit: str,
    segments: list[Segment],
    low: list[str],
    k: int,
) -> Finding:
    r, lo, hi = corr
    listed = [s for s in segments if s[1] >= k]
    hidden = len(listed) - len(_shown(segments, k))
    return Finding(
        "people.trust_gap",
        "medium" if r >= 0.5 else "low",
        f"Low trust goes with low {purpose} opt-in ({_low_text(low, hidden)}): Spearman r = "
        f"{r:.2f}, {level:.1%} interval {lo:.2f} to {hi:.2f}",
        {"purpose": purpose},
        {
            "spearman_r": round(r, 4),
            "ci_low": round(lo, 4),
            "ci_high": round(hi, 4),
            "ci_level": round(level, 6),
            "units": n,
            "unit": unit,
            "low_segments": low,
            "segments_left_out": hidden,
        },
        f"Ask the low-trust segments what they expect in return for {purpose} consent: "
        "explain the value in the banner, offer a lighter choice, and measure trust again "
        "after the change.",
        evidence={
            "table": {
                "title": f"Trust and {purpose} opt-in per segment (under {k} respondents left "
                f"out; opt-in hidden where under {k} granted or denied, and those segments "
                "left out of Spearman r and the medians)",
                "columns": ["segment", "respondents", "mean trust", "opt-in"],
                "rows": [
                    [s, n_, round(t, 3), round(o, 3) if ok else None] for s, n_, t, o, ok in listed
                ],
            }
        },
    )


def _purpose_units(
    ctx: ScanContext, survey: Survey
) -> tuple[dict[str, tuple[Any, Any, list[Segment]]], str]:
    """Per purpose: trust and opt-in of every unit whose segment's opt-in is shown, and the
    segments; plus the unit's name.

    Respondents when their ids match the consent log, else segments matched by dimension.
    A unit of a hidden segment is left out: Spearman r over few segments tells where a hidden
    one ranks, and over respondents of two segments with the totals shown it tells the
    split of a hidden one (r is then the phi of a 2x2 table whose margins are known).
    """
    k = ctx.min_group
    units = _respondent_units(ctx.con) if survey.has_respondents else {}
    if units:
        out = {}
        for p, (t, g, labels) in units.items():
            segments = _segments_from_respondents(t, g, labels, k)
            keep = np.isin(labels, [s[0] for s in _shown(segments, k)])
            out[p] = (t[keep], g[keep], segments)
        return out, "respondent"
    dim = _guess_dimension(ctx.con, survey)
    per_segment = _segment_units(ctx.con, dim, k) if dim else {}
    return {
        p: ([s[2] for s in _shown(segs, k)], [s[3] for s in _shown(segs, k)], segs)
        for p, segs in per_segment.items()
    }, (f"segment ({dim})" if dim else "segment")


def check_trust(ctx: ScanContext, survey: Survey) -> tuple[list[Finding], dict[str, Any]]:
    """Return people.trust_gap findings and the survey evidence (correlations, sharing uplift).

    The correlations, medians and low segments take in only the segments whose opt-in the
    evidence shows (see :func:`_purpose_units`). Assumes the ``survey`` table and
    :func:`build_decisions` exist.
    """
    data, unit = _purpose_units(ctx, survey)
    level = 1 - ctx.config.thresholds.alpha / max(1, len(data))
    findings, correlations = [], {}
    for purpose, (trust, optin, segments) in sorted(data.items()):
        corr = spearman_ci(trust, optin, level)
        n = len(trust)
        correlations[purpose] = {
            "spearman_r": round(corr[0], 4),
            "ci": [round(corr[1], 4), round(corr[2], 4)],
            "units": n,
        }
        shown = _shown(segments, ctx.min_group)
        low = _low_segments(shown) if shown else []
        if n >= MIN_UNITS and corr[1] > 0 and low:
            findings.append(_finding(purpose, corr, level, n, unit, segments, low, ctx.min_group))
    evidence = {
        "rows": survey.rows,
        "rows_without_trust": survey.dropped,
        "unit": unit,
        "ci_level": round(level, 6),
        "correlations": correlations,
        "voluntary_sharing": sharing_uplift(ctx.con, ctx.min_group) if survey.preferences else None,
    }
    return findings, evidence


def sharing_uplift(con: Any, k: int) -> dict[str, Any] | None:
    """Return the share of respondents stating a preference per period and its uplift.

    Periods are weeks when the dates span under 62 days, else months; periods with fewer than
    ``k`` respondents are left out, and a period's share is hidden where fewer than ``k``
    respondents stated a preference or fewer did not (:func:`small_split`), the uplift too
    when that is the first or the last period. None without dates or with fewer than two
    periods.
    """
    span = one(con, "SELECT date_diff('day', min(date), max(date)) FROM survey")
    if not span or span[0] is None:
        return None
    period = "week" if span[0] < 62 else "month"
    rows = con.execute(
        f"""SELECT strftime(date_trunc('{period}', date), '%Y-%m-%d'), count(*),
                   count(*) FILTER (WHERE shared > 0), avg(shared)
            FROM survey WHERE date IS NOT NULL GROUP BY 1 HAVING count(*) >= $k ORDER BY 1""",
        {"k": k},
    ).fetchall()
    if len(rows) < 2:
        return None
    (_, n1, x1, _), (_, n2, x2, _) = rows[0], rows[-1]
    p1, p2 = x1 / n1, x2 / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    # a period where fewer than k shared, or fewer than k did not, tells each one's answer
    small = [small_split(int(n), int(x), k) for _, n, x, _ in rows]
    out = {
        "period": period,
        "first": rows[0][0],
        "last": rows[-1][0],
        "share_first": round(p1, 4),
        "share_last": round(p2, 4),
        "uplift": round(p2 - p1, 4),
        "uplift_ci95": [round(p2 - p1 - 1.96 * se, 4), round(p2 - p1 + 1.96 * se, 4)],
        "series": {
            "title": "Respondents who state a preference, per " + period,
            "x": [r[0] for r in rows],
            "series": {
                "share sharing": [
                    None if few else round(r[2] / r[1], 4)
                    for r, few in zip(rows, small, strict=True)
                ],
                # with one preference each this is the share: hidden with it
                "preferences per respondent": [
                    None if few else round(float(r[3]), 3)
                    for r, few in zip(rows, small, strict=True)
                ],
            },
            "marks": [],
        },
    }
    ends = [key for key, few in (("share_first", small[0]), ("share_last", small[-1])) if few]
    return hide(out, [*ends, "uplift", "uplift_ci95"] if ends else [], k)


def _no_answers(survey: Survey) -> str:
    """Why people.trust_gap is skipped on a survey without a row to use."""
    told = "no row" if len(survey.empty) == len(survey.paths) else "no row with a trust score"
    return (
        f"the survey has {told}: nothing to compare with opt-in; export the survey again "
        "with its answers (a trust or sentiment score per respondent or segment)"
    )


def run_people_consent_checks(
    ctx: ScanContext, result: Result, survey_paths: list[str]
) -> list[Finding]:
    """Run people.optin_drop and people.trust_gap; record what ran, was skipped, and why."""
    from privdiag.survey import load_survey  # loads polars: only when a survey is given

    has_log = (one(ctx.con, "SELECT count(*) FROM consent") or (0,))[0] > 0
    survey = load_survey(ctx.con, survey_paths) if survey_paths else None
    if not has_log and not ctx.purposes:
        reason = (
            ctx.no_signal("no consent log")
            if ctx.unmapped
            else "no consent log: opt-in needs consent decisions (--consent or consent events)"
        )
        result.skipped("people.optin_drop", reason)
        result.skipped("people.trust_gap", reason)
        return []
    # Without a log the events' own flags say what each user chose (ctx.purposes: the
    # purposes some flag states, as no record does)
    findings, rates, biased, withheld = check_optin(ctx, from_flags=not has_log)
    if not has_log and not (one(ctx.con, f"SELECT count(*) FROM {DECISIONS}") or (0,))[0]:
        reason = (
            "no consent log, and no event with a consent flag has a user id: whose decision "
            "a flag states cannot be told; give the consent log (--consent)"
        )
        result.skipped("people.optin_drop", reason)
        result.skipped("people.trust_gap", reason)
        return []
    result.ran("people.optin_drop")
    if not has_log:
        result.note(FLAGS_NOTE)
    result.evidence["optin_rates"] = rates
    if withheld:
        result.evidence["optin_comparisons_withheld"] = withheld
        note = withheld_note(withheld, ctx.min_group)
        result.note(note)
    if biased:
        result.evidence["optin_missing_values"] = biased
    if survey is None:
        result.skipped("people.trust_gap", "no survey: pass --survey FILE (CSV or JSON)")
        return findings
    result.inputs += [
        InputInfo(p, "survey", survey.rows, sha256_file(Path(p)), role="survey")
        for p in survey_paths
    ]
    if survey.empty:
        notes = [f"--survey {p}: no rows (a header only): it adds no answer" for p in survey.empty]
        result.note(*notes)
    if not survey.rows:
        result.skipped("people.trust_gap", _no_answers(survey))
        return findings
    gaps, evidence = check_trust(ctx, survey)
    result.evidence["survey"] = evidence
    if (few := _too_few(evidence, ctx.min_group)) is not None:
        result.skipped("people.trust_gap", few)
    else:
        result.ran("people.trust_gap")
    return findings + gaps


def _too_few(evidence: dict[str, Any], k: int) -> str | None:
    """Why people.trust_gap could find nothing when no purpose has :data:`MIN_UNITS` units
    (respondents, or segments of ``k`` respondents or more, whose opt-in the report shows);
    None when one has. It "ran" silently before, as if trust and opt-in had been compared
    and found in line."""
    units = max((c["units"] for c in evidence["correlations"].values()), default=0)
    if units >= MIN_UNITS:
        return None
    name, _, dim = str(evidence["unit"]).partition(" ")
    counted = f"{units} {name}{'' if units == 1 else 's'}{' ' + dim if dim else ''}"
    each = f"of {k} respondents or more, " if name == "segment" else ""
    return (
        f"too few to correlate trust with opt-in: the survey gives {counted} {each}whose "
        f"opt-in the report can show, and a correlation needs {MIN_UNITS}; survey more "
        "respondents or segments, or give respondent ids that the consent log holds"
    )
