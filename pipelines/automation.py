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

from assets.metadata import SLICES

MONTHLY = "0 5 1 * *"  # 05:00 UTC on the first day of every month
AC = dg.AutomationCondition

# The causes, in the words of `pedw run`'s summary (their labels name them in the UI too).
REASONS = ("never materialized", "inputs changed", "code changed", "blocking checks failed")
OBSERVE_MONTHLY = AC.on_cron(MONTHLY)


def out_of_date(inputs_changed: dg.AutomationCondition) -> dg.AutomationCondition:
    """Out of date from going missing, `inputs_changed` or a new code version until built
    again, and while one of its blocking checks fails; never while it or an input is built."""
    return (
        (
            (
                AC.newly_missing().with_label(REASONS[0])
                | inputs_changed.with_label(REASONS[1])
                | AC.code_version_changed().with_label(REASONS[2])
            ).since(AC.newly_updated())
            | AC.any_checks_match(AC.check_failed(), blocking_only=True).with_label(REASONS[3])
        )
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
        & AC.all_deps_blocking_checks_passed()
    ).with_label("out of date")


INPUTS_CHANGED = AC.any_deps_match(AC.data_version_changed() | AC.will_be_requested())
OUT_OF_DATE = out_of_date(INPUTS_CHANGED)


class RecordCondition(dg.AutomationCondition):
    """A custom condition judged from the instance's materialization records alone (it keeps
    no cursor): `condition_name` names it, `explanation` says in words when it is true."""

    condition_name = explanation = ""

    @property
    def requires_cursor(self) -> bool:
        return False

    @property
    def name(self) -> str:
        return self.condition_name

    @property
    def description(self) -> str:
        return self.explanation


def latest_record(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str | None = None):
    """The latest materialization record of `key` (of its `partition`), or None."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None),
        limit=1,
    ).records
    return records[0] if records else None


class SliceChanged(RecordCondition):
    """The country partitions whose slice of the raw table changed since they were built.

    The raw firm table is one asset read whole, so its new data version says nothing of which
    country changed; its materialization records each slice's fingerprint (SLICES metadata,
    pedw.raw.slice_fingerprints) and each staged partition the fingerprint it was built
    from: a changed firm value restages its own country only.
    """

    condition_name = "slice_changed"

    def __init__(self, raw: dg.AssetKey):
        self.raw = raw
        self.explanation = f"its slice of {raw.to_user_string()} changed"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        instance = context.asset_graph_view.instance
        event = instance.get_latest_materialization_event(self.raw)
        current = _slices(event.asset_materialization if event else None)
        changed = set()
        for key in context.candidate_subset.expensively_compute_partition_keys():
            record = latest_record(instance, context.key, key)
            built = _slices(record.asset_materialization if record else None)
            if built.get(key) != current.get(key):
                changed.add(key)
        return dg.AutomationResult(
            context, context.candidate_subset.compute_intersection_with_partition_keys(changed)
        )


def _slices(materialization) -> dict:
    value = materialization.metadata.get(SLICES) if materialization else None
    return dict(value.value) if value is not None else {}


def with_automation(
    sources: Sequence[dg.AssetsDefinition],
    assets: Sequence[dg.AssetsDefinition],
    by_slice: dict[dg.AssetKey, dg.AssetKey],
    absent: set[dg.AssetKey],
) -> list[dg.AssetsDefinition]:
    """The same assets with their automation conditions: sources monthly, the rest on change;
    an asset of `by_slice` (staged partitions -> the raw table they are sliced from) judges
    that raw table by its own slice. An asset the catalog does not feed (`absent`) has none:
    never built, it would otherwise be requested forever and drag what depends on it."""

    def condition(spec: dg.AssetSpec) -> dg.AutomationCondition | None:
        if spec.key in absent:
            return None
        raw = by_slice.get(spec.key)
        if raw is None:
            return OUT_OF_DATE
        others = INPUTS_CHANGED.ignore(dg.AssetSelection.assets(raw))
        return out_of_date(others | SliceChanged(raw))

    return [
        *dg.map_asset_specs(
            lambda s: s.replace_attributes(automation_condition=OBSERVE_MONTHLY), sources
        ),
        *dg.map_asset_specs(
            lambda s: s.replace_attributes(automation_condition=condition(s)), assets
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
