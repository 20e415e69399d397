"""SCORE monitoring workbooks: enterprises, the modules they took, baseline and follow-up KPIs.

The layout pedw reads (docs/sources.md shows it cell by cell) is the one SCORE teams keep
by hand in Excel:

* sheet `Enterprises`: a title block, then a header row starting with "Enterprise ID"
  (Enterprise ID, Country, Sector, Size class, Workers at baseline) and one row per enterprise;
* sheet `KPIs`: a title block, then a two-row header: "Enterprise ID", "Module",
  "Baseline date", "Follow-up date", then one group per KPI whose name (with its unit in
  brackets, e.g. "Defect rate (% of output)") is a merged cell over its two columns
  "Baseline" and "Follow-up"; one row per enterprise and module; the table ends at the
  first empty row (notes may follow).

Modules are written "M2", "Module 2" or "Module 2: Quality Management" and read as M1-M5.
Cells may hold numbers or text ("n/a", "-", "1,250"): the contract parses and checks them.
Each KPI cell pair becomes one raw row (enterprise, module, kpi, baseline, follow-up) whose
`source_line` is its spreadsheet row in `KPIs`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pedw.source import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.raw_table import raw_arrow
from pedw.sources.text_table import TextTable

MODULES = {"M1": "Workplace Cooperation", "M2": "Quality Management",
           "M3": "Productivity through Cleaner Production", "M4": "Human Resource Management",
           "M5": "Occupational Safety and Health"}  # fmt: skip
# code: (label in the workbook, unit, whether a higher value is an improvement)
KPIS = {
    "productivity": ("Productivity", "units per worker-hour", True),
    "defect_rate": ("Defect rate", "% of output", False),
    "accident_rate": ("Accidents", "per 100 workers per year", False),
    "absenteeism": ("Absenteeism", "% of working days", False),
    "staff_turnover": ("Staff turnover", "% of workers per year", False),
    "monthly_wage": ("Average monthly wage", "local currency", True),
    "cooperation_score": ("Workplace cooperation score", "1-5 scale", True),
}
ENTERPRISE_HEADER = ["Enterprise ID", "Country", "Sector", "Size class", "Workers at baseline"]
KPI_FIXED = ["Enterprise ID", "Module", "Baseline date", "Follow-up date"]
RAW_COLUMNS = ("enterprise_id", "country", "sector", "size_class", "module", "kpi", "unit",
               "baseline", "follow_up", "baseline_date", "follow_up_date")  # fmt: skip


def _sheet(path: Path, name: str) -> pd.DataFrame:
    try:
        # Only empty cells are missing here: "n/a" and "-" stay as typed for the contract.
        return pd.read_excel(
            path, sheet_name=name, header=None, dtype=object, keep_default_na=False, na_values=[""]
        )
    except ValueError as error:
        raise SourceFileError(path, f"not a SCORE monitoring workbook ({error})") from None


def _header_row(sheet: pd.DataFrame, path: Path, name: str) -> int:
    first = sheet.iloc[:, 0].astype(str).str.strip().str.casefold()
    found = np.flatnonzero(first == "enterprise id")
    if not len(found):
        raise SourceFileError(path, f"sheet {name}: no header row starting with 'Enterprise ID'")
    return int(found[0])


def _table_rows(sheet: pd.DataFrame, start: int) -> pd.DataFrame:
    """Rows from `start` to the first empty row (what follows is notes)."""
    body = sheet.iloc[start:]
    empty = body.isna().all(axis=1).to_numpy()
    end = int(np.argmax(empty)) if empty.any() else len(body)
    return body.iloc[:end]


def cell_text(values: pd.Series) -> pd.Series:
    """Spreadsheet cells as the text a contract reads: 12.0 -> "12", dates ISO, text as typed."""
    kinds = values.map(type)
    numbers = pd.to_numeric(values.where(kinds.isin([int, float])), errors="coerce")
    as_text = pd.Series(
        pa.array(numbers, pa.float64(), from_pandas=True)
        .cast(pa.string())
        .to_numpy(zero_copy_only=False),
        index=values.index,
    )
    dates = kinds.isin([pd.Timestamp, dt.datetime])
    text = values.astype("string").str.strip()
    text = text.mask(dates, pd.to_datetime(values.where(dates)).dt.strftime("%Y-%m-%d"))
    return as_text.fillna(text).replace("", pd.NA)


def _kpi_code(label: str) -> tuple[str, str | None]:
    name, _, unit = str(label).partition("(")
    name = name.strip()
    for code, (known, _unit, _higher) in KPIS.items():
        if name.casefold() == known.casefold():
            return code, unit.rstrip(") ").strip() or None
    return re.sub(r"\W+", "_", name.casefold()).strip("_"), unit.rstrip(") ").strip() or None


def _module_code(values: pd.Series) -> pd.Series:
    number = values.str.extract(r"^\s*(?:M|Module)\s*([1-5])\b", flags=re.IGNORECASE)[0]
    return ("M" + number).fillna(values)


def load_score_monitoring(source: Source, path: Path) -> pa.Table:
    """Every KPI pair of the KPIs sheet, with its enterprise's country, sector and size."""
    if not path.exists():
        raise SourceFileError(path, "file not found")
    enterprises_sheet = _sheet(path, source.options.get("enterprises_sheet", "Enterprises"))
    kpis_sheet = _sheet(path, source.options.get("kpis_sheet", "KPIs"))

    top = _header_row(enterprises_sheet, path, "Enterprises")
    enterprises = _table_rows(enterprises_sheet, top + 1).iloc[:, : len(ENTERPRISE_HEADER)]
    enterprises.columns = ["enterprise_id", "country", "sector", "size_class", "workers"]
    enterprises = enterprises.apply(cell_text).drop_duplicates("enterprise_id")

    top = _header_row(kpis_sheet, path, "KPIs")
    groups = kpis_sheet.iloc[top].ffill()  # a merged cell is read in its first column only
    periods = kpis_sheet.iloc[top + 1].astype("string").str.strip().str.casefold()
    body = _table_rows(kpis_sheet, top + 2)
    lines = body.index.to_numpy() + 1  # spreadsheet rows are 1-based
    fixed = body.iloc[:, : len(KPI_FIXED)].apply(cell_text)
    fixed.columns = ["enterprise_id", "module", "baseline_date", "follow_up_date"]
    fixed["module"] = _module_code(fixed["module"])
    fixed["_line"] = lines
    pairs = []
    for column in range(len(KPI_FIXED), kpis_sheet.shape[1] - 1, 2):
        if pd.isna(groups.iloc[column]) or periods.iloc[column] != "baseline":
            continue
        if periods.iloc[column + 1] != "follow-up":
            raise SourceFileError(
                path, f"sheet KPIs: {groups.iloc[column]!r} has no Follow-up column", line=top + 2
            )
        code, unit = _kpi_code(groups.iloc[column])
        pairs.append(
            fixed.assign(
                kpi=code,
                unit=unit or KPIS.get(code, ("", None))[1],
                baseline=cell_text(body.iloc[:, column]),
                follow_up=cell_text(body.iloc[:, column + 1]),
            )
        )
    if not pairs:
        raise SourceFileError(path, "sheet KPIs: no KPI group with Baseline and Follow-up columns")
    long = pd.concat(pairs, ignore_index=True).merge(
        enterprises.drop(columns="workers"), on="enterprise_id", how="left"
    )
    long = long.sort_values(["_line", "kpi"], kind="stable")
    table = pa.Table.from_pandas(long[list(RAW_COLUMNS)].astype("string"), preserve_index=False)
    text = TextTable(path=path, table=table, lines=long["_line"].to_numpy())
    return raw_arrow(text, source, {c: c for c in RAW_COLUMNS})
