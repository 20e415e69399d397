"""Shared fixtures: a small demo dataset and one full pipeline run over it, in temp folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

import pedw  # noqa: F401  (telemetry off)
from pedw.demo.generate import generate_demo_data
from pedw.demo.truth import SEED
from pedw.settings import resolve_settings
from pipelines.run import run_catalog

SHARED_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
TEST_FIRMS = 8_000


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """Demo files (8,000 firms, the default seed) and their catalog.yml and truth.json."""
    out = tmp_path_factory.mktemp("demo")
    seed = int(os.environ.get("PEDW_TEST_SEED", SEED))  # to study other realisations
    generate_demo_data(out, n_firms=TEST_FIRMS, seed=seed)
    return out


@pytest.fixture(scope="session")
def truth(demo_dir) -> dict:
    return json.loads((demo_dir / "truth.json").read_text())


@pytest.fixture(scope="session")
def pipeline_run(demo_dir, tmp_path_factory):
    """Every asset materialized through Dagster on the demo, into a temporary warehouse;
    the Dagster instance stays open for the session (it holds the recorded versions)."""
    settings = resolve_settings(
        demo_dir / "catalog.yml", tmp_path_factory.mktemp("wh") / "pedw.duckdb"
    )
    with dg.DagsterInstance.ephemeral() as instance:
        summary = run_catalog(settings, instance, progress=lambda _m: None)
        assert summary.success, summary.failures
        yield settings, summary, instance


@pytest.fixture(scope="session")
def pipeline(pipeline_run):
    """(settings, summary) of the session's demo run."""
    return pipeline_run[:2]


@pytest.fixture
def real_data() -> Path:
    """The published real files beside the project; skip when this machine has none."""
    if not SHARED_REAL.is_dir():
        pytest.skip(f"real data folder {SHARED_REAL} is absent (it lives beside the project root)")
    return SHARED_REAL


@pytest.fixture(scope="session")
def real_run(tmp_path_factory):
    """(settings, summary) of one run of catalogs/shared_real.yml, shared by every test that
    reads the real catalog's warehouse or briefs (a run takes minutes: 182 briefs)."""
    if not SHARED_REAL.is_dir():
        pytest.skip(f"real data folder {SHARED_REAL} is absent (it lives beside the project root)")
    from pedw.settings import PROJECT_ROOT

    settings = resolve_settings(
        PROJECT_ROOT / "catalogs" / "shared_real.yml",
        tmp_path_factory.mktemp("real_run") / "pedw.duckdb",
    )
    with dg.DagsterInstance.ephemeral() as instance:
        summary = run_catalog(settings, instance, progress=lambda _m: None)
    return settings, summary
