"""Data contracts: one YAML file per dataset in data_contracts/, readable by a non-programmer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pedw.quality.code_lists import code_lists
from pedw.settings import PROJECT_ROOT
from pedw.store import check_identifier

CONTRACTS_DIR = PROJECT_ROOT / "data_contracts"
TYPES = {"VARCHAR", "BIGINT", "INTEGER", "DOUBLE", "BOOLEAN", "DATE"}
SEVERITIES = {"block", "warn"}
TABLE_RULES = {
    "row_count",
    "latest_year",
    "completeness",
    "referential",
    "unique_key",
    "mean_between",
    "unit_jump",
}


class ContractError(ValueError):
    """A contract file that does not follow the contract schema (names the file and field)."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its type, meaning, unit and the row-level rules that apply to it."""

    name: str
    type: str
    description: str
    unit: str | None = None
    required: bool = False
    codes: str | tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    above: float | None = None  # strict lower bound (a divisor: zero is not a value here)
    allowed: tuple[str, ...] | None = None
    max_missing_share: float | None = None


@dataclass(frozen=True)
class TableRule:
    """A rule over the whole staged table, run by Great Expectations; block or warn."""

    rule: str
    severity: str
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class SeriesRule:
    """A row rule judged against the row's series (e.g. a value 1000x its series median)."""

    rule: str
    series: tuple[str, ...]
    column: str
    ratio: float
    description: str = ""
    applies_when: dict[str, str] | None = None
    # Conditions ({column, pattern}) under which the rule does not apply (e.g. current-price
    # series, which inflation moves by factors the rule would take for a units change).
    unless: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class ConditionalBound:
    """Bounds of a column on the rows whose `when` column matches a pattern (and not
    `unless`): the bounds a value's unit implies (a count is never negative, a share of
    persons lies in 0-100), where the unit is told by another column (ILOSTAT's indicator)."""

    column: str
    when: dict[str, str]
    min: float | None = None
    max: float | None = None
    unless: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Contract:
    """What a dataset promises: grain, key, columns with rules, table rules."""

    name: str
    title: str
    description: str
    level: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    table_rules: tuple[TableRule, ...]
    missing_markers: tuple[str, ...]
    path: Path
    series_rules: tuple[SeriesRule, ...] = ()
    conditional_bounds: tuple[ConditionalBound, ...] = ()
    # "row": a broken rule quarantines its row. "cell" (wide tables, one row holding many
    # variables): a broken rule of a column outside the key and not required quarantines that
    # cell only; the row loads with the cell empty.
    quarantine: str = "row"

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _fail(path: Path, message: str) -> None:
    raise ContractError(f"contract {path.name}: {message}")


def parse_contract(path: Path) -> Contract:
    """Read one contract file and check it against the contract schema."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("name", "title", "description", "level", "grain", "key", "columns"):
        if key not in document:
            _fail(path, f"missing top-level field {key!r}")
    columns = []
    for entry in document["columns"]:
        if "name" not in entry or "type" not in entry or "description" not in entry:
            _fail(path, f"every column needs name, type and description: {entry}")
        check_identifier(entry["name"])
        if entry["type"] not in TYPES:
            _fail(path, f"column {entry['name']}: type {entry['type']!r} not in {sorted(TYPES)}")
        if entry.get("codes"):
            lists = entry["codes"] if isinstance(entry["codes"], list) else [entry["codes"]]
            unknown_lists = [name for name in lists if name not in code_lists()]
            if unknown_lists:
                _fail(path, f"column {entry['name']}: unknown code list(s) {unknown_lists}")
            entry = {**entry, "codes": tuple(lists)}

        unknown = set(entry) - {f.name for f in ColumnSpec.__dataclass_fields__.values()}
        if unknown:
            _fail(path, f"column {entry['name']}: unknown fields {sorted(unknown)}")
        if entry.get("allowed") is not None:
            entry = {**entry, "allowed": tuple(str(v) for v in entry["allowed"])}
        columns.append(ColumnSpec(**entry))
    names = {c.name for c in columns}
    for k in document["key"]:
        if k not in names:
            _fail(path, f"key column {k!r} is not a declared column")
    rules = []
    for entry in document.get("table_rules", []):
        entry = dict(entry)
        rule, severity = entry.pop("rule", None), entry.pop("severity", None)
        if rule not in TABLE_RULES:
            _fail(path, f"table rule {rule!r} not in {sorted(TABLE_RULES)}")
        if severity not in SEVERITIES:
            _fail(path, f"table rule {rule}: severity must be block or warn")
        description = entry.pop("description", "")
        rules.append(TableRule(rule=rule, severity=severity, params=entry, description=description))
    for column in columns:
        if column.max_missing_share is not None:
            rules.append(
                TableRule(
                    "completeness",
                    "warn",
                    {"column": column.name, "max_missing_share": column.max_missing_share},
                    f"at most {column.max_missing_share:.0%} of {column.name} missing",
                )
            )
    series_rules = []
    for entry in document.get("series_rules", []):
        if entry.get("rule") != "unit_jump":
            _fail(path, f"series rule {entry.get('rule')!r} not in ['unit_jump']")
        unless = tuple(entry.get("unless") or ())
        conditioned = [c["column"] for c in (entry.get("applies_when") or {"column": entry["column"]},
                                             *unless)]  # fmt: skip
        for column in [*entry["series"], entry["column"], *conditioned]:
            if column not in names:
                _fail(path, f"series rule {entry['rule']}: {column!r} is not a declared column")
        series_rules.append(
            SeriesRule(
                rule=entry["rule"],
                series=tuple(entry["series"]),
                column=entry["column"],
                ratio=float(entry.get("ratio", 100)),
                description=entry.get("description", ""),
                applies_when=entry.get("applies_when"),
                unless=unless,
            )
        )
    quarantine = document.get("quarantine", "row")
    if quarantine not in ("row", "cell"):
        _fail(path, f"quarantine must be row or cell, not {quarantine!r}")
    bounds = []
    for entry in document.get("conditional_bounds", []):
        entry = dict(entry)
        for column in (entry.get("column"), (entry.get("when") or {}).get("column")):
            if column not in names:
                _fail(path, f"conditional bound: {column!r} is not a declared column")
        for pattern in (entry["when"].get("pattern", ""), entry.get("unless") or ""):
            try:
                re.compile(pattern)
            except re.error as error:
                _fail(path, f"conditional bound: bad pattern {pattern!r} ({error})")
        bounds.append(ConditionalBound(**entry))
    return Contract(
        quarantine=quarantine,
        conditional_bounds=tuple(bounds),
        series_rules=tuple(series_rules),
        name=document["name"],
        title=document["title"],
        description=document["description"],
        level=document["level"],
        grain=document["grain"],
        key=tuple(document["key"]),
        columns=tuple(columns),
        table_rules=tuple(rules),
        missing_markers=tuple(
            document.get("missing_markers", ["..", "...", "-", "n/a", "na", "x", "…"])
        ),
        path=path,
    )


@cache
def load_contract(name: str, directory: Path = CONTRACTS_DIR) -> Contract:
    """The contract called `name` (file data_contracts/<name>.yml)."""
    path = directory / f"{check_identifier(name)}.yml"
    if not path.is_file():
        raise ContractError(f"no contract file {path}")
    return parse_contract(path)


def all_contracts(directory: Path = CONTRACTS_DIR) -> list[Contract]:
    """Every contract in the folder, sorted by name."""
    return [parse_contract(p) for p in sorted(directory.glob("*.yml"))]
