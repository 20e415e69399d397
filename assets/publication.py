"""Publish the warehouse: every table of the store copied into a new DuckDB file, swapped in atomically."""

import json

import dagster as dg

from assets.metadata import TABLE_STATUS, publication_id
from assets.resources import PedwResource
from pedw.code_versions import code_version
from pedw.models.storage import record_models_not_run
from pedw.public_release import build_public_release
from pedw.publication_status import table_status_frame
from pedw.release import publish_release


def publication_asset(deps: list) -> dg.AssetsDefinition:
    """The `warehouse` asset, downstream of everything it publishes."""

    @dg.asset(
        key=["warehouse"],
        group_name="publish",
        deps=deps,
        pool="warehouse",
        kinds={"duckdb"},
        code_version=code_version(["pedw.warehouse", "pedw.release", "pedw.models.storage"]),
        description="The published DuckDB warehouse analysts and briefs read (read-only), "
        "published together with the briefs as one release folder made current by one "
        "rename, so readers never see a half-written state, a mix of two runs, or a lock.",
    )
    def warehouse(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
        settings = pedw.settings()
        store = pedw.store()
        not_run = record_models_not_run(store, context.run_id)
        release_id = publication_id(context)
        status = table_status_frame(
            json.loads(context.run.tags.get(TABLE_STATUS, "[]")),
            store,
            lambda asset: _last_run(context.instance, asset),
        )
        publication = publish_release(store, settings, release_id, context.run_id, status)
        context.log.info(
            f"published {len(publication.tables)} tables to {publication.path} "
            f"in {publication.seconds:.1f}s"
        )
        counts = status["status"].value_counts().to_dict() if len(status) else {}
        return dg.MaterializeResult(
            metadata={
                "path": str(publication.path),
                "publication_id": release_id,
                "table_status": counts,
                "tables": publication.tables,
                "seconds": publication.seconds,
                "model_groups_not_run": dict(
                    zip(not_run["model_id"], not_run["reason"], strict=True)
                ),
            }
        )

    return warehouse


def _last_run(instance: dg.DagsterInstance, asset: str) -> str | None:
    """The run that last materialized `asset` (a stale table's origin)."""
    event = instance.get_latest_materialization_event(dg.AssetKey.from_user_string(asset))
    return event.run_id if event else None


def public_release_asset(warehouse: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """The `public_release` asset: the public tier, built after the internal warehouse."""

    @dg.asset(
        key=["public_release"],
        group_name="publish",
        deps=[warehouse],
        pool="warehouse",
        kinds={"duckdb", "parquet", "html"},
        code_version=code_version(["pedw.public_release"]),
        description="The public tier, apart from the microdata (<warehouse folder>_public/<stem>/): "
        "briefs, chart data and an extract of national, sector and disclosure-safe firm "
        "aggregates (DuckDB and Parquet), checked before it is made current: no firm-level "
        "row, identifier or suppressed value may be in it (docs/disclosure.md).",
    )
    def public_release(
        context: dg.AssetExecutionContext, pedw: PedwResource
    ) -> dg.MaterializeResult:
        settings = pedw.settings()
        release_id = publication_id(context)
        release = build_public_release(pedw.store(), settings, release_id, pedw.disclosure_rule())
        context.log.info(f"public release {release.path}: {release.files} files checked")
        return dg.MaterializeResult(
            metadata={
                "path": str(release.path),
                "publication_id": release_id,
                "tables": release.tables,
                "files_checked": release.files,
                "seconds": release.seconds,
            }
        )

    return public_release
