"""The Parquet working store: one folder per table, written atomically, read through DuckDB views.

Each Dagster step opens its own in-memory DuckDB connection over the store, so steps never
fight over a database lock; the published warehouse file is built from the store afterwards
(:mod:`pedw.warehouse`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from pathlib import Path

import duckdb

SCHEMAS = ("raw", "staging", "marts", "models", "quality", "briefs")
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SAFE_PARTITION = re.compile(r"^[A-Za-z0-9_.-]+$")


def check_identifier(name: str) -> str:
    """Return `name` if it is a plain SQL identifier; refuse anything else (no SQL injection)."""
    if not _SAFE_NAME.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def sql_string(text: str | os.PathLike) -> str:
    """Quote a literal for SQL (paths inside read_parquet, COPY targets)."""
    return "'" + str(text).replace("'", "''") + "'"


def offline_connection(
    database: str = ":memory:", read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never downloads extensions."""
    con = duckdb.connect(
        database, read_only=read_only, config={"autoinstall_known_extensions": False}
    )
    # Under Jupyter, DuckDB refuses to touch this setting without ipywidgets; that is harmless.
    with contextlib.suppress(duckdb.Error):
        con.execute("SET enable_progress_bar = false")
    return con


class Store:
    """Parquet tables under `root/<schema>/<table>/`; partitioned tables hold one file per key."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def table_dir(self, schema: str, table: str) -> Path:
        return self.root / check_identifier(schema) / check_identifier(table)

    def exists(self, schema: str, table: str) -> bool:
        directory = self.table_dir(schema, table)
        return directory.is_dir() and any(directory.glob("*.parquet"))

    def tables(self) -> list[tuple[str, str]]:
        """Every (schema, table) with at least one Parquet file."""
        found = []
        for schema in SCHEMAS:
            base = self.root / schema
            if base.is_dir():
                found += [
                    (schema, d.name)
                    for d in sorted(base.iterdir())
                    if d.is_dir() and _SAFE_NAME.match(d.name) and any(d.glob("*.parquet"))
                ]
        return found

    def parquet_glob(self, schema: str, table: str) -> str:
        return str(self.table_dir(schema, table) / "*.parquet")

    def connect(self) -> duckdb.DuckDBPyConnection:
        """In-memory DuckDB with a view per stored table, named schema.table."""
        con = offline_connection()
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for schema, table in self.tables():
            self.attach_view(con, schema, table)
        return con

    def attach_view(self, con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
        """(Re)create the view schema.table over the table's Parquet files."""
        con.execute(
            f"CREATE OR REPLACE VIEW {schema}.{check_identifier(table)} AS SELECT * FROM "
            f"read_parquet({sql_string(self.parquet_glob(schema, table))}, union_by_name = true)"
        )

    def write(
        self,
        con: duckdb.DuckDBPyConnection,
        schema: str,
        table: str,
        query: str,
        partition_column: str | None = None,
        partitions: list[str] | None = None,
    ) -> int:
        """Write the result of `query` (run on `con`) as the table, or as the given partitions.

        A partitioned write replaces exactly the files of `partitions` (a key with no rows
        gets an empty file, so re-running a partition never leaves stale rows behind).
        Returns the number of rows written.
        """
        directory = self.table_dir(schema, table)
        directory.mkdir(parents=True, exist_ok=True)
        staging = f"_pedw_write_{uuid.uuid4().hex}"
        con.execute(f"CREATE TEMP TABLE {staging} AS {query}")
        try:
            rows = con.execute(f"SELECT count(*) FROM {staging}").fetchone()[0]
            if partition_column is None:
                self._copy_atomically(con, f"SELECT * FROM {staging}", directory / "data.parquet")
                for stale in directory.glob("*.parquet"):
                    if stale.name != "data.parquet":
                        stale.unlink()
                return rows
            check_identifier(partition_column)
            keys = (
                partitions
                if partitions is not None
                else [
                    r[0]
                    for r in con.execute(
                        f"SELECT DISTINCT {partition_column} FROM {staging}"
                    ).fetchall()
                ]
            )
            for key in keys:
                if not _SAFE_PARTITION.match(str(key)):
                    raise ValueError(f"unsafe partition key {key!r} for {schema}.{table}")
            self._copy_partitions(con, staging, partition_column, [str(k) for k in keys], directory)
            return rows
        finally:
            con.execute(f"DROP TABLE IF EXISTS {staging}")

    @staticmethod
    def _copy_partitions(con, staging: str, column: str, keys: list[str], directory: Path) -> None:
        """Write every partition in one pass (COPY ... PARTITION_BY), then rename each file in.

        A key with no rows gets an empty file, so re-running a partition never leaves stale
        rows behind; each final file appears by an atomic rename.
        """
        scratch = directory / f".partitions_{uuid.uuid4().hex}"
        try:
            con.execute(
                f"COPY (SELECT * FROM {staging}) TO {sql_string(scratch)} "
                f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({column}), WRITE_PARTITION_COLUMNS true)"
            )
            written = {
                p.parent.name.split("=", 1)[1]: p for p in scratch.glob(f"{column}=*/*.parquet")
            }
            for key in keys:
                if key in written and len(list(written[key].parent.glob("*.parquet"))) == 1:
                    os.replace(written[key], directory / f"{key}.parquet")
                else:  # no rows for this key (or several files): write it directly
                    Store._copy_atomically(
                        con,
                        f"SELECT * FROM {staging} WHERE {column} = {sql_string(key)}",
                        directory / f"{key}.parquet",
                    )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    @staticmethod
    def _copy_atomically(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        con.execute(f"COPY ({query}) TO {sql_string(temporary)} (FORMAT parquet, COMPRESSION zstd)")
        os.replace(temporary, target)

    def drop(self, schema: str, table: str) -> None:
        shutil.rmtree(self.table_dir(schema, table), ignore_errors=True)
