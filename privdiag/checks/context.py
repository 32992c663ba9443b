"""What every check receives: the connection, the config and what the scan learned."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from privdiag.config import Config

# Every event with its consent state per purpose: one table (see privdiag.state.resolve), so
# the checks' scans run on every core (DuckDB reads a positional join on one thread).
EVENTS_WITH_CONSENT = "scan_events e"


@dataclass
class ScanContext:
    """The state a scan's checks share: tables live in ``con``."""

    con: Any
    config: Config
    features: dict[str, str]  # feature column -> DuckDB type
    mapping: dict[str, list[str]]  # classified feature -> purposes
    purposes: list[str]  # purposes with any consent signal
    formats: dict[str, str] = field(default_factory=dict)  # source -> format
    unmapped: bool = False  # some consent decision's category maps to no purpose
    # the opt-in rates per dimension before any was hidden (privdiag.checks.optin), for the
    # rule across findings that may hide more of them; never written out
    optin_counts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _event_names: frozenset[str] | None = field(default=None, repr=False)

    @property
    def min_group(self) -> int:
        return self.config.thresholds.min_group_size

    @property
    def event_names(self) -> frozenset[str]:
        """The distinct event names of the events, read once for the checks that ask (the
        flag conflicts, the owner patterns' names)."""
        if self._event_names is None:
            sql = "SELECT DISTINCT event_name FROM events WHERE event_name IS NOT NULL"
            self._event_names = frozenset(r[0] for r in self.con.execute(sql).fetchall())
        return self._event_names

    def no_signal(self, what: str = "no consent signal") -> str:
        """Return why a check that needs consent decisions is skipped: none was given, or
        every one given is in a category that maps to no purpose."""
        if self.unmapped:
            return (
                f"{what}: no consent decision is in a category that maps to a purpose (see "
                "consent.unmapped_category; map them under [purposes.aliases])"
            )
        return f"{what}: no consent log given and no event carries a consent flag"


def text_present_sql(value: str) -> str:
    """SQL that is true when the text ``value`` is more than blanks.

    The same as ``nullif(trim(value), '') IS NOT NULL`` (DuckDB's trim() removes the space and
    the other Unicode space separators) but about three times faster on long strings:
    trim() copies every string, while a value whose first character is printable ASCII or
    a C1 control (code point 33 to 159, none of them a space) is present without trimming.
    CASE evaluates trim() only for the rows that reach it.
    """
    return (
        f"(CASE WHEN {value} IS NULL OR {value} = '' THEN FALSE "
        f"WHEN unicode({value}) BETWEEN 33 AND 159 THEN TRUE ELSE trim({value}) <> '' END)"
    )


def present_sql(column: str, sql_type: str, *, of: str = "") -> str:
    """SQL that is true when a feature value is present (not NULL, not an empty string, list
    or map), else false, never NULL (``NOT`` of it is true for a missing value); ``of``
    names the table the column is read from where another could have it too."""
    from privdiag.engine import quote

    value = f"{of}.{quote(column)}" if of else quote(column)
    if sql_type.upper() == "VARCHAR":
        return text_present_sql(value)
    if sql_type.upper().startswith("MAP"):  # len() takes no MAP; an empty {} is absent
        return f"coalesce(cardinality({value}) > 0, FALSE)"
    if sql_type.upper().endswith("[]") or sql_type.upper().startswith("LIST"):
        # array_length, not len: Spark reads len() as a string's length and fails on a list
        return f"coalesce(array_length({value}) > 0, FALSE)"
    return f"({value} IS NOT NULL)"


def hide(metrics: dict[str, Any], keys: list[str], k: int) -> dict[str, Any]:
    """Return ``metrics`` with ``keys`` set to None and listed under ``suppressed`` (after
    any listed before), with ``min_group_size`` k; unchanged when ``keys`` is empty.

    The one way a check hides what would tell a small group's data; readers of a finding
    find what was hidden, and why, under those two keys.
    """
    if keys:
        listed = list(metrics.get("suppressed") or [])
        metrics |= {key: None for key in keys}
        metrics["suppressed"] = listed + [key for key in dict.fromkeys(keys) if key not in listed]
        metrics["min_group_size"] = k
    return metrics


#: The metrics key listing the hidden values that are not small themselves: shown, they would
#: tell, by difference with figures shown beside them, a count hidden for a small group.
BY_DIFFERENCE = "suppressed_by_difference"


def hide_by_difference(metrics: dict[str, Any], keys: list[str], k: int) -> dict[str, Any]:
    """Return ``metrics`` with ``keys`` hidden as :func:`hide` hides them and listed under
    :data:`BY_DIFFERENCE` too, so that a report reads them ``hidden``, not ``<k``: the value
    may be large; it is hidden for the small group another figure less it would tell."""
    hide(metrics, keys, k)
    listed = list(metrics.get(BY_DIFFERENCE) or [])
    metrics[BY_DIFFERENCE] = listed + [key for key in dict.fromkeys(keys) if key not in listed]
    return metrics


#: The metrics key listing the user counts that are unknown, not none (see mark_no_user_ids).
NO_USER_IDS = "no_user_ids"


def mark_no_user_ids(metrics: dict[str, Any]) -> dict[str, Any]:
    """Return ``metrics`` with a count of 0 users of events (or consent decisions) counted set
    to None and listed under ``no_user_ids``: those rows carry no user id at all (cookieless
    pings, such as GA4 Consent Mode sends without consent, or a payload without any id), so
    how many people sent them is unknown, not 0."""
    users = metrics.get("users")
    rows = metrics.get("events", metrics.get("decisions"))
    if type(users) is int and users == 0 and isinstance(rows, int) and rows > 0:
        metrics["users"] = None
        metrics[NO_USER_IDS] = ["users"]
    return metrics


#: The metric counting a finding's events that carry no user id, beside identified users.
#:
#: Events without a user id (cookieless pings, such as Consent Mode sends without consent)
#: come from an unknown number of persons, at least one, and single out none of them. A
#: finding's ``users`` count its identified persons only, so beside such events they are a
#: lower bound of its persons. The rule: what describes the identified users is hidden as
#: ever when they are fewer than the minimum group size (their count, the events and the
#: share, which hold theirs); the events without a user id are shown apart under this key,
#: as a finding with no identified user at all shows them (see mark_no_user_ids). Hiding them
#: too made a million cookieless violations read "<5 users" for two logged-in users among
#: them; counting them as persons would take one bot's pings for a crowd and show the few
#: users' events. The total less this count would give the identified users' events, so the
#: total is never shown beside it while the users are hidden.
NO_ID_EVENTS = "events_without_user_id"


#: The metrics of a compliance finding that count only its users' events (or recover them
#: from a shown total): hidden with the users when those are fewer than the minimum group
#: size. A violation's ``denied_events`` (its step's denied events) go too: the users who
#: denied there may be as few, and then the count is their events; with the violation's
#: users shown it stays, as at least as many users denied there. A pre-consent's median lead
#: time is of those users' events too: of one user, the seconds between its event and
#: decision; and so is its verdict (any beyond the grace window or none).
USERS_EVENTS = (
    "events",
    "share",
    "events_beyond_grace",
    "events_within_grace",
    "denied_events",
    "median_lead_seconds",
    "verdict",
)


def _count(value: Any) -> bool:
    """True for a number that can count users: an int or float, not a flag or NaN."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def suppress(
    metrics: dict[str, Any],
    k: int,
    keys: tuple[str, ...] = ("users",),
    follow: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Replace user counts below ``k`` with None and list them under ``suppressed``.

    ``follow`` names the metrics that describe only those users (their events, and shares
    from which the events can be recovered): they are hidden too when a count is. Events
    without a user id (:data:`NO_ID_EVENTS`) are never among them.
    """
    # a float count too (3.0): a result edited or written by another tool may hold one
    hidden = [key for key in keys if _count(metrics.get(key)) and 0 < metrics[key] < k]
    if hidden:
        hidden += [key for key in follow if metrics.get(key) is not None]
    return hide(metrics, hidden, k)
