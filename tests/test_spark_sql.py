"""DuckDB -> Spark SQL rewrites (no Spark needed): each output written down by hand."""

from __future__ import annotations

import pytest

pytest.importorskip("sqlglot")

from privdiag.engines.spark_sql import parse, reader_args, spark_type, to_spark  # noqa: E402


def spark(sql: str, params: list | None = None) -> str:
    return to_spark(parse(sql, params))


def test_epoch_keeps_fractions_of_a_second():
    assert (
        spark("SELECT epoch(a) FROM t") == "SELECT CAST(UNIX_MICROS(a) AS DOUBLE) / 1000000 FROM t"
    )


def test_full_regex_match_stays_anchored():
    assert spark("SELECT regexp_full_match(x, '[0-9]+') FROM t") == (
        "SELECT x RLIKE '^(?:[0-9]+)$' FROM t"
    )


def test_decimal_literals_become_doubles_integers_stay():
    assert spark("SELECT avg(CASE WHEN a THEN 1.0 END), 2 FROM t LIMIT 3") == (
        "SELECT AVG(CASE WHEN a THEN CAST(1.0 AS DOUBLE) END), 2 FROM t LIMIT 3"
    )


def test_rowid_is_the_explicit_row_id_column():
    assert spark("SELECT e.rowid, rowid AS r FROM events e") == (
        "SELECT e._rowid, _rowid AS r FROM events AS e"
    )


def test_row_number_without_order_is_the_row_id():
    assert spark("SELECT row_number() OVER () AS n FROM t") == (
        "SELECT MONOTONICALLY_INCREASING_ID() + 1 AS n FROM t"
    )


def test_placeholders_are_bound_as_literals():
    assert spark("SELECT * FROM t WHERE a = ? AND b = ? AND c = ?", [3, "it's", None]) == (
        "SELECT * FROM t WHERE a = 3 AND b = 'it\\'s' AND c = NULL"
    )


def test_from_json_structure_becomes_spark_ddl():
    sql = """SELECT from_json(j, '[{"key":"VARCHAR","value":{"int_value":"BIGINT"}}]') FROM t"""
    assert spark(sql) == (
        "SELECT FROM_JSON(j, 'ARRAY<STRUCT<`key`: STRING, `value`: STRUCT<`int_value`: BIGINT>>>')"
        " FROM t"
    )


def test_spark_type_of_duckdb_names():
    assert spark_type("VARCHAR[]") == "ARRAY<STRING>"
    assert spark_type("TIMESTAMPTZ") == "TIMESTAMP"
    assert spark_type({"a": "JSON", "b": ["DOUBLE"]}) == "STRUCT<`a`: STRING, `b`: ARRAY<DOUBLE>>"


def test_reader_arguments():
    tree = parse(
        "SELECT * FROM read_json(['/d/a.json', '/d/b.json'], format='auto', records=true, "
        "columns={'ts': 'VARCHAR', 'p': 'JSON'}, sample_size=-1)"
    )
    node = tree.args["from_"].this.this
    paths, options = reader_args(node)
    assert paths == ["/d/a.json", "/d/b.json"]
    assert options == {
        "format": "auto",
        "records": True,
        "columns": {"ts": "VARCHAR", "p": "JSON"},
        "sample_size": -1.0,
    }


def test_named_and_numbered_parameters():
    assert spark("SELECT * FROM t WHERE a = $x AND b = $y", {"x": 1.5, "y": "v"}) == (
        "SELECT * FROM t WHERE a = CAST(1.5 AS DOUBLE) AND b = 'v'"
    )
    assert spark("SELECT $2, $1", ["a", 2]) == "SELECT 2, 'a'"


def test_json_type_is_text():
    assert spark("SELECT CAST(a AS JSON) ->> '$.x' FROM t") == (
        "SELECT GET_JSON_OBJECT(CAST(a AS STRING), '$.x') FROM t"
    )


def test_epoch_microseconds_and_back():
    """The consent state packs a record's time as epoch microseconds and unpacks it."""
    assert spark("SELECT epoch_us(ts) * 4, make_timestamp(x // 4) FROM t") == (
        "SELECT UNIX_MICROS(ts) * 4, TIMESTAMP_MICROS(x DIV 4) FROM t"
    )


def test_string_bytes():
    """The placeholder-id test measures an id in bytes before lowering it."""
    assert spark("SELECT strlen(user_key) > 9 FROM t") == "SELECT OCTET_LENGTH(user_key) > 9 FROM t"


def test_the_consent_state_enum_is_text_on_spark():
    assert spark("SELECT CAST(CASE WHEN a THEN 'granted' END AS consent_state) AS s FROM t") == (
        "SELECT CAST(CASE WHEN a THEN 'granted' END AS STRING) AS s FROM t"
    )


def test_one_argument_trims_strip_unicode_space_separators_on_spark():
    assert spark("SELECT trim(v), ltrim(v), rtrim(v), trim(v, 'x') FROM t") == (
        "SELECT REGEXP_REPLACE(v, '^\\\\p{Zs}+|\\\\p{Zs}+$', ''), "
        "REGEXP_REPLACE(v, '^\\\\p{Zs}+', ''), REGEXP_REPLACE(v, '\\\\p{Zs}+$', ''), "
        "TRIM('x' FROM v) FROM t"
    )


def test_spark_reads_the_file_a_duckdb_reader_names_not_a_pattern():
    """A reader call names a file with DuckDB's escapes (path_literal); Spark gets the file's
    own name with Hadoop's glob characters escaped by a backslash."""
    from privdiag.engines.spark_read import file_name, hadoop_literal
    from privdiag.ingest.files import path_literal

    for name in ("/d/ev[1].csv", "/d/a[*]b?.csv", "/d/x{a,b}\\c].csv", "s3a://b/k=1/p[2].csv"):
        assert file_name(path_literal(name)[1:-1]) == name
    assert hadoop_literal("/d/ev[1].csv") == "/d/ev\\[1\\].csv"
    assert hadoop_literal("/d/a[*]b?.csv") == "/d/a\\[\\*\\]b\\?.csv"
    assert hadoop_literal("/d/x{a,b}\\c.csv") == "/d/x\\{a,b\\}\\\\c.csv"
    assert hadoop_literal("/d/plain-name_1.csv") == "/d/plain-name_1.csv"


def test_a_local_path_with_a_colon_is_read_whole_and_absolute_without_checksum_files(
    tmp_path, monkeypatch
):
    """Hadoop read the ``ev`` of ev:1.csv (and of the checksum file .ev:1.csv.crc its local
    file system opens beside it) as a URI scheme: the scan on Spark stopped with an internal
    error (exit 5). Such a path is now given absolute, read through the raw local file
    system; a path with ':' and a glob character is an input error naming it."""
    from privdiag.engines.spark_read import RAW_LOCAL, local_files
    from privdiag.errors import InputError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "d:1").mkdir()
    for name in ("ev 1.csv", "ev[1].csv", "ev:1.csv", "d:1/ev 1.csv"):
        (tmp_path / name).write_text("a\n1\n")
    plain = [str(tmp_path / "ev 1.csv"), "s3a://b/k:1/ev.csv", "file:/feed/ev:1.csv"]
    plain.append(str(tmp_path / "ev[1].csv"))
    assert local_files(plain) == (plain, {})
    assert local_files(["ev:1.csv", "d:1/ev 1.csv", "ev 1.csv"]) == (
        [str(tmp_path / "ev:1.csv"), str(tmp_path / "d:1/ev 1.csv"), str(tmp_path / "ev 1.csv")],
        RAW_LOCAL,
    )
    assert RAW_LOCAL["fs.file.impl"] == "org.apache.hadoop.fs.RawLocalFileSystem"
    for bad in ("ev[1]:x.csv", "d:1/ev[1].csv"):
        (tmp_path / bad).write_text("a\n1\n")
        with pytest.raises(InputError) as raised:
            local_files(["ev 1.csv", bad])
        assert str(raised.value).startswith(f"{tmp_path / bad}: cannot be read on Spark: its")
    monkeypatch.chdir(tmp_path / "d:1")  # a relative name in a folder with ':' in its path
    with pytest.raises(InputError, match=r"d:1/ev\[1\].csv: cannot be read on Spark: its"):
        local_files(["ev[1].csv"])
    assert raised.value.exit_code == 3
    assert "--engine duckdb" in raised.value.hint


def test_a_relative_path_is_given_to_spark_as_privdiag_found_it(tmp_path, monkeypatch):
    """Spark's driver resolved a relative path against the folder it was started in: a
    session started before the scan changed folder (a notebook, these tests) read another
    file or none (PATH_NOT_FOUND, reported as 'cannot be read')."""
    from privdiag.engines.spark_read import local_files

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ev.csv").write_text("a\n1\n")
    files = ["ev.csv", "gs://b/ev.csv"]
    assert local_files(files) == ([str(tmp_path / "ev.csv"), "gs://b/ev.csv"], {})


@pytest.mark.parametrize(
    ("name", "compressed", "said"),
    [
        ("ev.csv.GZ", True, "it is gzip-compressed"),
        ("ev.csv", True, "it is gzip-compressed"),
        ("ev.csv.gz", False, "it is not gzip-compressed"),
    ],
)
def test_a_gzip_file_not_named_gz_is_an_input_error_on_spark(tmp_path, name, compressed, said):
    """DuckDB reads by content and Hadoop decompresses by name (.gz, lower case): ev.csv.GZ
    and a gzipped ev.csv were read by Spark as text ("reads as a single column", "its header
    does not fit its rows"), a plain ev.csv.gz failed in Spark's gzip reader. Each is an
    input error naming the file and the fix; ev.csv.gz that is gzip passes."""
    import gzip

    from privdiag.engines.spark_read import local_files
    from privdiag.errors import InputError

    path = tmp_path / name
    if compressed:
        with gzip.open(path, "wt") as fh:
            fh.write("a\n1\n")
    else:
        path.write_text("a\n1\n")
    with pytest.raises(InputError) as raised:
        local_files([str(path)])
    assert str(raised.value).startswith(f"{path}: cannot be read on Spark: {said}, and Spark")
    assert "rename the file to end in .gz" in raised.value.hint
    with gzip.open(tmp_path / "ok.csv.gz", "wt") as fh:
        fh.write("a\n1\n")
    assert local_files([str(tmp_path / "ok.csv.gz")]) == ([str(tmp_path / "ok.csv.gz")], {})


def test_what_a_trim_holds_is_rewritten_too():
    """A one-argument trim becomes a regexp_replace; the text inside it was left as DuckDB
    wrote it, so an nfc_normalize there reached Spark, which has none (UNRESOLVED_ROUTINE)."""
    assert spark("SELECT trim(nfc_normalize(x)) FROM t") == (
        "SELECT REGEXP_REPLACE(x, '^\\\\p{Zs}+|\\\\p{Zs}+$', '') FROM t"
    )
