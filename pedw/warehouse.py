"""The published warehouse: a DuckDB file analysts open read-only, replaced atomically.

A publication copies every table of the Parquet store into a new DuckDB file, checkpoints
it, and renames it over the published file. Readers that opened the old file keep reading
it; new readers see the new one; nobody ever sees a half-written warehouse or waits on a
writer's lock.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pedw.store import SCHEMAS, Store, offline_connection, sql_string


@dataclass(frozen=True)
class Publication:
    """What was published: where, which run, and the row count of every table."""

    path: Path
    run_id: str
    tables: dict[str, int]
    seconds: float


def publish(
    store: Store, warehouse_path: str | Path, run_id: str, fingerprints: dict | None = None
) -> Publication:
    """Build a new warehouse file from the store and swap it in atomically."""
    started = time.perf_counter()
    target = Path(warehouse_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.{uuid.uuid4().hex}.building")
    tables: dict[str, int] = {}
    con = offline_connection(str(building))
    try:
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for schema, table in store.tables():
            con.execute(
                f"CREATE TABLE {schema}.{table} AS SELECT * FROM read_parquet("
                f"{sql_string(store.parquet_glob(schema, table))}, union_by_name = true)"
            )
            tables[f"{schema}.{table}"] = con.execute(
                f"SELECT count(*) FROM {schema}.{table}"
            ).fetchone()[0]
        con.execute("CREATE SCHEMA IF NOT EXISTS meta")
        con.execute(
            """CREATE TABLE meta.publication AS SELECT $run_id AS run_id,
                       current_timestamp AS published_at, $tables AS table_rows, $fingerprints AS fingerprints""",
            {
                "run_id": run_id,
                "tables": json.dumps(tables),
                "fingerprints": json.dumps(fingerprints or {}),
            },
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    wal = building.with_name(building.name + ".wal")
    if wal.exists():
        raise RuntimeError(
            f"{wal} left behind after CHECKPOINT; not publishing a file that needs it"
        )
    os.replace(building, target)
    return Publication(target, run_id, tables, time.perf_counter() - started)


def connect_read_only(warehouse_path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only (never blocks a running pipeline, never writes)."""
    path = Path(warehouse_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no published warehouse at {path}; run `pedw run` (or `make demo`) first"
        )
    return offline_connection(str(path), read_only=True)
