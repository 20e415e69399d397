"""Snapshot of the asset graph: an accidental change of keys or groups shows up in review."""

from __future__ import annotations

from pipelines.definitions import build_definitions

defs = build_definitions()

EXPECTED_GROUPS = {
    "national": [
        "raw/country_metadata", "raw/national_observations", "raw/pwt",
        "sources/country_metadata", "sources/national_observations", "sources/pwt",
        "staging/country_metadata", "staging/national_observations",
        "staging/national_series", "staging/pwt_drivers",
    ],
    "sector": ["raw/sector_observations", "sources/sector_observations",
               "staging/sector_observations", "staging/sector_series"],
    "enterprise": [
        "quality/enterprise_firms_references", "quality/score_monitoring_references",
        "raw/enterprise_firms", "raw/score_monitoring", "sources/enterprise_firms",
        "sources/score_monitoring", "staging/enterprise_firms", "staging/score_monitoring",
    ],
    "marts": [
        "marts/enterprise_panel", "marts/firm_indicators", "marts/national_panel",
        "marts/score_kpi_change", "marts/sector_panel",
    ],
    "publish": ["public_release", "warehouse"],
    "briefs": ["briefs/country_brief", "briefs/cross_country_annex"],
    "models": [
        "disclosure/firm_figures", "models/enterprise_cross_level", "models/enterprise_multilevel", "models/enterprise_sme_gap",
        "models/national", "models/resilience", "models/score_impact", "models/sector",
        "models/shift_share", "models/sme_gap",
    ],

}  # fmt: skip


def asset_groups() -> dict[str, list[str]]:
    graph = defs.resolve_asset_graph()
    groups: dict[str, list[str]] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups.setdefault(node.group_name, []).append(key.to_user_string())
    return {group: sorted(keys) for group, keys in groups.items()}


def test_asset_keys_by_group():
    groups = asset_groups()
    for group, keys in EXPECTED_GROUPS.items():
        assert groups.get(group) == keys, group


def test_every_asset_has_a_description():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, key


def test_enterprise_assets_are_partitioned_by_country():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        partitions = graph.get(key).partitions_def
        name = getattr(partitions, "name", None)
        # The firm files are read whole, once; what is staged from them is by country.
        assert (name == "enterprise_country") == (
            key.to_user_string() == "staging/enterprise_firms"
        ), key


def test_every_asset_has_a_code_version_and_the_stages_are_named_jobs():
    graph = defs.resolve_asset_graph()
    for key in graph.materializable_asset_keys:
        assert graph.get(key).code_version, key
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"observe_sources", "load_and_stage", "enterprise_countries", "enterprise_models",
            "cross_country_annex", "country_briefs", "publish"} <= jobs  # fmt: skip


def test_a_brief_template_is_code_of_the_briefs_only():
    from pedw.code_versions import MODULE_DATA_FILES, module_closure

    briefs = module_closure(["pedw.briefs.build"])
    assert "pedw.briefs.render" in briefs
    for ingest in (["pedw.raw"], ["pedw.staging.contracted"], ["pedw.models.national"]):
        assert "pedw.briefs.render" not in module_closure(ingest)
    assert MODULE_DATA_FILES["pedw.briefs.render"] == ("pedw/briefs/template.html",)
    # The annex and the country briefs share their page styles, not their templates: editing
    # one template rebuilds its own documents only.
    annex = module_closure(["pedw.briefs.annex"])
    assert "pedw.briefs.printing" in annex and "pedw.briefs.printing" in briefs
    assert "pedw.briefs.render" not in annex and "pedw.briefs.annex" not in briefs


def test_runs_started_from_the_ui_or_automation_carry_the_warehouse_tags(tmp_path):
    """A run launched from the UI, a sensor or automation names its catalog and warehouse,
    like a `pedw run` stage: the UI filters by them and a killed run is recovered by them."""
    import dagster as dg

    from pedw.settings import resolve_settings
    from pipelines.automation import OUT_OF_DATE

    settings = resolve_settings("catalogs/demo.yml", tmp_path / "w" / "pedw.duckdb")
    definitions = build_definitions(settings)
    expected = {"pedw/catalog": str(settings.catalog_path),
                "pedw/warehouse": str(settings.warehouse_path)}  # fmt: skip
    stage_jobs = [j for j in definitions.resolve_all_job_defs() if "pedw/stage" in j.tags]
    assert len(stage_jobs) == 7
    for job in stage_jobs:
        assert expected.items() <= dict(job.tags).items(), job.name
    sensor = definitions.get_sensor_def("pedw_automation")
    assert expected.items() <= sensor.run_tags.items()
    assert "(not )" not in str(sensor.asset_selection)  # how the UI shows its target
    # Daemon and `pedw run` evaluate one condition on every asset that is built.
    graph = definitions.resolve_asset_graph()
    staged_firms = dg.AssetKey(["staging", "enterprise_firms"])
    for key in graph.materializable_asset_keys - {staged_firms}:
        assert graph.get(key).automation_condition == OUT_OF_DATE, key
    # The firm partitions judge the raw firm table by their own country's slice.
    assert "SliceChanged" in str(graph.get(staged_firms).automation_condition)


def test_the_centre_is_its_own_code_location_with_offices_as_partitions(tmp_path):
    """A catalog of office packages gets the centre's definitions (pipelines/centre.py): one
    partition per office for the load, the models and the warehouse on all of them, each with
    an automation condition; the office pipeline's assets are not in it."""
    from pedw.settings import resolve_settings
    from pipelines.centre import build_centre_definitions

    catalog = tmp_path / "centre.yml"
    catalog.write_text("sources:\n  - {name: offices, level: enterprise, format: pedw_package, "
                       "path: packages/*}\n", encoding="utf-8")  # fmt: skip
    centre = build_centre_definitions(resolve_settings(catalog, tmp_path / "centre.duckdb"))
    graph = centre.resolve_asset_graph()
    keys = sorted(k.to_user_string() for k in graph.get_all_asset_keys())
    assert keys == ["federated/central_briefs", "federated/central_warehouse",
                    "federated/office_package", "federated/pooled_models"]  # fmt: skip
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        partitioned = getattr(node.partitions_def, "name", None) == "federated_office"
        assert partitioned == (key.to_user_string() == "federated/office_package"), key
        assert node.description and node.code_version and node.automation_condition, key
    jobs = {job.name for job in centre.resolve_all_job_defs()}
    assert {"centre_offices", "centre_models"} <= jobs


def test_the_office_packages_sensor_registers_new_folders_and_drops_gone_ones(tmp_path):
    import dagster as dg

    from assets.resources import PedwResource
    from pedw.settings import resolve_settings
    from pipelines.centre import office_packages

    for office in ("knbs_2026", "ubos_2026"):
        (tmp_path / "packages" / office).mkdir(parents=True)
    (tmp_path / "packages" / "notes.txt").write_text("not a package", encoding="utf-8")
    catalog = tmp_path / "centre.yml"
    catalog.write_text("sources:\n  - {name: offices, level: enterprise, format: pedw_package, "
                       "path: packages/*}\n", encoding="utf-8")  # fmt: skip
    pedw = PedwResource(**resolve_settings(catalog, tmp_path / "centre.duckdb").to_config())
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("federated_office", ["knbs_2026", "gone_2025"])
        result = office_packages(
            dg.build_sensor_context(instance=instance, resources={"pedw": pedw})
        )
        requests = [
            (type(r).__name__, r.partition_keys) for r in result.dynamic_partitions_requests
        ]
        assert requests == [("AddDynamicPartitionsRequest", ["ubos_2026"]),
                            ("DeleteDynamicPartitionsRequest", ["gone_2025"])]  # fmt: skip
        instance.add_dynamic_partitions("federated_office", ["ubos_2026"])
        instance.delete_dynamic_partition("federated_office", "gone_2025")
        skipped = office_packages(
            dg.build_sensor_context(instance=instance, resources={"pedw": pedw})
        )
        assert isinstance(skipped, dg.SkipReason)
