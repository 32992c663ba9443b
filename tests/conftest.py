"""Shared fixtures: the location of the real public inputs, and a temp work folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REALDATA = Path(os.environ.get("PRIVDIAG_REALDATA", REPO.parent / "shared" / "realdata"))


@pytest.fixture
def realdata() -> Path:
    """The folder of real public inputs; tests that need it skip when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real public inputs not found at {REALDATA} (set PRIVDIAG_REALDATA)")
    return REALDATA
