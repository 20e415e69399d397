"""National level: ILOSTAT country-year indicators, PWT drivers, WDI country classification."""

import dagster as dg

from assets.factories import raw_asset, source_asset, staged_asset
from assets.metadata import outputs_metadata, table_metadata
from assets.resources import PedwResource
from pedw.code_versions import code_version
from pedw.datasets import dataset
from pedw.staging.series import write_series

NATIONAL_SOURCES = [
    source_asset(dataset(name)) for name in ("national_observations", "pwt", "country_metadata")
]
raw_national_observations = raw_asset(dataset("national_observations"))
raw_pwt = raw_asset(dataset("pwt"))
raw_country_metadata = raw_asset(dataset("country_metadata"))
national_observations = staged_asset(dataset("national_observations"))
pwt_drivers = staged_asset(dataset("pwt"))
country_metadata = staged_asset(dataset("country_metadata"))
SERIES_CODE = code_version(["pedw.staging.series"])


@dg.asset(
    key=["staging", "national_series"],
    group_name="national",
    kinds={"duckdb", "parquet"},
    deps=[national_observations, pwt_drivers],
    code_version=SERIES_CODE,
    metadata=outputs_metadata("staging.national_series"),
    description="Canonical country-year series (long): ILOSTAT indicators mapped by "
    "pedw/staging/series.yml and PWT drivers, in canonical units.",
)
def national_series(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
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
