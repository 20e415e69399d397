"""What a publication holds, table by table: fresh, current, stale or absent, and why.

A run publishes what it could build even when a source was refused or a blocking check
failed; readers must then be able to tell a table rebuilt by this run from one kept from an
earlier run (and which), and know what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pedw.store import Store

if TYPE_CHECKING:
    import pandas as pd

STATUS_COLUMNS = ["table_name", "status", "reason", "asset", "built_by_run"]
# The reason of a table no source of the catalog feeds: absent by design, not for a failure.
OUT_OF_SCOPE = "not built by this run: no source of the catalog feeds it, or not requested"


def table_status_frame(
    assets: list[dict], store: Store, last_run: Callable[[str], str | None]
) -> pd.DataFrame:
    """meta.table_status rows from the run's account of each asset (`assets`: dicts with
    table, asset, state in fresh/current/left_out, reason) and the store.

    A table of an asset left out is `stale` when an earlier run's table is in the store
    (`built_by_run`: that run), else `absent`. Store tables no asset declares (quality tables
    written in slices by many assets) are `current`. Without an account (a publication
    materialized from the UI), every stored table is `current`.
    """
    import pandas as pd  # not on the no-change path, which imports pedw.release

    rows, seen = [], set()
    for entry in assets:
        schema, table = entry["table"].split(".")
        seen.add((schema, table))
        stored = store.exists(schema, table)
        if entry["state"] == "left_out":
            status = "stale" if stored else "absent"
            run = last_run(entry["asset"]) if stored else None
        else:
            status, run = entry["state"], last_run(entry["asset"])
        rows.append([entry["table"], status, entry["reason"], entry["asset"], run])
    for schema, table in store.tables():
        if (schema, table) not in seen:
            rows.append([f"{schema}.{table}", "current", "written in slices by the assets that "
                         "feed it (see its run_id column)", None, None])  # fmt: skip
    frame = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    return frame.drop_duplicates("table_name").sort_values("table_name", ignore_index=True)
