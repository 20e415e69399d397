"""Launching a stage through the instance's run coordinator instead of in this process.

A run created here carries the code location's origin, like a run started from the UI: the
UI can re-execute it, a queued run coordinator applies its limits, and the job's executor
(multiprocess, or celery in the deployment profile) runs its steps. `pedw run --launch`
uses it; the deployment profile (deploy/dagster.yaml) makes it the default.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.selector import JobSubsetSelector
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget

from pedw.settings import PROJECT_ROOT

LOCATION = "pedw"
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


DAEMON_SILENCE_SECONDS = 120


class DaemonMissingError(RuntimeError):
    """Runs would be queued for a daemon that is not running."""


def require_daemon(instance: dg.DagsterInstance) -> None:
    """Queued runs start only when a dagster-daemon serves the instance: refuse to queue runs
    that would wait forever."""
    if type(instance.run_coordinator).__name__ != "QueuedRunCoordinator":
        return
    beats = instance.get_daemon_heartbeats().values()
    newest = max((beat.timestamp for beat in beats), default=0.0)
    if time.time() - newest > DAEMON_SILENCE_SECONDS:
        raise DaemonMissingError(
            "runs would be queued but no dagster-daemon serves this instance; start one "
            "(`dagster-daemon run -w deploy/workspace.yaml`, or `pedw ui` locally) or run "
            "without --launch"
        )


@dataclass
class LaunchedRun:
    """What a launched run did, in the shape `pedw run` reads from an in-process result."""

    run_id: str
    success: bool
    all_events: list[dg.DagsterEvent]

    def get_asset_materialization_events(self) -> list[dg.DagsterEvent]:
        return [e for e in self.all_events if e.is_step_materialization]

    def get_asset_check_evaluations(self) -> list:
        return [
            e.event_specific_data
            for e in self.all_events
            if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ]


class Launcher:
    """Submits stage runs to the instance through the code location, and waits for them."""

    def __init__(self, instance: dg.DagsterInstance, workspace: WorkspaceProcessContext):
        require_daemon(instance)
        self.instance = instance
        self.workspace = workspace

    def run_all(
        self,
        job_name: str,
        selection: Sequence[dg.AssetKey],
        tags_per_run: Sequence[dict[str, str]],
        run_config: dict,
        poll_seconds: float = 1.0,
    ) -> LaunchedRun:
        """One run per element of `tags_per_run` (e.g. a range of partitions each), all
        submitted at once so the queue and the workers run them side by side; their events
        are returned together."""
        run_ids = [self._submit(job_name, selection, tags, run_config) for tags in tags_per_run]
        statuses = {}
        while len(statuses) < len(run_ids):
            for run_id in run_ids:
                status = self.instance.get_run_by_id(run_id).status
                if status in FINISHED:
                    statuses[run_id] = status
            time.sleep(poll_seconds)
        events = [
            entry.dagster_event
            for run_id in run_ids
            for entry in self.instance.all_logs(run_id)
            if entry.dagster_event is not None
        ]
        success = all(s == dg.DagsterRunStatus.SUCCESS for s in statuses.values())
        return LaunchedRun(",".join(run_ids), success, events)

    def _submit(
        self,
        job_name: str,
        selection: Sequence[dg.AssetKey],
        tags: dict[str, str],
        run_config: dict,
    ) -> str:
        request = self.workspace.create_request_context()
        location = request.get_code_location(LOCATION)
        repository = next(iter(location.get_repositories().values()))
        remote_job = location.get_job(
            JobSubsetSelector(
                location_name=LOCATION,
                repository_name=repository.name,
                job_name=job_name,
                op_selection=None,
                asset_selection=selection,
            )
        )
        plan = location.get_execution_plan(
            remote_job, run_config, step_keys_to_execute=None, known_state=None,
            instance=self.instance,
        )  # fmt: skip
        run = self.instance.create_run(
            job_name=job_name,
            run_id=None,
            run_config=run_config,
            resolved_op_selection=remote_job.resolved_op_selection,
            step_keys_to_execute=plan.execution_plan_snapshot.step_keys_to_execute,
            op_selection=None,
            status=None,
            root_run_id=None,
            parent_run_id=None,
            tags={**remote_job.tags, **tags},
            job_snapshot=remote_job.job_snapshot,
            execution_plan_snapshot=plan.execution_plan_snapshot,
            parent_job_snapshot=remote_job.parent_job_snapshot,
            remote_job_origin=remote_job.get_remote_origin(),
            job_code_origin=remote_job.get_python_origin(),
            asset_selection=frozenset(selection),
            asset_check_selection=None,
            asset_graph=repository.asset_graph,
        )
        self.instance.submit_run(run.run_id, request)
        return run.run_id


@contextmanager
def launcher(instance: dg.DagsterInstance) -> Iterator[Launcher]:
    """A launcher over the project's code location (a code server process while open)."""
    target = ModuleTarget(
        module_name="pipelines.definitions",
        attribute="defs",
        working_directory=str(PROJECT_ROOT),
        location_name=LOCATION,
    )
    with WorkspaceProcessContext(instance, target) as workspace:
        yield Launcher(instance, workspace)
