"""Keep personal data out of every output.

Findings are aggregates, but names that come from the data (event names, column headers,
file names, consent categories) can themselves be an e-mail address or an IP address.
:func:`scrub_doc` redacts anything shaped like one from every string of a result document,
once, where the document is built, so the JSON, the terminal, Markdown, JUnit and HTML all
see the redacted text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

REDACTED = "[redacted]"
# A match starts only where a run of local-part characters starts: trying every position
# inside a long run (a long text ending in "@") took time quadratic in its length.
_LOCAL = r"[^\s@<>(),;:\[\]\uff20\ufe6b]"
# The "@" as a URL writes it (``%40``, ``%2540`` encoded twice) and as it looks in full width
# (U+FF20, U+FE6B): "signup_bob%40example.com" reads as an address too.
_AT = "(?:@|%40|%2540|\uff20|\ufe6b)"
_ATS = ("@", "%40", "%2540", "\uff20", "\ufe6b")
# A domain's letters with combining marks ("exa\u0301mple", which shows as "exámple"), and its
# dots as full-width and ideographic text writes them (U+FF0E, U+3002, U+FF61).
_LABEL = "[\\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f-]+"
_DOT = "[.\uff0e\u3002\uff61]"
_EMAIL = re.compile(rf"(?<!{_LOCAL})(?P<local>{_LOCAL}+){_AT}{_LABEL}(?:{_DOT}{_LABEL})+")
# An address right where another ends ("a@example.com/b@example.org", a file in a folder
# named for an address): its local part's run starts inside the first address, so
# :data:`_EMAIL` does not start there; it is tried at the end of each address found.
_NEXT_EMAIL = re.compile(rf"(?P<local>{_LOCAL}+){_AT}{_LABEL}(?:{_DOT}{_LABEL})+")
# Characters that show as nothing (zero-width spaces and joiners, the soft hyphen, word
# joiners, the byte order mark): "b\u200bob@example.com" shows an address the pattern above
# would not match. They are removed, which changes no text as it shows.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]")
_QUOTES = "'\"`"
# Not inside a longer dotted number (a version), but found after a name ("features.10.0.0.1").
_QUAD = r"(?:\d{1,3}\.){3}\d{1,3}(?!\d)(?!\.\d)"
_IPV4 = re.compile(rf"(?<![\d.])(?<!\d\.){_QUAD}|(?<=[^\W\d_]\.){_QUAD}")
# Full IPv6, or a compressed one with '::' and at least three hex groups around it.
_H = "[0-9A-Fa-f]{1,4}"
_IPV6 = re.compile(
    rf"(?<![\w:])(?:{_H}:){{7}}{_H}(?![\w:])"
    rf"|(?<![\w:])(?:{_H}:){{2,6}}:(?:{_H}:){{0,5}}{_H}(?![\w:])"
    rf"|(?<![\w:]){_H}::(?:{_H}:){{1,5}}{_H}(?![\w:])"
)
# Keys whose values are fingerprints or ids made by privdiag, never data.
_KEEP = frozenset({"sha256", "id", "caused_by"})
# Of those, the keys holding finding ids, which an edited document may have written from data
# (an e-mail as an id, or as a cause that is not in the report): see :func:`scrub_id`.
_IDS = frozenset({"id", "caused_by"})
# A key for this process only: a replaced id cannot be matched to an address by hashing one.
_ID_KEY = secrets.token_bytes(16)
# The key of the names an id is made of when they hold an e-mail or IP address: the config's
# ``[privacy] hash_key`` (ids stable across runs), else this process's own key.
_name_key = _ID_KEY
# Keys kept at the document's top level only: deeper, "version" is a consent notice's
# version or a model's, which come from the data.
_KEEP_TOP = frozenset({"schema_version", "version", "tool"})


# Terminal control (ESC sequences clear screens, forge links), carriage returns and bidi
# overrides from the data; tab and newline stay. XML (JUnit) forbids most of them too. A lone
# surrogate (a JSON result may hold "\ud800", which no UTF-8 file can) and the
# noncharacters U+FFFE and U+FFFF that XML forbids are replaced with them.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def _redact_email(match: re.Match[str]) -> str:
    """Return the redaction of one address, keeping an opening quote that is not its own."""
    found = match[0]
    keep = found[0] if found[0] in _QUOTES and len(match["local"]) > 1 else ""
    return keep + REDACTED


def _redact_emails(text: str) -> str:
    """Return ``text`` with every address redacted (:data:`_EMAIL`), those that follow one
    another with no other character between them too (:data:`_NEXT_EMAIL`)."""
    parts, done = [], 0
    found = _EMAIL.search(text)
    while found:
        parts += [text[done : found.start()], _redact_email(found)]
        done = found.end()
        found = _NEXT_EMAIL.match(text, done) or _EMAIL.search(text, done)
    return "".join([*parts, text[done:]])


def scrub(text: str) -> str:
    """Return ``text`` with e-mail, IPv4 and IPv6 addresses replaced by ``[redacted]``
    (an address's "@" URL-encoded or in full width too), control characters by U+FFFD, and
    characters that show as nothing removed."""
    text = _INVISIBLE.sub("", _CONTROL.sub("\ufffd", text))
    if any(at in text for at in _ATS):
        text = _redact_emails(text)
    if "." in text:
        text = _IPV4.sub(REDACTED, text)
    if ":" in text:
        text = _IPV6.sub(REDACTED, text)
    return text


# Parts of a reader's error message that quote the data: a value DuckDB could not convert,
# the JSON object or the CSV line it was reading.
# DuckDB quotes the cell it could not convert: "Could not convert string 'x' to INT32",
# "Type DOUBLE with value 1e+25 can't be cast ..."
_QUOTED_VALUE = re.compile(r"string '[^'\n]*'|(?<=with )value \S+")
_QUOTED_RECORD = re.compile(r"\s*(Object|Original Line:?)\s*[\[{].*$", re.MULTILINE)
# DuckDB's JSON functions quote the value of the wrong type: "Expected ARRAY, but got OBJECT:
# {...}", which holds whatever the cell held.
_JSON_TYPE_VALUE = re.compile(r"(but got [A-Z_]+): [^\n]*")
# polars quotes the value (a whole record, after an unclosed quote) in backticks
_POLARS_VALUE = re.compile(r"could not parse `.*?` as dtype", re.DOTALL)


def without_quoted_data(text: str) -> str:
    """Return an error text without the values and records a reader quoted from the data."""
    text = _POLARS_VALUE.sub("could not parse a value as dtype", text)
    text = _JSON_TYPE_VALUE.sub(r"\1 (value not shown)", text)
    text = _QUOTED_RECORD.sub(" (record not shown)", text)
    return _QUOTED_VALUE.sub("a value", text)


def reader_message(exc: BaseException) -> str:
    """The first line of a reader's error (polars, json) without the cells it quotes (polars
    puts them in backticks, "could not parse `x` as dtype"), e-mail or IP addresses."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return without_quoted_data(scrub(re.sub(r"`[^`]*(`|$)", "a value", first)))[:200]


def scrub_doc(value: Any, key: str = "", top: bool = True) -> Any:
    """Return a copy of a JSON-like value with every string (and dict key) scrubbed.

    ``value`` is the whole document when ``top``: only its own tool and version keys are kept.
    """
    if key in _IDS:
        if isinstance(value, list | tuple):
            return [scrub_id(v) if isinstance(v, str) else v for v in value]
        return scrub_id(value) if isinstance(value, str) else value
    if key in _KEEP or (top and key in _KEEP_TOP):
        return value
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)): scrub_doc(v, str(k), top and not key) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_doc(v, key, False) for v in value]
    return value


def scrub_id(text: str) -> str:
    """Return a finding id as it is, or, when :func:`scrub` would change it (an e-mail, an IP
    address or a control character where privdiag writes a hash), ``redacted-`` and a keyed
    hash of it: the same in the whole run, so links between findings still hold, and distinct
    ids stay distinct."""
    if scrub(text) == text:
        return text
    digest = hmac.new(_ID_KEY, text.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return "redacted-" + digest.hexdigest()[:16]


def use_hash_key(key: str | None) -> None:
    """Key :func:`id_part` with ``key`` (the config's ``[privacy] hash_key``); None: with a key
    of this process's own, which no later run shares."""
    global _name_key
    _name_key = key.encode("utf-8") if key else _ID_KEY


def id_part(text: str, *, named_by_data: bool = False) -> str:
    """Return a name as a finding's id is made of it: as it is, or, when it holds an e-mail or
    IP address (which the outputs redact), or is the name of a step or feature from the data
    (``named_by_data``) that looks like an identifier (:func:`names_an_id`), a keyed hash of
    it. An unkeyed hash of the name would give the address back to anyone who hashes guesses:
    the 2^32 IPv4 addresses take minutes, a seven-digit order number seconds."""
    if scrub(text) == text and not (named_by_data and names_an_id(text)):
        return text
    digest = hmac.new(_name_key, text.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return "keyed-" + digest.hexdigest()


_SYMBOL_NAMES = {" ": "spaces"}
_MAX_SYMBOLS = 5


def describe_value(value: object, safe: frozenset[str] | set[str] = frozenset()) -> str:
    """Return words saying what a data value looks like, never the value itself.

    A cell that fails to parse may be an id, an e-mail or a phone number from a mis-mapped
    column; its length and character classes are what a user needs to find it. A value whose
    lower-cased text is in ``safe`` (a word of a known vocabulary) is quoted as it is.
    """
    if value is None:
        return "an empty value"
    text = str(value)
    if text.strip().lower() in safe:
        return repr(text.strip())
    if not text:
        return "an empty value"
    return f"a {len(text)}-character value of {_classes(text)}"


def _classes(text: str) -> str:
    """Return the character classes of ``text`` as words: letters, digits, named symbols."""
    parts = []
    if any(c.isalpha() for c in text):
        parts.append("letters")
    if any(c.isdigit() for c in text):
        parts.append("digits")
    if " " in text:
        parts.append("spaces")
    if _CONTROL.search(text):
        parts.append("control characters")
    plain = {c for c in text if c.isalpha() or c.isdigit() or c == " " or _CONTROL.match(c)}
    symbols = sorted(set(text) - plain)
    if len(symbols) > _MAX_SYMBOLS:
        parts.append(f"{len(symbols)} kinds of symbol")
    else:
        parts.extend(repr(c) if c not in "'\\" else f'"{c}"' for c in symbols)
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


_TOKEN = re.compile(r"[^\W_]+")
_MAX_NAME = 64


def looks_like_id(name: str) -> bool:
    """True when a name from the data may identify someone, so it is counted, not shown.

    That is an e-mail or IP address, control characters, a name longer than 64 characters,
    a run of 6 or more digits (a phone number, a pseudo-id), or a word of 8 or more
    characters with 3 or more digits among letters (a hex or random id). Category names
    such as ``C0004``, ``DataSharing`` or ``Google Analytics`` are none of these.
    """
    return scrub(name) != name or len(name) > _MAX_NAME or names_an_id(name)


def names_an_id(name: str) -> bool:
    """True when a word of ``name`` looks like an identifier: a run of 6 or more digits (a
    phone or order number, a pseudo-id), or 8 or more characters with 3 or more digits among
    letters (a hex or random id), as ``cart_a27f9c3e7b1d2`` or ``order_9000015``."""
    for token in _TOKEN.findall(name):
        digits = sum(c.isdigit() for c in token)
        if re.search(r"\d{6}", token) or (len(token) >= 8 and digits >= 3 and digits < len(token)):
            return True
    return False


#: Location keys whose names come from the data (an event name, a column): one that looks
#: like an identifier is redacted in every output (:func:`redact_id_names`).
NAMED_BY_DATA = frozenset({"step", "feature"})


def redact_id_names(doc: dict[str, Any]) -> dict[str, Any]:
    """Return a result document with every step or feature name that looks like an identifier
    (:func:`names_an_id`: a user id, an order or phone number in an event or column name)
    replaced by ``[redacted]`` in all its texts, with a note counting them. Such a name tells
    whose events a finding describes, however few users it hides. The names are those of the
    findings' locations, of the journey's steps and of the consent gaps' heatmaps; ids and
    fingerprints are kept."""
    names = {
        value
        for f in doc.get("findings") or []
        if isinstance(f, dict) and isinstance(f.get("location"), dict)
        for key, value in f["location"].items()
        if key in NAMED_BY_DATA and isinstance(value, str) and names_an_id(value)
    }
    evidence = doc.get("evidence") if isinstance(doc.get("evidence"), dict) else {}
    journey = evidence.get("journey") if isinstance(evidence.get("journey"), dict) else {}
    steps = journey.get("steps") if isinstance(journey.get("steps"), list) else []
    heatmaps = evidence.get("consent_gap_heatmaps")
    for heatmap in heatmaps if isinstance(heatmaps, list) else []:  # steps x features
        for axis in ("rows", "cols"):
            names_of = heatmap.get(axis) if isinstance(heatmap, dict) else None
            steps = steps + (names_of if isinstance(names_of, list) else [])
    names |= {s for s in steps if isinstance(s, str) and names_an_id(s)}
    if not names:
        return doc
    pattern = re.compile(
        r"(?<!\w)(?:"
        + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        + r")(?!\w)"
    )
    doc = _replace_names(doc, pattern, "")
    count = f"{len(names)} step or feature name{'s' if len(names) != 1 else ''}"
    look = "look" if len(names) != 1 else "looks"
    note = (
        f"{count} that {look} like an identifier (a run of six digits or more, or a word mixing "
        f"digits among letters) read {REDACTED}: rename such events or columns at the source."
    )
    if isinstance(doc.get("evidence"), dict):
        notes = doc["evidence"].setdefault("notes", [])
        if isinstance(notes, list):
            notes.append(note)
    return doc


def _replace_names(value: Any, pattern: re.Pattern[str], key: str) -> Any:
    """Return a copy of a JSON-like value with ``pattern`` redacted in every string and dict
    key, the values of :data:`_KEEP` keys (ids, fingerprints) as they are."""
    if key in _KEEP:
        return value
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, dict):
        return {
            pattern.sub(REDACTED, str(k)): _replace_names(v, pattern, str(k))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_replace_names(v, pattern, key) for v in value]
    return value
