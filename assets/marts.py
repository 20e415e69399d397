"""Marts: national, sector and enterprise panels with drivers and decent work side by side."""

from collections.abc import Callable

import dagster as dg

from assets.enterprise import enterprise_firms
from assets.metadata import outputs_metadata, table_metadata
from assets.national import country_metadata, national_series
from assets.resources import PedwResource
from assets.sector import sector_series
from pedw.code_versions import code_version
from pedw.marts.enterprise_panel import write_enterprise_panel
from pedw.marts.firm_indicators import write_firm_indicators
from pedw.marts.national_panel import write_national_panel
from pedw.marts.sector_panel import write_sector_panel
from pedw.store import Store


def mart_asset(
    table: str,
    deps: list,
    write: Callable[[Store], int],
    description: str,
    also_writes: tuple[str, ...] = (),
) -> dg.AssetsDefinition:
    """marts.<table>: built by `write(store)` (plain SQL over the store), rows logged;
    `also_writes` names the other tables `write` leaves ("schema.table")."""

    @dg.asset(
        key=["marts", table],
        group_name="marts",
        kinds={"duckdb", "parquet"},
        deps=deps,
        description=description,
        code_version=code_version([write.__module__]),
        metadata=outputs_metadata(f"marts.{table}", *also_writes),
    )
    def _mart(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
        store = pedw.store()
        rows = write(store)
        context.log.info(f"marts.{table}: {rows} rows")
        return dg.MaterializeResult(metadata=table_metadata(store, "marts", table))

    return _mart


national_panel = mart_asset(
    "national_panel",
    [national_series, country_metadata],
    write_national_panel,
    "One row per country and year (key ref_area, year): output per worker and its drivers "
    "beside informality, labour share, earnings, working poverty and fatal injuries. ILO "
    "aggregates are excluded. Also marts.series_choice: every published candidate value, "
    "which one stands for each economy, variable and year, and why.",
    also_writes=("marts.series_choice",),
)
sector_panel = mart_asset(
    "sector_panel",
    [sector_series],
    write_sector_panel,
    "One row per country, ISIC Rev.4 section and year: value added, employment, labour "
    "productivity, earnings, fatal injury rate, employment share.",
)
enterprise_panel = mart_asset(
    "enterprise_panel",
    [enterprise_firms, national_panel, sector_panel],
    write_enterprise_panel,
    "One row per firm and year (key firm_id, year): size class (from the first wave), "
    "productivity, wages, practices, SCORE timing, shock exposure, and the firm's sector and "
    "national context.",
)
firm_indicators = mart_asset(
    "firm_indicators",
    [enterprise_panel],
    write_firm_indicators,
    "Weighted means and shares of firm indicators per country and year (mean log labour "
    "productivity and log wage; shares of SMEs, formal, training and exporting firms) with "
    "design-based standard errors (strata and PSUs), as Stata's svy: mean and svy: "
    "proportion; unweighted where an economy's firm file has no sampling weight (the "
    "weighting column says which). Internal: released through disclosure.firm_indicators.",
)


MART_ASSETS = [national_panel, sector_panel, enterprise_panel, firm_indicators]
