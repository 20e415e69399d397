"""Marts: national, sector and enterprise panels with drivers and decent work side by side."""

import dagster as dg

from assets.enterprise import enterprise_firms
from assets.metadata import table_metadata
from assets.national import country_metadata, national_series
from assets.sector import sector_series
from pedw.marts.enterprise_panel import write_enterprise_panel
from pedw.marts.national_panel import write_national_panel
from pedw.marts.sector_panel import write_sector_panel
from pipelines.resources import PedwResource


@dg.asset(
    key=["marts", "national_panel"],
    group_name="marts",
    kinds={"duckdb", "parquet"},
    deps=[national_series, country_metadata],
    description="One row per country and year (key ref_area, year): output per worker and "
    "its drivers beside informality, labour share, earnings, working poverty "
    "and fatal injuries. ILO aggregates are excluded.",
)
def national_panel(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    pedw.stamp(context)
    store = pedw.store()
    rows = write_national_panel(store)
    context.log.info(f"marts.national_panel: {rows} country-years")
    return dg.MaterializeResult(metadata=table_metadata(store, "marts", "national_panel"))


@dg.asset(
    key=["marts", "sector_panel"],
    group_name="marts",
    kinds={"duckdb", "parquet"},
    deps=[sector_series],
    description="One row per country, ISIC Rev.4 section and year: value added, employment, "
    "labour productivity, earnings, fatal injury rate, employment share.",
)
def sector_panel(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    pedw.stamp(context)
    store = pedw.store()
    rows = write_sector_panel(store)
    context.log.info(f"marts.sector_panel: {rows} country-sector-years")
    return dg.MaterializeResult(metadata=table_metadata(store, "marts", "sector_panel"))


@dg.asset(
    key=["marts", "enterprise_panel"],
    group_name="marts",
    kinds={"duckdb", "parquet"},
    deps=[enterprise_firms, national_panel, sector_panel],
    description="One row per firm and year (key firm_id, year): size class (from the first "
    "wave), productivity, wages, practices, SCORE timing, shock exposure, and the "
    "firm's sector and national context.",
)
def enterprise_panel(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    pedw.stamp(context)
    store = pedw.store()
    rows = write_enterprise_panel(store)
    context.log.info(f"marts.enterprise_panel: {rows} firm-years")
    return dg.MaterializeResult(metadata=table_metadata(store, "marts", "enterprise_panel"))


MART_ASSETS = [national_panel, sector_panel, enterprise_panel]
