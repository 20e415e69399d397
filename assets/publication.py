"""Publish the warehouse: every table of the store copied into a new DuckDB file, swapped in atomically."""

import dagster as dg

from assets.resources import PedwResource
from pedw.code_versions import code_version
from pedw.models.storage import record_models_not_run
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
        publication_id = context.run.tags.get("pedw/publication", context.run_id[:12])
        publication = publish_release(
            store, settings, settings.briefs_build_dir, publication_id, context.run_id
        )
        context.log.info(
            f"published {len(publication.tables)} tables to {publication.path} "
            f"in {publication.seconds:.1f}s"
        )
        return dg.MaterializeResult(
            metadata={
                "path": str(publication.path),
                "publication_id": publication_id,
                "tables": publication.tables,
                "seconds": publication.seconds,
                "model_groups_not_run": dict(
                    zip(not_run["model_id"], not_run["reason"], strict=True)
                ),
            }
        )

    return warehouse
