"""Unchanged inputs are not recomputed: Dagster's code versions, observed source versions and
staleness decide what a run rebuilds."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
from published_runs import OPERATIONS_COUNTRIES

from assets.briefs import BRIEF_ASSETS
from pedw.demo.generate import generate_demo_data
from pedw.raw import raw_partitions
from pedw.settings import resolve_settings
from pedw.store import Store
from pipelines.definitions import ALL_ASSETS, build_definitions
from pipelines.run import run_catalog
from pipelines.sensors import enterprise_partitions
from pipelines.staleness import CURSOR, Staleness

SMALL_FIRMS = 2_000


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A small demo run (twelve economies, no briefs) on an instance that stays open for the
    module."""
    demo = tmp_path_factory.mktemp("incremental_demo")
    generate_demo_data(demo, n_firms=SMALL_FIRMS, countries=OPERATIONS_COUNTRIES)
    settings = resolve_settings(
        demo / "catalog.yml", tmp_path_factory.mktemp("incremental_wh") / "pedw.duckdb"
    )
    with dg.instance_for_test() as instance:  # a real instance: schedules need its reference
        first = run_catalog(settings, instance, progress=lambda _m: None, briefs=False)
        assert first.success, first.failures
        yield demo, settings, instance, first


def _run(settings, instance, **options):
    summary = run_catalog(settings, instance, progress=lambda _m: None, briefs=False, **options)
    assert summary.success, summary.failures + summary.blocked
    return summary


def test_second_run_with_nothing_changed_rebuilds_nothing(small_run):
    _demo, settings, instance, first = small_run
    assert len(first.rebuilt) == len(ALL_ASSETS) - len(BRIEF_ASSETS) and not first.unchanged
    again = _run(settings, instance)
    assert again.rebuilt == {}
    assert sorted(again.unchanged) == sorted(first.rebuilt)
    assert len(again.run_ids) == 1  # the observation of the sources, nothing else
    observation = instance.get_run_by_id(again.run_ids[0])
    assert observation.job_name == "observe_sources"
    assert observation.tags["pedw/warehouse"] == str(settings.warehouse_path)


def test_no_change_run_of_the_full_demo_skips_every_brief(pipeline_run):
    settings, first, instance = pipeline_run
    again = run_catalog(settings, instance, progress=lambda _m: None)
    assert again.success and again.rebuilt == {}
    assert "briefs/country_brief" in again.unchanged and "warehouse" in again.unchanged
    assert "briefs/cross_country_annex" in again.unchanged
    assert again.brief_countries == first.brief_countries


def test_changed_source_file_rebuilds_only_what_depends_on_it(small_run):
    demo, settings, instance, _first = small_run
    pwt = demo / "pwt" / "pwt_demo.csv"
    original = pwt.read_text()
    lines = original.splitlines(keepends=True)
    # Drop the last country-year: one changed published file.
    pwt.write_text("".join(lines[:-1]))
    try:
        changed = _run(settings, instance)
        assert set(changed.rebuilt) == {
            "raw/pwt",
            "staging/pwt_drivers",
            "staging/national_series",
            # the referential rules (firm and SCORE countries exist at national level) re-run
            # on the new national set; the firms themselves are not staged again
            "quality/enterprise_firms_references",
            "quality/score_monitoring_references",
            "marts/national_panel",
            "models/national",
            "marts/enterprise_panel",
            "marts/firm_indicators",
            *(f"models/{m}" for m in ENTERPRISE_MODELS),
            "disclosure/firm_figures",
            "warehouse",
            "public_release",
        }
        assert changed.rebuilt["raw/pwt"] == "inputs changed (sources/pwt: has a new data version)"
        assert changed.rebuilt["marts/enterprise_panel"].startswith("inputs changed")
        assert "raw/sector_observations" in changed.unchanged
        assert "staging/enterprise_firms" in changed.unchanged
    finally:
        pwt.write_text(original)
    restored = _run(settings, instance)
    assert "raw/pwt" in restored.rebuilt  # back to the first content: a new version again


def test_missing_output_is_rebuilt_even_when_versions_match(small_run):
    _demo, settings, instance, _first = small_run
    shutil.rmtree(settings.store_dir / "marts" / "sector_panel")
    summary = _run(settings, instance)
    assert summary.rebuilt == {"marts/sector_panel": "output missing"}
    assert _run(settings, instance).rebuilt == {}  # same inputs, same data version: all fresh


def test_automation_requests_only_what_a_changed_source_makes_stale(small_run):
    demo, settings, instance, _first = small_run
    definitions = build_definitions(settings)
    keys = definitions.resolve_asset_graph().get_all_asset_keys()
    built = dg.AssetSelection.all() - dg.AssetSelection.assets(*BRIEF_ASSETS)  # no briefs here
    before = dg.evaluate_automation_conditions(
        defs=definitions, instance=instance, asset_selection=built
    )
    assert before.total_requested == 0  # everything is current
    metadata = demo / "wdi" / "Metadata_Country_demo.csv"
    original = metadata.read_bytes()
    metadata.write_bytes(original.replace(b"\r\n", b"\n"))  # same rows, new bytes
    try:
        definitions.resolve_job_def("observe_sources").execute_in_process(instance=instance)
        evaluated = dg.evaluate_automation_conditions(
            defs=definitions, instance=instance, asset_selection=built, cursor=before.cursor
        )
        requested = {key.to_user_string() for key in keys if evaluated.get_num_requested(key)}
        # The changed source's raw asset and what is built on it, in one request; nothing else.
        assert {"raw/country_metadata", "marts/national_panel", "warehouse"} <= requested
        assert not requested & {"raw/pwt", "raw/sector_observations", "marts/sector_panel"}
    finally:
        metadata.write_bytes(original)


def test_pedw_run_and_a_daemon_tick_choose_the_same_assets(small_run):
    """The automation sensor's tick (the daemon) and `pedw run` decide alike: the same
    conditions, evaluated on the same instance after the same source edit."""
    demo, settings, instance, _first = small_run
    _run(settings, instance)  # whatever earlier tests left out of date is rebuilt first
    definitions = build_definitions(settings)
    sensor = definitions.get_sensor_def("pedw_automation")
    key = CURSOR + str(settings.warehouse_path)
    stored = dg.deserialize_value(instance.run_storage.get_cursor_values({key})[key])
    before = dg.evaluate_automation_conditions(
        defs=definitions, instance=instance, asset_selection=sensor.asset_selection, cursor=stored
    ).cursor  # the daemon's tick before the edit
    pwt = demo / "pwt" / "pwt_demo.csv"
    original = pwt.read_bytes()
    pwt.write_bytes(original.rstrip(b"\n").rsplit(b"\n", 1)[0] + b"\n")  # one row fewer
    try:
        definitions.resolve_job_def("observe_sources").execute_in_process(instance=instance)
        tick = dg.evaluate_automation_conditions(
            defs=definitions, instance=instance, asset_selection=sensor.asset_selection,
            cursor=before,
        )  # fmt: skip
        graph = definitions.resolve_asset_graph()
        briefs = {a.key for a in BRIEF_ASSETS}  # this run builds no briefs
        daemon = {
            k.to_user_string()
            for k in graph.materializable_asset_keys - briefs
            if tick.get_num_requested(k)
        }
        ran = _run(settings, instance)
        assert set(ran.rebuilt) == daemon
        assert {"raw/pwt", "marts/national_panel", "marts/enterprise_panel", "warehouse"} <= daemon
        assert not daemon & {"raw/sector_observations", "staging/enterprise_firms"}
    finally:
        pwt.write_bytes(original)
    _run(settings, instance)


def test_one_changed_firm_value_restages_only_its_country(small_run):
    """A firm file is read whole, but Dagster rebuilds only the country partition whose slice
    changed (pipelines.automation.SliceChanged), then the pooled marts and models."""
    demo, settings, instance, _first = small_run
    _run(settings, instance)  # whatever earlier tests left out of date is rebuilt first
    firms = demo / "enterprise" / "firms.csv"
    original = firms.read_text()
    lines = original.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.split(",")[1] == "KEN")
    fields = lines[at].split(",")
    fields[5] = str(int(fields[5]) + 1)  # one sales value of one Kenyan firm-year
    lines[at] = ",".join(fields)
    firms.write_text("".join(lines))
    started = time.time()
    try:
        changed = _run(settings, instance)
        staged = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=ENTERPRISE_STAGED, after_timestamp=started),
            limit=1000,
        ).records
        assert sorted(r.partition_key for r in staged) == ["KEN"]
        assert changed.rebuilt["staging/enterprise_firms"] == (
            "inputs changed (raw/enterprise_firms: its slice changed) [KEN]"
        )
        assert {"raw/enterprise_firms", "marts/enterprise_panel", "warehouse"} <= set(
            changed.rebuilt
        )
        assert "marts/national_panel" in changed.unchanged
    finally:
        firms.write_text(original)
    restored = _run(settings, instance)
    staged = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=ENTERPRISE_STAGED, after_timestamp=started), limit=1000
    ).records
    assert sorted(r.partition_key for r in staged) == ["KEN", "KEN"]
    assert restored.rebuilt["staging/enterprise_firms"].endswith("[KEN]")


ENTERPRISE_STAGED = dg.AssetKey(["staging", "enterprise_firms"])


def test_full_run_rebuilds_everything_and_leaves_the_next_run_nothing_to_do(small_run):
    """Also on an instance with no automation evaluation on record for the warehouse (its
    first run was --full): the next run finds everything current instead of rebuilding it."""
    _demo, settings, instance, _first = small_run
    key = CURSOR + str(settings.warehouse_path)
    instance.run_storage.set_cursor_values({key: ""})  # as before any evaluation
    summary = _run(settings, instance, full=True)
    assert summary.rebuilt == {} and summary.unchanged == []
    jobs = [instance.get_run_by_id(run_id).job_name for run_id in summary.run_ids]
    assert jobs == ["observe_sources", "load_and_stage", "enterprise_countries",
                    "enterprise_models", "publish"]  # fmt: skip
    assert instance.run_storage.get_cursor_values({key})[key]  # the full run's, on record
    after = _run(settings, instance)
    assert after.rebuilt == {} and len(after.run_ids) == 1  # the observation alone


ENTERPRISE_MODELS = (
    "enterprise_multilevel",
    "enterprise_cross_level",
    "enterprise_sme_gap",
    "sme_gap",
    "score_impact",
    "resilience",
)


def test_partition_sensor_registers_only_countries_the_raw_load_found(small_run):
    _demo, settings, instance, _first = small_run
    definitions = build_definitions(settings)
    context = dg.build_sensor_context(
        instance=instance,
        resources={"pedw": definitions.resources["pedw"]},
        definitions=definitions,
    )
    found = raw_partitions(Store(settings.store_dir))
    assert sorted(found) == sorted(OPERATIONS_COUNTRIES)  # the demo's, no _unknown / _malformed
    skipped = enterprise_partitions(context)
    assert isinstance(skipped, dg.SkipReason)
    assert f"{len(OPERATIONS_COUNTRIES)} country partitions, none new" in str(skipped.skip_message)
    instance.delete_dynamic_partition("enterprise_country", "KEN")
    request = enterprise_partitions(context)
    assert [r.partition_key for r in request.run_requests] == ["KEN"]


def test_dagster_reports_code_versions_and_what_a_changed_file_makes_stale(small_run):
    demo, settings, instance, _first = small_run
    definitions = build_definitions(settings)
    graph = definitions.resolve_asset_graph()
    assert all(graph.get(key).code_version for key in graph.materializable_asset_keys)
    pwt = demo / "pwt" / "pwt_demo.csv"
    original = pwt.read_bytes()
    staleness = Staleness(definitions, instance, settings)
    staleness.evaluate()  # a tick before the edit (the public dg.evaluate_automation_conditions)
    pwt.write_bytes(original.rstrip(b"\n").rsplit(b"\n", 1)[0] + b"\n")  # one row fewer
    try:
        definitions.resolve_job_def("observe_sources").execute_in_process(instance=instance)
        staleness.evaluate()  # and one after it, as the daemon ticks
        reasons = {
            key: staleness.reasons(dg.AssetKey(key.split("/")), None)
            for key in ("raw/pwt", "staging/pwt_drivers", "raw/sector_observations",
                        "marts/sector_panel")
        }  # fmt: skip
        assert reasons == {
            "raw/pwt": ["inputs changed (sources/pwt: has a new data version)"],
            "staging/pwt_drivers": ["inputs changed (raw/pwt: rebuilt first)"],
            "raw/sector_observations": [],
            "marts/sector_panel": [],
        }
    finally:
        pwt.write_bytes(original)
        definitions.resolve_job_def("observe_sources").execute_in_process(instance=instance)


def test_no_private_dagster_import_anywhere():
    """The next Dagster release may change anything under dagster._*: pedw uses none of it."""
    root = Path(__file__).resolve().parents[1]
    private = re.compile(r"^\s*(from|import)\s+dagster\._", re.MULTILINE)
    files = [p for folder in ("pedw", "assets", "pipelines", "tests", "bench", "notebooks")
             for p in (root / folder).rglob("*.py")]  # fmt: skip
    assert len(files) > 50
    assert [str(p.relative_to(root)) for p in files if private.search(p.read_text())] == []
