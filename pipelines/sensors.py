"""Sensors: enterprise partition discovery and failure alerts (the monthly refresh is
declarative automation, pipelines/automation.py)."""

from __future__ import annotations

import dagster as dg

from assets.enterprise import enterprise_countries
from assets.resources import PedwResource
from pedw.raw import raw_partitions


@dg.sensor(
    job_name="enterprise_countries",
    minimum_interval_seconds=3600,
    description="Registers the country partitions the last raw load of the firm files found "
    "(raw/enterprise_firms) and requests a run for each new country (automation rebuilds the "
    "known ones when they go out of date).",
)
def enterprise_partitions(context: dg.SensorEvaluationContext, pedw: PedwResource):
    found = raw_partitions(pedw.store())
    known = set(context.instance.get_dynamic_partitions(enterprise_countries.name))
    new = [key for key in found if key not in known]
    if not new:
        return dg.SkipReason(f"{len(found)} country partitions, none new")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=key, run_key=f"enterprise-{key}-{context.cursor or 0}")
            for key in new
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
