"""One catalog entry as the loaders see it (pedw.catalog reads and checks the YAML).

Kept apart from pedw.catalog, which checks entries against the format table (pedw.formats):
the loaders that table names take a Source, and use nothing else of the catalog.
"""

from __future__ import annotations

import fnmatch
import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Source:
    """One dataset of a catalog: where it is, in which published layout, for which level."""

    name: str
    level: str
    format: str
    path: str | None = None
    url: str | None = None
    contract: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    # Firm files laid out otherwise: contract column -> column as published, and contract
    # columns one value fills for the whole file (a single-country or single-year survey).
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    # Firm files: contract columns computed from published ones (`wage_bill: wage * workers`),
    # and the file's units (currency, price_year, scale: amounts are multiplied by it).
    derive: dict[str, str] = field(default_factory=dict)
    units: dict[str, Any] = field(default_factory=dict)
    # Who published it and which release this is, as a reader should see it under a figure
    # (default: the format's publisher; the release the file states, see pedw.briefs.sources).
    publisher: str | None = None
    # One release for every file, or one per file: {file name pattern: release}, the first
    # pattern matching a file's name (fnmatch) giving its release.
    release: str | dict[str, str] | None = None
    base_dir: Path = Path(".")

    def file_release(self, name: str) -> str | None:
        """The release the catalog states for the file called `name` (None: it states none,
        or one for every file, which pedw.briefs.sources cites for all)."""
        if not isinstance(self.release, dict):
            return None
        return next(
            (str(r) for pattern, r in self.release.items() if fnmatch.fnmatch(name, pattern)),
            None,
        )

    def files(self) -> list[Path]:
        """Local files of the source (a glob pattern expands to its sorted matches)."""
        if self.path is None:
            return []
        pattern = Path(self.path)
        pattern = pattern if pattern.is_absolute() else self.base_dir / pattern
        if any(ch in str(pattern) for ch in "*?["):
            return [Path(p) for p in sorted(glob.glob(str(pattern)))]
        return [pattern]
