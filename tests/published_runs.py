"""Helpers shared by the tests that run `pedw run` as a process and compare what it published."""

from __future__ import annotations

import json
import os
import sys

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


def small_demo(tmp_path_factory, name: str, n_firms: int = 600) -> Settings:
    """Settings for a fresh small demo (its own folder) and a warehouse of its own."""
    demo = tmp_path_factory.mktemp(f"{name}_demo")
    generate_demo_data(demo, n_firms=n_firms)
    return resolve_settings(
        demo / "catalog.yml", tmp_path_factory.mktemp(f"{name}_wh") / "pedw.duckdb"
    )
