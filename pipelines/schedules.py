"""Scheduled operation: a monthly refresh, partition discovery, and failure alerts."""

from __future__ import annotations

import dagster as dg

from assets.briefs import brief_countries
from assets.enterprise import ENTERPRISE_ASSETS, enterprise_countries
from pedw.raw import raw_partitions
from pedw.sources.registry import refresh_snapshots
from pipelines.resources import PedwResource

MONTHLY = "0 5 1 * *"  # 05:00 on the first day of every month


def refresh_jobs(
    all_assets: list[dg.AssetsDefinition],
) -> tuple[dg.UnresolvedAssetJobDefinition, ...]:
    """Jobs for the refresh: everything unpartitioned, enterprise countries, and the briefs."""
    enterprise = dg.AssetSelection.assets(*ENTERPRISE_ASSETS)
    briefs = dg.AssetSelection.keys(dg.AssetKey(["briefs", "country_brief"]))
    unpartitioned = dg.AssetSelection.all() - enterprise - briefs
    return (
        dg.define_asset_job(
            "refresh_unpartitioned",
            selection=unpartitioned,
            description="National and sector sources, marts, models and publication.",
        ),
        dg.define_asset_job(
            "refresh_enterprise",
            selection=enterprise,
            partitions_def=enterprise_countries,
            description="Enterprise raw and staged assets, one country partition per run.",
        ),
        dg.define_asset_job(
            "refresh_briefs",
            selection=briefs,
            partitions_def=brief_countries,
            description="One policy brief per country.",
        ),
    )


@dg.schedule(
    cron_schedule=MONTHLY,
    job_name="refresh_unpartitioned",
    execution_timezone="UTC",
    description="Monthly refresh of sources and everything built on them.",
)
def monthly_refresh(context: dg.ScheduleEvaluationContext, pedw: PedwResource):
    """Rebuild the unpartitioned assets whose code or inputs changed (sources are fetched
    again, once per release); the enterprise sensor queues each new country partition."""
    refresh_snapshots(pedw.load_catalog().sources, pedw.settings().snapshots_dir)
    plan = pedw.version_plan(context.instance)
    outdated = [a.key for a in pedw_assets() if a.partitions_def is None and plan.outdated(a, None)]
    if not outdated:
        return dg.SkipReason("no source, code or contract changed since the last materializations")
    return dg.RunRequest(
        run_key=f"monthly-{context.scheduled_execution_time:%Y-%m}",
        asset_selection=outdated,
        tags={"pedw/trigger": "monthly"},
    )


def pedw_assets() -> list[dg.AssetsDefinition]:
    from pipelines.definitions import ALL_ASSETS  # the definitions import this module

    return ALL_ASSETS


@dg.sensor(
    job_name="refresh_enterprise",
    minimum_interval_seconds=3600,
    description="Registers the country partitions the last raw load of the firm files found "
    "(raw/enterprise_firms, refreshed by the monthly job) and requests a run for each new "
    "country and for each country whose staged rows are out of date.",
)
def enterprise_partitions(context: dg.SensorEvaluationContext, pedw: PedwResource):
    found = raw_partitions(pedw.store())
    known = set(context.instance.get_dynamic_partitions(enterprise_countries.name))
    new = [key for key in found if key not in known]
    plan = pedw.version_plan(context.instance)
    staged = ENTERPRISE_ASSETS[0]
    changed = [key for key in found if key in known and plan.outdated(staged, [key])]
    if not new and not changed:
        return dg.SkipReason(f"{len(found)} country partitions, none new or out of date")
    version = plan.version(staged.key)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=key, run_key=f"enterprise-{key}-{version}")
            for key in new + changed
        ],
        dynamic_partitions_requests=[enterprise_countries.build_add_request(new)] if new else [],
    )


@dg.run_failure_sensor(
    description="Writes a failed run and its failing steps to the run log and the UI."
)
def failure_alert(context: dg.RunFailureSensorContext):
    message = context.failure_event.message or "run failed"
    context.log.error(
        f"pedw alert: run {context.dagster_run.run_id} "
        f"({context.dagster_run.job_name}) failed: {message}"
    )
