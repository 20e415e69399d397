"""Materialize everything a catalog needs, every partition included, in dependency order.

The Dagster CLI refuses one selection spanning assets with different partitions; this does
it in five runs: unpartitioned upstream; the country-partitioned enterprise assets (one
single-run backfill over all countries); what depends on them; the country briefs (another
single-run backfill); and the publication of the warehouse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from assets.briefs import BRIEF_ASSETS
from assets.enterprise import ENTERPRISE_ASSETS, enterprise_countries
from assets.versioning import raw_assets_fed_by
from pedw.catalog import Catalog, load_catalog
from pedw.raw import raw_partitions
from pedw.settings import Settings
from pedw.sources.registry import refresh_snapshots
from pedw.store import Store
from pipelines.definitions import ALL_ASSETS, build_definitions

WAREHOUSE = dg.AssetKey(["warehouse"])


@dataclass
class RunSummary:
    """Outcome of a full catalog run."""

    success: bool
    run_ids: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)
    brief_countries: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    not_materialized: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # current: left alone
    rebuilt: dict[str, str] = field(default_factory=dict)  # asset -> why it ran (not with full)
    seconds: float = 0.0


def downstream_of(keys: set[dg.AssetKey]) -> set[dg.AssetKey]:
    graph = {a.key: set(a.dependency_keys) for a in ALL_ASSETS}
    found, changed = set(), True
    while changed:
        changed = False
        for key, deps in graph.items():
            if key not in found and key not in keys and deps & (keys | found):
                found.add(key)
                changed = True
    return found


def without_sources(catalog: Catalog) -> set[dg.AssetKey]:
    """Raw assets that no source of `catalog` feeds (their level and formats have none)."""
    return {key for key, fed in raw_assets_fed_by(ALL_ASSETS, catalog.sources).items() if not fed}


def _phases() -> list[tuple[str, list[dg.AssetsDefinition]]]:
    enterprise = {a.key for a in ENTERPRISE_ASSETS}
    briefs = {a.key for a in BRIEF_ASSETS}
    late = briefs | {WAREHOUSE}
    after_enterprise = downstream_of(enterprise) - late
    first = [a for a in ALL_ASSETS if a.key not in enterprise | after_enterprise | late]
    return [
        ("national and sector", first),
        ("enterprise partitions", list(ENTERPRISE_ASSETS)),
        ("enterprise marts and models", [a for a in ALL_ASSETS if a.key in after_enterprise]),
        ("country briefs", list(BRIEF_ASSETS)),
        ("warehouse publication", [a for a in ALL_ASSETS if a.key == WAREHOUSE]),
    ]


def _brief_keys(settings: Settings) -> list[str]:
    """One brief per economy in the national panel."""
    store = Store(settings.store_dir)
    if not store.exists("marts", "national_panel"):
        return []
    con = store.connect()
    try:
        return [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT ref_area FROM marts.national_panel ORDER BY 1"
            ).fetchall()
        ]
    finally:
        con.close()


def run_catalog(
    settings: Settings,
    instance: dg.DagsterInstance,
    progress: Callable[[str], None] = print,
    log_level: str = "WARNING",
    briefs: bool = True,
    full: bool = False,
) -> RunSummary:
    """Materialize every asset for `settings` on `instance` whose version changed.

    An asset whose logical version (code plus inputs, see assets.versioning) matches its
    last materialization, whose output exists and whose blocking checks passed is left
    alone; `full=True` rebuilds everything. A failed asset, or a failed blocking check,
    stops only what depends on it: later phases leave out the downstream of every asset
    that failed or was blocked in an earlier one; the warehouse is published only when
    nothing it depends on failed.
    """
    started = time.perf_counter()
    catalog = load_catalog(settings.catalog_path)
    # One conditional request per URL source: the versions below then see a new release.
    refresh_snapshots(catalog.sources, settings.snapshots_dir)
    definitions = build_definitions(str(settings.catalog_path), str(settings.warehouse_path))
    resources = {"pedw": definitions.resources["pedw"]}
    summary = RunSummary(success=True)
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    stopped: set[dg.AssetKey] = set()
    # A catalog without sources for a raw asset (no firm panel, no SCORE workbook) is
    # complete without it and what is built on it only: those are left out, and the
    # warehouse is still published.
    absent = without_sources(catalog)
    if not briefs:
        absent |= {a.key for a in BRIEF_ASSETS}
    phases = _phases()
    for number, (label, phase) in enumerate(phases, start=1):
        step = f"[{number}/{len(phases)}] {label}"
        excluded = stopped | downstream_of(stopped)
        if absent:
            excluded |= (absent | downstream_of(absent)) - {WAREHOUSE}
        selection = [a for a in phase if a.key not in excluded]
        if not selection:
            reason = (
                "upstream failed or blocked"
                if phase and phase[0].key in stopped | downstream_of(stopped)
                else "not requested"
                if not briefs and phase[0] in BRIEF_ASSETS
                else "not in this catalog"
            )
            progress(f"{step}: skipped ({reason})")
            continue
        tags, wanted = {}, None
        partitions_def = selection[0].partitions_def
        if partitions_def is not None:
            if partitions_def.name == enterprise_countries.name:
                # The countries the raw load found (it ran in an earlier phase).
                wanted = summary.partitions = raw_partitions(Store(settings.store_dir))
            else:
                wanted = summary.brief_countries = _brief_keys(settings)
            if not wanted:
                progress(f"{step}: no partitions, skipped")
                absent |= {a.key for a in phase}
                continue
            existing = set(instance.get_dynamic_partitions(partitions_def.name))
            instance.add_dynamic_partitions(
                partitions_def.name, [k for k in wanted if k not in existing]
            )
            ordered = instance.get_dynamic_partitions(partitions_def.name)
            tags = {
                "dagster/asset_partition_range_start": ordered[0],
                "dagster/asset_partition_range_end": ordered[-1],
            }
            step = f"{step} ({len(wanted)} countries)"
        if not full:
            plan = resources["pedw"].version_plan(instance)
            reasons = {a.key: plan.outdated(a, wanted) for a in selection}
            summary.unchanged += [k.to_user_string() for k, why in reasons.items() if not why]
            summary.rebuilt.update(
                {k.to_user_string(): why[0] for k, why in reasons.items() if why}
            )
            selection = [a for a in selection if reasons[a.key]]
            if not selection:
                progress(f"{step}: unchanged, nothing to run")
                continue
        skipped = len(phase) - len(selection)

        progress(
            f"{step}: {len(selection)} assets"
            + (f", {skipped} left out" if skipped else "")
            + " ..."
        )
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
        materialized = set()
        for event in result.get_asset_materialization_events():
            materialization = event.event_specific_data.materialization
            materialized.add(materialization.asset_key)
            rows = materialization.metadata.get("dagster/row_count")
            if rows is not None and materialization.partition is None:
                summary.row_counts[materialization.asset_key.to_user_string()] = rows.value
        for evaluation in result.get_asset_check_evaluations():
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                summary.blocked.append(
                    f"{evaluation.asset_key.to_user_string()}: check {evaluation.check_name} failed"
                )
                stopped.add(evaluation.asset_key)
        for event in result.all_events:
            if event.is_step_failure:
                summary.failures.append(
                    f"{event.step_key}: {event.event_specific_data.error.message.strip()}"
                )
        stopped |= {a.key for a in selection if a.key not in materialized}
        if not result.success or summary.blocked:
            summary.success = False
        state = "done" if result.success else "FAILED (what depends on it is left out)"
        progress(f"{step}: {state} in {time.perf_counter() - phase_started:.1f}s")
    summary.not_materialized = sorted(k.to_user_string() for k in stopped | downstream_of(stopped))
    summary.seconds = time.perf_counter() - started
    return summary
