"""A scan's checks run at once on cursors of one database (privdiag.checks.concurrent).

What must hold: the parts really run together; what they record is merged in the parts'
order, whichever ends first; a part reading the scan connection's TEMP tables runs on that
connection; every cursor reads times in UTC; the first failure stops the others and is the
error raised; and a scan gives the same result run at once as one part after another.
"""

from __future__ import annotations

import dataclasses
import threading

import pytest

from privdiag.checks.concurrent import Part, run_parts, workers
from privdiag.checks.context import ScanContext
from privdiag.config import Config, EngineConfig, load_config
from privdiag.engine import close, connect
from privdiag.errors import InputError
from privdiag.findings import Finding
from privdiag.generate import generate_scenario
from privdiag.result import Result
from privdiag.scan import run_scan

WAIT = 60  # seconds a part waits for another before the test fails: only a guard on a hang


def _ctx(threads: int | None = 2) -> ScanContext:
    config = Config(engine=EngineConfig(threads=threads))
    con = connect(config.engine)
    return ScanContext(con=con, config=config, features={}, mapping={}, purposes=[])


def _finding(name: str) -> Finding:
    return Finding(kind="people.unowned", severity="low", title=name, location={"feature": name})


@pytest.fixture
def ctx():
    ctx = _ctx()
    yield ctx
    close(ctx.con)


def test_parts_run_at_once_and_merge_in_their_order(ctx) -> None:
    second_started = threading.Event()

    def first(part_ctx: ScanContext, result: Result) -> list[Finding]:
        # run one after another, the second part would start only once this one returned
        assert second_started.wait(WAIT), "the parts did not run at once"
        result.ran("first")
        result.note("first's note")
        result.evidence["first"] = 1
        return [_finding("first")]

    def second(part_ctx: ScanContext, result: Result) -> list[Finding]:
        second_started.set()
        result.ran("second")
        result.note("second's note")
        result.evidence["second"] = 2
        return [_finding("second")]

    result = Result("scan")
    result.note("before")
    findings = run_parts(ctx, result, [Part("first", first), Part("second", second)])
    # the second part ended first; the first part's records still come first
    assert [f.title for f in findings] == ["first", "second"]
    assert [c.name for c in result.checks] == ["first", "second"]
    assert result.evidence == {
        "notes": ["before", "first's note", "second's note"],
        "first": 1,
        "second": 2,
    }


def test_costliest_part_starts_first() -> None:
    ctx = _ctx(threads=2)
    started: list[str] = []
    lock = threading.Lock()

    def part(name: str):
        def run(part_ctx: ScanContext, result: Result) -> list[Finding]:
            with lock:
                started.append(name)
            return []

        return run

    names = ["cheap", "dear", "middling"]
    costs = [1, 9, 5]
    parts = [Part(n, part(n), cost=c) for n, c in zip(names, costs, strict=True)]
    try:
        run_parts(ctx, Result("scan"), parts)
    finally:
        close(ctx.con)
    # two workers take the two costliest parts first; the cheap one waits for one of them
    assert started[-1] == "cheap"
    assert sorted(started) == sorted(names)


def test_own_connection_part_reads_temp_tables_others_get_cursors_in_utc(ctx) -> None:
    ctx.con.execute("CREATE TEMP TABLE scratch AS SELECT 41 + 1 AS answer")
    seen: dict[str, object] = {}

    def own(part_ctx: ScanContext, result: Result) -> list[Finding]:
        seen["own"] = part_ctx.con is ctx.con
        seen["answer"] = part_ctx.con.execute("SELECT answer FROM scratch").fetchone()[0]
        return []

    def other(part_ctx: ScanContext, result: Result) -> list[Finding]:
        seen["other"] = part_ctx.con is ctx.con
        zone = "SELECT current_setting('TimeZone')"
        seen["zone"] = part_ctx.con.execute(zone).fetchone()[0]
        tables = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'scratch'"
        seen["scratch"] = part_ctx.con.execute(tables).fetchone()[0]
        return []

    run_parts(ctx, Result("scan"), [Part("own", own, own_connection=True), Part("o", other)])
    # a new cursor reads the system's zone ("Etc/UTC" here, local time elsewhere) unless set
    assert seen == {"own": True, "answer": 42, "other": False, "zone": "UTC", "scratch": 0}


def test_no_duckdb_progress_bar_on_the_connection_or_its_cursors(ctx) -> None:
    setting = "SELECT current_setting('enable_progress_bar')"
    seen = []
    part = Part("bar", lambda c, r: seen.append(c.con.execute(setting).fetchone()[0]) or [])
    run_parts(ctx, Result("scan"), [part, part])
    assert seen == [False, False]
    assert ctx.con.execute(setting).fetchone()[0] is False


def test_two_parts_on_the_own_connection_are_refused(ctx) -> None:
    parts = [Part(n, lambda c, r: [], own_connection=True) for n in ("a", "b")]
    with pytest.raises(ValueError, match="at most one part"):
        run_parts(ctx, Result("scan"), parts)


@pytest.mark.timeout(300)  # without the interrupt, the endless query never ends
def test_first_failure_interrupts_the_others_and_is_raised(ctx) -> None:
    running = threading.Event()
    ended: list[str] = []

    def endless(part_ctx: ScanContext, result: Result) -> list[Finding]:
        running.set()
        try:  # a query of a trillion rows: it ends only when interrupted
            part_ctx.con.execute("SELECT count(*) FROM range(1000000000000) WHERE range % 7 = 3")
        except Exception as exc:
            ended.append(type(exc).__name__)
            raise
        return []

    def failing(part_ctx: ScanContext, result: Result) -> list[Finding]:
        assert running.wait(WAIT)
        raise InputError("survey.csv: row 3 has no respondent id")

    result = Result("scan")
    parts = [Part("endless", endless, cost=2), Part("failing", failing)]
    with pytest.raises(InputError, match="row 3"):
        run_parts(ctx, result, parts)
    assert ended == ["InterruptException"]
    assert result.checks == []  # nothing half-recorded


@pytest.mark.timeout(300)  # without interrupting until the parts end, the query never ends
def test_a_query_started_just_after_the_interrupt_is_interrupted_too(ctx) -> None:
    """The race the full suite once hit: a part past the stopping check whose query DuckDB
    starts only after the interrupt was sent (an interrupt ends the query running then, and
    none was) ran on. Here the part starts its query once the scan is stopping."""
    ended: list[str] = []

    def late(part_ctx: ScanContext, result: Result) -> list[Finding]:
        cursor = part_ctx.con
        assert cursor._stopping.wait(WAIT)  # the other part has failed
        try:  # as if it had passed the check just before
            cursor._cursor.execute("SELECT count(*) FROM range(1000000000000) WHERE range % 7 = 3")
        except Exception as exc:
            ended.append(type(exc).__name__)
            raise
        return []

    def failing(part_ctx: ScanContext, result: Result) -> list[Finding]:
        raise InputError("survey.csv: row 3 has no respondent id")

    with pytest.raises(InputError, match="row 3"):
        run_parts(ctx, Result("scan"), [Part("late", late, cost=2), Part("failing", failing)])
    assert ended == ["InterruptException"]


def test_one_thread_or_spark_runs_the_parts_one_after_another() -> None:
    one = _ctx(threads=1)
    try:
        assert workers(one) == 1
        order: list[str] = []
        parts = [Part(n, lambda c, r, n=n: order.append(n) or []) for n in ("a", "b", "c")]
        run_parts(one, Result("scan"), parts)
        assert order == ["a", "b", "c"]
    finally:
        close(one.con)
    spark = dataclasses.replace(
        _ctx(), config=Config(engine=EngineConfig(name="spark")), con=object()
    )
    assert workers(spark) == 1


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    out = tmp_path_factory.mktemp("shop")
    return generate_scenario(out, seed=7, users=600).paths


@pytest.mark.parametrize("memory_limit", [None, "1GB"])
def test_scan_at_once_equals_scan_one_part_after_another(shop, memory_limit) -> None:
    """The generated shop (every check runs and finds) scanned on one thread, where the
    parts run one after another, and on two, where they run at once: the same result."""
    docs = []
    for threads in (1, 2):
        config = load_config(shop["config"])
        engine = dataclasses.replace(config.engine, threads=threads, memory_limit=memory_limit)
        config = dataclasses.replace(config, engine=engine)
        doc = run_scan([str(shop["web"]), str(shop["app"])], config=config).to_dict()
        doc.pop("started_at")
        docs.append(doc)
    serial, together = docs
    assert together["checks"] == serial["checks"]
    assert together["findings"] == serial["findings"]
    assert together["evidence"] == serial["evidence"]
    assert len(serial["findings"]) > 20
    skipped = {c["name"] for c in serial["checks"] if c["status"] == "skipped"}
    assert skipped == {"people.trust_gap"}  # no survey: every other check ran
