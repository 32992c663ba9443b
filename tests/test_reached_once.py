"""A file reached twice (hard link, symlink, folder or glob that also holds a file given by
itself) is read once, where first reached, for events and consent alike."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from privdiag.engine import connect
from privdiag.ingest import load
from privdiag.ingest.files import first_reached
from privdiag.scan import run_scan
from tests.helpers import config, write

EVENTS = """\
    event_id,ts,event_name,user_id,gclid
    e1,2026-10-01T10:00:00Z,page_view,u1,G1
    e2,2026-10-01T10:01:00Z,page_view,u2,G2
"""
HEADER = "user_id,purpose,status,ts\n"


def counts(data: list[str], consent: list[str]) -> tuple[int, int, list[str]]:
    """(events, consent records, notes) as loaded."""
    con = connect()
    loaded = load(con, data, consent, config())
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    records = con.execute("SELECT count(*) FROM consent").fetchone()[0]
    con.close()
    return events, records, loaded.notes


def reading_notes(doc: dict) -> list[str]:
    """The scan's notes but the consent mix's and rates' (its two users are too few to show
    them)."""
    mix = ("consent mix:", "consent rate of ")
    return [n for n in doc["evidence"]["notes"] if not n.startswith(mix)]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """e.csv (2 events); logs/a.csv (u1 denies ads), logs/b.csv (u2 grants ads)."""
    write(tmp_path / "e.csv", EVENTS)
    (tmp_path / "logs").mkdir()
    write(tmp_path / "logs" / "a.csv", HEADER + "u1,ads,denied,2026-10-01T09:00:00Z\n")
    write(tmp_path / "logs" / "b.csv", HEADER + "u2,ads,granted,2026-10-01T09:00:00Z\n")
    return tmp_path


def test_hard_linked_consent_file_is_read_once(files):
    os.link(files / "logs" / "a.csv", files / "a_copy.csv")
    consent = [str(files / "logs" / "a.csv"), str(files / "a_copy.csv")]
    events, records, notes = counts([str(files / "e.csv")], consent)
    assert (events, records) == (2, 1)  # read twice: 2 records
    assert notes == [
        f"{files / 'a_copy.csv'}: its file was read once, through {files / 'logs' / 'a.csv'}"
    ]


def test_folder_holding_a_file_given_before_reads_only_its_other_files(files):
    consent = [str(files / "logs" / "a.csv"), str(files / "logs")]
    doc = run_scan([str(files / "e.csv")], consent=consent, config=config()).to_dict()
    read = [(Path(i["path"]).name, i["rows"]) for i in doc["inputs"] if i["role"] == "consent"]
    assert read == [("a.csv", 1), ("logs", 1)]  # logs: b.csv only; a.csv again gave 3 in all
    assert doc["evidence"]["notes"] == [
        f"{files / 'logs'}: 1 of its files was read already through {files / 'logs' / 'a.csv'} "
        "and not again (a.csv)"
    ]


def test_file_after_a_glob_that_reached_it_is_left_out(files):
    consent = [str(files / "logs" / "*.csv"), str(files / "logs" / "." / "b.csv")]
    events, records, notes = counts([str(files / "e.csv")], consent)
    assert (events, records) == (2, 2)  # 3 with b.csv read twice
    assert notes == [
        f"{files / 'logs' / '.' / 'b.csv'}: its file was read once, through "
        f"{files / 'logs' / '*.csv'}"
    ]


def test_events_file_reached_by_a_symlink_and_a_hard_link_is_counted_once(files):
    os.symlink(files / "e.csv", files / "e_symlink.csv")
    os.link(files / "e.csv", files / "e_hardlink.csv")
    data = [str(files / "e.csv"), str(files / "e_symlink.csv"), str(files / "e_hardlink.csv")]
    events, _, notes = counts(data, [])
    assert events == 2  # read three times: 6 events under three source names
    assert len(notes) == 2


def test_hard_link_inside_one_folder_is_read_once(files):
    os.link(files / "logs" / "b.csv", files / "logs" / "c.csv")
    events, records, notes = counts([str(files / "e.csv")], [str(files / "logs")])
    assert (events, records) == (2, 2)  # a.csv and b.csv; with c.csv read too, 3
    assert notes == [
        f"{files / 'logs'}: 1 of its files was read already by another path and not again (c.csv)"
    ]


def test_a_consent_file_named_by_consent_and_by_the_config_is_read_once_and_said_so(
    files, monkeypatch
):
    """The demo folder: ``scan ... --consent consent.csv`` beside a privdiag.toml whose
    [consent] paths list consent.csv too. The note said "consent.csv: not read, its file was
    read already by another path", though the file was read, once."""
    from privdiag.config import load_config

    write(files / "privdiag.toml", '[consent]\npaths = ["logs/a.csv"]\n')
    monkeypatch.chdir(files)
    cfg = load_config(Path("privdiag.toml"))
    doc = run_scan(["e.csv"], consent=["logs/a.csv"], config=cfg).to_dict()
    consent = [(i["path"], i["rows"]) for i in doc["inputs"] if i["role"] == "consent"]
    assert consent == [("logs/a.csv", 1)]
    assert reading_notes(doc) == [
        "logs/a.csv: read once, though named twice: by --consent and by the [consent] paths "
        "of privdiag.toml"
    ]


def test_a_config_consent_file_reached_by_a_consent_folder_names_both_places(files, monkeypatch):
    """--consent logs/ reads a.csv and b.csv; the config's [consent] paths name a hard link
    of a.csv: its note says which input read it, and where each was given."""
    from privdiag.config import load_config

    os.link(files / "logs" / "a.csv", files / "a_copy.csv")
    write(files / "privdiag.toml", '[consent]\npaths = ["a_copy.csv"]\n')
    monkeypatch.chdir(files)
    cfg = load_config(Path("privdiag.toml"))
    doc = run_scan(["e.csv"], consent=["logs"], config=cfg).to_dict()
    assert reading_notes(doc) == [
        "a_copy.csv (the [consent] paths of privdiag.toml): its file was read once, through "
        "logs (--consent)"
    ]


def test_urls_are_left_to_the_engine_when_it_lists_them(tmp_path):
    path = write(tmp_path / "e.csv", EVENTS)
    reached = first_reached([path, "s3a://bucket/e/"], urls_listed=True)
    assert [r.files for r in reached] == [[Path(path)], None]


def test_a_consent_file_given_by_itself_is_left_out_of_the_events_folder(tmp_path):
    """export/ holds e.csv and consent.csv; consent.csv is also given as --consent: the
    events folder reads e.csv only (read as events too, its 1 record was a third event with
    the consent columns as features)."""
    from privdiag.ingest.files import named_files

    (tmp_path / "export").mkdir()
    write(tmp_path / "export" / "e.csv", EVENTS)
    write(tmp_path / "export" / "consent.csv", HEADER + "u1,ads,denied,2026-10-01T09:00:00Z\n")
    consent = [str(tmp_path / "export" / "consent.csv")]
    [events] = first_reached([str(tmp_path / "export")], other_role=named_files(consent))
    assert (events.files, events.left_out) == ([tmp_path / "export" / "e.csv"], [])
    assert events.elsewhere == [tmp_path / "export" / "consent.csv"]
    assert events.note() == (
        f"{tmp_path / 'export'}: 1 of its files was given by itself as an input of the other "
        "role and not read here (consent.csv)"
    )
    # given by itself in both roles, it is read in both (and its reader says what is wrong)
    [both] = first_reached(consent, other_role=named_files(consent))
    assert (both.files, both.elsewhere) == ([tmp_path / "export" / "consent.csv"], [])


def test_named_files_are_regular_files_given_by_themselves(files):
    from privdiag.ingest.files import named_files

    stat = (files / "e.csv").stat()
    given = [str(files / "e.csv"), str(files / "logs"), str(files / "*.csv"), "s3://b/x.csv"]
    assert named_files(given) == frozenset({(stat.st_dev, stat.st_ino)})
    os.mkfifo(files / "pipe.csv")
    assert named_files([str(files / "missing.csv"), str(files / "pipe.csv")]) == frozenset()


def test_a_consent_log_inside_the_events_folder_is_read_as_consent_only(files):
    (files / "export").mkdir()
    os.rename(files / "e.csv", files / "export" / "e.csv")
    os.rename(files / "logs" / "a.csv", files / "export" / "a.csv")
    events, records, notes = counts([str(files / "export")], [str(files / "export" / "a.csv")])
    assert (events, records) == (2, 1)  # the record was read as a third event too


def test_a_pipe_is_named_as_not_a_regular_file(tmp_path):
    """A named pipe (or /dev/stdin fed by a pipe) exists: 'no such file' sent the user
    looking for a typo."""
    from privdiag.errors import InputError

    os.mkfifo(tmp_path / "events.csv")
    with pytest.raises(InputError) as err:
        first_reached([str(tmp_path / "events.csv")])
    assert "is not a regular file or folder" in err.value.message
    assert "save the data to a file first" in err.value.hint


def test_a_file_gone_after_it_was_found_is_an_input_error(tmp_path, monkeypatch):
    """A folder's file deleted between listing and reading: an InputError naming it, not an
    internal error (FileNotFoundError from stat)."""
    from privdiag.errors import InputError
    from privdiag.ingest import files as files_module

    gone = tmp_path / "logs" / "gone.csv"
    monkeypatch.setattr(files_module, "expand", lambda argument: [gone])
    with pytest.raises(InputError) as err:
        first_reached([str(tmp_path / "logs")])
    assert err.value.path == gone
    assert "No such file or directory" in err.value.message


def _denied(blocked: Path, real):
    """A stand-in for os.scandir or Path.stat that refuses ``blocked`` as a non-root user
    would be refused a folder without permission (the tests run as root in CI)."""

    def call(path, *args, **kwargs):
        if Path(path) == blocked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    return call


def test_a_file_in_a_folder_that_may_not_be_entered_is_an_input_error(files, monkeypatch):
    """Path.is_file raised PermissionError: an internal error (exit 5)."""
    from privdiag.errors import InputError

    target = files / "logs" / "a.csv"
    monkeypatch.setattr(Path, "stat", _denied(target, Path.stat))
    with pytest.raises(InputError) as err:
        first_reached([str(target)])
    assert err.value.message == f"{target}: cannot be read (Permission denied)"


def test_a_subfolder_that_may_not_be_read_is_an_input_error(files, monkeypatch):
    """rglob skipped a folder it could not list: its files were left out unsaid."""
    from privdiag.errors import InputError

    (files / "logs" / "day2").mkdir()
    write(files / "logs" / "day2" / "c.csv", HEADER + "u3,ads,granted,2026-10-02T09:00:00Z\n")
    monkeypatch.setattr(os, "scandir", _denied(files / "logs" / "day2", os.scandir))
    with pytest.raises(InputError) as err:
        first_reached([str(files / "logs")])
    assert err.value.message == f"{files / 'logs' / 'day2'}: cannot be read (Permission denied)"


def test_a_path_named_twice_by_consent_and_by_the_config_names_each_place_once(files, monkeypatch):
    """--consent a.csv --consent a.csv beside a config naming a.csv too: each later naming
    says it was read once, naming --consent once, not "by --consent and by --consent"."""
    from privdiag.config import load_config

    write(files / "privdiag.toml", '[consent]\npaths = ["logs/a.csv"]\n')
    monkeypatch.chdir(files)
    cfg = load_config(Path("privdiag.toml"))
    doc = run_scan(["e.csv"], consent=["logs/a.csv", "logs/a.csv"], config=cfg).to_dict()
    assert reading_notes(doc) == [
        "logs/a.csv: read once, though named twice",
        "logs/a.csv: read once, though named twice: by --consent and by the [consent] paths "
        "of privdiag.toml",
    ]
