"""Raw stage: every catalog source read as published, as text, with file, line and load time."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from pedw.catalog import Catalog
from pedw.sources.errors import SourceFileError
from pedw.sources.raw_table import concat_raw
from pedw.sources.registry import load_source
from pedw.store import Store

PARTITION_KEY_SQL = (
    "CASE WHEN regexp_full_match(upper(trim(country)), '[A-Z0-9]{2,3}') "
    "THEN upper(trim(country)) WHEN country IS NULL AND raw_record IS NOT NULL "
    "THEN '_malformed' ELSE '_unknown' END"
)


@dataclass
class RawLoad:
    """What a raw load read: rows per source, and the sources it had to refuse."""

    table: str
    rows: int = 0
    rows_by_source: dict[str, int] = field(default_factory=dict)
    refused: list[dict] = field(default_factory=list)


def read_sources(
    catalog: Catalog, level: str, formats: tuple[str, ...]
) -> tuple[pa.Table | None, list[dict]]:
    """Load every source of `level` in `formats`; a file that cannot be read is refused, not fatal."""
    tables, refused = [], []
    for source in catalog.for_level(level, formats):
        try:
            tables.append(load_source(source))
        except SourceFileError as error:
            refused.append(
                {"source_name": source.name, "source_file": error.path, "message": str(error)}
            )
    return (concat_raw(tables) if tables else None), refused


def write_raw(
    store: Store,
    catalog: Catalog,
    level: str,
    formats: tuple[str, ...],
    table: str,
    run_id: str,
    partitions: list[str] | None = None,
) -> RawLoad:
    """Write raw.<table> (all sources of the level/formats) and record refused sources.

    With `partitions`, the table is partitioned by country (see PARTITION_KEY_SQL): a row
    with a missing or malformed country goes to a partition of its own, never nowhere.
    """
    arrow, refused = read_sources(catalog, level, formats)
    result = RawLoad(table=table, refused=refused)
    con = store.connect()
    try:
        if arrow is not None:
            con.register("_raw_arrow", arrow)
            key = f", {PARTITION_KEY_SQL} AS partition_key" if partitions is not None else ""
            con.execute(
                "CREATE TEMP TABLE _run AS SELECT $run_id::VARCHAR AS run_id", {"run_id": run_id}
            )
            query = (
                f"SELECT *{key}, current_timestamp AS loaded_at, (SELECT run_id FROM _run) AS run_id "
                "FROM _raw_arrow"
            )
            if partitions is not None:
                con.execute(
                    "CREATE TEMP TABLE _partitions AS SELECT unnest($keys::VARCHAR[]) AS k",
                    {"keys": partitions},
                )
                query = (
                    f"SELECT * FROM ({query}) WHERE partition_key IN (SELECT k FROM _partitions)"
                )
            result.rows = store.write(
                con,
                "raw",
                table,
                query,
                partition_column="partition_key" if partitions is not None else None,
                partitions=partitions,
            )
            for name, count in con.execute(
                "SELECT source_name, count(*) FROM _raw_arrow GROUP BY ALL"
            ).fetchall():
                result.rows_by_source[name] = count
        elif partitions is None:
            store.drop("raw", table)
        _write_refusals(store, con, table, refused, run_id)
    finally:
        con.close()
    return result


def _write_refusals(store: Store, con, table: str, refused: list[dict], run_id: str) -> None:
    import pandas as pd

    frame = pd.DataFrame(refused, columns=["source_name", "source_file", "message"])
    frame["raw_table"] = table
    frame["run_id"] = run_id
    con.register("_refused", frame)
    store.write(
        con,
        "quality",
        "refused_sources",
        "SELECT raw_table, run_id, source_name, source_file, message, current_timestamp AS refused_at, "
        "raw_table AS slice FROM _refused",
        partition_column="slice",
        partitions=[table],
    )


def partition_keys(
    catalog: Catalog, level: str = "enterprise", formats: tuple[str, ...] = ("enterprise_csv",)
) -> list[str]:
    """The country partitions present in the enterprise sources (discovered, not declared)."""
    from pedw.store import offline_connection

    arrow, _ = read_sources(catalog, level, formats)
    if arrow is None:
        return []
    con = offline_connection()
    con.register("_raw_arrow", arrow.select(["country", "raw_record"]))
    keys = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT {PARTITION_KEY_SQL} FROM _raw_arrow ORDER BY 1"
        ).fetchall()
    ]
    con.close()
    return keys
