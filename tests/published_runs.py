"""Helpers shared by the tests that run `pedw run` as a process and compare what it published."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from pedw.demo.generate import generate_demo_data
from pedw.settings import PROJECT_ROOT, Settings, resolve_settings
from pedw.warehouse import connect_read_only


def pedw_command(settings: Settings) -> list[str]:
    """`pedw run` for `settings`, in a fresh process (code versions are read at import)."""
    return [sys.executable, "-m", "pipelines.cli", "run", "--catalog", str(settings.catalog_path),
            "--warehouse", str(settings.warehouse_path), "--log-level", "ERROR"]  # fmt: skip


def local_instance_env() -> dict:
    """The project's dagster.yaml: a persistent SQLite instance beside each warehouse."""
    env = {**os.environ, "DAGSTER_HOME": str(PROJECT_ROOT)}
    env.pop("PEDW_DAGSTER_STORAGE", None)  # each warehouse's own history
    return env


def published(path) -> tuple[dict, dict, set]:
    """Row counts of every table, every model estimate by (model, term), and the distinct
    outcomes of the table rules, of a published warehouse."""
    con = connect_read_only(path)
    try:
        rows = json.loads(con.execute("SELECT table_rows FROM meta.publication").fetchone()[0])
        estimates = {
            (model, term): value
            for model, term, value in con.execute(
                "SELECT model_id, term, estimate FROM models.estimates"
            ).fetchall()
        }
        outcomes = set(con.execute(
            "SELECT DISTINCT dataset, rule, coalesce(\"column\", ''), success "
            "FROM quality.validation_results"
        ).fetchall())  # fmt: skip
    finally:
        con.close()
    return rows, estimates, outcomes


# Twelve of the 40 demo economies, in five regions and three income groups (so every brief has
# peers and every model its clusters): the data of the tests of operations (kills, stops, full
# disks, readers, deployment, incremental runs), whose claims do not depend on the demo's size.
# A run of them builds 12 briefs, not 40, and 12 country partitions.
OPERATIONS_COUNTRIES = ("GHA", "KEN", "NGA", "ZAF", "EGY", "MAR", "BGD", "IND", "IDN", "VNM",
                        "BRA", "MEX")  # fmt: skip


def small_demo(
    tmp_path_factory, name: str, n_firms: int = 600, countries: tuple[str, ...] | None = None
) -> Settings:
    """Settings for a fresh small demo (its own folder; every demo economy, or `countries`)
    and a warehouse of its own."""
    demo = tmp_path_factory.mktemp(f"{name}_demo")
    generate_demo_data(demo, n_firms=n_firms, countries=countries)
    return resolve_settings(
        demo / "catalog.yml", tmp_path_factory.mktemp(f"{name}_wh") / "pedw.duckdb"
    )


def copy_published(settings: Settings, to: Path) -> Settings:
    """A copy of a published warehouse's folder (warehouse, store, releases, reader links) and
    of its public folder under `to`, as settings for the same catalog: a test that writes gets
    its own copy of the session's run instead of building one. The links inside are relative
    to their folders (pedw.release), so the copy stands alone; checked here."""
    folder = settings.warehouse_path.parent
    public = settings.public_dir.parent
    copied = resolve_settings(
        settings.catalog_path, to / folder.name / settings.warehouse_path.name
    )
    shutil.copytree(folder, copied.warehouse_path.parent, symlinks=True)
    shutil.copytree(public, copied.public_dir.parent, symlinks=True)
    for root in (copied.warehouse_path.parent, copied.public_dir.parent):
        for link in (p for p in root.rglob("*") if p.is_symlink()):
            assert link.resolve().is_relative_to(to.resolve()), f"{link} leads out of the copy"
    return copied


def read_until(process: subprocess.Popen, marker: str, seconds: float = 300) -> str:
    deadline, seen = time.monotonic() + seconds, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if marker in line:
            return "".join(seen)
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"{marker!r} never printed:\n{''.join(seen)}")


def run_pedw(
    settings, *extra: str, timeout: float = 600, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run([*pedw_command(settings), *extra], env={**local_instance_env(), **(env or {})},
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=timeout)  # fmt: skip


def start_pedw(settings, *extra: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([*pedw_command(settings), *extra], env={**local_instance_env(), **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=PROJECT_ROOT)  # fmt: skip


def publication_id(settings) -> str:
    con = connect_read_only(settings.warehouse_path)
    try:
        return con.execute("SELECT publication_id FROM meta.publication").fetchone()[0]
    finally:
        con.close()


@contextmanager
def warehouse_instance(settings):
    """The warehouse's persistent Dagster instance (the project's dagster.yaml), as `pedw` opens it."""
    previous = os.environ.get("PEDW_DAGSTER_STORAGE")
    os.environ["PEDW_DAGSTER_STORAGE"] = str(settings.dagster_storage)
    try:
        with dg.DagsterInstance.from_config(str(PROJECT_ROOT)) as instance:
            yield instance
    finally:
        if previous is None:
            os.environ.pop("PEDW_DAGSTER_STORAGE", None)
        else:
            os.environ["PEDW_DAGSTER_STORAGE"] = previous


def wait_for_started(instance, job: str, process: subprocess.Popen, seconds: float = 300) -> None:
    """Until a run of `job` is executing (so a kill lands inside it, not between stages)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if instance.get_runs(
            filters=dg.RunsFilter(job_name=job, statuses=[dg.DagsterRunStatus.STARTED])
        ):
            return
        if process.poll() is not None:
            raise AssertionError(f"pedw ended before {job} started: {process.stdout.read()}")
        time.sleep(0.05)
    raise AssertionError(f"no run of {job} started in {seconds} s")


def brief_build_files(settings: Settings) -> set:
    """Every file under the brief build folder (every run's)."""
    return {p for p in settings.briefs_build_dir.rglob("*") if p.is_file()}


def wait_for_brief_files(settings: Settings, process, seconds: float = 300) -> set:
    """Until a brief run of `process` has written a PDF not there when called (the workers
    are writing briefs); returns the files it wrote by then."""
    known = brief_build_files(settings)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        written = brief_build_files(settings) - known
        if any(path.suffix == ".pdf" for path in written):
            return written
        if process.poll() is not None:
            raise AssertionError("pedw ended before it wrote a brief")
        time.sleep(0.2)
    raise AssertionError(f"no brief written in {seconds} s")


def edit_in_place_keeping_times(path) -> None:
    """Change bytes inside a file as an editor would that hides its traces: same size, same
    inode, modification and access times put back (only the change time moves)."""
    before = path.stat()
    with path.open("r+b") as handle:
        handle.seek(before.st_size // 2)
        byte = handle.read(1)
        handle.seek(before.st_size // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_ino, after.st_mtime_ns) == (
        before.st_size,
        before.st_ino,
        before.st_mtime_ns,
    )
