"""What every asset shows in the Dagster UI: row count, columns (with the warehouse's own
column comments) and a preview of its table."""

from __future__ import annotations

import dagster as dg

from pedw.store import Store
from pedw.warehouse_docs import column_comment

PREVIEW_ROWS = 5
# A staged asset records its failed blocking checks here: `pedw run` runs it again next time.
BLOCKING_FAILURES = "pedw/blocking_check_failures"
# What an asset writes ("schema.table", or "schema.table/slice" for one slice of a table):
# `pedw run` rebuilds an asset whose output is missing even when Dagster calls it fresh.
OUTPUTS = "pedw/outputs"
# Run tag of a `pedw run`'s publication: JSON list of what became of each asset's tables.
TABLE_STATUS = "pedw/table_status"
PUBLICATION = "pedw/publication"  # tags every run of one `pedw run`
# The fingerprint of each country slice a raw load wrote, or a staged partition was built
# from (pedw.raw.slice_fingerprints): what tells automation which country changed.
SLICES = "pedw/slice_fingerprints"


def publication_id(context: dg.AssetExecutionContext) -> str:
    """The publication a step belongs to: its `pedw run`'s tag, else its own run (the UI)."""
    return context.run.tags.get(PUBLICATION, context.run_id[:12])


def outputs_metadata(*tables: str) -> dict:
    return {OUTPUTS: ",".join(tables)}


def table_metadata(store: Store, schema: str, table: str, **extra) -> dict:
    """Row count, column schema and a Markdown preview of schema.table in the store."""
    if not store.exists(schema, table):
        return {"dagster/row_count": 0, **extra}
    con = store.connect()
    try:
        rows = con.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
        columns = con.execute(f"DESCRIBE {schema}.{table}").fetchall()
        preview = con.execute(f"SELECT * FROM {schema}.{table} LIMIT {PREVIEW_ROWS}").df()
    finally:
        con.close()
    return {
        "dagster/row_count": rows,
        "dagster/column_schema": _column_schema(schema, table, columns),
        "preview": dg.MetadataValue.md(
            preview.to_markdown(index=False) if len(preview) else "(empty)"
        ),
        "table": f"{schema}.{table}",
        **extra,
    }


def _column_schema(schema: str, table: str, columns: list[tuple]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name, type=str(kind), description=column_comment(schema, table, name)
            )
            for name, kind, *_ in columns
        ]
    )


def column_schema(store: Store, schema: str, table: str) -> dict:
    """Only the documented column schema of schema.table (for assets with metadata of their own)."""
    if not store.exists(schema, table):
        return {}
    con = store.connect()
    try:
        columns = con.execute(f"DESCRIBE {schema}.{table}").fetchall()
    finally:
        con.close()
    return {"dagster/column_schema": _column_schema(schema, table, columns)}
