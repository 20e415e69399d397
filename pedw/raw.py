"""Raw stage: every catalog source read as published, as text, with file, line and load time."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pedw.catalog import Catalog
from pedw.sources.registry import iter_source
from pedw.store import Store


@dataclass
class RawLoad:
    """What a raw load read: rows per source, and the files it refused or warned about."""

    table: str
    rows: int = 0
    rows_by_source: dict[str, int] = field(default_factory=dict)
    issues: list[dict] = field(default_factory=list)

    @property
    def refused(self) -> list[dict]:
        return [i for i in self.issues if i["kind"] == "refused"]


def write_raw(
    store: Store,
    catalog: Catalog,
    level: str,
    formats: tuple[str, ...],
    table: str,
    run_id: str,
    partitioned: bool = False,
    snapshots: Path | None = None,
) -> RawLoad:
    """Write raw.<table> (all sources of the level/formats) and record refused sources.

    Files are read block by block and each block is appended to Parquet as it comes:
    memory stays bounded whatever the size of the sources. `partitioned` writes the rows
    of each country to files of their own (see `partition_key`: a row with a missing or
    malformed country goes to a partition of its own, never nowhere): `raw_partitions`
    lists them. The new files replace the table's files only once every source was read.
    """
    result = RawLoad(table=table)
    scratch = store.root / "_scratch" / f"{table}_{uuid.uuid4().hex}"
    scratch.mkdir(parents=True)
    try:
        _write_blocks(catalog, level, formats, snapshots, scratch, run_id, partitioned, result)
        directory = store.table_dir("raw", table)
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.parquet"):
            store.remove(old)
        for new in scratch.glob("*.parquet"):
            store.adopt(new, directory / new.name)
        if not result.rows:
            store.drop("raw", table)
        con = store.connect()
        try:
            _write_issues(store, con, table, result.issues, run_id)
        finally:
            con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def partition_key(block: pa.Table) -> pa.Array:
    """The partition of each row: its country code (upper case, 2-3 letters or digits), or
    `_malformed` for a row the parser could not split, or `_unknown` for any other value."""
    country = pc.utf8_upper(pc.utf8_trim_whitespace(block["country"]))
    valid = pc.fill_null(pc.match_substring_regex(country, "^[A-Z0-9]{2,3}$"), False)
    malformed = pc.and_(pc.is_null(block["country"]), pc.is_valid(block["raw_record"]))
    other = pc.if_else(malformed, pa.scalar("_malformed"), pa.scalar("_unknown"))
    return pc.if_else(valid, country, other)


def _write_blocks(
    catalog: Catalog,
    level: str,
    formats: tuple[str, ...],
    snapshots: Path | None,
    scratch: Path,
    run_id: str,
    partitioned: bool,
    result: RawLoad,
) -> None:
    """Append every block of every source file to Parquet files in `scratch`.

    One file per source file (and per country when partitioned): `<key>.parquet`, or
    `<key>~<n>.parquet` when several source files hold the country. A file refused
    part-way (a bad block after good ones) loses what it had written: a source file is
    loaded whole or not at all, and the refusal says why.
    """
    files: dict[tuple, tuple[str, pq.ParquetWriter]] = {}  # (source, file, key) -> Parquet
    used: dict[str | None, int] = {}
    counts: dict[tuple, int] = {}
    loaded_at = pa.scalar(dt.datetime.now(dt.UTC), pa.timestamp("us", tz="UTC"))
    for source in catalog.for_level(level, formats):
        for kind, path, payload in iter_source(source, snapshots):
            origin = (source.name, path)
            if kind == "issue":
                result.issues.append(payload)
                if payload["kind"] == "refused":
                    for slot in [s for s in files if s[:2] == origin]:
                        name, writer = files.pop(slot)
                        writer.close()
                        (scratch / name).unlink()
                    counts.pop(origin, None)
                continue
            n = payload.num_rows
            block = payload.append_column("loaded_at", pa.repeat(loaded_at, n)).append_column(
                "run_id", pa.repeat(pa.scalar(run_id), n)
            )
            counts[origin] = counts.get(origin, 0) + n
            for key, rows in _split(block, partitioned):
                slot = (*origin, key)
                if slot not in files:
                    copy = used.get(key, 0)
                    used[key] = copy + 1
                    name = f"{key or 'data'}{f'~{copy}' if copy else ''}.parquet"
                    writer = pq.ParquetWriter(scratch / name, rows.schema, compression="lz4")
                    files[slot] = (name, writer)
                _name, writer = files[slot]
                writer.write_table(rows.cast(writer.schema))
    for _name, writer in files.values():
        writer.close()
    for (name, _path), count in counts.items():
        result.rows_by_source[name] = result.rows_by_source.get(name, 0) + count
    result.rows = sum(counts.values())


def _split(block: pa.Table, partitioned: bool) -> Iterator[tuple[str | None, pa.Table]]:
    """The block whole, or its rows per country (sorted by key, one slice per run)."""
    if not partitioned:
        yield None, block
        return
    keys = partition_key(block).combine_chunks()
    block = block.append_column("partition_key", keys)
    runs = pc.run_end_encode(keys)
    if len(runs.values) != len(pc.unique(keys)):  # countries interleaved: sort them first
        block = block.take(pc.sort_indices(keys))
        runs = pc.run_end_encode(block["partition_key"].combine_chunks())
    start = 0
    for end, key in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
        yield key, block.slice(start, end - start)
        start = end


def _write_issues(store: Store, con, table: str, issues: list[dict], run_id: str) -> None:
    """quality.source_issues: refused files and warnings of this raw load (one slice per table)."""
    import pandas as pd

    frame = pd.DataFrame(issues, columns=["source_name", "source_file", "kind", "message"])
    frame["raw_table"] = table
    frame["run_id"] = run_id
    con.register("_issues", frame)
    store.write(
        con,
        "quality",
        "source_issues",
        # Typed casts: a load without issues still writes a typed (empty) slice.
        "SELECT raw_table::VARCHAR AS raw_table, run_id::VARCHAR AS run_id, "
        "source_name::VARCHAR AS source_name, source_file::VARCHAR AS source_file, "
        "kind::VARCHAR AS kind, message::VARCHAR AS message, "
        "current_timestamp AS noted_at, raw_table::VARCHAR AS slice FROM _issues",
        partition_column="slice",
        partitions=[table],
    )


def raw_partitions(store: Store, table: str = "enterprise_firms") -> list[str]:
    """The country partitions of a partitioned raw table, as its last load wrote them."""
    directory = store.table_dir("raw", table)
    if not directory.is_dir():
        return []
    return sorted({p.stem.split("~")[0] for p in directory.glob("*.parquet")})
