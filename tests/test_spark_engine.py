"""The scan on Spark (local mode) gives the same findings, JSON and evidence as on DuckDB.

One Spark session is started for the whole module. The tests skip, saying why, when no Java
runtime or no pyspark is installed (``pip install 'privdiag[spark]'`` and a JRE, e.g. Debian's
``default-jre-headless``).
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from privdiag.config import Config, load_config
from privdiag.generate import generate_scenario
from privdiag.scan import run_scan

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("Spark tests need a Java runtime (apt-get install default-jre-headless)")
    pyspark_sql = pytest.importorskip(
        "pyspark.sql", reason="Spark tests need pyspark (pip install 'privdiag[spark]')"
    )
    pytest.importorskip("sqlglot", reason="Spark tests need sqlglot (privdiag[spark])")
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        # tiny test data: interpreting expressions beats compiling them (halves the run time)
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _on_spark(config: Config) -> Config:
    engine = dataclasses.replace(config.engine, name="spark", spark_master="local[2]")
    return dataclasses.replace(config, engine=engine)


def _comparable(doc: dict) -> str:
    return json.dumps({k: doc[k] for k in ("findings", "checks", "evidence")}, sort_keys=True)


def _both(data: list[str], config: Config, consent: list[str] | None = None) -> tuple[dict, dict]:
    duck = run_scan(data, consent=consent, config=config).to_dict()
    spark = run_scan(data, consent=consent, config=_on_spark(config)).to_dict()
    return duck, spark


@pytest.mark.parametrize(
    "seed,users,ga4,generic",
    [
        (7, 300, "parquet", "parquet"),
        # the JSON and CSV readers are covered in CI by the hand-made test below
        pytest.param(11, 120, "ndjson.gz", "csv", marks=pytest.mark.slow),
        pytest.param(3, 200, "parquet", "ndjson", marks=pytest.mark.slow),
    ],
)
def test_generated_scenario_findings_equal_duckdb(spark, tmp_path, seed, users, ga4, generic):
    info = generate_scenario(
        tmp_path, seed=seed, users=users, ga4_format=ga4, generic_format=generic
    )
    config = load_config(tmp_path / "privdiag.toml")
    duck, on_spark = _both([str(info.paths["web"]), str(info.paths["app"])], config)
    assert _comparable(on_spark) == _comparable(duck)
    kinds = {f["kind"] for f in on_spark["findings"]}
    # the planted faults are found (test_planted_faults checks each one on DuckDB)
    assert {"consent.violation", "consent.pre_consent", "consent.after_withdrawal"} <= kinds


EVENTS = [
    {
        "event_id": "e1",
        "ts": "2026-10-01T10:00:00Z",
        "event_name": "page_view",
        "user_id": "u1",
        "session_id": "s1",
        "gcs": "G100",
        "gclid": "abc",
        "page": "/home",
    },
    {
        "event_id": "e2",
        "ts": "2026-10-01T10:00:01.5Z",
        "event_name": "page_view",
        "user_id": "u2",
        "session_id": "s2",
        "gcs": "G111",
        "gclid": "def",
        "page": "/x",
    },
    {
        "event_id": "e3",
        "ts": "2026-10-01T10:00:02Z",
        "event_name": "page_view",
        "user_id": "u3",
        "session_id": "s3",
        "gclid": "ghi",
        "page": "/y",
    },
    {
        "event_id": "e4",
        "ts": "2026-10-01T10:10:00Z",
        "event_name": "purchase",
        "user_id": "u3",
        "session_id": "s3",
        "gclid": "jkl",
    },
    {
        "event_id": "e5",
        "ts": "2026-10-01T10:20:00Z",
        "event_name": "purchase",
        "anonymous_id": "a9",
        "session_id": "s4",
        "page": "/z",
    },
]
CONSENT = """user_id,purpose,status,ts,version,source
u3,ads,granted,2026-10-01T10:00:03Z,v1,cmp
u3,ads,denied,2026-10-01T10:05:00Z,v1,cmp
"""


def _cli_scan(tmp_path, events: str, *engine_args: str) -> dict:
    from typer.testing import CliRunner

    from privdiag.cli import app

    out = tmp_path / f"scan{len(engine_args)}.json"
    args = ["scan", events, "--consent", str(tmp_path / "consent.csv")]
    args += ["--config", str(tmp_path / "privdiag.toml"), "--json", str(out), "--quiet"]
    done = CliRunner().invoke(app, args + list(engine_args))
    assert done.exit_code in (0, 1), done.output  # 1: findings at the fail-on level
    return json.loads(out.read_text())


def test_cli_consent_mode_strings_and_log_equal_duckdb(spark, tmp_path):
    """``privdiag scan --engine spark`` on hand-made NDJSON events given as a file:// URL: gcs
    strings decoded onto events (an UPDATE), and a CSV consent log with a grant then a
    withdrawal."""
    lines = "\n".join(json.dumps(e) for e in EVENTS) + "\n"
    (tmp_path / "events.ndjson").write_text(lines)
    (tmp_path / "consent.csv").write_text(CONSENT)
    # min_group_size 1: these one-user findings show their counts
    (tmp_path / "privdiag.toml").write_text(
        '[thresholds]\nmin_group_size = 1\n[features.gclid]\npurposes = ["ads"]\n'
    )
    duck = _cli_scan(tmp_path, str(tmp_path / "events.ndjson"))
    # on Spark, the events are read from a URL (any path Spark reads: s3a://, hdfs://, ...)
    url = (tmp_path / "events.ndjson").as_uri()
    on_spark = _cli_scan(tmp_path, url, "--engine", "spark", "--spark-master", "local[2]")
    assert _comparable(on_spark) == _comparable(duck)
    by_kind = {f["kind"]: f for f in on_spark["findings"]}
    # e1 (gcs G100: ads denied) carries gclid -> violation; e4 after u3's withdrawal
    assert by_kind["consent.violation"]["metrics"]["events"] == 1
    assert by_kind["consent.after_withdrawal"]["metrics"]["events"] == 1
    # e3 comes 1 s before u3's first decision: within the 2 s grace window
    assert by_kind["consent.pre_consent"]["metrics"]["events_within_grace"] == 1


def test_adapter_runs_duckdb_ddl_on_spark(spark):
    from privdiag.engines.spark import SparkConnection

    con = SparkConnection(spark.newSession())
    con.execute("SET TimeZone = 'UTC'")
    con.execute("""CREATE TABLE events AS SELECT * FROM (VALUES
        ('a', TIMESTAMPTZ '2026-10-01 00:00:00.250'), ('b', TIMESTAMPTZ '2026-10-01 00:00:01'))
        AS t(k, ts)""")
    con.execute("ALTER TABLE events ADD COLUMN flag BOOLEAN")
    described = con.execute("DESCRIBE events").fetchall()
    assert [(r[0], r[1]) for r in described] == [
        ("k", "VARCHAR"),
        ("ts", "TIMESTAMP WITH TIME ZONE"),
        ("flag", "BOOLEAN"),
    ]
    rows = con.execute(
        "SELECT k, epoch(ts) - epoch(TIMESTAMPTZ '2026-10-01') AS s, count(*) FILTER (WHERE "
        "rowid IS NOT NULL) AS n FROM events WHERE k <> ? GROUP BY ALL ORDER BY 1",
        ["z"],
    ).fetchall()
    assert rows == [("a", 0.25, 1), ("b", 1.0, 1)]
    cursor = con.execute("SELECT * EXCLUDE (ts, flag) FROM events ORDER BY k")
    assert [d[0] for d in cursor.description] == ["k"]
    rows = con.execute("""
        WITH x AS (SELECT k, 1 AS one FROM events)
        SELECT x.* EXCLUDE (one), e.flag FROM x JOIN events e ON e.k = x.k ORDER BY 1""").fetchall()
    assert rows == [("a", None), ("b", None)]
    con.close()


def test_placeholder_ids_on_spark_equal_duckdb(spark, tmp_path):
    """The loader's rebuild of events and consent for placeholder ids runs on Spark too."""
    from privdiag.config import FeatureConfig
    from tests.helpers import config, write
    from tests.test_placeholder_ids import CONSENT, EVENTS

    events, consent = write(tmp_path / "e.csv", EVENTS), write(tmp_path / "c.csv", CONSENT)
    cfg = config(min_group_size=1)
    cfg.features = {"gclid": FeatureConfig(purposes=["ads"])}
    duck, on_spark = _both([events], cfg, consent=[consent])
    assert _comparable(on_spark) == _comparable(duck)
    assert any("placeholder" in n for n in on_spark["evidence"]["notes"])


def test_consent_mix_pools_alike_on_spark(spark, tmp_path):
    """The consent mix's grouping, and the count of the pool's users that decides whether a
    shown combination joins it, run on Spark too (tests/test_consent_mix.py)."""
    from tests.helpers import config, write
    from tests.test_consent_mix import EVENTS

    events = write(tmp_path / "e.csv", EVENTS)
    duck, on_spark = _both([events], config(min_group_size=2))
    assert on_spark["evidence"]["consent_mix"] == duck["evidence"]["consent_mix"]
    assert duck["evidence"]["consent_mix"][-1] == {"granted": None, "denied": None, "share": 0.45}


def test_trim_strips_what_duckdb_strips_on_spark(spark):
    """Unicode space separators are blanks on both engines; a tab or newline on neither."""
    import duckdb

    from privdiag.engines.spark_sql import parse, to_spark

    values = ["\u00a0\u3000", " a\u2003", "\ta\n", "\u202fb c\u00a0", ""]
    sql = "SELECT trim(v) AS t, ltrim(v) AS l, rtrim(v) AS r FROM tbl ORDER BY k"
    duck = duckdb.connect()
    duck.execute(
        "CREATE TABLE tbl AS SELECT * FROM (VALUES "
        + ", ".join(f"({k}, ?)" for k in range(len(values)))
        + ") x(k, v)",
        values,
    )
    expected = duck.execute(sql).fetchall()
    assert expected[0] == ("", "", "") and expected[2] == ("\ta\n",) * 3  # by hand
    spark.createDataFrame(list(enumerate(values)), "k INT, v STRING").createOrReplaceTempView("tbl")
    got = [tuple(r) for r in spark.sql(to_spark(parse(sql))).collect()]
    assert got == expected


def test_unread_consent_flags_on_spark_equal_duckdb(spark, tmp_path):
    """The one pass over times and consent flags runs on Spark (its any_value takes no FILTER),
    and notes the same unreadable flag values."""
    from tests.helpers import config, write

    events = write(
        tmp_path / "e.csv",
        "user_id,ts,event_name,consent_ads,gclid\n"
        "u1,2026-10-01T10:00:00Z,page_view,maybe,g1\n"
        "u2,2026-10-01T10:01:00Z,page_view,granted,g2\n"
        "u3,2026-10-01T10:02:00Z,page_view,,g3\n",
    )
    duck, on_spark = _both([events], config(min_group_size=1))
    assert _comparable(on_spark) == _comparable(duck)
    notes = [n for n in on_spark["evidence"]["notes"] if "consent_ads:" in n]
    assert len(notes) == 1 and "consent_ads: 1 event with a value read as neither" in notes[0]
    assert "(e.g. 'maybe')" in notes[0]


def test_mapped_status_words_on_spark_equal_duckdb(spark, tmp_path):
    """``[consent.status_words]`` reads a CMP's words on Spark as on DuckDB, in a consent file
    and in an event's flag (u1's log grants by "Yes_Please", its flag denies by "NOPE": one
    violation event; u2's log denies by "nein", its flag grants: a conflict)."""
    from tests.helpers import write
    from tests.test_status_words import words_config

    events = write(
        tmp_path / "e.csv",
        "user_id,ts,event_name,consent_ads,gclid\n"
        "u1,2026-10-01T10:00:00Z,page_view,NOPE,g1\n"
        "u2,2026-10-01T10:01:00Z,page_view,yes_please,g2\n",
    )
    consent = write(
        tmp_path / "c.csv",
        "user_id,purpose,status,ts\nu1,ads,Yes_Please,2026-10-01T09:00:00Z\n"
        "u2,ads,nein,2026-10-01T09:00:00Z\n",
    )
    cfg = words_config(granted=["yes_please"], denied=["nein", "nope"])
    duck, on_spark = _both([events], cfg, consent=[consent])
    assert _comparable(on_spark) == _comparable(duck)
    kinds = {f["kind"]: f for f in on_spark["findings"]}
    assert kinds["consent.violation"]["metrics"]["events"] == 1
    assert kinds["consent.conflict"]["metrics"]["events"] == 2


def test_two_consent_files_on_spark_equal_duckdb(spark, tmp_path):
    """Each --consent file is an INSERT into ``consent``. The second one's union with the first
    one's checkpoint failed in Spark's constraint propagation ("key not found: source#..."),
    which the adapter now turns off for its session."""
    from privdiag.config import FeatureConfig
    from tests.helpers import config, write

    events = write(
        tmp_path / "e.csv",
        """
        event_id,ts,event_name,user_id,gclid
        e1,2026-10-01T10:00:00Z,page_view,u8,g1
        e2,2026-10-01T10:00:00Z,page_view,u9,g2
        """,
    )
    header = "user_id,purpose,status,ts\n"
    first = write(tmp_path / "a.csv", header + "u8,ads,granted,2026-10-01T09:00:00Z\n")
    second = write(
        tmp_path / "b.csv",
        header + "u9,ads,denied,2026-10-01T09:00:00Z\nu9,quantum,denied,2026-10-01T09:00:00Z\n",
    )
    cfg = config()
    cfg.features = {"gclid": FeatureConfig(purposes=["ads"])}
    duck, on_spark = _both([events], cfg, consent=[first, second])
    assert _comparable(on_spark) == _comparable(duck)
    kinds = {f["kind"]: f for f in on_spark["findings"]}
    # u9's gclid after b.csv's denial; u8's granted by a.csv: both files' records are in
    assert kinds["consent.violation"]["metrics"]["events"] == 1
    assert "consent.missing_record" not in kinds
    assert kinds["consent.unmapped_category"]["location"]["source"] == "b"


def test_a_leap_second_and_an_offset_no_zone_has_on_spark_as_on_duckdb(spark, tmp_path):
    """The consent times are read by the same SQL on Spark (its regexp_replace writes a back
    reference $1, DuckDB's \\1: the leap second's needs none): u8's decision at a leap
    second is read, and +99:00 is refused on both engines."""
    from privdiag.config import FeatureConfig
    from privdiag.errors import InputError
    from tests.helpers import config, write

    events = write(
        tmp_path / "e.csv",
        "event_id,ts,event_name,user_id,gclid\ne1,2026-10-01T10:00:00Z,page_view,u8,g1\n",
    )
    header = "user_id,purpose,status,ts\n"
    leap = write(tmp_path / "a.csv", header + "u8,ads,granted,2016-12-31T23:59:60Z\n")
    cfg = config()
    cfg.features = {"gclid": FeatureConfig(purposes=["ads"])}
    duck, on_spark = _both([events], cfg, consent=[leap])
    assert _comparable(on_spark) == _comparable(duck)
    assert not [f for f in on_spark["findings"] if f["kind"].startswith("consent.")]

    shifted = write(tmp_path / "b.csv", header + "u8,ads,granted,2026-10-01T09:00:00+99:00\n")
    for engine in (cfg, _on_spark(cfg)):
        with pytest.raises(InputError) as caught:
            run_scan([events], consent=[shifted], config=engine)
        assert "decision time has the UTC offset +99:00" in str(caught.value)


def test_constraint_propagation_is_off_unless_the_spark_conf_sets_it(spark):
    from privdiag.config import EngineConfig
    from privdiag.engines.spark import session

    key = "spark.sql.constraintPropagation.enabled"
    local = {"name": "spark", "spark_master": "local[2]"}
    try:
        assert session(EngineConfig(**local)).conf.get(key) == "false"
        chosen = EngineConfig(**local, spark_conf={key: "true"})
        assert session(chosen).conf.get(key) == "true"
    finally:
        spark.conf.unset(key)  # the session started before took the builder's value too


def test_survey_on_spark_equal_duckdb(spark, tmp_path):
    """``--survey`` runs on Spark: its rows without a trust score are removed with a DELETE,
    which the adapter did not run ("Unexpected table relation: LogicalRDD")."""
    from tests.helpers import config
    from tests.test_people_trust import _log, _respondents, _write_csv

    rows, grants = _respondents()
    data, consent = _log(tmp_path, grants)
    unscored = [dict(rows[0], respondent_id=f"x{i}", trust="n/a") for i in range(2)]
    survey = [_write_csv(tmp_path / "survey.csv", rows + unscored)]
    duck = run_scan(data, consent=consent, config=config(), survey=survey).to_dict()
    spark_config = _on_spark(config())
    on_spark = run_scan(data, consent=consent, config=spark_config, survey=survey).to_dict()
    assert _comparable(on_spark) == _comparable(duck)
    evidence = on_spark["evidence"]["survey"]
    assert (evidence["rows"], evidence["rows_without_trust"]) == (40, 2)
    [gap] = [f for f in on_spark["findings"] if f["kind"] == "people.trust_gap"]
    assert gap["metrics"]["spearman_r"] == pytest.approx(0.6)  # by hand in test_people_trust


GLOB_HEADER = "event_id,ts,event_name,user_id,gclid\n"
GLOB_TWO = "e1,2026-10-01T10:00:00Z,view,u1,g1\ne2,2026-10-01T10:01:00Z,view,u2,g2\n"
GLOB_DECOY = "z9,2026-10-01T10:00:00Z,buy,u9,g9\n"


def test_file_names_with_glob_characters_are_read_themselves_on_spark(spark, tmp_path):
    """Each name holds characters Hadoop's glob reads as a pattern; beside it is the file the
    pattern matches. On Spark ev[1].csv and q?.csv raised FileNotFoundError (their DuckDB
    escapes, ev[[]1].csv, were opened to tell the delimiter), a{b}.csv read ab.csv's 1 row
    for its 2, and cmp[1].csv's consent log was not read: each is now read itself, as on
    DuckDB."""
    from tests.helpers import config, write

    for name in ("ev[1]", "q?", "a{b}"):
        write(tmp_path / f"{name}.csv", GLOB_HEADER + GLOB_TWO)
    for decoy in ("ev1", "qq", "ab"):
        write(tmp_path / f"{decoy}.csv", GLOB_HEADER + GLOB_DECOY)
    consent = "user_id,purpose,status,ts\nu1,ads,granted,2026-10-01T09:00:00Z\n"
    write(tmp_path / "cmp[1].csv", consent + "u2,ads,denied,2026-10-01T09:00:00Z\n")
    write(tmp_path / "cmp1.csv", consent)
    data = [str(tmp_path / f"{name}.csv") for name in ("ev[1]", "q?", "a{b}")]

    duck, on_spark = _both(data, config(min_group_size=1), [str(tmp_path / "cmp[1].csv")])
    assert [(i["rows"], i.get("records")) for i in on_spark["inputs"]] == [
        (2, None),
        (2, None),
        (2, None),
        (2, 2),
    ]
    assert _comparable(on_spark) == _comparable(duck)


def test_file_names_with_a_colon_are_read_on_spark(spark, tmp_path, monkeypatch):
    """ev:1.csv (given relative), ev:2.ndjson.gz and the consent log cmp:1.csv stopped the scan
    on Spark with an internal error (exit 5): Hadoop read "ev" of ".ev:1.csv.crc" as a URI
    scheme. Each is now read as on DuckDB; ev[1]:x.csv, whose name Hadoop cannot give
    without its glob, is an input error naming the file."""
    import gzip
    import json as json_module

    from privdiag.errors import InputError
    from tests.helpers import config, write

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "ev:1.csv", GLOB_HEADER + GLOB_TWO)
    decoy = dict(zip(GLOB_HEADER.strip().split(","), GLOB_DECOY.strip().split(","), strict=True))
    with gzip.open(tmp_path / "ev:2.ndjson.gz", "wt") as fh:
        fh.write(json_module.dumps(decoy) + "\n")
    consent = "user_id,purpose,status,ts\nu1,ads,granted,2026-10-01T09:00:00Z\n"
    write(tmp_path / "cmp:1.csv", consent + "u2,ads,denied,2026-10-01T09:00:00Z\n")
    data = ["ev:1.csv", str(tmp_path / "ev:2.ndjson.gz")]

    duck, on_spark = _both(data, config(min_group_size=1), [str(tmp_path / "cmp:1.csv")])
    assert [(i["rows"], i.get("records")) for i in on_spark["inputs"]] == [
        (2, None),
        (1, None),
        (2, 2),
    ]
    assert _comparable(on_spark) == _comparable(duck)

    write(tmp_path / "ev[1]:x.csv", GLOB_HEADER + GLOB_TWO)
    with pytest.raises(InputError, match=r"ev\[1\]:x.csv: cannot be read on Spark"):
        run_scan([str(tmp_path / "ev[1]:x.csv")], config=_on_spark(config()))


def test_relative_and_gzip_names_on_spark_read_as_on_duckdb_or_say_why_not(
    spark, tmp_path, monkeypatch
):
    """The Spark session started in another folder: the relative ev.csv was looked for there
    (PATH_NOT_FOUND, "cannot be read"); now it is read as on DuckDB. A gzipped ev.tsv,
    which Spark read as text ("its header does not fit its rows"), is an input error that
    says Spark needs the .gz name."""
    import gzip

    from privdiag.errors import InputError
    from tests.helpers import config, write

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "ev.csv", GLOB_HEADER + GLOB_TWO)
    duck, on_spark = _both(["ev.csv"], config(min_group_size=1))
    assert [i["rows"] for i in on_spark["inputs"]] == [2]
    assert _comparable(on_spark) == _comparable(duck)

    with gzip.open(tmp_path / "ev.tsv", "wt") as fh:
        fh.write((GLOB_HEADER + GLOB_TWO).replace(",", "\t"))
    assert run_scan(["ev.tsv"], config=config()).to_dict()["inputs"][0]["rows"] == 2
    with pytest.raises(InputError, match=r"/ev\.tsv: cannot be read on Spark: it is gzip-comp"):
        run_scan(["ev.tsv"], config=_on_spark(config()))


def test_url_of_a_folder_with_a_glob_named_json_file_on_spark(spark, tmp_path):
    """A folder given as a file:// URL holds ev[1].json (2 events, a JSON array) and ev1.json
    (1 event): 3 events, each file read once (as a glob ev[1].json is ev1.json)."""
    import json as json_module

    from tests.helpers import config

    folder = tmp_path / "feed"
    folder.mkdir()
    rows = [
        dict(zip(GLOB_HEADER.strip().split(","), r.split(","), strict=True))
        for r in (GLOB_TWO + GLOB_DECOY).splitlines()
    ]
    (folder / "ev[1].json").write_text(json_module.dumps(rows[:2]))
    (folder / "ev1.json").write_text(json_module.dumps(rows[2:]))
    doc = run_scan([folder.as_uri()], config=_on_spark(config())).to_dict()
    assert [i["rows"] for i in doc["inputs"]] == [3]


def test_url_of_a_folder_of_csv_files_on_spark(spark, tmp_path):
    """A folder given as a file:// URL holds "ev 1.csv" (2 events): Spark lists it as
    file:/.../ev%201.csv, which the delimiter sniff opened as a local path (FileNotFoundError,
    an internal error); it is read as a URL, the colon of "file:" no cause for the raw local
    file system."""
    from tests.helpers import config

    folder = tmp_path / "feed"
    folder.mkdir()
    (folder / "ev 1.csv").write_text(GLOB_HEADER + GLOB_TWO)
    doc = run_scan([folder.as_uri()], config=_on_spark(config())).to_dict()
    assert [i["rows"] for i in doc["inputs"]] == [2]


def _log(tmp_path, name: str) -> str:
    """A consent log: u1 and u3 grant ads, u0 and u2 deny it."""
    (tmp_path / name).write_text(
        "user_id,purpose,status,ts\n"
        + "".join(
            f"u{u},ads,{'granted' if u % 2 else 'denied'},2026-10-01T09:00:00Z\n" for u in range(4)
        )
    )
    return str(tmp_path / name)


def _list_and_map_events(tmp_path) -> str:
    """12 events of u0..u3 (event i is u(i % 4)'s), with a list feature ``items`` (a list
    when i % 3 is 0, an empty list when 1, NULL when 2) and a map feature ``params`` (alike)."""
    import duckdb

    events = tmp_path / "events.parquet"
    duckdb.sql(f"""COPY (SELECT
            TIMESTAMPTZ '2026-10-01 12:00:00+00' + to_minutes(i) AS ts,
            'page_view' AS event_name, 'u' || (i % 4) AS user_id,
            CASE i % 3 WHEN 0 THEN [i] WHEN 1 THEN [] END AS items,
            CASE i % 3 WHEN 0 THEN MAP {{'k': i}} WHEN 1 THEN MAP {{}} END AS params
        FROM range(12) t(i)) TO '{events}' (FORMAT parquet)""")
    return str(events)


def _items_need_ads(tmp_path) -> Config:
    path = tmp_path / "privdiag.toml"
    path.write_text('[features.items]\npurposes = ["ads"]\n[thresholds]\nmin_group_size = 1\n')
    return load_config(path)


def test_list_and_map_features_on_spark_equal_duckdb(spark, tmp_path):
    """A list feature's presence was read on Spark as a string's length (len() became
    LENGTH), and the scan stopped with an internal error (exit 5)."""
    events, log = _list_and_map_events(tmp_path), _log(tmp_path, "cmp.csv")

    duck, on_spark = _both([events], _items_need_ads(tmp_path), [log])

    assert _comparable(on_spark) == _comparable(duck)
    # u0 and u2 deny ads: events 0, 2, 4, 6, 8, 10; items is a non-empty list at 0 and 6
    (violation,) = [f for f in duck["findings"] if f["kind"] == "consent.violation"]
    assert (violation["location"]["feature"], violation["metrics"]["events"]) == ("items", 2)


def test_a_consent_log_and_its_copy_on_spark_equal_duckdb(spark, tmp_path):
    """Two consent files on Spark (its optimizer failed on the second one's records, "key not
    found: source#66"), here a log and its copy: findings equal DuckDB's, repeats counted once."""
    events = _list_and_map_events(tmp_path)
    logs = [_log(tmp_path, "a.csv"), _log(tmp_path, "b.csv")]

    duck, on_spark = _both([events], _items_need_ads(tmp_path), logs)

    assert _comparable(on_spark) == _comparable(duck)
    notes = [n for n in duck["evidence"]["notes"] if "repeated another record" in n]
    assert notes and notes[0].startswith("4 consent records repeated")


@pytest.mark.parametrize("container", ["csv", "ndjson"])
def test_hive_partition_values_on_spark_as_on_duckdb(spark, tmp_path, container):
    """Spark's CSV and JSON readers were given the files without their base folder, so
    user_id=... folders gave no column (every user id NULL); and partition values were typed
    (-0 read as the number 0). Both now read them as the folder names write them."""
    from privdiag.engine import connect
    from privdiag.ingest import load
    from tests.test_hive_partitions import _write

    for n, user in enumerate(("-0", "0x10", "16")):
        part = tmp_path / "events" / f"user_id={user}" / "date=2026-10-01"
        _write(part / f"part-0.{container}", container, f"e{n}")
    config = _on_spark(load_config(None))
    con = connect(config.engine)

    load(con, [str(tmp_path / "events")], [], config)

    rows = con.execute("SELECT event_id, user_key FROM events ORDER BY 1").fetchall()
    assert rows == [("e0", "-0"), ("e1", "0x10"), ("e2", "16")]


def test_opt_in_from_event_flags_alone_on_spark_equal_duckdb(spark, tmp_path):
    """people.optin_drop read from the events' own flags (no consent log): each user's first
    flag of a day, one grouping per (user, purpose, day), as on DuckDB."""
    from tests.helpers import config
    from tests.test_people_optin import _flag_events

    days = [(f"2026-10-{d:02d}", 10, 8 if d <= 5 else 3) for d in range(1, 11)]
    duck, on_spark = _both(_flag_events(tmp_path, days), config())
    assert [f["kind"] for f in duck["findings"]].count("people.optin_drop") == 1
    assert _comparable(on_spark) == _comparable(duck)


def test_events_dated_without_a_time_of_day_on_spark_as_on_duckdb(spark, tmp_path):
    """The state of an event dated on a day its user's consent changed is left undetermined
    on Spark as on DuckDB (tests/test_day_only_times.py): the same findings and notes. (A
    CSV column mixing dates and times Spark's reader types as times: its dates are midnight
    there, a known limitation.)"""
    from tests.helpers import config, write
    from tests.test_day_only_times import EVENTS, LOG, _consent_findings, _events_csv

    consent = write(tmp_path / "cmp.csv", LOG)
    duck, on_spark = _both([_events_csv(tmp_path, EVENTS)], config(), consent=[consent])
    assert _consent_findings(on_spark) == {
        "consent.violation": (3, 2),
        "consent.pre_consent": (2, 1),  # read as midnight: 6 of 3 users
        "consent.after_withdrawal": (1, 1),
    }
    assert _comparable(on_spark) == _comparable(duck)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_decisions_dated_without_a_time_of_day_on_spark_as_on_duckdb(spark, tmp_path, kind):
    """An event on the day of a dated decision that changed its user's consent is left
    undetermined on Spark as on DuckDB (tests/test_day_only_decisions.py). (A CSV column
    mixing dates and times Spark's reader types as times: its dates are midnight there, a
    known limitation.)"""
    from tests.helpers import config
    from tests.test_day_only_decisions import EVENTS, _log
    from tests.test_day_only_times import _consent_findings, _events_csv

    consent = _log(tmp_path, kind)
    duck, on_spark = _both([_events_csv(tmp_path, EVENTS)], config(), consent=[consent])
    assert _consent_findings(on_spark) == {
        "consent.violation": (1, 1),  # read as midnight: 2
        "consent.pre_consent": (1, 1),
        "consent.after_withdrawal": (1, 1),  # 3
    }
    assert _comparable(on_spark) == _comparable(duck)
