"""Exception families, one per kind of failure, each with the exit code of DESIGN.md.

The core raises these; the CLI catches them once and prints one line that names the
file, the row or field when known, and what to do.
"""

from __future__ import annotations

from pathlib import Path


class PrivdiagError(Exception):
    """Base of every error a user can act on."""

    exit_code = 5

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(PrivdiagError):
    """A flag or argument is wrong (exit 2)."""

    exit_code = 2


def empty_value(option: str, what: str, more: str = "") -> UsageError:
    """The usage error for ``option`` given an empty value (a script's unset variable), which
    would have been taken as not given or as the current folder: "--json was given an empty
    file name", with the hint "give --json a file name" and ``more``."""
    return UsageError(f"{option} was given an empty {what}", hint=f"give {option} a {what}{more}")


class ConfigError(PrivdiagError):
    """The config file is missing, unreadable or invalid (exit 2)."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = f"{path}" if path else "config"
        if key:
            where += f": [{key}]"
        super().__init__(f"{where}: {message}", hint=hint)


class InputError(PrivdiagError):
    """An input data file is unreadable or invalid (exit 3)."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        row: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message, hint=hint)
        self.path = path
        self.row = row
        self.field = field


class LockError(PrivdiagError):
    """Another audit holds the history lock (exit 4)."""

    exit_code = 4
