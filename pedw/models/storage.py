"""Read marts for models and write model results to the store (schema `models`)."""

from __future__ import annotations

import pandas as pd

from pedw.models.ledger import NOT_RUN, STATUS_COLUMNS, ModelLedger, typed_frame
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
        # A text column with no value in this run (no exclusions, no entry/exit sector) is
        # still text: without this DuckDB would type it NULL.
        data = frame.assign(run_id=run_id)
        if slice_name is not None:
            data = data.assign(model_group=slice_name)
        empty_text = [c for c in data if data[c].dtype == object and data[c].isna().all()]
        data = data.astype(dict.fromkeys(empty_text, "string"))
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


# Every model group and the mart it is fitted on: a group with no slice in models.status at
# publication time did not run, and gets a row saying why.
MODEL_GROUPS = {
    "national": "national_panel",
    "sector": "sector_panel",
    "shift_share": "sector_panel",
    "enterprise_multilevel": "enterprise_panel",
    "enterprise_cross_level": "enterprise_panel",
    "enterprise_sme_gap": "enterprise_panel",
    "sme_gap": "enterprise_panel",
    "score_impact": "enterprise_panel",
    "enterprise_resilience": "enterprise_panel",
}
NOT_RUN_SLICE = "_not_run"
MART_SOURCES = {
    "national_panel": "national data",
    "sector_panel": "sector data",
    "enterprise_panel": "firm data",
}


def write_model_outputs(
    store: Store, group: str, estimates: pd.DataFrame, ledger: ModelLedger, run_id: str
) -> int:
    """A model group's slices of models.estimates, models.status and quality.model_exclusions."""
    rows = write_frame(store, "models", "estimates", estimates, run_id, slice_name=group)
    write_model_ledger(store, group, ledger.status(estimates), ledger, run_id)
    return rows


def write_model_ledger(
    store: Store, group: str, status: pd.DataFrame, ledger: ModelLedger, run_id: str
) -> None:
    write_frame(store, "models", "status", status, run_id, slice_name=group)
    write_frame(store, "quality", "model_exclusions", ledger.exclusions(), run_id, group)


def record_models_not_run(store: Store, run_id: str) -> pd.DataFrame:
    """models.status rows for every model group that left no status: why it did not run."""
    ran = set()
    if store.exists("models", "status"):
        ran = set(read_table(store, "models", "status")["model_group"]) - {NOT_RUN_SLICE}
    rows = []
    for group, mart in MODEL_GROUPS.items():
        if group in ran:
            continue
        if store.exists("marts", mart):
            reason = f"models/{group} did not materialize (it failed, or an input was blocked)"
        else:
            reason = f"no {MART_SOURCES[mart]}: marts.{mart} is not built from this catalog"
        rows.append({"model_id": group, "level": mart.split("_")[0], "status": NOT_RUN,
                     "reason": reason})  # fmt: skip
    status = typed_frame(rows, STATUS_COLUMNS)
    ledger = ModelLedger("none")
    write_model_ledger(store, NOT_RUN_SLICE, status, ledger, run_id)
    return status
