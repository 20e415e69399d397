"""Notice a new ILOSTAT release and ask for a refresh of what depends on it."""

from __future__ import annotations

import dagster as dg

from assets.briefs import BRIEF_ASSETS
from assets.enterprise import ENTERPRISE_ASSETS
from assets.resources import PedwResource
from pedw.catalog import Source
from pedw.datasets import dataset_for
from pedw.sources.errors import SourceFileError
from pedw.sources.ilostat_toc import newer_releases
from pipelines.jobs import settings_tags


def refresh_selection(sources: list[Source]) -> dg.AssetSelection:
    """The raw assets reading `sources`, and every unpartitioned asset downstream of them."""
    raw = [
        dg.AssetKey(["raw", target.name])
        for source in sources
        if (target := dataset_for(source.level, source.format)) is not None
    ]
    return dg.AssetSelection.assets(*raw).downstream() & UNPARTITIONED


UNPARTITIONED = dg.AssetSelection.all() - dg.AssetSelection.assets(
    *ENTERPRISE_ASSETS, *BRIEF_ASSETS
)


@dg.sensor(
    target=UNPARTITIONED,
    minimum_interval_seconds=6 * 3600,
    description="Reads ILOSTAT's table of contents; when a dataset the catalog fetches was "
    "updated after its last snapshot, requests a refresh of its raw asset and of everything "
    "unpartitioned built on it.",
)
def ilostat_release(context: dg.SensorEvaluationContext, pedw: PedwResource):
    settings = pedw.settings()
    sources = list(pedw.load_catalog().sources)
    try:
        newer = newer_releases(sources, settings.snapshots_dir)
    except SourceFileError as error:
        return dg.SkipReason(f"ILOSTAT table of contents unavailable: {error}")
    if not newer:
        return dg.SkipReason("no ILOSTAT dataset of the catalog has a newer release")
    released = ", ".join(f"{dataset} ({updated:%Y-%m-%d})" for _s, dataset, updated in newer)
    context.log.info(f"new ILOSTAT releases: {released}")
    selection = refresh_selection([source for source, _d, _u in newer])
    return dg.RunRequest(
        run_key="ilostat-" + ",".join(f"{d}@{u:%Y%m%d%H%M}" for _s, d, u in newer),
        asset_selection=sorted(
            selection.resolve(context.repository_def.asset_graph), key=lambda k: k.to_user_string()
        ),
        tags={
            **settings_tags(settings),
            "pedw/trigger": "ilostat_release",
            "pedw/releases": released[:200],
        },
    )
