"""Kill a run, start another: one writer per warehouse, and nothing lost or left behind."""

from __future__ import annotations

import subprocess
import time

import dagster as dg
import pytest
from published_runs import local_instance_env, pedw_command, published

from pedw.demo.generate import generate_demo_data
from pedw.settings import PROJECT_ROOT, resolve_settings
from pipelines.run import run_catalog

pytestmark = pytest.mark.slow


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


def brief_workers_alive() -> int:
    found = subprocess.run(["pgrep", "-f", "multiprocessing.spawn"], capture_output=True)
    return len(found.stdout.split())


def test_a_second_run_is_refused_and_a_killed_run_is_recovered_by_the_next(tmp_path):
    demo = tmp_path / "demo"
    generate_demo_data(demo, n_firms=600)
    clean = resolve_settings(demo / "catalog.yml", tmp_path / "clean" / "pedw.duckdb")
    with dg.DagsterInstance.ephemeral() as instance:
        assert run_catalog(clean, instance, progress=lambda _m: None).success
    settings = resolve_settings(demo / "catalog.yml", tmp_path / "wh" / "pedw.duckdb")

    first = subprocess.Popen(pedw_command(settings), env=local_instance_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, cwd=PROJECT_ROOT)  # fmt: skip
    try:
        read_until(first, "[1/5]")
        second = subprocess.run(pedw_command(settings), env=local_instance_env(), capture_output=True,
                                text=True, cwd=PROJECT_ROOT, timeout=120)  # fmt: skip
        assert second.returncode == 2
        assert f"is being built by another pedw run (process {first.pid})" in second.stderr
        read_until(first, "[4/5] country briefs")
        time.sleep(2)  # the brief workers are writing briefs
        first.kill()  # SIGKILL: no clean-up of its own
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    time.sleep(2)
    assert brief_workers_alive() == 0  # the workers died with the run

    third = subprocess.run(pedw_command(settings), env=local_instance_env(), capture_output=True, text=True,
                           cwd=PROJECT_ROOT, timeout=600)  # fmt: skip
    assert third.returncode == 0, third.stderr[-3000:]
    assert "cleaned up after a killed run: 1 dead runs marked failed" in third.stdout
    assert "[1/5] national and sector: unchanged" in third.stdout  # finished work is kept
    recovered_rows, recovered_estimates, _ = published(settings.warehouse_path)
    clean_rows, clean_estimates, _ = published(clean.warehouse_path)
    assert recovered_rows == clean_rows and recovered_estimates.keys() == clean_estimates.keys()
    for key, value in clean_estimates.items():
        assert recovered_estimates[key] == pytest.approx(value, rel=1e-9), key
    folder = settings.warehouse_path.parent
    assert not list(folder.glob("*.building*")) and not list(folder.glob("briefs/.*tmp"))
    assert len(list((folder / "briefs").glob("*.html"))) == 40
