"""Dagster data versions for pedw assets, and the test of whether an asset is up to date.

Every asset stamps its materialization with its logical version (pedw.versions): the code
fingerprint plus its sources' file digests (raw assets) or its inputs' versions (the rest).
`pedw run` compares those with the versions of the last materializations and runs only the
assets whose version changed, whose output is missing, or whose blocking checks failed.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from pedw.catalog import Catalog, Source
from pedw.settings import Settings
from pedw.sources.registry import kept_files
from pedw.store import Store
from pedw.versions import FileDigests, code_fingerprint, combine, source_version

LEVEL = "pedw/level"
FORMATS = "pedw/formats"
BLOCKING_FAILURES = "pedw/blocking_check_failures"


def raw_source_metadata(level: str, formats: tuple[str, ...]) -> dict:
    """Asset metadata naming the catalog sources a raw asset reads (its version depends on them)."""
    return {LEVEL: level, FORMATS: ",".join(formats)}


def raw_assets_fed_by(
    assets: Sequence[dg.AssetsDefinition], sources: Sequence[Source]
) -> dict[dg.AssetKey, bool]:
    """Every raw asset, and whether one of `sources` feeds it (same level, format among its own)."""
    fed = {}
    for asset in assets:
        metadata = asset.metadata_by_key.get(asset.key, {})
        if LEVEL in metadata:
            formats = metadata[FORMATS].split(",")
            fed[asset.key] = any(
                s.level == metadata[LEVEL] and s.format in formats for s in sources
            )
    return fed


class VersionPlan:
    """Logical versions of assets for one settings/catalog, computed on demand and memoized."""

    def __init__(
        self,
        assets: Sequence[dg.AssetsDefinition],
        settings: Settings,
        catalog: Catalog,
        instance: dg.DagsterInstance,
        settings_digest: str = "",
    ):
        self.by_key = {key: a for a in assets for key in a.keys}
        self.catalog, self.instance, self.settings = catalog, instance, settings
        self.digests = FileDigests(settings.store_dir / "_versions" / "file_digests.json")
        self.code = combine(code_fingerprint(), settings_digest)
        self._versions: dict[dg.AssetKey, str] = {}

    def version(self, key: dg.AssetKey) -> str:
        if key not in self._versions:
            self._versions[key] = self._compute(key)
            self.digests.save()
        return self._versions[key]

    def _compute(self, key: dg.AssetKey) -> str:
        asset = self.by_key[key]
        metadata = asset.metadata_by_key.get(key, {})
        if LEVEL in metadata:
            level = metadata[LEVEL]
            formats = tuple(metadata[FORMATS].split(","))
            sources = self.catalog.for_level(level, formats)
            # URL sources: their last snapshot (runs refresh them first; see run_catalog).
            snapshots = self.settings.snapshots_dir
            files_of = lambda source: kept_files(source, snapshots)  # noqa: E731
            return combine(
                self.code, key.to_user_string(), source_version(sources, files_of, self.digests)
            )
        inputs = []
        for parent in sorted(asset.asset_deps[key], key=lambda k: k.to_user_string()):
            version = self.version(parent)
            partitions = self.by_key[parent].partitions_def
            if partitions is not None:
                names = self.instance.get_dynamic_partitions(partitions.name)
                version = combine(version, *names)
            inputs.append(f"{parent.to_user_string()}={version}")
        return combine(self.code, key.to_user_string(), *inputs)

    def outdated(self, asset: dg.AssetsDefinition, partitions: list[str] | None) -> list[str]:
        """Why `asset` must run (empty when its recorded materializations are current)."""
        key = asset.key
        wanted = self.version(key)
        reasons = []
        if not self._output_present(key, partitions):
            reasons.append("output missing")
        for partition in partitions or [None]:
            record = self.instance.get_latest_data_version_record(key, partition_key=partition)
            event = record.asset_materialization if record else None
            where = f" [{partition}]" if partition else ""
            if event is None:
                reasons.append(f"never materialized{where}")
            elif event.tags.get("dagster/data_version") != wanted:
                reasons.append(f"code or inputs changed{where}")
            elif event.metadata.get(BLOCKING_FAILURES, dg.IntMetadataValue(0)).value:
                reasons.append(f"blocking checks failed last time{where}")
            if reasons:
                break
        return reasons

    def _output_present(self, key: dg.AssetKey, partitions: list[str] | None) -> bool:
        store = Store(self.settings.store_dir)
        path = key.path
        if path == ["warehouse"]:
            return self.settings.warehouse_path.exists()
        if path[0] == "models":
            return store.exists("models", "estimates")
        if path == ["briefs", "country_brief"]:
            return all(
                (self.settings.briefs_dir / f"{country}.{ext}").exists()
                for country in partitions or []
                for ext in ("html", "pdf")
            )
        return store.exists(path[0], path[1])


def stamp_data_version(context: dg.AssetExecutionContext, plan: VersionPlan) -> str:
    """Record the asset's logical version on the materialization this step is producing."""
    version = plan.version(context.asset_key)
    context.set_data_version(context.asset_key, dg.DataVersion(version))
    return version
