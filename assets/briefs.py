"""Policy briefs: one HTML page and one PDF per country, from materialized marts and models only."""

import dagster as dg
import pandas as pd

from assets.disclosure import DISCLOSURE_ASSETS
from assets.marts import national_panel
from assets.metadata import outputs_metadata, publication_id, table_metadata
from assets.models import MODEL_ASSETS
from assets.resources import PedwResource
from pedw.code_versions import code_version

brief_countries = dg.DynamicPartitionsDefinition(name="brief_country")


@dg.asset(
    key=["briefs", "country_brief"],
    group_name="briefs",
    partitions_def=brief_countries,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[national_panel, *MODEL_ASSETS, *DISCLOSURE_ASSETS],
    kinds={"html", "pdf"},
    code_version=code_version(["pedw.briefs.build"]),
    metadata=outputs_metadata("briefs.index", "briefs.claims"),
    description="A policy brief per economy with enough national data (HTML, the A4 PDF "
    "printed from it, and the CSV data of its charts): key messages, productivity against "
    "peers, a decent-work scorecard, and where the catalog has them structural change and "
    "the SME-large gap (under disclosure control); cross-country findings apart; units, "
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


BRIEF_ASSETS = [country_brief]
