"""Penn World Table 10.x as published: pwt10xx.csv, pwt10xx.xlsx (sheet Data) or pwt10xx.dta."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from pedw.catalog import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.raw_table import frame_as_text, raw_arrow, require_columns
from pedw.sources.text_table import TextTable, read_text_table

RAW_COLUMNS = ("countrycode", "country", "year", "rgdpo", "emp", "avh", "hc", "rnna", "csh_x",
               "csh_m", "labsh")  # fmt: skip
REQUIRED = ("countrycode", "year")


def read_pwt(path: Path, sheet: str = "Data", **read) -> TextTable:
    """The PWT data table of any of its three releases, as text with record numbers.

    xlsx: the `Data` sheet (the workbook also holds Info and Legend), row numbers as in the
    spreadsheet; dta: observation numbers, Stata missing values as missing; csv: lines
    (`read`: the catalog's options.read, e.g. an encoding).
    """
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".dta"):
        return read_text_table(path, **read)
    if not path.exists():
        raise SourceFileError(path, "file not found")
    try:
        if suffix == ".xlsx":
            return frame_as_text(pd.read_excel(path, sheet_name=sheet, dtype=str), path, 2)
        frame = pd.read_stata(path, convert_categoricals=False, convert_dates=False)
        return frame_as_text(frame, path, 1)
    except (ValueError, OSError) as error:  # not a workbook / Stata file, or no such sheet
        raise SourceFileError(
            path, f"cannot read it as a PWT {suffix[1:]} file ({error})"
        ) from None


def load_pwt(source: Source, path: Path) -> pa.Table:
    """PWT rows with the driver columns pedw uses, as text."""
    text = read_pwt(path, source.options.get("sheet", "Data"), **source.options.get("read", {}))
    require_columns(text, REQUIRED, "a Penn World Table file")
    header = set(text.table.column_names)
    return raw_arrow(text, source, {c: c if c in header else None for c in RAW_COLUMNS})
