"""What every published table and column means, from one place.

`pedw/warehouse_docs.yml` names every table and column but the raw and staged tables of the
datasets, which follow from their row in pedw/datasets.py (the table's text) and their
contract (its columns, then the provenance columns below). Texts left empty come from the
table's data contract, then the canonical series definitions (`pedw/staging/series.yml`),
then the common columns. The same text becomes the warehouse's COMMENT ON, the Dagster UI's
column descriptions and docs/data_dictionary.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from pedw.datasets import DATASETS
from pedw.quality.contracts import load_contract
from pedw.settings import PROJECT_ROOT
from pedw.staging.series import PWT_SERIES, pwt_unit_text, series_definitions

DOCS_PATH = PROJECT_ROOT / "pedw" / "warehouse_docs.yml"
RAW_PREFIX = "As published (text): "
UNDOCUMENTED_RAW = "Column published by the source beyond its contract, kept as text."
# What the raw load (pedw.raw) and the staging (pedw.staging.contracted) add to a dataset's
# contract columns; a partitioned dataset's tables also carry their partition.
RAW_PROVENANCE = ("source_name", "source_file", "source_line", "raw_record", "loaded_at", "run_id")
STAGED_PROVENANCE = ("source_name", "source_file", "source_line")
PARTITION_COLUMNS = ("partition_key",)


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    description: str
    unit: str | None = None

    @property
    def comment(self) -> str:
        """The text analysts see: meaning, then unit."""
        return self.description + (f" Unit: {self.unit}." if self.unit else "")


@dataclass(frozen=True)
class TableDoc:
    schema: str
    table: str
    description: str
    columns: tuple[ColumnDoc, ...]

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    def column(self, name: str) -> ColumnDoc | None:
        return next((c for c in self.columns if c.name == name), None)


def _series_docs(level: str) -> dict[str, tuple[str, str | None]]:
    """Canonical variables of a level: description and unit (units that vary by source say so)."""
    found: dict[str, tuple[str, str | None]] = {}
    for name, entry in series_definitions().get(level, {}).items():
        entries = entry if isinstance(entry, list) else [entry]
        units = list(dict.fromkeys(e["unit"] for e in entries))
        definition = " ".join(entries[0]["definition"].split())
        if len(units) > 1:
            label = name.replace("_", " ").capitalize()
            found[name] = (f"{label} from the source's series; unit by source: "
                           + " or ".join(units) + f" (see {name}_unit).", None)  # fmt: skip
        else:
            found[name] = (definition, units[0])
    if level == "national":
        found.update(
            {name: (f"{d} (PWT {e}).", pwt_unit_text(u)) for name, (e, u, d) in PWT_SERIES.items()}
        )
    return found


SPEC_KEYS = frozenset({"description", "unit"})


def _resolve(name: str, spec: object, table: dict, common: dict, schema: str) -> ColumnDoc | None:
    if isinstance(spec, str):
        return ColumnDoc(name, spec)
    if isinstance(spec, dict):
        # In a flow mapping an unquoted comma ends the text: `{description: a, b., unit: u}`
        # reads as description "a" and a key "b." with no value. Refuse it rather than
        # publish the cut text.
        stray = [key for key in spec if key not in SPEC_KEYS]
        if stray or not isinstance(spec.get("description"), str):
            raise ValueError(
                f"keys {stray or list(spec)} besides description and unit: quote a "
                'description that holds a comma (description: "a, b.")'
            )
        return ColumnDoc(name, spec["description"], spec.get("unit"))
    contract = load_contract(table["contract"]) if table.get("contract") else None
    if contract is not None and name in contract.column_names:
        column = contract.column(name)
        text = " ".join(column.description.split())
        return ColumnDoc(name, RAW_PREFIX + text if schema == "raw" else text, column.unit)
    series = _series_docs(table["level"]) if table.get("level") else {}
    if name in series:
        return ColumnDoc(name, *series[name])
    if name in common:
        return _resolve(name, common[name], {}, {}, schema)
    return None


def dataset_tables() -> dict[str, dict]:
    """The raw and staged table of every dataset, as warehouse_docs.yml would spell them."""
    tables = {}
    for schema, provenance in (("raw", RAW_PROVENANCE), ("staging", STAGED_PROVENANCE)):
        for dataset in DATASETS:
            columns = (*load_contract(dataset.contract).column_names, *provenance,
                       *(PARTITION_COLUMNS if dataset.partitioned else ()))  # fmt: skip
            if schema == "raw":
                name, text = dataset.name, dataset.raw_description
            else:
                name, text = dataset.staged, dataset.staged_description
            tables[f"{schema}.{name}"] = {
                "description": text,
                "contract": dataset.contract,
                "columns": dict.fromkeys(columns),
            }
    return tables


@cache
def warehouse_docs() -> dict[str, TableDoc]:
    """Every documented table by `schema.table`, its columns in order: the datasets' raw and
    staged tables first, then the tables of warehouse_docs.yml."""
    document = yaml.safe_load(DOCS_PATH.read_text(encoding="utf-8"))
    common = document["common"]
    generated = dataset_tables()
    again = sorted(set(generated) & set(document["tables"]))
    if again:
        raise ValueError(
            f"{DOCS_PATH.name}: {', '.join(again)} come from pedw/datasets.py and their "
            "contracts; remove them from the file"
        )
    tables = {}
    for qualified, table in {**generated, **document["tables"]}.items():
        schema, name = qualified.split(".")
        columns = []
        for column, spec in table["columns"].items():
            try:
                doc = _resolve(column, spec, table, common, schema)
            except ValueError as error:
                raise ValueError(f"{DOCS_PATH.name}: {qualified}.{column} has {error}") from None
            if doc is None:
                raise ValueError(f"{DOCS_PATH.name}: {qualified}.{column} has no text anywhere")
            columns.append(doc)
        tables[qualified] = TableDoc(schema, name, " ".join(table["description"].split()),
                                     tuple(columns))  # fmt: skip
    return tables


def column_comment(schema: str, table: str, column: str) -> str | None:
    """The comment of schema.table.column, or None where nothing documents it."""
    doc = warehouse_docs().get(f"{schema}.{table}")
    found = doc.column(column) if doc else None
    if found is not None:
        return found.comment
    return UNDOCUMENTED_RAW if schema == "raw" else None


def table_comment(schema: str, table: str) -> str | None:
    doc = warehouse_docs().get(f"{schema}.{table}")
    return doc.description if doc else None
