"""Where each figure of a brief comes from: publisher, dataset, indicator code and release.

The release is the one the data state, never a file's modification time: the catalog entry's
`release:`, else what the loader read from the file or its download (a WDI file's "Last
Updated Date", an ILOSTAT Excel export's "Last update on", the ETD's "Release:" note, a
fetched snapshot's Last-Modified), recorded as kind 'release' in quality.source_issues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from pedw.catalog import Catalog
from pedw.formats import FORMAT_PUBLISHERS

RELEASE_MESSAGE = re.compile(r": release (.+)$")
SYNTHETIC = "synthetic, not a published release"


@dataclass(frozen=True)
class SourceRelease:
    """One catalog source as a reader should see it cited."""

    name: str
    level: str
    publisher: str
    dataset: str
    release: str = ""  # the catalog's `release:` or the synthetic note: holds for every file
    file_releases: tuple[tuple[str, str], ...] = ()  # (file name, release it states)

    def release_of(self, indicator: str | None = None) -> str:
        """The release behind `indicator` (files named after it first, as ILOSTAT names them)."""
        if self.release:
            return self.release
        named = [r for f, r in self.file_releases if indicator and indicator in f]
        stated = sorted(set(named or [r for _, r in self.file_releases]))
        if not stated:
            return "release not stated by the file or the catalog"
        more = " and others" if len(stated) > 3 else ""
        return "release " + ", ".join(stated[:3]) + more

    def cite(self, indicator: str | None = None) -> str:
        who = ", ".join(p for p in (self.publisher, self.dataset) if p)
        return f"{who} ({self.release_of(indicator)})"


def source_releases(catalog: Catalog, release_issues: pd.DataFrame) -> dict[str, SourceRelease]:
    """Each catalog source by name, with its releases (`release_issues`: source_name,
    source_file, message rows of kind 'release' from quality.source_issues)."""
    stated: dict[str, set[tuple[str, str]]] = {}
    for row in release_issues.itertuples():
        found = RELEASE_MESSAGE.search(str(row.message))
        if found:
            file_name = str(row.source_file).replace("\\", "/").rsplit("/", 1)[-1]
            stated.setdefault(row.source_name, set()).add((file_name, found[1]))
    cited = {}
    for source in catalog.sources:
        publisher, dataset = FORMAT_PUBLISHERS.get(source.format, ("", source.name))
        if source.publisher:
            publisher, dataset = source.publisher, ""
        if catalog.synthetic:  # never cite a publisher for figures it did not publish
            publisher, dataset = "pedw demo-data", f"generated in the {dataset} layout"
        release = (
            SYNTHETIC
            if catalog.synthetic
            else f"release {source.release}"
            if isinstance(source.release, str) and source.release
            else ""  # per file: as the files state it, or the catalog for each file
        )
        cited[source.name] = SourceRelease(
            source.name,
            source.level,
            publisher,
            dataset or source.name,
            release,
            tuple(sorted(stated.get(source.name, ()))),
        )
    return cited


def source_line(
    variables: list[str], series: pd.DataFrame, cited: dict[str, SourceRelease], note: str = ""
) -> str:
    """ "Source: ..." for a figure built from `variables` (series: staging.series_metadata rows):
    each source once, with the indicator codes read from it."""
    rows: dict[str, list[tuple]] = {}  # variable -> (source_names, indicator), in table order
    if len(series):
        for variable, names, indicator in zip(series["variable"], series["source_names"],
                                              series["indicator"], strict=True):  # fmt: skip
            rows.setdefault(variable, []).append((names, indicator))
    indicators: dict[str, list[str]] = {}
    for variable in variables:
        for source_names, indicator in rows.get(variable, []):
            for name in [n.strip() for n in str(source_names or "").split(",") if n.strip()]:
                where = cited[name].cite(indicator) if name in cited else name
                codes = indicators.setdefault(where, [])
                if indicator not in codes:
                    codes.append(indicator)
    parts = [
        f"{where}, indicator{'s' if len(codes) > 1 else ''} {', '.join(codes)}"
        for where, codes in indicators.items()
    ]
    text = "; ".join(parts) if parts else "no source recorded for this series"
    return f"Source: {text}.{' ' + note if note else ''}"
