"""Stage a raw table through its data contract: good rows to staging, bad rows to quarantine."""

from __future__ import annotations

from dataclasses import dataclass

from pedw.quality.contracts import load_contract
from pedw.quality.row_rules import check_rows, quarantine_query, staged_query
from pedw.store import Store, check_identifier, sql_string


@dataclass(frozen=True)
class StageResult:
    """Row accounting of one staging load (rows_read = rows_loaded + rows_quarantined)."""

    table: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    violations: dict[str, int]


EMPTY_RAW = (
    "SELECT NULL::VARCHAR AS source_name, NULL::VARCHAR AS source_file, "
    "NULL::BIGINT AS source_line, NULL::VARCHAR AS raw_record, "
    "NULL::VARCHAR AS partition_key, NULL::VARCHAR AS run_id WHERE false"
)


def stage_through_contract(
    store: Store,
    contract_name: str,
    raw_table: str,
    staged_table: str,
    run_id: str,
    partitions: list[str] | None = None,
) -> StageResult:
    """Apply the contract's row rules to raw.<raw_table>; write staging, quarantine and load log.

    Partitioned tables (enterprise, by country) are checked and written one slice per key, so
    re-running a partition replaces exactly its rows, its quarantine and its load-log entry.
    """
    contract = load_contract(contract_name)
    check_identifier(raw_table)
    check_identifier(staged_table)
    prefix = sql_string(staged_table + "__")
    con = store.connect(bulk=True)
    try:
        # The raw rows are read where they lie (Parquet), never copied into memory first.
        if not store.exists("raw", raw_table):
            con.execute(f"CREATE TEMP VIEW _source AS {EMPTY_RAW}")
        elif partitions is not None:
            con.execute(
                "CREATE TEMP TABLE _partitions AS SELECT unnest($keys::VARCHAR[]) AS k",
                {"keys": partitions},
            )
            con.execute(
                f"CREATE TEMP VIEW _source AS SELECT * FROM raw.{raw_table} "
                "WHERE partition_key IN (SELECT k FROM _partitions)"
            )
        else:
            con.execute(
                f"CREATE TEMP VIEW _source AS SELECT * EXCLUDE (partition_key), "
                f"NULL::VARCHAR AS partition_key FROM raw.{raw_table}"
                if "partition_key" in _columns(con, f"raw.{raw_table}")
                else f"CREATE TEMP VIEW _source AS SELECT *, NULL::VARCHAR AS partition_key "
                f"FROM raw.{raw_table}"
            )
        slice_sql = (
            f"{prefix} || partition_key" if partitions is not None else sql_string(staged_table)
        )
        checked = check_rows(con, contract, "_source", "_checked", slice_sql)
        slices = (
            [f"{staged_table}__{p}" for p in partitions]
            if partitions is not None
            else [staged_table]
        )
        partitioned = partitions is not None
        store.write(
            con,
            "staging",
            staged_table,
            staged_query(contract, checked, extra=("partition_key",) if partitioned else ()),
            partition_column="partition_key" if partitioned else None,
            partitions=partitions,
        )
        store.write(
            con,
            "quality",
            "quarantine",
            quarantine_query(contract, checked, run_id),
            partition_column="slice",
            partitions=slices,
        )
        store.write(
            con,
            "quality",
            "load_log",
            _load_log_query(contract.name, staged_table, checked, run_id),
            partition_column="slice",
            partitions=slices,
        )
        read, loaded, quarantined = con.execute(f"""
            SELECT count(*), count(*) FILTER (WHERE len(violations) = 0),
                   count(*) FILTER (WHERE len(violations) > 0) FROM {checked}""").fetchone()
        violations = dict(
            con.execute(f"""
            SELECT v.rule, count(*) FROM (SELECT unnest(violations) AS v FROM {checked})
            GROUP BY ALL ORDER BY 2 DESC""").fetchall()
        )
    finally:
        con.close()
    return StageResult(staged_table, read, loaded, quarantined, violations)


def _columns(con, relation: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall()}


def _load_log_query(dataset: str, staged_table: str, checked: str, run_id: str) -> str:
    """One row per source and slice: rows read, loaded and quarantined by this run."""
    return f"""
        SELECT {sql_string(dataset)} AS dataset, {sql_string(staged_table)} AS staged_table,
               {sql_string(run_id)} AS run_id, source_name, slice,
               count(*) AS rows_read,
               count(*) FILTER (WHERE len(violations) = 0) AS rows_loaded,
               count(*) FILTER (WHERE len(violations) > 0) AS rows_quarantined,
               current_timestamp AS logged_at
        FROM {checked} GROUP BY source_name, slice"""
