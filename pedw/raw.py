"""Raw stage: every catalog source read as published, as text, with file, line and load time."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

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
    """Stream every block of every source file into Parquet files in `scratch`.

    One file per source file (and per country when partitioned): `<key>.parquet`, or
    `<key>~<n>.parquet` when several source files hold the country. A source file's blocks
    go to Parquet as they are parsed; the countries are grouped by Arrow's dataset writer,
    nothing is sorted or held whole. A file refused part-way (a bad block after good ones)
    loses what it had written: a source file is loaded whole or not at all, and the refusal
    says why.
    """
    written: dict[tuple, list[str]] = {}  # (source, file) -> its Parquet files in scratch
    used: dict[str | None, int] = {}
    counts: dict[tuple, int] = {}
    loaded_at = pa.scalar(dt.datetime.now(dt.UTC), pa.timestamp("us", tz="UTC"))

    def with_provenance(block: pa.Table) -> pa.Table:
        n = block.num_rows
        block = block.append_column("loaded_at", pa.repeat(loaded_at, n)).append_column(
            "run_id", pa.repeat(pa.scalar(run_id), n)
        )
        if partitioned:  # the column stays in the rows; `_partition` names the files
            keys = partition_key(block)
            block = block.append_column("partition_key", keys).append_column("_partition", keys)
        return block

    for source in catalog.for_level(level, formats):
        # Consecutive events of one kind and file: a file's blocks, or its issues.
        runs = itertools.groupby(iter_source(source, snapshots), key=lambda e: (e[0], e[1]))
        for (kind, path), events in runs:
            origin = (source.name, path)
            if kind == "issue":
                for _kind, _path, issue in events:
                    result.issues.append(issue)
                    if issue["kind"] == "refused":
                        for name in written.pop(origin, []):
                            (scratch / name).unlink()
                        counts.pop(origin, None)
                continue
            blocks = (with_provenance(table) for _kind, _path, table in events)
            first = next(blocks)

            def batches(first=first, blocks=blocks, origin=origin):
                """The file's blocks, as the reader parses them."""
                for block in itertools.chain([first], blocks):
                    counts[origin] = counts.get(origin, 0) + block.num_rows
                    yield from block.cast(first.schema).to_batches()

            reader = pa.RecordBatchReader.from_batches(first.schema, batches())
            written.setdefault(origin, []).extend(
                _write_file(reader, repeated_values(first), scratch, used)
            )
    for (name, _path), count in counts.items():
        result.rows_by_source[name] = result.rows_by_source.get(name, 0) + count
    result.rows = sum(counts.values())


def repeated_values(block: pa.Table, sample_rows: int = 10_000) -> list[str]:
    """Columns whose values repeat (at most one distinct value in 20 among the block's first
    rows: codes, years, flags, provenance). Only those are worth a Parquet dictionary; for
    the others (identifiers, amounts) building one costs time and bytes."""
    head = block.slice(0, sample_rows)
    return [
        name
        for name, column in zip(head.column_names, head.columns, strict=True)
        if pa.types.is_dictionary(column.type)
        or len(column.unique()) * 20 <= max(head.num_rows, 20)
    ]


def _write_file(
    reader: pa.RecordBatchReader, dictionary: list[str], scratch: Path, used: dict
) -> list[str]:
    """Write one source file's blocks to Parquet in `scratch`, one file per country when the
    blocks carry `_partition` (grouped by Arrow's dataset writer on every core); the names
    written.

    A country's rows are held until 10,000 have come (a row group: smaller ones make every
    later read slower), so what is held is at most 10,000 rows per country, whatever the
    file's size: 2.5 million rows for every economy of the world.
    """
    target = scratch / f".copy_{uuid.uuid4().hex}"
    partitioned = "_partition" in reader.schema.names
    ds.write_dataset(
        reader,
        target,
        format="parquet",
        partitioning=["_partition"] if partitioned else None,
        partitioning_flavor="hive" if partitioned else None,
        basename_template="part-{i}.parquet",
        file_options=ds.ParquetFileFormat().make_write_options(
            compression="lz4", use_dictionary=dictionary
        ),
        max_partitions=1 << 20,
        min_rows_per_group=10_000,
    )
    files: dict[str | None, list[Path]] = {}
    for part in sorted(target.rglob("*.parquet")):
        key = part.parent.name.split("=", 1)[1] if partitioned else None
        files.setdefault(key, []).append(part)
    names = []
    for key, parts in files.items():
        for part in parts:
            copy = used.get(key, 0)
            used[key] = copy + 1
            names.append(f"{key or 'data'}{f'~{copy}' if copy else ''}.parquet")
            os.replace(part, scratch / names[-1])
    shutil.rmtree(target, ignore_errors=True)
    return names


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
    return sorted(raw_partition_files(store, table))


# Columns that change with every load, not with the data: left out of a slice's fingerprint.
LOAD_COLUMNS = ("loaded_at", "run_id")


def slice_fingerprints(
    store: Store, table: str = "enterprise_firms", keys: list[str] | None = None
) -> dict[str, str]:
    """A fingerprint of each country slice of a partitioned raw table (of `keys`, or all): a
    hash of every row's values, file and line, so a changed value, or a row added before it
    in its file (its line moves), changes the slice's fingerprint and nothing else's."""
    files = raw_partition_files(store, table)
    wanted = [k for k in (keys if keys is not None else files) if k in files]
    if not wanted:
        return {}
    con = store.connect()
    try:
        rows = con.execute(
            f"SELECT partition_key, bit_xor(hash(*COLUMNS(* EXCLUDE ({', '.join(LOAD_COLUMNS)}))))"
            "::VARCHAR || ':' || count(*) FROM read_parquet(?, union_by_name = true) "
            "GROUP BY partition_key",
            [[str(path) for key in wanted for path in files[key]]],
        ).fetchall()
    finally:
        con.close()
    return dict(sorted(rows))


def raw_partition_files(store: Store, table: str = "enterprise_firms") -> dict[str, list[Path]]:
    """The Parquet files of each partition of a partitioned raw table (`<key>.parquet`, and
    `<key>~<n>.parquet` for its rows from further source files)."""
    directory = store.table_dir("raw", table)
    files: dict[str, list[Path]] = {}
    for path in sorted(directory.glob("*.parquet")) if directory.is_dir() else []:
        files.setdefault(path.stem.split("~")[0], []).append(path)
    return files
