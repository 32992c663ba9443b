"""Bounded fuzzing of ingestion: mutated corpus files through ``privdiag scan``.

Only exit codes 0-3 are allowed, never a traceback or an internal error, and nothing is written
on an error. By default (the test command, CI) a fixed seed makes :data:`RUNS` mutations, the
same on every machine, so that a submission's CI does not fail on a bug it did not bring;
``make fuzz`` sets ``PRIVDIAG_FUZZ_SECONDS`` and then runs that long from a random seed.
``PRIVDIAG_FUZZ_SEED`` replays a run; a failure names the seed and keeps the input.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from privdiag.cli import app

FILES = Path(__file__).parent / "corpus" / "files"
SEEDS = sorted(
    p
    for sub in ("csv", "ndjson", "ga4", "segment", "snowplow", "consent", "tcf")
    for p in (FILES / sub).iterdir()
    if p.is_file() and p.stat().st_size < 20_000
)
TOKENS = (
    b'"',
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r\n",
    b"\x00",
    b"\xff\xfe",
    b"{",
    b"}",
    b"[",
    b"]",
    b"NaN",
    b"Infinity",
    b"1e999",
    b"-1",
    b"99999999999999999999",
    b"\\",
    b'""',
    b"\xef\xbb\xbf",
    b"null",
    b"=cmd|' /C calc'!A0",
    b"<script>",
    b"1970-01-01",
    b"2026-13-45T99:99:99Z",
)
SECONDS = float(os.environ.get("PRIVDIAG_FUZZ_SECONDS", "0"))
# The default run: this seed (the one that found an empty time's NULL count, see
# tests/test_bad_inputs.py) and this many mutations, about ten seconds.
SEED = 697760257
RUNS = 150


def mutate(data: bytes, rnd: random.Random) -> bytes:
    """Apply one to four random edits: byte flips, token inserts, cuts, line shuffles."""
    for _ in range(rnd.randint(1, 4)):
        pos = rnd.randrange(len(data) + 1)
        op = rnd.randrange(6)
        if op == 0 and data:
            data = data[:pos] + bytes([rnd.randrange(256)]) + data[pos + 1 :]
        elif op == 1:
            data = data[:pos] + rnd.choice(TOKENS) + data[pos:]
        elif op == 2:
            data = data[:pos]
        else:
            lines = data.split(b"\n")
            i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
            if op == 3:
                lines.insert(i, lines[j])
            elif op == 4 and len(lines) > 1:
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
    return data


def scan_once(path: Path, out: Path, consent: bool) -> tuple[int, str]:
    good = str(FILES / "csv" / "good.csv")
    args = [good, "--consent", str(path)] if consent else [str(path)]
    result = CliRunner().invoke(app, ["scan", *args, "--json", str(out), "--quiet"])
    return result.exit_code, result.output


def check(path: Path, out: Path, consent: bool) -> None:
    code, text = scan_once(path, out, consent)
    assert code in (0, 1, 2, 3), text
    assert "Traceback" not in text and "Internal error" not in text, text
    if code in (2, 3):
        assert not out.exists(), "output written on error"
    out.unlink(missing_ok=True)


def test_mutated_corpus_files(tmp_path):
    fallback = random.randrange(1 << 30) if SECONDS else SEED
    seed = int(os.environ.get("PRIVDIAG_FUZZ_SEED", fallback))
    rnd = random.Random(seed)
    deadline = time.monotonic() + SECONDS
    runs = 0
    while time.monotonic() < deadline if SECONDS else runs < RUNS:
        origin = rnd.choice(SEEDS)
        path = tmp_path / f"fuzz{origin.suffix}"
        path.write_bytes(mutate(origin.read_bytes(), rnd))
        consent = origin.parent.name in ("consent", "tcf") and "events" not in origin.name
        try:
            check(path, tmp_path / "out.json", consent)
        except AssertionError as exc:
            kept = tmp_path / f"failing-{seed}-{runs}{origin.suffix}"
            kept.write_bytes(path.read_bytes())
            raise AssertionError(f"seed {seed}, run {runs}, from {origin.name}: {exc}") from exc
        runs += 1


csv_cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["2026-10-01T10:00:00Z", "1790000000", "granted", "", '"', "NaN", "u1"]),
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    header=st.lists(
        st.sampled_from(["ts", "event_name", "user_id", "consent_ads", "x", ""]),
        min_size=1,
        max_size=6,
    ),
    rows=st.lists(st.lists(csv_cell, min_size=1, max_size=7), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_generated_csv(tmp_path_factory, header, rows, delimiter):
    tmp = tmp_path_factory.mktemp("gen")
    text = "\n".join(delimiter.join(r) for r in [header, *rows])
    path = tmp / "gen.csv"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    check(path, tmp / "out.json", consent=False)


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    records=st.lists(
        st.fixed_dictionaries(
            {
                "ts": st.one_of(st.sampled_from(["2026-10-01T10:00:00Z", 1790000000]), json_value),
                "event_name": json_value,
            },
            optional={"user_id": json_value, "consent_ads": json_value, "f": json_value},
        ),
        min_size=1,
        max_size=5,
    )
)
def test_generated_ndjson(tmp_path_factory, records):
    import json

    tmp = tmp_path_factory.mktemp("gen")
    path = tmp / "gen.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    check(path, tmp / "out.json", consent=False)
