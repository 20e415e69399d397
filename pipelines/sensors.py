"""Sensors: enterprise partition discovery and failure alerts (the monthly refresh is
declarative automation, pipelines/automation.py)."""

from __future__ import annotations

import dagster as dg

from assets.enterprise import ENTERPRISE_ASSETS, enterprise_countries
from assets.resources import PedwResource
from pedw.raw import raw_partitions
from pipelines.staleness import Staleness


@dg.sensor(
    job_name="enterprise_countries",
    minimum_interval_seconds=3600,
    description="Registers the country partitions the last raw load of the firm files found "
    "(raw/enterprise_firms) and requests a run for each new country and each country Dagster "
    "reports stale.",
)
def enterprise_partitions(context: dg.SensorEvaluationContext, pedw: PedwResource):
    found = raw_partitions(pedw.store())
    known = set(context.instance.get_dynamic_partitions(enterprise_countries.name))
    new = [key for key in found if key not in known]
    staged = ENTERPRISE_ASSETS[0].key
    staleness = Staleness(context.instance, context.repository_def.asset_graph)
    settings = pedw.settings()
    changed = [key for key in found if key in known and staleness.reasons(staged, [key], settings)]
    if not new and not changed:
        return dg.SkipReason(f"{len(found)} country partitions, none new or out of date")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=key, run_key=f"enterprise-{key}-{context.cursor or 0}")
            for key in new + changed
        ],
        dynamic_partitions_requests=[enterprise_countries.build_add_request(new)] if new else [],
        cursor=str(int(context.cursor or 0) + 1),
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
