"""Catalog `format` name -> loader of one file, and reading every file of a source."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from pedw.catalog import Source
from pedw.settings import resolve_settings
from pedw.sources.enterprise_csv import load_enterprise_csv
from pedw.sources.enterprise_survey import load_enterprise_survey
from pedw.sources.errors import SourceFileError
from pedw.sources.fetch import FetchPolicy, fetch_snapshot
from pedw.sources.ggdc_etd import load_ggdc_etd
from pedw.sources.ilostat_csv import load_ilostat_csv
from pedw.sources.ilostat_sdmx import load_ilostat_sdmx
from pedw.sources.pwt import load_pwt
from pedw.sources.wdi import load_wdi, load_wdi_country_metadata

LOADERS: dict[str, Callable[[Source, Path], pa.Table]] = {
    "ilostat_csv": load_ilostat_csv,
    "ilostat_sdmx": load_ilostat_sdmx,
    "pwt": load_pwt,
    "wdi_country_metadata": load_wdi_country_metadata,
    "wdi": load_wdi,  # API JSON or bulk CSV, told apart by content
    "ggdc_etd": load_ggdc_etd,
    "enterprise_csv": load_enterprise_csv,
    "enterprise_survey": load_enterprise_survey,
}


def source_files(source: Source) -> tuple[list[Path], list[dict]]:
    """The local files of a source: its path's matches, or the current snapshot of its URL.

    A URL source is fetched here (once per release, see pedw.sources.fetch); with no
    network, the last snapshot is used and a warning says so.
    """
    issues: list[dict] = []
    if source.url and not source.path:
        snapshots = resolve_settings().warehouse_path.parent / "snapshots"
        try:
            snapshot = fetch_snapshot(
                source.url, snapshots, FetchPolicy(**source.options.get("fetch", {}))
            )
        except SourceFileError as error:
            return [], [
                {
                    "source_name": source.name,
                    "source_file": source.url,
                    "kind": "refused",
                    "message": str(error),
                }
            ]
        if snapshot.status.startswith("offline"):
            issues.append(
                {
                    "source_name": source.name,
                    "source_file": source.url,
                    "kind": "warning",
                    "message": f"{source.url}: {snapshot.status}",
                }
            )
        return [snapshot.path], issues
    return source.files(), issues


def load_source(source: Source) -> tuple[list[pa.Table], list[dict]]:
    """Every file of a source read with its format's loader.

    Returns the tables read and the issues met: a file that cannot be loaded is refused
    (kind 'refused', the other files still load), unexpected extra columns are a 'warning'.
    """
    try:
        loader = LOADERS[source.format]
    except KeyError:
        raise ValueError(
            f"source {source.name}: unknown format {source.format!r}; "
            f"known formats: {sorted(LOADERS)}"
        ) from None
    files, issues = source_files(source)
    if issues and issues[0]["kind"] == "refused":
        return [], issues
    if not files:
        where = source.path or source.url or source.name
        return [], [
            {
                "source_name": source.name,
                "source_file": str(where),
                "kind": "refused",
                "message": f"{where}: no file matches this path",
            }
        ]
    tables = []
    for path in files:
        try:
            table = loader(source, path)
        except SourceFileError as error:
            issues.append(
                {
                    "source_name": source.name,
                    "source_file": error.path,
                    "kind": "refused",
                    "message": str(error),
                }
            )
            continue
        extra = (table.schema.metadata or {}).get(b"pedw_extra_columns")
        if extra:
            issues.append(
                {
                    "source_name": source.name,
                    "source_file": str(path),
                    "kind": "warning",
                    "message": f"{path}: unexpected column(s) {extra.decode()} ignored",
                }
            )
        tables.append(table)
    return tables, issues


# Formats whose loaders return the shared long "observations" layout (ILOSTAT code columns).
OBSERVATION_FORMATS = ("ilostat_csv", "ilostat_sdmx", "wdi", "ggdc_etd")
# Formats whose loaders return firm-year rows in the enterprise_firms contract's columns.
ENTERPRISE_FORMATS = ("enterprise_csv", "enterprise_survey")
