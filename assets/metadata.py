"""What every asset shows in the Dagster UI: row count, columns and a preview of its table."""

from __future__ import annotations

import dagster as dg

from pedw.store import Store

PREVIEW_ROWS = 5


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
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name=name, type=str(kind)) for name, kind, *_ in columns]
        ),
        "preview": dg.MetadataValue.md(
            preview.to_markdown(index=False) if len(preview) else "(empty)"
        ),
        "table": f"{schema}.{table}",
        **extra,
    }
