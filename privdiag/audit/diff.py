"""What changed since a compared run: each finding new, unchanged, worse or better; resolved.

A finding is the same problem in both runs when its stable id is the same. It is
``worse`` when its severity rose, or its key measure (events, else users, else share,
else a model finding's loss ``drop``) grew by more than ``TOLERANCE``; ``better`` for the
mirror image; else ``unchanged``. An opt-in drop is measured by its drop and a shift by the
size of its change (:data:`FIGURES`): their persons and events grow with every night that
adds deciders or days after the change. Its events are weighed against the events of its
own source in each run (``growth``, the ratio of the two runs' events of that source, which
each events input records under ``sources``): a nightly export that grows by a day holds
more of every standing finding's events, and a leak that keeps its pace is no regression,
while a source that does not grow is not weighed by one beside it that does. A finding
with no source, of a source one run lacks, or compared with a run that recorded no events
per source (an older history) is weighed against all the events scanned, and the figure
it is judged by says so. What made a finding worse or better is kept (``Diff.why``).

What a diff shows follows the minimum group size ``k`` of the reports: a measure is not
compared when either run hides the finding's users (fewer than ``k``), since "worse" beside
one run's share would tell which way a hidden count went; nor when it is a count that moved
by fewer than ``k``, since "worse" beside the current count would tell that a few more
persons (those who came since the compared run) are in the finding. Both are
``unchanged``; a change of severity is still told (each run's report shows its severity).
The compared run's findings are shown (resolved, ``--show``) with their user counts under
``k`` hidden, as a run recorded with a smaller ``k`` may hold them.

A finding whose users this run hides (fewer than ``k``) is marked ``hidden`` (the reports
say "not compared"): its figures are never compared, so no change of a hidden count is told.
What ``--fail-when`` counts it as (``counted_as``, :data:`Diff.counted`) is read from what
each run's reports publish of it, its id and its severity: ``new`` when the compared run
lacked its id (or there is none), ``worse`` or ``better`` when its severity moved, else
``unchanged``. So a small violation that stands fails the first run that finds it, and not
every night after (trial 20 and trial 25 found the generated shop's nightly audit exiting 1
on its hidden high findings when nothing had changed: each was counted as new on every
run), while one the compared run lacked still fails. That it is new tells nothing the two
runs' findings (``--show``) do not. A compared finding whose users are hidden is not listed
as resolved (its fewer than ``k`` persons left it). A hidden finding of an audit's JSON that
records no ``counted_as`` (an earlier privdiag's) counts as new, as its run did.

A ``sparsity.consent_gap`` that would be ``worse`` or ``new`` is ``unchanged`` when the
``consent.violation`` of its source, step, feature and purpose is ``better`` or resolved in
the same diff: mending the leak leaves the feature missing on more denied events, so the
gap widens, or first shows, because consent is respected, which is no regression. (A gap
that first shows is ``unchanged`` rather than ``new`` because what it describes, the
feature absent where consent is denied, was so on the compared run's events but for the
leak.) Only those two labels,
which keep to ``k`` already, are read, so a hidden violation's change is never told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privdiag.checks.context import USERS_EVENTS, suppress
from privdiag.findings import SEVERITIES, at_or_above, is_users, severity_rank

CHANGES: tuple[str, ...] = ("new", "unchanged", "worse", "better", "hidden")
# a model finding has none of the first three: its loss (``drop``, positive when worse)
KEY_METRICS: tuple[str, ...] = ("events", "users", "share", "drop")
COUNTS: tuple[str, ...] = ("events", "users")
TOLERANCE = 0.10
VIOLATION, GAP, OPTIN_DROP = "consent.violation", "sparsity.consent_gap", "people.optin_drop"
SUPERSEDED = "superseded"


@dataclass
class Diff:
    """The change of every current finding by id, and the compared run's resolved findings."""

    changes: dict[str, str] = field(default_factory=dict)
    # the figure that made a finding worse or better, by id ("severity medium -> high")
    why: dict[str, str] = field(default_factory=dict)
    resolved: list[dict[str, Any]] = field(default_factory=list)
    # what --fail-when counts each hidden finding as, by id (new, worse, better, unchanged)
    counted: dict[str, str] = field(default_factory=dict)
    # findings of a compared run made with a smaller min_group_size that this run lacks
    withheld: int = 0

    def counts(self) -> dict[str, int]:
        """Return how many findings are new, unchanged, worse, better, hidden, resolved and
        superseded (gone, not mended: see :func:`superseded`)."""
        out = {c: 0 for c in CHANGES}
        for change in self.changes.values():
            out[change] += 1
        out["superseded"] = sum(1 for f in self.resolved if f.get("change") == SUPERSEDED)
        out["resolved"] = len(self.resolved) - out["superseded"]
        return out


def key_metric(metrics: dict[str, Any]) -> tuple[str, float] | None:
    """Return the first of events, users, share, drop that ``metrics`` holds as a number."""
    for name in KEY_METRICS:
        value = metrics.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
            return name, float(value)
    return None


# The metrics the checks hide with a finding's users (their events, the shares that tell
# them, an unmapped category's decisions, a consent log's conflicting records):
# :data:`privdiag.checks.context.USERS_EVENTS`, :func:`privdiag.scan._unmapped_metrics` and
# :mod:`privdiag.checks.log_conflicts`.
FOLLOW_USERS = (*USERS_EVENTS, "decisions", "records")


def shown_metrics(metrics: dict[str, Any], k: int) -> dict[str, Any]:
    """Return a copy of a finding's metrics with its user counts under ``k`` (above 0) hidden,
    and the events and share that describe those users, as the checks hide them."""
    users = tuple(name for name in metrics if is_users(str(name)))
    return suppress(dict(metrics), k, keys=users, follow=FOLLOW_USERS)


def hides_users(metrics: dict[str, Any], k: int) -> bool:
    """True when ``metrics`` hide the finding's users, or hold a count of them under ``k``
    (its ``users``, or another count of users such as an identity loss's identified ones)."""
    hidden = shown_metrics(metrics, k).get("suppressed") or []
    return any(is_users(str(name)) for name in hidden)


def events_scanned(inputs: list[dict[str, Any]]) -> int | None:
    """Return the event rows a run's ``inputs`` (its JSON ``inputs``) hold, None when they
    hold none or one input's rows are unknown."""
    rows = [i.get("rows") for i in inputs if isinstance(i, dict) and i.get("role") == "events"]
    if not rows or not all(type(n) is int for n in rows):
        return None
    return sum(rows) or None


def events_by_source(inputs: list[dict[str, Any]]) -> dict[str, int] | None:
    """Return the events of each source over a run's events ``inputs`` (their ``sources``),
    None when one of them records none (a run of a privdiag before 0.x wrote rows alone)."""
    found = [i.get("sources") for i in inputs if isinstance(i, dict) and i.get("role") == "events"]
    if not found or not all(isinstance(by, dict) for by in found):
        return None
    out: dict[str, int] = {}
    for by in found:
        for source, n in by.items():
            if type(n) is int and n > 0:
                out[str(source)] = out.get(str(source), 0) + n
    return out


@dataclass(frozen=True)
class Growth:
    """How many times the compared run's events the current run holds (2.0: twice as many):
    over all the events scanned (``total``) and per source present in both (``sources``,
    None when either run recorded no events per source)."""

    total: float | None = None
    sources: dict[str, float] | None = None

    def of(self, source: Any) -> tuple[float | None, str]:
        """Return the growth a finding of ``source`` is weighed by, and in words whose it is:
        its source's when both runs counted that source's events, else all the events'."""
        if self.sources is not None and isinstance(source, str) and source in self.sources:
            return self.sources[source], "its source's growth x{}"
        if self.total is None:
            return None, ""
        why = "no events by source recorded" if self.sources is None else "its source unmatched"
        return self.total, f"the growth of all events x{{}} ({why})"


def growth_of(now: list[dict[str, Any]], then: list[dict[str, Any]]) -> Growth:
    """Return how many times the events of the compared run's inputs ``then`` the current
    run's ``now`` hold, in all and per source (see :class:`Growth`)."""
    a, b = events_scanned(now), events_scanned(then)
    per_now, per_then = events_by_source(now), events_by_source(then)
    sources = None
    if per_now is not None and per_then is not None:
        sources = {s: n / per_then[s] for s, n in per_now.items() if per_then.get(s)}
    return Growth(a / b if a and b else None, sources)


# The figure compared of a finding whose measure is a share or a drop: an opt-in drop's
# persons, or a shift's events after its change, grow with every night that adds deciders or
# days after it; its drop, or the size of its change, does not.
FIGURES: dict[str, str] = {"people.optin_drop": "drop", "sparsity.shift": "change"}


def figure_of(kind: Any, metrics: dict[str, Any]) -> tuple[str, float] | None:
    """Return the figure a finding of ``kind`` is compared by: its :data:`FIGURES` one (a
    shift's change by its size; None when hidden), else its :func:`key_metric`."""
    name = FIGURES.get(str(kind))
    if name is None:
        return key_metric(metrics)
    value = metrics.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        return None
    return name, abs(float(value))


def compare(
    current: dict[str, Any],
    before: dict[str, Any],
    k: int = 1,
    growth: Growth | float | None = None,
) -> str:
    """Return worse, better or unchanged for the same finding in two runs (see
    :func:`judge`)."""
    return judge(current, before, k, growth)[0]


def judge(
    current: dict[str, Any],
    before: dict[str, Any],
    k: int = 1,
    growth: Growth | float | None = None,
) -> tuple[str, str]:
    """Return worse, better or unchanged for the same finding in two runs, and the figure
    that made it worse or better ("" when unchanged), telling no change of a group under
    ``k`` (see the module's docstring); ``growth`` (see :func:`growth_of`; a number: the
    growth of all events) scales the compared run's events to this run's inputs."""
    now, then = severity_rank(current["severity"]), _rank(before.get("severity"))
    if now != then:
        change = "worse" if now < then else "better"
        return change, f"severity {before.get('severity')} to {current['severity']}"
    m_now, m_then = current.get("metrics") or {}, before.get("metrics") or {}
    if hides_users(m_now, k) or hides_users(m_then, k):
        return "unchanged", ""
    a, b = figure_of(current.get("kind"), m_now), figure_of(before.get("kind"), m_then)
    if a is None or b is None or a[0] != b[0]:
        return "unchanged", ""
    if a[0] in COUNTS and abs(a[1] - b[1]) < k:
        return "unchanged", ""
    moved = f"{a[0]} {_num(b[1])} to {_num(a[1])}"
    if b[1] == 0:
        return ("worse", moved) if a[1] > 0 else ("unchanged", "")
    if b[1] < 0:  # no measure a finding keys on is negative; an edited history's is not read
        return "unchanged", ""
    if not isinstance(growth, Growth):
        growth = Growth(growth)
    scale, whose = growth.of((current.get("location") or {}).get("source"))
    ratio = a[1] / b[1]
    if a[0] == "events" and scale:
        moved += f", x{_num(ratio)} against " + whose.format(_num(scale))
        ratio /= scale
    if ratio > 1 + TOLERANCE:
        return "worse", moved
    if ratio < 1 - TOLERANCE:
        return "better", moved
    return "unchanged", ""


def _num(value: float) -> str:
    """A figure in a change's words: a whole number as one, else three significant digits."""
    return str(int(value)) if value == int(value) and abs(value) >= 1 else f"{value:.3g}"


def _rank(severity: str | None) -> int:
    return severity_rank(severity) if severity in SEVERITIES else len(SEVERITIES)


def diff(
    current: list[dict[str, Any]],
    compared: list[dict[str, Any]] | None,
    k: int = 1,
    made_smaller: bool = False,
    growth: Growth | float | None = None,
    versions: dict[str, list[str]] | None = None,
) -> Diff:
    """Return the changes of ``current`` against ``compared`` (None: nothing to compare with).

    Both are findings in their JSON form; with nothing to compare with, every finding is new.
    ``k`` is the minimum group size of this run's reports. ``made_smaller``: the compared run
    was made with a smaller one, so it held findings that this run's checks withhold for
    their small groups (an opt-in drop, a shift): such a finding is gone, not mended, and
    none is listed as resolved (``withheld`` counts them). ``growth``: see :func:`judge`.
    ``versions``: this run's notice versions per purpose, first seen first (see
    :func:`superseded`).
    """
    before = {f["id"]: f for f in compared or []}
    now_ids = {f["id"] for f in current}
    result = Diff()
    for finding in current:
        fid, old = finding["id"], before.get(finding["id"])
        # a hidden finding's judgement reads its severity alone (judge compares no hidden count)
        change, why = ("new", "") if old is None else judge(finding, old, k, growth)
        if hides_users(finding.get("metrics") or {}, k):
            result.counted[fid], change = change, "hidden"
        result.changes[fid] = change
        if why:
            result.why[fid] = why
    gone = [
        _resolved(f, k)
        for fid, f in before.items()
        if fid not in now_ids and not hides_users(f.get("metrics") or {}, k)
    ]
    if made_smaller:
        result.withheld = len(gone)
    else:
        result.resolved = gone
        for f in gone:
            if why := superseded(f, current, versions or {}):
                f["change"], f["change_reason"] = SUPERSEDED, why
    _mended_gaps(current, result)
    return result


def superseded_words(n: Any) -> str:
    """``, N superseded (not mended)`` for a run's line where ``n`` (its count) is one or
    more; "" else."""
    return f", {n} superseded (not mended)" if n else ""


def superseded(
    gone: dict[str, Any], current: list[dict[str, Any]], versions: dict[str, list[str]]
) -> str:
    """Return why a gone opt-in drop of a notice version is ``superseded``, not resolved: a
    later version followed it in this run (``versions``, a purpose's versions first seen
    first, as the run's opt-in rates list them; or a drop of this run of the same purpose
    from a later day, for a run read back from the history). The later banner takes the
    first decisions the drop's version had, so its drop can lose significance with nothing
    mended (trial 28's v1 -> v2 drop, its v2 persons cut from 195 to 60 by v3). "" else."""
    metrics = gone.get("metrics") or {}
    after, day = metrics.get("version"), metrics.get("change_day")
    if gone.get("kind") != OPTIN_DROP or metrics.get("change") != "version" or after is None:
        return ""
    purpose = (gone.get("location") or {}).get("purpose")
    seen = versions.get(str(purpose)) or []
    later = seen[seen.index(after) + 1 :] if after in seen else []
    drops = [
        f.get("metrics") or {}
        for f in current
        if f.get("kind") == OPTIN_DROP and (f.get("location") or {}).get("purpose") == purpose
    ]
    later += [
        str(m["version"])
        for m in drops
        if m.get("change") == "version"
        and m.get("version") is not None
        and isinstance(day, str)
        and isinstance(m.get("change_day"), str)
        and m["change_day"] > day
    ]
    if not later:
        return ""
    return (
        f"notice version {later[0]} followed {after} and took {after}'s first decisions from "
        f"then on: the drop from {metrics.get('version_before')} to {after} is no longer "
        "measured, not mended"
    )


def _gap_key(finding: dict[str, Any]) -> tuple[Any, ...]:
    where = finding.get("location") or {}
    return tuple(where.get(key) for key in ("source", "step", "feature", "purpose"))


def _mended_gaps(current: list[dict[str, Any]], result: Diff) -> None:
    """Mark ``unchanged`` each consent gap that widened, or appeared, because its violation
    was mended (``better`` or resolved in this diff; see the module's docstring)."""
    mended = {_gap_key(f) for f in result.resolved if f.get("kind") == VIOLATION}
    mended |= {
        _gap_key(f)
        for f in current
        if f.get("kind") == VIOLATION and result.changes[f["id"]] == "better"
    }
    for f in current:
        # a hidden gap's change is what --fail-when counts it as (its id and severity)
        changes = result.counted if f["id"] in result.counted else result.changes
        if f.get("kind") == GAP and changes[f["id"]] in ("new", "worse") and _gap_key(f) in mended:
            changes[f["id"]] = "unchanged"
            result.why.pop(f["id"], None)


def _resolved(finding: dict[str, Any], k: int) -> dict[str, Any]:
    out = {key: v for key, v in finding.items() if key != "change"}
    out["metrics"] = shown_metrics(finding.get("metrics") or {}, k)
    out["change"] = "resolved"
    return out


def counted_as(finding: dict[str, Any]) -> str:
    """Return the change ``--fail-when`` counts ``finding`` as: its ``change``, a hidden
    one's ``counted_as`` (new when its JSON, an earlier privdiag's, records none)."""
    change = finding.get("change") or "new"
    if change != "hidden":
        return str(change)
    counted = finding.get("counted_as")
    return counted if counted in CHANGES and counted != "hidden" else "new"


def chosen(findings: list[dict[str, Any]], fail_when: str) -> list[dict[str, Any]]:
    """Return the findings that --fail-when lets count: all, only new, or new and worse; a
    ``hidden`` one as its ``counted_as`` (see the module's docstring)."""
    if fail_when == "all":
        return list(findings)
    allowed = {"new"} if fail_when == "new" else {"new", "worse"}
    return [f for f in findings if counted_as(f) in allowed]


def failing(doc: dict[str, Any], fail_on: str) -> list[dict[str, Any]]:
    """Return the findings of ``doc`` that make its exit code 1: at or above ``fail_on`` and,
    in an audit's document, among those its ``fail_when`` lets count (:func:`chosen`), so
    that the JUnit file and GitHub annotations fail on what fails the run."""
    findings = doc.get("findings") or []
    audit = doc.get("audit")
    if isinstance(audit, dict) and audit.get("fail_when") in ("all", "new", "regressed"):
        findings = chosen(findings, audit["fail_when"])
    return [f for f in findings if at_or_above(f["severity"], fail_on)]


def change_word(
    finding: dict[str, Any], fail_when: str | None, hidden: str = "not compared"
) -> str:
    """Return a finding's change in a run's words: ``hidden`` reads ``hidden`` ("not compared"
    in the reports, "hidden" on the run's terminal line, as its JSON and ``--list`` say), and
    "(counted as new)" or "(counted as worse)" where ``fail_when`` (``new``, ``regressed``)
    counts it so (:func:`counted_as`)."""
    change = finding.get("change") or "new"
    if change != "hidden":
        return str(change)
    counted = counted_as(finding)
    if fail_when in ("new", "regressed") and counted in ("new", "worse"):
        return f"{hidden} (counted as {counted})"
    return hidden


def counted_changes(
    fails: list[dict[str, Any]], fail_when: str | None, hidden: str = "not compared"
) -> str:
    """Return how many of ``fails`` each change holds (``1 not compared (counted as new),
    1 worse``; ``hidden``: the word of a hidden finding): why they fail an audit, which "N
    finding(s)" alone does not say."""
    by_word: dict[tuple[str, str], int] = {}
    for f in fails:
        key = (str(f.get("change") or "new"), change_word(f, fail_when, hidden))
        by_word[key] = by_word.get(key, 0) + 1
    return ", ".join(f"{n} {word}" for (_, word), n in sorted(by_word.items()))
