"""Read marts for models and write model results to the store (schema `models`)."""

from __future__ import annotations

import pandas as pd

from pedw.store import Store, check_identifier


def read_table(store: Store, schema: str, table: str) -> pd.DataFrame:
    """A whole table of the store as a pandas frame (marts are analysis-sized)."""
    if not store.exists(schema, table):
        raise ValueError(f"{schema}.{table} has not been materialized yet")
    con = store.connect()
    try:
        return con.execute(
            f"SELECT * FROM {check_identifier(schema)}.{check_identifier(table)}"
        ).df()
    finally:
        con.close()


def write_frame(
    store: Store,
    schema: str,
    table: str,
    frame: pd.DataFrame,
    run_id: str,
    slice_name: str | None = None,
) -> int:
    """Write a frame as schema.table, or as one slice of it (models.estimates has one per group)."""
    con = store.connect()
    try:
        data = frame.assign(run_id=run_id)
        if slice_name is not None:
            data = data.assign(model_group=slice_name)
        con.register("_frame", data)
        return store.write(
            con,
            schema,
            table,
            "SELECT * FROM _frame",
            partition_column="model_group" if slice_name else None,
            partitions=[slice_name] if slice_name else None,
        )
    finally:
        con.close()
