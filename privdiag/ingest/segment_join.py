"""The cross-input half of Segment and RudderStack staging (:mod:`privdiag.ingest.segment`):
once every input is staged, :func:`join` gives the payloads without a user id the user their
anonymous id is seen with in any input, and denies, in each categoryPreferences object, the
purposes other payloads name and it leaves out; with their notes.
"""

from __future__ import annotations

import re
from typing import Any

from privdiag.engine import literal, one
from privdiag.ingest.base import Staged
from privdiag.ingest.placeholders import without_placeholder

#: ``raw`` of the denial a payload's categoryPreferences gets for a purpose it names no category
#: of while other payloads of the scan do (its ``category`` is NULL, which no read one is).
ABSENT = "(absent)"

#: The user key of a payload: its user id, else the one user id its anonymous id carries in
#: other payloads of the scan's Segment inputs (:func:`join`), else its anonymous id.
USER_KEY = "coalesce(user_id, known.identified_as, anonymous_id)"


#: The scan's Segment staging that :func:`join` completes, kept in ``Staged.joint``.
JOINT = ("messages", "categories", "objects", "identities")
#: The scan-wide tables :func:`join` works with, dropped when it ends: the purposes some
#: categoryPreferences names, and the anonymous ids known as one user.
SEEN, KNOWN = "segment_purposes_named", "segment_identities"


def join(con: Any, inputs: list[Staged], min_group: int = 1) -> None:
    """Complete the staging of the scan's Segment and RudderStack ``inputs`` from all of them
    at once, so that how the files were split into arguments changes nothing (a day's file
    of pre-login page views given beside the next day's logins):

    - identities: each anonymous id that payloads of any input carry beside one user id and
      no other is that user's, as Segment's identity resolution joins a visitor's events
      before and after they log in: the pre-login page view of anonymousId a1, later
      identified as u1, is u1's and meets u1's consent. An anonymous id seen with several
      user ids (a shared device) keeps its own key. Each input keeps those of its payloads
      without a user id.
    - a purpose that some input's categoryPreferences names (``necessary`` aside) is denied
      in each categoryPreferences object that names no category of it (an empty one too).

    Each input gets a note per purpose so denied (its payloads not counted where they are
    of 1 to ``min_group`` - 1 users) and one counting its payloads that took a user id. Two
    queries over all the inputs' payloads, and two statements per input."""
    tables = [dict(zip(JOINT, s.joint, strict=True)) for s in inputs]
    named = " UNION ALL ".join(
        f"SELECT purpose FROM {t['categories']} SEMI JOIN {t['objects']} USING (_n)" for t in tables
    )
    pairs = " UNION ALL ".join(
        f"SELECT anonymous_id, user_id FROM {t['messages']} "
        f"WHERE user_id IS NOT NULL AND {without_placeholder('anonymous_id')} IS NOT NULL"
        for t in tables
    )
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {SEEN} AS SELECT DISTINCT purpose FROM ({named})
            WHERE purpose IS NOT NULL AND purpose <> 'necessary'
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {KNOWN} AS
            SELECT anonymous_id, min(user_id) AS identified_as FROM ({pairs})
            GROUP BY anonymous_id HAVING count(DISTINCT user_id) = 1
        """)
        for staged, t in zip(inputs, tables, strict=True):
            con.execute(f"""
                INSERT INTO {t["categories"]}  -- Segment reads a missing category as denied
                SELECT o._n, NULL, FALSE, {literal(ABSENT)}, s.purpose
                FROM {t["objects"]} o CROSS JOIN {SEEN} s
                WHERE NOT EXISTS (SELECT 1 FROM {t["categories"]} c
                                  WHERE c._n = o._n AND c.purpose = s.purpose)
            """)
            con.execute(f"""
                INSERT INTO {t["identities"]} SELECT * FROM {KNOWN} k
                WHERE k.anonymous_id IN (SELECT anonymous_id FROM {t["messages"]}
                                         WHERE user_id IS NULL)
            """)
            staged.notes += _absent_category_notes(con, t, min_group)
            staged.notes += _identity_note(con, t["messages"], t["identities"])
    finally:
        con.execute(f"DROP TABLE IF EXISTS {SEEN}")
        con.execute(f"DROP TABLE IF EXISTS {KNOWN}")


def _absent_category_notes(con: Any, t: dict[str, str], k: int) -> list[str]:
    """A note per purpose that payloads' categoryPreferences leave out while others name it:
    those payloads read it as denied, as Segment does. Their count is not given when they are
    of 1 to ``k`` - 1 users (their user ids, else anonymous ids): beside that purpose's
    consent rate, hidden for so few denying it, it would bound how many did (one payload, one
    person)."""
    rows = con.execute(f"""
        SELECT c.purpose, count(DISTINCT c._n), count(DISTINCT {USER_KEY})
        FROM {t["categories"]} c JOIN {t["messages"]} m USING (_n)
        LEFT JOIN {t["identities"]} known USING (anonymous_id)
        WHERE c.raw = {literal(ABSENT)} AND c.category IS NULL
        GROUP BY c.purpose ORDER BY c.purpose
    """).fetchall()
    few = f"Some payloads (of fewer than {k} users)"
    return [
        f"{few if 0 < users < k else f'{n:,} payload(s)'}{_ABSENT_NOTE}{purpose}, which other "
        f"payloads name: read as {purpose} denied, as Segment reads a category missing from the "
        "object (an empty object denies them all)"
        for purpose, n, users in rows
    ]


#: The words of :func:`_absent_category_notes` after its count of payloads.
_ABSENT_NOTE = " carry context.consent.categoryPreferences without a category of "
_ABSENT_COUNT = re.compile(rf"(^|: )[\d,]+ payload\(s\)(?={re.escape(_ABSENT_NOTE)})")


def uncounted_absent_category(note: str) -> str:
    """The note of :func:`_absent_category_notes` without its count of payloads ("Some
    payloads carry ..."), any other note as it is: a result made with a smaller
    ``min_group_size`` counted the payloads of fewer users than a report's."""
    return _ABSENT_COUNT.sub(r"\1Some payloads", note, count=1)


def _identity_note(con: Any, msg: str, ids: str) -> list[str]:
    """A note counting the events without a user id that took their anonymous id's."""
    row = one(
        con,
        f"SELECT count(*), count(DISTINCT anonymous_id) FROM {msg} "
        f"JOIN {ids} USING (anonymous_id) WHERE user_id IS NULL",
    )
    if not row or not row[0]:
        return []
    return [
        f"{row[0]:,} payload(s) without a user id, of {row[1]:,} anonymous id(s) that other "
        "payloads carry beside one user id (in any Segment input), are that user's (as "
        "Segment's identity resolution joins them): they meet that user's consent and count as "
        "that user; an anonymous id seen with several user ids keeps its own"
    ]
