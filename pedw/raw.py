"""Raw stage: every catalog source read as published, as text, with file, line and load time."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from pedw.catalog import Catalog
from pedw.sources.raw_table import concat_raw
from pedw.sources.registry import ENTERPRISE_FORMATS, load_source
from pedw.store import Store

PARTITION_KEY_SQL = (
    "CASE WHEN regexp_full_match(upper(trim(country)), '[A-Z0-9]{2,3}') "
    "THEN upper(trim(country)) WHEN country IS NULL AND raw_record IS NOT NULL "
    "THEN '_malformed' ELSE '_unknown' END"
)


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


def read_sources(
    catalog: Catalog, level: str, formats: tuple[str, ...]
) -> tuple[pa.Table | None, list[dict]]:
    """Load every file of every source of `level` in `formats`; bad files are refused, not fatal."""
    tables, issues = [], []
    for source in catalog.for_level(level, formats):
        loaded, found = load_source(source)
        tables += loaded
        issues += found
    return (concat_raw(tables) if tables else None), issues


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
    arrow, issues = read_sources(catalog, level, formats)

    result = RawLoad(table=table, issues=issues)
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
        _write_issues(store, con, table, issues, run_id)
    finally:
        con.close()
    return result


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
        "SELECT raw_table, run_id, source_name, source_file, kind, message, "
        "current_timestamp AS noted_at, raw_table AS slice FROM _issues",
        partition_column="slice",
        partitions=[table],
    )


def partition_keys(
    catalog: Catalog, level: str = "enterprise", formats: tuple[str, ...] = ENTERPRISE_FORMATS
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
