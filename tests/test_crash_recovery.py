"""Kill a run, start another: one writer per warehouse, and nothing lost or left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from published_runs import (
    OPERATIONS_COUNTRIES,
    local_instance_env,
    publication_id,
    published,
    read_until,
    run_pedw,
    small_demo,
    start_pedw,
    wait_for_brief_files,
    wait_for_started,
    warehouse_instance,
)

from pedw.run_lock import remove_leftovers
from pedw.settings import PROJECT_ROOT, resolve_settings
from pipelines.run import run_catalog

pytestmark = pytest.mark.slow


def child_processes_alive(settings, seconds: float = 10) -> list[str]:
    """Brief workers, step processes and fork servers of pedw runs on this warehouse (their
    environment names its Dagster storage, so other pedw processes are not counted), once
    they had `seconds` to end (a fork server finishes its interpreter's shutdown)."""
    deadline = time.monotonic() + seconds
    while (alive := _children(settings)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


def _children(settings) -> list[str]:
    found = subprocess.run(["pgrep", "-f", "multiprocessing"], capture_output=True, text=True)
    marker = f"PEDW_DAGSTER_STORAGE={settings.dagster_storage}".encode()
    alive = []
    for pid in found.stdout.split():
        try:
            if marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                alive.append(
                    Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
        except OSError:  # gone meanwhile
            continue
    return alive


def assert_publishes_as_clean(settings, clean) -> None:
    """Same tables, same row counts, same estimates as a clean run of the same data; briefs and
    warehouse from one release; nothing a killed run left behind."""
    rows, estimates, _ = published(settings.warehouse_path)
    clean_rows, clean_estimates, _ = published(clean.warehouse_path)
    assert rows == clean_rows and estimates.keys() == clean_estimates.keys()
    for key, value in clean_estimates.items():
        assert estimates[key] == pytest.approx(value, rel=1e-9), key
    assert settings.briefs_dir.resolve().parent == settings.warehouse_path.resolve().parent
    pages = {path.stem for path in settings.briefs_dir.glob("*.html")}
    assert pages - {"cross_country"} == set(OPERATIONS_COUNTRIES)  # every economy's brief
    assert "cross_country" in pages  # and the annex
    assert remove_leftovers(settings) == []  # the run removed them all


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The demo (twelve economies), and what a clean run of it publishes."""
    settings = small_demo(tmp_path_factory, "crash", countries=OPERATIONS_COUNTRIES)
    with dg.DagsterInstance.ephemeral() as instance:
        assert run_catalog(settings, instance, progress=lambda _m: None).success
    return settings


def test_a_second_run_is_refused_and_a_killed_run_is_recovered_by_the_next(clean, tmp_path):
    settings = resolve_settings(clean.catalog_path, tmp_path / "wh" / "pedw.duckdb")
    first = start_pedw(settings)
    try:
        read_until(first, "[1/6]")
        second = run_pedw(settings, timeout=120)
        assert second.returncode == 2
        assert f"is being built by another pedw run (process {first.pid})" in second.stderr
        with warehouse_instance(settings) as instance:
            wait_for_started(instance, "country_briefs", first)
        wait_for_brief_files(settings, first)  # the brief workers are writing briefs
        first.kill()  # SIGKILL: no clean-up of its own
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert child_processes_alive(settings) == []  # the workers died with the run
    assert not settings.warehouse_path.exists()  # nothing was published, not half of it

    third = run_pedw(settings)
    assert third.returncode == 0, third.stderr[-3000:]
    assert "cleaned up after a killed run: 1 dead runs marked failed" in third.stdout
    assert "[1/6] national and sector: unchanged" in third.stdout  # finished work is kept
    assert_publishes_as_clean(settings, clean)


# Where a `pedw run --full` is killed: the stage's job, and how long after its run started.
KILL_POINTS = [
    ("ingest", "load_and_stage", 1.0),
    ("staging", "enterprise_countries", 0.5),
    ("models", "enterprise_models", 0.5),
    ("briefs", "country_briefs", 1.0),
    ("publish", "publish", 0.1),
]


def kill_during(settings, job: str, delay: float, killed: subprocess.Popen) -> None:
    """SIGKILL `killed` `delay` seconds after its run of `job` started."""
    try:
        with warehouse_instance(settings) as instance:
            wait_for_started(instance, job, killed)
        time.sleep(delay)
        killed.kill()
        killed.wait(timeout=30)
    finally:
        if killed.poll() is None:
            killed.kill()
    time.sleep(1)


def test_killed_at_any_stage_the_last_publication_stands_and_the_next_run_recovers(clean, tmp_path):
    """SIGKILL during ingest, staging, models, briefs and publication, one after another on one
    warehouse and its persistent Dagster instance (with the project's pools): readers keep the
    last complete publication, and a normal run publishes exactly what a clean run does."""
    settings = resolve_settings(clean.catalog_path, tmp_path / "wh" / "pedw.duckdb")
    assert run_pedw(settings).returncode == 0
    for point, job, delay in KILL_POINTS:
        before = publication_id(settings)
        kill_during(settings, job, delay, start_pedw(settings, "--full"))
        assert child_processes_alive(settings) == [], point
        # The last release stands, whole (killed while publishing, the new one may already be
        # switched in, and is then whole too: it opens and is checked like any other below).
        assert publication_id(settings) == before or point == "publish", point
        recovery = run_pedw(settings)
        assert recovery.returncode == 0, (point, recovery.stderr[-3000:])
        assert "cleaned up after a killed run: 1 dead runs marked failed" in recovery.stdout, point
        assert_publishes_as_clean(settings, clean)


def test_models_side_by_side_die_with_a_killed_run_and_publish_what_one_at_a_time_does(
    clean, tmp_path
):
    """Two model steps at once (PEDW_STEP_PROCESSES=2: step processes forked from a server
    that preloaded the libraries): SIGKILL in the models stage leaves no step process or fork
    server behind, and the next full run publishes exactly what a clean one-at-a-time run
    does, its model steps each in a process of its own."""
    settings = resolve_settings(clean.catalog_path, tmp_path / "wh" / "pedw.duckdb")
    side_by_side = {"PEDW_STEP_PROCESSES": "2"}
    kill_during(settings, "enterprise_models", 1.0, start_pedw(settings, env=side_by_side))
    assert child_processes_alive(settings) == []
    recovery = run_pedw(settings, "--full", env=side_by_side)
    assert recovery.returncode == 0, recovery.stderr[-3000:]
    assert "cleaned up after a killed run: 1 dead runs marked failed" in recovery.stdout
    assert_publishes_as_clean(settings, clean)
    with warehouse_instance(settings) as instance:
        (models_run,) = instance.get_runs(
            filters=dg.RunsFilter(job_name="enterprise_models",
                                  statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1
        )  # fmt: skip
        workers = {
            entry.step_key: entry.dagster_event.event_specific_data.metadata["pid"].value
            for entry in instance.all_logs(models_run.run_id)
            if entry.dagster_event is not None
            and entry.dagster_event.event_type_value == "STEP_WORKER_STARTED"
        }
    assert {"models__score_impact", "models__sme_gap"} <= workers.keys()
    assert len(set(workers.values())) == len(workers) >= 2


def test_a_damaged_warehouse_file_is_one_line_and_the_next_run_publishes_it_again(clean, tmp_path):
    settings = resolve_settings(clean.catalog_path, tmp_path / "wh" / "pedw.duckdb")
    assert run_pedw(settings).returncode == 0
    damaged = settings.warehouse_path.resolve()
    damaged.write_bytes(b"this is not a DuckDB file" * 100)
    query = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "tables", "--warehouse", str(settings.warehouse_path)],
        env=local_instance_env(), capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
    )  # fmt: skip
    assert query.returncode == 2 and "Traceback" not in query.stderr
    (line,) = query.stderr.strip().splitlines()
    assert line.startswith(
        f"pedw: {settings.warehouse_path} cannot be opened as a DuckDB warehouse"
    )
    again = run_pedw(settings)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "[6/6] warehouse publication: 1 assets" in again.stdout  # republished, not "unchanged"
    assert_publishes_as_clean(settings, clean)


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MB tmpfs mounted for the test (needs root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs to fill needs root (CI runs as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_fails_the_run_in_one_line_and_loses_nothing(clean, small_disk):
    settings = resolve_settings(clean.catalog_path, small_disk / "pedw.duckdb")
    assert run_pedw(settings).returncode == 0
    before = publication_id(settings)
    free = shutil.disk_usage(small_disk).free
    filler = small_disk / "filler"
    with filler.open("wb") as handle:  # leave 256 kB: the next run cannot finish
        handle.truncate(0)
        handle.write(b"\0" * (free - 256 * 1024))
    full = run_pedw(settings, "--full")
    assert full.returncode != 0
    assert "Traceback" not in full.stdout + full.stderr
    assert "No space left on device" in full.stderr or "the disk holding it is full" in full.stderr
    filler.unlink()
    assert publication_id(settings) == before  # readers still have the last publication
    again = run_pedw(settings)
    assert again.returncode == 0, again.stderr[-3000:]
    assert_publishes_as_clean(settings, clean)
