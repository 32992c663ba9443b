"""``privdiag scan``: ingest, resolve consent state, run the data and people checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from privdiag.chains import link
from privdiag.checks.across import hide_across, journey_labels
from privdiag.checks.compliance import check_compliance, check_missing_records
from privdiag.checks.context import ScanContext, mark_no_user_ids, suppress
from privdiag.checks.flag_conflicts import check_conflicts
from privdiag.checks.journey_checks import run_journey_checks
from privdiag.checks.log_conflicts import check_log_conflicts
from privdiag.checks.nesting import Nesting
from privdiag.checks.people import check_unclassified, check_unowned
from privdiag.checks.trust import run_people_consent_checks
from privdiag.config import Config
from privdiag.consent_keys import unmet_log_notes
from privdiag.consent_rates import WEIGHTING, consent_evidence
from privdiag.engine import close, connect, one
from privdiag.findings import Finding
from privdiag.ingest import UNMAPPED, Loaded, check_engine_formats, load
from privdiag.journey import absent_steps_note, empty_steps_note, journey_steps
from privdiag.mapping import (
    feature_columns,
    feature_map,
    fill_owners,
    idle_owner_notes,
    owner_for,
    unmatched_features,
    unseen_owner_notes,
)
from privdiag.privacy import looks_like_id
from privdiag.result import Result
from privdiag.state import active_purposes, resolve, undetermined_notes
from privdiag.stats import warmed_up

Progress = Callable[[str], None]


def _unmapped_counts(con: Any, source: str) -> tuple[dict[str, tuple[int, int]], int, int]:
    """Per unmapped category of ``source``: (decisions, users); then the source's totals."""
    rows = con.execute(
        f"SELECT category, count(*), count(DISTINCT user_key) FROM {UNMAPPED} "
        "WHERE source = $s GROUP BY ALL",
        {"s": source},
    ).fetchall()
    total = one(
        con,
        f"SELECT count(*), count(DISTINCT user_key) FROM {UNMAPPED} WHERE source = ?",
        [source],
    )
    decisions, users = (int(total[0]), int(total[1])) if total else (0, 0)
    return {c: (int(n), int(u)) for c, n, u in rows}, decisions, users


def _unmapped_findings(con: Any, loaded: Loaded, config: Config) -> list[Finding]:
    """Return consent.unmapped_category findings: one per category, or, when some category
    name of a source looks like an identifier or was decided by 1 to ``min_group_size`` - 1
    users, one for the whole source that lists the safe names and counts the others (a
    mis-mapped column gives hundreds of them: user ids, or customers' names, each one
    person's)."""
    k = config.thresholds.min_group_size
    findings = []
    for source, names in loaded.unmapped.items():
        counts, decisions, users = _unmapped_counts(con, source)
        safe = [c for c in names if not looks_like_id(c) and not 0 < counts.get(c, (0, 0))[1] < k]
        owner = owner_for(config, source=source)
        if len(safe) == len(names):
            findings += [
                _one_unmapped(source, c, counts.get(c, (0, 0)), k, owner, config.file_name)
                for c in safe
            ]
        else:
            findings.append(
                _collapsed_unmapped(
                    source, safe, len(names), (decisions, users), k, owner, config.file_name
                )
            )
    return findings


def _unmapped_metrics(decisions: int, users: int, k: int) -> dict[str, Any]:
    """Decisions and users of unmapped categories; both hidden below ``k`` users."""
    return suppress({"decisions": decisions, "users": users}, k, follow=("decisions",))


def _one_unmapped(
    source: str, category: str, counts: tuple[int, int], k: int, owner: str | None, file: str
) -> Finding:
    return Finding(
        "consent.unmapped_category",
        "medium",
        f"Consent category {category!r} maps to no purpose; its decisions were unused",
        {"source": source, "purpose": category},
        _unmapped_metrics(*counts, k),
        f'Map it in {file}: [purposes.aliases] "{category}" = "<purpose>".',
        owner,
    )


def _collapsed_unmapped(
    source: str,
    safe: list[str],
    total: int,
    counts: tuple[int, int],
    k: int,
    owner: str | None,
    file: str,
) -> Finding:
    """``counts`` are the source's unmapped decisions and users; ``file`` the config's name."""
    decisions, users = counts
    hidden = total - len(safe)
    metrics = _unmapped_metrics(decisions, users, k) | {
        "categories": total,
        "categories_listed": safe,
        "categories_not_shown": hidden,
    }
    listed = f" ({', '.join(safe)} and {hidden} more)" if safe else ""
    return Finding(
        "consent.unmapped_category",
        "medium",
        f"{total} consent categories of {source} map to no purpose{listed}; their decisions "
        "were unused",
        {"source": source},
        metrics,
        f"{hidden} of the category names look like identifiers or were decided by fewer than "
        f"{k} users (not shown): check that the consent file's purpose column holds category "
        "names, not user ids or names; a scan with min_group_size = 1, kept off shared "
        f"reports, names the rare ones. Map the real categories in {file}: [purposes.aliases] "
        '"<category>" = "<purpose>".',
        owner,
    )


COMPLIANCE_CHECKS = (
    "consent.violation",
    "consent.pre_consent",
    "consent.after_withdrawal",
    "consent.conflict",
)


def _compliance(ctx: ScanContext, result: Result, *, loaded: Loaded) -> list[Finding]:
    """Run the compliance checks that the consent signal and the mapping allow, and the
    check of consent categories mapped to no purpose (it reads a TEMP table of the load)."""
    findings = _unmapped_findings(ctx.con, loaded, ctx.config) + check_missing_records(ctx)
    result.ran("consent.missing_record")
    if not ctx.purposes:
        reason = ctx.no_signal()
        for name in COMPLIANCE_CHECKS:
            result.skipped(name, reason)
        return findings
    if not ctx.mapping:
        reason = "no feature is classified: map features to purposes (privdiag init helps)"
        for name in COMPLIANCE_CHECKS[:3]:
            result.skipped(name, reason)
    else:
        notes: list[str] = []
        findings += check_compliance(ctx, notes)
        result.note(*notes)
        for name in COMPLIANCE_CHECKS[:3]:
            result.ran(name)
    findings += check_conflicts(ctx) + check_log_conflicts(ctx)
    result.ran("consent.conflict")
    return findings


def _consent_evidence(ctx: ScanContext, result: Result) -> None:
    """Record the consent rates and the consent mix (evidence, no findings)."""
    rates, mix, floors = consent_evidence(ctx.con, ctx.purposes, ctx.min_group)
    result.evidence.update(
        consent_rates=rates,
        consent_rates_users_at_least=floors,
        consent_mix=mix,
        consent_weighting=WEIGHTING,
    )
    result.note(*_pooled_note(mix, ctx.min_group))
    unrated = [p for p in ctx.purposes if p not in rates]
    if undecided := _undecided(ctx, unrated):
        result.note(
            f"consent rate of {', '.join(undecided)} not given: no event has a decision on it "
            "(its users' events all come before their first decision, fall where a decision "
            "dated without a time of day leaves their state open, or their decisions meet "
            "none of the events); model-check takes it as granted"
        )
        unrated = [p for p in unrated if p not in undecided]
    if unrated:
        result.note(
            f"consent rate of {', '.join(unrated)} not given: fewer than {ctx.min_group} users "
            "decided it, or granted or denied it, so its rate would tell their choices; the "
            "consent mix pools the combinations of fewer users, and model-check takes it as "
            "granted"
        )


def _undecided(ctx: ScanContext, purposes: list[str]) -> list[str]:
    """Of ``purposes`` (those without a consent rate), those no event has a decision on: the
    rate is missing for want of one, not hidden. One pass, only when a rate is missing."""
    if not purposes:
        return []
    counts = ", ".join(f"count_if(state_{p} <> 'unknown')" for p in purposes)
    row = ctx.con.execute(f"SELECT {counts} FROM scan_events").fetchone() or ()
    return [p for p, n in zip(purposes, row, strict=True) if not n]


def _names_seen(ctx: ScanContext, steps: list[str], sources: Any) -> dict[str, set[str]]:
    """The names of the data an ``[owners]`` pattern may be for: the sources, the features,
    the event names and step labels (read only when a ``step:`` pattern asks), and the
    purposes with a signal or needed by a classified feature."""
    names = set(steps)
    if any(pattern.startswith("step:") for pattern in ctx.config.owners):
        names |= ctx.event_names
    purposes = set(ctx.purposes) | {p for needed in ctx.mapping.values() for p in needed}
    features = set(ctx.features)
    return {"source": set(sources), "feature": features, "step": names, "purpose": purposes}


def _people(
    ctx: ScanContext, result: Result, *, sources: list[str], survey: list[str]
) -> list[Finding]:
    """The people checks: unclassified features, owners, opt-in drops and trust gaps."""
    findings = check_unclassified(ctx) + check_unowned(ctx, sources)
    result.ran("people.unclassified_feature")
    result.ran("people.unowned")
    return findings + run_people_consent_checks(ctx, result, survey)


def _load(
    con: Any, data: list[str], consent: list[str], config: Config, fmt: str, say: Progress
) -> Loaded:
    """Read the events and the consent files given by ``--consent`` and by the config.

    A file given both ways is read once: the loader reads each file where it is first
    reached, and its note says where each was given.
    """
    configured = [config.data_path(p) for p in config.consent_files]
    place = f"the [consent] paths of {config.path}" if config.path else "[consent] paths"
    origins = ["--consent"] * len(consent) + [place] * len(configured)
    return load(
        con,
        data,
        [*consent, *configured],
        config,
        fmt=fmt,
        progress=say,
        consent_origins=origins if consent and configured else None,
    )


def _input_notes(loaded: Loaded) -> list[str]:
    """The notes of the inputs' reading: each input's own, the loader's, and the consent
    values that could not be decoded or were read only in part."""
    notes = [f"{arg}: {note}" for arg, staged in loaded.staged for note in staged.notes]
    notes += loaded.notes
    notes += [
        f"{n} events carry {col} values that could not be decoded; their flags stay unknown"
        for col, n in loaded.undecodable.items()
    ]
    notes += [
        f"{n} events carry {col} TC strings read only in part: their purpose consents are "
        f"used, what follows them (vendors, publisher restrictions) could not be read ({why})"
        for col, (n, why) in loaded.partly_read.items()
    ]
    notes += [
        _disagreeing_note(col, *seen) for col, each in loaded.disagreeing.items() for seen in each
    ]
    return notes


def _disagreeing_note(column: str, events: int, purposes: list[str], earlier: list[str]) -> str:
    """The note on events whose consent string says otherwise than a state they already had."""
    before = " or ".join(earlier) if earlier else "consent columns"
    carry = "event carries" if events == 1 else "events carry"
    own = "its" if events == 1 else "their"
    return (
        f"{events} {carry} a {column} value that disagrees with {own} own {before} on "
        f"{', '.join(purposes)}: the {before} state is used (a tag sending both should send "
        "the same state; check which one the site's consent banner updates)"
    )


def _pooled_note(mix: list[dict[str, Any]], k: int) -> list[str]:
    """The note on the consent mix's pooled share, when it has one."""
    pooled = sum(e["share"] for e in mix if e["granted"] is None)
    if not pooled:
        return []
    if all(e["granted"] is None for e in mix):
        return [
            f"consent mix: no combination of consent states is held by {k} users or more, so "
            "every event with a decision, those without a user id too, is pooled into one "
            "share without its states (evidence.consent_mix), and model-check draws each "
            "purpose on its own at its consent rate"
        ]
    return [
        f"consent mix: combinations of consent states held by fewer than {k} users (with "
        f"the smallest other one when they hold fewer together), {pooled:.1%} of the mix "
        "(each user with a decision counted once), are pooled into one share without its states "
        "(evidence.consent_mix), whose purposes model-check draws one by one, at the shares "
        "that keep each purpose's consent rate"
    ]


@warmed_up()  # the checks' statistics library loads while DuckDB reads the inputs
def run_scan(
    data: list[str],
    *,
    consent: list[str] | None = None,
    config: Config | None = None,
    fmt: str = "auto",
    progress: Progress | None = None,
    survey: list[str] | None = None,
) -> Result:
    """Scan event exports (and consent files) and return the findings with their evidence.

    Raises InputError for unreadable inputs before anything is written.
    """
    config = config or Config()
    say = progress or (lambda _msg: None)
    result = Result(command="scan", min_group_size=config.thresholds.min_group_size)
    check_engine_formats(data, fmt, config)  # before a Spark engine starts
    con = connect(config.engine)

    loaded = _load(con, data, consent or [], config, fmt, say)
    result.inputs = loaded.inputs
    if notes := _input_notes(loaded) + unmet_log_notes(con, config.thresholds.min_group_size):
        result.evidence["notes"] = notes

    say("resolving consent state")
    purposes = active_purposes(con)
    resolve(con, purposes)
    result.note(*undetermined_notes(con, purposes, config.thresholds.min_group_size))
    features = feature_columns(con)
    ctx = ScanContext(
        con=con,
        config=config,
        features=features,
        mapping=feature_map(list(features), config),
        purposes=purposes,
        formats=loaded.formats,
        unmapped=bool(loaded.unmapped),
    )
    if unmatched := unmatched_features(list(features), config):
        result.note(*unmatched)
    _consent_evidence(ctx, result)
    result.evidence["purposes_with_signal"] = purposes

    say("checking consent compliance")
    findings = _compliance(ctx, result, loaded=loaded)

    say("checking gaps, shifts, identity, funnel")
    journey = journey_steps(con, config)
    result.evidence["journey"] = {"steps": journey.names, "origin": journey.origin}
    result.note(*absent_steps_note(con, journey), *empty_steps_note(config, journey))
    findings += run_journey_checks(ctx, journey, result)

    say("checking owners and classification")
    findings += _people(ctx, result, sources=sorted(loaded.formats), survey=survey or [])

    # in id order, so the causes' order does not depend on the order queries returned rows
    findings.sort(key=lambda f: f.id)
    for f in findings:
        mark_no_user_ids(f.metrics)
    nesting = Nesting(ctx.con, ctx.features)
    labels = journey_labels(journey.steps)
    hide_across(findings, result.evidence, ctx.min_group, ctx.optin_counts, nesting, labels)
    link(findings, ctx.mapping)
    fill_owners(findings, config)
    result.note(*idle_owner_notes(findings, config))
    result.note(*unseen_owner_notes(config, _names_seen(ctx, journey.names, loaded.formats)))
    result.findings = findings
    close(con)
    return result
