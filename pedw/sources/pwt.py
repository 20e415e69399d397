"""Penn World Table 10.x as published (CSV; the xlsx and dta releases share the column names)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from pedw.catalog import Source
from pedw.sources.raw_table import raw_arrow, require_columns
from pedw.sources.text_table import read_text_table

RAW_COLUMNS = ("countrycode", "country", "year", "rgdpo", "emp", "avh", "hc", "rnna", "csh_x",
               "csh_m", "labsh")  # fmt: skip
REQUIRED = ("countrycode", "year")


def load_pwt(source: Source, path: Path) -> pa.Table:
    """PWT rows with the driver columns pedw uses, as text."""
    text = read_text_table(path)
    require_columns(text, REQUIRED, "a Penn World Table file")
    header = set(text.table.column_names)
    return raw_arrow(text, source, {c: c if c in header else None for c in RAW_COLUMNS})
