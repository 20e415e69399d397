"""Settings are resolved once, where a run starts, and handed down whole: no step reads the
environment again, and the catalog is parsed once per process."""

from __future__ import annotations

import dagster as dg
import pytest
from published_runs import OPERATIONS_COUNTRIES, small_demo

import assets.resources
import pedw.settings
import pipelines.definitions
from pedw import catalog
from pedw.settings import Settings
from pipelines.run import run_catalog

pytestmark = pytest.mark.slow


def test_every_setting_survives_the_run_config():
    settings = Settings(
        catalog_path=pedw.settings.DEFAULT_CATALOG,
        warehouse_path=pedw.settings.DEFAULT_WAREHOUSE,
        duckdb_memory_limit="2GB",
        brief_workers=3,
        step_processes=2,
        automation=True,
        executor="celery",
        public_root=pedw.settings.PROJECT_ROOT / "public",
    )
    assert Settings.from_config(settings.to_config()) == settings
    bare = Settings(pedw.settings.DEFAULT_CATALOG, pedw.settings.DEFAULT_WAREHOUSE)
    assert Settings.from_config(bare.to_config()) == bare


def test_a_run_resolves_its_settings_once_and_no_step_reads_the_environment(
    tmp_path_factory, monkeypatch
):
    settings = small_demo(
        tmp_path_factory, "settings_once", n_firms=300, countries=OPERATIONS_COUNTRIES
    )
    resolved = []
    original = pedw.settings.resolve_settings

    def counted(*args, **kwargs):
        resolved.append(args)
        return original(*args, **kwargs)

    for module in (pedw.settings, assets.resources, pipelines.definitions):
        monkeypatch.setattr(module, "resolve_settings", counted)
    # What a step would find if it read the environment: another public folder.
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "public"
    monkeypatch.setenv("PEDW_PUBLIC_DIR", str(elsewhere))
    parsed = catalog._parse_catalog.cache_info().misses
    with dg.instance_for_test() as instance:
        summary = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
    assert summary.success, summary.failures
    assert resolved == []  # handed down: not one step resolved them again
    assert catalog._parse_catalog.cache_info().misses - parsed == 1  # one parse, many readers
    assert (settings.public_dir / "public.duckdb").is_file()
    assert not elsewhere.exists()


def test_an_instance_folder_without_a_dagster_yaml_gets_telemetry_off(tmp_path, monkeypatch):
    """DAGSTER_HOME pointing at a new folder: Dagster's default would log usage events there
    (telemetry on); pedw writes the opt-out Dagster asks for. A user's own file is kept."""
    settings = pedw.settings.resolve_settings(None, tmp_path / "warehouse" / "pedw.duckdb")
    monkeypatch.setenv("PEDW_DAGSTER_STORAGE", str(tmp_path / "storage"))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert pedw.settings.configure_dagster_home(settings) == home
    with dg.DagsterInstance.get() as instance:
        assert instance.telemetry_enabled is False
    own = tmp_path / "own"
    own.mkdir()
    (own / "dagster.yaml").write_text("retention: {}\n", encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(own))
    pedw.settings.configure_dagster_home(settings)
    assert (own / "dagster.yaml").read_text(encoding="utf-8") == "retention: {}\n"
