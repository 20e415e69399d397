"""Materialize everything a catalog needs, every partition included, in dependency order.

The Dagster CLI refuses one selection spanning assets with different partitions; this does
it in three runs: unpartitioned upstream, the country-partitioned enterprise assets (one
single-run backfill over all countries), then what depends on them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from assets.enterprise import ENTERPRISE_ASSETS, enterprise_countries
from pedw.catalog import load_catalog
from pedw.raw import partition_keys
from pedw.settings import Settings
from pipelines.definitions import ALL_ASSETS, build_definitions

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class RunSummary:
    """Outcome of a full catalog run."""

    success: bool
    run_ids: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _phases() -> list[tuple[str, list[dg.AssetsDefinition]]]:
    partitioned = {a.key for a in ENTERPRISE_ASSETS}
    enterprise_downstream = _downstream_of(partitioned)
    first = [
        a for a in ALL_ASSETS if a.key not in partitioned and a.key not in enterprise_downstream
    ]
    last = [a for a in ALL_ASSETS if a.key in enterprise_downstream]
    return [
        ("national and sector", first),
        ("enterprise partitions", list(ENTERPRISE_ASSETS)),
        ("enterprise marts, models and publication", last),
    ]


def _downstream_of(keys: set[dg.AssetKey]) -> set[dg.AssetKey]:
    graph = {a.key: set(a.dependency_keys) for a in ALL_ASSETS}
    found, changed = set(), True
    while changed:
        changed = False
        for key, deps in graph.items():
            if key not in found and key not in keys and deps & (keys | found):
                found.add(key)
                changed = True
    return found


def run_catalog(
    settings: Settings,
    instance: dg.DagsterInstance,
    progress: Callable[[str], None] = print,
    log_level: str = "WARNING",
) -> RunSummary:
    """Materialize every asset for `settings` on `instance`; stop at the first failed phase."""
    started = time.perf_counter()
    catalog = load_catalog(settings.catalog_path)
    definitions = build_definitions(str(settings.catalog_path), str(settings.warehouse_path))
    resources = {"pedw": definitions.resources["pedw"]}
    keys = partition_keys(catalog)
    summary = RunSummary(success=True, partitions=keys)
    if keys:
        existing = set(instance.get_dynamic_partitions(enterprise_countries.name))
        instance.add_dynamic_partitions(
            enterprise_countries.name, [k for k in keys if k not in existing]
        )
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    for number, (label, selection) in enumerate(_phases(), start=1):
        tags = {}
        if selection and selection[0].partitions_def is not None:
            if not keys:
                progress(f"[{number}/3] {label}: no enterprise source in the catalog, skipped")
                continue
            ordered = instance.get_dynamic_partitions(enterprise_countries.name)
            tags = {
                "dagster/asset_partition_range_start": ordered[0],
                "dagster/asset_partition_range_end": ordered[-1],
            }
            label = f"{label} ({len(keys)} countries)"
        progress(f"[{number}/3] {label}: {len(selection)} assets ...")
        phase_started = time.perf_counter()
        result = dg.materialize(
            ALL_ASSETS,
            selection=[a.key for a in selection],
            instance=instance,
            resources=resources,
            tags=tags,
            run_config=run_config,
            raise_on_error=False,
        )
        summary.run_ids.append(result.run_id)
        for event in result.get_asset_materialization_events():
            materialization = event.event_specific_data.materialization
            rows = materialization.metadata.get("dagster/row_count")
            if rows is not None and materialization.partition is None:
                summary.row_counts[materialization.asset_key.to_user_string()] = rows.value
        if not result.success:
            summary.success = False
            for event in result.all_events:
                if event.is_step_failure:
                    summary.failures.append(
                        f"{event.step_key}: {event.event_specific_data.error.message.strip()}"
                    )
            progress(f"[{number}/3] {label}: FAILED")
            break
        progress(f"[{number}/3] {label}: done in {time.perf_counter() - phase_started:.1f}s")
    summary.seconds = time.perf_counter() - started
    return summary
