"""The centre (docs/federated.md): each office's package is a partition of
federated/office_package; the central models and the central warehouse are built on all of
them. Thin wrappers over pedw.federated.central_store."""

import dagster as dg

from assets.metadata import publication_id
from assets.resources import PedwResource
from pedw.code_versions import code_version
from pedw.federated.central_store import (
    catalog_answers,
    files_digest,
    inputs_digest,
    load_office,
    package_folders,
    pool_offices,
    publish_centre,
)
from pedw.federated.package import PackageError

# One partition per package folder the centre's catalog finds (keyed by the folder's name).
federated_offices = dg.DynamicPartitionsDefinition(name="federated_office")
GROUP = "federated"
CENTRAL_CODE = code_version(["pedw.federated.central_store"])
# Metadata of each office partition: the SHA-256 over its package folder when it was loaded
# (pipelines/centre.py compares it with the folder now); of the models: the offices pooled
# and the answers' digest (central_store.inputs_digest).
PACKAGE_DIGEST = "pedw/package_digest"
INPUTS_DIGEST = "pedw/inputs_digest"


def request_path(pedw: PedwResource):
    """Where the centre writes its round-two request for the offices: beside the warehouse."""
    warehouse = pedw.settings().warehouse_path
    return warehouse.with_name(f"{warehouse.stem}_round_two_request.json")


@dg.asset(
    key=["federated", "office_package"],
    group_name=GROUP,
    partitions_def=federated_offices,
    pool="warehouse",
    kinds={"parquet"},
    code_version=CENTRAL_CODE,
    description="One office's aggregate package (catalog format pedw_package), verified "
    "(manifest SHA-256, pedw version and formats, no economy another office holds) and loaded "
    "into the federated store tables with its office and package digest; a refused package "
    "fails with one line and writes nothing.",
)
def office_package(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    key = context.partition_key
    folder = package_folders(pedw.load_catalog()).get(key)
    if folder is None:
        raise PackageError(f"office {key}: no package folder of that name matches the "
                           f"catalog's paths ({pedw.settings().catalog_path})")  # fmt: skip
    loaded = load_office(pedw.store(), key, folder)
    context.log.info(f"office {key}: {loaded.producer}, {len(loaded.economies)} economies, "
                     f"{loaded.statistics} statistics, {loaded.withheld} withheld")  # fmt: skip
    return dg.MaterializeResult(
        data_version=dg.DataVersion(loaded.digest),
        metadata={
            PACKAGE_DIGEST: loaded.digest,
            "path": str(loaded.path),
            "producer": loaded.producer,
            "economies": loaded.economies,
            "statistics": loaded.statistics,
            "withheld": loaded.withheld,
            "public_tables": loaded.tables,
        },
    )


@dg.asset(
    key=["federated", "pooled_models"],
    group_name=GROUP,
    deps=[office_package],
    pool="warehouse",
    kinds={"parquet"},
    code_version=code_version(["pedw.federated.central_store", "pedw.federated.sufficient"]),
    description="The central models from every office: exact pools of the fixed-effects "
    "models nested in the country (federated.pooled_estimates), each country's own fit "
    "(federated.country_estimates) and their random-effects meta-analysis "
    "(federated.meta_estimates); writes the round-two request for the firm-clustered models.",
)
def pooled_models(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    answers = catalog_answers(pedw.load_catalog())
    offices = context.instance.get_dynamic_partitions(federated_offices.name)
    models = pool_offices(pedw.store(), answers, request_path(pedw), offices)
    context.log.info(f"pooled {len(models.offices)} offices, {len(models.countries)} countries "
                     f"in {models.seconds:.1f}s")  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "offices": models.offices,
            "countries": len(models.countries),
            "rows": models.rows,
            "round_two_models": models.round_two_models,
            "round_two_request": str(request_path(pedw)),
            "answer_files": models.answers_used,
            INPUTS_DIGEST: inputs_digest(offices, files_digest(answers)),
        }
    )


@dg.asset(
    key=["federated", "central_briefs"],
    group_name=GROUP,
    # The offices' public tables (loaded with them) and the pool: every office load
    # rebuilds the pool, so the pool alone says when the briefs are out of date.
    deps=[pooled_models],
    pool="warehouse",
    kinds={"html", "pdf"},
    code_version=code_version(["pedw.federated.central_briefs"]),
    description="The centre's country briefs and cross-country annex, by the briefs' own "
    "code, reading the central equivalents of the tables they read: national figures from "
    "the national office's package, each economy's SME gaps as its office's disclosure "
    "control released them (naming the office, producer and publication), firm-level "
    "results of the annex pooled across the offices' packages. Built under "
    "<store>/_briefs/<run id>/; index in federated.briefs; published by "
    "federated/central_warehouse.",
)
def central_briefs(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    from pedw.briefs.published import brief_run_dir  # charts and PDFs: loaded here only
    from pedw.federated.central_briefs import build_central_briefs

    store, settings = pedw.store(), pedw.settings()
    built = build_central_briefs(
        store,
        pedw.load_catalog(),
        brief_run_dir(settings, context.run_id),
        publication_id(context),
        context.run_id,
        workers=settings.brief_workers,
    )
    con = store.connect()
    try:
        con.register("_index", built.index)
        store.write(con, "federated", "briefs", "SELECT * FROM _index")
    finally:
        con.close()
    context.log.info(f"{len(built.countries)} central briefs and the annex; national figures "
                     f"from office {built.national_office}")  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "briefs": len(built.countries),
            "national_office": built.national_office,
            "suppressed_cells": int(built.index["suppressed_cells"].sum()),
        }
    )


@dg.asset(
    key=["federated", "central_warehouse"],
    group_name=GROUP,
    deps=[pooled_models, central_briefs],
    pool="warehouse",
    kinds={"duckdb"},
    code_version=CENTRAL_CODE,
    description="The central DuckDB warehouse: federated.* (packages, statistics, withheld, "
    "pooled, country and meta estimates) and the offices' public tables stacked with their "
    "office; built beside the published file and renamed over it.",
)
def central_warehouse(
    context: dg.AssetExecutionContext, pedw: PedwResource
) -> dg.MaterializeResult:
    from pedw.federated.central_briefs import publish_central_briefs, stored_brief_index

    settings, store = pedw.settings(), pedw.store()
    out = settings.warehouse_path
    counts = publish_centre(store, out)
    briefs = None
    if store.exists("federated", "briefs"):
        index = stored_brief_index(store)
        briefs = publish_central_briefs(index, settings.briefs_build_dir, settings.briefs_dir)
    context.log.info(f"central warehouse {out}: {len(counts)} tables; briefs in {briefs}")
    return dg.MaterializeResult(
        metadata={"path": str(out), "tables": counts, "briefs": str(briefs or "")}
    )


CENTRE_ASSETS = [office_package, pooled_models, central_briefs, central_warehouse]
