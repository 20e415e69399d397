"""The centre's code location: the definitions for a catalog of office packages
(`format: pedw_package`), what makes them out of date, and `pedw run` on such a catalog.

Each package folder the catalog's paths find is a partition of federated/office_package
(registered by the office_packages sensor, or by `pedw run`). Automation requests an office's
partition when it was never loaded or its folder changed (any byte); the pooled models when an
office was loaded since they were built, added or dropped, or the round-two answers changed
(on the tick after the office's load: automation does not request an unpartitioned asset in
the tick a partition of its input is requested); the central briefs and the central warehouse
with the pool. The conditions compare what is on disk with what the last materialization
recorded, so they hold no state: `pedw run` evaluates them afresh
(dg.evaluate_automation_conditions) and the automation sensor evaluates the same ones.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dagster as dg

from assets.federated import (
    CENTRE_ASSETS,
    INPUTS_DIGEST,
    PACKAGE_DIGEST,
    central_briefs,
    central_warehouse,
    federated_offices,
    office_package,
    pooled_models,
)
from assets.resources import PedwResource
from pedw.catalog import CatalogError, load_catalog
from pedw.federated.central_store import (
    catalog_answers,
    files_digest,
    folder_digest,
    inputs_digest,
    package_folders,
)
from pedw.federated.package import PackageError
from pedw.settings import Settings
from pipelines.automation import RecordCondition, automation_sensor, latest_record
from pipelines.dead_runs import IN_PROCESS, held_warehouse
from pipelines.jobs import settings_tags
from pipelines.stage_execution import failure_reason, resource_config

AC = dg.AutomationCondition
OFFICES_JOB, MODELS_JOB = "centre_offices", "centre_models"


def _folders(catalog_path: str) -> dict:
    try:
        return package_folders(load_catalog(catalog_path))
    except (CatalogError, PackageError):
        return {}  # the asset reports it when it runs


class PackageChanged(RecordCondition):
    """Office partitions whose package folder is not, byte for byte, the one last loaded."""

    condition_name = "package_changed"
    explanation = "its package folder changed since it was loaded"

    def __init__(self, catalog_path: str):
        self.catalog_path = catalog_path

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        instance = context.asset_graph_view.instance
        folders = _folders(self.catalog_path)
        changed = set()
        for key in context.candidate_subset.expensively_compute_partition_keys():
            if key not in folders:
                continue
            record = latest_record(instance, context.key, key)
            loaded = record.asset_materialization.metadata.get(PACKAGE_DIGEST) if record else None
            if loaded is None or loaded.value != folder_digest(folders[key]):
                changed.add(key)
        return dg.AutomationResult(
            context, context.candidate_subset.compute_intersection_with_partition_keys(changed)
        )


class BuiltBeforeInputs(RecordCondition):
    """An unpartitioned asset built before the latest materialization of one of `inputs`
    (any partition): an office loaded since the pool, a pool since the warehouse."""

    condition_name = "built_before_inputs"
    explanation = "an input was built after it"

    def __init__(self, inputs: Sequence[dg.AssetKey]):
        self.inputs = list(inputs)

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        instance = context.asset_graph_view.instance
        mine = latest_record(instance, context.key)
        newer = mine is not None and any(
            (record := latest_record(instance, key)) is not None
            and record.storage_id > mine.storage_id
            for key in self.inputs
        )
        return dg.AutomationResult(
            context, context.candidate_subset if newer else context.get_empty_subset()
        )


class OfficesOrAnswersChanged(RecordCondition):
    """The pool, when an office was added or dropped or the round-two answers changed."""

    condition_name = "offices_or_answers_changed"
    explanation = "an office was added or dropped, or the round-two answers changed"

    def __init__(self, catalog_path: str):
        self.catalog_path = catalog_path

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        instance = context.asset_graph_view.instance
        record = latest_record(instance, context.key)
        built = record.asset_materialization.metadata.get(INPUTS_DIGEST) if record else None
        try:
            answers = files_digest(catalog_answers(load_catalog(self.catalog_path)))
        except CatalogError:
            answers = ""
        offices = instance.get_dynamic_partitions(federated_offices.name)
        changed = built is not None and built.value != inputs_digest(offices, answers)
        return dg.AutomationResult(
            context, context.candidate_subset if changed else context.get_empty_subset()
        )


def centre_conditions(catalog_path: str) -> dict[dg.AssetKey, dg.AutomationCondition]:
    """The automation condition of each centre asset (stateless: see the module text)."""
    quiet = ~AC.in_progress() & ~AC.any_deps_in_progress()
    never = AC.missing().with_label("never materialized")
    return {
        office_package.key: (
            AC.missing().with_label("never loaded") | PackageChanged(catalog_path)
        ) & ~AC.in_progress(),
        pooled_models.key: (
            never | BuiltBeforeInputs([office_package.key]) | OfficesOrAnswersChanged(catalog_path)
        ) & quiet,
        central_briefs.key: (
            never
            | AC.any_deps_match(AC.will_be_requested()).with_label("the pool is requested")
            | BuiltBeforeInputs([pooled_models.key])
        ) & quiet,
        central_warehouse.key: (
            never
            | AC.any_deps_match(AC.will_be_requested()).with_label("the pool or briefs are requested")
            | BuiltBeforeInputs([pooled_models.key, central_briefs.key])
        ) & quiet,
    }  # fmt: skip


@dg.sensor(
    minimum_interval_seconds=300,
    description="Registers each package folder the centre's catalog finds as an office "
    "partition and drops those no longer found (automation then loads and pools them).",
)
def office_packages(context: dg.SensorEvaluationContext, pedw: PedwResource):
    found = set(package_folders(pedw.load_catalog()))
    known = set(context.instance.get_dynamic_partitions(federated_offices.name))
    new, gone = sorted(found - known), sorted(known - found)
    if not new and not gone:
        return dg.SkipReason(f"{len(found)} office packages, none new or gone")
    return dg.SensorResult(
        dynamic_partitions_requests=[
            *([federated_offices.build_add_request(new)] if new else []),
            *([federated_offices.build_delete_request(gone)] if gone else []),
        ]
    )


def build_centre_definitions(settings: Settings) -> dg.Definitions:
    """The centre's definitions for `settings` (a catalog of pedw_package entries)."""
    conditions = centre_conditions(str(settings.catalog_path))
    tags = settings_tags(settings)
    return dg.Definitions(
        assets=dg.map_asset_specs(
            lambda s: s.replace_attributes(automation_condition=conditions[s.key]), CENTRE_ASSETS
        ),
        jobs=[
            dg.define_asset_job(
                OFFICES_JOB,
                selection=[office_package.key],
                partitions_def=federated_offices,
                tags=tags,
                description="The centre: load office packages.",
            ),
            dg.define_asset_job(
                MODELS_JOB,
                selection=[pooled_models.key, central_briefs.key, central_warehouse.key],
                tags=tags,
                description="The centre: pool, brief and publish.",
            ),
        ],
        sensors=[
            automation_sensor(dg.AssetSelection.all(), running=settings.automation, tags=tags),
            office_packages,
        ],
        resources={"pedw": PedwResource(**settings.to_config())},
    )


@dataclass
class CentreSummary:
    success: bool = True
    offices: list[str] = field(default_factory=list)  # office partitions found
    loaded: list[str] = field(default_factory=list)  # loaded in this run
    dropped: list[str] = field(default_factory=list)  # partitions whose folder is gone
    models: list[str] = field(default_factory=list)  # central assets built in this run
    failures: list[str] = field(default_factory=list)  # one line each
    run_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0


def sync_offices(instance: dg.DagsterInstance, settings: Settings) -> tuple[list[str], list[str]]:
    """Register the package folders found as office partitions and drop the ones gone (what
    the office_packages sensor does on a deployment). Returns (found, dropped)."""
    found = sorted(package_folders(load_catalog(settings.catalog_path)))
    known = set(instance.get_dynamic_partitions(federated_offices.name))
    instance.add_dynamic_partitions(federated_offices.name, [k for k in found if k not in known])
    gone = sorted(known - set(found))
    for key in gone:
        instance.delete_dynamic_partition(federated_offices.name, key)
    return found, gone


def requested(
    definitions: dg.Definitions, instance: dg.DagsterInstance
) -> tuple[list[str], list[dg.AssetKey]]:
    """What automation requests now: office partitions, and the unpartitioned central assets."""
    result = dg.evaluate_automation_conditions(definitions, instance)
    offices = sorted(result.get_requested_partitions(office_package.key))
    central = (pooled_models.key, central_briefs.key, central_warehouse.key)
    models = [k for k in central if result.get_num_requested(k)]
    return offices, models


def run_centre(
    settings: Settings,
    instance: dg.DagsterInstance,
    progress: Callable[[str], None] = print,
    log_level: str = "WARNING",
    wait: bool = False,
) -> CentreSummary:
    """`pedw run` on a centre's catalog: register the office partitions, then build what
    automation requests: the offices' loads one run each, then (evaluated again, and only
    when every office loaded) the pooled models and the central warehouse. A refused package
    fails its run with one line and the central warehouse stays as it was. One run per
    central warehouse at a time, as for an office's (WarehouseBusyError, or `wait`)."""
    started = time.perf_counter()
    summary = CentreSummary()
    with held_warehouse(instance, settings, progress, wait=wait):
        _run_centre(summary, settings, instance, progress, log_level)
    summary.seconds = time.perf_counter() - started
    return summary


def _run_centre(
    summary: CentreSummary,
    settings: Settings,
    instance: dg.DagsterInstance,
    progress: Callable[[str], None],
    log_level: str,
) -> None:
    try:
        summary.offices, summary.dropped = sync_offices(instance, settings)
    except PackageError as error:
        summary.success, summary.failures = False, [str(error)]
        return
    definitions = build_centre_definitions(settings)
    offices, _ = requested(definitions, instance)
    progress(f"centre: {len(summary.offices)} office packages; out of date: "
             f"{', '.join(offices) or 'no office'}")  # fmt: skip
    run_config = {
        "loggers": {"console": {"config": {"log_level": log_level}}},
        "resources": resource_config(settings),
    }
    tags = {IN_PROCESS: str(os.getpid())}  # a killed run's are recovered by the next
    for key in offices:
        result = definitions.resolve_job_def(OFFICES_JOB).execute_in_process(
            instance=instance, partition_key=key, run_config=run_config, tags=tags,
            raise_on_error=False,
        )  # fmt: skip
        summary.run_ids.append(result.run_id)
        if result.success:
            summary.loaded.append(key)
        else:
            summary.failures += _failures(result)
    if summary.failures:
        summary.success = False
        progress("centre: an office package was refused: nothing pooled, the central "
                 "warehouse is left as it was")  # fmt: skip
        return
    # Evaluated again: an office loaded now makes the pool out of date (automation cannot
    # request an unpartitioned asset in the same tick as a partition of its input).
    _, models = requested(definitions, instance)
    if models:
        result = definitions.resolve_job_def(MODELS_JOB).execute_in_process(
            instance=instance, asset_selection=models, run_config=run_config, tags=tags,
            raise_on_error=False,
        )  # fmt: skip
        summary.run_ids.append(result.run_id)
        summary.models = [k.to_user_string() for k in models]
        if not result.success:
            summary.success, summary.failures = False, _failures(result)


def _failures(result) -> list[str]:
    return [
        f"{event.step_key}: {failure_reason(event.event_specific_data.error)}"
        for event in result.all_events
        if event.is_step_failure
    ]
