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
from typing import TYPE_CHECKING

import duckdb

from pedw.store import (
    SCHEMAS,
    Store,
    check_identifier,
    offline_connection,
    quote_identifier,
    sql_string,
)
from pedw.warehouse_docs import column_comment, table_comment

if TYPE_CHECKING:
    import pandas as pd

# The first stable DuckDB storage format: every DuckDB client since v1.0 (June 2024) opens the
# published file (CLI, Python, R, DBeaver's JDBC driver), comments included.
PUBLISHED_STORAGE_VERSION = "v1.0.0"


@dataclass(frozen=True)
class Publication:
    """What was published: where, which run, and the row count of every table."""

    path: Path
    run_id: str
    tables: dict[str, int]
    seconds: float


def publish(
    store: Store,
    warehouse_path: str | Path,
    run_id: str,
    publication_id: str = "",
    table_status: pd.DataFrame | None = None,
    records: dict[str, pd.DataFrame] | None = None,
) -> Publication:
    """Build a new warehouse file from the store and swap it in atomically.

    Every table and column carries its comment (pedw/warehouse_docs.yml) and
    meta.publication the SHA-256 of each table's store files. `records` are more meta
    tables by name (the publication log and the release's brief manifest:
    pedw.publication_log).
    """
    started = time.perf_counter()
    target = Path(warehouse_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.{uuid.uuid4().hex}.building")
    tables: dict[str, int] = {}
    fingerprints: dict[str, str] = {}
    con = offline_connection(str(building), storage_version=PUBLISHED_STORAGE_VERSION)
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
            fingerprints[f"{schema}.{table}"] = store.fingerprint(schema, table)
            _comment(con, schema, table)
        con.execute("CREATE SCHEMA IF NOT EXISTS meta")
        con.execute(
            """CREATE TABLE meta.publication AS SELECT $publication AS publication_id,
                       $run_id AS run_id, current_timestamp AS published_at,
                       $tables AS table_rows, $fingerprints AS fingerprints""",
            {
                "publication": publication_id or run_id,
                "run_id": run_id,
                "tables": json.dumps(tables),
                "fingerprints": json.dumps(fingerprints),
            },
        )
        _comment(con, "meta", "publication")
        if table_status is not None:
            con.register("_table_status", table_status)
            con.execute(
                "CREATE TABLE meta.table_status AS SELECT table_name::VARCHAR AS table_name, "
                "status::VARCHAR AS status, reason::VARCHAR AS reason, asset::VARCHAR AS asset, "
                "built_by_run::VARCHAR AS built_by_run FROM _table_status"
            )
            _comment(con, "meta", "table_status")
        for name, frame in (records or {}).items():
            con.register("_record", frame)
            con.execute(f"CREATE TABLE meta.{check_identifier(name)} AS SELECT * FROM _record")
            con.unregister("_record")
            _comment(con, "meta", name)
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


def _comment(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """COMMENT ON the table and each of its columns that pedw documents."""
    text = table_comment(schema, table)
    if text:
        con.execute(f"COMMENT ON TABLE {schema}.{table} IS {sql_string(text)}")
    for (column,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = $schema "
        "AND table_name = $table ORDER BY column_index",
        {"schema": schema, "table": table},
    ).fetchall():
        text = column_comment(schema, table, column)
        if text:
            con.execute(
                f"COMMENT ON COLUMN {schema}.{table}.{quote_identifier(column)} IS {sql_string(text)}"
            )


def connect_read_only(warehouse_path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only (never blocks a running pipeline, never writes)."""
    path = Path(warehouse_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no published warehouse at {path}; run `pedw run` (or `make demo`) first"
        )
    return offline_connection(str(path), read_only=True)


def connect_sandboxed(
    warehouse_path: str | Path, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """The published warehouse for ad-hoc SQL, with least privilege: read-only, no access to
    files or the network (no COPY TO, read_csv, glob, ATTACH, INSTALL), at most `memory_limit`
    of memory (DuckDB's syntax, e.g. '1GB') and its configuration locked (no SET). Exports go
    through pedw's own commands (`pedw query --csv`, `pedw export`)."""
    con = connect_read_only(warehouse_path)
    if memory_limit:
        con.execute("SET memory_limit = $limit", {"limit": memory_limit})
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def list_tables(con: duckdb.DuckDBPyConnection, schema: str | None = None) -> pd.DataFrame:
    """Every table of the warehouse (or of one schema): rows and what it holds. An unknown
    schema is a LookupError naming the known ones."""
    if schema is not None:
        known = [
            row[0]
            for row in con.execute(
                "SELECT DISTINCT schema_name FROM duckdb_tables() "
                "WHERE database_name = current_database() ORDER BY 1"
            ).fetchall()
        ]
        if schema not in known:
            raise LookupError(f"no schema {schema!r} in the warehouse; schemas: {', '.join(known)}")
    frame = con.execute(
        """SELECT schema_name AS schema, table_name AS "table", estimated_size AS rows,
                  column_count AS columns, coalesce(comment, '') AS holds
           FROM duckdb_tables() WHERE database_name = current_database()
             AND ($schema IS NULL OR schema_name = $schema)
           ORDER BY schema_name, table_name""",
        {"schema": schema},
    ).df()
    exact = [
        con.execute(f"SELECT count(*) FROM {s}.{quote_identifier(t)}").fetchone()[0]
        for s, t in zip(frame["schema"], frame["table"], strict=True)  # a few dozen tables
    ]
    return frame.assign(rows=exact)


def describe_table(con: duckdb.DuckDBPyConnection, qualified: str) -> pd.DataFrame:
    """A table's columns: name, type and comment (meaning and unit)."""
    schema, _, table = qualified.rpartition(".")
    frame = con.execute(
        """SELECT column_name AS "column", data_type AS type, coalesce(comment, '') AS meaning
           FROM duckdb_columns() WHERE database_name = current_database()
             AND schema_name = $schema AND table_name = $table ORDER BY column_index""",
        {"schema": schema or "main", "table": table},
    ).df()
    if frame.empty:
        from pedw.query import nearest_tables

        raise LookupError(
            f"no table {qualified!r} in the warehouse; nearest: "
            f"{', '.join(nearest_tables(con, qualified))} (all of them: pedw tables)"
        )
    return frame
