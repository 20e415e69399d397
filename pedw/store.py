"""The Parquet working store: one folder per table, written atomically, read through DuckDB views.

Each Dagster step opens its own in-memory DuckDB connection over the store, so steps never
fight over a database lock; the published warehouse file is built from the store afterwards
(:mod:`pedw.warehouse`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import uuid
from pathlib import Path

import duckdb

from pedw.digest import file_sha256
from pedw.seal import SealState, check_seal, read_seal, seal_path, write_seal
from pedw.settings import DEFAULT_DUCKDB_MEMORY_LIMIT

SCHEMAS = ("raw", "staging", "marts", "models", "disclosure", "quality", "briefs")
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SAFE_PARTITION = re.compile(r"^[A-Za-z0-9_.-]+$")


def check_identifier(name: str) -> str:
    """Return `name` if it is a plain SQL identifier; refuse anything else (no SQL injection)."""
    if not _SAFE_NAME.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def quote_identifier(name: str) -> str:
    """Quote any column name (published headers can hold spaces and brackets)."""
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str | os.PathLike) -> str:
    """Quote a literal for SQL (paths inside read_parquet, COPY targets)."""
    return "'" + str(text).replace("'", "''") + "'"


class StoreTamperedError(RuntimeError):
    """A store file differs from what pedw wrote (edited, replaced or added by something else)."""


def offline_connection(
    database: str = ":memory:", read_only: bool = False, storage_version: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never downloads extensions (and, for a new file, writes it in
    the storage format of `storage_version`, e.g. "v1.0.0", so older readers can open it)."""
    config: dict = {"autoinstall_known_extensions": False}
    if storage_version:
        config["storage_compatibility_version"] = storage_version
    con = duckdb.connect(database, read_only=read_only, config=config)
    # Under Jupyter, DuckDB refuses to touch this setting without ipywidgets; that is harmless.
    with contextlib.suppress(duckdb.Error):
        con.execute("SET enable_progress_bar = false")
    return con


class Store:
    """Parquet tables under `root/<schema>/<table>/`; partitioned tables hold one file per key."""

    def __init__(self, root: str | Path, memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT):
        self.root = Path(root)
        self.memory_limit = memory_limit

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

    def fingerprint(self, schema: str, table: str) -> str:
        """SHA-256 over the table's Parquet files (names and bytes): its content as stored.

        Each file is checked against the seal pedw wrote beside it (:meth:`adopt`) on the way;
        a file changed, added or replaced behind pedw's back raises StoreTamperedError after
        being moved aside, so the next run rebuilds it (see :func:`unsealed`)."""
        digest, changed = hashlib.sha256(), []
        for path in sorted(self.table_dir(schema, table).glob("*.parquet")):
            content = file_sha256(path)
            digest.update(path.name.encode() + b"\0" + content.encode())
            if read_seal(path).get("sha256") != content:
                changed.append(path)
        if changed:
            for path in changed:
                os.replace(path, path.with_name(f"{path.name}.tampered"))
            raise StoreTamperedError(
                f"{schema}.{table}: {', '.join(str(p) for p in changed)} changed after pedw "
                "wrote it (its SHA-256 differs from the seal beside it); moved aside as "
                "*.tampered, not published. Run `pedw run` again to rebuild it."
            )
        return digest.hexdigest()

    def unsealed(self, schema: str, table: str, part: str | None = None) -> list[Path]:
        """Files of the table (or of one partition) that no longer hold the bytes pedw wrote, or
        that have no seal: written by something other than pedw. Cheap while a file's identity
        (size, times, inode) is its seal's; an edit that kept size and modification time still
        moves the change time, and the file is hashed (pedw.seal). Publication re-hashes every
        file (:meth:`fingerprint`)."""
        directory = self.table_dir(schema, table)
        files = [directory / f"{part}.parquet"] if part else sorted(directory.glob("*.parquet"))
        return [
            path for path in files if check_seal(path) in (SealState.CHANGED, SealState.UNSEALED)
        ]

    @staticmethod
    def adopt(source: Path, target: Path) -> None:
        """Move a finished file into the store by an atomic rename, sealed with its SHA-256."""
        os.replace(source, target)
        write_seal(target)

    @staticmethod
    def remove(path: Path) -> None:
        """Remove a store file and its seal."""
        path.unlink(missing_ok=True)
        seal_path(path).unlink(missing_ok=True)

    def parquet_glob(self, schema: str, table: str) -> str:
        return str(self.table_dir(schema, table) / "*.parquet")

    def connect(self, bulk: bool = False) -> duckdb.DuckDBPyConnection:
        """In-memory DuckDB with a view per stored table, named schema.table.

        `bulk` (raw loads, contract checks) caps DuckDB's memory at `memory_limit` (the
        settings' duckdb_memory_limit), spilling to <store>/_spill beyond it, and lets it write
        rows in any order: millions of rows then cost disk, not memory.
        """
        con = offline_connection()
        if bulk:
            spill = self.root / "_spill"
            spill.mkdir(parents=True, exist_ok=True)
            con.execute(f"SET memory_limit = {sql_string(self.memory_limit)}")
            con.execute(f"SET temp_directory = {sql_string(spill)}")
            con.execute("SET preserve_insertion_order = false")
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for schema, table in self.tables():
            try:
                self.attach_view(con, schema, table)
            except duckdb.IOException:
                # Its files went between listing and binding: another step is replacing the
                # table right now. Only a step that does not depend on it can see this (the asset
                # graph orders the others), so the table is simply not part of this connection.
                continue
        return con

    @staticmethod
    def has_view(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
        """Whether `con` (from :meth:`connect`) has a view over schema.table."""
        return (
            con.execute(
                "SELECT count(*) FROM duckdb_views() WHERE schema_name = $s AND view_name = $t",
                {"s": schema, "t": table},
            ).fetchone()[0]
            > 0
        )

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
        """Write the result of `query` (run on `con`) as the table, or as partitions of it.

        The query streams straight into Parquet (COPY), never into a table in memory.
        With `partitions`, exactly those keys' files are replaced (a key with no rows gets
        an empty file, so re-running a partition never leaves stale rows behind); without,
        every key found is written and the files of keys no longer present are removed.
        Each file appears by an atomic rename. Returns the number of rows written.
        """
        directory = self.table_dir(schema, table)
        directory.mkdir(parents=True, exist_ok=True)
        if partition_column is None:
            rows = self._copy_atomically(con, query, directory / "data.parquet")
            for stale in directory.glob("*.parquet"):
                if stale.name != "data.parquet":
                    self.remove(stale)
            return rows
        check_identifier(partition_column)
        for key in partitions or []:
            if not _SAFE_PARTITION.match(str(key)):
                raise ValueError(f"unsafe partition key {key!r} for {schema}.{table}")
        return self._copy_partitions(con, query, partition_column, partitions, directory)

    @staticmethod
    def _copy_partitions(
        con, query: str, column: str, keys: list[str] | None, directory: Path
    ) -> int:
        """Write every partition in one pass (COPY ... PARTITION_BY), then rename each file in."""
        scratch = directory / f".partitions_{uuid.uuid4().hex}"
        try:
            rows = con.execute(
                f"COPY ({query}) TO {sql_string(scratch)} (FORMAT parquet, COMPRESSION zstd, "
                f"PARTITION_BY ({column}), WRITE_PARTITION_COLUMNS true)"
            ).fetchone()[0]
            written: dict[str, list[Path]] = {}
            for path in scratch.glob(f"{column}=*/*.parquet"):
                written.setdefault(path.parent.name.split("=", 1)[1], []).append(path)
            for key in written:
                if not _SAFE_PARTITION.match(key):
                    raise ValueError(f"unsafe partition key {key!r} in {directory}")
            wanted = [str(k) for k in keys] if keys is not None else sorted(written)
            empty = scratch / "empty.parquet"  # written once, copied for each key without rows
            for key in wanted:
                files = written.get(key, [])
                target = directory / f"{key}.parquet"
                if len(files) == 1:
                    Store.adopt(files[0], target)
                elif files:  # several files: one file, written directly
                    listed = [str(f) for f in files]
                    Store._copy_atomically(con, f"SELECT * FROM read_parquet({listed})", target)
                else:
                    if not empty.exists():
                        con.execute(f"COPY (SELECT * FROM ({query}) LIMIT 0) TO "
                                    f"{sql_string(empty)} (FORMAT parquet)")  # fmt: skip
                    copy = scratch / f"empty_{key}.parquet"
                    shutil.copyfile(empty, copy)
                    Store.adopt(copy, target)
            if keys is None:  # the whole table was written: keys no longer present go
                for stale in directory.glob("*.parquet"):
                    if stale.stem not in written:
                        Store.remove(stale)
            return rows
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    @staticmethod
    def _copy_atomically(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> int:
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        rows = con.execute(
            f"COPY ({query}) TO {sql_string(temporary)} (FORMAT parquet, COMPRESSION zstd)"
        ).fetchone()[0]
        Store.adopt(temporary, target)
        return rows

    def drop(self, schema: str, table: str) -> None:
        shutil.rmtree(self.table_dir(schema, table), ignore_errors=True)
