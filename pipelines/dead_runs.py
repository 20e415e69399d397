"""Dagster runs a killed or stopped `pedw run` left unfinished: found by their tags and ended,
their concurrency slots freed (an office's run and the centre's alike)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg

from pedw.run_lock import exclusive_run
from pedw.settings import Settings

# Tag of a run executed inside the `pedw run` process (its pid): a killed one is recoverable.
IN_PROCESS = "pedw/in_process_pid"


def _unfinished_runs(instance: dg.DagsterInstance, tags: dict[str, str]) -> list[dg.DagsterRun]:
    return instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING], tags=tags
        )
    )


def _end_run(instance: dg.DagsterInstance, run: dg.DagsterRun, why: str, failed: bool) -> None:
    """Mark `run` failed or canceled and free its concurrency slots (a killed run keeps them
    otherwise, and every later run that needs the pool waits forever)."""
    (instance.report_run_failed if failed else instance.report_run_canceled)(run, why)
    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def cancel_own_runs(instance: dg.DagsterInstance, signal_name: str) -> None:
    """Runs this process executed that an interrupt left unfinished: marked canceled."""
    for run in _unfinished_runs(instance, {IN_PROCESS: str(os.getpid())}):
        _end_run(instance, run, f"pedw run stopped by {signal_name}", failed=False)


def recover_dead_runs(instance: dg.DagsterInstance, settings: Settings) -> list[str]:
    """Runs of this warehouse that a killed `pedw run` left STARTED: marked failed."""
    recovered = []
    for run in _unfinished_runs(instance, {"pedw/warehouse": str(settings.warehouse_path)}):
        pid = run.tags.get(IN_PROCESS)
        if pid is None or _alive(int(pid)):
            continue  # launched runs belong to the daemon, which monitors them
        _end_run(instance, run, "the pedw run that executed it was killed", failed=True)
        recovered.append(run.run_id)
    return recovered


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def held_warehouse(
    instance: dg.DagsterInstance,
    settings: Settings,
    progress: Callable[[str], None],
    wait: bool = False,
) -> Iterator[None]:
    """Hold `settings`' warehouse for this run (pedw.run_lock) after cleaning up what a killed
    run of it left: its files and its Dagster runs (an office's run and the centre's)."""
    with exclusive_run(settings, wait=wait) as leftovers:
        recovered = recover_dead_runs(instance, settings)
        if leftovers or recovered:
            progress(f"cleaned up after a killed run: {len(recovered)} dead runs marked "
                     f"failed, {len(leftovers)} leftover files removed")  # fmt: skip
        yield
