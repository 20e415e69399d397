"""The three asset shapes every dataset repeats (pedw.datasets): the sources as observed,
read raw, and staged through the dataset's contract."""

import dagster as dg

from assets.metadata import BLOCKING_FAILURES, SLICES, outputs_metadata, table_metadata
from assets.resources import PedwResource
from pedw.code_versions import code_version
from pedw.datasets import Dataset
from pedw.quality.contracts import load_contract
from pedw.quality.validation import (
    REFERENCE_SETS,
    RuleOutcome,
    contract_references,
    references_slice,
    split_referential,
    validate_and_record,
)
from pedw.raw import raw_partitions, slice_fingerprints, write_raw
from pedw.sources.registry import kept_files, refresh_snapshots
from pedw.staging.contracted import stage_through_contract
from pedw.versions import FileDigests, source_version

RAW_CODE = code_version(["pedw.raw"])
STAGING_MODULES = ["pedw.staging.contracted", "pedw.quality.validation"]


def source_key(dataset: Dataset) -> dg.AssetKey:
    return dg.AssetKey(["sources", dataset.name])


def source_asset(dataset: Dataset) -> dg.AssetsDefinition:
    """sources/<dataset>: the catalog entries feeding raw.<dataset> and their files, observed.

    Its data version is a hash of the entries and the SHA-256 of every file they read (a URL
    source: its last snapshot, refreshed here once per release), so Dagster marks
    raw.<dataset> stale when a file changes.
    """
    key = source_key(dataset)

    @dg.multi_observable_source_asset(
        name=f"observe_{dataset.name}",
        specs=[
            dg.AssetSpec(
                key,
                group_name=dataset.level,
                description=f"Catalog sources of level {dataset.level} in formats "
                f"{', '.join(dataset.formats)}: their entries and file contents (observed).",
            )
        ],
    )
    def _observe(context: dg.AssetExecutionContext, pedw: PedwResource):
        settings = pedw.settings()
        sources = pedw.load_catalog().for_level(dataset.level, dataset.formats)
        refresh_snapshots(sources, settings.snapshots_dir)  # a URL source: one conditional GET
        digests = FileDigests(settings.store_dir / "_versions" / "file_digests.json")
        version = source_version(
            sources, lambda source: kept_files(source, settings.snapshots_dir), digests
        )
        digests.save()
        yield dg.ObserveResult(
            asset_key=key,
            data_version=dg.DataVersion(version),
            metadata={"catalog_entries": [s.name for s in sources]},
        )

    return _observe


def check_name(rule: str, column: str | None) -> str:
    return f"{rule}_{column}" if column else rule


def contract_check_specs(contract_name: str, key: list[str]) -> list[dg.AssetCheckSpec]:
    """One asset check per table rule of the contract (blocking when its severity is block;
    referential rules aside, see referential_asset), plus the row-accounting check that every
    read row was loaded or quarantined."""
    contract = load_contract(contract_name)
    specs = [
        dg.AssetCheckSpec(
            "row_accounting",
            asset=key,
            blocking=True,
            description="rows read = rows loaded + rows quarantined, for every source",
        )
    ]
    return specs + rule_check_specs(split_referential(contract)[0].table_rules, contract_name, key)


def rule_check_specs(rules, contract_name: str, key: list[str]) -> list[dg.AssetCheckSpec]:
    """One asset check per contract table rule, blocking when its severity is block."""
    return [
        dg.AssetCheckSpec(
            check_name(rule.rule, rule.params.get("column")),
            asset=key,
            blocking=rule.severity == "block",
            description=f"[{rule.severity}] {rule.description or rule.rule} "
            f"(data_contracts/{contract_name}.yml)",
        )
        for rule in rules
    ]


def raw_asset(dataset: Dataset) -> dg.AssetsDefinition:
    """raw.<dataset>: every catalog source routed to the dataset, as published, with provenance.

    A partitioned dataset stores one file per country found (the partitions of what is
    staged from it): the files are read once, and the countries are found in the same pass.
    """
    table, level, formats = dataset.name, dataset.level, dataset.formats
    by_country = dataset.partitioned

    @dg.asset(
        key=["raw", table],
        deps=[source_key(dataset)],
        group_name=level,
        description=dataset.raw_description,
        kinds={"duckdb", "parquet"},
        code_version=RAW_CODE,
        metadata=outputs_metadata(f"raw.{table}"),
    )
    def _raw(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
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
            log = {"refused": context.log.error, "release": context.log.info}.get(
                issue["kind"], context.log.warning
            )
            log(f"source {issue['kind']}: {issue['message']}")
        context.log.info(f"raw.{table}: {load.rows} rows from {load.rows_by_source or 'no source'}")
        slices = (
            {"countries": raw_partitions(store, table), SLICES: slice_fingerprints(store, table)}
            if by_country
            else {}
        )
        return dg.MaterializeResult(
            metadata=table_metadata(
                store,
                "raw",
                table,
                rows_by_source=load.rows_by_source,
                refused_files=[i["message"] for i in load.refused],
                warnings=[i["message"] for i in load.issues if i["kind"] == "warning"],
                **slices,
            )
        )

    return _raw


def staged_asset(
    dataset: Dataset, partitions_def: dg.PartitionsDefinition | None = None
) -> dg.AssetsDefinition:
    """staging.<table>: raw rows typed and checked by the dataset's contract; failures go to
    quarantine.

    The contract's table rules run as asset checks (Great Expectations); a failed `block`
    rule stops everything downstream of this asset, a failed `warn` rule is recorded.
    """
    table, raw_table, contract = dataset.staged, dataset.name, dataset.contract
    key = ["staging", table]

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(["raw", raw_table])],
        group_name=dataset.level,
        description=dataset.staged_description,
        kinds={"duckdb", "parquet"},
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
        code_version=code_version(STAGING_MODULES, [f"data_contracts/{contract}.yml"]),
        metadata={
            "contract": f"data_contracts/{contract}.yml",
            **outputs_metadata(f"staging.{table}"),
        },
        check_specs=contract_check_specs(contract, key),
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
        checks += check_results(context, contract, outcomes)
        return dg.MaterializeResult(
            metadata=table_metadata(
                store,
                "staging",
                table,
                rows_read=result.rows_read,
                rows_loaded=result.rows_loaded,
                rows_quarantined=result.rows_quarantined,
                violations_by_rule=result.violations,
                **({SLICES: slice_fingerprints(store, raw_table, keys)} if keys else {}),
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


def check_results(
    context: dg.AssetExecutionContext, contract: str, outcomes: list[RuleOutcome]
) -> list[dg.AssetCheckResult]:
    """One asset check result per rule outcome (ERROR for block rules, WARN for warn rules);
    failed rules are also logged with what was observed."""
    checks = []
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
    return checks


def referential_asset(dataset: Dataset) -> dg.AssetsDefinition | None:
    """quality/<staged>_references: the contract's referential rules (e.g. every firm's country
    exists at national level), checked once both staging.<staged> and the tables the rules
    refer to are built. Kept apart from the staged asset so a change of the referred table
    re-runs this cheap check, not the staging of millions of rows."""
    contract = load_contract(dataset.contract)
    names = contract_references(contract)
    if not names:
        return None
    referred = sorted({tuple(REFERENCE_SETS[n][:2]) for n in names})
    key = ["quality", f"{dataset.staged}_references"]
    rules = split_referential(contract)[1].table_rules

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(["staging", dataset.staged]), *(dg.AssetKey(list(t)) for t in referred)],
        group_name=dataset.level,
        description=f"Referential rules of data_contracts/{dataset.contract}.yml on "
        f"staging.{dataset.staged}: " + "; ".join(r.description or r.rule for r in rules),
        kinds={"duckdb", "parquet"},
        code_version=code_version(STAGING_MODULES, [f"data_contracts/{dataset.contract}.yml"]),
        metadata=outputs_metadata(f"quality.validation_results/{references_slice(dataset.staged)}"),
        check_specs=rule_check_specs(rules, dataset.contract, key),
    )
    def _references(context: dg.AssetExecutionContext, pedw: PedwResource) -> dg.MaterializeResult:
        outcomes = validate_and_record(
            pedw.store(), contract, dataset.staged, context.run_id, referential=True
        )
        return dg.MaterializeResult(
            metadata={
                "rules": len(outcomes),
                "failed": sum(1 for o in outcomes if not o.success),
                BLOCKING_FAILURES: sum(
                    1 for o in outcomes if not o.success and o.severity == "block"
                ),
            },
            check_results=check_results(context, dataset.contract, outcomes),
        )

    return _references
