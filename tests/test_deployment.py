"""The production profile end to end: PostgreSQL-backed instance, the daemon's run queue and
two Celery workers on a Redis broker, all real processes on loopback. The warehouse they
publish equals the one an in-process run publishes from the same files."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import pytest
from published_runs import OPERATIONS_COUNTRIES, published

from pedw import local_services as services
from pedw.demo.generate import generate_demo_data
from pedw.settings import PROJECT_ROOT, resolve_settings
from pipelines.run import run_catalog

pytestmark = [pytest.mark.slow, pytest.mark.deployment]
FIRMS = 600
STAGES = {"load_and_stage", "enterprise_countries", "enterprise_models", "cross_country_annex",
          "country_briefs", "publish"}  # fmt: skip


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    reason = services.missing_services()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("deployment")
    generate_demo_data(root / "demo", n_firms=FIRMS, countries=OPERATIONS_COUNTRIES)
    env, handles = services.start_profile(
        root, root / "demo" / "catalog.yml", root / "warehouse" / "pedw.duckdb", workers=2
    )
    try:
        yield root, env
    finally:
        services.stop_profile(handles)


def test_the_deployment_publishes_what_an_in_process_run_publishes(deployment, tmp_path):
    root, env = deployment
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--log-level", "ERROR"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    logs = {p.name: p.read_text(errors="replace")[-3000:] for p in root.glob("*.log")}
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:], logs)
    deployed_rows, deployed_estimates, deployed_outcomes = published(
        root / "warehouse" / "pedw.duckdb"
    )

    local = resolve_settings(root / "demo" / "catalog.yml", tmp_path / "local" / "pedw.duckdb")
    with dg.DagsterInstance.ephemeral() as instance:
        assert run_catalog(local, instance, progress=lambda _m: None, launch=False).success
    local_rows, local_estimates, local_outcomes = published(local.warehouse_path)
    assert deployed_outcomes == local_outcomes

    # Table rules are validated per run: the deployment checks the country partitions in 8
    # runs side by side, so it records more (identical) outcomes; every other table is equal.
    validations = "quality.validation_results"
    assert deployed_rows.pop(validations) > local_rows.pop(validations)
    assert deployed_rows == local_rows and deployed_rows["marts.enterprise_panel"] > 3_000
    assert deployed_estimates.keys() == local_estimates.keys() and len(deployed_estimates) > 50
    for key, value in local_estimates.items():
        assert deployed_estimates[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key

    # The runs went through the queue and the workers, and the UI can re-execute them.
    os.environ.update({k: env[k] for k in ("PEDW_POSTGRES_URL", "PEDW_DAGSTER_STORAGE")})
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = [r for r in instance.get_runs() if r.job_name in STAGES]
        assert {r.job_name for r in runs} == STAGES
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        assert all(r.remote_job_origin is not None for r in runs)  # re-executable
        assert len({r.tags["pedw/publication"] for r in runs}) == 1
    worker_logs = [(root / f"{w}.log").read_text(errors="replace") for w in ("w1", "w2")]
    assert sum(log.count("succeeded in") for log in worker_logs) >= len(STAGES)
