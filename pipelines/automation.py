"""Declarative automation: the one place that decides what is out of date.

The daemon evaluates these conditions on its ticks (the automation sensor) and `pedw run`
evaluates the same ones before each stage (pipelines/staleness.py), so both rebuild the same
assets after the same change. The sources are observed on the first of every month (files
re-hashed, URL sources asked for a new release); an asset is out of date from the moment it
goes missing, an input gets a new data version, or its code version changes, until it is
materialized again (a failed run leaves it out of date), and while a blocking check of its
own fails. Nothing is requested while it or an input is being built.

The automation sensor is off on a local instance (`pedw run` starts runs) unless
`PEDW_AUTOMATION=on` (the deployment profile's default, docs/deployment.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

MONTHLY = "0 5 1 * *"  # 05:00 UTC on the first day of every month
AC = dg.AutomationCondition

# The causes, in the words of `pedw run`'s summary (their labels name them in the UI too).
REASONS = ("never materialized", "inputs changed", "code changed", "blocking checks failed")
OBSERVE_MONTHLY = AC.on_cron(MONTHLY)
OUT_OF_DATE = (
    (
        (
            AC.newly_missing().with_label(REASONS[0])
            | AC.any_deps_match(AC.data_version_changed() | AC.will_be_requested()).with_label(
                REASONS[1]
            )
            | AC.code_version_changed().with_label(REASONS[2])
        ).since(AC.newly_updated())
        | AC.any_checks_match(AC.check_failed(), blocking_only=True).with_label(REASONS[3])
    )
    & ~AC.any_deps_in_progress()
    & ~AC.in_progress()
    & AC.all_deps_blocking_checks_passed()
).with_label("out of date")


def with_automation(
    sources: Sequence[dg.AssetsDefinition], assets: Sequence[dg.AssetsDefinition]
) -> list[dg.AssetsDefinition]:
    """The same assets with their automation conditions: sources monthly, the rest on change."""
    return [
        *dg.map_asset_specs(
            lambda s: s.replace_attributes(automation_condition=OBSERVE_MONTHLY), sources
        ),
        *dg.map_asset_specs(
            lambda s: s.replace_attributes(automation_condition=OUT_OF_DATE), assets
        ),
    ]


def automation_sensor(
    target: dg.AssetSelection, running: bool, tags: dict[str, str]
) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "pedw_automation",
        target=target,
        default_status=dg.DefaultSensorStatus.RUNNING
        if running
        else dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=300,
        run_tags={**tags, "pedw/trigger": "automation"},
        description="Observes the sources monthly and rebuilds what their changes make stale "
        "(on by default in the deployment profile; turn it on in the UI's Automation tab).",
    )
