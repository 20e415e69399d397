"""Table-level contract rules run by Great Expectations 1.x on staged tables.

Each contract's `table_rules` compile to an expectation suite. The columns a rule needs are
pulled from DuckDB (never the whole table) and validated through GX's pandas data source;
GX's SQL data source fails every expectation on DuckDB (GX issues #10738, #11579).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from functools import cache

import duckdb
import pandas as pd

import pedw  # noqa: F401  (GX analytics off before great_expectations is imported)
from pedw.quality.contracts import Contract, TableRule

EXAMPLES = 5


@dataclass(frozen=True)
class RuleOutcome:
    """One table rule's result: held or not, what was observed, examples of failing values."""

    dataset: str
    rule: str
    column: str | None
    severity: str
    success: bool
    observed: str
    unexpected_count: int | None
    examples: str
    description: str


@cache
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context, context.data_sources.add_pandas("pedw")


def expectation_for(rule: TableRule, contract: Contract, references: dict[str, list]):
    """The GX expectation that implements one contract table rule."""
    import great_expectations.expectations as gxe

    params = rule.params
    match rule.rule:
        case "row_count":
            return gxe.ExpectTableRowCountToBeBetween(
                min_value=params.get("min"), max_value=params.get("max")
            )
        case "unique_key":
            if len(contract.key) == 1:
                return gxe.ExpectColumnValuesToBeUnique(column=contract.key[0])
            return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(contract.key))
        case "latest_year":
            return gxe.ExpectColumnMaxToBeBetween(column=params["column"], min_value=params["min"])
        case "completeness":
            return gxe.ExpectColumnValuesToNotBeNull(
                column=params["column"], mostly=1 - params["max_missing_share"]
            )
        case "referential":
            return gxe.ExpectColumnValuesToBeInSet(
                column=params["column"], value_set=references.get(params["reference"], [])
            )
        case "mean_between":
            return gxe.ExpectColumnMeanToBeBetween(
                column=params["column"], min_value=params.get("min"), max_value=params.get("max")
            )
    raise ValueError(f"{contract.name}: no expectation for table rule {rule.rule!r}")


def rule_columns(rule: TableRule, contract: Contract) -> list[str]:
    if rule.rule == "unique_key":
        return list(contract.key)
    return [rule.params["column"]] if "column" in rule.params else []


def validate_staged(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    contract: Contract,
    references: dict[str, list] | None = None,
) -> list[RuleOutcome]:
    """Run every table rule of `contract` on `relation` (a table or view on `con`)."""
    references = references or {}
    columns = sorted({c for rule in contract.table_rules for c in rule_columns(rule, contract)})
    select = ", ".join(columns) if columns else "1 AS _row"
    frame = con.execute(f"SELECT {select} FROM {relation}").df()
    _, source = _context()
    name = f"{contract.name}_{id(frame)}"
    batch = (
        source.add_dataframe_asset(name=name)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    outcomes = []
    try:
        for rule in contract.table_rules:
            if rule.rule == "referential" and rule.params["reference"] not in references:
                outcomes.append(
                    RuleOutcome(
                        contract.name,
                        rule.rule,
                        rule.params.get("column"),
                        rule.severity,
                        True,
                        "skipped: reference table not materialized",
                        None,
                        "[]",
                        rule.description,
                    )
                )
                continue
            result = batch.validate(
                expectation_for(rule, contract, references),
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES},
            )
            detail = result.result or {}
            examples = detail.get("partial_unexpected_list") or []
            observed = detail.get("observed_value", detail.get("unexpected_percent"))
            outcomes.append(
                RuleOutcome(
                    dataset=contract.name,
                    rule=rule.rule,
                    column=rule.params.get("column"),
                    severity=rule.severity,
                    success=bool(result.success),
                    observed=json.dumps(observed, default=str),
                    unexpected_count=detail.get("unexpected_count"),
                    examples=json.dumps(examples[:EXAMPLES], default=str),
                    description=rule.description or rule.rule,
                )
            )
    finally:
        source.delete_asset(name)
    return outcomes


def outcomes_frame(outcomes: list[RuleOutcome]) -> pd.DataFrame:
    return pd.DataFrame(
        [asdict(o) for o in outcomes], columns=list(RuleOutcome.__dataclass_fields__)
    )


# The code sets a contract's `referential` rules can name, and the staged column each is read
# from. The rules run in an asset of their own that depends on that table in the asset graph
# (assets.factories.referential_asset), so the set is always complete when they run.
REFERENCE_SETS: dict[str, tuple[str, str, str]] = {
    "national_countries": ("staging", "national_series", "ref_area"),
}


def contract_references(contract: Contract) -> list[str]:
    """The reference sets the contract's referential rules use."""
    return sorted({r.params["reference"] for r in contract.table_rules if r.rule == "referential"})


def reference_sets(con: duckdb.DuckDBPyConnection, store, contract: Contract) -> dict[str, list]:
    """The code sets `contract` refers to, from the tables `con` sees; a set whose table was
    never built (a catalog without national data) is left out and its rule recorded as skipped."""
    references = {}
    for name in contract_references(contract):
        schema, table, column = REFERENCE_SETS[name]
        if store.has_view(con, schema, table):
            references[name] = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT {column} FROM {schema}.{table} WHERE {column} IS NOT NULL"
                ).fetchall()
            ]
    return references


def split_referential(contract: Contract) -> tuple[Contract, Contract]:
    """The contract's own rules, and its referential rules (checked apart, once the tables they
    refer to are built: see assets.factories.referential_asset)."""
    own = tuple(r for r in contract.table_rules if r.rule != "referential")
    referential = tuple(r for r in contract.table_rules if r.rule == "referential")
    return replace(contract, table_rules=own), replace(contract, table_rules=referential)


def references_slice(staged_table: str) -> str:
    """The quality.validation_results slice holding staging.<table>'s referential outcomes."""
    return f"{staged_table}__references"


def validate_and_record(
    store,
    contract: Contract,
    staged_table: str,
    run_id: str,
    partitions: list[str] | None = None,
    referential: bool = False,
) -> list[RuleOutcome]:
    """Validate staging.<table> (or its partitions) against the contract's own rules (or, with
    `referential`, against its referential rules) and write quality.validation_results."""
    from pedw.store import sql_string

    own, references_only = split_referential(contract)
    contract = references_only if referential else own
    con = store.connect()
    try:
        relation = f"staging.{staged_table}"
        if partitions is not None:
            keys = ", ".join(sql_string(k) for k in partitions)
            con.execute(
                f"CREATE TEMP VIEW _slice AS SELECT * FROM {relation} WHERE partition_key IN ({keys})"
            )
            relation = "_slice"
        outcomes = validate_staged(con, relation, contract, reference_sets(con, store, contract))
        frame = outcomes_frame(outcomes)
        slice_name = staged_table + (f"__{partitions[0]}..{partitions[-1]}" if partitions else "")
        if referential:
            slice_name = references_slice(staged_table)
        frame["staged_table"] = staged_table
        frame["partitions"] = ",".join(partitions or [])
        frame["run_id"] = run_id
        frame["slice"] = slice_name.replace(".", "_")
        con.register("_outcomes", frame)
        store.write(
            con,
            "quality",
            "validation_results",
            "SELECT *, current_timestamp AS validated_at FROM _outcomes",
            partition_column="slice",
            partitions=[frame["slice"].iloc[0]] if len(frame) else [],
        )
    finally:
        con.close()
    return outcomes
