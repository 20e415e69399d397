"""National level: ILOSTAT country-year indicators, PWT drivers, WDI country classification."""

import dagster as dg

from assets.factories import raw_asset, staged_asset
from assets.metadata import table_metadata
from pedw.sources.registry import OBSERVATION_FORMATS
from pedw.staging.series import write_series
from pipelines.resources import PedwResource

raw_national_observations = raw_asset(
    "national_observations",
    "national",
    OBSERVATION_FORMATS,
    "Country-year observations (ILOSTAT, WDI) exactly as published (text), one row per published "
    "value, with file and line.",
)
raw_pwt = raw_asset("pwt", "national", ("pwt",), "Penn World Table rows as published (text).")
raw_country_metadata = raw_asset(
    "country_metadata",
    "national",
    ("wdi_country_metadata",),
    "World Bank country metadata (region, income group) as published.",
)

national_observations = staged_asset(
    "national_observations",
    "national_observations",
    "ilostat_observations",
    "national",
    "Typed ILOSTAT national observations that passed the ilostat_observations contract.",
)
pwt_drivers = staged_asset(
    "pwt_drivers",
    "pwt",
    "pwt_drivers",
    "national",
    "Typed Penn World Table driver series that passed their contract.",
)
country_metadata = staged_asset(
    "country_metadata",
    "country_metadata",
    "country_metadata",
    "national",
    "Economy region and income group (aggregates kept apart).",
)


@dg.asset(
    key=["staging", "national_series"],
    group_name="national",
    kinds={"duckdb", "parquet"},
    deps=[national_observations, pwt_drivers],
    description="Canonical country-year series (long): ILOSTAT indicators mapped by "
    "pedw/staging/series.yml and PWT drivers, in canonical units.",
)
def national_series(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    pedw.stamp(context)
    store = pedw.store()
    rows = write_series(store, "national")
    context.log.info(f"staging.national_series: {rows} rows")
    return dg.MaterializeResult(metadata=table_metadata(store, "staging", "national_series"))


NATIONAL_ASSETS = [
    raw_national_observations,
    raw_pwt,
    raw_country_metadata,
    national_observations,
    pwt_drivers,
    country_metadata,
    national_series,
]
