"""The two asset shapes every level repeats: read sources raw, and stage them through a contract."""

import dagster as dg

from assets.metadata import table_metadata
from pedw.quality.contracts import load_contract
from pedw.raw import write_raw
from pedw.staging.contracted import stage_through_contract
from pipelines.resources import PedwResource


def check_name(rule: str, column: str | None) -> str:
    return f"{rule}_{column}" if column else rule


def contract_check_specs(contract_name: str, key: list[str]) -> list[dg.AssetCheckSpec]:
    """One asset check per table rule of the contract (blocking when its severity is block),
    plus the row-accounting check that every read row was loaded or quarantined."""
    contract = load_contract(contract_name)
    specs = [
        dg.AssetCheckSpec(
            "row_accounting",
            asset=key,
            blocking=True,
            description="rows read = rows loaded + rows quarantined, for every source",
        )
    ]
    for rule in contract.table_rules:
        specs.append(
            dg.AssetCheckSpec(
                check_name(rule.rule, rule.params.get("column")),
                asset=key,
                blocking=rule.severity == "block",
                description=f"[{rule.severity}] {rule.description or rule.rule} (data_contracts/{contract_name}.yml)",
            )
        )
    return specs


def raw_asset(
    table: str,
    level: str,
    formats: tuple[str, ...],
    description: str,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetsDefinition:
    """raw.<table>: every catalog source of `level` in `formats`, as published, with provenance."""

    @dg.asset(
        key=["raw", table],
        group_name=level,
        description=description,
        kinds={"duckdb", "parquet"},
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
    )
    def _raw(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
        store, catalog = pedw.store(), pedw.load_catalog()
        keys = context.partition_keys if partitions_def else None
        load = write_raw(store, catalog, level, formats, table, context.run_id, partitions=keys)
        for refusal in load.refused:
            context.log.error(f"source refused: {refusal['message']}")
        context.log.info(f"raw.{table}: {load.rows} rows from {load.rows_by_source or 'no source'}")
        return dg.MaterializeResult(
            metadata=table_metadata(
                store,
                "raw",
                table,
                rows_by_source=load.rows_by_source,
                refused_sources=[r["message"] for r in load.refused],
            )
        )

    return _raw


def staged_asset(
    table: str,
    raw_table: str,
    contract: str,
    level: str,
    description: str,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetsDefinition:
    """staging.<table>: raw rows typed and checked by `contract`; failures go to quarantine."""

    @dg.asset(
        key=["staging", table],
        deps=[dg.AssetKey(["raw", raw_table])],
        group_name=level,
        description=description,
        kinds={"duckdb", "parquet"},
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
        metadata={"contract": f"data_contracts/{contract}.yml"},
    )
    def _staged(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
        store = pedw.store()
        keys = context.partition_keys if partitions_def else None
        result = stage_through_contract(
            store, contract, raw_table, table, context.run_id, partitions=keys
        )
        context.log.info(
            f"staging.{table}: read {result.rows_read}, loaded {result.rows_loaded}, "
            f"quarantined {result.rows_quarantined} {result.violations or ''}"
        )
        return dg.MaterializeResult(
            metadata=table_metadata(
                store,
                "staging",
                table,
                rows_read=result.rows_read,
                rows_loaded=result.rows_loaded,
                rows_quarantined=result.rows_quarantined,
                violations_by_rule=result.violations,
            )
        )

    return _staged
