"""The two asset shapes every level repeats: read sources raw, and stage them through a contract."""

import dagster as dg

from assets.metadata import table_metadata
from assets.versioning import BLOCKING_FAILURES, raw_source_metadata
from pedw.quality.contracts import load_contract
from pedw.quality.validation import validate_and_record
from pedw.raw import raw_partitions, write_raw
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
    table: str, level: str, formats: tuple[str, ...], description: str, by_country: bool = False
) -> dg.AssetsDefinition:
    """raw.<table>: every catalog source of `level` in `formats`, as published, with provenance.

    `by_country` stores one file per country found (the partitions of what is staged from
    it): the files are read once, and the countries are discovered in the same pass.
    """

    @dg.asset(
        key=["raw", table],
        group_name=level,
        description=description,
        kinds={"duckdb", "parquet"},
        metadata=raw_source_metadata(level, formats),
    )
    def _raw(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
        pedw.stamp(context)
        store, catalog = pedw.store(), pedw.load_catalog()
        load = write_raw(
            store,
            catalog,
            level,
            formats,
            table,
            context.run_id,
            partitioned=by_country,
            snapshots=pedw.settings().snapshots_dir,
        )
        for issue in load.issues:
            log = context.log.error if issue["kind"] == "refused" else context.log.warning
            log(f"source {issue['kind']}: {issue['message']}")
        context.log.info(f"raw.{table}: {load.rows} rows from {load.rows_by_source or 'no source'}")
        return dg.MaterializeResult(
            metadata=table_metadata(
                store,
                "raw",
                table,
                rows_by_source=load.rows_by_source,
                refused_files=[i["message"] for i in load.refused],
                warnings=[i["message"] for i in load.issues if i["kind"] == "warning"],
                **({"countries": raw_partitions(store, table)} if by_country else {}),
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
    """staging.<table>: raw rows typed and checked by `contract`; failures go to quarantine.

    The contract's table rules run as asset checks (Great Expectations); a failed `block`
    rule stops everything downstream of this asset, a failed `warn` rule is recorded.
    """
    key = ["staging", table]

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(["raw", raw_table])],
        group_name=level,
        description=description,
        kinds={"duckdb", "parquet"},
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
        metadata={"contract": f"data_contracts/{contract}.yml"},
        check_specs=contract_check_specs(contract, key),
    )
    def _staged(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
        pedw.stamp(context)
        store = pedw.store()
        keys = context.partition_keys if partitions_def else None
        result = stage_through_contract(
            store, contract, raw_table, table, context.run_id, partitions=keys
        )
        context.log.info(
            f"staging.{table}: read {result.rows_read}, loaded {result.rows_loaded}, "
            f"quarantined {result.rows_quarantined} {result.violations or ''}"
        )
        outcomes = validate_and_record(
            store, load_contract(contract), table, context.run_id, partitions=keys
        )
        checks = [
            dg.AssetCheckResult(
                check_name="row_accounting",
                passed=result.rows_read == result.rows_loaded + result.rows_quarantined,
                metadata={
                    "rows_read": result.rows_read,
                    "rows_loaded": result.rows_loaded,
                    "rows_quarantined": result.rows_quarantined,
                },
            )
        ]
        for outcome in outcomes:
            if not outcome.success:
                context.log.warning(
                    f"contract {contract}: {outcome.rule} failed ({outcome.severity}): "
                    f"observed {outcome.observed}, examples {outcome.examples}"
                )
            checks.append(
                dg.AssetCheckResult(
                    check_name=check_name(outcome.rule, outcome.column),
                    passed=outcome.success,
                    severity=dg.AssetCheckSeverity.ERROR
                    if outcome.severity == "block"
                    else dg.AssetCheckSeverity.WARN,
                    metadata={
                        "observed": outcome.observed,
                        "unexpected_count": outcome.unexpected_count or 0,
                        "failing_examples": outcome.examples,
                        "rule": outcome.description,
                    },
                )
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
                **{
                    BLOCKING_FAILURES: sum(
                        1 for o in outcomes if not o.success and o.severity == "block"
                    )
                    + (result.rows_read != result.rows_loaded + result.rows_quarantined)
                },
            ),
            check_results=checks,
        )

    return _staged
