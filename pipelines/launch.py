"""Launching a stage through the Dagster webserver instead of in this process.

A run submitted here through the webserver's GraphQL API (the public `DagsterGraphQLClient`)
is created by the code location, like a run started from the UI: the UI can re-execute it,
a queued run coordinator applies its limits, and the job's executor (multiprocess, or celery
in the deployment profile) runs its steps. `pedw run --launch` uses it; the deployment
profile (deploy/dagster.yaml) makes it the default.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg
from dagster_graphql import DagsterGraphQLClient

from pedw.settings import Settings

LOCATION = "pedw"
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


DAEMON_SILENCE_SECONDS = 120


class LaunchError(RuntimeError):
    """Runs cannot be launched: a process they need is not running."""


class DaemonMissingError(LaunchError):
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
    """Submits stage runs to the webserver's code location, and waits for them."""

    def __init__(self, instance: dg.DagsterInstance, client: DagsterGraphQLClient):
        require_daemon(instance)
        self.instance = instance
        self.client = client

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
        run_ids = [
            self.client.submit_job_execution(
                job_name,
                repository_location_name=LOCATION,
                run_config=run_config,
                tags=tags,
                asset_selection=list(selection),
            )
            for tags in tags_per_run
        ]
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


class WebserverMissingError(LaunchError):
    """Runs are to be launched but no Dagster webserver answers at the configured address."""


@contextmanager
def launcher(instance: dg.DagsterInstance, settings: Settings) -> Iterator[Launcher]:
    """A launcher over the webserver at `settings.webserver` (host:port, PEDW_WEBSERVER)."""
    try:
        with urllib.request.urlopen(f"http://{settings.webserver}/server_info", timeout=10):
            pass
    except (OSError, ValueError) as error:
        raise WebserverMissingError(
            f"no Dagster webserver answers at {settings.webserver} ({error}); start one "
            "(`dagster-webserver -w deploy/workspace.yaml`, or `pedw ui`) and set "
            "PEDW_WEBSERVER=host:port, or run without --launch"
        ) from error
    host, _, port = settings.webserver.rpartition(":")
    yield Launcher(instance, DagsterGraphQLClient(host, port_number=int(port)))
