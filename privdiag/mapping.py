"""Which purposes each feature needs, and who owns what.

Feature -> purpose mapping comes from ``[features.X]`` in the config (names or glob
patterns), then from built-in knowledge of well-known fields.

Owners, CODEOWNERS-like. A source, feature or model names its owner in its own table
(``[sources.app] owner = "mobile"``; a ``[features."utm_*"]`` glob table counts for the
features it matches). The ``[owners]`` table adds patterns, one per line, in file order::

    [owners]
    "*" = "data-platform"              # bare pattern: any source, feature, model or step
    "source:app*" = "mobile-platform"  # KIND:GLOB, KIND one of source, feature, model, step
    "feature:gclid*" = "paid-media"
    "step:purchase" = "checkout"
    "model:propensity*" = "data-science"

GLOB is an ``fnmatch`` pattern, case-sensitive: ``*`` any run of characters, ``?`` one
character, ``[abc]`` / ``[!abc]`` a character set. Among patterns the last match wins. A
thing's own table beats patterns; patterns for its kind beat bare ones; see
:func:`owner_for` for how the parts of a finding's location are tried.
"""

from __future__ import annotations

import unicodedata
from fnmatch import fnmatchcase
from typing import Any

from privdiag.config import OWNER_KINDS, Config, composed_name
from privdiag.config_values import closest
from privdiag.ingest.consent_strings import STRING_COLUMNS
from privdiag.ingest.sqlparts import CANONICAL_COLUMNS, INTERNAL_COLUMNS
from privdiag.privacy import looks_like_id, names_an_id

# Well-known fields and the purposes they need when the config says nothing.
BUILTIN_FEATURES: dict[str, list[str]] = {
    "ga_session_id": ["analytics"],
    "ga_session_number": ["analytics"],
    "gclid": ["ads"],
    "dclid": ["ads"],
    "gbraid": ["ads"],
    "wbraid": ["ads"],
    "fbclid": ["ads"],
    "msclkid": ["ads"],
    "ttclid": ["ads"],
    "li_fat_id": ["ads"],
    # Snowplow's campaign enrichment copies the click id of the landing URL (gclid, msclkid,
    # dclid, ...) here, its network in mkt_network
    "mkt_clickid": ["ads"],
    "_fbp": ["ads"],
    "_fbc": ["ads"],
    "_ga": ["analytics"],
    "_gid": ["analytics"],
}


def feature_columns(con: Any) -> dict[str, str]:
    """Return feature column -> DuckDB type for the ``events`` table.

    Every column but the canonical ones, privdiag's internal ones and consent strings is a
    feature, names starting with an underscore (cookies such as ``_ga``) included.
    """
    rows = con.execute("DESCRIBE events").fetchall()
    return {
        r[0]: r[1]
        for r in rows
        if r[0] not in CANONICAL_COLUMNS
        and r[0] not in INTERNAL_COLUMNS
        and r[0].lower() not in STRING_COLUMNS
    }


def feature_spec(config: Config, feature: str) -> Any:
    """The ``[features.X]`` table of ``feature`` itself (not a glob's), its name compared in
    composed form; None when there is none."""
    spec = config.features.get(feature)
    if spec is not None or feature.isascii() and all(n.isascii() for n in config.features):
        return spec
    target = composed_name(feature)
    return next((s for name, s in config.features.items() if composed_name(name) == target), None)


def _glob_matches(feature: str, pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[") and fnmatchcase(
        composed_name(feature), composed_name(pattern)
    )


def purposes_for(feature: str, config: Config) -> list[str] | None:
    """Return the purposes a feature needs, or None when nobody classified it."""
    spec = feature_spec(config, feature)
    if spec is not None and spec.purposes is not None:
        return spec.purposes
    for pattern, spec in config.features.items():
        if spec.purposes is not None and _glob_matches(feature, pattern):
            return spec.purposes
    return BUILTIN_FEATURES.get(feature.lower())


def feature_map(features: list[str], config: Config) -> dict[str, list[str]]:
    """Return feature -> purposes for every classified feature among ``features``."""
    out = {}
    for feature in features:
        purposes = purposes_for(feature, config)
        if purposes is not None:
            out[feature] = purposes
    return out


def unmatched_features(features: list[str], config: Config) -> list[str]:
    """Notes on the ``[features.X]`` tables with purposes that name no feature of the events
    yet look meant for one, whose collection is then checked nowhere: a name the readers take
    as an id column (``session_id``, ``client_id``: an id, not a feature), a field the
    readers renamed ``param_<name>`` because privdiag keeps its name for a column of its own
    (GA4's event parameter ``source``), or a near miss of a feature's name (``gcild`` for
    ``gclid``). Other names are left alone: a model's features are classified in the same
    tables."""

    from privdiag.ingest.roles import id_column_names

    ids = id_column_names(config)
    present = {composed_name(f) for f in features}
    notes = []
    for name, spec in config.features.items():
        if (
            spec.purposes is None
            or composed_name(name) in present
            or any(ch in name for ch in "*?[")
        ):
            continue
        close = closest(name, sorted(present), cutoff=0.8)
        renamed = [f for f in sorted(present) if f.lower() == f"param_{name}".lower()]
        if name.lower() in ids:
            notes.append(
                f"[features.{name}] names no feature: a column {name} is read as the events' "
                "user, anonymous, session or event id, and its collection is not checked "
                "against consent"
            )
        elif renamed:  # a field named as one of privdiag's own columns (source, ts, ...)
            notes.append(
                f"[features.{name}] names no feature: the events' field {name} is read as the "
                f"feature {renamed[0]} ({name} is a name privdiag keeps for a column of its "
                f"own), so nothing is checked for it; classify it as [features.{renamed[0]}]"
            )
        elif close and names_an_id(close):  # a column named by an order or user number
            notes.append(
                f"[features.{name}] names no feature of the events, so nothing is checked "
                "for it; a feature of a close name, which looks like an identifier and is not "
                "shown, is among them"
            )
        elif close:
            notes.append(
                f"[features.{name}] names no feature of the events, so nothing is checked "
                f"for it; did you mean {close}?{_unseen_difference(name, close)}"
            )
    return notes


def _unseen_difference(name: str, close: str) -> str:
    """Words naming the characters of ``name`` that ``close`` lacks and a reader cannot tell
    apart (a Cyrillic ``с`` for a Latin ``c``, a zero-width space), '' for none: the note
    would otherwise ask "did you mean gclid?" of a name that reads ``gclid``."""
    odd = [
        c for c in dict.fromkeys(name) if c not in close and not (c.isascii() and c.isprintable())
    ]
    if not odd:
        return ""
    listed = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in odd[:3])
    return f" ({name!r} holds {listed}, which {close} does not)"


def _kind_of(pattern: str) -> str | None:
    """The kind a ``[owners]`` pattern is for ("feature:gclid*" -> feature), None if bare."""
    kind, sep, _ = pattern.partition(":")
    return kind if sep and kind in OWNER_KINDS else None


def _last_match(config: Config, kind: str, name: str, *, bare: bool) -> str | None:
    """The team of the last ``[owners]`` pattern matching ``name`` of ``kind``.

    With ``bare`` only patterns without a kind prefix count, else only those for ``kind``.
    """
    names = _step_names(config, name) if kind == "step" else (name,)
    owner = None
    for pattern, team in config.owners.items():
        pattern_kind = _kind_of(pattern)
        if bare and pattern_kind is None and any(fnmatchcase(n, pattern) for n in names):
            owner = team
        elif not bare and pattern_kind == kind:
            if any(fnmatchcase(n, pattern[len(kind) + 1 :]) for n in names):
                owner = team
    return owner


def _step_names(config: Config, name: str) -> tuple[str, ...]:
    """A step's names: those of the ``[journey] steps`` entry of several names that holds
    ``name`` (a consent violation is at its event name, ``Order Completed``, a consent gap at
    the step's label, ``purchase``); without configured steps, the GA4 and Segment names of
    the inferred e-commerce step holding it; else ``name`` alone."""
    from privdiag.journey import ECOMMERCE_STEPS  # it imports the checks, which import this

    for step in config.steps or ([] if config.steps is not None else ECOMMERCE_STEPS):
        if not isinstance(step, str) and name in step:
            return tuple(step)
    return (name,)


def _table_owner(config: Config, kind: str, name: str) -> str | None:
    """The owner written in the thing's own table; feature tables may be glob patterns."""
    tables: dict[str, dict[str, Any]] = {
        "source": config.sources,
        "feature": config.features,
        "model": config.models,
    }
    table = tables.get(kind, {})
    spec = feature_spec(config, name) if kind == "feature" else table.get(name)
    if spec is not None and spec.owner:
        return str(spec.owner)
    owner = None
    for pattern, spec in table.items():
        if spec.owner and _glob_matches(name, pattern):
            owner = str(spec.owner)
    return owner


def owner_of(config: Config, kind: str, name: str | None) -> str | None:
    """Return the owner of one source, feature, model or step, or None.

    The thing's own table (``[sources.X] owner``...) wins, then the last ``[owners]`` pattern
    for its kind, then the last bare ``[owners]`` pattern (see :func:`owner_for`).
    """
    if not name:
        return None
    return (
        _table_owner(config, kind, name)
        or _last_match(config, kind, name, bare=False)
        or _last_match(config, kind, name, bare=True)
    )


PREFERENCES = {
    "source": ("source", "feature", "step", "model", "purpose"),
    "feature": ("feature", "source", "step", "model", "purpose"),
    "model": ("model", "feature", "source", "step", "purpose"),
    "step": ("step", "source", "feature", "model", "purpose"),
}


def owner_for(
    config: Config,
    *,
    source: str | None = None,
    feature: str | None = None,
    step: str | None = None,
    model: str | None = None,
    purpose: str | None = None,
    prefer: str = "source",
) -> str | None:
    """Return the owner of a location, or None when nobody owns any part of it.

    The parts are tried in the order of ``prefer`` (source: source, feature, step, model;
    feature: feature, source, step, model; model: model, feature, source, step; step: step,
    source, feature, model), the purpose last in each. A part's own table owner or a pattern
    for its kind decides first; only when no part has one do bare patterns (without
    ``kind:``) decide, so that a bare
    ``"*" = "team"`` is a catch-all default. Among patterns the last match wins, as in
    CODEOWNERS. A missing part (None or empty) never matches a pattern.
    """
    names = {"source": source, "feature": feature, "step": step, "model": model, "purpose": purpose}
    order = [(kind, name) for kind in PREFERENCES[prefer] if (name := names[kind])]
    for kind, name in order:
        if (owner := _own_owner(config, kind, name)) is not None:
            return owner
    for kind, name in order:
        if (owner := _last_match(config, kind, name, bare=True)) is not None:
            return owner
    return None


def _own_owner(config: Config, kind: str, name: str) -> str | None:
    """The owner a thing has of its own: its table's, else the last pattern for its kind."""
    return _table_owner(config, kind, name) or _last_match(config, kind, name, bare=False)


def model_owner(config: Config, model: str, features: list[str] | None = None) -> str | None:
    """Return the owner of a finding about ``model`` under a scenario that masks ``features``.

    The model's own owner (``[models.X] owner``, a ``model:`` pattern) decides first; else
    the owner the masked features share, each by its own table or a ``feature:`` pattern (one
    feature: its owner), as a scan's finding on a feature falls back to the feature's owner;
    else a bare pattern for the model (or the one feature), as :func:`owner_for` tries them.
    """
    owner = _own_owner(config, "model", model)
    if owner is None and features:
        shared = {_own_owner(config, "feature", f) for f in features}
        owner = shared.pop() if len(shared) == 1 else None
    one = features[0] if features and len(features) == 1 else None
    return owner or owner_for(config, model=model, feature=one, prefer="model")


def location_owner(config: Config, location: dict[str, str], area: str) -> str | None:
    """Return the owner of a finding's location: model findings prefer the model, findings
    with a feature but no source prefer the feature, others the source."""
    prefer = "model" if area == "model" and location.get("model") else "source"
    if prefer == "source" and not location.get("source") and location.get("feature"):
        prefer = "feature"
    return owner_for(
        config,
        source=location.get("source"),
        feature=location.get("feature"),
        step=location.get("step"),
        model=location.get("model"),
        purpose=location.get("purpose"),
        prefer=prefer,
    )


def fill_owners(findings: list[Any], config: Config) -> None:
    """Give every finding without an owner the owner of its location, when there is one."""
    for finding in findings:
        if finding.owner is None:
            finding.owner = location_owner(config, finding.location, finding.area)


def idle_owner_notes(findings: list[Any], config: Config) -> list[str]:
    """Notes on the ``[owners]`` patterns whose team owns none of ``findings`` though the
    pattern matches a part of their locations: another part (a source's or feature's own
    owner) came first. Trial 26's head of data wrote ``"step:purchase" = "checkout"`` beside
    an owned source, and checkout owned nothing, with no word why."""
    teams = {f.owner for f in findings}
    notes = []
    for pattern, team in config.owners.items():
        if team in teams:
            continue
        kind = _kind_of(pattern)
        glob = pattern[len(kind) + 1 :] if kind else pattern
        matched = sum(1 for f in findings if _matches_any(config, f.location, kind, glob))
        if matched:
            owns = (
                "does not own the one finding it matches: another part of its location"
                if matched == 1
                else f"owns none of the {matched} findings it matches: another part of theirs"
            )
            notes.append(
                f'[owners] "{pattern}" = "{team}" {owns} has an owner, who comes first (a '
                "source or feature before a step, a purpose last; README, Owners)"
            )
    return notes


def _matches_any(config: Config, location: dict[str, str], kind: str | None, glob: str) -> bool:
    """True when ``glob`` matches the location's part of ``kind`` (any part when None)."""
    for part in (kind,) if kind else OWNER_KINDS:
        name = location.get(part)
        if name:
            names = _step_names(config, name) if part == "step" else (name,)
            if any(fnmatchcase(n, glob) for n in names):
                return True
    return False


#: The kinds whose ``[owners]`` patterns a scan can tell a typo of: it sees their names in
#: the data (a model's name is model-check's alone).
SEEN_KINDS = ("source", "feature", "step", "purpose")


def unseen_owner_notes(config: Config, seen: dict[str, set[str]]) -> list[str]:
    """Notes on the ``[owners]`` patterns of a kind whose name (no glob) is none that the
    scan saw in the data but close to one it did (``"source:ap_1"`` beside a source
    ``app_1``, ``"step:page_veiw"``): a typo, whose team owns nothing and is not told.
    ``seen`` holds, per kind of :data:`SEEN_KINDS`, the names in the data (a step's: the
    event names and step labels). A name absent with nothing close to it may rightly be
    absent from this run (a source not exported today), and so may one that differs from a
    seen one only in its digits (``app_2`` beside ``app_1``): neither is noted. A close name
    that looks like an identifier is not shown."""
    import re

    digits = re.compile(r"[0-9]+")
    notes = []
    for pattern, team in config.owners.items():
        kind = _kind_of(pattern)
        name = pattern[len(kind) + 1 :] if kind else ""
        if kind not in SEEN_KINDS or not name or any(ch in name for ch in "*?["):
            continue
        names = seen.get(kind or "", set())
        if kind == "step":
            names = {n for one in names for n in _step_names(config, one)}
        if composed_name(name) in names:
            continue
        close = closest(name, sorted(names), cutoff=0.8)
        if not close or digits.sub("0", close) == digits.sub("0", name):
            continue
        meant = (
            f"a {kind} of a close name, which looks like an identifier and is not shown, is "
            "among them"
            if looks_like_id(close)
            else f"did you mean {close}?{_unseen_difference(name, close)}"
        )
        notes.append(
            f'[owners] "{pattern}" = "{team}" matches no {kind} of the inputs (names are '
            f"compared as written, case too), so {team} owns nothing by it; {meant}"
        )
    return notes
