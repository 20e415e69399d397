"""Errors a person can act on: which file, which line, which column, which rule."""

from __future__ import annotations

from pathlib import Path


class SourceFileError(ValueError):
    """A source file that cannot be loaded at all (the file is refused, not quarantined)."""

    def __init__(
        self, path: str | Path, problem: str, line: int | None = None, column: str | None = None
    ):
        self.path, self.problem, self.line, self.column = str(path), problem, line, column
        where = (
            self.path
            + (f", line {line}" if line else "")
            + (f", column {column!r}" if column else "")
        )
        super().__init__(f"{where}: {problem}")
