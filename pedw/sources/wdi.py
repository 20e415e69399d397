"""World Bank WDI downloads: the country metadata file (region, income group)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from pedw.catalog import Source
from pedw.sources.raw_table import raw_arrow, require_columns
from pedw.sources.text_table import read_text_table

METADATA_COLUMNS = {"country_code": "Country Code", "region": "Region",
                    "income_group": "IncomeGroup", "table_name": "TableName"}  # fmt: skip


def load_wdi_country_metadata(source: Source, path: Path) -> pa.Table:
    """Metadata_Country_*.csv rows (aggregates included; their Region is empty)."""
    text = read_text_table(path)
    require_columns(text, tuple(METADATA_COLUMNS.values()), "a WDI country metadata file")
    return raw_arrow(text, source, METADATA_COLUMNS)
