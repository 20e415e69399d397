"""Catalog `format` name -> loader, and the raw table each format feeds."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from pedw.catalog import Source
from pedw.sources.enterprise_csv import load_enterprise_csv
from pedw.sources.ilostat_csv import load_ilostat_csv
from pedw.sources.pwt import load_pwt
from pedw.sources.wdi import load_wdi_country_metadata

LOADERS: dict[str, Callable[[Source], pa.Table]] = {
    "ilostat_csv": load_ilostat_csv,
    "pwt": load_pwt,
    "wdi_country_metadata": load_wdi_country_metadata,
    "enterprise_csv": load_enterprise_csv,
}


def load_source(source: Source) -> pa.Table:
    """Read one catalog source with the loader of its format."""
    try:
        loader = LOADERS[source.format]
    except KeyError:
        raise ValueError(
            f"source {source.name}: unknown format {source.format!r}; "
            f"known formats: {sorted(LOADERS)}"
        ) from None
    return loader(source)
