"""Sector level: indicators by economic activity (ILOSTAT by ISIC Rev.4 section, GGDC ETD)."""

import dagster as dg

from assets.factories import raw_asset, source_asset, staged_asset
from assets.metadata import outputs_metadata, table_metadata
from assets.national import SERIES_CODE
from assets.resources import PedwResource
from pedw.datasets import dataset
from pedw.staging.series import write_series

SECTOR_SOURCES = [source_asset(dataset("sector_observations"))]
raw_sector_observations = raw_asset(dataset("sector_observations"))
sector_observations = staged_asset(dataset("sector_observations"))


@dg.asset(
    key=["staging", "sector_series"],
    group_name="sector",
    kinds={"duckdb", "parquet"},
    deps=[sector_observations],
    code_version=SERIES_CODE,
    metadata=outputs_metadata("staging.sector_series"),
    description="Canonical country-sector-year series (long), ISIC Rev.4 sections, canonical units.",
)
def sector_series(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    store = pedw.store()
    rows = write_series(store, "sector")
    context.log.info(f"staging.sector_series: {rows} rows")
    return dg.MaterializeResult(metadata=table_metadata(store, "staging", "sector_series"))


SECTOR_ASSETS = [raw_sector_observations, sector_observations, sector_series]
