"""Dagster's own versions decide what `pedw run` rebuilds, on a persistent instance."""

from __future__ import annotations

import subprocess

import dagster as dg
import pytest
from published_runs import OPERATIONS_COUNTRIES, local_instance_env, pedw_command

from pedw.demo.generate import generate_demo_data
from pedw.settings import PROJECT_ROOT, resolve_settings

pytestmark = pytest.mark.slow
TEMPLATE = PROJECT_ROOT / "pedw" / "briefs" / "template.html"


def pedw_run(settings) -> str:
    """`pedw run` in a fresh process on a persistent SQLite instance beside the warehouse."""
    done = subprocess.run(pedw_command(settings), capture_output=True, text=True,
                          env=local_instance_env(), timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def materialized_by_last_run_of_pedw(settings, monkeypatch) -> tuple[set[str], set[str]]:
    """(assets materialized, job names) by the latest `pedw run` (one publication id)."""
    monkeypatch.setenv("PEDW_DAGSTER_STORAGE", str(settings.dagster_storage))
    with dg.DagsterInstance.from_config(str(PROJECT_ROOT)) as instance:
        runs = instance.get_runs()
        publication = runs[0].tags["pedw/publication"]
        keys, jobs = set(), set()
        for run in runs:
            if run.tags.get("pedw/publication") != publication:
                continue
            jobs.add(run.job_name)
            for entry in instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
            ):
                keys.add(entry.dagster_event.asset_key.to_user_string())
    return keys, jobs


def test_editing_a_brief_template_rebuilds_only_the_briefs_and_the_publications(
    tmp_path, monkeypatch
):
    demo = tmp_path / "demo"
    generate_demo_data(demo, n_firms=600, countries=OPERATIONS_COUNTRIES)
    settings = resolve_settings(demo / "catalog.yml", tmp_path / "wh" / "pedw.duckdb")
    pedw_run(settings)
    original = TEMPLATE.read_bytes()
    try:
        TEMPLATE.write_bytes(original + b"\n<!-- an editor's change -->\n")
        output = pedw_run(settings)
    finally:
        TEMPLATE.write_bytes(original)
    keys, jobs = materialized_by_last_run_of_pedw(settings, monkeypatch)
    assert keys == {"briefs/country_brief", "warehouse", "public_release"}
    assert jobs == {"observe_sources", "country_briefs", "publish"}
    assert "[1/6] national and sector: unchanged" in output
    assert "an editor's change" in (settings.briefs_dir / "KEN.html").read_text()
    assert "an editor's change" in (settings.public_dir / "briefs" / "KEN.html").read_text()


def test_a_run_with_nothing_changed_answers_without_starting_dagster(tmp_path, monkeypatch):
    """After a clean run, `pedw run` with nothing changed answers from the run's record
    (pedw.clean_run): no Dagster run, nothing written. A touched source file sends the next
    run through Dagster, which finds the content unchanged and rebuilds nothing; after
    that clean run the record vouches again."""
    demo = tmp_path / "demo"
    generate_demo_data(demo, n_firms=300, countries=OPERATIONS_COUNTRIES)
    settings = resolve_settings(demo / "catalog.yml", tmp_path / "wh" / "pedw.duckdb")
    pedw_run(settings)
    monkeypatch.setenv("PEDW_DAGSTER_STORAGE", str(settings.dagster_storage))

    def dagster_runs() -> int:
        with dg.DagsterInstance.from_config(str(PROJECT_ROOT)) as instance:
            return len(instance.get_runs())

    runs, published = dagster_runs(), settings.warehouse_path.stat().st_mtime_ns
    output = pedw_run(settings)
    assert "nothing changed since the last clean run" in output
    assert dagster_runs() == runs
    assert settings.warehouse_path.stat().st_mtime_ns == published

    (demo / "pwt" / "pwt_demo.csv").touch()
    output = pedw_run(settings)
    assert "nothing changed" not in output
    assert "[1/6] national and sector: unchanged" in output
    assert dagster_runs() > runs  # the sources were observed again
    assert "nothing changed since the last clean run" in pedw_run(settings)
