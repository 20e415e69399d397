"""`pedw run`: materialize what Dagster reports out of date for a catalog, every partition
included, stage by stage (pipelines/jobs.py), and publish.

Each stage runs as its named job, tagged with the catalog, the warehouse and the
publication id, after the sources have been observed; what Dagster calls fresh is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

import dagster as dg

from assets.briefs import BRIEF_ASSETS
from assets.enterprise import enterprise_countries
from assets.metadata import TABLE_STATUS
from pedw.briefs.published import briefed_economies
from pedw.catalog import Catalog, load_catalog
from pedw.clean_run import forget_clean_run, record_clean_run, run_inputs
from pedw.output_check import OUTPUT_MISSING, declared_outputs
from pedw.publication_status import OUT_OF_SCOPE
from pedw.raw import raw_partitions
from pedw.run_summary import RunSummary
from pedw.settings import Settings
from pedw.stop_signals import StopSignals
from pedw.store import Store
from pipelines.dead_runs import IN_PROCESS, cancel_own_runs, held_warehouse
from pipelines.definitions import ALL_ASSETS, SOURCE_ASSETS, absent_for, build_definitions
from pipelines.jobs import (
    OBSERVE_JOB,
    PUBLICATION,
    WAREHOUSE,
    Stage,
    downstream_of,
    settings_tags,
    stages,
)
from pipelines.stage_execution import (
    execute_stage,
    failure_reason,
    resource_config,
    start_step_server,
    step_processes,
)
from pipelines.staleness import Staleness, declared

if TYPE_CHECKING:  # the launcher's GraphQL client is imported only when launching
    from pipelines.launch import Launcher


def run_catalog(
    settings: Settings,
    instance: dg.DagsterInstance,
    progress: Callable[[str], None] = print,
    log_level: str = "WARNING",
    briefs: bool = True,
    full: bool = False,
    launch: bool | None = None,
    wait: bool = False,
) -> RunSummary:
    """Materialize every asset for `settings` on `instance` that Dagster reports out of date.

    The sources are observed first (file digests; URL sources asked for a new release), so
    Dagster sees changed inputs. An asset that is fresh, whose output exists and whose
    blocking checks passed is left alone; `full=True` rebuilds everything. A failed asset,
    or a failed blocking check, stops only what depends on it; the warehouse is published
    only when nothing it depends on failed.

    `launch` submits the stages to the instance's run coordinator through the code location
    (re-executable from the UI; a daemon and celery workers run them in the deployment
    profile) instead of running them in this process; by default it does so when steps run
    on Celery workers (PEDW_EXECUTOR=celery, the deployment profile). One run per warehouse at a time: another raises
    WarehouseBusyError, or waits with `wait`; a run cleans up after a killed one first.
    """
    launch = settings.executor == "celery" if launch is None else launch
    launched = None
    with ExitStack() as stack:
        if launch:  # refused before anything runs when the daemon or the webserver is missing
            from pipelines.launch import launcher

            launched = stack.enter_context(launcher(instance, settings))
        stack.enter_context(held_warehouse(instance, settings, progress, wait=wait))
        forget_clean_run(settings)
        catalog = load_catalog(settings.catalog_path)
        inputs = run_inputs(settings, catalog)
        summary = RunSummary(success=True, publication_id=uuid.uuid4().hex[:12])
        stop = stack.enter_context(StopSignals())
        with contextlib.suppress(KeyboardInterrupt):  # asked to stop outside a step
            _run_stages(summary, stop, settings, catalog, instance, progress, log_level, briefs,
                        full, launched)  # fmt: skip
        if stop.received:
            summary.interrupted, summary.success = stop.name, False
            summary.published = False
            cancel_own_runs(instance, stop.name)
        if summary.success and briefs:  # what `pedw run` builds, all of it current
            record_clean_run(settings, inputs, summary.publication_id)
        return summary


def _run_stages(
    summary: RunSummary,
    stop: StopSignals,
    settings: Settings,
    catalog: Catalog,
    instance: dg.DagsterInstance,
    progress: Callable[[str], None],
    log_level: str,
    briefs: bool,
    full: bool,
    launched: Launcher | None,
) -> None:
    """The stages of `run_catalog` into `summary`, each in this process or
    through `launched` (a pipelines.launch.Launcher); none starts once `stop` has received a
    signal."""
    started = time.perf_counter()
    walk = _StageWalk(summary, stop, settings, instance, progress, full, launched, log_level,
                      briefs, absent_for(catalog))  # fmt: skip
    walk.observe_sources()
    plan = stages(ALL_ASSETS)
    if (
        instance.is_persistent
        and step_processes(settings) > 1
        and any(stage.parallel and stage.keys - walk.absent for stage in plan)
    ):
        start_step_server(settings.dagster_storage / "step_processes.log")
    for number, stage in enumerate(plan, start=1):
        summary.stopped_at = f"[{number}/{len(plan)}] {stage.label}"
        if stop.received:
            break
        walk.run_stage(stage, summary.stopped_at)
        if stop.received:
            break
    if walk.staleness is None and not stop.received:
        # A --full run decides nothing, but the evaluation cursor must take in what it built:
        # a run finding no evaluation on record after a history rebuilds everything again
        # (the first run of a warehouse with --full made the next run a second full one).
        Staleness(walk.definitions, instance, settings).evaluate()
    summary.not_materialized = sorted(
        k.to_user_string()
        for k in walk.stopped | downstream_of(walk.stopped, ALL_ASSETS)
        if not (k == WAREHOUSE and summary.published)
    )
    summary.seconds = time.perf_counter() - started


class _StageWalk:
    """One `pedw run`'s way through the stages: what each stage selects, which partitions,
    what Dagster finds out of date, the run, and what it left out."""

    def __init__(self, summary: RunSummary, stop: StopSignals, settings: Settings,
                 instance: dg.DagsterInstance,
                 progress: Callable[[str], None], full: bool, launched: Launcher | None,
                 log_level: str, briefs: bool, absent: set[dg.AssetKey]):  # fmt: skip
        self.summary, self.stop, self.settings, self.instance = summary, stop, settings, instance
        self.progress, self.full, self.launched, self.briefs = progress, full, launched, briefs
        self.definitions = build_definitions(settings, briefs=briefs)
        self.run_config = {
            "loggers": {"console": {"config": {"log_level": log_level}}},
            "resources": resource_config(settings),
        }
        self.tags = {**settings_tags(settings), "pedw/publication": summary.publication_id}
        self.sources = [
            a.key for a in SOURCE_ASSETS if dg.AssetKey(["raw", a.key.path[-1]]) not in absent
        ]
        self.raw_loads = {dg.AssetKey(["raw", key.path[-1]]) for key in self.sources}
        self.absent = absent | (set() if briefs else {a.key for a in BRIEF_ASSETS})
        self.out_of_scope = set(self.absent)  # not in the catalog, or not requested
        self.staleness = None if full else Staleness(self.definitions, instance, settings)
        self.stopped: set[dg.AssetKey] = set()
        self.built_since_evaluation = True  # an evaluation costs about a second: after a run

    def observe_sources(self) -> None:
        """Observe the catalog's sources, so Dagster sees changed inputs."""
        if self.staleness is not None:
            # A tick before the sources are observed takes in what happened since the last one
            # (e.g. a killed run's materializations), so no new source version shares an
            # evaluation interval with an update of what it feeds (the update would mask it).
            self.staleness.evaluate()
        observed = self.definitions.resolve_job_def(OBSERVE_JOB).execute_in_process(
            instance=self.instance, asset_selection=self.sources, tags=self.tags,
            run_config=self.run_config, raise_on_error=False,
        )  # fmt: skip
        self.summary.run_ids.append(observed.run_id)

    def run_stage(self, stage: Stage, step: str) -> None:
        selection = self._selection(stage, step)
        if not selection:
            return
        wanted, ordered, label = None, [], step
        if stage.partitions_def is not None:
            wanted = self._partitions(stage)
            if not wanted:
                self.progress(f"{step}: no partitions, skipped")
                self.absent |= set(stage.keys)
                return
            ordered = self.instance.get_dynamic_partitions(stage.partitions_def.name)
            step = f"{label} ({len(wanted)} countries)"
        if self.staleness is not None:
            selection = self._out_of_date(selection, wanted)
            if not selection:
                self.progress(f"{step}: unchanged, nothing to run")
                return
            if wanted is not None:  # only the partitions Dagster finds out of date
                needed = set().union(*(self.staleness.partitions(k, wanted) for k in selection))
                ordered = covering_span(ordered, needed)
                if len(needed) < len(wanted):
                    step = f"{label} ({len(needed)} of {len(wanted)} countries out of date)"
        skipped = len(stage.keys) - len(selection)
        self.progress(f"{step}: {len(selection)} assets"
                      + (f", {skipped} left out" if skipped else "") + " ...")  # fmt: skip
        stage_started = time.perf_counter()
        result = self._execute(stage, selection, ordered)
        self.summary.run_ids += result.run_id.split(",")
        self.built_since_evaluation = True
        self.stopped |= _record(result, selection, self.summary)
        self.summary.published = self.summary.published or (
            WAREHOUSE in selection and WAREHOUSE not in self.stopped
        )
        if self.stop.received:
            return
        state = "done" if result.success else "FAILED (what depends on it is left out)"
        self.progress(f"{step}: {state} in {time.perf_counter() - stage_started:.1f}s")

    def _selection(self, stage: Stage, step: str) -> list[dg.AssetKey]:
        """The stage's assets that can run: none blocked by a failure upstream, none absent.

        The publication is never left out for a failure upstream: it publishes what this run
        could build beside what earlier runs built, and says which is which. Unless no source
        could be read at all (every load failed, or refused every file): then there is
        nothing new to publish."""
        blocked = self.stopped | downstream_of(self.stopped, ALL_ASSETS)
        row_counts = self.summary.row_counts
        unread = {key for key in self.raw_loads
                  if key in self.stopped or row_counts.get(key.to_user_string()) == 0}  # fmt: skip
        nothing_read = bool(self.raw_loads) and unread == self.raw_loads
        if not nothing_read:
            blocked -= PUBLICATION
        selection = sorted(
            stage.keys - blocked - (self.absent - PUBLICATION), key=lambda k: k.to_user_string()
        )
        if not selection:
            reason = (
                "no source of the catalog could be read: nothing new to publish"
                if stage.keys & PUBLICATION and nothing_read
                else "upstream failed or blocked"
                if stage.keys & blocked
                else "not requested"
                if not self.briefs and stage.job == "country_briefs"
                else "not in this catalog"
            )
            self.progress(f"{step}: skipped ({reason})")
        return selection

    def _partitions(self, stage: Stage) -> list[str]:
        """The stage's partitions, registered with the instance: the countries the raw load
        found (it ran in an earlier stage), or the economies that get a brief."""
        store = Store(self.settings.store_dir)
        if stage.partitions_def.name == enterprise_countries.name:
            wanted = self.summary.partitions = raw_partitions(store)
        else:  # one brief per economy with enough national data (pedw.briefs.eligibility)
            wanted = self.summary.brief_countries = briefed_economies(store)
        name = stage.partitions_def.name
        existing = set(self.instance.get_dynamic_partitions(name))
        new = [k for k in wanted if k not in existing]
        self.instance.add_dynamic_partitions(name, new)
        self.built_since_evaluation = self.built_since_evaluation or bool(new)
        return wanted

    def _out_of_date(
        self, selection: list[dg.AssetKey], wanted: list[str] | None
    ) -> list[dg.AssetKey]:
        """What Dagster's automation (and pedw's store) finds out of date, with why, into the
        summary's rebuilt and unchanged."""
        if self.built_since_evaluation:
            self.staleness.evaluate()  # what the observation and earlier stages built is seen
            self.built_since_evaluation = False
        reasons = {key: self.staleness.reasons(key, wanted) for key in selection}
        # What depends on an asset of this stage that runs comes after it in the same run
        # (an output rebuilt only because it was missing keeps its data version).
        stale = {key for key, why in reasons.items() if why and why[0] != OUTPUT_MISSING}
        for key in downstream_of(stale, ALL_ASSETS) & set(selection):
            if not reasons[key]:
                reasons[key] = ["an input is rebuilt in this run"]
        if WAREHOUSE in reasons and not reasons[WAREHOUSE] and self.stopped:
            reasons[WAREHOUSE] = ["publishing what this run built"]
        self.summary.unchanged += [k.to_user_string() for k, why in reasons.items() if not why]
        self.summary.rebuilt.update(
            {k.to_user_string(): why[0] for k, why in reasons.items() if why}
        )
        return [key for key in selection if reasons[key]]

    def _execute(self, stage: Stage, selection: list[dg.AssetKey], ordered: list[str]):
        """One stage's run (launched: one per range of consecutive partitions)."""
        tags = dict(self.tags)
        if stage.job == "publish":
            tags[TABLE_STATUS] = json.dumps(table_status(
                self.definitions, self.summary, self.stopped, self.out_of_scope, self.full
            ))  # fmt: skip
        ranges = partition_ranges(ordered, LAUNCHED_RANGES if self.launched else 1)
        if self.launched is not None:
            per_run = [{**tags, **r} for r in ranges] if ranges else [tags]
            return self.launched.run_all(stage.job, selection, per_run, self.run_config)
        return execute_stage(
            self.definitions,
            stage.job,
            self.instance,
            selection,
            tags={**tags, **(ranges[0] if ranges else {}), IN_PROCESS: str(os.getpid())},
            run_config=self.run_config,
            processes=step_processes(self.settings) if stage.parallel else 1,
        )


def table_status(
    definitions: dg.Definitions,
    summary: RunSummary,
    stopped: set[dg.AssetKey],
    absent: set[dg.AssetKey],
    full: bool,
) -> list[dict]:
    """What became of each asset's tables in this run, for meta.table_status: rebuilt (fresh),
    left alone because nothing changed (current), or not built (left_out, with why; the
    publication calls its tables stale when an earlier run's are in the store, else absent)."""
    graph = definitions.resolve_asset_graph()
    failed, blocked = summary.failed_steps, summary.blocked_checks
    causes = {
        key for key in stopped if key.to_user_string() in blocked or "__".join(key.path) in failed
    }
    after = {cause: downstream_of({cause}, ALL_ASSETS) for cause in causes}
    rows = []
    for asset in ALL_ASSETS:
        key = asset.key
        if key == WAREHOUSE:
            continue
        name, step = key.to_user_string(), "__".join(key.path)
        if key in absent:
            state, why = "left_out", OUT_OF_SCOPE
        elif name in blocked:
            checks = ", ".join(blocked[name])
            state, why = (
                "fresh",
                f"built, but blocked (check {checks} failed): nothing is built on it",
            )
        elif step in failed:
            state, why = "left_out", f"failed: {failed[step]}"
        elif key in stopped or any(key in keys for keys in after.values()):
            inputs = sorted(c.to_user_string() for c, keys in after.items() if key in keys)
            state, why = "left_out", f"an input failed or was blocked ({', '.join(inputs)})"
        elif full or name in summary.rebuilt:
            state, why = "fresh", summary.rebuilt.get(name, "full rebuild")
        else:
            state, why = "current", "unchanged since its last run"
        for schema, table, part in declared_outputs(declared(graph, key)):
            if not part:  # a slice of a shared table is not the table's whole story
                rows.append({"table": f"{schema}.{table}", "asset": name, "state": state,
                             "reason": why})  # fmt: skip
    return rows


# Launched (deployment) runs split a partitioned stage into this many runs of consecutive
# partitions, so the queue and the Celery workers process them side by side.
LAUNCHED_RANGES = 8


def covering_span(ordered: list[str], needed: set[str]) -> list[str]:
    """The consecutive partitions of `ordered` from the first to the last one `needed` (one
    run covers a range of partitions)."""
    at = [i for i, key in enumerate(ordered) if key in needed]
    return ordered[at[0] : at[-1] + 1] if at else ordered


def partition_ranges(ordered: list[str], parts: int) -> list[dict[str, str]]:
    """Tags of up to `parts` runs covering `ordered` partitions in consecutive ranges (none
    for an unpartitioned stage)."""
    if not ordered:
        return []
    size = -(-len(ordered) // max(1, min(parts, len(ordered))))
    chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    return [
        {"dagster/asset_partition_range_start": c[0], "dagster/asset_partition_range_end": c[-1]}
        for c in chunks
    ]


def _record(result, selection: list[dg.AssetKey], summary: RunSummary) -> set[dg.AssetKey]:
    """Row counts, failures and blocked checks of one stage's run; returns what stopped."""
    materialized, stopped = set(), set()
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        materialized.add(materialization.asset_key)
        rows = materialization.metadata.get("dagster/row_count")
        if rows is not None and materialization.partition is None:
            summary.row_counts[materialization.asset_key.to_user_string()] = rows.value
        refused = materialization.metadata.get("refused_files")
        if refused is not None and refused.value:
            summary.refused += list(refused.value)
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            asset = evaluation.asset_key.to_user_string()
            summary.blocked_checks.setdefault(asset, []).append(evaluation.check_name)
            stopped.add(evaluation.asset_key)
    for event in result.all_events:
        if event.is_step_failure:
            reason = failure_reason(event.event_specific_data.error)
            if "DagsterAssetCheckFailedError" not in reason:  # already in `blocked`, by check
                summary.failed_steps[event.step_key] = reason
    stopped |= {key for key in selection if key not in materialized}
    if not result.success or summary.blocked_checks or summary.refused:
        summary.success = False
    return stopped
