"""The named jobs a pedw run is made of, one per stage of the graph, in dependency order.

Dagster cannot run assets with different partitions in one run, so a catalog is
materialized in six: everything unpartitioned that the firm partitions do not feed
(sources, national and sector levels, raw firm files, SCORE); the country partitions of
the firm panel; the enterprise marts and models; the cross-country annex (built once); the
country briefs; the publication. Each
job is named, so the UI shows which stage a run was and can re-execute it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from assets.briefs import BRIEF_ASSETS, brief_countries, cross_country_annex
from assets.enterprise import ENTERPRISE_ASSETS, enterprise_countries
from pedw.settings import Settings

WAREHOUSE = dg.AssetKey(["warehouse"])
PUBLIC_RELEASE = dg.AssetKey(["public_release"])
# The last stage: never left out for a failure upstream (it publishes what could be built).
PUBLICATION = frozenset({WAREHOUSE, PUBLIC_RELEASE})


@dataclass(frozen=True)
class Stage:
    job: str
    label: str
    keys: frozenset[dg.AssetKey]
    partitions_def: dg.PartitionsDefinition | None = None
    # Its steps are long enough to gain from running side by side (pipelines.stage_execution);
    # the other stages' steps take less than a step process costs to start.
    parallel: bool = False


def downstream_of(
    keys: set[dg.AssetKey], assets: Sequence[dg.AssetsDefinition]
) -> set[dg.AssetKey]:
    """Every asset that depends, directly or not, on one of `keys` (not `keys` themselves)."""
    graph = {a.key: set(a.dependency_keys) for a in assets}
    found, changed = set(), True
    while changed:
        changed = False
        for key, deps in graph.items():
            if key not in found and key not in keys and deps & (keys | found):
                found.add(key)
                changed = True
    return found


def stages(assets: Sequence[dg.AssetsDefinition]) -> list[Stage]:
    enterprise = {a.key for a in ENTERPRISE_ASSETS}
    briefs = {a.key for a in BRIEF_ASSETS}
    late = briefs | PUBLICATION
    after_enterprise = downstream_of(enterprise, assets) - late
    first = {a.key for a in assets} - enterprise - after_enterprise - late
    return [
        Stage("load_and_stage", "national and sector", frozenset(first)),
        Stage("enterprise_countries", "enterprise partitions", frozenset(enterprise),
              enterprise_countries),
        Stage("enterprise_models", "enterprise marts and models", frozenset(after_enterprise),
              parallel=True),
        Stage("cross_country_annex", "cross-country annex", frozenset({cross_country_annex.key})),
        Stage("country_briefs", "country briefs", frozenset(briefs - {cross_country_annex.key}),
              brief_countries),
        Stage("publish", "warehouse publication", PUBLICATION),
    ]  # fmt: skip


def settings_tags(settings: Settings) -> dict[str, str]:
    """Tags of every run on `settings`' warehouse, however it started (`pedw run`, the UI, a
    sensor, automation): the UI filters by them and a killed run is recovered by them."""
    return {"pedw/catalog": str(settings.catalog_path),
            "pedw/warehouse": str(settings.warehouse_path)}  # fmt: skip


def stage_jobs(
    assets: Sequence[dg.AssetsDefinition], tags: dict[str, str]
) -> list[dg.UnresolvedAssetJobDefinition]:
    return [
        dg.define_asset_job(
            stage.job,
            selection=dg.AssetSelection.assets(*stage.keys),
            partitions_def=stage.partitions_def,
            tags={**tags, "pedw/stage": stage.job},
            description=f"pedw stage: {stage.label}.",
        )
        for stage in stages(assets)
    ]


OBSERVE_JOB = "observe_sources"


def observe_job(
    sources: Sequence[dg.AssetsDefinition], tags: dict[str, str]
) -> dg.UnresolvedAssetJobDefinition:
    """Observes the catalog's sources (file digests, URL releases): run before the stages."""
    return dg.define_asset_job(
        OBSERVE_JOB,
        selection=dg.AssetSelection.assets(*sources),
        tags={**tags, "pedw/stage": OBSERVE_JOB},
        description="pedw: observe the catalog's sources (their data versions).",
    )
