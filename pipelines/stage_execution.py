"""Executing one stage of `pedw run` in its own process tree: independent steps side by side.

Dagster's in-process execution runs a stage's steps one after another, so the enterprise
models take the sum of their times. Where a stage is marked `parallel` (pipelines/jobs.py),
more than one step process is allowed (`step_processes`) and the instance is persistent (the
normal `pedw run`), the stage runs with the multiprocess executor instead: each step in a
process forked from a server that has already imported pedw, Dagster and the model
libraries, so a step pays no start-up of its own.
Step processes die with the run that started them (pedw.child_process.die_with_parent,
called by the `pedw` resource): a killed `pedw run` leaves no step writing behind it.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from multiprocessing import forkserver
from pathlib import Path

import dagster as dg

from pedw.child_process import available_cores
from pedw.settings import PROJECT_ROOT, Settings

# Imported once by the fork server, so no step imports them again: the definitions, and the
# libraries the model, disclosure and statistics steps import when they run.
PRELOADED = [
    "pipelines.definitions",
    "pedw.models.national",
    "pedw.models.sector",
    "pedw.models.enterprise",
    "pedw.models.multilevel",
    "pedw.models.score",
    "pedw.models.resilience",
    "pedw.disclosure.report",
    "pedw.quality.validation",
    "great_expectations",
    "great_expectations.expectations",
]


def step_processes(settings: Settings) -> int:
    """How many steps of a stage run at once: the setting, else one per two available cores.

    A model step already keeps more than one core busy (1.1 measured for the SCORE model:
    DuckDB's threads, BLAS), and two at once slowed each by 20-50%. On 2 cores
    (bench/pipeline.py, 50k firms) two steps at once made the models stage 2 s faster and the
    national stage 1.4 s slower, and doubled peak memory: there, one at a time."""
    return max(1, settings.step_processes or available_cores() // 2)


def start_step_server(log: Path) -> None:
    """Start the fork server now: it imports PRELOADED (about 4 s) while the first stages
    run, instead of delaying the first parallel step. The multiprocess executor uses it.

    The server and the step processes it forks write their terminal output to `log`: what a
    step prints is in its run's compute logs, and Dagster's own line per step process would
    fill the terminal whatever `--log-level` says."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOADED)
    log.parent.mkdir(parents=True, exist_ok=True)
    saved = [os.dup(1), os.dup(2)]
    with open(log, "ab") as output:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
        try:
            forkserver.ensure_running()  # inherits this process's fds 1 and 2 as they are now
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def resource_config(settings: Settings) -> dict:
    """The run's settings as the `pedw` resource's run config, whole: a step process (forked
    from a server started for an earlier run, or on another machine) reads them from the run,
    not from an environment that may name another warehouse."""
    return {"pedw": {"config": settings.to_config()}}


def execute_stage(
    definitions: dg.Definitions,
    job_name: str,
    instance: dg.DagsterInstance,
    selection: list[dg.AssetKey],
    tags: dict[str, str],
    run_config: dict,
    processes: int,
):
    """Run `selection` of the stage job `job_name` on `instance`: its steps on `processes`
    cores when more than one can run at once, else in this process."""
    if processes > 1 and len(selection) > 1 and instance.is_persistent:
        job = dg.build_reconstructable_job(
            "pipelines.definitions",
            "stage_job",
            reconstructable_args=(job_name,),
            reconstructor_working_directory=str(PROJECT_ROOT),
        )
        execution = {"config": {"max_concurrent": processes,
                                "start_method": {"forkserver": {"preload_modules": PRELOADED}}}}  # fmt: skip
        return dg.execute_job(
            job,
            instance,
            run_config={**run_config, "execution": execution},
            tags=tags,
            asset_selection=selection,
            raise_on_error=False,
        )
    return definitions.resolve_job_def(job_name).execute_in_process(
        instance=instance,
        asset_selection=selection,
        tags=tags,
        run_config=run_config,
        raise_on_error=False,
    )


def failure_reason(error) -> str:
    """The cause of a step failure in one line: the innermost exception's class and message
    (Dagster wraps it in "Error occurred while executing op ...")."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    message = error.message.strip().splitlines()
    return message[0] if message else error.cls_name or "unknown error"
