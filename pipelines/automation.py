"""Declarative automation: what Dagster's daemon keeps up to date on its own.

The sources are observed on the first of every month (files re-hashed, URL sources asked for
a new release); every asset then materializes when one of its inputs changed, or when it is
missing, and never while an input is being rebuilt. The automation sensor is off on a local
instance (runs are started with `pedw run`) and on in the deployment profile
(`PEDW_AUTOMATION=on`, see docs/deployment.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

MONTHLY = "0 5 1 * *"  # 05:00 UTC on the first day of every month

OBSERVE_MONTHLY = dg.AutomationCondition.on_cron(MONTHLY)
# eager() without its "no input missing" clause: the warehouse must publish even when a
# catalog has no firm data (the enterprise models are then absent, by design).
WHEN_INPUTS_CHANGE = (
    dg.AutomationCondition.in_latest_time_window()
    & (
        dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()
    ).since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
    & dg.AutomationCondition.all_deps_blocking_checks_passed()
).with_label("when inputs change")


def with_automation(
    sources: Sequence[dg.AssetsDefinition], assets: Sequence[dg.AssetsDefinition]
) -> list[dg.AssetsDefinition]:
    """The same assets with their automation conditions: sources monthly, the rest on change."""
    return [
        *dg.map_asset_specs(
            lambda s: s.replace_attributes(automation_condition=OBSERVE_MONTHLY), sources
        ),
        *dg.map_asset_specs(
            lambda s: s.replace_attributes(automation_condition=WHEN_INPUTS_CHANGE), assets
        ),
    ]


def automation_sensor(
    target: dg.AssetSelection, running: bool
) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "pedw_automation",
        target=target,
        default_status=dg.DefaultSensorStatus.RUNNING
        if running
        else dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=60,
        run_tags={"pedw/trigger": "automation"},
        description="Observes the sources monthly and rebuilds what their changes make stale "
        "(on by default in the deployment profile; turn it on in the UI's Automation tab).",
    )
