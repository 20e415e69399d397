"""World Bank WDI downloads: the country metadata file (region, income group)."""

from __future__ import annotations

import pyarrow as pa

from pedw.catalog import Source
from pedw.sources.errors import SourceFileError
from pedw.sources.raw_table import concat_raw, raw_arrow
from pedw.sources.text_table import read_text_table

METADATA_COLUMNS = {
    "country_code": "Country Code",
    "region": "Region",
    "income_group": "IncomeGroup",
    "table_name": "TableName",
}


def load_wdi_country_metadata(source: Source) -> pa.Table:
    """Metadata_Country_*.csv rows (aggregates included; their Region is empty)."""
    tables = []
    for path in source.files():
        text = read_text_table(path)
        missing = [c for c in METADATA_COLUMNS.values() if c not in text.table.column_names]
        if missing:
            raise SourceFileError(
                path, f"not a WDI country metadata file: column(s) {missing} missing", line=1
            )
        tables.append(raw_arrow(text, source, METADATA_COLUMNS))
    if not tables:
        raise SourceFileError(source.path or source.name, "no file matches this path")
    return concat_raw(tables)
