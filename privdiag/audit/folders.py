"""The dated report folders: written hidden, published by one rename, pruned by rename.

A folder is visible under its final name ``<YYYY-MM-DDTHHMMSSZ>-<run id>`` only once it is
complete: it is written as ``.partial-<name>``, the run is recorded in the history, and
then it is renamed. A run killed in between leaves a hidden folder that the next audit
finishes (its run is in the history) or removes (it is not).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from privdiag.config import current_folder

PARTIAL = ".partial-"
PRUNING = ".pruning-"
NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z-(?P<run>[0-9a-f]+)$")
# The files a run writes into its folder (privdiag.audit.run._write_reports).
REPORT_FILES = ("audit.json", "report.html", "summary.md", "junit.xml")


def folder_name(started_at: str, run_id: str) -> str:
    """Return the folder name of a run from its ISO start time (UTC) and id."""
    stamp = datetime.fromisoformat(started_at).strftime("%Y-%m-%dT%H%M%SZ")
    return f"{stamp}-{run_id}"


def partial(reports_dir: Path, name: str) -> Path:
    """Return the hidden folder a run writes its reports into."""
    return reports_dir / f"{PARTIAL}{name}"


def publish(reports_dir: Path, name: str) -> Path:
    """Rename the run's hidden folder to its final name; return the final path."""
    final = reports_dir / name
    os.replace(partial(reports_dir, name), final)
    return final


def discard(folder: Path) -> None:
    """Remove a folder that is not visible (hidden name) or make it so first, then remove."""
    if not folder.name.startswith("."):
        hidden = folder.with_name(f"{PRUNING}{folder.name}")
        os.replace(folder, hidden)
        folder = hidden
    shutil.rmtree(folder, ignore_errors=True)


def recover(reports_dir: Path, recorded: Callable[[str], bool]) -> list[str]:
    """Finish or remove what killed runs left behind; return the folder names published.

    Assumes the caller holds the audit lock, so no live run owns these folders.
    """
    published: list[str] = []
    if not reports_dir.is_dir():
        return published
    for entry in sorted(reports_dir.iterdir()):
        if entry.name.startswith(PRUNING):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(PARTIAL):
            name = entry.name[len(PARTIAL) :]
            match = NAME.match(name)
            if match and recorded(match["run"]) and not (reports_dir / name).exists():
                publish(reports_dir, name)
                published.append(name)
            else:
                shutil.rmtree(entry, ignore_errors=True)
    return published


def visible(reports_dir: Path) -> list[Path]:
    """Return the published report folders, sorted by name."""
    if not reports_dir.is_dir():
        return []
    return sorted(p for p in reports_dir.iterdir() if p.is_dir() and NAME.match(p.name))


def prune(reports_dir: Path, keep: int | None, runs: list[str], history: Path) -> list[str]:
    """Remove all but the report folders of the newest ``keep`` runs; return the names removed.

    ``runs`` lists the run ids ``history`` recorded, oldest first: names sort by time only to
    the second, so the history decides the order. A folder of a run the history lacks counts
    as oldest when its ``audit.json`` names this history or one that no longer exists (a
    history moved aside); one naming another history that exists, or none (written before
    runs named theirs), is another config's sharing the folder, and is left alone.
    """
    if keep is None:
        return []
    order = {run: i for i, run in enumerate(runs)}

    def age(folder: Path) -> tuple[int, str]:
        match = NAME.match(folder.name)
        return (order.get(match["run"], -1) if match else -1, folder.name)

    ours = [f for f in visible(reports_dir) if age(f)[0] >= 0 or _orphan(f, history)]
    old = sorted(ours, key=age)[:-keep]
    for folder in old:
        discard(folder)
    return [f.name for f in old]


def _orphan(folder: Path, history: Path) -> bool:
    """True when the run of ``folder`` (one ``history`` lacks) recorded ``history`` as its
    own, or a history file that is gone; False when it names another or none."""
    try:
        named = json.loads((folder / "audit.json").read_text("utf-8"))["audit"]["history"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not isinstance(named, str) or not named:
        return False
    return Path(named) == history.resolve() or not os.path.exists(named)


def locate(recorded: str | None, config_path: str) -> Path | None:
    """Return the absolute path of a run's report folder as recorded, None when it is gone.

    Runs record the folder absolute. Older runs recorded it relative to the folder they
    started in, which they did not record: such a folder is looked for from the current
    folder, then from the run's config folder and each folder above it (a relative
    ``--config conf/privdiag.toml`` put the reports under ``conf/``). Folder names hold the
    run id, so another run's folder is never taken for it.
    """
    if not recorded:
        return None
    path = Path(recorded)
    bases = [current_folder()]
    if config_path:
        bases += [Path(config_path).parent, *Path(config_path).parent.parents]
    candidates = [path] if path.is_absolute() else [base / path for base in bases]
    # os.path.isdir, not Path.is_dir: a name too long or a folder we may not enter is "not
    # found", where Path.is_dir raises
    return next((c for c in candidates if os.path.isdir(c)), None)
