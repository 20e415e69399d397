"""Penn World Table 10.x as published (CSV here; xlsx and dta share the column names)."""

from __future__ import annotations

import pyarrow as pa

from pedw.catalog import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.raw_table import concat_raw, raw_arrow
from pedw.sources.text_table import read_text_table

RAW_COLUMNS = (
    "countrycode",
    "country",
    "year",
    "rgdpo",
    "emp",
    "avh",
    "hc",
    "rnna",
    "csh_x",
    "csh_m",
    "labsh",
)
REQUIRED = ("countrycode", "year")


def load_pwt(source: Source) -> pa.Table:
    """PWT rows with the driver columns pedw uses, as text."""
    tables = []
    for path in source.files():
        text = read_text_table(path)
        header = set(text.table.column_names)
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise SourceFileError(
                path, f"not a Penn World Table file: column(s) {missing} missing", line=1
            )
        tables.append(raw_arrow(text, source, {c: c if c in header else None for c in RAW_COLUMNS}))
    if not tables:
        raise SourceFileError(source.path or source.name, "no file matches this path")
    return concat_raw(tables)
