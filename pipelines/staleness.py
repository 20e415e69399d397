"""What Dagster says is out of date: the one test `pedw run` and the sensors use.

An asset (or partition) runs when Dagster reports it missing or stale (its code version, or
the data version of an input, differs from its last materialization), when its recorded
output is no longer in the store, or when its blocking checks failed last time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import dagster as dg
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus

from assets.metadata import BLOCKING_FAILURES, OUTPUTS
from pedw.briefs.published import brief_problems, missing_briefs
from pedw.release import degraded_publication, published_changed, published_ok
from pedw.settings import Settings
from pedw.store import Store
from pipelines.jobs import PUBLIC_RELEASE, WAREHOUSE

BRIEFS = dg.AssetKey(["briefs", "country_brief"])


class Staleness:
    """Stale-status answers for one moment of an instance (make a new one after a run)."""

    def __init__(self, instance: dg.DagsterInstance, graph):
        """`graph`: the asset graph (Definitions.resolve_asset_graph(), or a sensor's
        context.repository_def.asset_graph)."""
        self.instance = instance
        self.graph = graph
        view = AssetGraphView(
            temporal_context=TemporalContext(
                effective_dt=dt.datetime.now(dt.UTC), last_event_id=None
            ),
            instance=instance,
            asset_graph=self.graph,
        )
        self.resolver = CachingStaleStatusResolver(instance, self.graph, loading_context=view)

    def reasons(
        self, key: dg.AssetKey, partitions: Iterable[str] | None, settings: Settings
    ) -> list[str]:
        """Why `key` (or one of its `partitions`) must run; empty when it is current."""
        declared = self.graph.get(key).metadata.get(OUTPUTS)
        if not _outputs_present(declared, key, partitions, settings):
            return ["output missing"]
        changed = _outputs_changed(declared, settings)
        if changed:
            return [f"output changed outside pedw ({changed[0]})"]
        if key == WAREHOUSE and (
            why := published_changed(settings.warehouse_path) or degraded_publication(settings)
        ):
            return [why]
        if key == PUBLIC_RELEASE and (
            why := published_changed(
                settings.public_dir / "public.duckdb", "the public extract", settings.public_seal
            )
        ):
            return [why]
        if key == BRIEFS:
            problems = brief_problems(Store(settings.store_dir), settings, partitions, False)
            if problems:
                country, why = sorted(problems.items())[0]
                return [f"briefs do not match the tables ({len(problems)} economies; {country}: "
                        f"{why})"]  # fmt: skip
        for partition in partitions or [None]:
            where = f" [{partition}]" if partition else ""
            status = self.resolver.get_status(key, partition)
            if status == StaleStatus.MISSING:
                return [f"never materialized{where}"]
            if status == StaleStatus.STALE:
                causes = self.resolver.get_stale_root_causes(key, partition)
                return [_describe(cause) + where for cause in causes] or [f"stale{where}"]
            record = self.instance.get_latest_data_version_record(key, partition_key=partition)
            event = record.asset_materialization if record else None
            if event and event.metadata.get(BLOCKING_FAILURES, dg.IntMetadataValue(0)).value:
                return [f"blocking checks failed last time{where}"]
        return []


def _describe(cause) -> str:
    """A stale cause in the words of the run summary."""
    category = getattr(cause.category, "name", str(cause.category))
    if category == "CODE":
        return f"code changed ({cause.key.asset_key.to_user_string()})"
    return f"inputs changed ({cause.key.asset_key.to_user_string()}: {cause.reason})"


def declared_outputs(declared) -> list[tuple[str, str, str]]:
    """(schema, table, partition or "") of each output in an OUTPUTS metadata value."""
    if declared is None:
        return []
    text = declared.value if hasattr(declared, "value") else str(declared)
    found = []
    for output in text.split(","):
        table, _, part = output.partition("/")
        schema, name = table.split(".")
        found.append((schema, name, part))
    return found


def _outputs_changed(declared, settings: Settings) -> list[str]:
    """Store files of the declared outputs that pedw did not write as they are now (their seal
    does not match): a file edited or replaced by hand, or by another program."""
    store = Store(settings.store_dir)
    return [
        str(path.relative_to(store.root))
        for schema, name, part in declared_outputs(declared)
        for path in store.unsealed(schema, name, part or None)
    ]


def _outputs_present(
    declared, key: dg.AssetKey, partitions: Iterable[str] | None, settings: Settings
) -> bool:
    """True when every output the asset declares exists (the store can be emptied by hand)."""
    if key == WAREHOUSE:
        return published_ok(settings)
    if key == PUBLIC_RELEASE:
        return (settings.public_dir / "public.duckdb").is_file()
    if key == BRIEFS:
        return not missing_briefs(Store(settings.store_dir), settings, list(partitions or []))
    store = Store(settings.store_dir)
    for schema, name, part in declared_outputs(declared):
        if part:
            if not (store.table_dir(schema, name) / f"{part}.parquet").is_file():
                return False
        elif not store.exists(schema, name):
            return False
    return True
