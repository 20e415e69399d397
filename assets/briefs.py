"""Policy briefs: one HTML page and one PDF per country, and one cross-country annex they all
link to, from materialized marts and models only."""

import dagster as dg
import pandas as pd

from assets.disclosure import DISCLOSURE_ASSETS
from assets.marts import national_panel
from assets.metadata import outputs_metadata, publication_id, table_metadata
from assets.models import MODEL_ASSETS, national_estimates, shift_share_decomposition
from assets.resources import PedwResource
from pedw.briefs.published import ANNEX
from pedw.code_versions import code_version

brief_countries = dg.DynamicPartitionsDefinition(name="brief_country")


@dg.asset(
    key=["briefs", "country_brief"],
    group_name="briefs",
    partitions_def=brief_countries,
    backfill_policy=dg.BackfillPolicy.single_run(),
    # The economy's own figures (national panel, sector decomposition, SME gaps as released)
    # and the national models' status (which estimation samples it is in): not the other
    # models' results, which are the annex's.
    deps=[national_panel, national_estimates, shift_share_decomposition, *DISCLOSURE_ASSETS],
    kinds={"html", "pdf"},
    code_version=code_version(["pedw.briefs.build"]),
    metadata=outputs_metadata("briefs.index", "briefs.claims"),
    description="A policy brief per economy with enough national data (HTML, the A4 PDF "
    "printed from it, and the CSV data of its charts): key messages, productivity against "
    "peers, a decent-work scorecard, and where the catalog has them structural change and "
    "the SME-large gap (under disclosure control); a link to the cross-country annex and "
    "whether the economy is in each national model's estimation sample; its own data quality; units, "
    "sources and releases under every figure; the publication id. Built under "
    "<store>/_briefs/<run id>/ and published with the warehouse built from the same tables "
    "(<warehouse folder>/briefs/); index, with each file's SHA-256, in briefs.index; every "
    "candidate key message and the checks it passed in briefs.claims.",
)
def country_brief(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
    from pedw.briefs.build import build_briefs, index_frame  # charts and PDFs: loaded here only
    from pedw.briefs.published import brief_run_dir

    store, settings = pedw.store(), pedw.settings()
    catalog, rule = pedw.load_catalog(), pedw.disclosure_rule()
    release_id = publication_id(context)
    out_dir = brief_run_dir(settings, context.run_id)  # this run's own: see pedw.briefs.published
    built = build_briefs(
        store,
        catalog,
        out_dir,
        list(context.partition_keys),
        rule,
        release_id,
        workers=settings.brief_workers,
    )
    frame = index_frame(built, release_id, context.run_id)
    claims = pd.concat([b.claims for b in built], ignore_index=True) if built else None
    con = store.connect()
    try:
        con.register("_index", frame)
        # The index last: its row is what makes a brief's files publishable.
        written = []
        if claims is not None:
            con.register("_claims", claims)
            written.append(("claims", "_claims"))
        written.append(("index", "_index"))
        for table, rows in written:
            store.write(
                con,
                "briefs",
                table,
                f"SELECT * FROM {rows}",
                partition_column="country",
                partitions=list(context.partition_keys),
            )
    finally:
        con.close()
    context.log.info(f"{len(built)} briefs built in {out_dir}")
    return dg.MaterializeResult(
        metadata={
            **table_metadata(store, "briefs", "index"),
            "briefs_build_dir": str(out_dir),
            "suppressed_cells": int(frame["suppressed_cells"].sum()),
        }
    )


@dg.asset(
    key=["briefs", "cross_country_annex"],
    group_name="briefs",
    # The models' results, and the national panel (with marts.series_choice): which values
    # in a national result's sample are modelled.
    deps=[*MODEL_ASSETS, *DISCLOSURE_ASSETS, national_panel],
    kinds={"html", "pdf"},
    code_version=code_version(["pedw.briefs.annex"]),
    metadata=outputs_metadata(f"briefs.index/{ANNEX}"),
    description="The cross-country annex every country brief links to, built once per "
    "publication (HTML and the A4 PDF printed from it): the model results over all the "
    "economies, each a finding only when its 95% interval excludes no effect (otherwise "
    "'no clear association'), firm-level results only as disclosure control released them. "
    f"Built under <store>/_briefs/<run id>/ as {ANNEX}.html and .pdf and published with the "
    f"briefs; its row in briefs.index (country '{ANNEX}') holds each file's SHA-256.",
)
def cross_country_annex(
    context: dg.AssetExecutionContext, pedw: PedwResource
) -> dg.MaterializeResult:
    from pedw.briefs.annex import build_annex  # PDFs: loaded here only
    from pedw.briefs.published import brief_run_dir

    store, settings = pedw.store(), pedw.settings()
    out_dir = brief_run_dir(settings, context.run_id)
    row = build_annex(
        store, out_dir, publication_id(context), context.run_id, pedw.load_catalog().synthetic
    )
    con = store.connect()
    try:
        con.register("_annex", row)
        store.write(
            con, "briefs", "index", "SELECT * FROM _annex", partition_column="country",
            partitions=[ANNEX],
        )  # fmt: skip
    finally:
        con.close()
    context.log.info(f"cross-country annex built in {out_dir}")
    return dg.MaterializeResult(
        metadata={"briefs_build_dir": str(out_dir), "files_sha256": row["files_sha256"].iloc[0]}
    )


BRIEF_ASSETS = [cross_country_annex, country_brief]
