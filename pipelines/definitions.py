"""The Dagster code location: the only place that lists every asset, job, sensor and resource.

`defs` is built when Dagster loads the location (never at import of the asset modules), for
the catalog and warehouse of the environment; `build_definitions` builds it for any other.
"""

from __future__ import annotations

import dagster as dg

from assets.briefs import BRIEF_ASSETS
from assets.disclosure import DISCLOSURE_ASSETS
from assets.enterprise import (
    ENTERPRISE_ASSETS,
    ENTERPRISE_SOURCES,
    enterprise_firms,
    enterprise_firms_references,
    raw_enterprise_firms,
)
from assets.marts import MART_ASSETS
from assets.models import MODEL_ASSETS
from assets.national import NATIONAL_ASSETS, NATIONAL_SOURCES
from assets.publication import public_release_asset, publication_asset
from assets.resources import PedwResource
from assets.score import SCORE_ASSETS, SCORE_SOURCES, score_kpi_change, score_monitoring_references
from assets.sector import SECTOR_ASSETS, SECTOR_SOURCES
from pedw.catalog import Catalog, CatalogError, load_catalog
from pedw.datasets import DATASETS
from pedw.settings import Settings, resolve_settings
from pipelines.automation import automation_sensor, with_automation
from pipelines.jobs import PUBLICATION, downstream_of, observe_job, settings_tags, stage_jobs
from pipelines.release_sensor import ilostat_release
from pipelines.sensors import enterprise_partitions, failure_alert

NATIONAL_PANEL = dg.AssetKey(["marts", "national_panel"])
SOURCE_ASSETS = [*NATIONAL_SOURCES, *SECTOR_SOURCES, *ENTERPRISE_SOURCES, *SCORE_SOURCES]
UPSTREAM_ASSETS = [
    *NATIONAL_ASSETS,
    *SECTOR_ASSETS,
    raw_enterprise_firms,
    *ENTERPRISE_ASSETS,
    enterprise_firms_references,
    *SCORE_ASSETS,
    *MART_ASSETS,
    *MODEL_ASSETS,
    *DISCLOSURE_ASSETS,
    *BRIEF_ASSETS,
]
warehouse = publication_asset(
    deps=[
        *MART_ASSETS,
        score_kpi_change,
        enterprise_firms_references,
        score_monitoring_references,
        *MODEL_ASSETS,
        *DISCLOSURE_ASSETS,
        *BRIEF_ASSETS,
    ]
)
ALL_ASSETS = [*UPSTREAM_ASSETS, warehouse, public_release_asset(warehouse)]


def absent_for(catalog: Catalog) -> set[dg.AssetKey]:
    """Raw assets no entry of `catalog` feeds, and everything built on them; the warehouse
    and the briefs aside (a catalog without firm data still publishes, with national briefs)."""
    fed = {
        d.name
        for d in DATASETS
        if any(s.level == d.level and s.format in d.formats for s in catalog.sources)
    }
    raw = {dg.AssetKey(["raw", d.name]) for d in DATASETS if d.name not in fed}
    absent = raw | downstream_of(raw, ALL_ASSETS)
    if NATIONAL_PANEL not in absent:  # briefs are built from whatever levels exist
        absent -= {a.key for a in BRIEF_ASSETS}
    return absent - PUBLICATION


def build_definitions(settings: Settings | None = None, briefs: bool = True) -> dg.Definitions:
    """Definitions for one catalog and warehouse (default: the environment's); without
    `briefs`, the brief assets are out of scope like assets the catalog does not feed."""
    settings = settings or resolve_settings()
    try:
        absent = absent_for(load_catalog(settings.catalog_path))
    except CatalogError:
        absent = set()  # `pedw run` reports the catalog's error; the UI still loads
    if not briefs:
        absent |= {a.key for a in BRIEF_ASSETS}
    automated = dg.AssetSelection.all(include_sources=True)
    if absent:  # an empty subtraction renders as "(not )" in the UI
        automated -= dg.AssetSelection.assets(*absent)
    tags = settings_tags(settings)
    return dg.Definitions(
        assets=with_automation(
            SOURCE_ASSETS, ALL_ASSETS, {enterprise_firms.key: raw_enterprise_firms.key}, absent
        ),
        executor=step_executor(settings.executor),
        jobs=[observe_job(SOURCE_ASSETS, tags), *stage_jobs(ALL_ASSETS, tags)],
        sensors=[
            automation_sensor(automated, running=settings.automation, tags=tags),
            enterprise_partitions,
            ilostat_release,
            failure_alert,
        ],
        resources={"pedw": PedwResource(**settings.to_config())},
    )


def step_executor(name: str) -> dg.ExecutorDefinition:
    """How a launched run executes its steps: in subprocesses of the run (local), or as Celery
    tasks on any number of workers sharing the store (deploy/; broker from PEDW_CELERY_BROKER)."""
    if name == "celery":
        # An optional dependency (the `deploy` extra): imported only where it is configured.
        from dagster_celery import celery_executor

        return celery_executor.configured(
            {"broker": {"env": "PEDW_CELERY_BROKER"}, "backend": {"env": "PEDW_CELERY_BACKEND"}}
        )
    if name != "multiprocess":
        raise ValueError(f"PEDW_EXECUTOR must be multiprocess or celery, not {name!r}")
    return dg.multiprocess_executor


def stage_job(name: str) -> dg.JobDefinition:
    """Stage job `name`, as a step process rebuilds it (dg.build_reconstructable_job): the
    definitions of this process's settings."""
    return build_definitions().resolve_job_def(name)


@dg.definitions
def defs() -> dg.Definitions:
    """The environment's code location: the centre's for a catalog of office packages
    (pipelines/centre.py), else the office pipeline."""
    settings = resolve_settings()
    try:
        central = load_catalog(settings.catalog_path).central
    except CatalogError:
        central = False
    if central:
        from pipelines.centre import build_centre_definitions

        return build_centre_definitions(settings)
    return build_definitions(settings)
