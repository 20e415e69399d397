"""The Dagster code location: gathers the asset modules; builds nothing at import beyond the graph."""

from __future__ import annotations

import dagster as dg

from assets.briefs import BRIEF_ASSETS
from assets.enterprise import ENTERPRISE_ASSETS, raw_enterprise_firms
from assets.marts import MART_ASSETS
from assets.models import MODEL_ASSETS
from assets.national import NATIONAL_ASSETS
from assets.publication import publication_asset
from assets.score import SCORE_ASSETS, score_kpi_change
from assets.sector import SECTOR_ASSETS
from pipelines.release_sensor import ilostat_release
from pipelines.resources import PedwResource
from pipelines.schedules import enterprise_partitions, failure_alert, monthly_refresh, refresh_jobs

UPSTREAM_ASSETS = [
    *NATIONAL_ASSETS,
    *SECTOR_ASSETS,
    raw_enterprise_firms,
    *ENTERPRISE_ASSETS,
    *SCORE_ASSETS,
    *MART_ASSETS,
    *MODEL_ASSETS,
    *BRIEF_ASSETS,
]
warehouse = publication_asset(deps=[*MART_ASSETS, score_kpi_change, *MODEL_ASSETS, *BRIEF_ASSETS])
ALL_ASSETS = [*UPSTREAM_ASSETS, warehouse]


def build_definitions(catalog: str = "", warehouse_path: str = "") -> dg.Definitions:
    """Definitions for one catalog and warehouse (empty: resolved from the environment at run time)."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=list(refresh_jobs(ALL_ASSETS)),
        schedules=[monthly_refresh],
        sensors=[enterprise_partitions, ilostat_release, failure_alert],
        resources={"pedw": PedwResource(catalog=catalog, warehouse=warehouse_path)},
    )


defs = build_definitions()
