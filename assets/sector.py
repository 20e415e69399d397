"""Sector level: ILOSTAT indicators by economic activity (ISIC Rev.4 sections)."""

import dagster as dg

from assets.factories import raw_asset, staged_asset
from assets.metadata import table_metadata
from pedw.sources.registry import OBSERVATION_FORMATS
from pedw.staging.series import write_series
from pipelines.resources import PedwResource

raw_sector_observations = raw_asset(
    "sector_observations",
    "sector",
    OBSERVATION_FORMATS,
    "Observations by economic activity (ILOSTAT, GGDC ETD) exactly as published (text), with "
    "file and line.",
)
sector_observations = staged_asset(
    "sector_observations",
    "sector_observations",
    "ilostat_observations",
    "sector",
    "Typed ILOSTAT sector observations that passed the ilostat_observations contract.",
)


@dg.asset(
    key=["staging", "sector_series"],
    group_name="sector",
    kinds={"duckdb", "parquet"},
    deps=[sector_observations],
    description="Canonical country-sector-year series (long), ISIC Rev.4 sections, canonical units.",
)
def sector_series(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    pedw.stamp(context)
    store = pedw.store()
    rows = write_series(store, "sector")
    context.log.info(f"staging.sector_series: {rows} rows")
    return dg.MaterializeResult(metadata=table_metadata(store, "staging", "sector_series"))


SECTOR_ASSETS = [raw_sector_observations, sector_observations, sector_series]
